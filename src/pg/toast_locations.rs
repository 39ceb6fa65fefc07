//! This backend's memory of where the chunks of recently read plain
//! out-of-line values lie ([`vectorcore::chunk_locations`]), so that
//! `toast_fetch.rs` reads a value seen before by tuple id, without the TOAST
//! index descent (at 2,048 dimensions about a tenth of a query's time).
//!
//! Entries outlive transactions: they are hints, checked tuple by tuple
//! before any byte is used (`toast_fetch::fetch_at` says why that suffices),
//! and dropped when they fail. Only the main thread calls these functions;
//! the table is Rust memory of a fixed size, allocated on first use.

use std::cell::{Cell, RefCell};
use vectorcore::chunk_locations::{ChunkLocations, Locations, ValueKey};

/// Values remembered at most (under 100 bytes each: about 1.5 MiB).
pub const ENTRIES: usize = 16_384;

thread_local! {
    static LOCATIONS: RefCell<ChunkLocations> = const { RefCell::new(ChunkLocations::new()) };
    static HITS: Cell<u64> = const { Cell::new(0) };
}

/// Values this backend has read by remembered locations so far (tests).
#[cfg(any(test, feature = "pg_test"))]
pub fn hits() -> u64 {
    HITS.get()
}

/// Counts a value read by remembered locations.
pub fn count_hit() {
    HITS.set(HITS.get() + 1);
}

/// The locations remembered for value `key`, if any.
pub fn get(key: ValueKey) -> Option<Locations> {
    LOCATIONS.with_borrow_mut(|c| c.get(key))
}

/// Remembers `at` for value `key`.
pub fn insert(key: ValueKey, at: Locations) {
    LOCATIONS.with_borrow_mut(|c| c.insert(key, at, ENTRIES));
}

/// Forgets value `key`.
pub fn remove(key: ValueKey) {
    LOCATIONS.with_borrow_mut(|c| c.remove(key));
}
