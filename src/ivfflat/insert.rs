//! `aminsert`: adding one row to the list of its nearest centre.
//!
//! Design note. Under the list's insert lock (`store::lock_list`) the
//! record goes onto the list's insert page, the first page along the chain
//! from there with room (vacuum freed it; see `ivf::layout`), moving the
//! insert page on (or to 0 when the chain has no room left); else onto the
//! list's head page when it has room (one generic WAL record each). Otherwise a new page is made with the record and a link to the
//! old head (a full-page WAL record), then the directory names it as the
//! head (one more record): until then no scan can reach it, and a crash
//! in between loses only a row whose transaction had not committed. A
//! record in pieces gets its own new blocks, written and logged at once
//! (`Extent`), linked in front of the head the same way.

use super::pages::{raise_corrupted, Extent, PageImage, ReadPage, WritePage};
use super::params::assignment;
use super::store::{
    lock_list, read_centres, read_entry, read_meta, set_head, set_insert_page, unlock_list,
};
use graph::Metric;
use ivf::layout::{free_bytes, Meta, RecordLayout, NEXT_AT};
use pageformat::HeapTid;
use pgrx::pg_sys;

/// Inserts vector `v` of heap row `tid`; false when it is not indexed
/// (a zero vector under cosine).
pub fn insert_vector(index: pg_sys::Relation, tid: HeapTid, v: &[f32]) -> bool {
    let meta = read_meta(index);
    vectorcore::check::expected_dim(meta.dims as i32, v.len())
        .unwrap_or_else(|e| crate::error::raise_vector(e));
    let metric = Metric::from_code(meta.metric).unwrap_or_else(|| {
        super::pages::raise_corrupted(index, format_args!("unknown metric {}", meta.metric))
    });
    if metric == Metric::Cosine && distance::norm(v) == 0.0 {
        return false;
    }
    let centres = read_centres(index, &meta);
    let (dims, element) = (meta.dims as usize, meta.element_kind());
    let mut packed = Vec::new();
    let v = element.prepare(v, &mut packed);
    let list = ivf::nearest_centre(&centres, meta.width(), v, assignment(metric, element)).0 as u32;
    let layout = RecordLayout::new(dims, element);
    let items = layout.encode(tid, &layout.element.encode(v));
    lock_list(index, list);
    let (head, insert_page) = read_entry(index, &meta, list);
    if !layout.spans()
        && insert_page != 0
        && insert_page != head
        && put_on_chain(index, &meta, list, insert_page, &items[0])
    {
        unlock_list(index, list);
        return true;
    }
    if !layout.spans() && head != 0 {
        let mut page = WritePage::new(index, head);
        if page.add_item(&items[0]).is_some() {
            page.commit();
            unlock_list(index, list);
            return true;
        }
        drop(page); // full: aborted, unchanged
    }
    let new_head = if layout.spans() {
        let extent = Extent::extend(index, items.len());
        let first = extent.block(0);
        let images: Vec<PageImage> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut image = PageImage::new();
                image
                    .add_item(item)
                    .expect("an empty page takes one record item");
                let next = if i + 1 < items.len() {
                    first + i as u32 + 1
                } else {
                    head
                };
                image.set_special_u32(NEXT_AT, next);
                image
            })
            .collect();
        extent.install(&images);
        first
    } else {
        let mut page = WritePage::extend(index);
        page.set_special_u32(NEXT_AT, head);
        page.add_item(&items[0])
            .expect("an empty page takes one record item");
        let block = page.block();
        page.commit();
        block
    };
    set_head(index, &meta, list, new_head);
    unlock_list(index, list);
    true
}

/// Puts one-item record `item` of list `list` on the first page with room
/// along its chain from its insert page `from`, and makes that page the
/// insert page (0 when none has room); whether it was put. The caller
/// holds the list's lock, so no other insert fills these pages meanwhile.
fn put_on_chain(index: pg_sys::Relation, meta: &Meta, list: u32, from: u32, item: &[u8]) -> bool {
    let need = RecordLayout::new(meta.dims as usize, meta.element_kind()).footprint();
    let mut nblocks = crate::pg::am::nblocks(index);
    let (mut block, mut steps) = (from, 0u32);
    while block != 0 {
        if block < meta.first_list_block() || block >= nblocks {
            nblocks = crate::pg::am::nblocks(index);
            if block < meta.first_list_block() || block >= nblocks {
                raise_corrupted(
                    index,
                    format_args!("list {list}'s chain links to block {block}"),
                );
            }
        }
        steps += 1;
        if steps > nblocks {
            raise_corrupted(index, format_args!("list {list}'s chain has a cycle"));
        }
        let next = {
            let page = ReadPage::new(index, block);
            if free_bytes(page.bytes()) < need {
                Some(page.special_u32(NEXT_AT))
            } else {
                None
            }
        };
        match next {
            Some(next) => block = next,
            None => {
                let mut page = WritePage::new(index, block);
                if page.add_item(item).is_some() {
                    page.commit();
                    if block != from {
                        set_insert_page(index, meta, list, block);
                    }
                    return true;
                }
                drop(page); // not as much room as the header said: go on
                block = ReadPage::new(index, block).special_u32(NEXT_AT);
            }
        }
    }
    set_insert_page(index, meta, list, 0);
    false
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
            "ivfflat insert temporary",
            |tid, v| {
                insert_vector(index, tid, v);
            },
        )
    }
}
