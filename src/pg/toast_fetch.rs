//! Reads a plain out-of-line value (on disk, not compressed) straight into
//! the TOAST cache's copy: the miss path of `toast_cache.rs`.
//!
//! Why: at 2,048 dimensions the executor's recheck of the ~11 rows an index
//! scan returns for LIMIT 10 detoasted each row's vector through Postgres
//! (`detoast_attr` → `heap_fetch_toast_slice`), a fifth of a query's backend
//! time (perf, hnsw halfvec(2048), ef_search 10: 18.9%). Of that, the TOAST
//! index descent and the chunk fetches are most; around them Postgres locks
//! and unlocks the TOAST relation and its index for every value (four trips
//! through the shared lock manager), pallocs the value, and the cache then
//! copied it once more into its own memory.
//!
//! Here the chunks are read with the same ordered scan of the same valid
//! TOAST index under the same snapshot Postgres uses (`init_toast_snapshot`,
//! `get_toast_snapshot` on 18: [`crate::pgver::toast_snapshot`]), checked as
//! Postgres checks them (chunk numbers and sizes, [`vectorcore::toast_chunks`])
//! and copied once, into the cache's buffer. The relation and index are opened
//! with AccessShareLock, as Postgres does, but closed with NoLock: the locks
//! stay until the transaction ends (released by its resource owner on commit
//! or abort, ERROR included), so every later value of the transaction finds
//! them held and locks locally. Relations themselves are closed before
//! returning: holding a relcache reference across statements would make a
//! TRUNCATE or ALTER TABLE of the table later in the same transaction fail
//! ("being used by active queries in this session").

use super::toast_locations;
use crate::pgver;
use pgrx::pg_sys;
use pgrx::PgSqlErrorCode;
use vectorcore::chunk_locations::{same_value, Locations, Tid, MAX_CHUNKS};
use vectorcore::toast_chunks::{split_copy, toast_max_chunk_size, ChunkPlan};

extern "C-unwind" {
    fn toast_open_indexes(
        toastrel: pg_sys::Relation,
        lock: pg_sys::LOCKMODE,
        toastidxs: *mut *mut pg_sys::Relation,
        num_indexes: *mut core::ffi::c_int,
    ) -> core::ffi::c_int;
    fn toast_close_indexes(
        toastidxs: *mut pg_sys::Relation,
        num_indexes: core::ffi::c_int,
        lock: pg_sys::LOCKMODE,
    );
}

/// An out-of-line value's TOAST pointer, if `ptr` holds one (on disk).
///
/// # Safety
/// `ptr` must point at a varlena (any header form).
pub unsafe fn external(ptr: *const u8) -> Option<pg_sys::varatt_external> {
    // VARATT_IS_EXTERNAL_ONDISK: a 1-byte header 0x01 (little-endian layout)
    // followed by the tag VARTAG_ONDISK, then an unaligned varatt_external.
    // SAFETY: every varlena has at least its first header byte.
    if unsafe { *ptr } != 0x01 {
        return None;
    }
    // SAFETY: an external varlena has its tag byte after the header.
    if unsafe { *ptr.add(1) } as u32 != pg_sys::vartag_external::VARTAG_ONDISK {
        return None;
    }
    // SAFETY: an on-disk external pointer holds a varatt_external, possibly
    // unaligned, right after the two header bytes.
    Some(unsafe { core::ptr::read_unaligned(ptr.add(2).cast::<pg_sys::varatt_external>()) })
}

/// Bytes of the value after its length word when `ext` is stored plainly
/// (not compressed: VARATT_EXTERNAL_IS_COMPRESSED false), else None.
pub fn plain_size(ext: &pg_sys::varatt_external) -> Option<usize> {
    const EXTSIZE_MASK: u32 = (1 << 30) - 1;
    let extsize = (ext.va_extinfo & EXTSIZE_MASK) as usize;
    let rawsize = usize::try_from(ext.va_rawsize).ok()?.checked_sub(4)?;
    (extsize == rawsize).then_some(extsize)
}

/// Raises Postgres' ERROR for a corrupt TOAST value.
fn corrupt(what: impl core::fmt::Display, valueid: pg_sys::Oid, rel: pg_sys::Relation) -> ! {
    // SAFETY: `rel` is open, so rd_rel and its name are valid.
    let name = unsafe { core::ffi::CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr()) };
    crate::error::raise(
        PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
        format!(
            "{what} for toast value {} in {}",
            u32::from(valueid),
            name.to_string_lossy()
        ),
        None,
    )
}

/// The bytes of a chunk's `chunk_data` (a 1- or 4-byte header, never
/// compressed or external), or None.
///
/// # Safety
/// `chunk` points at a varlena.
unsafe fn chunk_bytes<'a>(chunk: *const u8) -> Option<&'a [u8]> {
    // SAFETY: every varlena has its first header byte; the forms below
    // (little-endian layout) say how many bytes follow.
    unsafe {
        let b = *chunk;
        if b & 0x01 == 0x01 && b != 0x01 {
            let len = (b >> 1) as usize;
            Some(core::slice::from_raw_parts(
                chunk.add(1),
                len.checked_sub(1)?,
            ))
        } else if b & 0x03 == 0 {
            let word = core::ptr::read_unaligned(chunk.cast::<u32>());
            let len = ((word >> 2) & 0x3FFF_FFFF) as usize;
            Some(core::slice::from_raw_parts(
                chunk.add(4),
                len.checked_sub(4)?,
            ))
        } else {
            None
        }
    }
}

/// Reads plain external value `ext` of `size` bytes (its length word
/// excluded) into `head` (its first bytes) and `body` (the rest), whose
/// lengths add up to `size`: by the chunk locations remembered from an
/// earlier read of the same value when they still hold its chunks
/// (`toast_locations.rs`), else through the TOAST index, remembering where
/// the chunks were. Raises Postgres' ERRORs: no active snapshot, missing or
/// malformed chunks.
///
/// # Safety
/// `ext` comes from a datum of a row this transaction read; the main thread.
pub unsafe fn fetch_plain(
    ext: &pg_sys::varatt_external,
    size: usize,
    head: &mut [u8],
    body: &mut [u8],
) {
    let lock = pg_sys::AccessShareLock as pg_sys::LOCKMODE;
    let no_lock = pg_sys::NoLock as pg_sys::LOCKMODE;
    let valueid = ext.va_valueid;
    let key = (u32::from(ext.va_toastrelid), u32::from(valueid));
    // SAFETY: Postgres' own detoast sequence (heap_fetch_toast_slice) on the
    // main thread: open and lock the TOAST relation, read the value's chunks
    // under the TOAST snapshot, close it keeping the lock; every call is
    // guarded, so an ERROR unwinds and the transaction's abort releases what
    // is still open.
    unsafe {
        let rel = pg_sys::table_open(ext.va_toastrelid, lock);
        let mut snapshot_data = pg_sys::SnapshotData::default();
        let snapshot = pgver::toast_snapshot(&mut snapshot_data);
        let file = pgver::file_key(rel).2;
        if let Some(at) = toast_locations::get(key) {
            if at.file == file && fetch_at(rel, snapshot, valueid, at.tids(), size, head, body) {
                toast_locations::count_hit();
                pg_sys::relation_close(rel, no_lock);
                return;
            }
            toast_locations::remove(key);
        }
        let tids = fetch_indexed(rel, snapshot, valueid, size, head, body);
        if let Some(at) = Locations::new(file, &tids) {
            toast_locations::insert(key, at);
        }
        pg_sys::relation_close(rel, no_lock);
    }
}

/// Reads value `valueid`'s chunks from `tids` (chunk 0 first) of open TOAST
/// relation `rel` into `head` and `body`; false, with the buffers partly
/// written, unless every tuple is in the relation, visible under
/// `snapshot`, a chunk of `valueid`, and the chunk numbered and sized as
/// the value's `size` bytes require.
///
/// Why a wrong answer cannot come back: a chunk id is the value's OID,
/// which Postgres assigns only when no tuple of the TOAST index carries it
/// (`GetNewOidWithIndex`, any snapshot), so at any time the relation holds at
/// most one value with that id whose tuples the TOAST snapshot shows; a
/// tuple that passes is that value's chunk, wherever it lies now (the line
/// pointer reused, the relation rewritten under the same file number).
///
/// # Safety
/// `rel` is open and locked; `snapshot` is the TOAST snapshot; the main thread.
unsafe fn fetch_at(
    rel: pg_sys::Relation,
    snapshot: pg_sys::Snapshot,
    valueid: pg_sys::Oid,
    tids: &[Tid],
    size: usize,
    head: &mut [u8],
    body: &mut [u8],
) -> bool {
    let mut plan = ChunkPlan::new(size, toast_max_chunk_size(pg_sys::BLCKSZ as usize));
    // SAFETY: the caller's promises; a block past the relation's end is
    // refused before heap_fetch reads it (VACUUM may have truncated the
    // relation; it cannot while we hold our lock); heap_fetch pins the
    // tuple's buffer when it returns true, which keeps the tuple in place
    // until the ReleaseBuffer below.
    unsafe {
        let desc = (*rel).rd_att;
        let blocks = pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
        for &(block, offset) in tids {
            if block >= blocks {
                return false;
            }
            let mut tuple = pg_sys::HeapTupleData::default();
            pgrx::itemptr::item_pointer_set_all(&mut tuple.t_self, block, offset);
            let mut buf: pg_sys::Buffer = pg_sys::InvalidBuffer as pg_sys::Buffer;
            let visible = pg_sys::heap_fetch(rel, snapshot, &mut tuple, &mut buf, false);
            let (mut id_null, mut seq_null, mut data_null) = (false, false, false);
            let ok = visible && {
                let id = pg_sys::heap_getattr(&mut tuple, 1, desc, &mut id_null);
                let seq = pg_sys::heap_getattr(&mut tuple, 2, desc, &mut seq_null).value() as i32;
                let data = pg_sys::heap_getattr(&mut tuple, 3, desc, &mut data_null);
                !id_null
                    && !seq_null
                    && !data_null
                    && same_value(true, id.value() as u32, u32::from(valueid))
                    && chunk_bytes(data.cast_mut_ptr::<u8>()).is_some_and(|bytes| {
                        plan.place(seq.into(), bytes.len())
                            .is_ok_and(|at| split_copy(at, bytes, head, body))
                    })
            };
            if visible {
                pg_sys::ReleaseBuffer(buf);
            }
            if !ok {
                return false;
            }
        }
    }
    plan.finish().is_ok()
}

/// Reads value `valueid`'s chunks of open TOAST relation `rel` through its
/// valid index into `head` and `body`, checking them as Postgres does;
/// returns where they were (chunk 0 first).
///
/// # Safety
/// `rel` is open and locked; `snapshot` is the TOAST snapshot; the main thread.
unsafe fn fetch_indexed(
    rel: pg_sys::Relation,
    snapshot: pg_sys::Snapshot,
    valueid: pg_sys::Oid,
    size: usize,
    head: &mut [u8],
    body: &mut [u8],
) -> Vec<Tid> {
    let lock = pg_sys::AccessShareLock as pg_sys::LOCKMODE;
    let no_lock = pg_sys::NoLock as pg_sys::LOCKMODE;
    let mut tids = Vec::with_capacity(MAX_CHUNKS);
    // SAFETY: the caller's promises; every call is guarded.
    unsafe {
        let mut idxs: *mut pg_sys::Relation = core::ptr::null_mut();
        let mut n: core::ffi::c_int = 0;
        let valid = pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| {
            toast_open_indexes(rel, lock, &mut idxs, &mut n)
        });
        let mut key = pg_sys::ScanKeyData::default();
        pg_sys::ScanKeyInit(
            &mut key,
            1,
            pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
            pg_sys::regproc::from(pg_sys::F_OIDEQ),
            pg_sys::Datum::from(valueid),
        );
        let scan = pg_sys::systable_beginscan_ordered(
            rel,
            *idxs.add(valid as usize),
            snapshot,
            1,
            &mut key,
        );
        let desc = (*rel).rd_att;
        let mut plan = ChunkPlan::new(size, toast_max_chunk_size(pg_sys::BLCKSZ as usize));
        loop {
            let tup =
                pg_sys::systable_getnext_ordered(scan, pg_sys::ScanDirection::ForwardScanDirection);
            if tup.is_null() {
                break;
            }
            let (mut seq_null, mut data_null) = (false, false);
            let seq = pg_sys::heap_getattr(tup, 2, desc, &mut seq_null).value() as i32;
            let data = pg_sys::heap_getattr(tup, 3, desc, &mut data_null);
            if seq_null || data_null {
                corrupt("found null chunk", valueid, rel);
            }
            let Some(bytes) = chunk_bytes(data.cast_mut_ptr::<u8>()) else {
                corrupt("found toasted toast chunk", valueid, rel);
            };
            let at = plan
                .place(seq.into(), bytes.len())
                .unwrap_or_else(|e| corrupt(e, valueid, rel));
            if !split_copy(at, bytes, head, body) {
                corrupt("chunk past the value's end", valueid, rel);
            }
            let (block, offset) = pgrx::itemptr::item_pointer_get_both((*tup).t_self);
            tids.push((block, offset));
        }
        if let Err(e) = plan.finish() {
            corrupt(e, valueid, rel);
        }
        pg_sys::systable_endscan_ordered(scan);
        pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| toast_close_indexes(idxs, n, no_lock));
    }
    tids
}
