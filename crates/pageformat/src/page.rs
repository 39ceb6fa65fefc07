//! Reading a Postgres page's header and line pointers without trusting them.
//!
//! Postgres checks a page's header when it reads it from disk (lower <=
//! upper <= special <= BLCKSZ) but not its line pointers, and an item's
//! bytes are a slice the line pointer describes: one that reaches past
//! the page would read or write memory that is not the page's. Every item
//! of an index page is found through [`item_range`], which returns its
//! bytes' place only when it lies inside the page's item area; the page
//! header itself is re-checked by [`PageHeader::check`] before a page is
//! changed (Postgres' own page functions PANIC on a header they find
//! broken mid-change). These run for every element a scan visits: a few
//! loads and comparisons, no allocation.

use crate::{Corruption, BLCKSZ, LINE_POINTER, PAGE_HEADER, PAGE_ID, SPECIAL};
use std::ops::Range;

/// `lp_flags` of a line pointer in use (`LP_NORMAL`).
pub const LP_NORMAL: u8 = 1;
/// Most line pointers a page can hold (`MaxOffsetNumber`).
pub const MAX_OFFSET: u16 = (BLCKSZ / LINE_POINTER) as u16;
/// Highest heap line pointer offset (`MaxHeapTuplesPerPage` for 8 kB pages).
pub const MAX_HEAP_OFFSET: u16 = 291;

/// The fields of a page header that place its line pointers and items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    /// `pd_lower`: end of the line pointer array.
    pub lower: u16,
    /// `pd_upper`: start of the items.
    pub upper: u16,
    /// `pd_special`: start of the special space (end of the items).
    pub special: u16,
}

/// Reads a little-endian u16 at `at` of `b`.
fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

impl PageHeader {
    /// The header of `page` (at least [`PAGE_HEADER`] bytes).
    pub fn read(page: &[u8]) -> Self {
        PageHeader {
            lower: u16_at(page, 12),
            upper: u16_at(page, 14),
            special: u16_at(page, 16),
        }
    }

    /// Whether the page was never initialised (all zero, `PageIsNew`): a
    /// page the index was extended by whose writer failed before writing it.
    pub fn is_new(&self) -> bool {
        self.upper == 0
    }

    /// Number of line pointers (`PageGetMaxOffsetNumber`), at most those
    /// that fit before `upper` and the page's end.
    pub fn max_offset(&self) -> u16 {
        let lower = (self.lower as usize).min(self.upper as usize).min(BLCKSZ);
        (lower.saturating_sub(PAGE_HEADER) / LINE_POINTER) as u16
    }

    /// Checks that the header describes a page of this index: line
    /// pointers after the header, items after them, our special space at
    /// the end. A new (all-zero) page passes: it has no items.
    pub fn check(&self) -> Result<(), Corruption> {
        if self.is_new() && self.lower == 0 && self.special == 0 {
            return Ok(());
        }
        let ok = self.lower as usize >= PAGE_HEADER
            && self.lower <= self.upper
            && self.upper <= self.special
            && self.special as usize == BLCKSZ - SPECIAL;
        if ok {
            Ok(())
        } else {
            Err(Corruption::PageHeader {
                lower: self.lower,
                upper: self.upper,
                special: self.special,
            })
        }
    }
}

/// The fields of a line pointer (`ItemIdData`, bit fields on a
/// little-endian machine: offset 15 bits, flags 2, length 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePointer {
    /// `lp_off`: the item's first byte in the page.
    pub off: u16,
    /// `lp_flags`: [`LP_NORMAL`] for an item in use.
    pub flags: u8,
    /// `lp_len`: the item's length in bytes.
    pub len: u16,
}

impl LinePointer {
    /// Unpacks a raw `ItemIdData`.
    pub fn from_raw(raw: u32) -> Self {
        LinePointer {
            off: (raw & 0x7fff) as u16,
            flags: ((raw >> 15) & 3) as u8,
            len: (raw >> 17) as u16,
        }
    }

    /// Packs it as an `ItemIdData` (for tests and tools).
    pub fn to_raw(self) -> u32 {
        (self.off as u32 & 0x7fff) | (self.flags as u32 & 3) << 15 | (self.len as u32) << 17
    }
}

/// Line pointer `offset` (1-based) of `page`; the caller checked that
/// `1 <= offset <= max_offset`.
fn line_pointer(page: &[u8], offset: u16) -> LinePointer {
    let at = PAGE_HEADER + LINE_POINTER * (offset as usize - 1);
    LinePointer::from_raw(u32::from_le_bytes([
        page[at],
        page[at + 1],
        page[at + 2],
        page[at + 3],
    ]))
}

/// Where the bytes of item `offset` of `page` (a whole [`BLCKSZ`] page)
/// are: `Ok(None)` when the page has no such item in use (offset 0, past
/// the last line pointer, or a line pointer not in use), an error when
/// the line pointer places it outside the page's items (`upper` to
/// `special`, and never in our special space), unaligned or empty.
#[inline]
pub fn item_range(page: &[u8], offset: u16) -> Result<Option<Range<usize>>, Corruption> {
    debug_assert_eq!(page.len(), BLCKSZ);
    let header = PageHeader::read(page);
    if offset == 0 || offset > header.max_offset() {
        return Ok(None);
    }
    let lp = line_pointer(page, offset);
    if lp.flags != LP_NORMAL {
        return Ok(None);
    }
    let (start, end) = (lp.off as usize, lp.off as usize + lp.len as usize);
    let special = (header.special as usize).min(BLCKSZ - SPECIAL);
    if start < header.upper as usize
        || start < PAGE_HEADER
        || end > special
        || lp.len == 0
        || start % 8 != 0
    {
        return Err(Corruption::LinePointer {
            offset,
            off: lp.off,
            len: lp.len,
        });
    }
    Ok(Some(start..end))
}

/// Checks `page`'s header ([`PageHeader::check`]) and, unless it is new,
/// that its special space holds our page id: all there is to check on
/// the meta page, which has no items.
pub fn check_header(page: &[u8]) -> Result<(), Corruption> {
    let header = PageHeader::read(page);
    header.check()?;
    let id = u16_at(page, BLCKSZ - SPECIAL);
    if !header.is_new() && id != PAGE_ID {
        return Err(Corruption::PageId(id));
    }
    Ok(())
}

/// Every problem of a page's header, line pointers and special space, as
/// `pgvision_index_check` reports them: the first one found. Checks what
/// [`item_range`] does for every line pointer, plus that every one is in
/// use (this index never removes an item) and that no two items overlap.
pub fn check_page(page: &[u8]) -> Result<(), Corruption> {
    check_header(page)?;
    let header = PageHeader::read(page);
    if header.is_new() {
        return Ok(());
    }
    let mut ranges = Vec::with_capacity(header.max_offset() as usize);
    for offset in 1..=header.max_offset() {
        match item_range(page, offset)? {
            Some(r) => ranges.push((r, offset)),
            None => {
                return Err(Corruption::UnusedLinePointer {
                    offset,
                    flags: line_pointer(page, offset).flags,
                })
            }
        }
    }
    ranges.sort_by_key(|(r, _)| r.start);
    for pair in ranges.windows(2) {
        if pair[0].0.end > pair[1].0.start {
            return Err(Corruption::Overlap(pair[0].1, pair[1].1));
        }
    }
    Ok(())
}

/// Whether `block` may hold elements of an index of `nblocks` blocks: not
/// the meta page, not past the end. (A block number at or past the end,
/// `InvalidBlockNumber` above all, must never be read: reading
/// `InvalidBlockNumber` extends the relation.)
#[inline]
pub fn is_element_block(block: u32, nblocks: u32) -> bool {
    block != 0 && block < nblocks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty page of this index: header, special space, no items.
    pub(crate) fn empty_page() -> Vec<u8> {
        let mut p = vec![0u8; BLCKSZ];
        let special = (BLCKSZ - SPECIAL) as u16;
        p[12..14].copy_from_slice(&(PAGE_HEADER as u16).to_le_bytes());
        p[14..16].copy_from_slice(&special.to_le_bytes());
        p[16..18].copy_from_slice(&special.to_le_bytes());
        p[BLCKSZ - SPECIAL..BLCKSZ - SPECIAL + 2].copy_from_slice(&PAGE_ID.to_le_bytes());
        p
    }

    /// Adds an item as PageAddItem does: line pointer after the last,
    /// bytes MAXALIGNed below `upper`; its offset.
    pub(crate) fn add_item(page: &mut [u8], bytes: &[u8]) -> u16 {
        let mut h = PageHeader::read(page);
        let start = (h.upper as usize - crate::maxalign(bytes.len())) as u16;
        assert!(start >= h.lower + LINE_POINTER as u16, "item fits");
        page[start as usize..start as usize + bytes.len()].copy_from_slice(bytes);
        let lp = LinePointer {
            off: start,
            flags: LP_NORMAL,
            len: bytes.len() as u16,
        };
        let at = h.lower as usize;
        page[at..at + 4].copy_from_slice(&lp.to_raw().to_le_bytes());
        h.lower += LINE_POINTER as u16;
        h.upper = start;
        page[12..14].copy_from_slice(&h.lower.to_le_bytes());
        page[14..16].copy_from_slice(&h.upper.to_le_bytes());
        (h.lower as usize - PAGE_HEADER) as u16 / LINE_POINTER as u16
    }

    /// Overwrites line pointer `offset` of `page`.
    fn set_lp(page: &mut [u8], offset: u16, lp: LinePointer) {
        let at = PAGE_HEADER + LINE_POINTER * (offset as usize - 1);
        page[at..at + 4].copy_from_slice(&lp.to_raw().to_le_bytes());
    }

    #[test]
    fn items_are_found_where_they_were_put() {
        let mut p = empty_page();
        assert_eq!(check_page(&p), Ok(()));
        let a = add_item(&mut p, &[1u8; 100]);
        let b = add_item(&mut p, &[2u8; 13]);
        assert_eq!((a, b), (1, 2));
        let ra = item_range(&p, a).unwrap().unwrap();
        let rb = item_range(&p, b).unwrap().unwrap();
        assert!(p[ra.clone()].iter().all(|&x| x == 1) && ra.len() == 100);
        assert!(p[rb.clone()].iter().all(|&x| x == 2) && rb.len() == 13);
        assert_eq!(item_range(&p, 0), Ok(None));
        assert_eq!(item_range(&p, 3), Ok(None));
        assert_eq!(check_page(&p), Ok(()));
        let h = PageHeader::read(&p);
        assert_eq!((h.max_offset(), h.check()), (2, Ok(())));
    }

    #[test]
    fn line_pointers_round_trip() {
        for lp in [
            LinePointer {
                off: 8000,
                flags: LP_NORMAL,
                len: 520,
            },
            LinePointer {
                off: 0x7fff,
                flags: 3,
                len: 0x7fff,
            },
        ] {
            assert_eq!(LinePointer::from_raw(lp.to_raw()), lp);
        }
    }

    #[test]
    fn bad_line_pointers_are_errors_not_slices() {
        let mut p = empty_page();
        add_item(&mut p, &[1u8; 64]);
        let good = line_pointer(&p, 1);
        let cases = [
            // past the special space, past the page, before upper, into the
            // header, unaligned, empty
            (good.off, good.len + 8),
            (good.off, 0x7fff),
            (good.off - 64, good.len),
            (8, 16),
            (good.off + 1, good.len - 8),
            (good.off, 0),
        ];
        for (off, len) in cases {
            let lp = LinePointer { off, len, ..good };
            set_lp(&mut p, 1, lp);
            let e = item_range(&p, 1).unwrap_err();
            assert!(
                matches!(e, Corruption::LinePointer { offset: 1, .. }),
                "{e}"
            );
            assert!(check_page(&p).is_err());
        }
        set_lp(&mut p, 1, LinePointer { flags: 0, ..good });
        assert_eq!(item_range(&p, 1), Ok(None), "unused: no item");
        assert!(matches!(
            check_page(&p),
            Err(Corruption::UnusedLinePointer { offset: 1, .. })
        ));
    }

    #[test]
    fn headers_and_special_space_are_checked() {
        let mut p = empty_page();
        add_item(&mut p, &[7u8; 40]);
        add_item(&mut p, &[8u8; 40]);
        let h = PageHeader::read(&p);
        for (lower, upper, special) in [
            (4, h.upper, h.special),
            (h.upper + 8, h.upper, h.special),
            (h.lower, h.special + 8, h.special),
            (h.lower, h.upper, h.special - 8),
        ] {
            let mut q = p.clone();
            q[12..14].copy_from_slice(&lower.to_le_bytes());
            q[14..16].copy_from_slice(&upper.to_le_bytes());
            q[16..18].copy_from_slice(&special.to_le_bytes());
            assert!(matches!(check_page(&q), Err(Corruption::PageHeader { .. })));
            // whatever the header says, an item range stays in the page
            for off in 0..=4 {
                if let Ok(Some(r)) = item_range(&q, off) {
                    assert!(r.end <= BLCKSZ);
                }
            }
        }
        let mut q = p.clone();
        q[BLCKSZ - SPECIAL] ^= 1;
        assert!(matches!(check_page(&q), Err(Corruption::PageId(_))));
        // two line pointers naming the same bytes
        let mut q = p.clone();
        let first = line_pointer(&q, 1);
        set_lp(&mut q, 2, first);
        assert!(matches!(check_page(&q), Err(Corruption::Overlap(_, _))));
        assert_eq!(check_page(&vec![0u8; BLCKSZ]), Ok(()), "a new page");
    }

    #[test]
    fn element_blocks_exclude_meta_and_the_end() {
        assert!(!is_element_block(0, 10));
        assert!(is_element_block(1, 10) && is_element_block(9, 10));
        assert!(!is_element_block(10, 10));
        assert!(!is_element_block(u32::MAX, u32::MAX));
    }

    /// Random byte flips anywhere in a page never make an item reach
    /// outside the page, and the page check never panics.
    #[test]
    fn random_flips_never_escape_the_page() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut p = empty_page();
        for i in 0..12 {
            add_item(&mut p, &vec![i as u8; 40 + 37 * i]);
        }
        for _ in 0..20_000 {
            let mut q = p.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % 96) as usize; // header and line pointers
                q[at] ^= 1 << (next() % 8);
            }
            let _ = check_page(&q);
            for off in 0..=20 {
                if let Ok(Some(r)) = item_range(&q, off) {
                    assert!(r.start >= PAGE_HEADER && r.end <= BLCKSZ - SPECIAL);
                }
            }
        }
    }
}
