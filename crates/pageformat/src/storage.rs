//! How an index stores its copies of the vectors: the `storage` option.
//!
//! | storage | copy | format version | 2048-d element (m = 16) |
//! |---|---|---|---|
//! | `half` (default) | f16 codes and a scale ([`distance::half`]) | 4 | 4.4 kB, one a page |
//! | `i8` | one byte a dimension, per-vector offset and scale ([`distance::sq8`]) | 5 | 2.3 kB, three a page |
//!
//! The format version says which: an `i8` index is written as version 5
//! (format 4, with 8-bit copies), so a build that predates it refuses the
//! index with its REINDEX error instead of reading bytes as f16 codes.

/// The kind of copy an index keeps of each vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// f16 codes times a scale.
    Half,
    /// 8-bit codes: `offset + scale * code`.
    Sq8,
}

/// Format version of an index with 8-bit copies (format 4 otherwise).
pub const SQ8_FORMAT_VERSION: u32 = 5;

impl Storage {
    /// The storage of an index of on-disk format `version`.
    pub fn of_version(version: u32) -> Storage {
        if version == SQ8_FORMAT_VERSION {
            Storage::Sq8
        } else {
            Storage::Half
        }
    }

    /// The format version a new index of this storage is written in.
    pub fn version(self) -> u32 {
        match self {
            Storage::Half => crate::FORMAT_VERSION,
            Storage::Sq8 => SQ8_FORMAT_VERSION,
        }
    }

    /// The option value naming it (`WITH (storage = ...)`).
    pub fn name(self) -> &'static str {
        match self {
            Storage::Half => "half",
            Storage::Sq8 => "i8",
        }
    }

    /// The storage an option value names (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Storage> {
        [Storage::Half, Storage::Sq8]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Bytes of one code.
    pub fn code_bytes(self) -> usize {
        match self {
            Storage::Half => 2,
            Storage::Sq8 => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_round_trip() {
        for s in [Storage::Half, Storage::Sq8] {
            assert_eq!(Storage::from_name(s.name()), Some(s));
            assert_eq!(Storage::of_version(s.version()), s);
        }
        assert_eq!(Storage::from_name("I8"), Some(Storage::Sq8));
        assert_eq!(Storage::from_name("int8"), None);
        for v in 1..=4 {
            assert_eq!(Storage::of_version(v), Storage::Half);
        }
    }
}
