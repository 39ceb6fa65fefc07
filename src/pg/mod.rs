//! Postgres plumbing shared by the extension's index access methods (and
//! types): nothing here knows hnsw's format.
//!
//! - `am`: small helpers every access method's callbacks share (heap TIDs,
//!   build progress and threads, vacuum statistics);
//! - `buffer`: RAII guards over shared buffers (read, generic-WAL write,
//!   build, page images, multi-block extents), generic over a
//!   [`buffer::PageKind`] naming an access method's pages;
//! - `bulk_write`: a build's new pages written past shared buffers, a WAL
//!   record per 32 pages, synced at the end (as Postgres' btree build);
//! - `parallel_scan`: an index build's heap scan in Postgres parallel
//!   workers, the rows streamed to the leader through shm_mq queues;
//! - `deferred_wal`: the mark under which a build's inserts skip their
//!   WAL (logged with every page at the build's end);
//! - `temp_file`: a transaction's temporary file (a build's rows that
//!   do not fit its memory);
//! - `recent`: the per-backend memory of which shared buffer held a block;
//! - `varlena`: the one varlena wrapper every vector-like type uses;
//! - `toast_cache`: read-only arguments of such types that reuse recent
//!   detoasts of the same value;
//! - `toast_fetch`: the chunks of a plain out-of-line value read straight
//!   into that cache's copy;
//! - `toast_locations`: where recently read values' chunks lie, so a
//!   later read skips the TOAST index;
//! - `from_array`: SQL arrays read into a vector-like type's values;
//! - `distance_fn`: the macro that makes a type's distance functions plain
//!   fmgr C functions (no pgrx wrapper on the hot path).

pub mod am;
pub mod buffer;
pub mod bulk_write;
pub mod deferred_wal;
pub mod distance_fn;
pub mod from_array;
pub mod parallel_scan;
pub mod recent;
pub mod temp_file;
pub mod toast_cache;
pub mod toast_fetch;
pub mod toast_locations;
pub mod varlena;
