//! Reachability kept while nodes are inserted one at a time (the on-page
//! index: no pass at the end bridges to what its inserts cut off).
//!
//! Design note. Back-link shrinking (Algorithm 1 lines 14-16) drops a link
//! from a full list. Where that link was the dropped node's only in-link
//! (a bridge the build's [`crate::reconnect()`] added to an outlier, or the
//! one entrance of a region) the node, and every node behind it, silently
//! leaves the part of layer 0 a search can reach: on a SPLADE-like
//! sparsevec(30522) index of 3,000 rows, 300 single-row inserts cut 563
//! older rows off under L2 and some 900 under L1, which no scan returned
//! until VACUUM reconnected them. So after a shrink at layer 0 each live
//! node `x` it dropped must still be linked from one of `e`'s remaining
//! neighbours (`e -> y -> x`: every path that used `e -> x` still exists);
//! if none links to it, `e -> x` comes back in place of a neighbour that
//! `e` reaches that way ([`add_bridge`], as vacuum's bridges). A new node
//! that every neighbour's shrink dropped gets the same kind of bridge from
//! its nearest neighbour. A store that counts its lists' in-links
//! ([`crate::InLinks`], a spilled build's) answers instead whether any list
//! still names `x` ([`crate::GraphMut::has_way_in`]): one lookup instead of
//! up to 2m list reads, and a weaker promise that the build's final
//! reconnect pass completes.
//!
//! The same check runs after a shrink at the layers above 0, always by
//! reading lists (a list there holds `m` links, and only one insert in `m`
//! reaches layer 1): a node cut off there is never passed by the greedy
//! descent to layer 0, so the region behind it is entered from layer 0
//! only. Neither the build nor the reconnect pass bridges those layers, so
//! this keeps the inserts from cutting off more, no more (in
//! `insert_reach.rs`'s data, 110 upper-layer nodes cut off against 515).
//! Everything here is read outside the store's locks, with the store's own
//! atomic list updates, and is best effort under concurrent inserts as the
//! back-links themselves are.

use crate::reconnect::add_bridge;
use crate::{Candidate, GraphMut};

/// After a shrink took `e`'s list at layer `lc` from `before` to `after`:
/// gives each live node dropped from it that no node of `after` links to
/// (or, at layer 0 in a store that counts in-links, that no list names any
/// more) a way in again, from `e` or, when `e` has no neighbour to give up
/// for it, from one of `after`.
pub(crate) fn keep_dropped_reachable<G: GraphMut>(
    graph: &G,
    e: G::Id,
    before: &[G::Id],
    after: &[G::Id],
    lc: usize,
    max: usize,
) {
    let mut buf = Vec::new();
    for &x in before {
        if after.contains(&x)
            || graph.is_deleted(x)
            || (lc == 0)
                .then(|| graph.has_way_in(x))
                .flatten()
                .unwrap_or_else(|| linked_from(graph, after, x, lc, &mut buf))
        {
            continue;
        }
        let _ = std::iter::once(e)
            .chain(after.iter().copied())
            .any(|w| add_bridge(graph, w, x, lc, max));
    }
}

/// Gives new node `q`, which none of its layer-0 neighbours `chosen`
/// (nearest first) kept a back-link to, a link from the nearest that can
/// take one.
pub(crate) fn bridge_new_node<G: GraphMut>(
    graph: &G,
    q: G::Id,
    chosen: &[Candidate<G::Id>],
    max: usize,
) {
    let _ = chosen.iter().any(|c| add_bridge(graph, c.id, q, 0, max));
}

/// Whether one of `nodes` links to `x` at layer `lc` (lists read one by
/// one until one does).
fn linked_from<G: GraphMut>(
    graph: &G,
    nodes: &[G::Id],
    x: G::Id,
    lc: usize,
    buf: &mut Vec<G::Id>,
) -> bool {
    nodes.iter().any(|&y| {
        buf.clear();
        graph.neighbours(y, lc, buf);
        buf.contains(&x)
    })
}
