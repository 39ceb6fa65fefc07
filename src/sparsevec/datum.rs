//! The `sparsevec` varlena: its layout for the shared wrapper.
//!
//! Layout, identical to pgvector's: `int32 vl_len_ | int32 dim | int32 nnz
//! | int32 unused (0) | int32 indices[nnz] | float4 values[nnz]`. To the
//! wrapper its elements are the 2 * nnz 4-byte words after the header;
//! [`Sparsevec::sparse`] splits them into indices and values.

use crate::error::OrRaise;
use crate::pg::varlena::{Varlena, VarlenaLayout};
use vectorcore::sparsevec::{self, SparseRef, SparseVec, SparsevecError};

/// A detoasted `sparsevec` value living in the current memory context.
pub type Sparsevec = Varlena<SparsevecLayout>;

/// The shape of `sparsevec`.
pub struct SparsevecLayout;

/// Offset of the int32 dimension count.
const DIM_AT: usize = 4;
/// Offset of the int32 count of non-zero elements.
const NNZ_AT: usize = 8;

// SAFETY: a 16-byte header (4-aligned words follow); `len_of` reads and
// `write_header` writes only the int32 at offset 8 (the dimension count
// at offset 4 is set by `Sparsevec::new` after the wrapper built the
// value), and `len` (always even, `check_len`) round-trips through nnz.
unsafe impl VarlenaLayout for SparsevecLayout {
    type Elem = u32;
    const HEADER: usize = 16;
    const SQL_NAME: &'static str = "sparsevec";
    const SQL_NAME_C: &'static core::ffi::CStr = c"sparsevec";
    const TYPE_IDENT: &'static str = "pgvision::sparsevec::datum::Sparsevec";

    #[inline]
    unsafe fn len_of(header: *const u8) -> usize {
        // SAFETY: the caller's header has HEADER readable bytes.
        let nnz = unsafe { (header.add(NNZ_AT) as *const i32).read_unaligned() };
        2 * nnz.max(0) as usize
    }

    unsafe fn write_header(header: *mut u8, len: usize) {
        // SAFETY: the caller's header has HEADER writable bytes.
        unsafe { (header.add(NNZ_AT) as *mut i32).write_unaligned((len / 2) as i32) }
    }

    /// An ERROR for more than 16,000 non-zero elements.
    fn check_len(len: usize) {
        if !len.is_multiple_of(2) || len / 2 > sparsevec::MAX_NNZ {
            Err::<(), _>(SparsevecError::TooManyNnz).or_raise();
        }
    }
}

impl Varlena<SparsevecLayout> {
    /// A new palloc'd value holding `v` (already checked).
    pub fn new(v: &SparseVec) -> Self {
        let words: Vec<u32> = v
            .indices
            .iter()
            .map(|&i| i as u32)
            .chain(v.values.iter().map(|x| x.to_bits()))
            .collect();
        let out = Self::from_slice(&words);
        // SAFETY: a fresh palloc'd value of ours with a full header.
        unsafe { (out.as_ptr().add(DIM_AT) as *mut i32).write_unaligned(v.dim) };
        out
    }

    /// Number of dimensions.
    pub fn sparse_dim(&self) -> i32 {
        // SAFETY: a detoasted value has its full header.
        unsafe { (self.as_ptr().add(DIM_AT) as *const i32).read_unaligned() }
    }

    /// The value as indices and values.
    pub fn sparse(&self) -> SparseRef<'_> {
        let words = self.as_slice();
        let (idx, vals) = words.split_at(words.len() / 2);
        // SAFETY: u32, i32 and f32 have the same size and alignment and
        // every bit pattern is valid for each; the slices borrow `self`.
        let (indices, values) = unsafe {
            (
                core::slice::from_raw_parts(idx.as_ptr() as *const i32, idx.len()),
                core::slice::from_raw_parts(vals.as_ptr() as *const f32, vals.len()),
            )
        };
        SparseRef {
            dim: self.sparse_dim(),
            indices,
            values,
        }
    }
}
