//! `ambuild` and `ambuildempty`.
//!
//! Design note. Pass 1 reads the table (with parallel workers where they
//! are granted, `crate::pg::parallel_scan`) and keeps a seeded sample
//! keyed by heap TID, so the same whatever order rows come in
//! (`ivf::Reservoir`): 256 rows a list up to 10,000, 50 a list
//! past that (`ivf::layout::sample_rows`), as many as
//! fit `maintenance_work_mem` beside k-means' own memory. k-means
//! (`ivf::train`: k-means++ then Lloyd) runs on the build's rayon pool
//! while the main thread waits, answering interrupts: on an ERROR a drop
//! guard raises the cancel flag and the threads stop within a chunk of
//! work; they own their data and never touch Postgres. The meta page, the
//! centres and an empty directory are written next. Then every row gets
//! its nearest centre on the pool: the rows pass 1 kept, when all of them
//! fit half of what `maintenance_work_mem` leaves beside the sample and
//! k-means, or else those of pass 2, which reads the table again, in
//! batches. The same pass on the pool encodes each row's stored copy while
//! the row is in the thread's cache; the floats are dropped then. The
//! copies are held with their lists within
//! `maintenance_work_mem` and written out list by list whenever that is
//! full and at the end (each write puts its pages in front of the list's
//! chain: see `ivf::layout`). Last the directory is rewritten with the
//! lists' heads.
//!
//! WAL policy: the meta, centre and directory pages go through shared
//! buffers and, for a permanent index, are logged at the end
//! (`log_newpage_range`); the list pages are written past shared buffers
//! (`crate::pg::bulk_write`, as Postgres' btree build), logged 32 pages a
//! record as they are written, and the fork is fsynced before the meta
//! page and directory are rewritten.

use super::pages::{BuildPage, Ivfflat, PageImage};
use super::params::{assignment, spherical, IndexParams};
use crate::error::raise;
use crate::pg::am::{build_scan_row, build_threads, progress, progress_all};
use crate::pg::bulk_write::BulkWriter;
use crate::pg::parallel_scan;
use crate::threads::{self, Purpose};
use ivf::layout::{f32_bytes, Meta, RecordLayout, NEXT_AT, STREAM_BYTES};
use pageformat::HeapTid;
use pgrx::{pg_sys, PgMemoryContexts, PgSqlErrorCode};
use std::sync::Arc;

/// Subphase numbers shown in pg_stat_progress_create_index (pgvector's).
const PHASE_KMEANS: i64 = 2;
const PHASE_ASSIGN: i64 = 3;
const PHASE_LOAD: i64 = 4;
/// Seed of the sample and of k-means: builds are reproducible.
const SEED: u64 = 0x1f7f_1a75_eed5;
/// Lloyd iterations after the seeding (fewer when no row moves).
const ITERATIONS: usize = 20;
/// Rows given their list together on the pool.
const BATCH: usize = 4096;

/// `ambuildphasename`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuildphasename(phase: i64) -> *mut core::ffi::c_char {
    let name: &core::ffi::CStr = match phase {
        0 => c"initializing",
        PHASE_KMEANS => c"performing k-means",
        PHASE_ASSIGN => c"assigning tuples",
        PHASE_LOAD => c"loading tuples",
        _ => return core::ptr::null_mut(),
    };
    name.as_ptr() as *mut _
}

/// Raises pgvector's error for a build that needs more memory than
/// `maintenance_work_mem` (`needed` bytes).
fn raise_memory(needed: u64) -> ! {
    // SAFETY: reading a GUC variable on the main thread.
    let mwm = unsafe { pg_sys::maintenance_work_mem };
    raise(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!(
            "memory required is {} MB, maintenance_work_mem is {} MB",
            needed / (1024 * 1024) + 1,
            mwm / 1024
        ),
        None,
    )
}

/// Bytes of `maintenance_work_mem`.
fn memory_limit() -> u64 {
    // SAFETY: reading a GUC variable on the main thread.
    unsafe { pg_sys::maintenance_work_mem as u64 * 1024 }
}

/// Rows held in memory: heap TIDs and vectors (flat), or once assigned
/// their lists and stored copies (`RecordLayout::vector_bytes` each).
#[derive(Default)]
struct Rows {
    tids: Vec<HeapTid>,
    values: Vec<f32>,
    lists: Vec<u32>,
    encoded: Vec<u8>,
}

impl Rows {
    /// Bytes held (capacity ignored: the vectors grow by doubling, a
    /// constant factor the budgets below leave room for).
    fn bytes(&self) -> u64 {
        (self.tids.len() * 8 + self.values.len() * 4 + self.lists.len() * 4 + self.encoded.len())
            as u64
    }

    /// Room for `rows` rows of `dims` floats, so that keeping a large
    /// table does not copy (and fault in) its rows again at every doubling.
    fn reserve(&mut self, rows: usize, dims: usize) {
        self.tids.reserve(rows);
        self.values.reserve(rows * dims);
    }

    /// Adds one row (not yet assigned).
    fn push(&mut self, tid: HeapTid, v: &[f32]) {
        self.tids.push(tid);
        self.values.extend_from_slice(v);
    }
}

/// What the heap-scan callbacks share.
struct BuildState {
    index: pg_sys::Relation,
    params: IndexParams,
    key: &'static crate::opclass::KeyType,
    tmp: PgMemoryContexts,
    /// Pass 1: the sample.
    sample: Option<ivf::Reservoir>,
    /// Pass 1: every row, while they fit `keep_budget` (then no pass 2).
    kept: Option<Rows>,
    keep_budget: u64,
    /// The centres.
    centres: Arc<Vec<f32>>,
    /// Pass 2: rows waiting for their list.
    batch: Rows,
    /// Rows with their lists, written out when they fill the memory.
    held: Rows,
    /// Each list's head block so far (0: empty).
    heads: Vec<u32>,
    layout: RecordLayout,
    pool: Option<Arc<rayon::ThreadPool>>,
    rows: f64,
    /// Rows given their list so far (progress).
    assigned: i64,
    /// A row in memory form (`Element::prepare`), reused.
    prepared: Vec<f32>,
    /// Writes the list pages (after the pages written through buffers).
    writer: Option<BulkWriter<Ivfflat>>,
    indexed: f64,
}

/// Reads a heap row's vector into `f` through the temporary context.
fn with_row(state: &mut BuildState, datum: pg_sys::Datum, f: impl FnOnce(&mut BuildState, &[f32])) {
    let mut tmp = std::mem::replace(&mut state.tmp, PgMemoryContexts::CurrentMemoryContext);
    let read = state.key.read;
    let mut f = Some(f);
    // SAFETY: the temporary context is ours and reset after every row; the
    // datum is a non-null value of the operator class's type.
    unsafe {
        tmp.switch_to(|_| {
            read(datum, &mut |v| {
                if let Some(f) = f.take() {
                    f(state, v)
                }
            })
        });
        tmp.reset();
    }
    state.tmp = tmp;
}

/// Whether a row is indexed: a zero vector has no direction under cosine
/// (not indexed, as in pgvector). Checks its dimensions.
fn indexable(params: &IndexParams, v: &[f32]) -> bool {
    vectorcore::check::expected_dim(params.dims as i32, v.len())
        .unwrap_or_else(|e| crate::error::raise_vector(e));
    !(params.metric == graph::Metric::Cosine && distance::norm(v) == 0.0)
}

/// Pass 1's callback: offers the row to the sample, and keeps it while
/// every row fits.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn sample_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: `state` is the BuildState passed to table_index_build_scan;
    // values/isnull have one entry for our single key column; the TID is valid.
    let (state, row) = unsafe { build_scan_row::<BuildState>(tid, values, isnull, state) };
    let Some((tid, datum)) = row else {
        return;
    };
    with_row(state, datum, |state, v| sample_row(state, tid, v));
    pgrx::check_for_interrupts!();
}

/// Pass 1 for one row: offers it to the sample, and keeps it while every
/// row fits.
fn sample_row(state: &mut BuildState, tid: HeapTid, v: &[f32]) {
    if indexable(&state.params, v) {
        state.rows += 1.0;
        let mut prepared = std::mem::take(&mut state.prepared);
        let v = state.params.element.prepare(v, &mut prepared);
        let id = (tid.block as u64) << 16 | tid.offset as u64;
        state.sample.as_mut().expect("pass 1").offer(id, v);
        if let Some(kept) = &mut state.kept {
            kept.push(tid, v);
            if kept.bytes() > state.keep_budget {
                state.kept = None; // too many: a second pass reads them
            }
        }
        state.prepared = prepared;
    }
}

/// Pass 2's callback: queues the row for its list.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn assign_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: as in `sample_callback`.
    let (state, row) = unsafe { build_scan_row::<BuildState>(tid, values, isnull, state) };
    let Some((tid, datum)) = row else {
        return;
    };
    with_row(state, datum, |state, v| {
        if indexable(&state.params, v) {
            let mut prepared = std::mem::take(&mut state.prepared);
            state
                .batch
                .push(tid, state.params.element.prepare(v, &mut prepared));
            state.prepared = prepared;
        }
    });
    if state.batch.tids.len() >= BATCH {
        assign_batch(state);
    }
    pgrx::check_for_interrupts!();
}

/// Gives the rows in `rows.values` (none assigned yet) their nearest
/// centre's list and their stored copies, on the pool (the main thread
/// waits; the threads only read Rust memory), and drops the floats.
fn assign(state: &BuildState, rows: &mut Rows) {
    let p = &state.params;
    let (dims, how) = (p.width, assignment(p.metric, p.element));
    let (element, size) = (state.layout.element, state.layout.vector_bytes);
    let centres = &state.centres;
    // Under L2 most centres are ruled out without measuring them (the
    // same answers, `ivf::PrunedNearest`).
    let pruned = ivf::PrunedNearest::new(centres, dims, how);
    let values = std::mem::take(&mut rows.values);
    let n = values.len() / dims.max(1);
    let mut lists = vec![0u32; n];
    let mut encoded = vec![0u8; n * size];
    state.pool.as_ref().expect("pool started").install(|| {
        use rayon::prelude::*;
        values
            .par_chunks(dims)
            .zip(lists.par_iter_mut())
            .zip(encoded.par_chunks_mut(size))
            .for_each_init(Vec::new, |tmp, ((v, list), dst)| {
                *list = match &pruned {
                    Some(p) => p.nearest(v).0 as u32,
                    None => ivf::nearest_centre(centres, dims, v, how).0 as u32,
                };
                element.encode_into(v, tmp);
                dst.copy_from_slice(tmp);
            })
    });
    debug_assert!(rows.lists.is_empty() && rows.encoded.is_empty());
    rows.lists = lists;
    rows.encoded = encoded;
}

/// Gives the queued rows their lists and holds them; writes the held rows
/// out when they pass `maintenance_work_mem`.
fn assign_batch(state: &mut BuildState) {
    if state.batch.tids.is_empty() {
        return;
    }
    let mut batch = std::mem::take(&mut state.batch);
    assign(state, &mut batch);
    state.assigned += batch.lists.len() as i64;
    state.held.tids.extend_from_slice(&batch.tids);
    state.held.lists.extend_from_slice(&batch.lists);
    state.held.encoded.extend_from_slice(&batch.encoded);
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, state.assigned);
    if state.held.bytes() + state.centres.len() as u64 * 4 > memory_limit() {
        write_held(state);
    }
}

/// Writes the held rows list by list, each list's new pages in front of
/// its chain.
fn write_held(state: &mut BuildState) {
    let held = std::mem::take(&mut state.held);
    let mut order: Vec<u32> = (0..held.tids.len() as u32).collect();
    order.sort_by_key(|&i| {
        let (list, tid) = (held.lists[i as usize], held.tids[i as usize]);
        (list, tid.block, tid.offset)
    });
    let layout = state.layout;
    let mut item = Vec::new();
    let index = state.index;
    let mut writer = state
        .writer
        .take()
        .unwrap_or_else(|| BulkWriter::new(index));
    // The page being filled; it is the writer's next block, queued once
    // full (or its list ends), before the next page is begun.
    let mut page: Option<PageImage> = None;
    let mut page_list = u32::MAX;
    for (n, &i) in order.iter().enumerate() {
        let at = i as usize * layout.vector_bytes;
        let bytes = &held.encoded[at..at + layout.vector_bytes];
        let (list, tid) = (held.lists[i as usize], held.tids[i as usize]);
        if list != page_list {
            if let Some(p) = page.take() {
                writer.push(p);
            }
            page_list = list;
        }
        // New pages go in front of the chain: a record in pieces is
        // written last piece first, so the chain reads piece 0 first.
        for piece in (0..layout.pieces).rev() {
            layout.piece_into(tid, piece, bytes, &mut item);
            let fits =
                !layout.spans() && page.as_mut().is_some_and(|p| p.add_item(&item).is_some());
            if !fits {
                if let Some(p) = page.take() {
                    writer.push(p);
                }
                let mut p = PageImage::new();
                p.set_special_u32(NEXT_AT, state.heads[list as usize]);
                state.heads[list as usize] = writer.next_block();
                p.add_item(&item)
                    .expect("an empty page takes one record item");
                page = Some(p);
            }
        }
        state.indexed += 1.0;
        if n % 1024 == 1023 {
            pgrx::check_for_interrupts!();
        }
    }
    if let Some(p) = page {
        writer.push(p);
    }
    state.writer = Some(writer);
}

/// Trains the centres on the sample, on the pool, answering interrupts
/// while it waits (see the module note).
fn train(state: &BuildState, sample: Vec<f32>) -> Vec<f32> {
    let p = &state.params;
    let params = ivf::Params {
        k: p.lists,
        iterations: ITERATIONS,
        seed: SEED,
        spherical: spherical(p.metric),
        assignment: assignment(p.metric, p.element),
    };
    let pool = state.pool.as_ref().expect("pool started");
    crate::kmeans_on_pool::train(pool, sample, p.width, params)
}

/// The meta page, centre pages and directory pages of a new index, as
/// images (block 0 first); `heads` gives the directory (None: empty).
fn head_images(meta: &Meta, centres: &[f32], heads: Option<&[u32]>) -> Vec<PageImage> {
    let mut images = Vec::new();
    let mut image = PageImage::new();
    image.set_contents(&meta.to_bytes());
    images.push(image);
    let centre_bytes = f32_bytes(centres);
    for i in 0..meta.centre_pages() as usize {
        let mut image = PageImage::new();
        let start = (i * STREAM_BYTES).min(centre_bytes.len());
        image.set_contents(&centre_bytes[start..(start + STREAM_BYTES).min(centre_bytes.len())]);
        images.push(image);
    }
    images.extend(dir_images(meta, heads));
    images
}

/// The directory pages for `heads` (None: every list empty).
fn dir_images(meta: &Meta, heads: Option<&[u32]>) -> Vec<PageImage> {
    let bytes: Vec<u8> = match heads {
        Some(h) => ivf::layout::dir_stream(h),
        None => vec![0; meta.dir_bytes()],
    };
    (0..meta.dir_pages() as usize)
        .map(|i| {
            let mut image = PageImage::new();
            let start = (i * STREAM_BYTES).min(bytes.len());
            image.set_contents(&bytes[start..(start + STREAM_BYTES).min(bytes.len())]);
            image
        })
        .collect()
}

/// A serial heap scan of the build calling `callback` with `state` for
/// every row; the heap tuples counted.
fn heap_scan(
    heap: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    callback: unsafe extern "C-unwind" fn(
        pg_sys::Relation,
        pg_sys::ItemPointer,
        *mut pg_sys::Datum,
        *mut bool,
        bool,
        *mut core::ffi::c_void,
    ),
    state: &mut BuildState,
) -> f64 {
    // SAFETY: standard heap scan with our callback and state pointer.
    unsafe {
        pg_sys::table_index_build_scan(
            heap,
            state.index,
            index_info,
            true,
            true,
            Some(callback),
            (state as *mut BuildState).cast(),
            core::ptr::null_mut(),
        )
    }
}

/// `ambuild`: samples, trains the centres, assigns and writes every row.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuild(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    let params = IndexParams::of(index);
    // In memory a vector takes `width` floats (packed bits fewer than dims).
    let (lists, dims) = (params.lists, params.width);
    let centre_bytes = (lists * dims * 4) as u64;
    if centre_bytes > memory_limit() {
        raise_memory(centre_bytes);
    }
    // When k-means' own memory does not fit, a sample of more rows than
    // lists is refused after pass 1 (one of at most `lists` rows needs none:
    // its rows are the centres, `ivf::quick_centres`).
    let capacity = ivf::layout::sample_rows(lists, dims, spherical(params.metric), memory_limit())
        .unwrap_or(lists + 1);
    let mut state = BuildState {
        index,
        params,
        key: crate::opclass::of(index).key,
        tmp: PgMemoryContexts::new("ivfflat build temporary"),
        sample: Some(ivf::Reservoir::new(dims, capacity, SEED)),
        kept: Some(Rows::default()),
        keep_budget: memory_limit().saturating_sub(
            centre_bytes
                + (capacity * dims * 4) as u64
                + ivf::memory_bytes(capacity, dims, lists, spherical(params.metric)),
        ) / 2,
        centres: Arc::new(Vec::new()),
        batch: Rows::default(),
        held: Rows::default(),
        heads: vec![0; lists],
        layout: RecordLayout::new(params.dims, params.element),
        pool: Some(threads::pool(Purpose::IndexBuild, build_threads(heap))),
        rows: 0.0,
        assigned: 0,
        prepared: Vec::new(),
        writer: None,
        indexed: 0.0,
    };
    // Room for the rows the table is expected to hold, within the budget
    // (pages never touched cost nothing).
    // SAFETY: a plain read of the open table's pg_class row.
    let expected = unsafe { (*(*heap).rd_rel).reltuples };
    if expected > 0.0 {
        let fit = state.keep_budget / (dims as u64 * 4 + 8);
        let rows = (expected as u64).min(fit) as usize;
        if let Some(kept) = state.kept.as_mut() {
            kept.reserve(rows, dims);
        }
    }
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
    let started = std::time::Instant::now();
    // Parallel workers read the table where the planner grants them
    // (`crate::pg::parallel_scan`); the rows come in no fixed order.
    let workers = parallel_scan::planned_workers(heap, index);
    let heap_rows = if workers > 0 {
        let (tuples, launched) =
            parallel_scan::scan(heap, index, index_info, workers, &mut |tid, v| {
                sample_row(&mut state, tid, v)
            });
        pgrx::debug1!("ivfflat build: {launched} parallel workers read the table with the leader");
        tuples
    } else {
        heap_scan(heap, index_info, sample_callback, &mut state)
    };
    let sample = state.sample.take().expect("pass 1");
    if sample.len() < lists {
        pgrx::pg_sys::panic::ErrorReport::new(
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            "ivfflat index created with little data",
            "",
        )
        .set_detail("This will cause low recall.")
        .set_hint("Drop the index until the table has more data.")
        .report(pgrx::PgLogLevel::NOTICE);
    }
    let sampled = started.elapsed().as_secs_f64();
    let rows = sample.len();
    state.centres = Arc::new(if rows <= lists {
        ivf::quick_centres(
            &sample.into_rows(),
            dims,
            lists,
            spherical(params.metric),
            SEED,
        )
    } else {
        let needed = centre_bytes
            + (rows * dims * 4) as u64
            + ivf::memory_bytes(rows, dims, lists, spherical(params.metric));
        if needed > memory_limit() {
            raise_memory(needed);
        }
        train(&state, sample.into_rows())
    });
    pgrx::debug1!(
        "ivfflat build: read and sampled in {sampled:.2} s (all rows kept: {}), k-means in {:.2} s",
        state.kept.is_some(),
        started.elapsed().as_secs_f64() - sampled
    );

    let mut meta = Meta::new(
        params.dims as u32,
        lists as u32,
        params.metric.code(),
        params.element,
    );
    // Meta, centres, empty directory: blocks 0.. in order.
    {
        let mut page = BuildPage::extend(index);
        page.set_contents(&meta.to_bytes());
    }
    let centre_stream = f32_bytes(&state.centres);
    for chunk in centre_stream.chunks(STREAM_BYTES) {
        let mut page = BuildPage::extend(index);
        page.set_contents(chunk);
    }
    for _ in 0..meta.dir_pages() {
        BuildPage::extend(index);
    }

    progress_all(&[
        (pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_ASSIGN),
        (pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL, state.rows as i64),
        (pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, 0),
    ]);
    let reltuples = match state.kept.take() {
        // Every row was kept by pass 1: no second pass.
        Some(mut kept) => {
            assign(&state, &mut kept);
            state.assigned = kept.lists.len() as i64;
            state.held = kept;
            heap_rows
        }
        None => heap_scan(heap, index_info, assign_callback, &mut state),
    };
    assign_batch(&mut state);
    let assigned = started.elapsed().as_secs_f64();
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_LOAD);
    write_held(&mut state);
    let pages_built = started.elapsed().as_secs_f64();
    if let Some(writer) = state.writer.take() {
        writer.finish();
    }

    meta.built_rows = state.indexed as u64;
    {
        let mut page = BuildPage::rewrite(index, ivf::layout::META_BLOCK);
        page.set_contents(&meta.to_bytes());
    }
    let heads = ivf::layout::dir_stream(&state.heads);
    for (i, chunk) in heads.chunks(STREAM_BYTES).enumerate() {
        let mut page = BuildPage::rewrite(index, meta.dir_start + i as u32);
        page.set_contents(chunk);
    }
    let written = started.elapsed().as_secs_f64();
    // The list pages were logged as they were written.
    crate::pg::buffer::log_pages(index, 0, meta.first_list_block());
    pgrx::debug1!(
        "ivfflat build: {} rows in {:.2} s (assigned at {assigned:.2} s, list pages written \
         and logged at {pages_built:.2} s, synced and the directory written at {written:.2} s)",
        state.indexed,
        started.elapsed().as_secs_f64()
    );
    // SAFETY: palloc'd result in the caller's context.
    unsafe {
        let result = pg_sys::palloc0(core::mem::size_of::<pg_sys::IndexBuildResult>())
            as *mut pg_sys::IndexBuildResult;
        (*result).heap_tuples = reltuples;
        (*result).index_tuples = state.indexed;
        result
    }
}

/// `ambuildempty`: the init fork of an unlogged index: its meta page, its
/// centres (all zero: every insert goes to list 0 until a REINDEX) and
/// an empty directory.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let p = IndexParams::of(index);
    let meta = Meta::new(p.dims as u32, p.lists as u32, p.metric.code(), p.element);
    let centres = vec![0f32; p.lists * p.width];
    crate::pg::buffer::write_init_fork(index, &head_images(&meta, &centres, None));
}
