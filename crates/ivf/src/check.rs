//! What `pgvision_index_check` checks of an ivfflat index's bytes, as
//! plain functions of a page (no Postgres): page headers and line
//! pointers, the centre and directory streams, records. Each returns the
//! first problem as text for an "index corrupted" ERROR that the caller
//! prefixes with the block.

use crate::layout::{Element, Meta, RecordLayout, PAGE_ID, STREAM_BYTES};
use pageformat::page::MAX_HEAP_OFFSET;
use pageformat::{item_range, HeapTid, PageHeader, BLCKSZ, PAGE_HEADER, SPECIAL};

/// The page id in `page`'s special space.
fn page_id(page: &[u8]) -> u16 {
    u16::from_le_bytes([page[BLCKSZ - SPECIAL], page[BLCKSZ - SPECIAL + 1]])
}

/// Checks a page's header: items and line pointers in their places, the
/// special space at the end with the ivfflat page id. A new (all-zero)
/// page passes when `new_ok` (a list page an interrupted insert left).
pub fn check_header(page: &[u8], new_ok: bool) -> Result<(), String> {
    assert_eq!(page.len(), BLCKSZ, "a whole page");
    let header = PageHeader::read(page);
    header.check().map_err(|e| e.to_string())?;
    if header.is_new() {
        return if new_ok {
            Ok(())
        } else {
            Err("an uninitialised (all-zero) page".into())
        };
    }
    match page_id(page) {
        PAGE_ID => Ok(()),
        id => Err(format!("page id {id:#06x}, not an ivfflat page's")),
    }
}

/// Checks a page of a stream (centres, directory) holding `len` bytes:
/// its header, and that it says it holds exactly them.
pub fn check_stream_page(page: &[u8], len: usize) -> Result<(), String> {
    check_header(page, false)?;
    let lower = PageHeader::read(page).lower as usize;
    if lower != PAGE_HEADER + len {
        return Err(format!(
            "stream page with pd_lower {lower}, not {} for its {len} bytes",
            PAGE_HEADER + len
        ));
    }
    Ok(())
}

/// Bytes of a stream of `total` bytes on its page `i`.
pub fn stream_len(total: usize, i: usize) -> usize {
    total.saturating_sub(i * STREAM_BYTES).min(STREAM_BYTES)
}

/// Checks the centres: `lists * width` values, finite numbers (any bit
/// pattern for packed bits).
pub fn check_centres(meta: &Meta, centres: &[f32]) -> Result<(), String> {
    let dims = meta.width();
    if centres.len() != meta.lists as usize * dims {
        return Err(format!(
            "{} centre values, not {}",
            centres.len(),
            meta.lists as usize * dims
        ));
    }
    if meta.element_kind().is_bits() {
        return Ok(());
    }
    match centres.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(format!(
            "centre of list {} has a non-finite value",
            i / dims
        )),
        None => Ok(()),
    }
}

/// Checks a list's head block from the directory: 0 (empty) or a list
/// page of an index of `nblocks` blocks.
pub fn check_head(meta: &Meta, list: u32, head: u32, nblocks: u32) -> Result<(), String> {
    if head != 0 && (head < meta.first_list_block() || head >= nblocks) {
        return Err(format!(
            "list {list} starts at block {head}, not a list page (blocks {}..{nblocks})",
            meta.first_list_block()
        ));
    }
    Ok(())
}

/// Checks a list page's line pointers: every one in use, inside the
/// page's items, no two items overlapping; returns their number.
pub fn check_list_page(page: &[u8]) -> Result<u16, String> {
    check_header(page, true)?;
    let header = PageHeader::read(page);
    if header.is_new() {
        return Ok(0);
    }
    let mut ranges = Vec::with_capacity(header.max_offset() as usize);
    for offset in 1..=header.max_offset() {
        match item_range(page, offset).map_err(|e| e.to_string())? {
            Some(r) => ranges.push((r, offset)),
            None => return Err(format!("item {offset}: line pointer not in use")),
        }
    }
    ranges.sort_by_key(|(r, _)| r.start);
    if let Some(w) = ranges.windows(2).find(|w| w[0].0.end > w[1].0.start) {
        return Err(format!("items {} and {} overlap", w[0].1, w[1].1));
    }
    Ok(header.max_offset())
}

/// Checks a record item: its length for its piece, its heap TID (a valid
/// line pointer number on a block of a table of `heap_blocks` blocks), its
/// values finite (a vector or halfvec holds no NaN or infinity). Returns
/// its TID and piece number.
pub fn check_record(
    layout: &RecordLayout,
    item: &[u8],
    heap_blocks: u32,
    scratch: &mut Vec<f32>,
) -> Result<(HeapTid, usize), String> {
    let (tid, piece, body) = layout.decode(item).map_err(|e| e.to_string())?;
    if tid.offset == 0 || tid.offset > MAX_HEAP_OFFSET {
        return Err(format!(
            "heap TID ({},{}) has no valid offset",
            tid.block, tid.offset
        ));
    }
    if tid.block >= heap_blocks {
        return Err(format!(
            "heap TID ({},{}) is past the end of the table ({heap_blocks} blocks)",
            tid.block, tid.offset
        ));
    }
    if layout.element.is_bits() {
        return Ok((tid, piece)); // any bits are a bit string
    }
    if layout.element == crate::layout::Element::Sq8 {
        // Any bytes are codes; piece 0 starts with the fields a scan's
        // bounds are made of.
        if piece == 0 {
            let head = &body[..body.len().min(crate::layout::SQ8_HEADER)];
            crate::layout::Sq8Record::read(head)
                .map_err(|e| format!("heap TID ({},{}): {e}", tid.block, tid.offset))?;
        }
        return Ok((tid, piece));
    }
    let values = layout.element.values(body, scratch);
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        let element = piece * crate::layout::PIECE_BYTES / layout.element.bytes() + i;
        return Err(format!(
            "heap TID ({},{}): element {element} is not finite",
            tid.block, tid.offset
        ));
    }
    Ok((tid, piece))
}

/// A fingerprint of a vector's stored bytes (all pieces in order), to
/// compare a record with its heap row's vector encoded the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint of `bytes` (FNV-1a, 64 bits: stable, no keys).
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let mut f = Fingerprint::start();
        f.add(bytes);
        f
    }

    /// The fingerprint of no bytes yet.
    pub fn start() -> Fingerprint {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }

    /// Adds `bytes` (the next piece).
    pub fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The fingerprint of heap vector `v` stored as `element`.
    pub fn of_vector(element: Element, v: &[f32]) -> Fingerprint {
        Fingerprint::of(&element.encode(v))
    }

    /// This fingerprint continued with a piece's own fingerprint (a record
    /// in pieces is fingerprinted piece by piece, as a chain is read).
    pub fn then(mut self, piece: Fingerprint) -> Fingerprint {
        self.add(&piece.0.to_le_bytes());
        self
    }

    /// The fingerprint a record of `layout` in pieces has for its vector's
    /// stored `bytes` (its pieces' fingerprints in order); for a one-item
    /// record, that of the bytes.
    pub fn of_record(layout: &RecordLayout, bytes: &[u8]) -> Fingerprint {
        if !layout.spans() {
            return Fingerprint::of(bytes);
        }
        (0..layout.pieces).fold(Fingerprint::start(), |acc, i| {
            acc.then(Fingerprint::of(&bytes[layout.piece_range(i)]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::NEXT_AT;

    /// An empty ivfflat page as Postgres' PageInit makes it.
    fn empty_page() -> Vec<u8> {
        let mut p = vec![0u8; BLCKSZ];
        p[12..14].copy_from_slice(&(PAGE_HEADER as u16).to_le_bytes());
        p[14..16].copy_from_slice(&((BLCKSZ - SPECIAL) as u16).to_le_bytes());
        p[16..18].copy_from_slice(&((BLCKSZ - SPECIAL) as u16).to_le_bytes());
        p[BLCKSZ - SPECIAL..BLCKSZ - SPECIAL + 2].copy_from_slice(&PAGE_ID.to_le_bytes());
        p
    }

    /// Adds `item` to `page` as PageAddItem would.
    fn add(page: &mut [u8], item: &[u8]) {
        let lower = u16::from_le_bytes([page[12], page[13]]) as usize;
        let upper = u16::from_le_bytes([page[14], page[15]]) as usize;
        let start = (upper - item.len()) & !7;
        page[start..start + item.len()].copy_from_slice(item);
        let lp = (start as u32) | 1 << 15 | (item.len() as u32) << 17;
        page[lower..lower + 4].copy_from_slice(&lp.to_le_bytes());
        page[12..14].copy_from_slice(&((lower + 4) as u16).to_le_bytes());
        page[14..16].copy_from_slice(&(start as u16).to_le_bytes());
    }

    #[test]
    fn headers() {
        let p = empty_page();
        assert_eq!(check_header(&p, false), Ok(()));
        assert!(check_header(&vec![0u8; BLCKSZ], false).is_err());
        assert_eq!(check_header(&vec![0u8; BLCKSZ], true), Ok(()));
        let mut other = p.clone();
        other[BLCKSZ - SPECIAL] ^= 1;
        assert!(check_header(&other, false).unwrap_err().contains("page id"));
        let mut low = p.clone();
        low[12..14].copy_from_slice(&16u16.to_le_bytes());
        assert!(check_header(&low, false).is_err());
        let mut s = p.clone();
        s[12..14].copy_from_slice(&((PAGE_HEADER + 40) as u16).to_le_bytes());
        assert_eq!(check_stream_page(&s, 40), Ok(()));
        assert!(check_stream_page(&s, 44).is_err());
        assert_eq!(stream_len(STREAM_BYTES + 10, 1), 10);
        assert_eq!(stream_len(STREAM_BYTES + 10, 0), STREAM_BYTES);
    }

    #[test]
    fn list_pages_and_records() {
        let layout = RecordLayout::new(4, Element::F32);
        let tid = HeapTid {
            block: 3,
            offset: 7,
        };
        let item = layout
            .encode(tid, &Element::F32.encode(&[1.0, 2.0, 3.0, 4.0]))
            .remove(0);
        let mut p = empty_page();
        p[BLCKSZ - SPECIAL + NEXT_AT..BLCKSZ - SPECIAL + NEXT_AT + 4]
            .copy_from_slice(&9u32.to_le_bytes());
        add(&mut p, &item);
        add(&mut p, &item);
        assert_eq!(check_list_page(&p), Ok(2));
        let mut scratch = Vec::new();
        assert_eq!(check_record(&layout, &item, 4, &mut scratch), Ok((tid, 0)));
        assert!(check_record(&layout, &item, 3, &mut scratch)
            .unwrap_err()
            .contains("past the end"));
        let mut zero = item.clone();
        zero[4..6].copy_from_slice(&0u16.to_le_bytes());
        assert!(check_record(&layout, &zero, 4, &mut scratch)
            .unwrap_err()
            .contains("offset"));
        let mut nan = item.clone();
        nan[8 + 4..8 + 8].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(check_record(&layout, &nan, 4, &mut scratch)
            .unwrap_err()
            .contains("element 1"));
        assert!(check_record(&layout, &item[..10], 4, &mut scratch).is_err());
        // 8-bit records: any codes, finite fields
        let sq8 = RecordLayout::new(4, Element::Sq8);
        let item = sq8
            .encode(tid, &Element::Sq8.encode(&[1.0, 2.0, 3.0, 4.0]))
            .remove(0);
        assert_eq!(check_record(&sq8, &item, 4, &mut scratch), Ok((tid, 0)));
        let mut bad = item.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert!(check_record(&sq8, &bad, 4, &mut scratch)
            .unwrap_err()
            .contains("bound inf"));
        // overlapping items, a line pointer not in use
        let mut o = p.clone();
        let lp1 = u32::from_le_bytes(o[24..28].try_into().unwrap());
        o[28..32].copy_from_slice(&(lp1 + 8).to_le_bytes());
        assert!(check_list_page(&o).is_err());
        let mut u = p.clone();
        u[24..28].copy_from_slice(&(lp1 & !(3 << 15)).to_le_bytes());
        assert!(check_list_page(&u).unwrap_err().contains("not in use"));
        assert_eq!(check_list_page(&vec![0u8; BLCKSZ]), Ok(0));
    }

    #[test]
    fn centres_and_heads() {
        let meta = Meta::new(2, 3, 0, Element::F32);
        assert_eq!(check_centres(&meta, &[0.0; 6]), Ok(()));
        assert!(check_centres(&meta, &[0.0; 5]).is_err());
        let mut c = [0.0f32; 6];
        c[3] = f32::INFINITY;
        assert!(check_centres(&meta, &c).unwrap_err().contains("list 1"));
        let first = meta.first_list_block();
        assert_eq!(check_head(&meta, 0, 0, first), Ok(()));
        assert_eq!(check_head(&meta, 0, first, first + 1), Ok(()));
        assert!(check_head(&meta, 0, first, first).is_err());
        assert!(check_head(&meta, 0, 1, first + 1).is_err());
    }

    #[test]
    fn fingerprints_follow_the_bytes() {
        let v = [1.0f32, -2.5, 3.0];
        let b = Element::F16.encode(&v);
        let mut f = Fingerprint::start();
        f.add(&b[..2]);
        f.add(&b[2..]);
        assert_eq!(f, Fingerprint::of(&b));
        assert_eq!(f, Fingerprint::of_vector(Element::F16, &v));
        assert_ne!(f, Fingerprint::of_vector(Element::F16, &[1.0, -2.5, 3.5]));
        assert_ne!(Fingerprint::of_vector(Element::F32, &v), f);
        let wide = RecordLayout::new(5000, Element::F32);
        let bytes = Element::F32.encode(&vec![0.5f32; 5000]);
        let pieces = (0..wide.pieces).fold(Fingerprint::start(), |acc, i| {
            acc.then(Fingerprint::of(&bytes[wide.piece_range(i)]))
        });
        assert_eq!(Fingerprint::of_record(&wide, &bytes), pieces);
        assert_ne!(pieces, Fingerprint::of(&bytes));
        let narrow = RecordLayout::new(3, Element::F16);
        assert_eq!(Fingerprint::of_record(&narrow, &b), Fingerprint::of(&b));
    }
}
