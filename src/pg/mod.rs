//! Postgres plumbing shared by the extension's index access methods (and
//! types): nothing here knows hnsw's format.
//!
//! - `buffer`: RAII guards over shared buffers (read, generic-WAL write,
//!   build, page images, multi-block extents), generic over a
//!   [`buffer::PageKind`] naming an access method's pages;
//! - `recent`: the per-backend memory of which shared buffer held a block;
//! - `varlena`: the one varlena wrapper every vector-like type uses.

pub mod buffer;
pub mod recent;
pub mod varlena;
