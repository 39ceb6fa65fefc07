//! Index builds that defer the WAL of their inserts to the end.
//!
//! Design note. A build that outgrows `maintenance_work_mem` writes the
//! graph it has and inserts the remaining rows one by one through the
//! ordinary insert path. Nobody else sees the index while it is built, and
//! the build logs every page at its end (`log_newpage_range`), so those
//! inserts need no WAL record of their own: [`WritePage`] and [`Extent`]
//! (see `buffer.rs`) then change a private copy of the page and copy it
//! back on commit, without generic WAL. The mark names the index's file
//! and this backend's transaction, so it can never outlive the build:
//! a failed build's file is dropped, and a later transaction (or another
//! file of the same index after REINDEX) does not match it.
//!
//! [`WritePage`]: super::buffer::WritePage
//! [`Extent`]: super::buffer::Extent

use crate::pgver::{file_key, local_xid, FileKey};
use pgrx::pg_sys;
use std::cell::Cell;

thread_local! {
    /// The index file being built with deferred WAL, and the transaction.
    static DEFERRED: Cell<Option<(FileKey, pg_sys::LocalTransactionId)>> =
        const { Cell::new(None) };
}

/// Marks the writes to `index` (being built by this transaction) as logged
/// at the end of the build, until [`end`].
pub fn begin(index: pg_sys::Relation) {
    let mark = local_xid().map(|xid| (file_key(index), xid));
    DEFERRED.with(|d| d.set(mark));
}

/// Ends deferred WAL: later writes log themselves again.
pub fn end() {
    DEFERRED.with(|d| d.set(None));
}

/// Whether writes to `index` skip their WAL (see [`begin`]).
pub fn deferred(index: pg_sys::Relation) -> bool {
    DEFERRED.with(|d| match d.get() {
        None => false,
        Some((key, xid)) => key == file_key(index) && Some(xid) == local_xid(),
    })
}
