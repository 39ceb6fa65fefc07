//! `ambuild` and `ambuildempty`.
//!
//! Design note. Pass 1 reads the table and keeps a seeded reservoir
//! sample (`ivf::Reservoir`): 50 rows a list, at least 10,000, as many as
//! fit `maintenance_work_mem` beside k-means' own memory. k-means
//! (`ivf::train`: k-means++ then Lloyd) runs on the build's rayon pool
//! while the main thread waits, answering interrupts: on an ERROR a drop
//! guard raises the cancel flag and the threads stop within a chunk of
//! work; they own their data and never touch Postgres. The meta page, the
//! centres and an empty directory are written next. Pass 2 reads the
//! table again and gives every row its nearest centre, in batches on the
//! pool; the rows are held by list within `maintenance_work_mem` and
//! written out list by list whenever that is full and at the end (each
//! write puts its pages in front of the list's chain: see
//! `ivf::layout`). Last the directory is rewritten with the lists' heads.
//!
//! WAL policy: pages are written without per-page WAL and, for a
//! permanent index, logged once at the end (`log_newpage_range`).

use super::pages::{BuildPage, PageImage};
use super::params::{assignment, spherical, IndexParams};
use crate::error::raise;
use crate::pg::am::{build_threads, heap_tid, progress, progress_all};
use crate::threads::{self, Purpose};
use ivf::layout::{f32_bytes, Meta, RecordLayout, NEXT_AT, STREAM_BYTES};
use pageformat::HeapTid;
use pgrx::{pg_sys, PgMemoryContexts, PgSqlErrorCode};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// What the heap-scan callbacks share.
struct BuildState {
    index: pg_sys::Relation,
    params: IndexParams,
    key: &'static crate::opclass::KeyType,
    tmp: PgMemoryContexts,
    /// Pass 1: the sample.
    sample: Option<ivf::Reservoir>,
    /// Pass 2: the centres, rows waiting for their list, rows by list.
    centres: Arc<Vec<f32>>,
    batch: Vec<(HeapTid, Vec<f32>)>,
    held: Vec<(u32, HeapTid, Vec<f32>)>,
    held_bytes: u64,
    /// Each list's head block so far (0: empty).
    heads: Vec<u32>,
    layout: RecordLayout,
    pool: Option<Arc<rayon::ThreadPool>>,
    rows: f64,
    /// Rows given their list so far (progress).
    assigned: i64,
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

/// Pass 1's callback: offers the row to the sample.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn sample_callback(
    _index: pg_sys::Relation,
    _tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: `state` is the BuildState passed to table_index_build_scan;
    // values/isnull have one entry for our single key column.
    let (state, datum, null) = unsafe { (&mut *(state as *mut BuildState), *values, *isnull) };
    if null {
        return;
    }
    with_row(state, datum, |state, v| {
        if indexable(&state.params, v) {
            state.rows += 1.0;
            state.sample.as_mut().expect("pass 1").offer(v);
        }
    });
    pgrx::check_for_interrupts!();
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
    // SAFETY: as in `sample_callback`; the TID is valid.
    let (state, datum, null, tid) = unsafe {
        (
            &mut *(state as *mut BuildState),
            *values,
            *isnull,
            heap_tid(&*tid),
        )
    };
    if null {
        return;
    }
    with_row(state, datum, |state, v| {
        if indexable(&state.params, v) {
            state.batch.push((tid, v.to_vec()));
        }
    });
    if state.batch.len() >= BATCH {
        assign_batch(state);
    }
    pgrx::check_for_interrupts!();
}

/// Gives the queued rows their lists (on the pool) and holds them; writes
/// the held rows out when they pass `maintenance_work_mem`.
fn assign_batch(state: &mut BuildState) {
    if state.batch.is_empty() {
        return;
    }
    let batch = std::mem::take(&mut state.batch);
    let (dims, how) = (state.params.dims, assignment(state.params.metric));
    let centres = &state.centres;
    let pool = state.pool.as_ref().expect("pool started");
    // The main thread waits here; the threads only read Rust memory.
    let lists: Vec<u32> = pool.install(|| {
        use rayon::prelude::*;
        batch
            .par_iter()
            .map(|(_, v)| ivf::nearest_centre(centres, dims, v, how).0 as u32)
            .collect()
    });
    let lists_len = lists.len();
    for ((tid, v), list) in batch.into_iter().zip(lists) {
        state.held_bytes += (v.len() * 4 + 48) as u64;
        state.held.push((list, tid, v));
    }
    state.assigned += lists_len as i64;
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, state.assigned);
    if state.held_bytes + state.centres.len() as u64 * 4 > memory_limit() {
        write_held(state);
    }
}

/// Writes the held rows list by list, each list's new pages in front of
/// its chain.
fn write_held(state: &mut BuildState) {
    let mut held = std::mem::take(&mut state.held);
    state.held_bytes = 0;
    held.sort_by_key(|(list, tid, _)| (*list, tid.block, tid.offset));
    let layout = state.layout;
    let mut i = 0;
    while i < held.len() {
        let list = held[i].0;
        let mut page: Option<BuildPage> = None;
        while i < held.len() && held[i].0 == list {
            let (_, tid, v) = &held[i];
            // New pages go in front of the chain: a record in pieces is
            // written last piece first, so the chain reads piece 0 first.
            for item in layout
                .encode(*tid, &layout.element.encode(v))
                .into_iter()
                .rev()
            {
                let fits =
                    !layout.spans() && page.as_mut().is_some_and(|p| p.add_item(&item).is_some());
                if !fits {
                    let mut p = BuildPage::extend(state.index);
                    p.set_special_u32(NEXT_AT, state.heads[list as usize]);
                    state.heads[list as usize] = p.block();
                    p.add_item(&item)
                        .expect("an empty page takes one record item");
                    page = Some(p);
                }
            }
            state.indexed += 1.0;
            i += 1;
            if i % 1024 == 0 {
                pgrx::check_for_interrupts!();
            }
        }
    }
}

/// Trains the centres on the sample, on the pool, answering interrupts
/// while it waits (see the module note).
fn train(state: &BuildState, sample: Vec<f32>) -> Vec<f32> {
    /// Raises the cancel flag when dropped (also when an ERROR unwinds).
    struct CancelOnDrop(Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let p = &state.params;
    let params = ivf::Params {
        k: p.lists,
        iterations: ITERATIONS,
        seed: SEED,
        spherical: spherical(p.metric),
        assignment: assignment(p.metric),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancel.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let dims = p.dims;
    state.pool.as_ref().expect("pool started").spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ivf::train(&sample, dims, &params, &cancel)
        }));
        let _ = tx.send(result);
    });
    let result = loop {
        match rx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(r) => break r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                pgrx::check_for_interrupts!();
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "k-means thread vanished",
                None,
            ),
        }
    };
    drop(guard);
    match result {
        Ok(Ok(centres)) => centres,
        Ok(Err(ivf::Cancelled)) => {
            pgrx::check_for_interrupts!();
            raise(
                PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                "k-means was cancelled",
                None,
            )
        }
        Err(_) => raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "k-means failed",
            None,
        ),
    }
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
        Some(h) => h.iter().flat_map(|b| b.to_le_bytes()).collect(),
        None => vec![0; meta.lists as usize * 4],
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

/// `ambuild`: samples, trains the centres, assigns and writes every row.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambuild(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    let params = IndexParams::of(index);
    let (lists, dims) = (params.lists, params.dims);
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
        centres: Arc::new(Vec::new()),
        batch: Vec::new(),
        held: Vec::new(),
        held_bytes: 0,
        heads: vec![0; lists],
        layout: RecordLayout::new(dims, params.element),
        pool: Some(threads::pool(Purpose::IndexBuild, build_threads(heap))),
        rows: 0.0,
        assigned: 0,
        indexed: 0.0,
    };
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
    let started = std::time::Instant::now();
    // SAFETY: standard heap scan with our callback and state pointer.
    unsafe {
        pg_sys::table_index_build_scan(
            heap,
            index,
            index_info,
            true,
            true,
            Some(sample_callback),
            (&mut state as *mut BuildState).cast(),
            core::ptr::null_mut(),
        )
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
        "ivfflat build: sampled in {sampled:.2} s, k-means in {:.2} s",
        started.elapsed().as_secs_f64() - sampled
    );

    let mut meta = Meta::new(
        dims as u32,
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
    // SAFETY: standard heap scan with our callback and state pointer.
    let reltuples = unsafe {
        pg_sys::table_index_build_scan(
            heap,
            index,
            index_info,
            true,
            true,
            Some(assign_callback),
            (&mut state as *mut BuildState).cast(),
            core::ptr::null_mut(),
        )
    };
    assign_batch(&mut state);
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_LOAD);
    write_held(&mut state);

    meta.built_rows = state.indexed as u64;
    {
        let mut page = BuildPage::rewrite(index, ivf::layout::META_BLOCK);
        page.set_contents(&meta.to_bytes());
    }
    let heads: Vec<u8> = state.heads.iter().flat_map(|b| b.to_le_bytes()).collect();
    for (i, chunk) in heads.chunks(STREAM_BYTES).enumerate() {
        let mut page = BuildPage::rewrite(index, meta.dir_start + i as u32);
        page.set_contents(chunk);
    }
    crate::pg::buffer::log_all_pages(index);
    pgrx::debug1!(
        "ivfflat build: {} rows in {:.2} s",
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
    let centres = vec![0f32; p.lists * p.dims];
    crate::pg::buffer::write_init_fork(index, &head_images(&meta, &centres, None));
}
