//! `ambulkdelete` and `amvacuumcleanup`.
//!
//! Design note. Vacuum visits every list page (blocks after the
//! directory, in block order: pages an interrupted insert left unlinked
//! included) under an exclusive lock and deletes the record items whose
//! heap row vacuum reports dead, in one generic WAL record per changed
//! page. A record in pieces loses each piece on its own page (every piece
//! carries the TID); a scan meanwhile drops a record it does not see
//! whole (`ivf::layout::Assembler`). Pages stay in their chains, emptied:
//! later inserts fill a list's head page only, so an index under heavy
//! churn grows until a REINDEX, as pgvector's.

use super::pages::{ReadPage, WritePage};
use super::store::read_meta;
use crate::pg::am::{is_dead, nblocks, stats_or_new};
use ivf::layout::RecordLayout;
use pgrx::pg_sys;

/// `ambulkdelete`: removes the records of dead heap rows.
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
    let layout = RecordLayout::new(meta.dims as usize, meta.element_kind());
    let (mut removed, mut live) = (0f64, 0f64);
    for block in meta.first_list_block()..nblocks(index) {
        // SAFETY: vacuum_delay_point may sleep; no lock is held here.
        unsafe { crate::pgver::vacuum_delay_point() };
        let mut page = WritePage::new(index, block);
        let mut dead = Vec::new();
        for off in 1..=page.max_offset() {
            let Some(bytes) = page.item_mut(off) else {
                continue;
            };
            let (tid, piece, _) = layout.decode(bytes).unwrap_or_else(|e| {
                super::pages::raise_corrupted(index, format_args!("block {block}, item {off}: {e}"))
            });
            if is_dead(callback, callback_state, tid) {
                dead.push(off);
                removed += f64::from(u8::from(piece == 0));
            } else {
                live += f64::from(u8::from(piece == 0));
            }
        }
        if dead.is_empty() {
            continue; // dropped: nothing logged
        }
        page.delete_items(&mut dead);
        page.commit();
    }
    // SAFETY: `stats` is valid.
    unsafe {
        (*stats).tuples_removed += removed;
        (*stats).num_index_tuples = live;
        (*stats).num_pages = nblocks(index);
    }
    stats
}

/// `amvacuumcleanup`: counts the index's pages and records.
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
    let meta = read_meta(index);
    let layout = RecordLayout::new(meta.dims as usize, meta.element_kind());
    let mut rows = 0usize;
    let n = nblocks(index);
    for block in meta.first_list_block()..n {
        let page = ReadPage::new(index, block);
        for off in 1..=page.max_offset() {
            if let Some(Ok((_, 0, _))) = page.item(off).map(|b| layout.decode(b)) {
                rows += 1;
            }
        }
        pgrx::check_for_interrupts!();
    }
    // SAFETY: `stats` is valid.
    unsafe {
        (*stats).num_pages = n;
        (*stats).num_index_tuples = rows as f64;
    }
    stats
}
