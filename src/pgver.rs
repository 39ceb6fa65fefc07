//! Everything that differs between the PostgreSQL majors pgvision builds
//! for (Cargo features `pg15`, the default, `pg16`, `pg17` and `pg18`).
//!
//! The rest of the tree calls these functions and never tests the server
//! version itself, so supporting another major means editing this file
//! only. Differences handled here, by the release that made them:
//! - 16: `RelFileNode`/`rd_node` became `RelFileLocator`/`rd_locator`
//!   (`spcOid`, `dbOid`, `relNumber`); the pending table statistics lost
//!   their `t_` prefixes (`t_counts.t_numscans` → `counts.numscans`);
//!   `pg_class_ownercheck` became `object_ownercheck(RelationRelationId, ..)`;
//!   `IndexVacuumInfo` gained `heaprel`.
//! - 17: `PGPROC.lxid` moved into `PGPROC.vxid`.
//! - 18: `TupleDescData.attrs` gave way to `compact_attrs` followed by the
//!   attributes (reached through `TupleDescAttr`); `relopt_parse_elt` gained
//!   `isset_offset`; `vacuum_delay_point` gained `is_analyze`.

use pgrx::pg_sys;

/// A relation's physical file (tablespace, database, file number) as a comparable key.
pub type FileKey = (u32, u32, u32);

/// The file key of open relation `rel`.
pub fn file_key(rel: pg_sys::Relation) -> FileKey {
    #[cfg(feature = "pg15")]
    {
        // SAFETY: `rel` is an open relation, so rd_node is valid.
        let node = unsafe { (*rel).rd_node };
        (node.spcNode.into(), node.dbNode.into(), node.relNode.into())
    }
    #[cfg(not(feature = "pg15"))]
    {
        // SAFETY: `rel` is an open relation, so rd_locator is valid.
        let loc = unsafe { (*rel).rd_locator };
        (loc.spcOid.into(), loc.dbOid.into(), loc.relNumber.into())
    }
}

/// Pins `buf` if it still holds block `block` of `rel`'s main fork
/// (`ReadRecentBuffer`); false, changing nothing, otherwise.
///
/// # Safety
/// `rel` is an open relation that does not live in local buffers.
pub unsafe fn read_recent_buffer(
    rel: pg_sys::Relation,
    block: pg_sys::BlockNumber,
    buf: pg_sys::Buffer,
) -> bool {
    #[cfg(feature = "pg15")]
    // SAFETY: the caller's promise; ReadRecentBuffer checks the buffer's tag
    // under its header spinlock and accepts any buffer number.
    unsafe {
        pg_sys::ReadRecentBuffer((*rel).rd_node, pg_sys::ForkNumber::MAIN_FORKNUM, block, buf)
    }
    #[cfg(not(feature = "pg15"))]
    // SAFETY: as above.
    unsafe {
        pg_sys::ReadRecentBuffer(
            (*rel).rd_locator,
            pg_sys::ForkNumber::MAIN_FORKNUM,
            block,
            buf,
        )
    }
}

/// Adds a buffer hit (one block fetched, found in shared buffers) to the
/// pending statistics of `rel`, if it keeps any.
pub fn count_buffer_hit(rel: pg_sys::Relation) {
    // SAFETY: `rel` is an open relation; pgstat_info is null or points to
    // its live pending-statistics entry.
    unsafe {
        let stats = (*rel).pgstat_info;
        if stats.is_null() {
            return;
        }
        #[cfg(feature = "pg15")]
        {
            (*stats).t_counts.t_blocks_fetched += 1;
            (*stats).t_counts.t_blocks_hit += 1;
        }
        #[cfg(not(feature = "pg15"))]
        {
            (*stats).counts.blocks_fetched += 1;
            (*stats).counts.blocks_hit += 1;
        }
    }
}

/// Adds one index scan to the pending statistics of `rel`, if it keeps any
/// (what the `pgstat_count_index_scan` macro does).
pub fn count_index_scan(rel: pg_sys::Relation) {
    // SAFETY: `rel` is an open relation; pgstat_info is null or points to
    // its live pending-statistics entry.
    unsafe {
        let stats = (*rel).pgstat_info;
        if stats.is_null() {
            return;
        }
        #[cfg(feature = "pg15")]
        {
            (*stats).t_counts.t_numscans += 1;
        }
        #[cfg(not(feature = "pg15"))]
        {
            (*stats).counts.numscans += 1;
        }
    }
}

/// Attribute `i` (0-based) of tuple descriptor `desc`.
///
/// # Safety
/// `desc` is a valid tuple descriptor with more than `i` attributes.
pub unsafe fn tuple_desc_attr(
    desc: pg_sys::TupleDesc,
    i: usize,
) -> *mut pg_sys::FormData_pg_attribute {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: the caller's promise; attrs is the descriptor's trailing array.
    unsafe {
        (*desc).attrs.as_mut_ptr().add(i)
    }
    #[cfg(feature = "pg18")]
    // SAFETY: the caller's promise; TupleDescAttr only computes an address.
    unsafe {
        pg_sys::TupleDescAttr(desc, i as core::ffi::c_int)
    }
}

/// One entry of a reloptions parse table: option `name` of type `kind`,
/// stored at byte `offset` of the options struct (no "is set" flag).
pub fn reloption(
    name: &'static core::ffi::CStr,
    kind: pg_sys::relopt_type::Type,
    offset: usize,
) -> pg_sys::relopt_parse_elt {
    pg_sys::relopt_parse_elt {
        optname: name.as_ptr(),
        opttype: kind,
        offset: offset as core::ffi::c_int,
        // Only offsets above zero are used, so 0 means "no flag".
        #[cfg(feature = "pg18")]
        isset_offset: 0,
    }
}

/// Parses `reloptions` into a palloc'd `T` laid out as `table` describes
/// (an access method's `amoptions`), validating them when `validate`.
///
/// # Safety
/// `table` gives offsets of fields of `T` (a `#[repr(C)]` struct starting
/// with a varlena header) of the types it names; `kind` is the reloption
/// kind the options were registered under.
pub unsafe fn build_options<T>(
    reloptions: pg_sys::Datum,
    validate: bool,
    kind: u32,
    table: &[pg_sys::relopt_parse_elt],
) -> *mut pg_sys::bytea {
    // SAFETY: forwarded from the caller; Postgres palloc's the result.
    unsafe {
        pg_sys::build_reloptions(
            reloptions,
            validate,
            kind as _,
            core::mem::size_of::<T>(),
            table.as_ptr(),
            table.len() as core::ffi::c_int,
        ) as *mut pg_sys::bytea
    }
}

/// This backend's local transaction id, or None before its PGPROC is set up.
pub fn local_xid() -> Option<pg_sys::LocalTransactionId> {
    // SAFETY: MyProc is null or this backend's own PGPROC; only this
    // backend writes the word we read.
    unsafe {
        let proc_ = pg_sys::MyProc;
        if proc_.is_null() {
            return None;
        }
        #[cfg(any(feature = "pg15", feature = "pg16"))]
        {
            Some((*proc_).lxid)
        }
        #[cfg(not(any(feature = "pg15", feature = "pg16")))]
        {
            Some((*proc_).vxid.lxid)
        }
    }
}

/// Whether role `role` owns relation `relid` (or is a superuser).
pub fn owns_relation(relid: pg_sys::Oid, role: pg_sys::Oid) -> bool {
    #[cfg(feature = "pg15")]
    // SAFETY: a catalog lookup on the main thread; a missing relation raises ERROR.
    unsafe {
        pg_sys::pg_class_ownercheck(relid, role)
    }
    #[cfg(not(feature = "pg15"))]
    // SAFETY: as above.
    unsafe {
        pg_sys::object_ownercheck(pg_sys::RelationRelationId, relid, role)
    }
}

/// Sleeps if cost-based vacuum delay asks for it (and checks for interrupts).
///
/// # Safety
/// Called by vacuum on the main thread with no buffer lock held.
pub unsafe fn vacuum_delay_point() {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: the caller's promise.
    unsafe {
        pg_sys::vacuum_delay_point()
    }
    #[cfg(feature = "pg18")]
    // SAFETY: as above; this is index vacuum, not ANALYZE.
    unsafe {
        pg_sys::vacuum_delay_point(false)
    }
}

/// The `IndexVacuumInfo` of a bulk delete of `index` alone: no heap
/// relation, no progress report, an estimated row count of 0.
#[cfg(any(test, feature = "pg_test"))]
pub fn index_vacuum_info(index: pg_sys::Relation) -> pg_sys::IndexVacuumInfo {
    pg_sys::IndexVacuumInfo {
        index,
        #[cfg(not(feature = "pg15"))]
        heaprel: core::ptr::null_mut(),
        analyze_only: false,
        report_progress: false,
        estimated_count: true,
        message_level: pg_sys::DEBUG2 as i32,
        num_heap_tuples: 0.0,
        strategy: core::ptr::null_mut(),
    }
}

#[cfg(not(feature = "pg18"))]
extern "C-unwind" {
    fn init_toast_snapshot(toast_snapshot: pg_sys::Snapshot);
}
#[cfg(feature = "pg18")]
extern "C-unwind" {
    fn get_toast_snapshot() -> pg_sys::Snapshot;
}

/// The snapshot Postgres reads TOAST chunks under (`init_toast_snapshot`
/// into `buf` up to 17, `get_toast_snapshot()` on 18); ERROR without an
/// active snapshot.
///
/// # Safety
/// The main thread; the result may point into `buf`, which must outlive its use.
pub unsafe fn toast_snapshot(buf: &mut pg_sys::SnapshotData) -> pg_sys::Snapshot {
    #[cfg(not(feature = "pg18"))]
    // SAFETY: init_toast_snapshot fills the SnapshotData it is given; the
    // guard turns its ERROR into an unwind.
    unsafe {
        pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| init_toast_snapshot(buf));
        buf
    }
    #[cfg(feature = "pg18")]
    // SAFETY: as above; the snapshot returned is Postgres'.
    unsafe {
        let _ = buf;
        pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| get_toast_snapshot())
    }
}
