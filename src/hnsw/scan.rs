//! Index scans: `ambeginscan`, `amrescan`, `amgettuple`, `amendscan`.
//!
//! Design note. The scan walks the graph on the f16 copies (one page per
//! visited element) with the `graph` crate's resumable search, and hands
//! each heap row to the executor with `xs_recheckorderby = true` and, as
//! its ORDER BY value, a *lower bound* of the exact distance: from the
//! approximate distance and the element's stored error bound `err`, minus
//! a margin for float rounding. The executor recomputes the exact distance
//! from the heap tuple and re-sorts through its reorder queue, so results
//! come out in exact order at full precision. A bound above the exact
//! value would make Postgres raise "index returned tuples in wrong order":
//! the margins below are chosen to make that impossible. Damaged index
//! bytes (a code, the scale, bound or norm, a heap TID) could still do it;
//! from on-disk format 4 the scan checks the seals of every element whose
//! rows it returns (`pageformat::seal`), so damage is an ERROR (XX002)
//! naming the block instead.
//!
//! `hnsw.iterative_scan = off` returns the `hnsw.ef_search` elements of one
//! search (pgvector's semantics) and stops;
//! `relaxed_order` / `strict_order` keep exploring (for filtered queries)
//! until `hnsw.max_scan_tuples` heap rows were returned, or the search
//! holds more than `work_mem` times `hnsw.scan_mem_multiplier` (it then
//! returns what it has found and stops).

use super::store::{in_index_order, read_meta_and_order, PageGraph};
use crate::gucs::{self, IterativeScan};
use crate::pg::am::heap_tid_ok;
use graph::IterativeSearch;
use pageformat::{ElementId, HeapTid, Meta};
use pgrx::{pg_sys, PgMemoryContexts};
use std::collections::VecDeque;

/// Rust-side state of one scan, dropped with the scan's memory context.
struct ScanState {
    graph: Option<PageGraph>,
    search: Option<IterativeSearch<ElementId>>,
    /// The prepared query and its Euclidean norm (before preparation).
    query: Option<(Vec<f32>, f32)>,
    /// The meta page as read by `amrescan`.
    meta: Option<Meta>,
    /// Heap rows of the current element, with their lower bound.
    pending: VecDeque<(HeapTid, f64)>,
    elements: usize,
    /// The highest lower bound handed on so far (`strict_order` drops an
    /// element whose bound is below it, see [`next_element`]).
    last_bound: f64,
    rows: usize,
    started: bool,
    /// Every ORDER BY value is NULL or NaN (a NULL query, or a zero query
    /// under cosine): rows come in graph order with the lowest bound.
    unordered: bool,
    /// The table, to check heap TIDs against its size before the executor
    /// reads them (null when the scan has none).
    heap: pg_sys::Relation,
    /// Blocks of the table when last counted (0 before).
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
            graph: None,
            search: None,
            query: None,
            meta: None,
            pending: VecDeque::new(),
            elements: 0,
            last_bound: f64::NEG_INFINITY,
            rows: 0,
            started: false,
            unordered: false,
            heap: core::ptr::null_mut(),
            heap_blocks: std::cell::Cell::new(0),
        };
        (*scan).opaque = PgMemoryContexts::CurrentMemoryContext
            .leak_and_drop_on_delete(state)
            .cast();
        scan
    }
}

/// `amrescan`: takes the query vector from the ORDER BY key.
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
        state.search = None;
        state.graph = None;
        state.pending.clear();
        state.elements = 0;
        state.last_bound = f64::NEG_INFINITY;
        state.rows = 0;
        state.started = false;
        state.unordered = false;
        state.query = None;
        state.meta = None;
        state.heap = (*scan).heapRelation;
        if (*scan).numberOfOrderBys < 1 {
            return;
        }
        let key = &*(*scan).orderByData;
        let index = (*scan).indexRelation;
        let (meta, order) = read_meta_and_order(index);
        let graph = PageGraph::new(index, &meta);
        let dims = meta.dims as usize;
        if meta.storage() == pageformat::Storage::Sparse {
            state.query = Some(sparse_query(state, index, key, &graph));
            state.graph = Some(graph);
            state.meta = Some(meta);
            return;
        }
        // ORDER BY v <-> NULL orders every row by NULL, and a zero query
        // under cosine every row by NaN: as pgvector, such a scan still
        // returns the rows its search reaches (in no particular order), so
        // the answer does not depend on whether the index is used.
        let values = if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
            state.unordered = true;
            vec![0.0; dims]
        } else {
            crate::opclass::read_query(index, key.sk_argument, dims)
        };
        let metric = graph.metric();
        let mut prepared = metric.prepare(&in_index_order(order.as_deref(), &values));
        if prepared.is_none() {
            state.unordered = true;
            let mut axis = vec![0.0; dims];
            axis[0] = 1.0;
            prepared = metric.prepare(&axis);
        }
        state.query = prepared.map(|q| (q, distance::norm(&values) as f32));
        state.graph = Some(graph);
        state.meta = Some(meta);
    }
}

/// The prepared query of a scan of an index of sparse copies and its
/// norm, as [`amrescan`] makes a dense one: a NULL query, or a zero one
/// under cosine, leaves the scan unordered (searched for along the first
/// axis).
///
/// # Safety
/// `key` is the scan's ORDER BY key over `index`.
unsafe fn sparse_query(
    state: &mut ScanState,
    index: pg_sys::Relation,
    key: &pg_sys::ScanKeyData,
    graph: &PageGraph,
) -> (Vec<f32>, f32) {
    let mut q = if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
        state.unordered = true;
        Vec::new()
    } else {
        let dims = graph.layout().dims;
        // SAFETY: a non-null ORDER BY argument of the class's type.
        unsafe { crate::opclass::read_sparse_query(index, key.sk_argument, dims) }
    };
    let norm = distance::sparse::norm(&q[q.len() / 2..]);
    if !graph.metric().prepare_sparse_in_place(&mut q) {
        state.unordered = true;
        distance::sparse::pack(&[0], &[1.0], &mut q);
    }
    (q, norm)
}

/// Fills `pending` with the heap rows of the next element; false when done.
fn next_element(state: &mut ScanState) -> bool {
    let (Some(graph), Some((query, q_norm)), Some(meta)) =
        (&state.graph, &state.query, &state.meta)
    else {
        return false;
    };
    let iterative = gucs::iterative_scan();
    if !state.started {
        state.started = true;
        let Some(ep) = graph.entry_point(meta) else {
            return false;
        };
        let ef = gucs::ef_search();
        let budget = match iterative {
            IterativeScan::Off => usize::MAX,
            _ => gucs::max_scan_tuples()
                .saturating_mul(2 * meta.m as usize)
                .max(ef),
        };
        let search = match super::upper::entry_points(graph, meta, query) {
            Some(eps) => IterativeSearch::from_entries(graph, query, &eps, ef, budget),
            None => IterativeSearch::new(graph, query, ep, ef, budget),
        };
        state.search = Some(match iterative {
            IterativeScan::Off => search.single_pass(),
            IterativeScan::RelaxedOrder => search.relaxed().memory_limit(gucs::scan_mem_bytes()),
            IterativeScan::StrictOrder => search.memory_limit(gucs::scan_mem_bytes()),
        });
    }
    if iterative == IterativeScan::Off && state.elements >= gucs::ef_search() {
        return false;
    }
    if iterative != IterativeScan::Off && state.rows >= gucs::max_scan_tuples() {
        return false;
    }
    // No search when the index has no entry point (it is empty).
    let Some(search) = state.search.as_mut() else {
        return false;
    };
    let Some(c) = search.next(graph) else {
        return false;
    };
    state.elements += 1;
    let sparse = graph.layout().storage() == pageformat::Storage::Sparse;
    let dims = query.len();
    let unordered = state.unordered;
    let before = state.pending.len();
    let fields = graph.with_element(c.id, |e| {
        let bound = if unordered {
            f64::NEG_INFINITY
        } else {
            // a sparse distance sums one term per index of either vector
            let terms = if sparse { dims / 2 + e.nnz() } else { dims };
            graph::lower_bound(
                graph.metric(),
                c.distance,
                e.err(),
                e.norm(),
                *q_norm,
                terms,
            )
        };
        // strict_order hands bounds on in nondecreasing order, so that the
        // executor's reorder queue returns rows in exact order: an element
        // whose bound is below one already handed on might be closer than
        // a row already returned, and is dropped (as pgvector's strict
        // order drops a node found after a farther one).
        if iterative == IterativeScan::StrictOrder && bound < state.last_bound {
            return Ok(());
        }
        state.last_bound = state.last_bound.max(bound);
        state.pending.extend(e.heap_tids().map(|t| (t, bound)));
        // The seals of an element that fits its page are checked here,
        // under the lock its TIDs were read with; a spanning one's below,
        // with its chunks.
        e.check_fields().and_then(|()| {
            if graph.layout().spans() {
                Ok(())
            } else {
                e.check_seal(&[])
            }
        })
    });
    if let Err(e) = fields {
        super::pages::raise_corrupted(
            graph.index(),
            format_args!("block {}, item {}: {e}", c.id.block(), c.id.offset()),
        );
    }
    if graph.layout().spans() {
        graph.check_seal(c.id);
    }
    for i in before..state.pending.len() {
        let tid = state.pending[i].0;
        if !heap_tid_ok(state.heap, &state.heap_blocks, tid) {
            super::pages::raise_corrupted(
                graph.index(),
                format_args!(
                    "block {}, item {}: heap TID ({},{}) is not a row's of the table",
                    c.id.block(),
                    c.id.offset(),
                    tid.block,
                    tid.offset
                ),
            );
        }
    }
    true
}

/// A single pass (`hnsw.iterative_scan = off`) reads its whole result
/// window first and hands the rows on in the order of their lower bounds.
///
/// The executor's reorder queue returns a row once its exact distance is
/// at most the last bound the index gave, so the bounds must never fall:
/// in the search's order (approximate distances) they can, since each
/// element's error bound is its own (an 8-bit copy of a vector with one
/// large component has a wide one), and a row could then come out before
/// a closer one. Sorted by bound, every row still to come is at least as
/// far as any row already returned.
fn take_whole_window(state: &mut ScanState) {
    while next_element(state) {
        pgrx::check_for_interrupts!();
    }
    state
        .pending
        .make_contiguous()
        .sort_by(|a, b| a.1.total_cmp(&b.1));
}

/// `amgettuple`: the next heap row in (approximate) distance order.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(
    scan: pg_sys::IndexScanDesc,
    _dir: pg_sys::ScanDirection::Type,
) -> bool {
    // SAFETY: opaque is our ScanState; the descriptor's result fields are
    // ours to set; xs_orderbyvals/nulls were allocated in ambeginscan.
    unsafe {
        let state = &mut *((*scan).opaque as *mut ScanState);
        if !state.started {
            // pg_stat_*_indexes.idx_scan, as pgstat_count_index_scan does.
            crate::pgver::count_index_scan((*scan).indexRelation);
            if gucs::iterative_scan() == IterativeScan::Off {
                take_whole_window(state);
            }
        }
        while state.pending.is_empty() {
            if !next_element(state) {
                return false;
            }
            pgrx::check_for_interrupts!();
        }
        let (tid, bound) = state.pending.pop_front().expect("not empty");
        state.rows += 1;
        let t = &mut (*scan).xs_heaptid;
        t.ip_blkid.bi_hi = (tid.block >> 16) as u16;
        t.ip_blkid.bi_lo = tid.block as u16;
        t.ip_posid = tid.offset;
        (*scan).xs_recheck = false;
        (*scan).xs_recheckorderby = true;
        *(*scan).xs_orderbyvals = pg_sys::Datum::from(bound.to_bits() as usize);
        *(*scan).xs_orderbynulls = false;
        true
    }
}

/// `amendscan`: frees what the scan holds (the state
/// itself goes with its memory context).
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    // SAFETY: opaque is our ScanState.
    let state = unsafe { &mut *((*scan).opaque as *mut ScanState) };
    state.search = None;
    state.pending = VecDeque::new();
    state.graph = None;
}
