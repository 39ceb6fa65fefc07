//! Reloptions `m` and `ef_construction`, pgvector's names, bounds and
//! defaults, and pgvision's `storage` (f16, 8-bit, packed-bit or sparse
//! copies, see `pageformat::storage`).

use crate::pgver;
use core::ffi::{c_char, CStr};
use pageformat::Storage;
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
    /// Offset of the `storage` string from the start of this struct.
    storage: i32,
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
        pg_sys::add_string_reloption(
            kind as _,
            c"storage".as_ptr(),
            c"Copies of the vectors the graph is searched on: half (f16), i8 (8-bit), bit (packed bits) or sparse (sparsevec)".as_ptr(),
            // No default: an unset option lets the build choose (`params`).
            std::ptr::null(),
            Some(validate_storage),
            pg_sys::AccessExclusiveLock as _,
        );
    }
}

/// Validates a `storage` value: ERROR 22023 for anything but `half`,
/// `i8`, `bit` or `sparse`.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn validate_storage(value: *const c_char) {
    if value.is_null() {
        return;
    }
    // SAFETY: Postgres passes a NUL-terminated option value.
    let text = unsafe { CStr::from_ptr(value) }.to_string_lossy();
    if Storage::from_name(&text).is_none() {
        crate::error::raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid value for hnsw option \"storage\": \"{text}\""),
            Some("Valid values are \"half\", \"i8\", \"bit\" and \"sparse\"."),
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
        pgver::reloption(
            c"storage",
            pg_sys::relopt_type::RELOPT_TYPE_STRING,
            core::mem::offset_of!(HnswOptions, storage),
        ),
    ];
    // SAFETY: the table describes HnswOptions' layout, registered under KIND.
    unsafe {
        pgver::build_options::<HnswOptions>(
            reloptions,
            validate,
            KIND.load(Ordering::Relaxed),
            &table,
        )
    }
}

/// (m, ef_construction) of an index, defaults where unset.
pub fn of(index: pg_sys::Relation) -> (usize, usize) {
    // SAFETY: rd_options is null or the HnswOptions built by `amoptions`.
    let opts = unsafe { ((*index).rd_options as *const HnswOptions).as_ref() };
    let (m, ef) = opts.map_or((M.0, EF_CONSTRUCTION.0), |o| (o.m, o.ef_construction));
    (m as usize, ef as usize)
}

/// The `storage` an index's options name, `None` where unset (the build
/// then picks one: `super::params`).
pub fn storage_of(index: pg_sys::Relation) -> Option<Storage> {
    // SAFETY: rd_options is null or the HnswOptions built by `amoptions`.
    let name = unsafe { crate::pg::am::string_reloption(index, |o: &HnswOptions| o.storage) };
    name.map(|n| {
        Storage::from_name(&n).unwrap_or_else(|| {
            crate::error::raise(
                pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("invalid value for hnsw option \"storage\": \"{n}\""),
                None,
            )
        })
    })
}
