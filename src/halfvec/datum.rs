//! The `halfvec` varlena: its layout for the shared wrapper.
//!
//! Layout, identical to pgvector's: `int32 vl_len_ | int16 dim | int16
//! unused (0) | binary16 x[dim]`.

use crate::error::OrRaise;
use crate::pg::toast_cache::ToastArg;
use crate::pg::varlena::{Varlena, VarlenaLayout};
use vectorcore::halfvec::{self, f16};

/// A detoasted `halfvec` value living in the current memory context.
pub type Halfvec = Varlena<HalfvecLayout>;

/// A read-only `halfvec` argument, through the TOAST cache.
pub type HalfvecArg = ToastArg<HalfvecLayout>;

/// The shape of `halfvec`.
pub struct HalfvecLayout;

crate::cached_layout!(HalfvecLayout);

/// Offset of the int16 dimension count.
const DIM_AT: usize = 4;

// SAFETY: an 8-byte header (2-aligned halves follow); `len_of` reads and
// `write_header` writes only the int16 at offset 4, and `len` round-trips
// for every length `check_len` accepts (1..=16,000 fits an int16).
unsafe impl VarlenaLayout for HalfvecLayout {
    type Elem = f16;
    const HEADER: usize = 8;
    const SQL_NAME: &'static str = "halfvec";
    const SQL_NAME_C: &'static core::ffi::CStr = c"halfvec";
    const TYPE_IDENT: &'static str = "pgvision::halfvec::datum::Halfvec";

    #[inline]
    unsafe fn len_of(header: *const u8) -> usize {
        // SAFETY: the caller's header has HEADER readable bytes.
        unsafe { (header.add(DIM_AT) as *const i16).read_unaligned() as usize }
    }

    unsafe fn write_header(header: *mut u8, len: usize) {
        // SAFETY: the caller's header has HEADER writable bytes.
        unsafe { (header.add(DIM_AT) as *mut i16).write_unaligned(len as i16) }
    }

    /// An ERROR for fewer than 1 or more than 16,000 dimensions.
    fn check_len(len: usize) {
        halfvec::dim(len as i64).or_raise();
    }
}
