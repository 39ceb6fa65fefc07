//! Reloptions `m` and `ef_construction`, pgvector's names, bounds and defaults.

use crate::pgver;
use core::ffi::c_int;
use pgrx::pg_sys;
use std::sync::atomic::{AtomicU32, Ordering};

/// Default and bounds of `m`.
pub const M: (i32, i32, i32) = (16, 2, 100);
/// Default and bounds of `ef_construction`.
pub const EF_CONSTRUCTION: (i32, i32, i32) = (64, 4, 1000);

/// The reloption kind registered for hnsw in `_PG_init`.
static KIND: AtomicU32 = AtomicU32::new(0);

/// The parsed reloptions, a varlena as `build_reloptions` makes it.
#[repr(C)]
pub struct HnswOptions {
    vl_len_: i32,
    /// Neighbours per element above layer 0.
    pub m: i32,
    /// Candidate list size while building.
    pub ef_construction: i32,
}

/// Registers the reloptions; called once from `_PG_init`.
pub fn init() {
    // SAFETY: _PG_init runs on the main thread; Postgres copies the strings.
    unsafe {
        let kind = pg_sys::add_reloption_kind();
        KIND.store(kind as u32, Ordering::Relaxed);
        pg_sys::add_int_reloption(
            kind as _,
            c"m".as_ptr(),
            c"Max number of connections".as_ptr(),
            M.0,
            M.1,
            M.2,
            pg_sys::AccessExclusiveLock as _,
        );
        pg_sys::add_int_reloption(
            kind as _,
            c"ef_construction".as_ptr(),
            c"Size of the dynamic candidate list for construction".as_ptr(),
            EF_CONSTRUCTION.0,
            EF_CONSTRUCTION.1,
            EF_CONSTRUCTION.2,
            pg_sys::AccessExclusiveLock as _,
        );
    }
}

/// `amoptions`: parses and validates `WITH (m = ..., ef_construction = ...)`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(
    reloptions: pg_sys::Datum,
    validate: bool,
) -> *mut pg_sys::bytea {
    let table = [
        pgver::reloption(
            c"m",
            pg_sys::relopt_type::RELOPT_TYPE_INT,
            core::mem::offset_of!(HnswOptions, m),
        ),
        pgver::reloption(
            c"ef_construction",
            pg_sys::relopt_type::RELOPT_TYPE_INT,
            core::mem::offset_of!(HnswOptions, ef_construction),
        ),
    ];
    // SAFETY: the table describes HnswOptions' layout; Postgres palloc's the result.
    unsafe {
        pg_sys::build_reloptions(
            reloptions,
            validate,
            KIND.load(Ordering::Relaxed) as _,
            core::mem::size_of::<HnswOptions>(),
            table.as_ptr(),
            table.len() as c_int,
        ) as *mut pg_sys::bytea
    }
}

/// (m, ef_construction) of an index, defaults where unset.
pub fn of(index: pg_sys::Relation) -> (usize, usize) {
    // SAFETY: rd_options is null or the HnswOptions built by `amoptions`.
    let opts = unsafe { ((*index).rd_options as *const HnswOptions).as_ref() };
    let (m, ef) = opts.map_or((M.0, EF_CONSTRUCTION.0), |o| (o.m, o.ef_construction));
    (m as usize, ef as usize)
}
