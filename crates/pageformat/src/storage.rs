//! How an index stores its copies of the vectors: the `storage` option.
//!
//! | storage | copy | format version | 2048-d element (m = 16) |
//! |---|---|---|---|
//! | `half` (default) | f16 codes and a scale ([`distance::half`]) | 4 | 4.4 kB, one a page |
//! | `i8` | one byte a dimension, per-vector offset and scale ([`distance::sq8`]) | 5 | 2.3 kB, three a page |
//! | `sparse` (`sparsevec` only, its default) | the non-zero elements, exact ([`distance::sparse`]) | 7 | ~6 bytes a non-zero + lists: 150 non-zeros 1.2 kB, six a page |
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
    /// The non-zero elements of a sparse vector as they are (variable
    /// size: see `crate::element`).
    Sparse,
}

/// Format version of an index with 8-bit copies (format 4 otherwise).
pub const SQ8_FORMAT_VERSION: u32 = 5;
/// Format version of an index of sparse copies.
pub const SPARSE_FORMAT_VERSION: u32 = 7;
/// Most dimensions an index of sparse copies takes: `sparsevec`'s own limit.
pub const SPARSE_MAX_DIMS: usize = 1_000_000_000;
/// Most non-zero elements an indexed sparse vector may have (pgvector's
/// hnsw limit).
pub const SPARSE_MAX_NNZ: usize = 1_000;

impl Storage {
    /// The storage of an index of on-disk format `version`.
    pub fn of_version(version: u32) -> Storage {
        match version {
            SQ8_FORMAT_VERSION => Storage::Sq8,
            SPARSE_FORMAT_VERSION => Storage::Sparse,
            _ => Storage::Half,
        }
    }

    /// The format version a new index of this storage is written in.
    pub fn version(self) -> u32 {
        match self {
            Storage::Half => crate::FORMAT_VERSION,
            Storage::Sq8 => SQ8_FORMAT_VERSION,
            Storage::Sparse => SPARSE_FORMAT_VERSION,
        }
    }

    /// The option value naming it (`WITH (storage = ...)`).
    pub fn name(self) -> &'static str {
        match self {
            Storage::Half => "half",
            Storage::Sq8 => "i8",
            Storage::Sparse => "sparse",
        }
    }

    /// The storage an option value names (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Storage> {
        [Storage::Half, Storage::Sq8, Storage::Sparse]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Bytes of one dense code (0 for sparse copies, which have none).
    pub fn code_bytes(self) -> usize {
        match self {
            Storage::Half => 2,
            Storage::Sq8 => 1,
            Storage::Sparse => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_round_trip() {
        for s in [Storage::Half, Storage::Sq8, Storage::Sparse] {
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
