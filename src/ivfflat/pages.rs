//! ivfflat's pages: the shared buffer guards of `crate::pg::buffer` for
//! the ivfflat page kind (its name in messages and its page id).

use crate::pg::buffer::{self, PageKind};
use pgrx::pg_sys;

/// The ivfflat access method's pages.
pub struct Ivfflat;

impl PageKind for Ivfflat {
    const AM: &'static str = "ivfflat";
    const PAGE_ID: u16 = ivf::layout::PAGE_ID;
}

/// A pinned, share-locked ivfflat page.
pub type ReadPage = buffer::ReadPage<Ivfflat>;
/// A pinned, exclusive-locked ivfflat page under generic WAL.
pub type WritePage = buffer::WritePage<Ivfflat>;
/// An ivfflat page written by a build (logged at its end).
pub type BuildPage = buffer::BuildPage<Ivfflat>;
/// An ivfflat page image in Rust memory.
pub type PageImage = buffer::PageImage<Ivfflat>;
/// New blocks written and logged together (a record in pieces).
pub type Extent = buffer::Extent<Ivfflat>;

/// Raises "index corrupted" (XX002) for ivfflat index `index` with `what`.
pub fn raise_corrupted(index: pg_sys::Relation, what: impl std::fmt::Display) -> ! {
    buffer::raise_corrupted::<Ivfflat>(index, what)
}
