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

/// Unpacks the arguments of a `table_index_build_scan` callback of a
/// one-key index: the callback's state, and the row's heap TID and key
/// unless the key is NULL.
///
/// # Safety
/// `state` points to the `S` the scan was started with, and no other
/// reference to it is live while the callback runs; `values` and `isnull`
/// have an entry for the key column; `tid` points to a valid TID.
pub unsafe fn build_scan_row<'a, S>(
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    state: *mut core::ffi::c_void,
) -> (&'a mut S, Option<(HeapTid, pg_sys::Datum)>) {
    // SAFETY: the caller promises that `state` points to a live `S` that
    // nothing else references during the callback (so the `&mut` is
    // unique) and that `isnull` has the key column's entry.
    let (state, null) = unsafe { (&mut *(state as *mut S), *isnull) };
    if null {
        return (state, None);
    }
    // SAFETY: the caller promises a valid `tid` and a `values` entry for
    // the key column, which holds a datum since the key is not NULL.
    let row = unsafe { (heap_tid(&*tid), *values) };
    (state, Some(row))
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

/// The callbacks of one of the extension's index access methods; the rest
/// of its `IndexAmRoutine` is the same for all of them ([`index_routine`]).
pub struct Callbacks {
    /// `ambuild`.
    pub build: pg_sys::ambuild_function,
    /// `ambuildempty`.
    pub buildempty: pg_sys::ambuildempty_function,
    /// `aminsert`.
    pub insert: pg_sys::aminsert_function,
    /// `ambulkdelete`.
    pub bulkdelete: pg_sys::ambulkdelete_function,
    /// `amvacuumcleanup`.
    pub vacuumcleanup: pg_sys::amvacuumcleanup_function,
    /// `amcostestimate`.
    pub costestimate: pg_sys::amcostestimate_function,
    /// `amoptions`.
    pub options: pg_sys::amoptions_function,
    /// `ambuildphasename`.
    pub buildphasename: pg_sys::ambuildphasename_function,
    /// `ambeginscan`.
    pub beginscan: pg_sys::ambeginscan_function,
    /// `amrescan`.
    pub rescan: pg_sys::amrescan_function,
    /// `amgettuple`.
    pub gettuple: pg_sys::amgettuple_function,
    /// `amendscan`.
    pub endscan: pg_sys::amendscan_function,
}

/// The `IndexAmRoutine` of an index that orders by a distance operator
/// (hnsw, ivfflat): one key column, no strategies, ORDER BY only, no
/// bitmap, backward, unique, parallel or index-only scans; support
/// functions as `crate::opclass` numbers them.
pub fn index_routine(cb: Callbacks) -> pgrx::PgBox<pg_sys::IndexAmRoutine> {
    // SAFETY: a zeroed node of the right tag (every flag false, every
    // callback absent), filled below.
    let mut am = unsafe {
        pgrx::PgBox::<pg_sys::IndexAmRoutine>::alloc_node(pg_sys::NodeTag::T_IndexAmRoutine)
    };
    am.amstrategies = 0;
    am.amsupport = crate::opclass::SUPPORT_PROCS;
    am.amcanorderbyop = true;
    am.amoptionalkey = true;
    am.amkeytype = pg_sys::InvalidOid;
    am.ambuild = cb.build;
    am.ambuildempty = cb.buildempty;
    am.aminsert = cb.insert;
    am.ambulkdelete = cb.bulkdelete;
    am.amvacuumcleanup = cb.vacuumcleanup;
    am.amcostestimate = cb.costestimate;
    am.amoptions = cb.options;
    am.ambuildphasename = cb.buildphasename;
    am.amvalidate = Some(amvalidate);
    am.ambeginscan = cb.beginscan;
    am.amrescan = cb.rescan;
    am.amgettuple = cb.gettuple;
    am.amendscan = cb.endscan;
    am.into_pg_boxed()
}

/// `amvalidate`: the operator classes are the extension script's own.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn amvalidate(_opclass: pg_sys::Oid) -> bool {
    true
}

/// The body of `aminsert` for a one-column index: for a non-NULL key,
/// `insert(tid, values)` with the key read by its operator class (inside a
/// short-lived memory context named `context`, which takes the detoasted
/// copy). Returns false, as `aminsert` does for non-unique indexes.
///
/// # Safety
/// The arguments are `aminsert`'s: `values` and `isnull` have one entry,
/// `heap_tid` is valid.
pub unsafe fn insert_key(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    heap_tid_ptr: pg_sys::ItemPointer,
    context: &str,
    mut insert: impl FnMut(HeapTid, &[f32]),
) -> bool {
    // SAFETY: one key column: values/isnull have one entry, the TID is valid.
    let (datum, null, tid) = unsafe { (*values, *isnull, heap_tid(&*heap_tid_ptr)) };
    if null {
        return false;
    }
    let read = crate::opclass::key_type_of(index).read;
    // SAFETY: a short-lived context of our own for the detoasted copy (freed
    // on drop); the datum is a non-null value of the operator class's type.
    unsafe {
        pgrx::PgMemoryContexts::new(context).switch_to(|_| read(datum, &mut |v| insert(tid, v)));
    }
    false
}

/// The indexed column's dimensions and the operator class of `index`,
/// with pgvector's errors for a column without dimensions or wider than
/// `limit` (16,000 for float copies, 64,000 for packed bits, any for sparse
/// copies) or its key type takes (`am` names the access method in them).
pub fn key_dims_up_to(
    index: pg_sys::Relation,
    am: &str,
    limit: usize,
) -> (&'static crate::opclass::Opclass, usize) {
    use crate::error::raise;
    use pgrx::PgSqlErrorCode;
    // The class first: it refuses a type it cannot index (varbit) before
    // its dimensions are looked at.
    let class = crate::opclass::of(index);
    // SAFETY: an index relation has a tuple descriptor with one attribute here.
    let typmod = unsafe { (*crate::pgver::tuple_desc_attr((*index).rd_att, 0)).atttypmod };
    if typmod < 1 {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "column does not have dimensions",
            None,
        );
    }
    let max = class.key.max_dims.min(limit);
    if typmod as usize > max {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("column cannot have more than {max} dimensions for {am} index"),
            None,
        );
    }
    (class, typmod as usize)
}

/// A new index scan descriptor (as `ambeginscan` makes it) whose ORDER BY
/// value and null arrays are allocated (`norderbys` entries, at least one)
/// and start as nulls.
///
/// # Safety
/// Called from `ambeginscan` with its arguments, in the scan's memory
/// context.
pub unsafe fn new_scan(
    index: pg_sys::Relation,
    nkeys: core::ffi::c_int,
    norderbys: core::ffi::c_int,
) -> pg_sys::IndexScanDesc {
    // SAFETY: the standard scan descriptor; the order-by arrays are ours to
    // allocate, sized for `norderbys`.
    unsafe {
        let scan = pg_sys::RelationGetIndexScan(index, nkeys, norderbys);
        let n = norderbys.max(1) as usize;
        (*scan).xs_orderbyvals =
            pg_sys::palloc0(n * core::mem::size_of::<pg_sys::Datum>()) as *mut pg_sys::Datum;
        (*scan).xs_orderbynulls = pg_sys::palloc(n * core::mem::size_of::<bool>()) as *mut bool;
        core::ptr::write_bytes((*scan).xs_orderbynulls, 1, n);
        scan
    }
}

/// The start of every `amcostestimate` here: the indexes only serve
/// `ORDER BY <op>`, so a path without ORDER BY operators costs infinity
/// (outputs filled, true returned); otherwise only `correlation` is set (0:
/// index order says nothing of heap order) and false is returned.
///
/// # Safety
/// The planner's valid pointers, as `amcostestimate` receives them.
pub unsafe fn no_order_by(
    path: *mut pg_sys::IndexPath,
    startup: *mut pg_sys::Cost,
    total: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) -> bool {
    // SAFETY: the caller passes the planner's valid pointers.
    unsafe {
        *correlation = 0.0;
        if !(*path).indexorderbys.is_null() {
            return false;
        }
        *startup = f64::INFINITY;
        *total = f64::INFINITY;
        *selectivity = 0.0;
        *pages = 0.0;
    }
    true
}

/// The string reloption of `index` stored `offset(options)` bytes from the
/// start of its parsed options (`rd_options`, a struct `build_reloptions`
/// made); None where the index has no options or the option is unset
/// (offset 0).
///
/// # Safety
/// `rd_options` of `index` is null or a `T` built by the access method's
/// `amoptions`, and `offset` reads that struct's offset field of the option.
pub unsafe fn string_reloption<T>(
    index: pg_sys::Relation,
    offset: impl Fn(&T) -> i32,
) -> Option<String> {
    // SAFETY: forwarded from the caller: a string option's bytes lie
    // `offset` bytes from the struct's start, NUL-terminated.
    unsafe {
        let opts = (*index).rd_options as *const T;
        let at = offset(opts.as_ref()?);
        if at <= 0 {
            return None;
        }
        let text = (opts as *const core::ffi::c_char).add(at as usize);
        Some(
            core::ffi::CStr::from_ptr(text)
                .to_string_lossy()
                .into_owned(),
        )
    }
}
