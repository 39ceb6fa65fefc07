//! Postgres' own `bit` / `bit varying` values (`VarBit`) as arguments and
//! results of the extension's functions.
//!
//! Layout (Postgres' `varbit.h`): `int32 vl_len_ | int32 bit_len | bytes`,
//! `ceil(bit_len / 8)` bytes, most significant bit first, the unused low
//! bits of the last byte zero. `bit(n)` and `varbit` share it.

use core::ptr::NonNull;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;

/// Bytes before the bits: vl_len_ and the bit count.
const HEADER: usize = 8;

/// A detoasted bit string in Postgres memory.
pub struct Bit {
    ptr: NonNull<u8>,
}

impl Bit {
    /// A new palloc'd `bit(bits)` holding `bytes` (`ceil(bits / 8)` of
    /// them, unused low bits of the last one zero).
    pub fn from_bytes(bytes: &[u8], bits: usize) -> Self {
        assert_eq!(bytes.len(), bits.div_ceil(8), "bit string of {bits} bits");
        let size = HEADER + bytes.len();
        // SAFETY: palloc0 returns `size` writable bytes (or raises ERROR);
        // we write the 4-byte varlena header, the int32 bit count and
        // exactly `bytes.len()` bytes after them.
        unsafe {
            let p = pg_sys::palloc0(size) as *mut u8;
            pgrx::set_varsize_4b(p.cast(), size as i32);
            (p.add(4) as *mut i32).write_unaligned(bits as i32);
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), p.add(HEADER), bytes.len());
            Bit {
                ptr: NonNull::new_unchecked(p),
            }
        }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        // SAFETY: a detoasted varbit has its full header.
        unsafe { (self.ptr.as_ptr().add(4) as *const i32).read_unaligned() as usize }
    }

    /// Whether it holds no bits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes holding the bits.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: a detoasted varbit holds ceil(len / 8) bytes after its
        // header, alive as long as this wrapper.
        unsafe {
            core::slice::from_raw_parts(self.ptr.as_ptr().add(HEADER), self.len().div_ceil(8))
        }
    }
}

impl FromDatum for Bit {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a non-null bit datum is a varlena; pg_detoast_datum
        // returns it or a palloc'd 4-byte-header copy.
        let p = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        Some(Bit {
            ptr: NonNull::new(p.cast()).expect("pg_detoast_datum returned null"),
        })
    }
}

impl IntoDatum for Bit {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(pg_sys::Datum::from(self.ptr.as_ptr()))
    }
    fn type_oid() -> pg_sys::Oid {
        pg_sys::BITOID
    }
}

// SAFETY: arguments are unboxed through FromDatum, which detoasts; a NULL
// argument only reaches here for non-strict functions, where we refuse it.
unsafe impl<'fcx> ArgAbi<'fcx> for Bit {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: forwarded from the caller's contract.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: the returned datum is a palloc'd varbit in the function's context.
unsafe impl BoxRet for Bit {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: returning a valid by-reference datum.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.ptr.as_ptr())) }
    }
}

// SAFETY: `bit` is Postgres' built-in type of this layout.
unsafe impl SqlTranslatable for Bit {
    const TYPE_IDENT: &'static str = "pgvision::bit::datum::Bit";
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("bit"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("bit")));
}
