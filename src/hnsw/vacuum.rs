//! `ambulkdelete` and `amvacuumcleanup`.
//!
//! Design note. Pass 1 visits every element page under an exclusive lock
//! and drops the heap TIDs vacuum reports dead (the callback is called
//! through pgrx's FFI guard); an element left without TIDs is marked
//! deleted. Scans keep traversing deleted elements but never return them,
//! and inserts never link to them. Pass 2 first waits for the inserts that
//! began before pass 1 ended (a moment with the update lock in exclusive
//! mode: those may have chosen a neighbour pass 1 then deleted), then, with
//! inserts running beside it, relinks every live element that points at a
//! deleted one (the `graph` crate's repair, which writes a list only if no
//! insert changed it since it was read) and moves the entry point off a
//! deleted element (the update lock exclusive again, briefly: inserts read
//! and promote it). Then it makes every live element reachable and every
//! relinked one findable by a search for its own vector again (the graph
//! crate's `reconnect`), and finally marks every deleted element *free* and
//! lists its page (a page-spanning element: its first block) in the
//! index's free space map: no live element points
//! at it any more and no insert will. An insert writes its new element over
//! a free slot of a listed page (store.rs `place_element`) before it
//! appends to the index, so an index under update churn stops growing once
//! vacuum keeps up.
//!
//! A reused slot is safe for scans that started earlier and still hold a
//! neighbour list naming it: they read the new element whole under the
//! page lock (its vector for the distance, its own lists), as for any
//! element reached late. (A page-spanning element is read block by block,
//! so such a scan may mix the old element's codes with the new one's; the
//! old one is deleted and the new one's rows invisible to it, as below, so
//! the mix only costs it a detour.) The heap rows they then return belong to a
//! transaction that had not committed when their MVCC snapshot was taken
//! (it inserted after this vacuum), so the executor drops them as
//! invisible before re-checking any distance. Only MVCC scans use this
//! index (it serves ORDER BY, not CLUSTER or constraint checks).
//! `amvacuumcleanup` re-lists every page with free slots, since the free
//! space map is not WAL-logged and a crash or a promotion may lose entries.

use super::insert::UPDATE_LOCK;
use super::pages::{ReadPage, WritePage};
use super::store::{checked_element, read_meta, update_meta, PageGraph, META_BLOCK};
use crate::pg::am::{nblocks, stats_or_new};
use graph::Graph;
use pageformat::ElementId;
use pgrx::pg_sys;

/// `ambulkdelete`: removes dead heap TIDs, then repairs the graph.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut core::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    let stats = stats_or_new(stats);
    // SAFETY: vacuum passes a valid info with an open index.
    let index = unsafe { (*info).index };
    let callback = callback.expect("vacuum passes a callback");
    let meta = read_meta(index);
    let layout = PageGraph::new(index, &meta).layout();
    let mut removed = 0usize;
    let mut newly_deleted = false;
    for block in (META_BLOCK + 1)..nblocks(index) {
        // SAFETY: vacuum_delay_point may sleep; no lock is held here.
        unsafe { crate::pgver::vacuum_delay_point() };
        let mut page = WritePage::new(index, block);
        let mut changed = false;
        for off in 1..=page.max_offset() {
            let Some(bytes) = page.item_mut(off) else {
                continue;
            };
            let live =
                checked_element(index, layout, block, off, bytes).is_some_and(|e| !e.deleted());
            if !live {
                continue;
            }
            let n = layout.write(bytes).retain_heap_tids(|t| {
                let mut tid = pg_sys::ItemPointerData::default();
                tid.ip_blkid.bi_hi = (t.block >> 16) as u16;
                tid.ip_blkid.bi_lo = t.block as u16;
                tid.ip_posid = t.offset;
                // SAFETY: vacuum's callback with its state; an ERROR inside
                // becomes a Rust panic through the FFI guard.
                let dead = unsafe {
                    pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| {
                        callback(&mut tid, callback_state)
                    })
                };
                !dead
            });
            if n > 0 {
                changed = true;
                removed += n;
                newly_deleted |= layout.read(bytes).deleted();
            }
        }
        if changed {
            page.commit();
        }
    }
    if newly_deleted {
        repair(index);
    }
    // SAFETY: `stats` is a valid struct (ours or vacuum's).
    unsafe { (*stats).tuples_removed += removed as f64 };
    stats
}

/// Relinks live elements around deleted ones, fixes the entry point,
/// makes every live element reachable and every relinked one findable
/// again (see the graph crate's `reconnect`), then frees the deleted slots.
/// Inserts run beside it except for two short waits (see the module note).
fn repair(index: pg_sys::Relation) {
    // Inserts that began before pass 1 marked elements deleted may still
    // link to them: wait for them to finish. Later ones never do.
    with_update_lock_exclusive(index, || ());
    let meta = read_meta(index);
    let graph = PageGraph::new(index, &meta);
    let m = meta.m as usize;
    let mut live_ids = Vec::new();
    let mut relinked = Vec::new();
    for block in (META_BLOCK + 1)..nblocks(index) {
        let live: Vec<(ElementId, usize)> = {
            let page = ReadPage::new(index, block);
            (1..=page.max_offset())
                .filter_map(|off| {
                    let e = checked_element(index, graph.layout(), block, off, page.item(off)?)?;
                    (!e.deleted()).then(|| (ElementId::new(block, off), e.level()))
                })
                .collect()
        };
        for (id, level) in live {
            live_ids.push(id);
            for lc in 0..=level {
                if graph::repair_neighbours(&graph, id, lc, m) && lc == 0 {
                    relinked.push(id);
                }
            }
        }
        pgrx::check_for_interrupts!();
    }
    // The entry point moves off a deleted element before that is freed,
    // with no insert reading or promoting it meanwhile. Deleted elements
    // keep their lists until freed, so the search may still walk them.
    let entry = with_update_lock_exclusive(index, || {
        let meta = read_meta(index);
        let (ep, level) = meta.entry_point()?;
        if !graph.is_deleted(ep) {
            return Some((ep, level));
        }
        let level_of = |id| graph.with_element(id, |e| e.level());
        let new = graph::replace_entry_point(&graph, (ep, level), level_of)
            .or_else(|| any_live(&graph, index));
        update_meta(index, |meta| meta.set_entry_point(new));
        new
    });
    if let Some(ep) = entry {
        let params = graph::InsertParams {
            m,
            ef_construction: meta.ef_construction as usize,
        };
        reconnect(&graph, ep, &live_ids, &relinked, params);
    }
    // Every live element now avoids the deleted ones, and inserts never
    // link to them: their slots may be reused.
    for block in (META_BLOCK + 1)..nblocks(index) {
        mark_free(index, graph.layout(), block);
    }
    // Lists above layer 0 may have been relinked: copies of them are stale.
    update_meta(index, |meta| meta.bump_upper_version());
}

/// Runs `f` holding the update lock in exclusive mode: no insert runs.
fn with_update_lock_exclusive<T>(index: pg_sys::Relation, f: impl FnOnce() -> T) -> T {
    // SAFETY: heavyweight lock on a reserved block number of an open index;
    // released below, or by the transaction's abort on an ERROR.
    unsafe { pg_sys::LockPage(index, UPDATE_LOCK, pg_sys::ExclusiveLock as i32) };
    let out = f();
    // SAFETY: releasing the lock taken above.
    unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ExclusiveLock as i32) };
    out
}

/// The graph crate's `reconnect` with the interrupt check, and a DEBUG1
/// line with the bridges it added.
fn reconnect(
    graph: &PageGraph,
    ep: (ElementId, usize),
    live: &[ElementId],
    relinked: &[ElementId],
    params: graph::InsertParams,
) {
    let mut tick = || {
        pgrx::check_for_interrupts!();
    };
    let reached = rustc_hash::FxHashSet::default();
    let bridges = graph::reconnect(
        graph,
        ep,
        live.iter().copied(),
        relinked,
        params,
        reached,
        &mut tick,
    );
    if bridges > 0 {
        pgrx::debug1!("hnsw vacuum: {bridges} bridges to unreachable or unfindable elements");
    }
}

/// Marks the deleted elements of `block` free and lists the page in the
/// free space map if it has free slots.
fn mark_free(index: pg_sys::Relation, layout: pageformat::ElementLayout, block: u32) {
    let to_free = {
        let page = ReadPage::new(index, block);
        (1..=page.max_offset()).any(|off| {
            page.item(off)
                .and_then(|b| checked_element(index, layout, block, off, b))
                .is_some_and(|e| e.deleted() && !e.free())
        })
    };
    if !to_free {
        return;
    }
    let mut page = WritePage::new(index, block);
    for off in 1..=page.max_offset() {
        if let Some(bytes) = page.item_mut(off) {
            let unfreed =
                checked_element(index, layout, block, off, bytes).is_some_and(|e| !e.free());
            if unfreed {
                layout.write(bytes).mark_free();
            }
        }
    }
    page.commit();
    // SAFETY: the index's free space map (a hint: inserts re-check the page).
    unsafe { pg_sys::RecordFreeIndexPage(index, block) };
}

/// Any live element with its level, scanning pages (when the old entry
/// point's neighbourhood is all deleted).
fn any_live(graph: &PageGraph, index: pg_sys::Relation) -> Option<(ElementId, usize)> {
    let mut best: Option<(ElementId, usize)> = None;
    for block in (META_BLOCK + 1)..nblocks(index) {
        let page = ReadPage::new(index, block);
        for off in 1..=page.max_offset() {
            let Some(e) = page
                .item(off)
                .and_then(|b| checked_element(index, graph.layout(), block, off, b))
            else {
                continue;
            };
            if !e.deleted() && best.is_none_or(|(_, l)| e.level() > l) {
                best = Some((ElementId::new(block, off), e.level()));
            }
        }
    }
    best
}

/// `amvacuumcleanup`: reports the index size and live rows.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: vacuum passes a valid info.
    if unsafe { (*info).analyze_only } {
        return stats;
    }
    let stats = stats_or_new(stats);
    // SAFETY: as above.
    let index = unsafe { (*info).index };
    let layout = PageGraph::new(index, &read_meta(index)).layout();
    let mut rows = 0usize;
    let n = nblocks(index);
    for block in (META_BLOCK + 1)..n {
        let page = ReadPage::new(index, block);
        let mut free = false;
        for off in 1..=page.max_offset() {
            if let Some(e) = page
                .item(off)
                .and_then(|b| checked_element(index, layout, block, off, b))
            {
                rows += e.heap_tids().count();
                free |= e.free();
            }
        }
        if free {
            // Re-lists pages whose entry was lost (the map is not WAL-logged)
            // or handed out; inserts re-check the page.
            // SAFETY: the index's free space map.
            unsafe { pg_sys::RecordFreeIndexPage(index, block) };
        }
    }
    // SAFETY: makes the recorded pages findable from the map's upper levels.
    unsafe { pg_sys::IndexFreeSpaceMapVacuum(index) };
    // SAFETY: `stats` is valid.
    unsafe {
        (*stats).num_pages = n;
        (*stats).num_index_tuples = rows as f64;
    }
    stats
}
