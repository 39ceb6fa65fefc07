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
    // Up to WITHIN_CHUNK dimensions each candidate is decoded once and
    // compared as f32 pairs with the decoded members of R (`kept`, in R's
    // order): most candidates meet several members, whose f16 codes would
    // be widened again at every meeting.
    // Above, the f16 pairs are compared as stored: decoding there doubles
    // the bytes each comparison reads, and measured no faster at 2048-d.
    let decoded = graph.dense_queries() && graph.dims() <= distance::half::WITHIN_CHUNK;
    // Above it, a store whose pair distance decodes one side anyway (8-bit
    // copies) has the candidate decoded once, not once for each member of R.
    let decoded_once = !decoded && graph.decodes_pairs();
    let metric = graph.metric();
    let mut kept: Vec<f32> = Vec::new();
    let mut e_vec = Vec::new();
    let mut discarded = Vec::new(); // W_d
    for &e in candidates {
        if out.len() >= m {
            break;
        }
        let closer_to_base = if decoded {
            graph.query_into(e.id, &mut e_vec);
            kept.chunks_exact(e_vec.len().max(1))
                .all(|r| e.distance < metric.between_prepared(&e_vec, r))
        } else if out.is_empty() {
            true // the nearest is always kept
        } else if decoded_once {
            graph.query_into(e.id, &mut e_vec);
            out.iter()
                .all(|r| e.distance < graph.distance(&e_vec, r.id))
        } else {
            out.iter()
                .all(|r| e.distance < graph.distance_between(e.id, r.id))
        };
        if closer_to_base {
            out.push(e);
            if decoded {
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
