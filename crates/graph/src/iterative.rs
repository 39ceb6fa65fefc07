//! A resumable layer-0 search for filtered queries (pgvector 0.8's
//! iterative index scan).
//!
//! Design note. A filtered `ORDER BY v <-> q LIMIT k` may throw away most
//! of what the index returns, so the scan must be able to go on past the
//! first `ef` results. [`IterativeSearch`] is SEARCH-LAYER (Algorithm 2)
//! turned inside out: it keeps `C` (every visited node not yet expanded,
//! including the ones Algorithm 2 would discard), a window `W` of the
//! `ef` nearest live nodes not yet returned, and an overflow heap for the
//! live nodes pushed out of `W`. Each call to [`IterativeSearch::next`]
//! first expands `C` until its nearest entry is further than the furthest
//! of a full `W` (Algorithm 2's stop rule), then returns the nearest of
//! `W`. Before the first result this is exactly Algorithm 2 with `ef`;
//! afterwards every returned result frees a slot in `W`, so the search
//! slides outwards from the candidates it had set aside.
//!
//! [`IterativeSearch::single_pass`] stops after that first Algorithm 2:
//! it returns `W` in order and nothing more (pgvector's scan with
//! `hnsw.iterative_scan = off`), which spares the extra expansions a
//! resumed search makes for every result it returns.
//!
//! Results come in nondecreasing distance order, as an ordered index scan
//! must return them: a node found later that is closer than one already
//! returned (the graph is only approximately navigable) is dropped and
//! counted in [`IterativeSearch::dropped`], as pgvector's strict order
//! does. Deleted nodes are traversed but never returned. The number of
//! distances computed is bounded by the caller's `max_visited`, the
//! memory by [`IterativeSearch::memory_limit`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::FxHashSet;

use crate::search::entry_points;
use crate::{Candidate, Graph, SearchScratch};

/// Nodes visited per unit of `ef`, to size a search's sets up front.
const VISITED_PER_EF: usize = 24;

/// State of one resumable search; pass the same store to every call.
#[derive(Debug)]
pub struct IterativeSearch<Id> {
    query: Vec<f32>,
    ef: usize,
    max_visited: usize,
    /// Bytes the search's sets may take before it stops expanding.
    max_bytes: usize,
    /// `v`: every node whose distance was computed.
    visited: FxHashSet<Id>,
    /// `C`: visited nodes not yet expanded, nearest first.
    candidates: BinaryHeap<Reverse<Candidate<Id>>>,
    /// `W`: up to `ef` nearest live nodes not yet returned, ascending.
    window: VecDeque<Candidate<Id>>,
    /// Live nodes not yet returned that are further than all of `W`.
    overflow: BinaryHeap<Reverse<Candidate<Id>>>,
    /// Distance of the last result returned.
    last: f32,
    dropped: usize,
    /// Drop results found out of order (strict) or return them (relaxed).
    strict: bool,
    /// Return the first `W` and stop (no resumption).
    single: bool,
    /// Whether `C` was expanded once (Algorithm 2 ran).
    expanded: bool,
    neighbours: Vec<Id>,
    /// Distances of the unvisited neighbours, computed as one batch.
    distances: Vec<f32>,
}

impl<Id: Copy + Eq + std::hash::Hash + Ord> IterativeSearch<Id> {
    /// Starts a search for `query` from the entry point `ep = (id, L)`:
    /// descends the upper layers and seeds layer 0 with the
    /// [`entry_points`] found there. `ef` is the
    /// window size (hnsw.ef_search), `max_visited` bounds the distances
    /// computed over the whole search (at least 1).
    pub fn new<G: Graph<Id = Id>>(
        graph: &G,
        query: &[f32],
        ep: (Id, usize),
        ef: usize,
        max_visited: usize,
    ) -> Self {
        let (mut scratch, mut eps) = (SearchScratch::new(), Vec::new());
        entry_points(graph, query, ep, &mut scratch, &mut eps);
        Self::from_entries(graph, query, &eps, ef, max_visited)
    }

    /// Starts a search at layer 0 from `eps`, entry points found elsewhere
    /// (on a copy of the upper layers, see [`crate::UpperLayers`]) with
    /// their distances to `query`; otherwise as [`IterativeSearch::new`].
    pub fn from_entries<G: Graph<Id = Id>>(
        graph: &G,
        query: &[f32],
        eps: &[Candidate<Id>],
        ef: usize,
        max_visited: usize,
    ) -> Self {
        // A search visits some 10-25 nodes per unit of ef: sized once, the
        // visited set and candidate heap do not regrow along the way.
        let expected = ef
            .saturating_mul(VISITED_PER_EF)
            .clamp(64, max_visited.clamp(64, 1 << 16));
        let mut search = IterativeSearch {
            query: query.to_vec(),
            ef: ef.max(1),
            max_visited: max_visited.max(1),
            max_bytes: usize::MAX,
            visited: FxHashSet::with_capacity_and_hasher(expected, Default::default()),
            candidates: BinaryHeap::with_capacity(expected),
            window: VecDeque::with_capacity(ef.max(1) + 1),
            overflow: BinaryHeap::new(),
            last: f32::NEG_INFINITY,
            dropped: 0,
            strict: true,
            single: false,
            expanded: false,
            neighbours: Vec::new(),
            distances: Vec::new(),
        };
        for &e in eps {
            if search.visited.insert(e.id) {
                search.candidates.push(Reverse(e));
                if !graph.is_deleted(e.id) {
                    search.offer(e);
                }
            }
        }
        search
    }

    /// The next nearest live node, or `None` once the reachable graph or
    /// the `max_visited` budget is exhausted.
    pub fn next<G: Graph<Id = Id>>(&mut self, graph: &G) -> Option<Candidate<Id>> {
        loop {
            if !(self.single && self.expanded) {
                self.expand(graph);
                self.expanded = true;
            }
            let c = self.window.pop_front()?;
            if !self.single {
                if let Some(Reverse(o)) = self.overflow.pop() {
                    self.window.push_back(o);
                }
            }
            if self.strict && c.distance < self.last {
                self.dropped += 1;
                continue;
            }
            self.last = self.last.max(c.distance);
            return Some(c);
        }
    }

    /// Returns nodes found after a farther one was returned instead of
    /// dropping them (pgvector's relaxed_order: the executor re-sorts).
    pub fn relaxed(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Stops expanding once the search's sets take more than `bytes`
    /// ([`IterativeSearch::memory_bytes`]; pgvector's `work_mem` times
    /// `hnsw.scan_mem_multiplier`): what `W` and the overflow hold is
    /// still returned, in order, and then nothing, as when the
    /// `max_visited` budget runs out.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// About how many bytes the search's sets and buffers take (from their
    /// capacities: the hash set's buckets with their control bytes, the
    /// heaps, the window, the query and batch buffers).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let set = self.visited.capacity() * 8 / 7 * (size_of::<Id>() + 1);
        let heaps = (self.candidates.capacity() + self.overflow.capacity())
            * size_of::<Reverse<Candidate<Id>>>();
        let window = self.window.capacity() * size_of::<Candidate<Id>>();
        let buffers = (self.query.capacity() + self.distances.capacity()) * size_of::<f32>()
            + self.neighbours.capacity() * size_of::<Id>();
        set + heaps + window + buffers
    }

    /// Returns the `ef` nearest nodes of one SEARCH-LAYER (Algorithm 2),
    /// in order, and then nothing: no resumption past them.
    pub fn single_pass(mut self) -> Self {
        self.single = true;
        self
    }

    /// Distances computed so far.
    pub fn visited(&self) -> usize {
        self.visited.len()
    }

    /// Nodes found too late to be returned in order, and so skipped.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Expands `C` until its nearest entry is further than the furthest
    /// of a full `W`, or `C` or the budget runs out.
    fn expand<G: Graph<Id = Id>>(&mut self, graph: &G) {
        while let Some(&Reverse(c)) = self.candidates.peek() {
            let full = self.window.len() >= self.ef;
            if full && self.window.back().is_some_and(|f| c.distance > f.distance) {
                return;
            }
            self.candidates.pop();
            self.neighbours.clear();
            graph.neighbours(c.id, 0, &mut self.neighbours);
            // Mark at most `budget` new nodes visited; meeting one more means
            // the budget ran out.
            let budget = self.max_visited.saturating_sub(self.visited.len());
            let (visited, mut kept, mut exhausted) = (&mut self.visited, 0, false);
            self.neighbours.retain(|&e| {
                if kept >= budget {
                    exhausted |= !visited.contains(&e);
                    return false;
                }
                // one probe: true when newly marked
                let new = visited.insert(e);
                kept += usize::from(new);
                new
            });
            // A single pass never returns or expands a node further than
            // the furthest of a full W (and W's furthest only comes
            // closer), so those need not be measured to the end. A resumed
            // search may come back to them: it measures everything.
            let bound = match self.window.back() {
                Some(f) if self.single && full => f.distance,
                _ => f32::INFINITY,
            };
            self.distances.clear();
            graph.distances_within(&self.query, &self.neighbours, bound, &mut self.distances);
            for i in 0..self.neighbours.len() {
                let e = Candidate::new(self.distances[i], self.neighbours[i]);
                // A single pass keeps, as Algorithm 2, only nodes closer
                // than the furthest of a full W: the others would never be
                // expanded (the stop rule) nor returned, so pushing them
                // into C and the overflow is wasted work.
                if self.single
                    && self.window.len() >= self.ef
                    && self.window.back().is_some_and(|f| e >= *f)
                {
                    continue;
                }
                self.candidates.push(Reverse(e));
                if !graph.is_deleted(e.id) {
                    self.offer(e);
                }
            }
            if exhausted || self.memory_bytes() > self.max_bytes {
                self.candidates.clear();
                return;
            }
        }
    }

    /// Puts a live node into `W` (keeping it sorted and at most `ef`
    /// long) or, when it is further than all of a full `W`, into overflow.
    fn offer(&mut self, e: Candidate<Id>) {
        if self.window.len() >= self.ef {
            match self.window.back() {
                Some(f) if e < *f => {
                    let f = self.window.pop_back().expect("window is full");
                    // a single pass never returns what leaves W
                    if !self.single {
                        self.overflow.push(Reverse(f));
                    }
                }
                _ => {
                    if !self.single {
                        self.overflow.push(Reverse(e));
                    }
                    return;
                }
            }
        }
        let at = self.window.partition_point(|x| x < &e);
        self.window.insert(at, e);
    }
}
