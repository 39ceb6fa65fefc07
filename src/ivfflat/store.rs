//! Reading and writing an ivfflat index's meta page, centres, directory
//! and list chains (format: `ivf::layout`).
//!
//! Lock protocol: as everywhere (`crate::pg::buffer`), at most one buffer
//! content lock at a time: every reader and writer copies what it needs
//! from a page and releases it before it locks the next. Inserts into one
//! list are serialised by a heavyweight lock per list ([`lock_list`]), so
//! two of them never both put a new page in front of the same head;
//! scans and vacuum never take it.

use super::pages::{raise_corrupted, ReadPage, WritePage};
use crate::pg::buffer::PageHint;
use ivf::layout::{extend_f32, Meta, DIR_ENTRY, META_BLOCK, META_BYTES, NEXT_AT, STREAM_BYTES};
use pgrx::pg_sys;

/// The validated meta page of `index` (its dimensions the column's).
pub fn read_meta(index: pg_sys::Relation) -> Meta {
    let meta = {
        let page = ReadPage::new(index, META_BLOCK);
        Meta::from_bytes(page.contents(META_BYTES))
            .unwrap_or_else(|e| raise_corrupted(index, format_args!("block {META_BLOCK}: {e}")))
    };
    // SAFETY: an open index has a tuple descriptor with one attribute.
    let typmod = unsafe { (*crate::pgver::tuple_desc_attr((*index).rd_att, 0)).atttypmod };
    if typmod > 0 && typmod as u32 != meta.dims {
        raise_corrupted(
            index,
            format_args!(
                "block {META_BLOCK}: meta page: {} dimensions, the column has {typmod}",
                meta.dims
            ),
        );
    }
    meta
}

/// Bytes of a stream of `total` bytes that page `i` of it holds.
fn stream_len(total: usize, i: usize) -> usize {
    total.saturating_sub(i * STREAM_BYTES).min(STREAM_BYTES)
}

/// Reads a stream of `total` bytes starting at block `start`.
fn read_stream(index: pg_sys::Relation, start: u32, total: usize, mut f: impl FnMut(&[u8])) {
    for i in 0..ivf::layout::stream_pages(total) {
        let page = ReadPage::new(index, start + i as u32);
        f(page.contents(stream_len(total, i)));
    }
}

/// Every list's centre, `lists * dims` floats.
pub fn read_centres(index: pg_sys::Relation, meta: &Meta) -> Vec<f32> {
    let total = meta.centre_bytes();
    let mut out = Vec::with_capacity(total / 4);
    read_stream(index, meta.centre_start, total, |b| extend_f32(&mut out, b));
    out
}

/// Every list's head block (0 for an empty list).
pub fn read_heads(index: pg_sys::Relation, meta: &Meta) -> Vec<u32> {
    read_entries(index, meta)
        .into_iter()
        .map(|(h, _)| h)
        .collect()
}

/// Every list's (head block, insert page).
pub fn read_entries(index: pg_sys::Relation, meta: &Meta) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(meta.lists as usize);
    read_stream(index, meta.dir_start, meta.dir_bytes(), |b| {
        out.extend(ivf::layout::dir_entries(b))
    });
    out
}

/// List `list`'s head block and insert page.
pub fn read_entry(index: pg_sys::Relation, meta: &Meta, list: u32) -> (u32, u32) {
    let (block, at) = meta.head_location(list);
    let page = ReadPage::new(index, block);
    let b = page.contents(at + DIR_ENTRY);
    let entry = ivf::layout::dir_entries(&b[at..]).next();
    entry.expect("one entry")
}

/// Sets word `word` (0 the head, 1 the insert page) of list `list`'s
/// directory entry to `value` (generic WAL).
fn set_entry_word(index: pg_sys::Relation, meta: &Meta, list: u32, word: usize, value: u32) {
    let (block, at) = meta.head_location(list);
    let at = at + 4 * word;
    let i = (block - meta.dir_start) as usize;
    let len = stream_len(meta.dir_bytes(), i);
    let mut page = WritePage::new(index, block);
    let mut bytes = page.contents(len).to_vec();
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    page.set_contents(&bytes);
    page.commit();
}

/// Makes `head` list `list`'s head block (generic WAL).
pub fn set_head(index: pg_sys::Relation, meta: &Meta, list: u32, head: u32) {
    set_entry_word(index, meta, list, 0, head);
}

/// Makes `block` (0: none) list `list`'s insert page (generic WAL).
pub fn set_insert_page(index: pg_sys::Relation, meta: &Meta, list: u32, block: u32) {
    set_entry_word(index, meta, list, 1, block);
}

/// Key of list `list`'s heavyweight insert lock: a block number no page
/// of an index can have (Postgres' last valid block is `u32::MAX - 1`,
/// hnsw's update lock uses that one; these sit just below it).
fn list_lock_key(list: u32) -> u32 {
    u32::MAX - 2 - list
}

/// Takes list `list`'s insert lock (held to the end of the insert).
pub fn lock_list(index: pg_sys::Relation, list: u32) {
    // SAFETY: a heavyweight lock on a reserved block number of an open index.
    unsafe { pg_sys::LockPage(index, list_lock_key(list), pg_sys::ExclusiveLock as i32) };
}

/// Releases list `list`'s insert lock.
pub fn unlock_list(index: pg_sys::Relation, list: u32) {
    // SAFETY: releasing the lock taken by `lock_list`.
    unsafe { pg_sys::UnlockPage(index, list_lock_key(list), pg_sys::ExclusiveLock as i32) };
}

/// What of each next page [`walk_chain`] hints the CPU to fetch while the
/// current page is read.
#[derive(Clone, Copy)]
pub enum Ahead {
    /// Nothing: records that span pages.
    Nothing,
    /// The whole page: pays where a page holds many small records.
    Page,
    /// The first record, `bytes` long: where a page holds a few long
    /// records, whose readers fetch each next record of a page themselves.
    FirstRecord(usize),
}

/// Walks list chain from `head`, calling `f` with every page (share
/// locked) in chain order, with `ahead` hinting the CPU to fetch (part of)
/// each next page while `f` reads the current one; an ERROR (XX002) on a
/// link out of the index's list pages or a chain longer than the index (a
/// cycle).
pub fn walk_chain(
    index: pg_sys::Relation,
    meta: &Meta,
    head: u32,
    ahead: Ahead,
    mut f: impl FnMut(&ReadPage),
) {
    let mut block = head;
    let mut nblocks = crate::pg::am::nblocks(index);
    let mut steps = 0u32;
    while block != 0 {
        if block < meta.first_list_block() || block >= nblocks {
            nblocks = crate::pg::am::nblocks(index);
            if block < meta.first_list_block() || block >= nblocks {
                raise_corrupted(index, format_args!("list chain links to block {block}"));
            }
        }
        steps += 1;
        if steps > nblocks {
            raise_corrupted(index, "list chain has a cycle");
        }
        let page = ReadPage::new(index, block);
        let next = page.special_u32(NEXT_AT);
        // The next page comes into the caches while `f` reads this one
        // (through the buffer this backend last read it from: no pin).
        let hint = match (next, ahead) {
            (0, _) | (_, Ahead::Nothing) => None,
            _ => PageHint::of(index, next),
        };
        match (ahead, hint) {
            (Ahead::Page, Some(hint)) => hint.prefetch_page(),
            (Ahead::FirstRecord(bytes), Some(hint)) => {
                hint.prefetch_item(1, 128, bytes.saturating_sub(128).div_ceil(64))
            }
            _ => {}
        }
        f(&page);
        block = next;
        drop(page);
        pgrx::check_for_interrupts!();
    }
}
