//! Where elements go: the build's packing of elements onto pages, and the
//! order an insert tries a page's free slots in.

use crate::{item_footprint, page_capacity, ElementId, ElementLayout};

/// Page addresses of `n` nodes packed in `order` (a permutation of
/// `0..n`) from block 1 on, node `i` at index `i` of the result; `level_of`
/// gives a node's top layer (its tuple's size). Single-page elements fill
/// each page in turn; page-spanning ones get one place of an extent each
/// (see [`ElementLayout::group`]). Elements never move afterwards.
pub fn pack_addresses(
    layout: &ElementLayout,
    order: &[u32],
    n: usize,
    level_of: impl Fn(u32) -> usize,
) -> Vec<ElementId> {
    pack_sized(layout, order, n, |node| layout.size_at(level_of(node)))
}

/// [`pack_addresses`] given each node's tuple bytes (`size_of`): the
/// elements of a sparse layout differ by more than their level.
pub fn pack_sized(
    layout: &ElementLayout,
    order: &[u32],
    n: usize,
    size_of: impl Fn(u32) -> usize,
) -> Vec<ElementId> {
    let mut ids = vec![ElementId::new(0, 0); n];
    if layout.spans() {
        let g = layout.group();
        for (i, &node) in order.iter().enumerate() {
            let block = 1 + (i / g) * layout.extent_blocks() + i % g;
            let block = u32::try_from(block).expect("index too large");
            ids[node as usize] = ElementId::new(block, 1);
        }
        return ids;
    }
    let (mut block, mut used, mut offset) = (1u32, 0usize, 0u16);
    for &node in order {
        let need = item_footprint(size_of(node));
        if used + need > page_capacity() {
            block += 1;
            used = 0;
            offset = 0;
        }
        used += need;
        offset += 1;
        ids[node as usize] = ElementId::new(block, offset);
    }
    ids
}

/// Sorts a page's free slots `(offset, bytes)` into the order an element
/// of `need` bytes tries them: one of the same size first (an in-place
/// copy), then the largest (most likely to be resizable in place), ties
/// by offset.
pub fn free_slot_order(free: &mut [(u16, usize)], need: usize) {
    free.sort_by_key(|&(off, len)| (len != need, std::cmp::Reverse(len), off));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_first_then_largest() {
        let mut free = vec![(1, 100), (2, 300), (3, 200), (4, 200), (5, 300)];
        free_slot_order(&mut free, 200);
        assert_eq!(free, vec![(3, 200), (4, 200), (2, 300), (5, 300), (1, 100)]);
        free_slot_order(&mut free, 50);
        assert_eq!(free, vec![(2, 300), (5, 300), (3, 200), (4, 200), (1, 100)]);
    }

    #[test]
    fn single_page_elements_fill_pages_in_order() {
        let layout = ElementLayout::new(16, 128, crate::FORMAT_VERSION);
        assert!(!layout.spans());
        let n = 100;
        let order: Vec<u32> = (0..n as u32).rev().collect();
        let ids = pack_addresses(&layout, &order, n, |node| (node % 3) as usize);
        // Walk in order: blocks never go back, offsets count up from 1 on
        // each block, and what one block holds fits one page.
        let (mut block, mut next_off, mut used) = (1u32, 1u16, 0usize);
        for &node in &order {
            let id = ids[node as usize];
            let need = item_footprint(layout.size_at((node % 3) as usize));
            if id.block() != block {
                assert_eq!(id.block(), block + 1, "no block skipped");
                assert!(used + need > page_capacity(), "a page left early");
                block = id.block();
                next_off = 1;
                used = 0;
            }
            assert_eq!(id.offset(), next_off);
            next_off += 1;
            used += need;
            assert!(used <= page_capacity());
        }
        assert!(block > 1, "100 elements of 128-d need several pages");
    }

    #[test]
    fn spanning_elements_get_extent_places() {
        let layout = ElementLayout::new(16, 4096, crate::FORMAT_VERSION);
        assert!(layout.spans());
        let (g, e) = (layout.group(), layout.extent_blocks());
        let n = 3 * g + 1;
        let order: Vec<u32> = (0..n as u32).collect();
        let ids = pack_addresses(&layout, &order, n, |_| 0);
        for (i, &node) in order.iter().enumerate() {
            let id = ids[node as usize];
            assert_eq!(id.offset(), 1);
            assert_eq!(id.block() as usize, 1 + (i / g) * e + i % g);
        }
        let mut blocks: Vec<u32> = ids.iter().map(|id| id.block()).collect();
        blocks.dedup();
        assert_eq!(blocks.len(), n, "one place each");
    }
}
