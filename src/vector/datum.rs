//! The `vector` varlena in Postgres memory and its pgrx conversions.
//!
//! Layout, identical to pgvector's so dumps and binary clients interoperate:
//! `int32 vl_len_ | int16 dim | int16 unused (0) | float4 x[dim]`.

use core::ptr::NonNull;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;
use vectorcore::check;

use crate::error::OrRaise;

/// Header of the varlena; the floats follow it directly.
#[repr(C)]
struct VectorHeader {
    vl_len_: u32,
    dim: i16,
    unused: i16,
}

const _: () = assert!(core::mem::size_of::<VectorHeader>() == 8);

/// Bytes a vector of `dim` floats occupies, header included.
pub const fn varlena_size(dim: usize) -> usize {
    core::mem::size_of::<VectorHeader>() + 4 * dim
}

/// A detoasted `vector` value living in the current memory context.
pub struct Vector {
    ptr: NonNull<VectorHeader>,
}

impl Vector {
    /// Copies `values` into a new palloc'd vector; an ERROR for fewer than 1
    /// or more than 16,000 dimensions, whatever path the values came from
    /// (the header's dimension count is an int16).
    pub fn from_slice(values: &[f32]) -> Self {
        check::dim(values.len()).or_raise();
        let size = varlena_size(values.len());
        // SAFETY: palloc0 returns `size` writable bytes (or raises ERROR); we
        // fill the header and exactly `values.len()` floats after it.
        unsafe {
            let p = pg_sys::palloc0(size) as *mut VectorHeader;
            pgrx::set_varsize_4b(p.cast(), size as i32);
            (*p).dim = values.len() as i16;
            let x = p.add(1) as *mut f32;
            core::ptr::copy_nonoverlapping(values.as_ptr(), x, values.len());
            Vector {
                ptr: NonNull::new_unchecked(p),
            }
        }
    }

    /// Wraps a datum that may be toasted, detoasting it into the current context.
    ///
    /// # Safety
    /// `datum` must be a non-null `vector` datum.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        // SAFETY: forwarded from the caller.
        if let Some(v) = unsafe { Vector::in_place(datum) } {
            return v;
        }
        // SAFETY: the caller promises a vector varlena; pg_detoast_datum
        // returns a palloc'd 4-byte-header copy of one that is not plain.
        let p = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        Vector {
            ptr: NonNull::new(p.cast()).expect("pg_detoast_datum returned null"),
        }
    }

    /// Wraps a plain datum (4-byte header, not compressed: VARATT_IS_4B_U,
    /// the low two bits of the first byte clear on a little-endian machine)
    /// in place, as pg_detoast_datum would return it, without calling into
    /// Postgres (so nothing here can raise an ERROR, and pgrx's sigsetjmp
    /// guard around the call is skipped: a tenth of a 128-d distance
    /// operator's cost in a seq scan); None for any other form.
    ///
    /// # Safety
    /// `datum` must be a non-null `vector` datum.
    pub unsafe fn in_place(datum: pg_sys::Datum) -> Option<Self> {
        let raw = datum.cast_mut_ptr::<u8>();
        #[cfg(target_endian = "little")]
        // SAFETY: every varlena has at least its first header byte.
        if unsafe { *raw } & 0x03 == 0 {
            // SAFETY: a non-null datum (the caller's promise); no panic path,
            // as fmgr.rs calls this outside any guard.
            return Some(Vector {
                ptr: unsafe { NonNull::new_unchecked(raw.cast()) },
            });
        }
        None
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        // SAFETY: `ptr` points to a detoasted vector with a full header.
        unsafe { self.ptr.as_ref().dim as usize }
    }

    /// The elements.
    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: a detoasted vector holds `dim` floats right after its header,
        // and the memory lives at least as long as this wrapper.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().add(1) as *const f32, self.dim()) }
    }

    /// The value as a datum.
    pub fn into_datum_raw(self) -> pg_sys::Datum {
        pg_sys::Datum::from(self.ptr.as_ptr())
    }
}

impl FromDatum for Vector {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        // SAFETY: a non-null datum of this type is a vector varlena.
        (!is_null).then(|| unsafe { Vector::from_datum_unchecked(datum) })
    }
}

impl IntoDatum for Vector {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.into_datum_raw())
    }
    fn type_oid() -> pg_sys::Oid {
        crate::catalog::extension_type(c"vector")
    }
}

// SAFETY: arguments are unboxed through FromDatum, which detoasts; a NULL
// argument only reaches here for non-strict functions, where we refuse it.
unsafe impl<'fcx> ArgAbi<'fcx> for Vector {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: forwarded from the caller's contract.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: the returned datum is a palloc'd varlena in the function's context.
unsafe impl BoxRet for Vector {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: returning a valid by-reference datum.
        unsafe { fcinfo.return_raw_datum(self.into_datum_raw()) }
    }
}

// SAFETY: the SQL name `vector` is the type this extension creates below.
unsafe impl SqlTranslatable for Vector {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(Vector);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::ThisExtension;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("vector"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("vector")));
}
