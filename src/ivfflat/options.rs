//! Reloption `lists`, pgvector's name, bounds and default, and pgvision's
//! `storage`: how list records hold vectors (`exact`: as the column's
//! type holds them; `i8`: 8-bit copies, `ivf::layout::Element::Sq8`).

use crate::pgver;
use core::ffi::{c_char, CStr};
use pgrx::pg_sys;
use std::sync::atomic::{AtomicU32, Ordering};

/// Default and bounds of `lists`.
pub const LISTS: (i32, i32, i32) = (100, 1, ivf::layout::MAX_LISTS as i32);

/// The reloption kind registered for ivfflat in `_PG_init`.
static KIND: AtomicU32 = AtomicU32::new(0);

/// The parsed reloptions, a varlena as `build_reloptions` makes it.
#[repr(C)]
pub struct IvfflatOptions {
    vl_len_: i32,
    /// Number of inverted lists.
    pub lists: i32,
    /// Offset of the `storage` string from the start of this struct (0: unset).
    storage: i32,
}

/// What list records hold (`WITH (storage = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStorage {
    /// The column's values as its type holds them (float4, half floats,
    /// packed bits): the format of every index built before the option.
    Exact,
    /// 8-bit copies of `vector` and `halfvec` values.
    I8,
}

impl ListStorage {
    /// The storage a reloption value names.
    pub fn from_name(name: &str) -> Option<ListStorage> {
        match name {
            "exact" => Some(ListStorage::Exact),
            "i8" => Some(ListStorage::I8),
            _ => None,
        }
    }
}

/// Registers the reloption; called once from `_PG_init`.
pub fn init() {
    // SAFETY: _PG_init runs on the main thread; Postgres copies the strings.
    unsafe {
        let kind = pg_sys::add_reloption_kind();
        KIND.store(kind as u32, Ordering::Relaxed);
        pg_sys::add_int_reloption(
            kind as _,
            c"lists".as_ptr(),
            c"Number of inverted lists".as_ptr(),
            LISTS.0,
            LISTS.1,
            LISTS.2,
            pg_sys::AccessExclusiveLock as _,
        );
        pg_sys::add_string_reloption(
            kind as _,
            c"storage".as_ptr(),
            c"How lists hold vectors: exact (the column's type) or i8 (8-bit copies)".as_ptr(),
            // No default: an unset option lets the build choose (`params`).
            std::ptr::null(),
            Some(validate_storage),
            pg_sys::AccessExclusiveLock as _,
        );
    }
}

/// Raises ERROR 22023 for a `storage` value that is not one.
fn raise_bad_storage(text: &str) -> ! {
    crate::error::raise(
        pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("invalid value for ivfflat option \"storage\": \"{text}\""),
        Some("Valid values are \"exact\" and \"i8\"."),
    )
}

/// Validates a `storage` value: ERROR 22023 for anything but `exact` or `i8`.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn validate_storage(value: *const c_char) {
    if value.is_null() {
        return;
    }
    // SAFETY: Postgres passes a NUL-terminated option value.
    let text = unsafe { CStr::from_ptr(value) }.to_string_lossy();
    if ListStorage::from_name(&text).is_none() {
        raise_bad_storage(&text);
    }
}

/// `amoptions`: parses and validates `WITH (lists = ...)`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(
    reloptions: pg_sys::Datum,
    validate: bool,
) -> *mut pg_sys::bytea {
    let table = [
        pgver::reloption(
            c"lists",
            pg_sys::relopt_type::RELOPT_TYPE_INT,
            core::mem::offset_of!(IvfflatOptions, lists),
        ),
        pgver::reloption(
            c"storage",
            pg_sys::relopt_type::RELOPT_TYPE_STRING,
            core::mem::offset_of!(IvfflatOptions, storage),
        ),
    ];
    // SAFETY: the table describes IvfflatOptions' layout, registered under KIND.
    unsafe {
        pgver::build_options::<IvfflatOptions>(
            reloptions,
            validate,
            KIND.load(Ordering::Relaxed),
            &table,
        )
    }
}

/// `lists` of an index, the default where unset.
pub fn lists(index: pg_sys::Relation) -> usize {
    // SAFETY: rd_options is null or the IvfflatOptions built by `amoptions`.
    let opts = unsafe { ((*index).rd_options as *const IvfflatOptions).as_ref() };
    opts.map_or(LISTS.0, |o| o.lists) as usize
}

/// The `storage` an index's options name, `None` where unset (the build
/// then picks one: `super::params`).
pub fn storage_of(index: pg_sys::Relation) -> Option<ListStorage> {
    // SAFETY: rd_options is null or the IvfflatOptions built by `amoptions`.
    let name = unsafe { crate::pg::am::string_reloption(index, |o: &IvfflatOptions| o.storage) };
    name.map(|n| ListStorage::from_name(&n).unwrap_or_else(|| raise_bad_storage(&n)))
}
