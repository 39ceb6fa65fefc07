//! Reloption `lists`, pgvector's name, bounds and default.

use crate::pgver;
use core::ffi::c_int;
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
    }
}

/// `amoptions`: parses and validates `WITH (lists = ...)`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(
    reloptions: pg_sys::Datum,
    validate: bool,
) -> *mut pg_sys::bytea {
    let table = [pgver::reloption(
        c"lists",
        pg_sys::relopt_type::RELOPT_TYPE_INT,
        core::mem::offset_of!(IvfflatOptions, lists),
    )];
    // SAFETY: the table describes IvfflatOptions' layout; Postgres palloc's the result.
    unsafe {
        pg_sys::build_reloptions(
            reloptions,
            validate,
            KIND.load(Ordering::Relaxed) as _,
            core::mem::size_of::<IvfflatOptions>(),
            table.as_ptr(),
            table.len() as c_int,
        ) as *mut pg_sys::bytea
    }
}

/// `lists` of an index, the default where unset.
pub fn lists(index: pg_sys::Relation) -> usize {
    // SAFETY: rd_options is null or the IvfflatOptions built by `amoptions`.
    let opts = unsafe { ((*index).rd_options as *const IvfflatOptions).as_ref() };
    opts.map_or(LISTS.0, |o| o.lists) as usize
}
