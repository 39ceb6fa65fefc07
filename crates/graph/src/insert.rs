//! INSERT (Algorithm 1), generic over the storage traits.
//!
//! Design note. The paper links the new element `q` layer by layer. Here
//! the work is split in three phases, as pgvector does:
//!
//! 1. search every layer `lc <= l` for `q`'s neighbours (`q` is not yet
//!    reachable, so concurrent searches never see a half-linked node);
//! 2. write `q`'s own neighbour lists;
//! 3. add the back-links `e -> q`, each a read-modify-write of `e`'s list
//!    through [`GraphMut::update_neighbours`], shrinking the list with the
//!    heuristic when it exceeds `Mmax` (`Mmax0 = 2M` at layer 0).
//!
//! The caller owns the entry point: it passes the current one in and
//! promotes `q` when [`insert`] says so (the on-page index keeps it in
//! the meta page, the memory store behind a mutex).

use crate::search::{entry_points_at, search_layer};
use crate::select::select_neighbours;
use crate::{max_connections, Candidate, GraphMut, InsertParams, SearchScratch};

/// INSERT(hnsw, q, M, Mmax, efConstruction, mL), Algorithm 1, for node
/// `q` whose vector is `vector` and whose level `l` is already drawn.
///
/// `q`'s vector must already be readable through the store (back-link
/// shrinking measures distances from the neighbours to it). `ep` is the
/// current entry point `(id, L)`, `None` for an empty graph. Returns true
/// when `q` should become the new entry point (`l > L`, or the graph was
/// empty).
pub fn insert<G: GraphMut>(
    graph: &G,
    q: G::Id,
    vector: &[f32],
    level: usize,
    ep: Option<(G::Id, usize)>,
    params: InsertParams,
    scratch: &mut SearchScratch<G::Id>,
) -> bool {
    let Some((ep_id, top)) = ep else {
        return true;
    };
    let neighbours = find_neighbours(graph, q, vector, level, (ep_id, top), params, scratch);
    // Phase 2: q's own lists.
    let mut ids = Vec::new();
    for (lc, chosen) in neighbours.iter().enumerate() {
        ids.clear();
        ids.extend(chosen.iter().map(|c| c.id));
        graph.set_neighbours(q, lc, &ids);
    }
    // Phase 3: back-links, shrinking neighbourhood(e) when over Mmax.
    let mut linked = false;
    for (lc, chosen) in neighbours.iter().enumerate() {
        for &e in chosen {
            let kept = add_connection(graph, e.id, q, lc, params.m);
            linked |= lc == 0 && kept;
        }
    }
    if !linked && graph.keeps_reach() {
        let max = max_connections(params.m, 0);
        crate::way_in::bridge_new_node(graph, q, &neighbours[0], max);
    }
    level > top
}

/// Phase 1 (Algorithm 1 lines 5-13 without the linking): for each layer
/// `lc` in `min(L, l)..=0` the neighbours chosen by the heuristic, indexed
/// by `lc`, each with its distance to `q`.
fn find_neighbours<G: GraphMut>(
    graph: &G,
    q: G::Id,
    vector: &[f32],
    level: usize,
    ep: (G::Id, usize),
    params: InsertParams,
    scratch: &mut SearchScratch<G::Id>,
) -> Vec<Vec<Candidate<G::Id>>> {
    let top = ep.1;
    // Lines 5-7: the descent through the layers above l, as a search
    // descends (`entry_points_at`: UPPER_EF wide at each layer, not the
    // paper's greedy walk, which can end in the wrong cluster).
    let mut entry = Vec::new();
    entry_points_at(graph, vector, ep, level.min(top), scratch, &mut entry);
    let mut w = Vec::with_capacity(params.ef_construction);
    let mut chosen = vec![Vec::new(); level.min(top) + 1];
    // Lines 8-13: ef_construction-wide search at each layer q belongs to.
    for lc in (0..=level.min(top)).rev() {
        search_layer(
            graph,
            vector,
            &entry,
            params.ef_construction,
            lc,
            scratch,
            &mut w,
        );
        w.retain(|c| c.id != q);
        select_neighbours(graph, &w, max_connections(params.m, lc), &mut chosen[lc]);
        // ep <- W (keep the old ep when every node found was deleted).
        if !w.is_empty() {
            entry.clear();
            entry.extend_from_slice(&w);
        }
    }
    chosen
}

/// Adds the link `e -> q` at layer `lc`; when `e` already has `Mmax` links (plus the store's
/// [`GraphMut::spare_links`]), `eConn = e's neighbours + q` is shrunk back
/// to `Mmax` with the heuristic (Algorithm 1 lines 14-16), which may drop
/// `q` itself. Returns whether `e` links to `q` afterwards. In a store that
/// [`GraphMut::keeps_reach`], a node the shrink drops keeps a way in at
/// that layer (see `way_in.rs`).
pub fn add_connection<G: GraphMut>(graph: &G, e: G::Id, q: G::Id, lc: usize, m: usize) -> bool {
    let max = max_connections(m, lc);
    let room = max + graph.spare_links(lc);
    let keep_reach = graph.keeps_reach();
    // Second time round (after a relink that may have lost its race) the
    // link is added whatever the list holds.
    for first in [true, false] {
        let (mut stale, mut linked) = (false, false);
        let (mut before, mut after) = (Vec::new(), Vec::new());
        graph.update_neighbours(e, lc, &mut |list| {
            (stale, linked) = (false, true);
            after.clear();
            if list.contains(&q) {
                return;
            }
            if first && list.len() >= room && list.iter().any(|&n| graph.is_deleted(n)) {
                (stale, linked) = (true, false);
                return;
            }
            if keep_reach {
                before.clone_from(list);
            }
            list.push(q);
            if list.len() > room {
                shrink(graph, e, list, max);
                linked = list.contains(&q);
                if keep_reach {
                    after.clone_from(list);
                }
            }
        });
        if !after.is_empty() {
            crate::way_in::keep_dropped_reachable(graph, e, &before, &after, lc, max);
        }
        if !stale {
            return linked;
        }
        // `e` is full and points at nodes a running vacuum deleted: the
        // shrink would just drop those links, where vacuum replaces them
        // from their neighbourhood. Relink `e` as vacuum would, then retry.
        crate::repair_neighbours(graph, e, lc, m);
    }
    false // not reached: the second round never finds the list stale
}

/// Shrinks `e`'s list at layer `lc` back to `Mmax` when it holds spare
/// links (see [`GraphMut::spare_links`]); the last step of a build.
pub fn shrink_overfull<G: GraphMut>(graph: &G, e: G::Id, lc: usize, m: usize) {
    let max = max_connections(m, lc);
    graph.update_neighbours(e, lc, &mut |list| {
        if list.len() > max {
            shrink(graph, e, list, max);
        }
    });
}

/// SELECT-NEIGHBORS-HEURISTIC over `e`'s links, leaving at most `max` in
/// `list`; links to deleted nodes are the first to go.
fn shrink<G: GraphMut>(graph: &G, e: G::Id, list: &mut Vec<G::Id>, max: usize) {
    list.retain(|&n| !graph.is_deleted(n));
    // e decoded once and measured against the whole list as one batch.
    let mut query = Vec::new();
    graph.query_into(e, &mut query);
    let mut distances = Vec::with_capacity(list.len());
    graph.distances_within(&query, list, f32::INFINITY, &mut distances);
    let mut conn: Vec<_> = list
        .iter()
        .zip(&distances)
        .map(|(&n, &d)| Candidate::new(d, n))
        .collect();
    conn.sort_unstable();
    let mut kept = Vec::with_capacity(max);
    select_neighbours(graph, &conn, max, &mut kept);
    list.clear();
    list.extend(kept.iter().map(|c| c.id));
}
