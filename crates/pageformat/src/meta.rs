//! The meta page (block 0): format identity, build parameters, entry point.

use crate::element::ElementId;

/// "pgvh" little-endian: identifies a pgvision hnsw index.
pub const MAGIC: u32 = 0x6876_6770;
/// Version of the on-disk format; bumped on every incompatible change.
/// Version 2 added elements that span pages (more than 3,796 dimensions
/// at m = 16): builds before it cannot read such an index and refuse it.
pub const FORMAT_VERSION: u32 = 2;
/// Oldest version this build reads: version 1 is version 2 without
/// page-spanning elements.
pub const OLDEST_READABLE_VERSION: u32 = 1;

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
}

const _: () = assert!(core::mem::size_of::<Meta>() == 40);

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
        }
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

    /// Checks magic and version; the error names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.magic != MAGIC {
            return Err(format!("bad magic number {:#x}", self.magic));
        }
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&self.version) {
            return Err(format!(
                "on-disk format version {} (this build reads versions \
                 {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}); REINDEX it",
                self.version
            ));
        }
        Ok(())
    }

    /// The meta page bytes.
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
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
        ];
        for (i, f) in fields.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&f.to_le_bytes());
        }
        b
    }

    /// Reads a meta page written by [`Meta::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Self {
        let f = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        Meta {
            magic: f(0),
            version: f(1),
            dims: f(2),
            m: f(3),
            ef_construction: f(4),
            metric: f(5),
            entry_block: f(6),
            entry_offset: f(7) as u16,
            entry_level: (f(7) >> 16) as u16,
            insert_block: f(8),
            upper_version: f(9),
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
        let mut newer = m;
        newer.version = FORMAT_VERSION + 1;
        assert!(newer.validate().unwrap_err().contains("REINDEX"));
        let mut old = m;
        old.version = 0;
        assert!(old.validate().unwrap_err().contains("REINDEX"));
        old.magic = 1;
        assert!(old.validate().unwrap_err().contains("magic"));
    }
}
