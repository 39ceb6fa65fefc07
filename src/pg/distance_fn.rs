//! Distance functions as the executor calls them: fmgr "version 1" C
//! functions without pgrx's per-call wrapper, for any varlena type of
//! `crate::pg::varlena` (`vector/fmgr.rs` defines vector's).
//!
//! Why: a sequential scan, a sort or an index scan's recheck evaluates a
//! distance operator once per row. Through `#[pg_extern]` every call also
//! paid for pgrx's wrapper (a panic guard, a memory-context switch,
//! argument unboxing through the TOAST cache): about an eighth of an exact
//! 128-d search (perf samples, and 24.2-25.3 -> 21.0-23.6 ms for 100k
//! rows), where pgvector's plain C function has none. Here the common case,
//! two plain values (in-line, uncompressed, 4-byte header) of equal
//! length, is read in place (`Varlena::in_place`) and computed without
//! any call into Postgres, so nothing on that path can raise an ERROR or
//! panic and it needs no guard. Every other case (TOASTed, compressed or
//! short-header values, different lengths) takes [`slow_path`], a guarded
//! function with the TOAST cache (`toast_cache.rs`) and pgvector's
//! dimension error.

use super::toast_cache::{CachedLayout, ToastArg};
use crate::error::raise_for_type;
use pgrx::pg_sys;

/// Argument `i` of a call.
///
/// # Safety
/// `fcinfo` is a live call with more than `i` arguments.
#[inline]
pub unsafe fn arg(fcinfo: pg_sys::FunctionCallInfo, i: usize) -> pg_sys::Datum {
    // SAFETY: forwarded from the caller; `args` is the trailing array of
    // `nargs` entries.
    unsafe { (*(*fcinfo).args.as_ptr().add(i)).value }
}

/// A float8 result (passed by value on 64-bit platforms).
#[inline]
pub fn float8(x: f64) -> pg_sys::Datum {
    pg_sys::Datum::from(x.to_bits() as usize)
}

/// A distance on two slices of equal length.
pub type Kernel<E> = fn(&[E], &[E]) -> f64;

/// Everything but two plain values of equal length: detoasts through the
/// TOAST cache, raises pgvector's error on different dimensions. Runs
/// under pgrx's guard (what `#[pg_guard]` wraps a function in), so an
/// ERROR or a panic inside becomes a Postgres ERROR raised from here.
///
/// # Safety
/// `fcinfo` is a live call of a STRICT function of two arguments of `L`'s type.
#[cold]
#[inline(never)]
pub unsafe fn slow_path<L: CachedLayout>(
    fcinfo: pg_sys::FunctionCallInfo,
    kernel: Kernel<L::Elem>,
) -> pg_sys::Datum {
    // SAFETY: the closure only reads the call's two non-null arguments.
    unsafe {
        pg_sys::panic::pgrx_extern_c_guard(|| {
            let a = ToastArg::<L>::from_datum(arg(fcinfo, 0));
            let b = ToastArg::<L>::from_datum(arg(fcinfo, 1));
            let (x, y) = (a.as_slice(), b.as_slice());
            if x.len() != y.len() {
                let e = vectorcore::VectorError::DifferentDimensions {
                    a: x.len(),
                    b: y.len(),
                };
                raise_for_type(L::SQL_NAME, e);
            }
            float8(kernel(x, y))
        })
    }
}

/// Defines a V1 C function `$sym` computing `$kernel` on two values of
/// `$layout` and its info record; with `$old`, `$old_finfo` also the same
/// function under the symbol earlier builds exported (pgrx's
/// `<name>_wrapper`): a database whose extension objects were created by
/// such a build still names that symbol in `pg_proc`.
#[macro_export]
macro_rules! distance_function {
    ($layout:ty, $sym:ident, $finfo:ident, $old:ident, $old_finfo:ident, $kernel:path) => {
        $crate::distance_function!($layout, $sym, $finfo, $kernel);

        /// fmgr's info record of the earlier builds' symbol.
        #[no_mangle]
        pub extern "C" fn $old_finfo() -> &'static pgrx::pg_sys::Pg_finfo_record {
            $finfo()
        }

        /// The earlier builds' symbol: the same function.
        ///
        /// # Safety
        /// As for the function it forwards to.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $old(
            fcinfo: pgrx::pg_sys::FunctionCallInfo,
        ) -> pgrx::pg_sys::Datum {
            // SAFETY: forwarded from the caller.
            unsafe { $sym(fcinfo) }
        }
    };
    ($layout:ty, $sym:ident, $finfo:ident, $kernel:path) => {
        /// fmgr's info record: this is a version-1 function.
        #[no_mangle]
        pub extern "C" fn $finfo() -> &'static pgrx::pg_sys::Pg_finfo_record {
            const V1: pgrx::pg_sys::Pg_finfo_record =
                pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }

        /// The SQL function (see `crate::pg::distance_fn`): in place for
        /// plain values of equal length, else through `slow_path`.
        ///
        /// # Safety
        /// Called by fmgr for a STRICT function of two arguments of the type.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $sym(
            fcinfo: pgrx::pg_sys::FunctionCallInfo,
        ) -> pgrx::pg_sys::Datum {
            use $crate::pg::distance_fn::{arg, float8, slow_path};
            use $crate::pg::varlena::Varlena;
            // SAFETY: two non-null arguments (STRICT), alive for the call.
            unsafe {
                let a = Varlena::<$layout>::in_place(arg(fcinfo, 0));
                let b = Varlena::<$layout>::in_place(arg(fcinfo, 1));
                if let (Some(a), Some(b)) = (a, b) {
                    if a.dim() == b.dim() {
                        return float8($kernel(a.as_slice(), b.as_slice()));
                    }
                }
                // Nothing with a destructor is alive in this frame
                // (`Varlena` has none): an ERROR raised by the guarded
                // slow path may longjmp across it.
                slow_path::<$layout>(fcinfo, $kernel)
            }
        }
    };
}
