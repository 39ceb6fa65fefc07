//! `vector[]` results, typed from the function's own declaration.
//!
//! pgrx builds an array result from the element type's `type_oid()`, which
//! knows no schema. The element type here comes from the calling function's
//! declared return type in `pg_proc` instead, so no name is ever resolved
//! through the caller's `search_path` (a `pg_temp.vector` domain cannot
//! change what the array holds) and the extension's schema need not be on it.

use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::datum::Vector;
use crate::error::raise;

/// A `vector[]` result: one entry per input, NULL where the entry is None.
pub struct VectorArray(pub Vec<Option<Vector>>);

/// The element type of the `vector[]` that the function `fn_oid` is declared to return.
fn declared_element_type(fn_oid: pg_sys::Oid) -> pg_sys::Oid {
    // SAFETY: both are syscache lookups by OID; they return InvalidOid for
    // a missing function or a type that is not an array.
    let element = unsafe { pg_sys::get_element_type(pg_sys::get_func_rettype(fn_oid)) };
    if element == pg_sys::InvalidOid {
        raise(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            "function must be declared to return vector[]",
            None,
        );
    }
    element
}

// SAFETY: the datum returned is an array palloc'd in the function's memory
// context, built with the storage rules of the declared element type, which
// is the extension's `vector` (its CREATE FUNCTION names it).
unsafe impl BoxRet for VectorArray {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: pgrx hands a live fcinfo whose flinfo describes this call.
        let fn_oid = unsafe { (*(*fcinfo.as_mut_ptr()).flinfo).fn_oid };
        let element = declared_element_type(fn_oid);
        let n = self.0.len();
        let nulls: Vec<bool> = self.0.iter().map(Option::is_none).collect();
        let datums: Vec<pg_sys::Datum> = self
            .0
            .into_iter()
            .map(|v| v.map_or(pg_sys::Datum::from(0usize), Vector::into_datum_raw))
            .collect();
        let (mut len, mut byval, mut align) = (0i16, false, 0 as core::ffi::c_char);
        let mut dims = [n as i32];
        let mut lbs = [1i32];
        // SAFETY: `element` is a valid type OID (a syscache lookup).
        unsafe { pg_sys::get_typlenbyvalalign(element, &mut len, &mut byval, &mut align) };
        if len != -1 || byval {
            raise(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                "function must be declared to return vector[]",
                None,
            );
        }
        // SAFETY: a varlena element type, as the datums are; the datum and
        // null arrays hold `n` entries each, and construct_md_array copies them.
        let array = unsafe {
            pg_sys::construct_md_array(
                datums.as_ptr().cast_mut(),
                nulls.as_ptr().cast_mut(),
                1,
                dims.as_mut_ptr(),
                lbs.as_mut_ptr(),
                element,
                i32::from(len),
                byval,
                align,
            )
        };
        // SAFETY: returning a valid by-reference datum.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(array)) }
    }
}

// SAFETY: the SQL type is the array of the `vector` type this extension creates.
unsafe impl SqlTranslatable for VectorArray {
    const TYPE_IDENT: &'static str = <Vector as SqlTranslatable>::TYPE_IDENT;
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::ThisExtension;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Ok(SqlMappingRef::literal("vector[]"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("vector[]")));
}
