//! Counts of layer-0 in-links, for a store that links one insert at a
//! time and wants [`crate::GraphMut::has_way_in`] without reading lists.
//!
//! Design note. After a back-link's shrink drops `x` from a list, INSERT
//! makes sure `x` still has a way in (see `way_in.rs`). Read from pages,
//! that check (are any of the list's remaining members linking to `x`?)
//! re-reads up to 2m lists per shrink: about 45% of a spilled build's
//! on-disk phase. A count per node of the lists naming it, kept as every
//! layer-0 list is written, answers "does any list still name `x`" with
//! one lookup. The answer is weaker than the list check (a node with an
//! in-link from a region nothing else reaches counts as linked), which
//! the build's final reconnect pass covers; it is exact about nodes that
//! no list names at all, the ones later inserts can never find. Memory is
//! a hash entry per node; [`InLinks::bytes`] lets the owner bound it.

use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Per node, how many layer-0 lists name it (nodes named by none are not
/// held).
#[derive(Debug, Default)]
pub struct InLinks<Id> {
    counts: FxHashMap<Id, u32>,
}

impl<Id: Copy + Eq + Hash> InLinks<Id> {
    /// No lists counted.
    pub fn new() -> Self {
        InLinks {
            counts: FxHashMap::default(),
        }
    }

    /// Counts a list that was empty before (a node's first list).
    pub fn add_list(&mut self, list: &[Id]) {
        for &n in list {
            *self.counts.entry(n).or_insert(0) += 1;
        }
    }

    /// Counts a list that changed from `old` to `new` (each without
    /// repeats, as neighbour lists are).
    pub fn replace(&mut self, old: &[Id], new: &[Id]) {
        for n in old.iter().filter(|n| !new.contains(n)) {
            if let Some(c) = self.counts.get_mut(n) {
                *c -= 1;
                if *c == 0 {
                    self.counts.remove(n);
                }
            }
        }
        for &n in new.iter().filter(|n| !old.contains(n)) {
            *self.counts.entry(n).or_insert(0) += 1;
        }
    }

    /// Whether some counted list names `id`.
    pub fn has_in_link(&self, id: Id) -> bool {
        self.counts.contains_key(&id)
    }

    /// Bytes of the table (its buckets and control bytes).
    pub fn bytes(&self) -> usize {
        self.counts.capacity() * (std::mem::size_of::<(Id, u32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::InLinks;

    #[test]
    fn counts_follow_list_changes() {
        let mut links = InLinks::new();
        links.add_list(&[1u32, 2, 3]);
        links.add_list(&[2, 4]);
        assert!((1..=4).all(|n| links.has_in_link(n)));
        assert!(!links.has_in_link(5));
        // 1 dropped from its only list, 5 added; 2 keeps one in-link.
        links.replace(&[1, 2, 3], &[2, 3, 5]);
        assert!(!links.has_in_link(1));
        assert!(links.has_in_link(5));
        links.replace(&[2, 4], &[4]);
        assert!(links.has_in_link(2), "still named by the first list");
        links.replace(&[2, 3, 5], &[3, 5]);
        assert!(!links.has_in_link(2));
        assert!(links.bytes() > 0);
    }
}
