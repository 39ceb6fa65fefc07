//! How an index stores its copies of the vectors: the `storage` option.
//!
//! | storage | copy | format version | 2048-d element (m = 16) |
//! |---|---|---|---|
//! | `half` (default) | f16 codes and a scale ([`distance::half`]) | 4 | 4.4 kB, one a page |
//! | `i8` | one byte a dimension, per-vector offset and scale ([`distance::sq8`]) | 5 | 2.3 kB, three a page |
//! | `sparse` (`sparsevec` only, its default) | the non-zero elements, exact ([`distance::sparse`]) | 7 | ~6 bytes a non-zero + lists: 150 non-zeros 1.2 kB, six a page |
//! | `bit` (default for `bit` columns) | one bit a dimension in 64-bit words ([`distance::packed`]) | 6 | 2048 bits: 0.5 kB, 15 a page |
//!
//! The format version says which: an `i8` index is written as version 5
//! (format 4, with 8-bit copies), so a build that predates it refuses the
//! index with its REINDEX error instead of reading bytes as f16 codes.
//! A packed-bit index (version 6) keeps the f16 layout with the packed
//! words' bytes in place of the codes (four "codes" a word, scale 1,
//! error bound 0, norm the square root of the count of set bits): its
//! elements span pages, chunks and seals exactly as f16 ones do.

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
    /// Packed bits (`bit` columns): one bit a dimension, exact.
    Bits,
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
/// Format version of an index of packed-bit copies.
pub const BITS_FORMAT_VERSION: u32 = 6;

impl Storage {
    /// The storage of an index of on-disk format `version`.
    pub fn of_version(version: u32) -> Storage {
        match version {
            SQ8_FORMAT_VERSION => Storage::Sq8,
            SPARSE_FORMAT_VERSION => Storage::Sparse,
            BITS_FORMAT_VERSION => Storage::Bits,
            _ => Storage::Half,
        }
    }

    /// The format version a new index of this storage is written in.
    pub fn version(self) -> u32 {
        match self {
            Storage::Half => crate::FORMAT_VERSION,
            Storage::Sq8 => SQ8_FORMAT_VERSION,
            Storage::Sparse => SPARSE_FORMAT_VERSION,
            Storage::Bits => BITS_FORMAT_VERSION,
        }
    }

    /// The option value naming it (`WITH (storage = ...)`).
    pub fn name(self) -> &'static str {
        match self {
            Storage::Half => "half",
            Storage::Sq8 => "i8",
            Storage::Sparse => "sparse",
            Storage::Bits => "bit",
        }
    }

    /// The storage an option value names (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Storage> {
        [Storage::Half, Storage::Sq8, Storage::Bits, Storage::Sparse]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Bytes of one dense code (a packed-bit copy's words are held as
    /// 2-byte codes, [`Storage::codes_for`] of them; 0 for sparse copies,
    /// which have none).
    pub fn code_bytes(self) -> usize {
        match self {
            Storage::Half | Storage::Bits => 2,
            Storage::Sq8 => 1,
            Storage::Sparse => 0,
        }
    }

    /// Whether elements have the f16 layout (codes after the lists, pages
    /// spanned past one page's room, a chunk block): f16 and packed-bit
    /// copies; 8-bit and sparse copies keep other fields there.
    pub fn f16_layout(self) -> bool {
        matches!(self, Storage::Half | Storage::Bits)
    }

    /// Codes of a copy of a `dims`-dimensional vector: one a dimension,
    /// or four a 64-bit word of packed bits (what its layout's `dims` says).
    pub fn codes_for(self, dims: usize) -> usize {
        match self {
            // (a sparse layout records the dimensions, holding no codes)
            Storage::Half | Storage::Sq8 | Storage::Sparse => dims,
            Storage::Bits => 4 * dims.div_ceil(64),
        }
    }

    /// Most dimensions an index of this storage takes: 16,000, or
    /// 64,000 bits packed (pgvector's hnsw limit for `bit`).
    pub fn max_dims(self) -> usize {
        match self {
            Storage::Half | Storage::Sq8 => crate::MAX_DIMS,
            Storage::Bits => crate::MAX_BIT_DIMS,
            Storage::Sparse => SPARSE_MAX_DIMS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_round_trip() {
        for s in [Storage::Half, Storage::Sq8, Storage::Bits, Storage::Sparse] {
            assert_eq!(Storage::from_name(s.name()), Some(s));
            assert_eq!(Storage::of_version(s.version()), s);
        }
        assert_eq!(Storage::from_name("I8"), Some(Storage::Sq8));
        assert_eq!(Storage::from_name("int8"), None);
        for v in 1..=4 {
            assert_eq!(Storage::of_version(v), Storage::Half);
        }
        assert_eq!(Storage::of_version(6), Storage::Bits);
        assert_eq!(Storage::Bits.codes_for(64_000), 4_000);
        assert_eq!(Storage::Bits.codes_for(65), 8);
        assert_eq!(Storage::Bits.max_dims(), 64_000);
    }
}
