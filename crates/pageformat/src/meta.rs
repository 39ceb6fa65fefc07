//! The meta page (block 0): format identity, build parameters, entry point.

use crate::element::ElementId;

/// "pgvh" little-endian: identifies a pgvision hnsw index.
pub const MAGIC: u32 = 0x6876_6770;
/// Version of the on-disk format; bumped on every incompatible change.
/// Version 2 added elements that span pages (more than 3,796 dimensions
/// at m = 16): builds before it cannot read such an index and refuse it.
/// Version 3 added the dimension order (`order_len`, see below): the f16
/// copies of an index with one hold their dimensions permuted.
/// Version 4 seals each element ([`crate::seal`]): 9 heap TIDs an element
/// and two checksums in the tenth slot.
pub const FORMAT_VERSION: u32 = 4;
/// Newest version this build reads: [`crate::SQ8_FORMAT_VERSION`] (5) is
/// version 4 with 8-bit copies (`storage = 'i8'`, see [`crate::storage`]);
/// [`crate::BITS_FORMAT_VERSION`] (6) is version 4 with packed bits,
/// [`crate::SPARSE_FORMAT_VERSION`] (7) version 4 with sparse copies.
pub const NEWEST_READABLE_VERSION: u32 = crate::SPARSE_FORMAT_VERSION;
/// Oldest version this build reads: versions 1 to 3 are version 4 without
/// seals (10 heap TIDs an element), 1 and 2 also without a dimension
/// order, and 1 without page-spanning elements.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// Values `m` takes (the reloption's bounds).
pub const M_RANGE: std::ops::RangeInclusive<u32> = 2..=100;
/// Values `ef_construction` takes (the reloption's bounds).
pub const EF_CONSTRUCTION_RANGE: std::ops::RangeInclusive<u32> = 4..=1000;
/// Highest metric code (0 L2, 1 inner product, 2 cosine, 3 L1, 4 Jaccard).
pub const MAX_METRIC: u32 = 4;

/// Contents of the meta page, stored right after the page header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Meta {
    /// [`MAGIC`].
    pub magic: u32,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Dimensions of every indexed vector.
    pub dims: u32,
    /// `m`: neighbours per element above layer 0 (2m at layer 0).
    pub m: u32,
    /// `ef_construction`.
    pub ef_construction: u32,
    /// Distance: 0 = L2, 1 = inner product, 2 = cosine.
    pub metric: u32,
    /// Entry point block (`u32::MAX` when the graph is empty).
    pub entry_block: u32,
    /// Entry point offset.
    pub entry_offset: u16,
    /// Entry point level.
    pub entry_level: u16,
    /// Last block that had room for new elements.
    pub insert_block: u32,
    /// Changes to the layers above 0: moved on by every insert of an
    /// element above layer 0 and by every vacuum repair, from a value the
    /// build draws, so scans can tell whether a copy of the upper layers
    /// is current. (Version 1 indexes made before it hold 0 here.)
    pub upper_version: u32,
    /// Entries of the dimension order stored right after these fields
    /// (0: none, the f16 copies keep the vectors' own order; else `dims`
    /// u16 values, `order[i]` = the vector dimension stored at place `i`;
    /// see `graph::variance_order`). Version 3 on; read as 0 before.
    pub order_len: u32,
}

/// Bytes of [`Meta`] on the page, before the dimension order.
pub const META_BYTES: usize = 44;
const _: () = assert!(core::mem::size_of::<Meta>() == META_BYTES);

/// Most dimensions an index stores a dimension order for: the order
/// must fit the meta page (2 bytes a dimension). Wider indexes, whose
/// elements span pages anyway, keep the vectors' own order.
pub const MAX_ORDERED_DIMS: usize = 4000;
const _: () = assert!(
    crate::PAGE_HEADER + META_BYTES + 2 * MAX_ORDERED_DIMS + crate::SPECIAL <= crate::BLCKSZ
);

/// The page bytes of a dimension order (u16 little-endian each).
pub fn encode_order(order: &[u32]) -> Vec<u8> {
    assert!(order.len() <= MAX_ORDERED_DIMS, "dimension order too long");
    order
        .iter()
        .flat_map(|&d| (d as u16).to_le_bytes())
        .collect()
}

/// Reads a dimension order of `dims` entries written by [`encode_order`];
/// an error when the bytes are not a permutation of `0..dims`.
pub fn decode_order(bytes: &[u8], dims: usize) -> Result<Vec<u32>, String> {
    if bytes.len() != 2 * dims {
        return Err(format!(
            "dimension order of {} bytes for {dims} dimensions",
            bytes.len()
        ));
    }
    let order: Vec<u32> = bytes
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)
        .collect();
    let mut seen = vec![false; dims];
    for &d in &order {
        if d as usize >= dims || std::mem::replace(&mut seen[d as usize], true) {
            return Err("dimension order is not a permutation".into());
        }
    }
    Ok(order)
}

impl Meta {
    /// A fresh meta page for an empty index.
    pub fn new(dims: u32, m: u32, ef_construction: u32, metric: u32) -> Self {
        Meta {
            magic: MAGIC,
            version: FORMAT_VERSION,
            dims,
            m,
            ef_construction,
            metric,
            entry_block: u32::MAX,
            entry_offset: 0,
            entry_level: 0,
            insert_block: 1,
            upper_version: 0,
            order_len: 0,
        }
    }

    /// A fresh meta page as [`Meta::new`], for an index of `storage`.
    pub fn new_with_storage(
        dims: u32,
        m: u32,
        ef_construction: u32,
        metric: u32,
        storage: crate::Storage,
    ) -> Self {
        Meta {
            version: storage.version(),
            ..Meta::new(dims, m, ef_construction, metric)
        }
    }

    /// How the index stores its copies (from the format version).
    pub fn storage(&self) -> crate::Storage {
        crate::Storage::of_version(self.version)
    }

    /// Bytes of the meta page's contents: these fields and the order.
    pub fn contents_len(&self) -> usize {
        META_BYTES + 2 * self.order_len as usize
    }

    /// The entry point and its level, if the graph has one.
    pub fn entry_point(&self) -> Option<(ElementId, usize)> {
        (self.entry_block != u32::MAX).then(|| {
            (
                ElementId::new(self.entry_block, self.entry_offset),
                self.entry_level as usize,
            )
        })
    }

    /// Sets (or clears) the entry point.
    pub fn set_entry_point(&mut self, ep: Option<(ElementId, usize)>) {
        match ep {
            Some((id, level)) => {
                self.entry_block = id.block();
                self.entry_offset = id.offset();
                self.entry_level = level as u16;
            }
            None => {
                self.entry_block = u32::MAX;
                self.entry_offset = 0;
                self.entry_level = 0;
            }
        }
    }

    /// Records a change to the layers above 0 (see `upper_version`).
    pub fn bump_upper_version(&mut self) {
        self.upper_version = self.upper_version.wrapping_add(1);
    }

    /// Checks magic, version and that every field holds a value a build
    /// writes (so sizes computed from them stay small); the error names
    /// what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.magic != MAGIC {
            return Err(format!("bad magic number {:#x}", self.magic));
        }
        if !(OLDEST_READABLE_VERSION..=NEWEST_READABLE_VERSION).contains(&self.version) {
            return Err(format!(
                "on-disk format version {} (this build reads versions \
                 {OLDEST_READABLE_VERSION} to {NEWEST_READABLE_VERSION}); REINDEX it",
                self.version
            ));
        }
        if !(1..=self.storage().max_dims() as u32).contains(&self.dims) {
            return Err(format!("{} dimensions", self.dims));
        }
        if !M_RANGE.contains(&self.m) {
            return Err(format!("m = {}", self.m));
        }
        let storage = self.storage();
        if storage == crate::Storage::Sq8
            && self.dims as usize
                > crate::max_single_page_dims_in(self.m as usize, crate::MIN_LEVEL_CAP, storage)
        {
            return Err(format!(
                "{} dimensions of 8-bit copies at m = {}",
                self.dims, self.m
            ));
        }
        if !EF_CONSTRUCTION_RANGE.contains(&self.ef_construction) {
            return Err(format!("ef_construction = {}", self.ef_construction));
        }
        if self.metric > MAX_METRIC {
            return Err(format!("metric code {}", self.metric));
        }
        if self.entry_block != u32::MAX
            && (self.entry_block == 0
                || self.entry_offset == 0
                || self.entry_level > u8::MAX as u16)
        {
            return Err(format!(
                "entry point ({},{}) at level {}",
                self.entry_block, self.entry_offset, self.entry_level
            ));
        }
        if self.order_len != 0
            && (self.order_len != self.dims || self.order_len as usize > MAX_ORDERED_DIMS)
        {
            return Err(format!(
                "dimension order of {} entries for {} dimensions",
                self.order_len, self.dims
            ));
        }
        Ok(())
    }

    /// The meta page bytes.
    pub fn to_bytes(&self) -> [u8; META_BYTES] {
        let mut b = [0u8; META_BYTES];
        let fields = [
            self.magic,
            self.version,
            self.dims,
            self.m,
            self.ef_construction,
            self.metric,
            self.entry_block,
            self.entry_offset as u32 | (self.entry_level as u32) << 16,
            self.insert_block,
            self.upper_version,
            self.order_len,
        ];
        for (i, f) in fields.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
        }
        b
    }

    /// Reads a meta page written by [`Meta::to_bytes`] (of any readable
    /// version: before version 3 the bytes past the fields are not ours).
    pub fn from_bytes(b: &[u8]) -> Self {
        let f = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        let version = f(1);
        Meta {
            magic: f(0),
            version,
            dims: f(2),
            m: f(3),
            ef_construction: f(4),
            metric: f(5),
            entry_block: f(6),
            entry_offset: f(7) as u16,
            entry_level: (f(7) >> 16) as u16,
            insert_block: f(8),
            upper_version: f(9),
            order_len: if version >= 3 { f(10) } else { 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_validation() {
        let mut m = Meta::new(2048, 16, 64, 2);
        assert_eq!(m.entry_point(), None);
        m.set_entry_point(Some((ElementId::new(7, 3), 4)));
        m.upper_version = 0xdead_beef;
        let back = Meta::from_bytes(&m.to_bytes());
        assert_eq!(back, m);
        assert_eq!(back.entry_point(), Some((ElementId::new(7, 3), 4)));
        assert!(back.validate().is_ok());
        let mut v1 = m;
        v1.version = 1;
        assert!(v1.validate().is_ok(), "version 1 indexes stay readable");
        let mut sq8 = m;
        sq8.version = crate::SQ8_FORMAT_VERSION;
        assert!(sq8.validate().is_ok(), "8-bit copies at 2048-d");
        assert_eq!(sq8.storage(), crate::Storage::Sq8);
        assert_eq!(m.storage(), crate::Storage::Half);
        sq8.dims = 16_000;
        assert!(sq8.validate().is_err(), "8-bit copies never span pages");
        let mut sparse = m;
        sparse.version = crate::SPARSE_FORMAT_VERSION;
        sparse.dims = 30_522;
        assert!(
            sparse.validate().is_ok(),
            "sparse copies past 16,000 dimensions"
        );
        assert_eq!(sparse.storage(), crate::Storage::Sparse);
        let mut dense = sparse;
        dense.version = FORMAT_VERSION;
        assert!(dense.validate().is_err(), "f16 copies stop at 16,000");
        let mut six = m;
        six.version = crate::BITS_FORMAT_VERSION;
        assert!(six.validate().is_ok(), "format 6: packed bits");
        assert_eq!(six.storage(), crate::Storage::Bits);
        let mut newer = m;
        newer.version = NEWEST_READABLE_VERSION + 1;
        assert!(newer.validate().unwrap_err().contains("REINDEX"));
        let mut old = m;
        old.version = 0;
        assert!(old.validate().unwrap_err().contains("REINDEX"));
        old.magic = 1;
        assert!(old.validate().unwrap_err().contains("magic"));
    }

    #[test]
    fn dimension_order_round_trip_and_old_versions_have_none() {
        let mut m = Meta::new(4, 16, 64, 0);
        m.order_len = 4;
        let bytes = m.to_bytes();
        assert_eq!(Meta::from_bytes(&bytes).order_len, 4);
        assert_eq!(m.contents_len(), META_BYTES + 8);
        let order = encode_order(&[2, 0, 3, 1]);
        assert_eq!(decode_order(&order, 4).unwrap(), vec![2, 0, 3, 1]);
        assert!(decode_order(&encode_order(&[2, 0, 2, 1]), 4).is_err());
        assert!(decode_order(&encode_order(&[2, 0, 4, 1]), 4).is_err());
        assert!(decode_order(&order, 5).is_err());
        // a version 2 page: whatever follows the fields is not an order
        let mut v2 = bytes;
        v2[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(Meta::from_bytes(&v2).order_len, 0);
        let mut bad = m;
        bad.order_len = 3;
        assert!(bad.validate().is_err());
    }

    /// Every field out of its range is refused, so a corrupted meta page
    /// never sizes a layout or a buffer.
    #[test]
    fn fields_out_of_range_are_refused() {
        let good = {
            let mut m = Meta::new(128, 16, 64, 1);
            m.set_entry_point(Some((ElementId::new(3, 2), 2)));
            m
        };
        assert_eq!(good.validate(), Ok(()));
        type Spoil = (&'static str, fn(&mut Meta));
        let bad: [Spoil; 9] = [
            ("dimensions", |m| m.dims = 0),
            ("dimensions", |m| m.dims = 16_001),
            ("m =", |m| m.m = 1),
            ("m =", |m| m.m = u32::MAX),
            ("ef_construction", |m| m.ef_construction = 1001),
            ("metric", |m| m.metric = 5),
            ("entry point", |m| m.entry_block = 0),
            ("entry point", |m| m.entry_offset = 0),
            ("entry point", |m| m.entry_level = 256),
        ];
        for (what, spoil) in bad {
            let mut m = good;
            spoil(&mut m);
            let e = Meta::from_bytes(&m.to_bytes()).validate().unwrap_err();
            assert!(e.contains(what), "{e}");
        }
        let mut none = good;
        none.set_entry_point(None);
        assert_eq!(none.validate(), Ok(()));
        let mut bits = Meta::new_with_storage(64_000, 16, 64, 3, crate::Storage::Bits);
        assert_eq!(bits.validate(), Ok(()));
        bits.dims = 64_001;
        assert!(bits.validate().unwrap_err().contains("dimensions"));
    }

    /// Random bit flips in the meta page's bytes give a valid meta page or
    /// an error, never a panic; a valid one has fields in range.
    #[test]
    fn random_flips_are_valid_or_refused() {
        let mut m = Meta::new(2048, 16, 64, 2);
        m.set_entry_point(Some((ElementId::new(7, 3), 4)));
        let bytes = m.to_bytes();
        let mut seed = 0x1234_5678_9abc_def1u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut b = bytes;
            b[(seed % META_BYTES as u64) as usize] ^= 1 << ((seed >> 8) % 8);
            let back = Meta::from_bytes(&b);
            if back.validate().is_ok() {
                assert!(back.dims >= 1 && back.dims as usize <= crate::MAX_DIMS);
                assert!(back.contents_len() + crate::PAGE_HEADER < crate::BLCKSZ);
            }
        }
    }
}
