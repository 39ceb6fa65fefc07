//! A node paired with its distance to a query: the element of `W` and `C`.

use std::cmp::Ordering;

/// A node id with its distance to the current query (or base node).
///
/// Ordered by distance (IEEE total order), then by id, so heaps and sorts
/// are deterministic even when distances tie.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<Id> {
    /// Distance to the query; smaller is closer.
    pub distance: f32,
    /// The node.
    pub id: Id,
}

impl<Id> Candidate<Id> {
    /// Pairs `id` with its `distance`.
    #[inline]
    pub fn new(distance: f32, id: Id) -> Self {
        Candidate { distance, id }
    }
}

impl<Id: Ord> Ord for Candidate<Id> {
    /// Distance first, id second.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then_with(|| self.id.cmp(&other.id))
    }
}

impl<Id: Ord> PartialOrd for Candidate<Id> {
    /// Same as [`Ord::cmp`].
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<Id: Ord> PartialEq for Candidate<Id> {
    /// Equal when both distance (bitwise, total order) and id are equal.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<Id: Ord> Eq for Candidate<Id> {}
