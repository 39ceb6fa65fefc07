//! On-disk format of the `hnsw` index, as plain bytes (no Postgres needed).
//!
//! # Why this format
//!
//! A Postgres page is 8 kB, and a 2048-d float4 vector (ResNet-50
//! features) is 8 kB on its own, so pgvector cannot index it (it stops at
//! 2000 dimensions). pgvision keeps, in each *element tuple*, everything a
//! search step needs, on one page:
//!
//! * the neighbour lists of every layer the element is on (fixed slots:
//!   2m at layer 0, m above, so updates happen in place), and
//! * an **f16 copy** of the vector with a scale, its exact norm and a
//!   proven bound `err >= |x - x16|` on the rounding error.
//!
//! A search touches one page per visited element (pgvector touches two:
//! element and neighbour tuples are separate there). The full-precision
//! vector is not stored in the index at all: it is in the heap. The scan
//! returns, for every heap row, a *lower bound* of its exact distance
//! derived from `err` and sets `xs_recheckorderby`, so the executor
//! recomputes the exact distance from the heap tuple and re-sorts through
//! its reorder queue: `ORDER BY embedding <-> q LIMIT k` comes out in exact
//! order at full float4 precision, and the index is half the size of a
//! float4 one. A 2048-d element takes about 4.4 kB (one per page, the
//! same size as pgvector's halfvec index for the same data); a 128-d one
//! about 0.5 kB (16 per page). An index made `WITH (storage = 'i8')` keeps
//! 8-bit copies instead (one byte a dimension with the vector's own offset
//! and step, the same kind of proven bound; format 5, see [`storage`]): a
//! 2048-d element takes 2.3 kB, three a page. An index of a `bit` column
//! keeps the bits packed (format 6, exact): a 2048-bit element takes
//! 0.5 kB, and bit strings of up to 64,000 bits ([`MAX_BIT_DIMS`]) span
//! pages as wide f16 vectors do.
//!
//! Up to [`max_single_page_dims`] (3,796 for m = 16) an element is one
//! tuple. Wider vectors, up to the type's 16,000 ([`MAX_DIMS`]), *span
//! pages*: the element tuple keeps its lists and as many codes as fit,
//! alone on its block, and the rest of its f16 copy goes into chunk tuples
//! on blocks of its *extent*. Where the rest is small (up to ~5,800
//! dimensions at m = 16) an extent is a *group*: one block per element and
//! one block with all of their chunks (4,096-d: 13 elements in 14 blocks,
//! 8.8 kB an element); beyond, an extent holds one element and its chunk
//! blocks (6,000-d: 2 blocks, 16,000-d: 4). The alternatives were a coarser
//! copy (int8 or 4-bit codes fit one page up to ~7,800 or ~15,000
//! dimensions, still short of 16,000, and loosen every lower bound) or
//! chunk tuples placed anywhere (densest, but then a chunk's place must be
//! found, recorded and freed on its own). An element is written whole: the
//! blocks it changes are locked in ascending order and logged in one WAL
//! record of full page images, so a crash never leaves it without its
//! chunks. A new extent is made whole, its unused places holding *free*
//! elements that the next inserts take, like the places vacuum frees
//! (all elements of an index have the same dimensions, so every place
//! fits every element). A distance to such an element reads its block and
//! its chunks' blocks; the exact re-ranking stays as above.
//!
//! Elements never move: an element's address (block, offset) is its id in
//! the graph ([`ElementId`]). Vacuum marks elements deleted and relinks
//! around them; a deleted element's slot is only reused for a new element
//! after no neighbour list points at it.
//!
//! An L2 index of 257 to [`MAX_ORDERED_DIMS`] dimensions stores every f16
//! copy with its dimensions permuted, largest variance first (measured on
//! the first rows of its build), and keeps the permutation on the meta
//! page after [`Meta`]'s fields (format version 3). A search gives up on a
//! vector once a partial sum of squares passes its bound, and sums grow
//! fastest in that order: at 2048-d a rejected vector is dropped after
//! about half its codes (estimated, see `graph::variance_order`). Distances, norms and error bounds are the same
//! under any permutation, so nothing else in this format depends on it.
//!
//! Page bytes are never trusted: every item is found through
//! [`page::item_range`] (its bytes inside the page's item area), every
//! element is checked ([`ElementLayout::check_element`], or its cheap part
//! [`ElementRef::is_valid`] on a scan's path) before its fields are used,
//! and block numbers read from a page are checked before they are read
//! ([`page::is_element_block`], [`ElementLayout::chunk_location`]); what
//! is wrong comes back as a [`Corruption`].
//!
//! Block 0 is the meta page ([`Meta`]); every other block holds element
//! tuples (or chunks). Bump [`FORMAT_VERSION`] on any change here; indexes of
//! a version this build cannot read are refused with a clear error, never
//! misread.

pub mod corruption;
pub mod element;
pub mod meta;
pub mod page;
pub mod placement;
pub mod seal;
pub mod storage;

pub use corruption::Corruption;
pub use element::{
    check_codes, check_copy, check_decoded, is_element, item_kind, ElementId, ElementLayout,
    ElementMut, ElementRef, HeapTid, ItemKind, MAX_HEAP_TIDS,
};
pub use meta::{
    decode_order, encode_order, Meta, FORMAT_VERSION, MAGIC, MAX_ORDERED_DIMS, META_BYTES,
};
pub use page::{check_page, is_element_block, item_range, PageHeader};
pub use placement::{free_slot_order, pack_addresses, pack_sized};
pub use storage::{
    Storage, BITS_FORMAT_VERSION, SPARSE_FORMAT_VERSION, SPARSE_MAX_DIMS, SPARSE_MAX_NNZ,
    SQ8_FORMAT_VERSION,
};

/// Postgres' block size.
pub const BLCKSZ: usize = 8192;
/// Bytes of a page header (`SizeOfPageHeaderData`).
pub const PAGE_HEADER: usize = 24;
/// Bytes of one line pointer (`ItemIdData`).
pub const LINE_POINTER: usize = 4;
/// Bytes of our special space at the end of every page (MAXALIGNed).
pub const SPECIAL: usize = 8;
/// Identifies our pages in the special space (for pg_filedump-style tools).
pub const PAGE_ID: u16 = 0xF16A;

/// Postgres' MAXALIGN on x86_64.
pub const fn maxalign(n: usize) -> usize {
    (n + 7) & !7
}

/// Bytes available for items on an empty page.
pub const fn page_capacity() -> usize {
    BLCKSZ - PAGE_HEADER - SPECIAL
}

/// Bytes one item of `size` consumes on a page, line pointer included.
pub const fn item_footprint(size: usize) -> usize {
    maxalign(size) + LINE_POINTER
}

/// Levels an element must be able to reach for its dimensions to be indexable;
/// higher draws are capped (with m = 16 a level above 3 has odds 1 in 65,536).
pub const MIN_LEVEL_CAP: usize = 3;

/// Most dimensions an index takes: the `vector` type's own limit.
pub const MAX_DIMS: usize = 16_000;

/// Most bits a packed-bit index takes (pgvector's hnsw limit for `bit`).
pub const MAX_BIT_DIMS: usize = 64_000;

/// Largest item that fits an empty page (MAXALIGN(size) + LINE_POINTER
/// <= capacity).
pub const fn max_item() -> usize {
    (page_capacity() - LINE_POINTER) & !7
}

/// Largest number of dimensions whose element fits one page at level
/// `max_level`; wider ones span pages (see the module note).
pub fn max_single_page_dims(m: usize, max_level: usize) -> usize {
    max_single_page_dims_in(m, max_level, Storage::Half)
}

/// [`max_single_page_dims`] for copies of `storage`: an 8-bit index
/// takes no more (its elements never span pages).
pub fn max_single_page_dims_in(m: usize, max_level: usize, storage: Storage) -> usize {
    let fixed = ElementLayout::new(m, 0, FORMAT_VERSION).size_at(max_level);
    (max_item() - fixed)
        .checked_div(storage.code_bytes())
        .unwrap_or(SPARSE_MAX_DIMS)
}

/// Highest level an element of `dims` may have so that it fits one page.
pub fn level_cap(m: usize, dims: usize) -> usize {
    level_cap_in(m, dims, FORMAT_VERSION)
}

/// [`level_cap`] in on-disk format `version` (8-bit copies leave room
/// for more levels).
///
/// An index of sparse copies has no dense codes: this is the cap of an
/// element with no non-zeros, and each element's own is
/// [`ElementLayout::sparse_level_cap`].
pub fn level_cap_in(m: usize, dims: usize, version: u32) -> usize {
    let layout = ElementLayout::new(m, dims, version);
    (0..=32)
        .take_while(|&l| item_footprint(layout.size_at(l)) <= page_capacity())
        .last()
        .unwrap_or(0)
}
