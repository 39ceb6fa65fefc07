//! `aminsert`: adding one row to the on-disk graph.
//!
//! Design note. An insert holds the index's update lock (a heavyweight
//! page lock on a block number no page uses) in share mode, so inserts run
//! concurrently but never while vacuum repairs the graph (it takes the
//! lock exclusively). The element is first placed on a page with empty
//! neighbour lists (readable, but unreachable: nothing points at it), then
//! Algorithm 1 runs over [`PageGraph`]: its own lists are written, then the
//! back-links, each under a single page lock (see `store.rs`). Last, the
//! entry point moves to it if it drew a higher level than the graph had.

use super::store::{in_index_order, read_meta_and_order, update_meta, PageGraph};
use distance::half::HalfVector;
use distance::sq8::Sq8Vector;
use graph::{InsertParams, LevelGenerator, SearchScratch};
use pageformat::HeapTid;
use pgrx::pg_sys;
use std::sync::atomic::{AtomicU64, Ordering};

/// Block number of the heavyweight lock that orders inserts and vacuum.
pub const UPDATE_LOCK: u32 = u32::MAX - 1;

/// Inserts so far in this backend, mixed into the level seed.
static INSERTS: AtomicU64 = AtomicU64::new(0);

/// A level drawn for a new element (per-backend seed, capped to fit a page).
fn draw_level(m: usize, cap: usize) -> usize {
    let n = INSERTS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: reading this backend's pid.
    let pid = unsafe { pg_sys::MyProcPid } as u64;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    LevelGenerator::new(
        m,
        cap,
        pid << 32 ^ nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
    .next_level()
}

/// Inserts vector `v` of heap row `tid`; false when it is not indexed
/// (a zero vector under cosine).
pub fn insert_vector(index: pg_sys::Relation, tid: HeapTid, v: &[f32]) -> bool {
    // SAFETY: heavyweight lock on a reserved block number of an open index.
    unsafe { pg_sys::LockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
    let (meta, order) = read_meta_and_order(index);
    vectorcore::check::expected_dim(meta.dims as i32, v.len())
        .unwrap_or_else(|e| crate::error::raise_vector(e));
    let v = &*in_index_order(order.as_deref(), v);
    let graph = PageGraph::new(index, &meta);
    let Some(q) = graph.metric().prepare(v) else {
        // SAFETY: releasing the lock taken above.
        unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
        return false;
    };
    let m = meta.m as usize;
    let cap =
        pageformat::level_cap_in(m, meta.dims as usize, meta.version).min(graph::DEFAULT_MAX_LEVEL);
    let level = draw_level(m, cap);
    let layout = graph.layout();
    let id = match layout.storage() {
        pageformat::Storage::Half | pageformat::Storage::Bits => {
            let half = if layout.storage() == pageformat::Storage::Bits {
                distance::packed::encode(v)
            } else {
                HalfVector::encode(v)
            };
            let bytes = layout.encode(level, &[tid], &half);
            super::store::place_element(index, &bytes, &half.codes, layout)
        }
        pageformat::Storage::Sq8 => {
            let bytes = layout.encode_sq8(level, &[tid], &Sq8Vector::encode(v));
            super::store::place_element(index, &bytes, &[], layout)
        }
    };
    let params = InsertParams {
        m,
        ef_construction: meta.ef_construction as usize,
    };
    let mut scratch = SearchScratch::new();
    let promote = graph::insert(
        &graph,
        id,
        &q,
        level,
        graph.entry_point(&meta),
        params,
        &mut scratch,
    );
    // An element above layer 0 changed the upper layers: scans holding a
    // copy of them must see it (only after it is fully linked).
    if promote || level > 0 {
        update_meta(index, |meta| {
            if promote && meta.entry_point().is_none_or(|(_, top)| level > top) {
                meta.set_entry_point(Some((id, level)));
            }
            if level > 0 {
                meta.bump_upper_version();
            }
        });
    }
    // SAFETY: releasing the lock taken above.
    unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
    true
}

/// `aminsert`: indexes one new heap row.
#[allow(clippy::too_many_arguments)] // the signature is Postgres'
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    heap_tid_ptr: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    // SAFETY: forwarded from Postgres' call.
    unsafe {
        crate::pg::am::insert_key(
            index,
            values,
            isnull,
            heap_tid_ptr,
            "hnsw insert temporary",
            |tid, v| {
                insert_vector(index, tid, v);
            },
        )
    }
}
