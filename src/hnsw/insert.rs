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
use crate::error::raise;
use distance::half::HalfVector;
use distance::sq8::Sq8Vector;
use graph::{InsertParams, LevelGenerator, SearchScratch, StoredCopy};
use pageformat::{ElementLayout, HeapTid};
use pgrx::{pg_sys, PgSqlErrorCode};
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
    let copy = match layout.storage() {
        pageformat::Storage::Sparse => raise(
            PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED,
            "a dense vector for an index of sparse copies",
            None,
        ),
        pageformat::Storage::Bits => StoredCopy::Half(distance::packed::encode(v)),
        pageformat::Storage::Half => StoredCopy::Half(HalfVector::encode(v)),
        pageformat::Storage::Sq8 => StoredCopy::Sq8(Sq8Vector::encode(v)),
    };
    let id = place_copy(index, &layout, level, &[tid], &copy);
    link(index, &meta, &graph, id, &q, level);
    true
}

/// Places the element of `copy` (of heap rows `tids`) at `level`, with
/// empty lists, and returns where it went.
fn place_copy(
    index: pg_sys::Relation,
    layout: &ElementLayout,
    level: usize,
    tids: &[HeapTid],
    copy: &StoredCopy,
) -> pageformat::ElementId {
    match copy {
        StoredCopy::Half(half) => {
            let bytes = layout.encode(level, tids, half);
            super::store::place_element(index, &bytes, &half.codes, *layout)
        }
        StoredCopy::Sq8(sq8) => {
            let bytes = layout.encode_sq8(level, tids, sq8);
            super::store::place_element(index, &bytes, &[], *layout)
        }
    }
}

/// Inserts the stored copy `copy` of heap rows `tids` as it is (a build
/// that held its rows as copies: see `partitioned.rs`), searching for its
/// neighbours with the copy's own values, as an in-memory build does.
pub fn insert_copy(index: pg_sys::Relation, tids: &[HeapTid], copy: &StoredCopy) {
    // SAFETY: heavyweight lock on a reserved block number of an open index.
    unsafe { pg_sys::LockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
    let meta = super::store::read_meta(index);
    let graph = PageGraph::new(index, &meta);
    let Some(q) = graph.metric().prepare(&copy.decode()) else {
        // SAFETY: releasing the lock taken above.
        unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
        return;
    };
    let m = meta.m as usize;
    let cap =
        pageformat::level_cap_in(m, meta.dims as usize, meta.version).min(graph::DEFAULT_MAX_LEVEL);
    let level = draw_level(m, cap);
    let layout = graph.layout();
    let id = place_copy(index, &layout, level, tids, copy);
    link(index, &meta, &graph, id, &q, level);
}

/// Links the new element `id` of `level`, placed with empty lists, into
/// the graph (Algorithm 1 over the pages) with `q` its prepared query,
/// and moves the entry point to it when it drew a higher level; then
/// releases the update lock the caller took in share mode.
fn link(
    index: pg_sys::Relation,
    meta: &pageformat::Meta,
    graph: &PageGraph,
    id: pageformat::ElementId,
    q: &[f32],
    level: usize,
) {
    let m = meta.m as usize;
    let params = InsertParams {
        m,
        ef_construction: meta.ef_construction as usize,
    };
    let mut scratch = SearchScratch::new();
    let promote = graph::insert(
        graph,
        id,
        q,
        level,
        graph.entry_point(meta),
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
    // SAFETY: releasing the lock the caller took.
    unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
}

/// The highest level the element of sparse vector `indices` may have in
/// `layout` (at most `cap`): what fits a page; an ERROR when it does not
/// fit even at level 0 (many non-zeros with large gaps at a large m).
pub fn sparse_level_cap(layout: &ElementLayout, indices: &[u32], cap: usize) -> usize {
    let payload = distance::sparse::encoded_len(indices);
    layout.sparse_level_cap(payload, cap).unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "sparsevec of {} non-zero elements does not fit an hnsw element with m = {}",
                indices.len(),
                layout.m
            ),
            Some("Use a smaller m."),
        )
    })
}

/// Inserts the sparse vector `packed` ([`distance::sparse::pack`]) of
/// heap row `tid` into an index of sparse copies; false when it is not
/// indexed (a zero vector under cosine).
pub fn insert_sparse(index: pg_sys::Relation, tid: HeapTid, packed: &[f32]) -> bool {
    // SAFETY: heavyweight lock on a reserved block number of an open index.
    unsafe { pg_sys::LockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
    let meta = super::store::read_meta(index);
    let graph = PageGraph::new(index, &meta);
    let mut q = packed.to_vec();
    if !graph.metric().prepare_sparse_in_place(&mut q) {
        // SAFETY: releasing the lock taken above.
        unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ShareLock as i32) };
        return false;
    }
    let n = packed.len() / 2;
    let indices: Vec<u32> = packed[..n].iter().map(|x| x.to_bits()).collect();
    let layout = graph.layout();
    let cap =
        pageformat::level_cap_in(layout.m, layout.dims, meta.version).min(graph::DEFAULT_MAX_LEVEL);
    let level = draw_level(layout.m, sparse_level_cap(&layout, &indices, cap));
    let bytes = layout.encode_sparse(level, &[tid], &indices, &packed[n..]);
    let id = super::store::place_element(index, &bytes, &[], layout);
    link(index, &meta, &graph, id, &q, level);
    true
}

/// `aminsert` of an index of sparse copies: reads the row as its non-zero
/// elements (pgvector's error past 1,000 of them).
///
/// # Safety
/// The arguments are `aminsert`'s; `read` is the key type's sparse reader.
unsafe fn insert_sparse_key(
    index: pg_sys::Relation,
    datum: pg_sys::Datum,
    tid: HeapTid,
    read: crate::opclass::ReadSparse,
) {
    // SAFETY: a short-lived context of our own for the detoasted copy
    // (freed on drop); the datum is a non-null value of the class's type.
    unsafe {
        pgrx::PgMemoryContexts::new("hnsw insert temporary").switch_to(|_| {
            read(datum, &mut |dims, packed| {
                let meta_dims = super::store::read_meta(index).dims as usize;
                vectorcore::check::expected_dim(meta_dims as i32, dims)
                    .unwrap_or_else(|e| crate::error::raise_vector(e));
                insert_sparse(index, tid, packed);
            })
        });
    }
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
    // SAFETY: one key column: values/isnull have one entry, the TID is valid.
    let (datum, null) = unsafe { (*values, *isnull) };
    if let Some(read) = crate::opclass::key_type_of(index).sparse {
        if !null && super::store::read_meta(index).storage() == pageformat::Storage::Sparse {
            // SAFETY: forwarded from Postgres' call.
            let tid = crate::pg::am::heap_tid(unsafe { &*heap_tid_ptr });
            // SAFETY: as above; `read` is the class's sparse reader.
            unsafe { insert_sparse_key(index, datum, tid, read) };
            return false;
        }
    }
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
