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
    search_layer_of(graph, query, ep, ef, lc, true, scratch, out)
}

/// [`search_layer`]; with `live_only` false, deleted nodes enter `W` too.
#[allow(clippy::too_many_arguments)]
fn search_layer_of<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: &[Candidate<G::Id>],
    ef: usize,
    lc: usize,
    live_only: bool,
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
            if !(live_only && graph.is_deleted(e.id)) {
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
                if !(live_only && graph.is_deleted(e.id)) {
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

/// `ef` of the search at layer 1 that picks the entry points of a search
/// of layer 0 (see [`entry_points`]).
pub const LAYER_ONE_EF: usize = 8;

/// The entry points of a search of layer 0 for `query`, into `out`
/// nearest first: the greedy descent from `ep = (id, L)` to layer 1
/// (Algorithm 5 lines 1-4), then SEARCH-LAYER at layer 1 with
/// `ef = LAYER_ONE_EF`, deleted nodes counted like live ones (they are
/// stepping stones only). With `L` 0, `ep` itself.
///
/// Why not the paper's `ef = 1` all the way down: on data made of classes
/// (CNN features), a greedy descent can end in the wrong class, and the
/// search of layer 0 then returns none of the true neighbours at any
/// `ef_search` short of the one that happens to cross over. Layer 1
/// holds one node in `m`, so the extra search is small (and in memory,
/// on a backend's copy of the upper layers), while its `width` entries
/// land in the classes near the query. Measured on the SQL benchmark's
/// indexes (200 queries), recall@10 at ef_search 10 / 20 / 40, by the
/// width (`ef`) of the layer-1 search:
/// resnetlike-2048-20k 0.886 / 0.969 / 0.995 with width 1, 0.927 /
/// 0.988 / 0.9995 with 4, 0.954 / 0.993 / 0.9995 with 8 and with 16;
/// clustered-128-100k (1,000 queries) 0.780 / 0.900 / 0.974 with 1,
/// 0.797 / 0.909 / 0.975 with 8; SQL queries/s unchanged within noise.
/// On the bare graph (`bare_build`, 200 queries) the search at layer 1
/// costs ~64 distances with width 8 (~54 with 4) against layer 0's
/// 283-944 (ef 10-160), and buys at 128-d recall@10 0.9530-0.9585 ->
/// 0.977 at ef 40 (more than ef 80 gave before, at 1.4x its queries/s),
/// at 2,048-d 0.876 -> 0.953 at ef 10 with 10% fewer distances at
/// layer 0 (the search starts nearer).
pub fn entry_points<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    scratch: &mut SearchScratch<G::Id>,
    out: &mut Vec<Candidate<G::Id>>,
) {
    if ep.1 == 0 {
        out.clear();
        out.push(Candidate::new(graph.distance(query, ep.0), ep.0));
        return;
    }
    let start = descend(graph, query, ep, 1, &mut scratch.neighbours);
    search_layer_of(graph, query, &[start], LAYER_ONE_EF, 1, false, scratch, out);
}

/// K-NN-SEARCH(hnsw, q, K, ef), Algorithm 5: the `k` nearest live nodes
/// found with a dynamic list of `max(ef, k)`, ascending by distance;
/// layer 0 is entered at [`entry_points`] (`LAYER_ONE_EF` wide).
pub fn knn_search<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    k: usize,
    ef: usize,
    scratch: &mut SearchScratch<G::Id>,
) -> Vec<Candidate<G::Id>> {
    let mut eps = Vec::new();
    entry_points(graph, query, ep, scratch, &mut eps);
    let mut w = Vec::with_capacity(ef.max(k));
    search_layer(graph, query, &eps, ef.max(k), 0, scratch, &mut w);
    w.truncate(k);
    w
}
