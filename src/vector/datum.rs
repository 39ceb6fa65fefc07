//! The `vector` varlena: its layout for the shared wrapper
//! (`crate::pg::varlena`), which does the detoasting and pgrx conversions,
//! and its cache of recent detoasts (`crate::pg::toast_cache`).
//!
//! Layout, identical to pgvector's so dumps and binary clients interoperate:
//! `int32 vl_len_ | int16 dim | int16 unused (0) | float4 x[dim]`.

use crate::error::OrRaise;
use crate::pg::toast_cache::ToastArg;
use crate::pg::varlena::{Varlena, VarlenaLayout};
use vectorcore::check;

/// A detoasted `vector` value living in the current memory context.
pub type Vector = Varlena<VectorLayout>;

/// A read-only `vector` argument, through the TOAST cache (`pg::toast_cache`).
pub type VectorArg = ToastArg<VectorLayout>;

/// The shape of `vector`.
pub struct VectorLayout;

crate::cached_layout!(VectorLayout);

/// Bytes of the header: vl_len_, dim, unused.
const HEADER: usize = 8;
/// Offset of the int16 dimension count.
const DIM_AT: usize = 4;

/// Bytes a vector of `dim` floats occupies, header included.
pub const fn varlena_size(dim: usize) -> usize {
    crate::pg::varlena::varlena_size::<VectorLayout>(dim)
}

// SAFETY: an 8-byte header (4-aligned floats follow); `len_of` reads and
// `write_header` writes only the int16 at offset 4, `len` round-trips for
// every length `check_len` accepts (1..=16,000 fits an int16).
unsafe impl VarlenaLayout for VectorLayout {
    type Elem = f32;
    const HEADER: usize = HEADER;
    const SQL_NAME: &'static str = "vector";
    const SQL_NAME_C: &'static core::ffi::CStr = c"vector";
    // What earlier builds resolved for the type (pgrx_resolved_type! here).
    const TYPE_IDENT: &'static str = "pgvision::vector::datum::Vector";

    #[inline]
    unsafe fn len_of(header: *const u8) -> usize {
        // SAFETY: the caller's header has HEADER readable bytes.
        unsafe { (header.add(DIM_AT) as *const i16).read_unaligned() as usize }
    }

    unsafe fn write_header(header: *mut u8, len: usize) {
        // SAFETY: the caller's header has HEADER writable bytes.
        unsafe { (header.add(DIM_AT) as *mut i16).write_unaligned(len as i16) }
    }

    /// An ERROR for fewer than 1 or more than 16,000 dimensions, whatever
    /// path the values came from (the header's dimension count is an int16).
    fn check_len(len: usize) {
        check::dim(len).or_raise();
    }
}
