//! Vacuum repair: relinking around deleted nodes before they are freed.
//!
//! Design note. Vacuum first marks the nodes whose heap tuples are gone
//! (the store's [`Graph::is_deleted`] then says so), then calls
//! [`repair_neighbours`] for every live node at every layer it belongs
//! to, then [`replace_entry_point`] if the entry point was deleted, and
//! only then frees the deleted nodes. A repaired list is rebuilt from the
//! node's surviving neighbours plus the live neighbours of its deleted
//! neighbours (the nodes a search would have reached through them), with
//! SELECT-NEIGHBORS-HEURISTIC. Repairs only read the lists of deleted
//! nodes, which no repair changes, so their order does not matter; inserts
//! may run beside them (they never link to a deleted node, and a repair
//! writes a list only if no insert changed it since it was read).

use std::collections::VecDeque;

use rustc_hash::FxHashSet;

use crate::select::select_neighbours;
use crate::{max_connections, Candidate, Graph, GraphMut};

/// Times [`repair_neighbours`] recomputes a list that a concurrent insert
/// changed under it before it leaves that list alone.
const REPAIR_TRIES: usize = 8;

/// Rebuilds the neighbour list of live node `id` at layer `lc` if it
/// points at a deleted node; returns whether it changed anything.
///
/// Inserts may run meanwhile and add back-links to the same list: the new
/// list is written only if the list is still the one it was computed from
/// (else it is recomputed), so no insert's link is lost.
pub fn repair_neighbours<G: GraphMut>(graph: &G, id: G::Id, lc: usize, m: usize) -> bool {
    let mut current = Vec::new();
    let mut second = Vec::new();
    for _ in 0..REPAIR_TRIES {
        current.clear();
        graph.neighbours(id, lc, &mut current);
        if !current.iter().any(|&n| graph.is_deleted(n)) {
            return false;
        }
        let mut ids = Vec::with_capacity(current.len() * 2);
        for &n in &current {
            if !graph.is_deleted(n) {
                ids.push(n);
                continue;
            }
            second.clear();
            graph.neighbours(n, lc, &mut second);
            ids.extend(
                second
                    .iter()
                    .copied()
                    .filter(|&x| x != id && !graph.is_deleted(x)),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        let mut candidates: Vec<_> = ids
            .into_iter()
            .map(|x| Candidate::new(graph.distance_between(id, x), x))
            .collect();
        candidates.sort_unstable();
        let mut kept = Vec::new();
        select_neighbours(graph, &candidates, max_connections(m, lc), &mut kept);
        let mut written = false;
        graph.update_neighbours(id, lc, &mut |now| {
            // A store may call this again on a fresh copy: decide each time.
            written = *now == current;
            if written {
                now.clear();
                now.extend(kept.iter().map(|c| c.id));
            }
        });
        if written {
            return true;
        }
    }
    false
}

/// A live replacement for a deleted entry point `old = (id, L)`: searching
/// the layers from `L` down, breadth-first from `old`, the first layer
/// where a live node is reachable gives the candidates, of which the one
/// with the highest `level_of` (then the smallest id) wins. `None` when
/// no live node is reachable at all.
pub fn replace_entry_point<G: Graph>(
    graph: &G,
    old: (G::Id, usize),
    level_of: impl Fn(G::Id) -> usize,
) -> Option<(G::Id, usize)> {
    let mut visited = FxHashSet::default();
    let mut queue = VecDeque::new();
    let mut buf = Vec::new();
    for lc in (0..=old.1).rev() {
        visited.clear();
        queue.clear();
        visited.insert(old.0);
        queue.push_back(old.0);
        let mut best: Option<(G::Id, usize)> = None;
        while let Some(n) = queue.pop_front() {
            if !graph.is_deleted(n) {
                let level = level_of(n);
                let better = match best {
                    None => true,
                    Some((b, bl)) => level > bl || (level == bl && n < b),
                };
                if better {
                    best = Some((n, level));
                }
            }
            buf.clear();
            graph.neighbours(n, lc, &mut buf);
            queue.extend(buf.iter().copied().filter(|&x| visited.insert(x)));
        }
        if best.is_some() {
            return best;
        }
    }
    None
}
