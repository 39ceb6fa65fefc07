//! Small pieces every index access method's callbacks share: heap TIDs,
//! CREATE INDEX progress, build threads, vacuum statistics.

use crate::threads;
use pageformat::HeapTid;
use pgrx::pg_sys;

/// The project's heap TID from Postgres' ItemPointerData.
pub fn heap_tid(tid: &pg_sys::ItemPointerData) -> HeapTid {
    HeapTid {
        block: (tid.ip_blkid.bi_hi as u32) << 16 | tid.ip_blkid.bi_lo as u32,
        offset: tid.ip_posid,
    }
}

/// Postgres' ItemPointerData of a heap TID.
pub fn item_pointer(tid: HeapTid) -> pg_sys::ItemPointerData {
    let mut t = pg_sys::ItemPointerData::default();
    t.ip_blkid.bi_hi = (tid.block >> 16) as u16;
    t.ip_blkid.bi_lo = tid.block as u16;
    t.ip_posid = tid.offset;
    t
}

/// Reports a progress value of CREATE INDEX.
pub fn progress(param: u32, value: i64) {
    // SAFETY: plain call on the main thread during a build.
    unsafe { pg_sys::pgstat_progress_update_param(param as i32, value) };
}

/// Reports several progress values at once: a watching session sees all
/// of them change together (a new phase with its own counters).
pub fn progress_all(params: &[(u32, i64)]) {
    let index: Vec<i32> = params.iter().map(|&(p, _)| p as i32).collect();
    let values: Vec<i64> = params.iter().map(|&(_, v)| v).collect();
    // SAFETY: two arrays of the same length, read by the call only.
    unsafe {
        pg_sys::pgstat_progress_update_multi_param(
            params.len() as i32,
            index.as_ptr(),
            values.as_ptr(),
        )
    };
}

/// Threads an index build computes on: the leader and as many workers as
/// a parallel build may have (`max_parallel_maintenance_workers`, or the
/// table's `parallel_workers` when set, as Postgres' own rule), at most
/// one per core. Not Postgres' heap-size rule (`plan_create_index_workers`
/// plans no worker below `min_parallel_table_scan_size`): the threads'
/// work grows with rows x dimensions, and a table of TOASTed 2,048-d
/// vectors has a main heap of a few hundred kB.
pub fn build_threads(heap: pg_sys::Relation) -> usize {
    // SAFETY: plain reads of a GUC and of the open table's parsed options
    // (StdRdOptions for every table kind an index can be built on).
    let workers = unsafe {
        let max = pg_sys::max_parallel_maintenance_workers;
        let options = (*heap).rd_options as *const pg_sys::StdRdOptions;
        match options.as_ref().map(|o| o.parallel_workers) {
            Some(n) if n >= 0 => n.min(max),
            _ => max,
        }
    };
    (1 + workers.max(0) as usize).min(threads::cores())
}

/// Whether the executor may read heap row `tid` of `heap` (of
/// `heap_blocks` blocks when last counted; counted again when `tid` is
/// past that): a valid offset on a block the table has. A block past the
/// table's end would make it fail with a file error (or, for
/// `InvalidBlockNumber`, extend the table).
pub fn heap_tid_ok(
    heap: pg_sys::Relation,
    heap_blocks: &std::cell::Cell<u32>,
    tid: HeapTid,
) -> bool {
    if !tid.is_valid() {
        return false;
    }
    if heap.is_null() || tid.block < heap_blocks.get() {
        return true;
    }
    // SAFETY: the scan's table is open while the scan runs.
    let n =
        unsafe { pg_sys::RelationGetNumberOfBlocksInFork(heap, pg_sys::ForkNumber::MAIN_FORKNUM) };
    heap_blocks.set(n);
    tid.block < n
}

/// Number of blocks of the index.
pub fn nblocks(index: pg_sys::Relation) -> u32 {
    // SAFETY: the index is open.
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// A zeroed stats struct when vacuum passed none.
pub fn stats_or_new(
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: palloc0 of a plain C struct.
        unsafe { pg_sys::palloc0(core::mem::size_of::<pg_sys::IndexBulkDeleteResult>()) as *mut _ }
    } else {
        stats
    }
}

/// Whether vacuum's callback says heap row `tid` is dead (the callback is
/// called through pgrx's FFI guard: an ERROR inside becomes a Rust panic).
pub fn is_dead(
    callback: unsafe extern "C-unwind" fn(pg_sys::ItemPointer, *mut core::ffi::c_void) -> bool,
    state: *mut core::ffi::c_void,
    tid: HeapTid,
) -> bool {
    let mut t = item_pointer(tid);
    // SAFETY: vacuum's callback with its own state and a valid TID.
    unsafe { pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| callback(&mut t, state)) }
}
