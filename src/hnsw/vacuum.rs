//! `ambulkdelete` and `amvacuumcleanup`.
//!
//! Design note. Pass 1 visits every element page under an exclusive lock
//! and drops the heap TIDs vacuum reports dead (the callback is called
//! through pgrx's FFI guard); an element left without TIDs is marked
//! deleted. Scans keep traversing deleted elements but never return them,
//! and inserts never link to them. Pass 2, under the update lock in
//! exclusive mode (no insert runs meanwhile), relinks every live element
//! that points at a deleted one (the `graph` crate's repair) and moves the
//! entry point off a deleted element. Deleted elements stay as tombstones:
//! their space is not reused yet, so a scan that still holds an old
//! neighbour list never reads a recycled slot.

use super::buffer::{ReadPage, WritePage};
use super::insert::UPDATE_LOCK;
use super::store::{read_meta, update_meta, PageGraph, META_BLOCK};
use graph::Graph;
use pageformat::ElementId;
use pgrx::pg_sys;

/// Number of blocks of the index.
fn nblocks(index: pg_sys::Relation) -> u32 {
    // SAFETY: the index is open.
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// A zeroed stats struct when vacuum passed none.
fn stats_or_new(stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: palloc0 of a plain C struct.
        unsafe { pg_sys::palloc0(core::mem::size_of::<pg_sys::IndexBulkDeleteResult>()) as *mut _ }
    } else {
        stats
    }
}

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
        unsafe { pg_sys::vacuum_delay_point() };
        let mut page = WritePage::new(index, block);
        let mut changed = false;
        for off in 1..=page.max_offset() {
            let Some(bytes) = page.item_mut(off) else {
                continue;
            };
            if layout.read(bytes).deleted() {
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

/// Relinks live elements around deleted ones and fixes the entry point.
fn repair(index: pg_sys::Relation) {
    // SAFETY: exclusive update lock: no insert runs while we relink.
    unsafe { pg_sys::LockPage(index, UPDATE_LOCK, pg_sys::ExclusiveLock as i32) };
    let meta = read_meta(index);
    let graph = PageGraph::new(index, &meta);
    let m = meta.m as usize;
    for block in (META_BLOCK + 1)..nblocks(index) {
        let live: Vec<(ElementId, usize)> = {
            let page = ReadPage::new(index, block);
            (1..=page.max_offset())
                .filter_map(|off| {
                    let e = graph.layout().read(page.item(off)?);
                    (!e.deleted()).then(|| (ElementId::new(block, off), e.level()))
                })
                .collect()
        };
        for (id, level) in live {
            for lc in 0..=level {
                graph::repair_neighbours(&graph, id, lc, m);
            }
        }
        pgrx::check_for_interrupts!();
    }
    let moved = meta
        .entry_point()
        .filter(|&(ep, _)| graph.is_deleted(ep))
        .map(|(ep, level)| {
            let level_of = |id| graph.with_element(id, |e| e.level());
            graph::replace_entry_point(&graph, (ep, level), level_of)
                .or_else(|| any_live(&graph, index))
        });
    // One meta-page write: the new entry point, if it moved, and the
    // version (lists above layer 0 may have been relinked: copies of them
    // are stale).
    update_meta(index, |meta| {
        if let Some(new) = moved {
            meta.set_entry_point(new);
        }
        meta.bump_upper_version();
    });
    // SAFETY: releasing the lock taken above.
    unsafe { pg_sys::UnlockPage(index, UPDATE_LOCK, pg_sys::ExclusiveLock as i32) };
}

/// Any live element with its level, scanning pages (when the old entry
/// point's neighbourhood is all deleted).
fn any_live(graph: &PageGraph, index: pg_sys::Relation) -> Option<(ElementId, usize)> {
    let mut best: Option<(ElementId, usize)> = None;
    for block in (META_BLOCK + 1)..nblocks(index) {
        let page = ReadPage::new(index, block);
        for off in 1..=page.max_offset() {
            let Some(bytes) = page.item(off) else {
                continue;
            };
            let e = graph.layout().read(bytes);
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
        for off in 1..=page.max_offset() {
            if let Some(bytes) = page.item(off) {
                rows += layout.read(bytes).heap_tids().count();
            }
        }
    }
    // SAFETY: `stats` is valid.
    unsafe {
        (*stats).num_pages = n;
        (*stats).num_index_tuples = rows as f64;
    }
    stats
}
