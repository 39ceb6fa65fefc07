//! SELECT-NEIGHBORS-HEURISTIC (Algorithm 4).

use crate::{Candidate, GraphMut};

/// SELECT-NEIGHBORS-HEURISTIC(base, C, M, lc, extendCandidates = false,
/// keepPrunedConnections = true), Algorithm 4.
///
/// `candidates` are sorted by ascending distance to the base element.
/// A candidate `e` is kept when it is closer to the base than to every
/// element already in `R`; this spreads the links over directions instead
/// of crowding one cluster. As in pgvector, the discarded candidates then
/// fill the remaining slots in order (keepPrunedConnections), so a node
/// never has fewer links than it could. `extendCandidates` is not used:
/// the paper recommends it only for extremely clustered data.
pub fn select_neighbours<G: GraphMut>(
    graph: &G,
    candidates: &[Candidate<G::Id>],
    m: usize,
    out: &mut Vec<Candidate<G::Id>>,
) {
    debug_assert!(candidates.windows(2).all(|p| p[0] <= p[1]));
    out.clear();
    if candidates.len() <= m {
        out.extend_from_slice(candidates);
        return;
    }
    // Each candidate is decoded once, then tested against the members of
    // R one after another; the first member within its distance to the
    // base rejects it. Up to WITHIN_CHUNK dimensions the members are
    // decoded too (`kept`, in R's order) and compared as f32 pairs: most
    // candidates meet several members, whose f16 codes would be widened
    // again at every meeting. Above, the codes of a member are read as
    // they are stored (half the bytes) and each distance may stop part
    // way once past the candidate's own (see `Graph::distances_within`).
    let metric = graph.metric();
    let mut kept: Vec<f32> = Vec::new();
    let mut e_vec = Vec::new();
    let mut d = Vec::with_capacity(1);
    let mut discarded = Vec::new(); // W_d
    for &e in candidates {
        if out.len() >= m {
            break;
        }
        graph.query_into(e.id, &mut e_vec);
        let dim = e_vec.len().max(1);
        let closer_to_base = if dim <= distance::half::WITHIN_CHUNK {
            kept.chunks_exact(dim)
                .all(|r| e.distance < metric.between_prepared(&e_vec, r))
        } else {
            out.iter().all(|r| {
                d.clear();
                graph.distances_within(&e_vec, &[r.id], e.distance, &mut d);
                e.distance < d[0]
            })
        };
        if closer_to_base {
            out.push(e);
            if dim <= distance::half::WITHIN_CHUNK {
                kept.extend_from_slice(&e_vec);
            }
        } else {
            discarded.push(e);
        }
    }
    // keepPrunedConnections: while |W_d| > 0 and |R| < M, add the nearest of W_d.
    let room = m - out.len();
    out.extend(discarded.into_iter().take(room));
}
