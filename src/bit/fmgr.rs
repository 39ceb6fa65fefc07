//! `hamming_distance` (`<~>`) and `jaccard_distance` (`<%>`) as the
//! executor calls them: fmgr "version 1" C functions without pgrx's
//! per-call wrapper (see `crate::pg::distance_fn` for why: a sequential
//! scan calls them once per row, and the wrapper cost a Hamming scan of
//! 100k `bit(1024)` rows about half again pgvector's time).
//!
//! They keep the symbols every release's SQL names
//! (`hamming_distance_wrapper`, `jaccard_distance_wrapper`, what pgrx
//! called them), so no SQL object changes. A bit string stored in line and
//! uncompressed, with a 1-byte header (up to 960 bits) or a 4-byte one, is
//! read where it lies, with no call into Postgres, so nothing on that path
//! can raise an ERROR or panic; anything else (compressed, out of line) or
//! strings of different lengths take [`slow_path`], guarded, detoasting,
//! with pgvector's error.

use super::datum::Bit;
use crate::pg::distance_fn::{arg, float8};
use pgrx::pg_sys;

/// A distance on the bytes of two bit strings of equal length.
type Kernel = fn(&[u8], &[u8]) -> f64;

/// Hamming distance: the number of differing bits.
fn hamming(a: &[u8], b: &[u8]) -> f64 {
    distance::bits::hamming(a, b) as f64
}

/// Jaccard distance: 1 - shared set bits / set bits of either.
fn jaccard(a: &[u8], b: &[u8]) -> f64 {
    distance::bits::jaccard(a, b)
}

/// The bit count and bytes of a bit datum that lies in line and
/// uncompressed (`varbit.h` layout after the varlena header: int32 bit
/// count, then the bytes), None for any other form. Panic-free.
///
/// # Safety
/// `datum` is a non-null `bit` or `varbit` datum alive for `'a`.
#[inline]
unsafe fn in_place<'a>(datum: pg_sys::Datum) -> Option<(i32, &'a [u8])> {
    let raw = datum.cast_mut_ptr::<u8>();
    // SAFETY: every varlena has its first header byte; the sizes read
    // below are the value's own, and the slice stays inside it.
    unsafe {
        let first = *raw;
        // Little-endian varlena headers: xxxxxx00 a 4-byte uncompressed
        // header, xxxxxxx1 a 1-byte one, 00000001 a TOAST pointer.
        let (data, size) = if cfg!(target_endian = "little") && first & 0x03 == 0 {
            let total = ((raw as *const u32).read_unaligned() >> 2) as usize;
            (raw.add(4), total.checked_sub(4)?)
        } else if cfg!(target_endian = "little") && first & 0x01 == 1 && first != 0x01 {
            let total = (first >> 1) as usize;
            (raw.add(1), total.checked_sub(1)?)
        } else {
            return None;
        };
        let bits = (data as *const i32).read_unaligned();
        let bytes = size.checked_sub(4)?;
        if bits < 0 || (bits as usize).div_ceil(8) != bytes {
            return None;
        }
        Some((bits, core::slice::from_raw_parts(data.add(4), bytes)))
    }
}

/// The call on two bit strings: in place when both allow it and their
/// lengths agree, else [`slow_path`].
///
/// # Safety
/// `fcinfo` is a live call of a STRICT function of two `bit` arguments.
#[inline(always)]
unsafe fn call(fcinfo: pg_sys::FunctionCallInfo, kernel: Kernel) -> pg_sys::Datum {
    // SAFETY: two non-null arguments (STRICT), alive for the call.
    unsafe {
        if let (Some((la, a)), Some((lb, b))) = (in_place(arg(fcinfo, 0)), in_place(arg(fcinfo, 1)))
        {
            if la == lb {
                return float8(kernel(a, b));
            }
        }
        // Nothing with a destructor is alive in this frame: an ERROR
        // raised by the guarded slow path may longjmp across it.
        slow_path(fcinfo, kernel)
    }
}

/// Everything but two in-line values of equal length: detoasts both,
/// raises pgvector's error for different lengths. Runs under pgrx's guard,
/// so an ERROR or a panic inside becomes a Postgres ERROR raised here.
///
/// # Safety
/// As for [`call`].
#[cold]
#[inline(never)]
unsafe fn slow_path(fcinfo: pg_sys::FunctionCallInfo, kernel: Kernel) -> pg_sys::Datum {
    use pgrx::FromDatum;
    // SAFETY: the closure only reads the call's two non-null arguments.
    unsafe {
        pg_sys::panic::pgrx_extern_c_guard(|| {
            let a = Bit::from_datum(arg(fcinfo, 0), false).expect("STRICT: not null");
            let b = Bit::from_datum(arg(fcinfo, 1), false).expect("STRICT: not null");
            super::functions::same_lengths(&a, &b);
            float8(kernel(a.bytes(), b.bytes()))
        })
    }
}

/// fmgr's info record of `hamming_distance`: a version-1 function.
#[no_mangle]
pub extern "C" fn pg_finfo_hamming_distance_wrapper() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// `hamming_distance(bit, bit)`, `<~>`.
///
/// # Safety
/// Called by fmgr for the STRICT SQL function of two `bit` arguments.
#[no_mangle]
pub unsafe extern "C-unwind" fn hamming_distance_wrapper(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: forwarded from fmgr.
    unsafe { call(fcinfo, hamming) }
}

/// fmgr's info record of `jaccard_distance`: a version-1 function.
#[no_mangle]
pub extern "C" fn pg_finfo_jaccard_distance_wrapper() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// `jaccard_distance(bit, bit)`, `<%>`.
///
/// # Safety
/// Called by fmgr for the STRICT SQL function of two `bit` arguments.
#[no_mangle]
pub unsafe extern "C-unwind" fn jaccard_distance_wrapper(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: forwarded from fmgr.
    unsafe { call(fcinfo, jaccard) }
}

pgrx::extension_sql!(
    r#"
CREATE FUNCTION "hamming_distance"("a" bit, "b" bit) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'hamming_distance_wrapper';
CREATE FUNCTION "jaccard_distance"("a" bit, "b" bit) RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'jaccard_distance_wrapper';
"#,
    name = "bit_distance_functions",
);
