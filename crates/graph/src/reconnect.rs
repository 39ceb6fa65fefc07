//! Vacuum's last step: every live node reachable and findable again.
//!
//! Design note. Repair ([`crate::repair_neighbours`]) rebuilds a list that
//! pointed at a deleted node from the node's two-hop neighbourhood, and
//! the heuristic may drop the links that led searches into a region: the
//! edge `p -> d -> q` is pruned as `p -> q` because a kept neighbour `k`
//! of `p` is closer to `q`, although `k` has no link towards `q`. Under
//! update churn with a distribution shift (the graph crate's churn test:
//! 4,000 clustered rows, 10% per round rewritten with vectors far from
//! every cluster) the old region stayed reachable at layer 0 (a full
//! traversal reached every live node) but searches from the entry point
//! no longer found their way into it: recall@10 for queries there fell to
//! 0.06 after ten rounds. Back-link shrinking can also leave a node with
//! no in-link at all, as in any HNSW.
//!
//! [`reconnect`] therefore checks both. It floods layer 0 from the entry
//! point and, for each live node the flood missed, searches for it from the
//! entry point, gives the nearest node `w` found that the flood reached a
//! link to it (the search may enter layer 0 in a region the flood did not
//! reach, through the upper layers), or failing that the nearest of the
//! first reached nodes that can take it, and floods from it (its region becomes reachable
//! through the one bridge). Then, for each node whose list was relinked, it
//! searches for the node's own vector and, where the search misses it, adds
//! the same kind of link from the nearest node found. When `w`'s list is
//! full, the link replaces one `x` that `w` also reaches through another
//! neighbour `y` (`w -> y -> x`): every path that used `w -> x` still
//! exists, so no bridge disconnects what an earlier one connected. Layer 0
//! holds every node, so that is where reachability matters; the upper
//! layers only speed up descent.

use std::collections::VecDeque;
use std::hash::Hash;

use rustc_hash::FxHashSet;

use crate::search::{entry_points, search_layer};
use crate::{max_connections, Candidate, GraphMut, InsertParams, SearchScratch};

/// Width of the first, cheap search [`Reachability::ensure_findable`] tries.
const FINDABLE_NARROW_EF: usize = 10;
/// Reached nodes kept for the bridges of last resort (the first a flood
/// meets: a bound on memory, not on reach).
const KEPT: usize = 4096;

/// A set of node ids (a hash set, or a store's denser bitmap).
pub trait NodeSet<Id> {
    /// Adds `id`; whether it was new.
    fn insert(&mut self, id: Id) -> bool;
    /// Whether `id` was added.
    fn contains(&self, id: Id) -> bool;
}

impl<Id: Hash + Eq> NodeSet<Id> for FxHashSet<Id> {
    /// `HashSet::insert`.
    fn insert(&mut self, id: Id) -> bool {
        FxHashSet::insert(self, id)
    }

    /// `HashSet::contains`.
    fn contains(&self, id: Id) -> bool {
        FxHashSet::contains(self, &id)
    }
}

/// The nodes reachable at layer 0 from an entry point, and the bridges
/// that bring the others back (see the module note).
pub struct Reachability<Id, S> {
    reached: S,
    /// Reached nodes (at most [`KEPT`]): the bridges of last resort (see
    /// `bridge_from_kept`).
    kept: Vec<Id>,
    /// Layer-0 list length from which a node is full (`2m`).
    max: usize,
    queue: VecDeque<Id>,
    buf: Vec<Id>,
    scratch: SearchScratch<Id>,
    bridges: usize,
}

impl<Id: Copy + Eq + Hash + Ord, S: NodeSet<Id>> Reachability<Id, S> {
    /// Nothing reached yet in a graph of `m`; `reached` must be empty.
    pub fn new(reached: S, m: usize) -> Self {
        Reachability {
            reached,
            kept: Vec::new(),
            max: max_connections(m, 0),
            queue: VecDeque::new(),
            buf: Vec::new(),
            scratch: SearchScratch::new(),
            bridges: 0,
        }
    }

    /// Marks every node reachable at layer 0 from `start` (breadth first);
    /// `tick` runs every 1,024 nodes (the caller's interrupt check).
    pub fn flood<G: GraphMut<Id = Id>>(&mut self, graph: &G, start: Id, tick: &mut dyn FnMut()) {
        if !self.reached.insert(start) {
            return;
        }
        self.queue.push_back(start);
        let mut visited = 0usize;
        while let Some(n) = self.queue.pop_front() {
            visited += 1;
            if visited.is_multiple_of(1024) {
                tick();
            }
            self.buf.clear();
            graph.neighbours(n, 0, &mut self.buf);
            if self.kept.len() < KEPT {
                self.kept.push(n);
            }
            for &e in &self.buf {
                if self.reached.insert(e) {
                    self.queue.push_back(e);
                }
            }
        }
    }

    /// Makes live node `u` reachable from the entry point `ep` (already
    /// flooded) if it is not: a bridge from the nearest reachable node that
    /// can take one, then a flood from `u`. Returns whether `u` is reached.
    pub fn ensure_reachable<G: GraphMut<Id = Id>>(
        &mut self,
        graph: &G,
        ep: (Id, usize),
        u: Id,
        params: InsertParams,
        tick: &mut dyn FnMut(),
    ) -> bool {
        if self.reached.contains(u) {
            return true;
        }
        let w = self.search_for(graph, ep, u, params.ef_construction);
        let max = self.max;
        // Only from a node the flood reached: the search enters layer 0
        // where the upper layers lead it, which may be a region layer 0
        // itself does not reach from `ep` (even `u`'s own); a bridge from
        // there left `u` as cut off as before (an in-memory build of 6,000
        // rows with runs of identical ones lost 71-80 of them that way).
        let bridged = w.iter().any(|c| {
            c.id != u && self.reached.contains(c.id) && add_bridge(graph, c.id, u, 0, max)
        }) || self.bridge_from_kept(graph, u);
        if !bridged {
            return false;
        }
        self.bridges += 1;
        self.flood(graph, u, tick);
        true
    }

    /// The last resort of [`Reachability::ensure_reachable`], when none of
    /// the nodes a search found was reached or could take a link to `u`:
    /// the nearest of the kept reached nodes that can. The search finds
    /// nothing reached when the entry point's layer-0 region is a small
    /// island the rest of the graph is not linked from (identical far
    /// outliers, whose lists hold one another; the upper layers lead every
    /// search out of it), and a flood from the first node bridged this way
    /// then reaches the rest, so it runs a few times a build at most. It
    /// measures `u` against every kept node.
    fn bridge_from_kept<G: GraphMut<Id = Id>>(&mut self, graph: &G, u: Id) -> bool {
        let mut by_distance: Vec<Candidate<Id>> = self
            .kept
            .iter()
            .map(|&w| Candidate::new(graph.distance_between(w, u), w))
            .collect();
        by_distance.sort_unstable();
        let max = self.max;
        by_distance
            .iter()
            .any(|c| add_bridge(graph, c.id, u, 0, max))
    }

    /// Makes live node `u` findable by a search for its own vector from
    /// `ep`: when such a search (`ef_construction` wide) does not return
    /// it, a bridge from the nearest node it does return. Returns whether
    /// a bridge was added.
    pub fn ensure_findable<G: GraphMut<Id = Id>>(
        &mut self,
        graph: &G,
        ep: (Id, usize),
        u: Id,
        params: InsertParams,
    ) -> bool {
        // Most nodes are found by a narrow search (a node's own vector is
        // the easiest query there is); only a miss pays for the full one,
        // which alone decides.
        let narrow = FINDABLE_NARROW_EF.min(params.ef_construction);
        if self
            .search_for(graph, ep, u, narrow)
            .iter()
            .any(|c| c.id == u)
        {
            return false;
        }
        let w = self.search_for(graph, ep, u, params.ef_construction);
        if w.iter().any(|c| c.id == u) {
            return false;
        }
        let max = max_connections(params.m, 0);
        let bridged = w.iter().any(|c| add_bridge(graph, c.id, u, 0, max));
        self.bridges += bridged as usize;
        bridged
    }

    /// The `ef` nearest nodes a search for `u`'s own vector from `ep`
    /// finds, nearest first: layer 0 entered as a scan enters it.
    fn search_for<G: GraphMut<Id = Id>>(
        &mut self,
        graph: &G,
        ep: (Id, usize),
        u: Id,
        ef: usize,
    ) -> Vec<Candidate<Id>> {
        let query = graph.query_of(u);
        let mut eps = Vec::new();
        entry_points(graph, &query, ep, &mut self.scratch, &mut eps);
        let mut w = Vec::with_capacity(ef);
        search_layer(graph, &query, &eps, ef, 0, &mut self.scratch, &mut w);
        w
    }

    /// How many bridges `ensure_reachable` and `ensure_findable` added.
    pub fn bridges(&self) -> usize {
        self.bridges
    }
}

/// Adds the link `w -> u` at layer `lc`, in a free slot or in place of the
/// farthest neighbour `x` that `w` also reaches through another of its
/// neighbours; false when there is neither.
pub(crate) fn add_bridge<G: GraphMut>(
    graph: &G,
    w: G::Id,
    u: G::Id,
    lc: usize,
    max: usize,
) -> bool {
    let mut list = Vec::new();
    graph.neighbours(w, lc, &mut list);
    let evict = if list.len() < max {
        None
    } else {
        let mut by_distance: Vec<_> = list
            .iter()
            .map(|&x| Candidate::new(graph.distance_between(w, x), x))
            .collect();
        by_distance.sort_unstable();
        // No list holds its own node, so x in N(y) means y != x.
        let mut two_hop = FxHashSet::default();
        let mut second = Vec::new();
        for &y in &list {
            second.clear();
            graph.neighbours(y, lc, &mut second);
            two_hop.extend(second.iter().copied());
        }
        let alternative = |x: G::Id| two_hop.contains(&x);
        match by_distance.iter().rev().find(|c| alternative(c.id)) {
            Some(c) => Some(c.id),
            None => return false,
        }
    };
    let mut done = false;
    graph.update_neighbours(w, lc, &mut |now| {
        // A store may call this again on a fresh copy: decide each time,
        // and only for the list the eviction was chosen from.
        done = false;
        if *now != list || now.contains(&u) {
            return;
        }
        match evict {
            None => now.push(u),
            Some(x) => {
                let slot = now.iter().position(|&n| n == x).expect("x is in the list");
                now[slot] = u;
            }
        }
        done = true;
    });
    done
}

/// Vacuum's last step (see the module note): floods layer 0 from the entry
/// point `ep`, bridges to every node of `live` the flood missed, then makes
/// every node of `relinked` findable by a search for its own vector.
/// `reached` is an empty set; `tick` runs every so often (the caller's
/// interrupt check). Returns the bridges added.
pub fn reconnect<G: GraphMut, S: NodeSet<G::Id>>(
    graph: &G,
    ep: (G::Id, usize),
    live: impl IntoIterator<Item = G::Id>,
    relinked: &[G::Id],
    params: InsertParams,
    reached: S,
    tick: &mut dyn FnMut(),
) -> usize {
    let mut reach = Reachability::new(reached, params.m);
    reach.flood(graph, ep.0, tick);
    for id in live {
        reach.ensure_reachable(graph, ep, id, params, tick);
    }
    for (i, &id) in relinked.iter().enumerate() {
        if i % 64 == 0 {
            tick();
        }
        reach.ensure_findable(graph, ep, id, params);
    }
    reach.bridges()
}
