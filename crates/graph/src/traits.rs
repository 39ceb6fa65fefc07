//! The storage traits the algorithms are generic over.
//!
//! Two stores implement them: [`crate::MemoryGraph`] (index build, tests)
//! and the on-page index in the extension crate. Both sides take `&self`
//! so one store can be shared by threads; locking is the implementor's
//! business.

use std::fmt::Debug;
use std::hash::Hash;

/// Read side: what searching a graph needs.
pub trait Graph {
    /// A node's identity (an array index in memory, a page item pointer on disk).
    type Id: Copy + Eq + Hash + Ord + Debug + Send + Sync;

    /// Distance from `query` to the stored vector of `id`.
    fn distance(&self, query: &[f32], id: Self::Id) -> f32;

    /// Distances from `query` to each of `ids`, appended to `out` in the
    /// same order, for a search that rejects every id further than `bound`
    /// (`f32::INFINITY` for none): a distance above `bound` may come out as
    /// any value above `bound` (the store may stop measuring it part way);
    /// everything within `bound` is exact. A store may override it to read
    /// each page once for all the ids stored on it; by default it measures
    /// each id in full.
    fn distances_within(&self, query: &[f32], ids: &[Self::Id], bound: f32, out: &mut Vec<f32>) {
        let _ = bound;
        out.extend(ids.iter().map(|&id| self.distance(query, id)));
    }

    /// Hints the store that the vectors of `ids` are about to be read, so
    /// it can start fetching them into the CPU's caches (no-op by default).
    fn prefetch(&self, _ids: &[Self::Id]) {}

    /// Hints the store that the neighbours of `id` at layer `lc` are
    /// about to be read (no-op by default).
    fn prefetch_neighbours(&self, _id: Self::Id, _lc: usize) {}

    /// Neighbours of `id` at layer `lc` appended to `out` (out is cleared by the caller).
    fn neighbours(&self, id: Self::Id, lc: usize, out: &mut Vec<Self::Id>);

    /// A dense index `0..n` for `id` when the store has one (array ids in
    /// memory), so searches can track visited nodes in an array instead
    /// of a hash set.
    fn dense_index(&self, _id: Self::Id) -> Option<usize> {
        None
    }

    /// Whether `id` is deleted: it is still traversed but never returned
    /// as a result or chosen as a new neighbour.
    fn is_deleted(&self, _id: Self::Id) -> bool {
        false
    }
}

/// Write side: what INSERT (Algorithm 1) and vacuum repair need.
pub trait GraphMut: Graph {
    /// Distance between the stored vectors of `a` and `b`.
    fn distance_between(&self, a: Self::Id, b: Self::Id) -> f32;

    /// The stored vector of `id`, decoded and prepared as a query (see
    /// [`crate::Metric::prepare`]), to search for the node itself.
    fn query_of(&self, id: Self::Id) -> Vec<f32>;

    /// [`GraphMut::query_of`] written over `out`, which a store may fill
    /// without allocating.
    fn query_into(&self, id: Self::Id, out: &mut Vec<f32>) {
        *out = self.query_of(id);
    }

    /// Whether [`GraphMut::query_of`] gives dense vectors, which neighbour
    /// selection may compare with [`crate::Metric::between_prepared`];
    /// false for a store of sparse copies, whose queries are
    /// [`distance::sparse::pack`]ed (a query is the store's working form:
    /// the algorithms only hand it back to the store).
    fn dense_queries(&self) -> bool {
        true
    }

    /// Whether [`GraphMut::distance_between`] decodes one side of the pair
    /// to measure it against the other's stored copy (8-bit copies do):
    /// neighbour selection then decodes each candidate once and measures it
    /// with [`Graph::distance`] against every kept node, the same values
    /// without decoding the candidate again for each of them.
    fn decodes_pairs(&self) -> bool {
        false
    }

    /// The metric the stored vectors are compared in: neighbour selection
    /// measures decoded vectors against each other with
    /// [`crate::Metric::between_prepared`].
    fn metric(&self) -> crate::Metric;

    /// Dimensions of the stored vectors.
    fn dims(&self) -> usize;

    /// Links a list at layer `lc` may hold beyond `Mmax` before INSERT
    /// shrinks it (a store that allows any must bring its lists back to
    /// `Mmax` itself before they are final). On-page lists have none.
    fn spare_links(&self, _lc: usize) -> usize {
        0
    }

    /// Whether INSERT keeps every node reachable at layer 0 as it links,
    /// and keeps its shrinks from cutting nodes off the layers above (see
    /// `way_in.rs`): a back-link's shrink may drop a node's only
    /// in-link, and the new node may be dropped by all its neighbours. For
    /// a store linked one insert at a time with no later pass that bridges
    /// (the on-page index); a build, which bridges at its end
    /// ([`crate::MemoryGraph::connect`]), need not pay for it.
    fn keeps_reach(&self) -> bool {
        false
    }

    /// Whether some layer-0 list names `id`, where the store counts its
    /// in-links ([`crate::InLinks`]); `None` when it does not, and the
    /// reach check of `way_in.rs` reads the lists around `id` instead.
    fn has_way_in(&self, _id: Self::Id) -> Option<bool> {
        None
    }

    /// Replaces the neighbour list of `id` at layer `lc`.
    fn set_neighbours(&self, id: Self::Id, lc: usize, neighbours: &[Self::Id]);

    /// Calls `update` with the current neighbour list of `id` at layer `lc`
    /// and stores what it leaves, atomically with respect to other
    /// updates of the same list (the read-modify-write of an insert's
    /// back-link). `update` only calls [`GraphMut::distance_between`].
    fn update_neighbours(
        &self,
        id: Self::Id,
        lc: usize,
        update: &mut dyn FnMut(&mut Vec<Self::Id>),
    );
}
