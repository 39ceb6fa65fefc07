//! SEARCH-LAYER (Algorithm 2) and K-NN-SEARCH (Algorithm 5).

use std::cmp::Reverse;

use crate::{Candidate, Graph, SearchScratch};

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
        ..
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

/// Width of the search at each upper layer (`ef` of SEARCH-LAYER there),
/// which picks the entry points of the layer below (see [`entry_points`]).
pub const UPPER_EF: usize = 8;

/// The entry points of a search of layer 0 for `query`, into `out`
/// nearest first: from `ep = (id, L)`, SEARCH-LAYER with
/// `ef = UPPER_EF` at every layer from `L` down to 1, each layer entered
/// at the previous one's results; deleted nodes are counted like live
/// ones (they are stepping stones only). With `L` 0, `ep` itself.
///
/// Why not the paper's greedy descent (`ef = 1`) to layer 0: on data made
/// of classes or tight clusters, a greedy walk can end in the wrong one,
/// and the search of layer 0 then returns none of the true neighbours at
/// any `ef_search` short of the one that happens to cross over: each
/// cluster's lower layers link mostly within it. An upper layer holds one
/// node in `m` of the layer below, so the wider search is small (and in
/// memory, on a backend's copy of the upper layers).
///
/// Measured (200 queries, recall@10 at ef_search 10 / 20 / 40 / 80): on
/// the SQL benchmark's resnetlike-2048-20k index, layer 1 searched 1 wide
/// gave 0.886 / 0.969 / 0.995, 8 wide 0.954 / 0.993 / 0.9995 (greedy
/// above). With `bare_build`, that rule on clustered-128-1m (1,000
/// clusters): 0.727 / 0.860 / 0.923 / 0.940, 30 of 200 queries entering
/// layer 0 in a wrong cluster. Every upper layer 8 wide: clustered-128-1m
/// 0.768 / 0.892 / 0.955 / 0.974 (~120 more distances a query against
/// layer 0's 290-810); resnetlike-960-50k 0.865 -> 0.877 at ef 10;
/// clustered-128-100k unchanged; build time within noise (the inserts
/// enter layer 0 alike).
pub fn entry_points<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    scratch: &mut SearchScratch<G::Id>,
    out: &mut Vec<Candidate<G::Id>>,
) {
    entry_points_at(graph, query, ep, 0, scratch, out);
}

/// The entry points of a search of layer `target` (below `ep`'s level
/// `L`) for `query`, into `out` nearest first: SEARCH-LAYER `UPPER_EF`
/// wide at each layer from `L` down to `target + 1` (see
/// [`entry_points`]); `ep` itself when `target >= L`.
pub fn entry_points_at<G: Graph>(
    graph: &G,
    query: &[f32],
    ep: (G::Id, usize),
    target: usize,
    scratch: &mut SearchScratch<G::Id>,
    out: &mut Vec<Candidate<G::Id>>,
) {
    out.clear();
    out.push(Candidate::new(graph.distance(query, ep.0), ep.0));
    let mut start = std::mem::take(&mut scratch.layer_entries);
    for lc in (target + 1..=ep.1).rev() {
        start.clone_from(out);
        search_layer_of(graph, query, &start, UPPER_EF, lc, false, scratch, out);
    }
    scratch.layer_entries = start;
}

/// K-NN-SEARCH(hnsw, q, K, ef), Algorithm 5: the `k` nearest live nodes
/// found with a dynamic list of `max(ef, k)`, ascending by distance;
/// layer 0 is entered at [`entry_points`] (`UPPER_EF` wide).
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
