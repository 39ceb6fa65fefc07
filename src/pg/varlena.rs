//! One varlena wrapper for every vector-like type of the extension.
//!
//! `vector` (and, later, `halfvec`, `sparsevec`) are varlenas of the same
//! shape: `int32 vl_len_ | a fixed header | elements`. Everything that is
//! not about a type's own header and elements - detoasting, reading a
//! plain value in place without calling into Postgres, palloc'ing a new
//! value, and pgrx's conversions (FromDatum, IntoDatum, argument and
//! return ABI, the SQL type mapping) - is written once here, over a
//! [`VarlenaLayout`] that describes the type. A new type writes a layout
//! (a unit struct and a dozen lines) and a `pub type X = Varlena<XLayout>`.

use core::marker::PhantomData;
use core::ptr::NonNull;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;

/// The shape of one varlena type: `HEADER` bytes (vl_len_ included), then
/// `len` elements of `Elem`.
///
/// # Safety
/// `HEADER` must be a multiple of `Elem`'s alignment and at least 4;
/// `len_of` must only read the header; `write_header` must only write it;
/// a value whose header `write_header` wrote for `len` must make `len_of`
/// return `len`.
pub unsafe trait VarlenaLayout: 'static {
    /// The element stored after the header (f32 for `vector`).
    type Elem: Copy;
    /// Bytes of the header, `vl_len_` included.
    const HEADER: usize;
    /// The type's SQL name (in this extension's schema).
    const SQL_NAME: &'static str;
    /// The same, for catalog lookups.
    const SQL_NAME_C: &'static core::ffi::CStr;
    /// pgrx's identity of the type (what `creates = [Type(..)]` links to).
    const TYPE_IDENT: &'static str;
    /// Number of elements of a value whose header starts at `header`.
    ///
    /// # Safety
    /// `header` points at `HEADER` readable bytes of a detoasted value.
    unsafe fn len_of(header: *const u8) -> usize;
    /// Writes everything of the header after `vl_len_` for `len` elements
    /// (the bytes are zeroed before).
    ///
    /// # Safety
    /// `header` points at `HEADER` writable bytes.
    unsafe fn write_header(header: *mut u8, len: usize);
    /// Raises the type's ERROR when `len` elements are not a valid value.
    fn check_len(len: usize);
}

/// A detoasted value of layout `L`, in Postgres memory (a palloc'd copy in
/// the current memory context, or the datum itself when it was plain).
pub struct Varlena<L: VarlenaLayout> {
    ptr: NonNull<u8>,
    layout: PhantomData<L>,
}

/// Bytes a value of `len` elements of layout `L` occupies, header included.
pub const fn varlena_size<L: VarlenaLayout>(len: usize) -> usize {
    L::HEADER + core::mem::size_of::<L::Elem>() * len
}

impl<L: VarlenaLayout> Varlena<L> {
    /// Copies `values` into a new palloc'd value; the type's ERROR for a
    /// length it cannot hold ([`VarlenaLayout::check_len`]).
    pub fn from_slice(values: &[L::Elem]) -> Self {
        L::check_len(values.len());
        let size = varlena_size::<L>(values.len());
        // SAFETY: palloc returns `size` writable, MAXALIGNed bytes (or
        // raises ERROR); we zero the header (its unused bytes stay zero, as
        // every value's do) and fill it, then exactly `values.len()`
        // elements after it (HEADER keeps them aligned: the layout's
        // promise), so every byte is written once: no palloc0 of the whole
        // value (a 2048-d halfvec cast per rechecked row cleared 4 kB).
        unsafe {
            let p = pg_sys::palloc(size) as *mut u8;
            core::ptr::write_bytes(p, 0, L::HEADER);
            pgrx::set_varsize_4b(p.cast(), size as i32);
            L::write_header(p, values.len());
            let x = p.add(L::HEADER) as *mut L::Elem;
            core::ptr::copy_nonoverlapping(values.as_ptr(), x, values.len());
            Varlena {
                ptr: NonNull::new_unchecked(p),
                layout: PhantomData,
            }
        }
    }

    /// Wraps a datum that may be toasted, detoasting it into the current context.
    ///
    /// # Safety
    /// `datum` must be a non-null datum of this type.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        // SAFETY: forwarded from the caller.
        if let Some(v) = unsafe { Self::in_place(datum) } {
            return v;
        }
        // SAFETY: the caller promises a varlena of this type;
        // pg_detoast_datum returns a palloc'd 4-byte-header copy of one
        // that is not plain.
        let p = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        Varlena {
            ptr: NonNull::new(p.cast()).expect("pg_detoast_datum returned null"),
            layout: PhantomData,
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
    /// `datum` must be a non-null datum of this type.
    #[inline]
    pub unsafe fn in_place(datum: pg_sys::Datum) -> Option<Self> {
        let raw = datum.cast_mut_ptr::<u8>();
        #[cfg(target_endian = "little")]
        // SAFETY: every varlena has at least its first header byte.
        if unsafe { *raw } & 0x03 == 0 {
            // SAFETY: a non-null datum (the caller's promise); no panic path,
            // as the fmgr functions call this outside any guard.
            return Some(Varlena {
                ptr: unsafe { NonNull::new_unchecked(raw) },
                layout: PhantomData,
            });
        }
        None
    }

    /// Number of elements (dimensions for a dense vector).
    #[inline]
    pub fn dim(&self) -> usize {
        // SAFETY: `ptr` points to a detoasted value with a full header.
        unsafe { L::len_of(self.ptr.as_ptr()) }
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[L::Elem] {
        // SAFETY: a detoasted value holds `dim` elements right after its
        // header, and the memory lives at least as long as this wrapper.
        unsafe {
            core::slice::from_raw_parts(
                self.ptr.as_ptr().add(L::HEADER) as *const L::Elem,
                self.dim(),
            )
        }
    }

    /// The start of the value (its `vl_len_`), for a layout's own header
    /// fields beyond the element count.
    #[inline]
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The value as a datum.
    pub fn into_datum_raw(self) -> pg_sys::Datum {
        pg_sys::Datum::from(self.ptr.as_ptr())
    }
}

impl<L: VarlenaLayout> FromDatum for Varlena<L> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        // SAFETY: a non-null datum of this type is such a varlena.
        (!is_null).then(|| unsafe { Self::from_datum_unchecked(datum) })
    }
}

impl<L: VarlenaLayout> IntoDatum for Varlena<L> {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.into_datum_raw())
    }
    fn type_oid() -> pg_sys::Oid {
        crate::catalog::extension_type(L::SQL_NAME_C)
    }
}

// SAFETY: arguments are unboxed through FromDatum, which detoasts; a NULL
// argument only reaches here for non-strict functions, where we refuse it.
unsafe impl<'fcx, L: VarlenaLayout> ArgAbi<'fcx> for Varlena<L> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: forwarded from the caller's contract.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: the returned datum is a palloc'd varlena in the function's context.
unsafe impl<L: VarlenaLayout> BoxRet for Varlena<L> {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: returning a valid by-reference datum.
        unsafe { fcinfo.return_raw_datum(self.into_datum_raw()) }
    }
}

// SAFETY: the SQL name is the type the extension creates for this layout.
unsafe impl<L: VarlenaLayout> SqlTranslatable for Varlena<L> {
    const TYPE_IDENT: &'static str = L::TYPE_IDENT;
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::ThisExtension;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Ok(SqlMappingRef::literal(L::SQL_NAME));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal(L::SQL_NAME)));
}
