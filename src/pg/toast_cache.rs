//! Read-only varlena arguments that reuse recent detoasts of the same
//! value, for every type of `crate::pg::varlena` (each type has a cache of
//! its own: [`cached_layout!`]).
//!
//! Why: `ORDER BY embedding <-> $1 LIMIT k` through the hnsw index evaluates
//! the distance of every returned row twice. The executor re-checks the
//! index's approximate order (`xs_recheckorderby`), then projects the sort
//! column, and both evaluations detoast the row's vector. A vector over ~2 kB
//! (500+ dimensions) is stored out of line, so each detoast is a TOAST-index
//! probe plus a few chunk reads: at 2,048 dimensions about a fifth of a query's
//! time. The distance functions take [`ToastArg`] (`VectorArg` for vector),
//! which remembers the last few out-of-line values this backend read and
//! hands the same copy back.
//!
//! Identity: a TOAST pointer (toast relation, value id) names immutable bytes
//! until the value is deleted, vacuumed away and its OID reused. Each entry is
//! stamped with this backend's local transaction id and `MyProc->xmin` when it
//! was read, and only returned while both are unchanged. Why that suffices:
//! the value came from a row visible to a snapshot whose xmin is at least the
//! stamped xmin, so the row's deleter, if any, is not older than it. VACUUM
//! removes the value only once its horizon passes the deleter, and the horizon
//! never passes our xmin while we advertise it. If our xmin went unset in
//! between (between statements of a READ COMMITTED transaction) and vacuum ran,
//! every transaction below its horizon has ended, so our next snapshot's xmin
//! is higher than the stamp and the entry is dropped.
//!
//! Only the main thread of a backend calls these functions; the cache is Rust
//! memory, freed as entries are evicted or go stale.

use super::toast_fetch;
use super::varlena::{Varlena, VarlenaLayout};
use pgrx::callconv::{Arg, ArgAbi};
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;
use std::rc::Rc;
use vectorcore::recent::RecentValues;

/// Values kept per type: enough for the ~11 rows an index scan re-checks
/// for LIMIT 10.
pub const ENTRIES: usize = 32;
/// Bytes kept at most per type (32 vectors of 8,192 dimensions).
pub const MAX_BYTES: usize = 1 << 20;

/// (toast relation, value id) of an out-of-line value.
pub type ToastKey = (pg_sys::Oid, pg_sys::Oid);
/// (local transaction id, MyProc->xmin) when the value was read.
pub type Stamp = (u32, u32);
/// The cache of one type's values.
pub type Cache<E> = RecentValues<ToastKey, Stamp, [E]>;

/// A varlena layout with a cache of recent detoasts of its own.
pub trait CachedLayout: VarlenaLayout {
    /// Runs `f` on this type's cache (a thread-local: [`cached_layout!`]).
    fn with_cache<R>(f: impl FnOnce(&mut Cache<Self::Elem>) -> R) -> R;
}

/// Implements [`CachedLayout`] for `$layout` with a thread-local cache.
#[macro_export]
macro_rules! cached_layout {
    ($layout:ty) => {
        impl $crate::pg::toast_cache::CachedLayout for $layout {
            fn with_cache<R>(
                f: impl FnOnce(
                    &mut $crate::pg::toast_cache::Cache<
                        <$layout as $crate::pg::varlena::VarlenaLayout>::Elem,
                    >,
                ) -> R,
            ) -> R {
                use $crate::pg::toast_cache::{Cache, ENTRIES, MAX_BYTES};
                use $crate::pg::varlena::VarlenaLayout;
                thread_local! {
                    static RECENT: std::cell::RefCell<Cache<<$layout as VarlenaLayout>::Elem>> =
                        const { std::cell::RefCell::new(Cache::new(ENTRIES, MAX_BYTES)) };
                }
                RECENT.with_borrow_mut(f)
            }
        }
    };
}

/// An argument of layout `L` that is only read: detoasted, possibly shared
/// with an earlier call that read the same out-of-line value.
pub enum ToastArg<L: CachedLayout> {
    /// Detoasted into the function's memory context.
    Own(Varlena<L>),
    /// A copy shared through the cache.
    Shared(Rc<[L::Elem]>),
}

impl<L: CachedLayout> ToastArg<L> {
    /// The elements.
    pub fn as_slice(&self) -> &[L::Elem] {
        match self {
            ToastArg::Own(v) => v.as_slice(),
            ToastArg::Shared(v) => v,
        }
    }

    /// Reads a non-null datum, through the cache when it is out of line.
    ///
    /// # Safety
    /// `datum` must be a non-null datum of `L`'s type.
    pub unsafe fn from_datum(datum: pg_sys::Datum) -> Self {
        let ptr = datum.cast_mut_ptr::<u8>();
        // SAFETY: a datum of a varlena type points at a varlena.
        let Some(key) = (unsafe { toast_key(ptr) }) else {
            // SAFETY: forwarded from the caller.
            return ToastArg::Own(unsafe { Varlena::from_datum_unchecked(datum) });
        };
        let Some(stamp) = stamp() else {
            // SAFETY: forwarded from the caller.
            return ToastArg::Own(unsafe { Varlena::from_datum_unchecked(datum) });
        };
        if let Some(hit) = L::with_cache(|c| c.get(&key, &stamp)) {
            return ToastArg::Shared(hit);
        }
        // SAFETY: forwarded from the caller.
        let values = unsafe { read_plain::<L>(ptr) }.unwrap_or_else(|| {
            // SAFETY: forwarded from the caller.
            let detoasted = unsafe { Varlena::<L>::from_datum_unchecked(datum) };
            let values: Rc<[L::Elem]> = Rc::from(detoasted.as_slice());
            // The detoasted copy is a fresh palloc (the datum was a TOAST pointer).
            // SAFETY: nothing else refers to it; `values` holds our copy.
            unsafe { pg_sys::pfree(detoasted.into_datum_raw().cast_mut_ptr()) };
            values
        });
        let bytes = core::mem::size_of_val(&*values);
        L::with_cache(|c| c.insert(key, stamp, values.clone(), bytes));
        ToastArg::Shared(values)
    }
}

/// Most header bytes of a layout [`read_plain`] reads (vl_len_ included).
const MAX_HEADER: usize = 32;

/// The elements of a plain (uncompressed) out-of-line value of layout `L`,
/// its chunks copied once into the new buffer (`toast_fetch`); None for any
/// other form, or a header that does not describe the size, which Postgres'
/// own detoast then reads.
///
/// # Safety
/// `ptr` is a datum of `L`'s type from a row this transaction read.
unsafe fn read_plain<L: CachedLayout>(ptr: *const u8) -> Option<Rc<[L::Elem]>> {
    // SAFETY: forwarded from the caller.
    let ext = unsafe { toast_fetch::external(ptr) }?;
    let size = toast_fetch::plain_size(&ext)?;
    let elem = core::mem::size_of::<L::Elem>();
    let after_len = L::HEADER.checked_sub(4)?;
    let body_bytes = size.checked_sub(after_len)?;
    if L::HEADER > MAX_HEADER || elem == 0 || body_bytes % elem != 0 {
        return None;
    }
    let len = body_bytes / elem;
    let mut head = [0u8; MAX_HEADER];
    let mut values = Rc::<[L::Elem]>::new_uninit_slice(len);
    let slots = Rc::get_mut(&mut values).expect("a new Rc is unique");
    // SAFETY: the `len` element slots are `body_bytes` bytes of writable
    // memory; bytes need no initialization to be written.
    let body =
        unsafe { core::slice::from_raw_parts_mut(slots.as_mut_ptr().cast::<u8>(), body_bytes) };
    // SAFETY: forwarded from the caller; `head[4..HEADER]` and `body` add
    // up to the value's `size` bytes.
    unsafe { toast_fetch::fetch_plain(&ext, size, &mut head[4..L::HEADER], body) };
    // SAFETY: `head` holds the value's whole header (vl_len_ left zero,
    // which len_of does not read: it reads only the layout's own fields).
    if unsafe { L::len_of(head.as_ptr()) } != len {
        return None;
    }
    // SAFETY: fetch_plain wrote every byte of `body` (it raises ERROR when
    // a chunk is missing); elements are plain numbers, valid for any bits,
    // as every detoasted value read in place assumes.
    Some(unsafe { values.assume_init() })
}

/// The identity of an out-of-line, on-disk value, or None.
///
/// # Safety
/// `ptr` must point at a varlena (any header form).
unsafe fn toast_key(ptr: *const u8) -> Option<ToastKey> {
    // SAFETY: forwarded from the caller.
    let ext = unsafe { toast_fetch::external(ptr) }?;
    Some((ext.va_toastrelid, ext.va_valueid))
}

/// This backend's (local transaction id, xmin), or None without a snapshot.
fn stamp() -> Option<Stamp> {
    let lxid = crate::pgver::local_xid()?;
    // SAFETY: MyProc is this backend's own PGPROC (set up, as local_xid
    // found); we read its xmin, which only this backend writes.
    let xmin = unsafe { (*pg_sys::MyProc).xmin };
    if xmin == pg_sys::InvalidTransactionId {
        return None;
    }
    Some((lxid, xmin.into()))
}

impl<L: CachedLayout> FromDatum for ToastArg<L> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        // SAFETY: a non-null datum of this type is such a varlena.
        (!is_null).then(|| unsafe { ToastArg::from_datum(datum) })
    }
}

// SAFETY: arguments are unboxed through FromDatum; a NULL argument only
// reaches here for non-strict functions, where we refuse it.
unsafe impl<'fcx, L: CachedLayout> ArgAbi<'fcx> for ToastArg<L> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: forwarded from the caller's contract.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: the SQL type is the one of `L`, as for `Varlena<L>`.
unsafe impl<L: CachedLayout> SqlTranslatable for ToastArg<L> {
    // The identity of the type itself, so pgrx's schema generator links
    // arguments of this kind to it.
    const TYPE_IDENT: &'static str = L::TYPE_IDENT;
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::ThisExtension;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Ok(SqlMappingRef::literal(L::SQL_NAME));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal(L::SQL_NAME)));
}
