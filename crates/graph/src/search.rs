//! SEARCH-LAYER (Algorithm 2) and K-NN-SEARCH (Algorithm 5).

use std::cmp::Reverse;

use crate::{Candidate, Graph, SearchScratch};

/// Greedy search at one layer, the `ef = 1` case of Algorithm 2 used to
/// descend the upper layers: moves to a closer neighbour until none is.
/// Deleted nodes are fine stepping stones here.
pub fn greedy_closest<G: Graph>(
    graph: &G,
    query: &[f32],
    mut ep: Candidate<G::Id>,
    lc: usize,
    buf: &mut Vec<G::Id>,
) -> Candidate<G::Id> {
    let mut distances = Vec::new();
    loop {
        let mut changed = false;
        buf.clear();
        graph.neighbours(ep.id, lc, buf);
        // Only a neighbour closer than `ep` is taken, so the others need
        // not be measured to the end.
        distances.clear();
        graph.distances_within(query, buf, ep.distance, &mut distances);
        for (&e, &d) in buf.iter().zip(&distances) {
            let c = Candidate::new(d, e);
            if c < ep {
                ep = c;
                changed = true;
            }
        }
        if !changed {
            return ep;
        }
    }
}

/// SEARCH-LAYER(q, ep, ef, lc), Algorithm 2: the `ef` nearest live nodes
/// to `query` at layer `lc`, reachable from the entry points `ep`, written
/// to `out` in ascending distance.
///
/// Deleted nodes are expanded (they keep the graph connected until vacuum
/// repairs it) but never enter `W` and so do not count towards `ef`.
pub fn search_layer<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: &[Candidate<G::Id>],
    ef: usize,
    lc: usize,
    scratch: &mut SearchScratch<G::Id>,
    out: &mut Vec<Candidate<G::Id>>,
) {
    scratch.clear();
    let SearchScratch {
        visited: v,
        candidates: c_heap,
        results: w,
        neighbours,
        distances,
    } = scratch;
    for &e in ep {
        if v.insert(graph, e.id) {
            c_heap.push(Reverse(e));
            if !graph.is_deleted(e.id) {
                w.push(e);
                if w.len() > ef {
                    w.pop();
                }
            }
        }
    }
    // while |C| > 0: c <- nearest from C; stop once c is further than the
    // furthest element f of W (only when W is full: deleted nodes may keep
    // it short).
    while let Some(Reverse(c)) = c_heap.pop() {
        if w.len() >= ef && w.peek().is_some_and(|f| c.distance > f.distance) {
            break;
        }
        // The next node to expand is most likely the nearest left in C:
        // its list comes into the caches while c's neighbours are measured.
        if let Some(Reverse(next)) = c_heap.peek() {
            graph.prefetch_neighbours(next.id, lc);
        }
        neighbours.clear();
        graph.neighbours(c.id, lc, neighbours);
        neighbours.retain(|&e| v.insert(graph, e));
        // Only nodes closer than the furthest of a full W are kept, so
        // the rest need not be measured to the end.
        let bound = match w.peek() {
            Some(f) if w.len() >= ef => f.distance,
            _ => f32::INFINITY,
        };
        distances.clear();
        graph.distances_within(query, neighbours, bound, distances);
        for (&e, &d) in neighbours.iter().zip(distances.iter()) {
            let e = Candidate::new(d, e);
            let closer = w.len() < ef || w.peek().is_some_and(|f| e < *f);
            if closer {
                c_heap.push(Reverse(e));
                if !graph.is_deleted(e.id) {
                    w.push(e);
                    if w.len() > ef {
                        w.pop();
                    }
                }
            }
        }
    }
    out.clear();
    out.extend(w.drain());
    out.sort_unstable();
}

/// Descends from the entry point `ep = (id, level)` to layer `target`
/// greedily (Algorithm 5 lines 1-4, Algorithm 1 lines 5-7).
pub fn descend<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    target: usize,
    buf: &mut Vec<G::Id>,
) -> Candidate<G::Id> {
    let (id, top) = ep;
    let mut ep = Candidate::new(graph.distance(query, id), id);
    for lc in (target + 1..=top).rev() {
        ep = greedy_closest(graph, query, ep, lc, buf);
    }
    ep
}

/// K-NN-SEARCH(hnsw, q, K, ef), Algorithm 5: the `k` nearest live nodes
/// found with a dynamic list of `max(ef, k)`, ascending by distance.
pub fn knn_search<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    k: usize,
    ef: usize,
    scratch: &mut SearchScratch<G::Id>,
) -> Vec<Candidate<G::Id>> {
    let ep = descend(graph, query, ep, 0, &mut scratch.neighbours);
    let mut w = Vec::with_capacity(ef.max(k));
    search_layer(graph, query, &[ep], ef.max(k), 0, scratch, &mut w);
    w.truncate(k);
    w
}
