//! The distance functions as the executor calls them: fmgr "version 1"
//! C functions, without pgrx's per-call wrapper.
//!
//! Why: a sequential scan, a sort or an index scan's recheck evaluates
//! `<->` (or `<#>`, `<=>`, `<+>`) once per row. Through `#[pg_extern]`
//! every call also paid for pgrx's wrapper (a panic guard, a memory-context
//! switch, argument unboxing through the TOAST cache): about an eighth
//! of an exact 128-d search (perf samples, and 24.2-25.3 -> 21.0-23.6 ms
//! for 100k rows), where pgvector's plain C function has none. Here the common case - two plain vectors (in-line, uncompressed,
//! 4-byte header) of equal dimensions - is read in place
//! ([`Vector::in_place`]) and computed
//! without any call into Postgres, so nothing on that path can raise an
//! ERROR or panic and it needs no guard. Every other case (TOASTed,
//! compressed or short-header values, different dimensions) takes
//! [`slow_path`], a guarded function with the TOAST cache
//! (`toast_cache.rs`) and pgvector's dimension error.
//!
//! The SQL names, signatures and attributes are pgvector's; the math is in
//! `functions.rs`.

use super::datum::Vector;
use super::functions as f;
use super::toast_cache::VectorArg;
use crate::error::OrRaise;
use pgrx::pg_sys;

/// A distance on two slices of equal length.
type Kernel = fn(&[f32], &[f32]) -> f64;

/// Argument `i` of a call.
///
/// # Safety
/// `fcinfo` is a live call with more than `i` arguments.
unsafe fn arg(fcinfo: pg_sys::FunctionCallInfo, i: usize) -> pg_sys::Datum {
    // SAFETY: forwarded from the caller; `args` is the trailing array of
    // `nargs` entries.
    unsafe { (*(*fcinfo).args.as_ptr().add(i)).value }
}

/// A float8 result (passed by value on 64-bit platforms).
fn float8(x: f64) -> pg_sys::Datum {
    pg_sys::Datum::from(x.to_bits() as usize)
}

/// Everything but two plain vectors of equal dimensions: detoasts through
/// the TOAST cache, raises pgvector's error on different dimensions. Runs
/// under pgrx's guard (what `#[pg_guard]` wraps a function in), so an
/// ERROR or a panic inside becomes a Postgres ERROR raised from here.
///
/// # Safety
/// `fcinfo` is a live call of a STRICT function of two `vector` arguments.
#[cold]
#[inline(never)]
unsafe fn slow_path(fcinfo: pg_sys::FunctionCallInfo, kernel: Kernel) -> pg_sys::Datum {
    // SAFETY: the closure only reads the call's two non-null arguments.
    unsafe {
        pg_sys::panic::pgrx_extern_c_guard(|| {
            let a = VectorArg::from_datum(arg(fcinfo, 0));
            let b = VectorArg::from_datum(arg(fcinfo, 1));
            let (x, y) = (a.as_slice(), b.as_slice());
            vectorcore::check::same_dims(x, y).or_raise();
            float8(kernel(x, y))
        })
    }
}

/// Defines a V1 C function `$sym` computing `$kernel`, its info record,
/// and the same function under the symbol earlier builds exported
/// (`$old`, pgrx's `<name>_wrapper`): a database whose extension objects
/// were created by such a build still names that symbol in `pg_proc`, and
/// the extension's version (hence its SQL) did not change.
macro_rules! distance_function {
    ($sym:ident, $finfo:ident, $old:ident, $old_finfo:ident, $kernel:path) => {
        /// fmgr's info record of the earlier builds' symbol.
        #[no_mangle]
        pub extern "C" fn $old_finfo() -> &'static pg_sys::Pg_finfo_record {
            $finfo()
        }

        /// The earlier builds' symbol: the same function.
        ///
        /// # Safety
        /// As for the function it forwards to.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $old(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            // SAFETY: forwarded from the caller.
            unsafe { $sym(fcinfo) }
        }

        /// fmgr's info record: this is a version-1 function.
        #[no_mangle]
        pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }

        /// The SQL function (see the module note): in place for plain
        /// vectors of equal dimensions, else through `slow_path`.
        ///
        /// # Safety
        /// Called by fmgr for a STRICT function of two `vector` arguments.
        #[no_mangle]
        pub unsafe extern "C-unwind" fn $sym(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
            // SAFETY: two non-null vector arguments (STRICT), alive for the call.
            unsafe {
                let a = Vector::in_place(arg(fcinfo, 0));
                let b = Vector::in_place(arg(fcinfo, 1));
                if let (Some(a), Some(b)) = (a, b) {
                    if a.dim() == b.dim() {
                        return float8($kernel(a.as_slice(), b.as_slice()));
                    }
                }
                // Nothing with a destructor is alive in this frame (`Vector`
                // has none): an ERROR
                // raised by the guarded slow path may longjmp across it.
                slow_path(fcinfo, $kernel)
            }
        }
    };
}

distance_function!(
    pgv_l2_distance,
    pg_finfo_pgv_l2_distance,
    l2_distance_wrapper,
    pg_finfo_l2_distance_wrapper,
    f::l2_distance
);
distance_function!(
    pgv_vector_l2_squared_distance,
    pg_finfo_pgv_vector_l2_squared_distance,
    vector_l2_squared_distance_wrapper,
    pg_finfo_vector_l2_squared_distance_wrapper,
    f::vector_l2_squared_distance
);
distance_function!(
    pgv_inner_product,
    pg_finfo_pgv_inner_product,
    inner_product_wrapper,
    pg_finfo_inner_product_wrapper,
    f::inner_product
);
distance_function!(
    pgv_vector_negative_inner_product,
    pg_finfo_pgv_vector_negative_inner_product,
    vector_negative_inner_product_wrapper,
    pg_finfo_vector_negative_inner_product_wrapper,
    f::vector_negative_inner_product
);
distance_function!(
    pgv_cosine_distance,
    pg_finfo_pgv_cosine_distance,
    cosine_distance_wrapper,
    pg_finfo_cosine_distance_wrapper,
    f::cosine_distance
);
distance_function!(
    pgv_vector_spherical_distance,
    pg_finfo_pgv_vector_spherical_distance,
    vector_spherical_distance_wrapper,
    pg_finfo_vector_spherical_distance_wrapper,
    f::vector_spherical_distance
);
distance_function!(
    pgv_l1_distance,
    pg_finfo_pgv_l1_distance,
    l1_distance_wrapper,
    pg_finfo_l1_distance_wrapper,
    f::l1_distance
);

pgrx::extension_sql!(
    r#"
CREATE FUNCTION l2_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_spherical_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_vector_spherical_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(vector, vector) RETURNS float8
    AS 'MODULE_PATHNAME', 'pgv_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
"#,
    name = "vector_distance_functions",
    requires = ["vector_type"],
);
