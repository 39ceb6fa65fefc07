//! hnsw's pages: the shared buffer guards of `crate::pg::buffer` for the
//! hnsw page kind (its name in messages and the id in its special space).

use crate::pg::buffer::{self, PageKind};
use pgrx::pg_sys;

/// The hnsw access method's pages.
pub struct Hnsw;

impl PageKind for Hnsw {
    const AM: &'static str = "hnsw";
    const PAGE_ID: u16 = pageformat::PAGE_ID;
}

/// A pinned, share-locked hnsw page.
pub type ReadPage = buffer::ReadPage<Hnsw>;
/// A pinned, exclusive-locked hnsw page under generic WAL.
pub type WritePage = buffer::WritePage<Hnsw>;
/// An hnsw page written by a build (logged at its end).
pub type BuildPage = buffer::BuildPage<Hnsw>;
/// An hnsw page image in Rust memory.
pub type PageImage = buffer::PageImage<Hnsw>;
/// The blocks of one page-spanning element.
pub type Extent = buffer::Extent<Hnsw>;
pub use buffer::{set_contents, PageHint};

/// Raises "index corrupted" (XX002) for hnsw index `index` with `what`.
pub fn raise_corrupted(index: pg_sys::Relation, what: impl std::fmt::Display) -> ! {
    buffer::raise_corrupted::<Hnsw>(index, what)
}
