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
    pub(crate) visited: FxHashSet<Id>,
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
            visited: FxHashSet::default(),
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
