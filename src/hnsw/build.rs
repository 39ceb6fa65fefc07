//! `ambuild` and `ambuildempty`.
//!
//! Design note. The main thread reads the heap (`table_index_build_scan`)
//! and copies the copy of each vector the element will store (f16, or
//! 8-bit for `storage = 'i8'`: half the memory, see [`holds_sq8`]) into a
//! Rust-owned [`MemoryGraph`]; vectors whose copies are identical
//! (codes, scale, error bound and norm) share one element (up to 9 heap
//! TIDs), so duplicates cannot crowd the graph. Such vectors would get
//! byte-identical elements anyway, so the scan's lower bound holds for
//! every one of them. Then rayon threads insert the nodes in parallel, in
//! chunks, while the main thread checks for query cancel and reports
//! progress between chunks (threads never touch Postgres, and are started
//! with every signal blocked: `crate::threads`). They are as many as the
//! leader and the workers a parallel build may have
//! (`max_parallel_maintenance_workers`, or the table's `parallel_workers`),
//! at most one per core (see `build_threads`). Finally the
//! main thread lays the elements out on pages (addresses are computed
//! first, so neighbour lists can be written in one pass) and writes them.
//!
//! WAL policy: the build writes pages without per-page WAL and, for a
//! permanent index, logs every page once at the end with
//! `log_newpage_range` (replicas and crash recovery get full images).
//!
//! Memory: the graph is kept within `maintenance_work_mem`. When it would
//! outgrow it, the build says so with a NOTICE, writes what it has, and
//! inserts the remaining rows one by one into the on-disk graph (slower,
//! but correct), as pgvector does. Those inserts write no WAL of their
//! own (`crate::pg::deferred_wal`): the build logs every page at its end,
//! after bridging any element they left unreachable ([`reconnect_spilled`]).

use super::build_tids::NodeTids;
use super::insert::insert_vector;
use super::pages::BuildPage;
use super::params::IndexParams;
use super::partitioned::{can_partition, Partitioned};
use super::store::in_index_order;
use crate::pg::am::{build_threads, progress, progress_all};
use crate::threads::{self, Purpose};
use distance::half::HalfVector;
use distance::sq8::Sq8Vector;
use graph::MemoryGraph;
use pageformat::{ElementId, ElementLayout, HeapTid, Meta, Storage};
use pgrx::{pg_sys, PgMemoryContexts};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

/// Subphase numbers shown in pg_stat_progress_create_index.
const PHASE_LOAD: i64 = 2;
pub(super) const PHASE_GRAPH: i64 = 3;
pub(super) const PHASE_WRITE: i64 = 4;
/// Nodes inserted between two interrupt checks.
const CHUNK: u32 = 1024;
/// Seed of the level generator: builds are reproducible.
const SEED: u64 = 0x005e_ed0f_4a57;

/// State shared with the heap-scan callback.
struct BuildState {
    index: pg_sys::Relation,
    params: IndexParams,
    graph: MemoryGraph,
    tids: NodeTids,
    /// Hash of an f16 copy (its low 32 bits) -> its node, to merge
    /// identical copies (a collision only leaves two nodes apart).
    seen: FxHashMap<u32, u32>,
    /// Bytes of `maintenance_work_mem`.
    limit: usize,
    /// Set once the in-memory graph was written: later rows go to disk.
    spilled: bool,
    indexed: f64,
    tmp: PgMemoryContexts,
    /// Threads linking the in-memory graph (see [`build_threads`]).
    threads: usize,
    /// The first rows, held while they decide the dimension order
    /// (`Some` until then; see [`decide_order`]).
    sample: Option<Vec<(Vec<f32>, HeapTid)>>,
    /// The dimension order the f16 copies are stored in, once decided.
    order: Option<Vec<u32>>,
    /// How the operator class's type is read (`crate::opclass`).
    key: &'static crate::opclass::KeyType,
    /// Set once the graph outgrew memory, for an index that is then
    /// built in parts (`partitioned.rs`): later rows go to its file.
    parts: Option<Partitioned>,
}

/// Bytes of first rows a build holds to measure the dimensions' spread.
const SAMPLE_BYTES: usize = 8 << 20;

/// Whether an index of `params` stores its dimensions by decreasing
/// spread: only for L2, the one metric whose distances stop early (see
/// `half::l2_squared_within`), only beyond one chunk of dimensions, and
/// only while the order fits the meta page.
fn wants_order(params: &IndexParams) -> bool {
    params.storage != Storage::Sparse
        && params.metric == graph::Metric::L2
        && params.dims > distance::half::WITHIN_CHUNK
        && params.dims <= pageformat::MAX_ORDERED_DIMS
}

/// Rows sampled before the order is decided: 8 MB of them, 64..=1024.
fn sample_rows(dims: usize) -> usize {
    (SAMPLE_BYTES / (4 * dims.max(1))).clamp(64, 1024)
}

/// `ambuildphasename`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuildphasename(phase: i64) -> *mut core::ffi::c_char {
    let name: &core::ffi::CStr = match phase {
        PHASE_LOAD => c"loading tuples",
        PHASE_GRAPH => c"building graph",
        PHASE_WRITE => c"writing pages",
        _ => return core::ptr::null_mut(),
    };
    name.as_ptr() as *mut _
}

/// `ambuild`: builds the whole index from the heap.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuild(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    let params = IndexParams::of(index);
    let mut state = BuildState {
        index,
        params,
        graph: new_graph(&params),
        tids: NodeTids::default(),
        seen: FxHashMap::default(),
        // SAFETY: reading a GUC variable on the main thread.
        limit: unsafe { pg_sys::maintenance_work_mem } as usize * 1024,
        spilled: false,
        indexed: 0.0,
        tmp: PgMemoryContexts::new("hnsw build temporary"),
        threads: build_threads(heap),
        sample: wants_order(&params).then(Vec::new),
        order: None,
        key: crate::opclass::of(index).key,
        parts: None,
    };
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_LOAD);
    let started = std::time::Instant::now();
    let state_ptr = std::panic::AssertUnwindSafe(&mut state as *mut BuildState);
    // Inserts after a spill defer their WAL to the end (`deferred_wal`);
    // the mark goes whether the build ends or fails.
    let reltuples = pgrx::PgTryBuilder::new(move || {
        let state_ptr = state_ptr; // the whole wrapper, not its field
        let state_ptr = state_ptr.0;
        // SAFETY: standard heap scan with our callback and state pointer.
        let reltuples = unsafe {
            pg_sys::table_index_build_scan(
                heap,
                index,
                index_info,
                true,
                true,
                Some(build_callback),
                state_ptr.cast(),
                core::ptr::null_mut(),
            )
        };
        pgrx::debug1!(
            "hnsw build: read {reltuples} heap tuples in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        // SAFETY: the scan has returned: nothing else uses the state now.
        let state = unsafe { &mut *state_ptr };
        decide_order(state);
        if let Some(parts) = state.parts.take() {
            match parts.plan(state.limit) {
                Some(plan) => {
                    let (params, threads) = (state.params, state.threads);
                    parts.finish(plan, index, &params, state.order.as_deref(), threads);
                    crate::pg::deferred_wal::begin(index);
                }
                None => insert_one_by_one(state, parts),
            }
            reconnect_spilled(index);
            crate::pg::buffer::log_all_pages(index);
        } else if state.spilled {
            reconnect_spilled(index);
            crate::pg::buffer::log_all_pages(index);
        } else {
            flush(state);
        }
        reltuples
    })
    .finally(|| {
        crate::pg::deferred_wal::end();
        super::spill_links::end();
    })
    .execute();
    // SAFETY: palloc'd result in the caller's context.
    unsafe {
        let result = pg_sys::palloc0(core::mem::size_of::<pg_sys::IndexBuildResult>())
            as *mut pg_sys::IndexBuildResult;
        (*result).heap_tuples = reltuples;
        (*result).index_tuples = state.indexed;
        result
    }
}

/// A constructor of [`MemoryGraph`]: (dims, metric, m, ef_construction, seed).
type NewGraph = fn(usize, graph::Metric, usize, usize, u64) -> MemoryGraph;

/// An empty in-memory graph for `params`.
pub(super) fn new_graph(params: &IndexParams) -> MemoryGraph {
    let (new, dims): (NewGraph, usize) = if params.storage == Storage::Sparse {
        (MemoryGraph::new_sparse, params.dims)
    } else if holds_sq8(params) {
        (MemoryGraph::new_sq8, params.dims)
    } else {
        (MemoryGraph::new, params.storage.codes_for(params.dims))
    };
    new(
        dims,
        params.graph_metric(),
        params.m,
        params.ef_construction,
        SEED,
    )
    .with_max_level(params.level_cap())
}

/// Whether the in-memory graph holds 8-bit copies rather than f16 ones:
/// for an index of 8-bit elements that fit a page, which are built from
/// exactly what they store, in half the memory (an f16 copy would take
/// twice the bytes, so half as many rows would fit before a spill).
fn holds_sq8(params: &IndexParams) -> bool {
    params.storage == Storage::Sq8
        && !ElementLayout::new(params.m, params.dims, params.version()).spans()
}

/// Called for every live heap tuple: copies its vector into the graph.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn build_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: `state` is the BuildState passed to table_index_build_scan;
    // values/isnull have one entry for our single key column; the TID is valid.
    let (state, row) =
        unsafe { crate::pg::am::build_scan_row::<BuildState>(tid, values, isnull, state) };
    let Some((tid, datum)) = row else {
        return;
    };
    let mut tmp = std::mem::replace(&mut state.tmp, PgMemoryContexts::CurrentMemoryContext);
    // SAFETY: the temporary context is ours and reset after every row, so
    // detoasted copies do not pile up over the scan.
    // The datum is a non-null value of the operator class's type.
    unsafe {
        match state
            .key
            .sparse
            .filter(|_| state.params.storage == Storage::Sparse)
        {
            Some(read) => {
                tmp.switch_to(|_| read(datum, &mut |dims, q| take_sparse_row(state, dims, q, tid)))
            }
            None => {
                let read = state.key.read;
                tmp.switch_to(|_| read(datum, &mut |v| take_row(state, v, tid)));
            }
        }
        tmp.reset();
    }
    state.tmp = tmp;
    pgrx::check_for_interrupts!();
}

/// Sends one row to the sample, the in-memory graph or, once spilled, the
/// on-disk graph.
fn take_row(state: &mut BuildState, v: &[f32], tid: HeapTid) {
    if state.spilled {
        if insert_vector(state.index, tid, v) {
            state.indexed += 1.0;
        }
    } else if let Some(sample) = &mut state.sample {
        vectorcore::check::expected_dim(state.params.dims as i32, v.len())
            .unwrap_or_else(|e| crate::error::raise_vector(e));
        sample.push((v.to_vec(), tid));
        if sample.len() >= sample_rows(state.params.dims) {
            decide_order(state);
        }
    } else {
        add(state, v, tid);
    }
}

/// Sends one row of an index of sparse copies, `dims` dimensions with its
/// non-zero elements `packed` ([`distance::sparse::pack`]), to the
/// in-memory graph or, once spilled, the on-disk graph; identical
/// vectors share an element, as in [`add`].
fn take_sparse_row(state: &mut BuildState, dims: usize, packed: &[f32], tid: HeapTid) {
    vectorcore::check::expected_dim(state.params.dims as i32, dims)
        .unwrap_or_else(|e| crate::error::raise_vector(e));
    if state.spilled {
        if super::insert::insert_sparse(state.index, tid, packed) {
            state.indexed += 1.0;
        }
        return;
    }
    let n = packed.len() / 2;
    let (indices, values): (Vec<u32>, &[f32]) = (
        packed[..n].iter().map(|x| x.to_bits()).collect(),
        &packed[n..],
    );
    if state.params.metric == graph::Metric::Cosine && distance::sparse::norm(values) == 0.0 {
        return; // a zero vector has no direction: not indexed, as in pgvector
    }
    let layout = ElementLayout::new(state.params.m, state.params.dims, state.params.version());
    let cap = super::insert::sparse_level_cap(&layout, &indices, state.params.level_cap());
    let mut h = rustc_hash::FxHasher::default();
    packed
        .iter()
        .map(|x| x.to_bits())
        .for_each(|b| b.hash(&mut h));
    let key = h.finish() as u32;
    let same = |g: &MemoryGraph, node: u32| {
        g.sparse_copy(node)
            .0
            .iter()
            .map(|(i, v)| (i, v.to_bits()))
            .eq(indices
                .iter()
                .copied()
                .zip(values.iter().map(|v| v.to_bits())))
    };
    if !joins_copy(state, key, tid, same) {
        add_node(state, key, tid, |g| g.add_sparse(&indices, values, cap));
    }
}

/// Whether the row `tid` joins the node of copy `key` (a copy `same` says
/// is identical, with room for another heap TID); it is recorded there if so.
fn joins_copy(
    state: &mut BuildState,
    key: u32,
    tid: HeapTid,
    same: impl FnOnce(&MemoryGraph, u32) -> bool,
) -> bool {
    let Some(&node) = state.seen.get(&key) else {
        return false;
    };
    if !same(&state.graph, node) || state.tids.of(node).len() >= pageformat::seal::SEALED_HEAP_TIDS
    {
        return false;
    }
    state.tids.add(node, tid);
    state.indexed += 1.0;
    true
}

/// Adds the row `tid` as a new node (`add` stores its copy), remembers the
/// copy's `key`, and spills when memory runs out.
fn add_node(
    state: &mut BuildState,
    key: u32,
    tid: HeapTid,
    add: impl FnOnce(&mut MemoryGraph) -> u32,
) {
    if state.graph.len() == state.graph.capacity() {
        reserve(state);
    }
    let node = add(&mut state.graph);
    state.seen.insert(key, node);
    state.tids.push(tid);
    state.indexed += 1.0;
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, state.indexed as i64);
    spill_if_full(state);
}

/// Ends the sample, if one is held: the dimension order becomes the
/// sampled rows' dimensions by decreasing variance, and the rows go on
/// into the graph (an empty sample leaves the vectors' own order).
fn decide_order(state: &mut BuildState) {
    let Some(sample) = state.sample.take() else {
        return;
    };
    if !sample.is_empty() {
        let rows: Vec<&[f32]> = sample.iter().map(|(v, _)| v.as_slice()).collect();
        state.order = Some(graph::variance_order(&rows, state.params.dims));
    }
    for (v, tid) in sample {
        take_row(state, &v, tid);
    }
}

/// Adds one row to the in-memory graph; spills when memory runs out.
fn add(state: &mut BuildState, v: &[f32], tid: HeapTid) {
    vectorcore::check::expected_dim(state.params.dims as i32, v.len())
        .unwrap_or_else(|e| crate::error::raise_vector(e));
    let v = &*in_index_order(state.order.as_deref(), v);
    if state.params.metric == graph::Metric::Cosine && distance::norm(v) == 0.0 {
        return; // a zero vector has no direction: not indexed, as in pgvector
    }
    if holds_sq8(&state.params) {
        let sq8 = Sq8Vector::encode(v);
        let mut h = rustc_hash::FxHasher::default();
        sq8.codes.hash(&mut h);
        [sq8.scale, sq8.offset, sq8.err, sq8.norm]
            .map(f32::to_bits)
            .hash(&mut h);
        let key = h.finish() as u32;
        if let Some(parts) = &mut state.parts {
            parts.take(key, tid, graph::StoredCopy::Sq8(sq8));
            counted(state);
            return;
        }
        if !joins_copy(state, key, tid, |g, node| g.sq8_vector(node) == sq8) {
            add_node(state, key, tid, |g| g.add_sq8(&sq8));
        }
        return;
    }
    let half = if state.params.storage == Storage::Bits {
        distance::packed::encode(v)
    } else {
        HalfVector::encode(v)
    };
    // Fx: a few GB/s over a 4 kB copy (SipHash is several times slower);
    // a collision only costs the equality check below.
    let mut h = rustc_hash::FxHasher::default();
    half.codes.hash(&mut h);
    [half.scale, half.err, half.norm]
        .map(f32::to_bits)
        .hash(&mut h);
    let key = h.finish() as u32;
    if let Some(parts) = &mut state.parts {
        parts.take(key, tid, graph::StoredCopy::Half(half));
        counted(state);
        return;
    }
    if !joins_copy(state, key, tid, |g, node| g.half_vector(node) == half) {
        add_node(state, key, tid, |g| g.add_half(&half));
    }
}

/// The build of a graph too large to link in parts within its memory
/// (`Partitioned::plan`): the rows that fit are linked in memory and
/// written, and the others inserted one by one into the written graph,
/// their WAL deferred (as pgvector builds past its memory).
fn insert_one_by_one(state: &mut BuildState, mut parts: Partitioned) {
    parts.forget_parts();
    let held = parts.held();
    let index = state.index;
    parts.for_each_row(|row, tids, copy| {
        if row < held {
            state.tids.push(tids[0]);
            let node = match &copy {
                graph::StoredCopy::Sq8(v) => state.graph.add_sq8(v),
                graph::StoredCopy::Half(v) => state.graph.add_half(v),
            };
            for &tid in &tids[1..] {
                state.tids.add(node, tid);
            }
            return;
        }
        if !state.spilled {
            write_held(state);
        }
        super::insert::insert_copy(index, &tids, &copy);
    });
    if !state.spilled {
        write_held(state);
    }
}

/// Links and writes the graph in memory, then defers the WAL of the
/// one-by-one inserts that follow: every page is logged once the last row
/// is in (see `ambuild`).
fn write_held(state: &mut BuildState) {
    state.spilled = true;
    flush(state);
    crate::pg::deferred_wal::begin(state.index);
    state.graph = new_graph(&state.params);
    state.seen = FxHashMap::default();
    state.tids = NodeTids::default();
    super::spill_links::begin(count_in_links(state.index), state.limit);
}

/// Counts one more row indexed, in the build's progress too.
fn counted(state: &mut BuildState) {
    state.indexed += 1.0;
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, state.indexed as i64);
}

/// The last step of a spilled build: every element reachable from the
/// entry point (the graph crate's `reconnect`, as vacuum runs it). The
/// in-memory graph was bridged before it was written, but the rows
/// inserted after it prune a list at every back-link, which can leave an
/// element that no search reaches (1 of 6,000 rows in a test's data).
/// One flood of layer 0, a list read per element; the bridges are
/// written without WAL, as the inserts were.
fn reconnect_spilled(index: pg_sys::Relation) {
    let meta = super::store::read_meta(index);
    let graph = super::store::PageGraph::new(index, &meta);
    let Some(ep) = graph.entry_point(&meta) else {
        return;
    };
    let live = live_elements(index, &graph);
    let params = graph::InsertParams {
        m: meta.m as usize,
        ef_construction: meta.ef_construction as usize,
    };
    let bridges = graph::reconnect(
        &graph,
        ep,
        live,
        &[],
        params,
        rustc_hash::FxHashSet::default(),
        &mut || {
            pgrx::check_for_interrupts!();
        },
    );
    pgrx::debug1!("hnsw build: {bridges} bridges to elements the spilled inserts left unreachable");
}

/// The live elements of `index`, in page order.
fn live_elements(index: pg_sys::Relation, graph: &super::store::PageGraph) -> Vec<ElementId> {
    let mut live = Vec::new();
    for block in (super::store::META_BLOCK + 1)..crate::pg::am::nblocks(index) {
        let page = super::pages::ReadPage::new(index, block);
        for off in 1..=page.max_offset() {
            let Some(bytes) = page.item(off) else {
                continue;
            };
            if let Some(e) = super::store::checked_element(index, graph.layout(), block, off, bytes)
            {
                if !e.deleted() {
                    live.push(ElementId::new(block, off));
                }
            }
        }
    }
    live
}

/// Counts the layer-0 in-links of the graph just written (read back from
/// its pages, once the in-memory graph is freed), for the inserts that
/// follow a spill (`spill_links.rs`).
fn count_in_links(index: pg_sys::Relation) -> graph::InLinks<ElementId> {
    let meta = super::store::read_meta(index);
    let graph = super::store::PageGraph::new(index, &meta);
    let mut links = graph::InLinks::new();
    let mut list = Vec::new();
    for e in live_elements(index, &graph) {
        list.clear();
        graph::Graph::neighbours(&graph, e, 0, &mut list);
        links.add_list(&list);
    }
    links
}

/// When the in-memory graph has outgrown `maintenance_work_mem`, writes it
/// and sends the remaining rows to the on-disk graph.
fn spill_if_full(state: &mut BuildState) {
    if build_bytes(state) > state.limit {
        pgrx::notice!(
            "hnsw graph no longer fits into maintenance_work_mem after {} tuples",
            state.graph.len()
        );
        pgrx::notice!("Building will take significantly more time. Increase maintenance_work_mem to speed up builds.");
        if can_partition(&state.params) {
            let used = build_bytes(state);
            let seen = std::mem::take(&mut state.seen);
            state.parts = Some(Partitioned::start(
                &state.params,
                state.limit,
                &state.graph,
                &state.tids,
                seen,
                used,
                holds_sq8(&state.params),
            ));
            state.graph = new_graph(&state.params);
            state.tids = NodeTids::default();
            return;
        }
        write_held(state);
    }
}

/// Makes room for more nodes, in steps of an eighth (at least 1,024) so
/// that the spare room stays small (all of it is counted), and no more
/// than what is left of `maintenance_work_mem` at the bytes a node took
/// so far.
fn reserve(state: &mut BuildState) {
    let len = state.graph.len();
    let mut step = (len / 8).max(1024);
    if len >= 1024 {
        let (used, per_node) = (build_bytes(state), build_bytes(state) / len);
        step = step.min((state.limit.saturating_sub(used) / per_node.max(1)).max(1));
    }
    state.graph.reserve(step);
}

/// Bytes the build holds for its in-memory graph: the graph, the heap
/// TIDs and the map of copies.
fn build_bytes(state: &BuildState) -> usize {
    state.graph.estimated_bytes() + state.tids.bytes() + seen_bytes(state.seen.capacity())
}

/// Bytes of a map of copies with room for `capacity` entries (key, node
/// or record, and a control byte, in buckets at most 7 in 8 used).
pub(super) fn seen_bytes(capacity: usize) -> usize {
    capacity * 9 * 8 / 7
}

/// Links the in-memory graph (in parallel) and writes it to pages.
fn flush(state: &mut BuildState) {
    let n = state.graph.len() as u32;
    progress_all(&[
        (pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_GRAPH),
        (pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL, n as i64),
        (pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, 0),
    ]);
    pgrx::debug1!("hnsw build: linking {n} nodes on {} threads", state.threads);
    let started = std::time::Instant::now();
    let pool = threads::pool(Purpose::IndexBuild, state.threads);
    let graph = &mut state.graph;
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        // The main thread waits here: Postgres calls stay on it.
        pool.install(|| graph.insert_range(start..end));
        pgrx::check_for_interrupts!();
        progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, end as i64);
        start = end;
    }
    let linked = started.elapsed().as_secs_f64();
    pool.install(|| graph.shrink_lists());
    let bridges = graph.connect(&mut || {
        pgrx::check_for_interrupts!();
    });
    let shrunk = started.elapsed().as_secs_f64();
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_WRITE);
    write_pages(state);
    pgrx::debug1!(
        "hnsw build: linked in {linked:.2} s, lists shrunk and {bridges} bridges in {:.2} s, pages written in {:.2} s",
        shrunk - linked,
        started.elapsed().as_secs_f64() - shrunk
    );
}

/// Writes the meta page and every element page, then WAL-logs them all.
fn write_pages(state: &mut BuildState) {
    let (index, p, graph) = (state.index, state.params, &state.graph);
    let layout = ElementLayout::new(p.m, p.dims, p.version());
    let order = graph::page_order(graph);
    let ids = if layout.storage() == Storage::Sparse {
        pageformat::pack_sized(&layout, &order, graph.len(), |node| {
            layout.size_at(graph.level(node)) + graph.sparse_copy(node).0.bytes()
        })
    } else {
        pageformat::pack_addresses(&layout, &order, graph.len(), |node| graph.level(node))
    };
    write_meta(
        index,
        &p,
        state.order.as_deref(),
        graph
            .entry_point()
            .map(|(node, level)| (ids[node as usize], level)),
        order.last().map_or(1, |&node| ids[node as usize].block()),
    );

    let mut free_places = Vec::new();
    if layout.spans() {
        free_places = write_extents(state, &layout, &order, &ids);
    } else {
        let mut writer = ElementWriter::default();
        for (written, &node) in order.iter().enumerate() {
            let (bytes, _) = element_bytes(state, &layout, &ids, node);
            writer.put(index, ids[node as usize], &bytes);
            if (written as u32).is_multiple_of(CHUNK) {
                pgrx::check_for_interrupts!();
            }
        }
    }
    // SAFETY: the index is open; log every block we wrote when it is permanent.
    unsafe {
        let nblocks =
            pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
        let logged_later = state.spilled;
        if (*(*index).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT
            && !logged_later
        {
            pg_sys::log_newpage_range(index, pg_sys::ForkNumber::MAIN_FORKNUM, 0, nblocks, true);
        }
        // The unused places of the last extent, for the first inserts.
        for &block in &free_places {
            pg_sys::RecordFreeIndexPage(index, block);
        }
        if !free_places.is_empty() {
            pg_sys::IndexFreeSpaceMapVacuum(index);
        }
    }
}

/// Writes the meta page (block 0) of a new index of `params`: its
/// dimension order `order`, entry point `entry` and insert block.
pub(super) fn write_meta(
    index: pg_sys::Relation,
    p: &IndexParams,
    order: Option<&[u32]>,
    entry: Option<(ElementId, usize)>,
    insert_block: u32,
) {
    let mut meta = Meta::new_with_storage(
        p.dims as u32,
        p.m as u32,
        p.ef_construction as u32,
        p.metric.code(),
        p.storage,
    );
    meta.set_entry_point(entry);
    // Drawn, so that a copy of another index's upper layers held under a
    // reused file node never looks current (see upper.rs).
    // SAFETY: plain reads of the clock and of this backend's pid.
    meta.upper_version = unsafe {
        pg_sys::GetCurrentTimestamp() as u32 ^ (pg_sys::MyProcPid as u32).rotate_left(16)
    };
    meta.insert_block = insert_block;
    meta.order_len = order.map_or(0, |o| o.len() as u32);
    let mut contents = meta.to_bytes().to_vec();
    contents.extend(order.map(pageformat::encode_order).unwrap_or_default());
    BuildPage::extend(index).set_contents(&contents);
}

/// Writes the elements of a new index, page after page, each where the
/// build's placement (`pageformat::pack_addresses`) put it.
#[derive(Default)]
pub(super) struct ElementWriter {
    page: Option<BuildPage>,
}

impl ElementWriter {
    /// Writes element `bytes` at `id`, the next place in page order.
    pub(super) fn put(&mut self, index: pg_sys::Relation, id: ElementId, bytes: &[u8]) {
        if self.page.as_ref().is_none_or(|pg| pg.block() != id.block()) {
            self.page = Some(BuildPage::extend(index));
        }
        let page = self.page.as_mut().expect("a page is open");
        assert_eq!(
            page.block(),
            id.block(),
            "hnsw build: page layout out of step"
        );
        let off = page
            .add_item(bytes)
            .expect("hnsw build: element does not fit its page");
        assert_eq!(off, id.offset(), "hnsw build: item layout out of step");
    }
}

/// Node `node`'s element tuple with its neighbour lists as page addresses,
/// and its f16 copy (an 8-bit layout's element holds the 8-bit copy of it,
/// whose error bound covers both roundings).
fn element_bytes(
    state: &BuildState,
    layout: &ElementLayout,
    ids: &[ElementId],
    node: u32,
) -> (Vec<u8>, HalfVector) {
    let graph = &state.graph;
    let level = graph.level(node);
    let tids = state.tids.of(node);
    let (mut bytes, half) = match layout.storage() {
        Storage::Sparse => {
            let (indices, values) = graph.sparse_copy(node).0.to_vecs();
            let bytes = layout.encode_sparse(level, tids, &indices, &values);
            (bytes, HalfVector::encode(&[]))
        }
        Storage::Sq8 if holds_sq8(&state.params) => {
            let bytes = layout.encode_sq8(level, tids, &graph.sq8_vector(node));
            (bytes, HalfVector::encode(&[]))
        }
        storage => {
            let half = graph.half_vector(node);
            let bytes = match storage {
                Storage::Sq8 => layout.encode_sq8(level, tids, &Sq8Vector::from_half(&half)),
                _ => layout.encode(level, tids, &half),
            };
            (bytes, half)
        }
    };
    let mut neighbours = Vec::new();
    for lc in 0..=level {
        neighbours.clear();
        neighbours.extend(
            graph
                .neighbour_list(node, lc)
                .iter()
                .map(|&n| ids[n as usize]),
        );
        layout.write(&mut bytes).set_neighbours(lc, &neighbours);
    }
    (bytes, half)
}

/// Writes page-spanning elements, one extent per group of `layout.group()`
/// nodes in `order` (see pageformat): their blocks, then their chunks; the
/// last extent's unused places hold free elements, whose blocks it returns.
fn write_extents(
    state: &BuildState,
    layout: &ElementLayout,
    order: &[u32],
    ids: &[ElementId],
) -> Vec<u32> {
    let g = layout.group();
    let mut free_places = Vec::new();
    for (n, group) in order.chunks(g).enumerate() {
        let first = ids[group[0] as usize].block();
        let elements: Vec<(Vec<u8>, HalfVector)> = group
            .iter()
            .map(|&node| element_bytes(state, layout, ids, node))
            .collect();
        let places: Vec<Option<(&[u8], &[u16])>> = (0..g)
            .map(|s| elements.get(s).map(|(b, h)| (&b[..], &h.codes[..])))
            .collect();
        free_places.extend((elements.len()..g).map(|s| first + s as u32));
        for (i, items) in layout.extent_items(first, &places).iter().enumerate() {
            let mut page = BuildPage::extend(state.index);
            assert_eq!(
                page.block(),
                first + i as u32,
                "hnsw build: extent out of step"
            );
            for (k, item) in items.iter().enumerate() {
                assert_eq!(
                    page.add_item(item),
                    Some(k as u16 + 1),
                    "hnsw build: items do not fit"
                );
            }
        }
        if n.is_multiple_of(64) {
            pgrx::check_for_interrupts!();
        }
    }
    free_places
}

/// `ambuildempty`: the init fork of an unlogged index, a meta page only.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let p = IndexParams::of(index);
    let meta = Meta::new_with_storage(
        p.dims as u32,
        p.m as u32,
        p.ef_construction as u32,
        p.metric.code(),
        p.storage,
    );
    // SAFETY: a fresh init-fork buffer, formatted under an exclusive lock
    // and WAL-logged as a full page (init forks are always logged).
    unsafe {
        let buf = pg_sys::ReadBufferExtended(
            index,
            pg_sys::ForkNumber::INIT_FORKNUM,
            pg_sys::InvalidBlockNumber,
            pg_sys::ReadBufferMode::RBM_NORMAL,
            core::ptr::null_mut(),
        );
        pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
        let page = pg_sys::BufferGetPage(buf);
        pg_sys::PageInit(page, pg_sys::BLCKSZ as usize, pageformat::SPECIAL);
        super::pages::set_contents(page, &meta.to_bytes());
        pg_sys::MarkBufferDirty(buf);
        pg_sys::log_newpage_buffer(buf, true);
        pg_sys::UnlockReleaseBuffer(buf);
    }
}
