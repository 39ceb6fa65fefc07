//! `ambulkdelete` and `amvacuumcleanup`.
//!
//! Design note. Vacuum visits every list page (blocks after the
//! directory, in block order: pages an interrupted insert left unlinked
//! included) under an exclusive lock and deletes the record items whose
//! heap row vacuum reports dead, in one generic WAL record per changed
//! page. A record in pieces loses each piece on its own page (every piece
//! carries the TID); a scan meanwhile drops a record it does not see
//! whole (`ivf::layout::Assembler`). Pages stay in their chains. Then
//! (one-item records) each list's insert page becomes the first page of
//! its chain after the head with room for a record, found from the links
//! and free space the pass saw (under the list's lock, so no insert moves
//! it meanwhile); inserts fill those pages before they add new ones.

use super::pages::{ReadPage, WritePage};
use super::store::{lock_list, read_entry, read_meta, set_insert_page, unlock_list};
use crate::pg::am::{is_dead, nblocks, stats_or_new};
use ivf::layout::{Meta, RecordLayout, NEXT_AT};
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
    // Every list page's (link, free bytes) after the pass.
    let mut pages = Vec::new();
    for block in meta.first_list_block()..nblocks(index) {
        // SAFETY: vacuum_delay_point may sleep; no lock is held here.
        unsafe { crate::pgver::vacuum_delay_point() };
        let mut page = WritePage::new(index, block);
        pages.push((page.special_u32(NEXT_AT), page.free_space()));
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
        pages.last_mut().expect("pushed above").1 = page.free_space();
        page.commit();
    }
    if !layout.spans() {
        set_insert_pages(index, &meta, &layout, &pages);
    }
    // SAFETY: `stats` is valid.
    unsafe {
        (*stats).tuples_removed += removed;
        (*stats).num_index_tuples = live;
        (*stats).num_pages = nblocks(index);
    }
    stats
}

/// Makes each list's insert page the first page of its chain after the
/// head with room for a record (0: none), from `pages` (link and free
/// bytes of every list page after the pass, from the first list page).
/// Only vacuum makes room and one runs at a time: a page the pass saw
/// full is full still.
fn set_insert_pages(
    index: pg_sys::Relation,
    meta: &Meta,
    layout: &RecordLayout,
    pages: &[(u32, usize)],
) {
    let first = meta.first_list_block();
    let need = layout.footprint();
    let seen = |block: u32| pages.get(block.checked_sub(first)? as usize).copied();
    for list in 0..meta.lists {
        pgrx::check_for_interrupts!();
        lock_list(index, list);
        let (head, insert_page) = read_entry(index, meta, list);
        // The head is newer than the pass when an insert added one since:
        // its link (never changed) leads to pages the pass saw.
        let mut block = match seen(head) {
            Some((next, _)) => next,
            None if head == 0 => 0,
            None => super::pages::ReadPage::new(index, head).special_u32(NEXT_AT),
        };
        let mut steps = 0;
        let mut found = 0;
        while let Some((next, free)) = seen(block).filter(|_| block != 0 && steps <= pages.len()) {
            if free >= need {
                found = block;
                break;
            }
            block = next;
            steps += 1;
        }
        if found != insert_page {
            set_insert_page(index, meta, list, found);
        }
        unlock_list(index, list);
    }
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
