//! The layer-0 in-link counts of a build that spilled to disk.
//!
//! Design note. After a spill the remaining rows are inserted one at a
//! time into the on-page graph ([`super::insert::insert_vector`]), and
//! each back-link's shrink makes sure the node it dropped keeps a way in
//! (`graph`'s `way_in.rs`). Reading the lists around that node through
//! shared buffers was ~45% of the on-disk phase (bench/RESULTS.md,
//! 2026-12-06, branch spill3), so the build keeps a
//! [`graph::InLinks`] table instead: counted from the in-memory graph as
//! it is written, kept up to date by every layer-0 list the
//! [`super::store::PageGraph`] of the build writes, read by its
//! `has_way_in`. Only a build with deferred WAL
//! (`crate::pg::deferred_wal`) has one: nobody else writes the index
//! then, so the counts stay exact. The table stays within
//! `maintenance_work_mem` (the in-memory graph is freed once written);
//! past it, the table is dropped and the check reads lists again.

use graph::InLinks;
use pageformat::ElementId;
use std::cell::RefCell;

thread_local! {
    /// The counts and the bytes they may take, during a spilled build.
    static IN_LINKS: RefCell<Option<(InLinks<ElementId>, usize)>> = const { RefCell::new(None) };
}

/// Starts counting with `links` (the written graph's), within `limit`
/// bytes, until [`end`].
pub fn begin(links: InLinks<ElementId>, limit: usize) {
    IN_LINKS.with(|l| *l.borrow_mut() = (links.bytes() <= limit).then_some((links, limit)));
}

/// Stops counting and frees the table.
pub fn end() {
    IN_LINKS.with(|l| *l.borrow_mut() = None);
}

/// Counts a layer-0 list written over `old` as `new`.
pub fn replace(old: &[ElementId], new: &[ElementId]) {
    IN_LINKS.with(|l| {
        let mut held = l.borrow_mut();
        if let Some((links, limit)) = held.as_mut() {
            links.replace(old, new);
            if links.bytes() > *limit {
                *held = None;
            }
        }
    });
}

/// Whether some layer-0 list names `id`; `None` when nothing is counted.
pub fn has_in_link(id: ElementId) -> Option<bool> {
    IN_LINKS.with(|l| l.borrow().as_ref().map(|(links, _)| links.has_in_link(id)))
}
