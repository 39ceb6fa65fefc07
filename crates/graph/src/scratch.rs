//! Working memory of SEARCH-LAYER, kept between calls so the hot loop
//! never allocates.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hash;

use rustc_hash::FxHashSet;

use crate::Candidate;

/// Visited set `v`, candidate heap `C`, result heap `W` and a neighbour
/// buffer. Create one per thread (or per index scan) and pass it to every
/// search; `clear` keeps the capacity.
#[derive(Debug)]
pub struct SearchScratch<Id> {
    /// `v`: nodes whose distance has been computed.
    pub(crate) visited: Visited<Id>,
    /// `C`: nodes still to expand, nearest first.
    pub(crate) candidates: BinaryHeap<Reverse<Candidate<Id>>>,
    /// `W`: the `ef` nearest live nodes found, furthest on top.
    pub(crate) results: BinaryHeap<Candidate<Id>>,
    /// Neighbour list of the node being expanded.
    pub(crate) neighbours: Vec<Id>,
    /// Distances of the unvisited neighbours, computed as one batch.
    pub(crate) distances: Vec<f32>,
}

impl<Id: Copy + Eq + Hash + Ord> SearchScratch<Id> {
    /// An empty scratch.
    pub fn new() -> Self {
        SearchScratch {
            visited: Visited::default(),
            candidates: BinaryHeap::new(),
            results: BinaryHeap::new(),
            neighbours: Vec::new(),
            distances: Vec::new(),
        }
    }

    /// Empties every container, keeping allocations.
    pub(crate) fn clear(&mut self) {
        self.visited.clear();
        self.candidates.clear();
        self.results.clear();
        self.neighbours.clear();
        self.distances.clear();
    }

    /// How many distances the last search computed (the size of `v`).
    pub fn visited_count(&self) -> usize {
        self.visited.len()
    }
}

impl<Id: Copy + Eq + Hash + Ord> Default for SearchScratch<Id> {
    /// Same as [`SearchScratch::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// The visited set `v`: a generation-stamped array for stores with dense
/// ids (no hashing, cleared in O(1)), a hash set otherwise.
#[derive(Debug)]
pub(crate) struct Visited<Id> {
    hash: FxHashSet<Id>,
    stamps: Vec<u32>,
    stamp: u32,
    count: usize,
}

impl<Id> Default for Visited<Id> {
    /// An empty set.
    fn default() -> Self {
        Visited {
            hash: FxHashSet::default(),
            stamps: Vec::new(),
            stamp: 1,
            count: 0,
        }
    }
}

impl<Id: Copy + Eq + Hash> Visited<Id> {
    /// Empties the set, keeping allocations.
    pub(crate) fn clear(&mut self) {
        self.hash.clear();
        self.count = 0;
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.stamps.fill(0);
            self.stamp = 1;
        }
    }

    /// Adds `id`; true when it was not there yet.
    #[inline]
    pub(crate) fn insert<G: crate::Graph<Id = Id>>(&mut self, graph: &G, id: Id) -> bool {
        let new = match graph.dense_index(id) {
            Some(i) => {
                if i >= self.stamps.len() {
                    self.stamps.resize((i + 1).max(self.stamps.len() * 2), 0);
                }
                std::mem::replace(&mut self.stamps[i], self.stamp) != self.stamp
            }
            None => self.hash.insert(id),
        };
        self.count += new as usize;
        new
    }

    /// Number of nodes in the set.
    pub(crate) fn len(&self) -> usize {
        self.count
    }
}
