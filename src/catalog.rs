//! The extension's own catalog objects, found inside its schema.
//!
//! Nothing the extension uses is looked up through the caller's
//! `search_path`: a user can put a type or function of the same name in
//! `pg_temp` (searched first) or leave the extension's schema off the path.
//! Results built by SQL functions take their types from the function's own
//! declaration (`vector::array`); the rest resolves names here, in the
//! schema `pg_extension` records for pgvision.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::error::raise;

/// The schema the extension is installed in (ERROR when it is not installed).
pub fn extension_schema() -> pg_sys::Oid {
    // SAFETY: a plain catalog scan of pg_extension by OID under
    // AccessShareLock, closed before returning; the tuple is read while the
    // scan holds it.
    let nsp = unsafe {
        let ext = pg_sys::get_extension_oid(c"pgvision".as_ptr(), false);
        let rel = pg_sys::table_open(
            pg_sys::ExtensionRelationId,
            pg_sys::AccessShareLock as pg_sys::LOCKMODE,
        );
        let mut key = MaybeUninit::<pg_sys::ScanKeyData>::zeroed();
        pg_sys::ScanKeyInit(
            key.as_mut_ptr(),
            pg_sys::Anum_pg_extension_oid as pg_sys::AttrNumber,
            pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
            pg_sys::RegProcedure::from(pg_sys::F_OIDEQ),
            pg_sys::Datum::from(ext),
        );
        let scan = pg_sys::systable_beginscan(
            rel,
            pg_sys::Oid::from(pg_sys::ExtensionOidIndexId),
            true,
            core::ptr::null_mut(),
            1,
            key.as_mut_ptr(),
        );
        let tuple = pg_sys::systable_getnext(scan);
        let nsp = if tuple.is_null() {
            pg_sys::InvalidOid
        } else {
            (*pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_extension>(tuple)).extnamespace
        };
        pg_sys::systable_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        nsp
    };
    if nsp == pg_sys::InvalidOid {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            "extension \"pgvision\" has no schema",
            None,
        );
    }
    nsp
}

/// The OID of the type `name` in the extension's schema.
pub fn extension_type(name: &CStr) -> pg_sys::Oid {
    let nsp = extension_schema();
    // SAFETY: a syscache lookup by (name, namespace); the key datums are a
    // NUL-terminated string and an OID, as TYPENAMENSP takes them.
    let oid = unsafe {
        pg_sys::GetSysCacheOid(
            pg_sys::SysCacheIdentifier::TYPENAMENSP as i32,
            pg_sys::Anum_pg_type_oid as pg_sys::AttrNumber,
            pg_sys::Datum::from(name.as_ptr()),
            pg_sys::Datum::from(nsp),
            pg_sys::Datum::from(0usize),
            pg_sys::Datum::from(0usize),
        )
    };
    if oid == pg_sys::InvalidOid {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!(
                "type \"{}\" of extension \"pgvision\" does not exist",
                name.to_string_lossy()
            ),
            None,
        );
    }
    oid
}
