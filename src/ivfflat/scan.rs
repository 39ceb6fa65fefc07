//! Index scans: `ambeginscan`, `amrescan`, `amgettuple`, `amendscan`.
//!
//! Design note. `amrescan` reads the query, the centres and the directory
//! and orders the lists by their centre's distance to the query
//! (`ivf::nearest_centres`, as inserts assign rows). `amgettuple` then
//! opens lists in batches (`ivf::layout::probe_batch`): the first batch is
//! the `ivfflat.probes` nearest lists; every record of a batch's lists
//! gets its exact distance, computed with the SQL operator's own kernel
//! (`params::operator_value`, so it is bit-identical), and the batch is
//! returned nearest first from a heap made in linear time (a LIMIT k
//! pops k rows; `xs_recheckorderby = false`: no re-sort needed). With
//! `ivfflat.iterative_scan = relaxed_order`, when a batch runs out the
//! next `probes` lists are opened, up to `ivfflat.max_probes` lists in
//! all: rows of a later batch may be closer than rows already returned.
//!
//! Lists of 8-bit copies (`storage = 'i8'`, `ivf::layout::Element::Sq8`)
//! are measured on the copies (`graph::Metric::to_sq8_within`, as hnsw's
//! i8 elements), and each row is handed on with a proven *lower bound* of
//! its exact distance (`graph::lower_bound`, from the copy's stored error
//! bound) and `xs_recheckorderby = true`: the executor recomputes the
//! exact distance from the heap row and re-sorts through its reorder
//! queue, returning a row once its exact distance is at most the last
//! bound handed on. A batch hands its rows on in the order of their
//! bounds, so within it bounds never fall and rows come out in exact
//! order; with `probes` = `lists` that is the exact answer. Above 256
//! dimensions, on a CPU with AVX-512 VNNI, the query is first rounded to
//! 16-bit fixed point (`graph::Metric::pack_fixed`) and the copies are
//! measured with integer dot products; the bounds then also give up the
//! query's rounding (`graph::lower_bound_fixed`).

use super::params::{assignment, operator_value, operator_value_bits, operator_value_halves};
use super::store::{read_centres, read_heads, read_meta, walk_chain, Ahead};
use crate::gucs::{self, IvfIterativeScan};
use crate::pg::am::{heap_tid_ok, item_pointer};
use graph::Metric;
use ivf::layout::{Assembler, Element, Meta, RecordLayout, Sq8Record};
use pageformat::HeapTid;
use pgrx::{pg_sys, PgMemoryContexts};
use std::collections::BinaryHeap;

/// Rust-side state of one scan, dropped with the scan's memory context.
struct ScanState {
    meta: Option<Meta>,
    metric: Metric,
    query: Vec<f32>,
    /// For lists of 8-bit copies: the query as `Metric::prepare` makes
    /// it and its norm, None where every ORDER BY value is NULL or NaN (a
    /// NULL query, a zero query under cosine).
    bound_query: Option<(Vec<f32>, f32)>,
    /// Where `bound_query` is packed as 16-bit fixed point
    /// (`Metric::pack_fixed`), the bound of its rounding.
    fixed_err: Option<f32>,
    /// Lists, nearest first, as many as the scan may open.
    order: Vec<usize>,
    heads: Vec<u32>,
    /// The next batch to open.
    batch: usize,
    /// Rows of the batch being read.
    pending: Vec<Nearest>,
    /// Rows of the open batch, nearest on top (made in O(n) from
    /// `pending`; a LIMIT k query pops only k of them).
    queue: BinaryHeap<Nearest>,
    started: bool,
    heap: pg_sys::Relation,
    heap_blocks: std::cell::Cell<u32>,
}

/// `ambeginscan`: allocates the scan and its Rust state.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(
    index: pg_sys::Relation,
    nkeys: core::ffi::c_int,
    norderbys: core::ffi::c_int,
) -> pg_sys::IndexScanDesc {
    // SAFETY: standard scan descriptor; the order-by arrays are ours to
    // allocate; the state lives in the current (per-query) memory context
    // and is dropped when that context goes, even after an ERROR.
    unsafe {
        let scan = crate::pg::am::new_scan(index, nkeys, norderbys);
        let state = ScanState {
            meta: None,
            metric: Metric::L2,
            query: Vec::new(),
            bound_query: None,
            fixed_err: None,
            order: Vec::new(),
            heads: Vec::new(),
            batch: 0,
            pending: Vec::new(),
            queue: BinaryHeap::new(),
            started: false,
            heap: core::ptr::null_mut(),
            heap_blocks: std::cell::Cell::new(0),
        };
        (*scan).opaque = PgMemoryContexts::CurrentMemoryContext
            .leak_and_drop_on_delete(state)
            .cast();
        scan
    }
}

/// Lists the scan may open: `probes`, or with an iterative scan up to
/// `max_probes` (never fewer than `probes`).
fn lists_wanted(lists: usize) -> (usize, usize) {
    let probes = gucs::probes().min(lists);
    let max = match gucs::ivf_iterative_scan() {
        IvfIterativeScan::Off => probes,
        IvfIterativeScan::RelaxedOrder => gucs::max_probes().max(probes).min(lists),
    };
    (probes, max)
}

/// `amrescan`: takes the query vector from the ORDER BY key and orders the lists.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amrescan(
    scan: pg_sys::IndexScanDesc,
    _keys: pg_sys::ScanKey,
    _nkeys: core::ffi::c_int,
    orderbys: pg_sys::ScanKey,
    norderbys: core::ffi::c_int,
) {
    // SAFETY: opaque is the ScanState from ambeginscan; the order-by key
    // array has `norderbys` entries and is copied into the descriptor.
    unsafe {
        let state = &mut *((*scan).opaque as *mut ScanState);
        if !orderbys.is_null() && norderbys > 0 {
            core::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
        }
        state.meta = None;
        state.order.clear();
        state.pending.clear();
        state.queue.clear();
        state.batch = 0;
        state.started = false;
        state.heap = (*scan).heapRelation;
        if (*scan).numberOfOrderBys < 1 {
            return;
        }
        let key = &*(*scan).orderByData;
        let index = (*scan).indexRelation;
        let meta = read_meta(index);
        let (dims, element) = (meta.dims as usize, meta.element_kind());
        state.metric = Metric::from_code(meta.metric).unwrap_or_else(|| {
            super::pages::raise_corrupted(index, format_args!("unknown metric {}", meta.metric))
        });
        // ORDER BY v <-> NULL: as pgvector, measured from the zero vector.
        let null = key.sk_flags & pg_sys::SK_ISNULL as i32 != 0;
        let query = if null {
            vec![0.0; dims]
        } else {
            crate::opclass::read_query(index, key.sk_argument, dims)
        };
        state.bound_query = match null {
            true => None,
            false => state
                .metric
                .prepare(&query)
                .map(|q| (q, distance::norm(&query) as f32)),
        };
        state.fixed_err = None;
        // Lists of 8-bit copies are read in order, page after page: their
        // distances cost arithmetic more than waiting on memory, which the
        // integer kernel cuts (an hnsw scan, which waits on memory at each
        // element, gained nothing from it and keeps f32 queries).
        if let Some((q, _)) = state.bound_query.as_mut() {
            let mut fixed = Vec::new();
            if state.metric.pack_fixed(q, &mut fixed) {
                // the packed query replaces the plain one only with its bound
                let err = distance::sq8_fixed::FixedQuery::view(&fixed, q.len()).map(|f| f.err);
                if err.is_some() {
                    state.fixed_err = err;
                    *q = fixed;
                }
            }
        }
        // Packed bits: the query packed as the records are.
        let mut packed = Vec::new();
        state.query = element.prepare(&query, &mut packed).to_vec();
        let centres = read_centres(index, &meta);
        let (_, max) = lists_wanted(meta.lists as usize);
        let how = assignment(state.metric, element);
        state.order = ivf::nearest_centres(&centres, meta.width(), &state.query, how, max)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        state.heads = read_heads(index, &meta);
        state.meta = Some(meta);
    }
}

/// Opens the next batch of lists into `pending`; false when there is none.
fn next_batch(state: &mut ScanState, index: pg_sys::Relation) -> bool {
    let Some(meta) = state.meta else {
        return false;
    };
    let (probes, max) = lists_wanted(meta.lists as usize);
    let range = ivf::layout::probe_batch(state.batch, probes, max, state.order.len());
    if range.is_empty() {
        return false;
    }
    state.batch += 1;
    let layout = RecordLayout::new(meta.dims as usize, meta.element_kind());
    let mut assembler = Assembler::new(layout);
    let bits = layout.element.is_bits();
    let mut scratch = Vec::new();
    let (metric, query) = (state.metric, &state.query);
    let approximate = layout.element.is_approximate();
    let bound_query = state.bound_query.as_ref().map(|(q, n)| (&q[..], *n));
    let fixed_err = state.fixed_err;
    let pending = &mut state.pending;
    let (heap, heap_blocks) = (state.heap, &state.heap_blocks);
    // Prefetching the next page pays where a page holds many records (at
    // 128 dimensions, 15 a page, probes 1 went from 1.2-1.5x pgvector's
    // queries/s to 1.9-2.3x) and costs where it holds one (2048-d
    // halfvec: 1.7-1.85x fell to 1.3x: the page's own lines then wait
    // behind the next page's), measured in alternating passes.
    // Where a page holds a few long records, fetching two records ahead
    // (the page's next items, or the next page's first) keeps the lines
    // coming without the current record's waiting behind a whole page.
    // Records that span pages are left to the hardware, as before.
    let few = ivf::layout::records_per_page(&layout) < 4 && !layout.spans();
    let ahead = if layout.spans() {
        Ahead::Nothing
    } else if few {
        Ahead::FirstRecord(ivf::layout::RECORD_HEADER + layout.vector_bytes)
    } else {
        Ahead::Page
    };
    for &list in &state.order[range] {
        assembler.reset();
        walk_chain(index, &meta, state.heads[list], ahead, |page| {
            for off in 1..=page.max_offset() {
                let Some(item) = page.item(off) else {
                    continue;
                };
                if few {
                    let from = if off == 1 { 2 } else { off + 2 };
                    for ahead in from..=(off + 2).min(page.max_offset()) {
                        if let Some(next) = page.item(ahead) {
                            distance::prefetch_bytes(next.as_ptr(), next.len(), next.len());
                        }
                    }
                }
                let corrupt = |e: ivf::layout::Corrupt| -> ! {
                    super::pages::raise_corrupted(
                        index,
                        format_args!("block {}, item {off}: {e}", page.block()),
                    )
                };
                // One item a record: measured on the page itself (float4s
                // in place, halves widened in registers).
                let (tid, d) = if !layout.spans() {
                    let (tid, _, body) = layout.decode(item).unwrap_or_else(|e| corrupt(e));
                    let halves = match layout.element {
                        Element::F16 => ivf::layout::halves(body),
                        Element::F32 | Element::Bits | Element::Sq8 => None,
                    };
                    let d = match halves {
                        None if approximate => {
                            let r = Sq8Record::read(body).unwrap_or_else(|e| corrupt(e));
                            sq8_bound(metric, bound_query, fixed_err, &r)
                        }
                        Some(codes) => operator_value_halves(metric, codes, query),
                        None if bits => {
                            operator_value_bits(layout.element.values(body, &mut scratch), query)
                        }
                        None => {
                            operator_value(metric, layout.element.values(body, &mut scratch), query)
                        }
                    };
                    (tid, d)
                } else {
                    let Some(tid) = assembler.feed(item).unwrap_or_else(|e| corrupt(e)) else {
                        continue;
                    };
                    let d = if approximate {
                        let r = Sq8Record::read(assembler.bytes()).unwrap_or_else(|e| corrupt(e));
                        sq8_bound(metric, bound_query, fixed_err, &r)
                    } else if bits {
                        operator_value_bits(assembler.vector(), query)
                    } else {
                        operator_value(metric, assembler.vector(), query)
                    };
                    (tid, d)
                };
                if !heap_tid_ok(heap, heap_blocks, tid) {
                    super::pages::raise_corrupted(
                        index,
                        format_args!(
                            "block {}, item {off}: heap TID ({},{}) is not a row's of the table",
                            page.block(),
                            tid.block,
                            tid.offset
                        ),
                    );
                }
                pending.push(Nearest(d, tid));
            }
        });
    }
    state.queue = std::mem::take(&mut state.pending).into();
    true
}

/// A lower bound of the exact ORDER BY value of the row whose 8-bit copy
/// is `r`, for the query `q` (`Metric::prepare`d, with its norm); the
/// lowest value for a scan whose every ORDER BY value is NULL or NaN
/// (`q` None).
fn sq8_bound(
    metric: Metric,
    q: Option<(&[f32], f32)>,
    fixed_err: Option<f32>,
    r: &Sq8Record,
) -> f64 {
    let Some((q, q_norm)) = q else {
        return f64::NEG_INFINITY;
    };
    let d = metric.to_sq8_within(q, r.codes, (r.scale, r.offset), r.norm, f32::INFINITY);
    match fixed_err {
        Some(q_err) => {
            graph::lower_bound_fixed(metric, d, (r.err, q_err), r.norm, q_norm, r.codes.len())
        }
        None => graph::lower_bound(metric, d, r.err, r.norm, q_norm, r.codes.len()),
    }
}

/// A row and its distance, ordered nearest first in a max-heap (NaN, a
/// zero vector under cosine, after every number).
struct Nearest(f64, HeapTid);

impl Nearest {
    /// The distance as it sorts.
    fn key(&self) -> f64 {
        if self.0.is_nan() {
            f64::INFINITY
        } else {
            self.0
        }
    }
}

impl PartialEq for Nearest {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Nearest {}

impl PartialOrd for Nearest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Nearest {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the nearest first;
    /// ties by heap TID, for a stable order.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .key()
            .total_cmp(&self.key())
            .then((other.1.block, other.1.offset).cmp(&(self.1.block, self.1.offset)))
    }
}

/// `amgettuple`: the next heap row in distance order.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(
    scan: pg_sys::IndexScanDesc,
    _dir: pg_sys::ScanDirection::Type,
) -> bool {
    // SAFETY: opaque is our ScanState; the descriptor's result fields are
    // ours to set; xs_orderbyvals/nulls were allocated in ambeginscan.
    unsafe {
        let state = &mut *((*scan).opaque as *mut ScanState);
        let index = (*scan).indexRelation;
        if !state.started {
            state.started = true;
            // pg_stat_*_indexes.idx_scan, as pgstat_count_index_scan does.
            crate::pgver::count_index_scan(index);
        }
        while state.queue.is_empty() {
            if !next_batch(state, index) {
                return false;
            }
            pgrx::check_for_interrupts!();
        }
        let Nearest(d, tid) = state.queue.pop().expect("not empty");
        (*scan).xs_heaptid = item_pointer(tid);
        (*scan).xs_recheck = false;
        // Lists of 8-bit copies give lower bounds: the executor rechecks.
        (*scan).xs_recheckorderby = state
            .meta
            .is_some_and(|m| m.element_kind().is_approximate());
        *(*scan).xs_orderbyvals = pg_sys::Datum::from(d.to_bits() as usize);
        *(*scan).xs_orderbynulls = false;
        true
    }
}

/// `amendscan`: frees what the scan holds (the state itself goes with its
/// memory context).
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    // SAFETY: opaque is our ScanState.
    let state = unsafe { &mut *((*scan).opaque as *mut ScanState) };
    state.pending = Vec::new();
    state.queue = BinaryHeap::new();
    state.order = Vec::new();
    state.heads = Vec::new();
}
