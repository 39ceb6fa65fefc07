//! One node's neighbour lists in a single allocation.

use crate::max_connections;

/// Dimensions from which a list may hold `Mmax` spare links rather than a
/// quarter of `Mmax` (see [`ListShape`]).
pub(crate) const WIDE_SPARE_DIMS: usize = 512;

/// How long the lists of a graph built in memory may grow: `Mmax` plus
/// some spare links, beyond which INSERT shrinks a list back to `Mmax`
/// with the heuristic. Spare links make the shrink, which measures the
/// distances between all the links, run once every few back-links
/// instead of at every one. How many pays depends on the dimensions:
///
/// - from [`WIDE_SPARE_DIMS`] up, a distance is the build's main cost and
///   `Mmax` spare links (a shrink every `Mmax` back-links) cut a 2048-d
///   build's distances by 27% (28.5M to 20.9M for 20,000 vectors) at the
///   same recall;
/// - below, distances are cheap, and a quarter of `Mmax` keeps the
///   recall of a parallel build (128-d: 0.954 vs 0.948 at ef 40 with
///   `Mmax` spare links, which brought no clear gain in build time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListShape {
    m: usize,
    wide: bool,
}

impl ListShape {
    /// The lists of a graph of `dim`-dimensional vectors built with `m`.
    pub(crate) fn new(m: usize, dim: usize) -> Self {
        ListShape {
            m,
            wide: dim >= WIDE_SPARE_DIMS,
        }
    }

    /// Links a list at layer `lc` may hold beyond `Mmax`.
    #[inline]
    pub(crate) fn spare_links(&self, lc: usize) -> usize {
        let max = max_connections(self.m, lc);
        if self.wide {
            max
        } else {
            max.div_ceil(4)
        }
    }

    /// How many links a list at layer `lc` may hold while it is built.
    #[inline]
    pub(crate) fn capacity(&self, lc: usize) -> usize {
        max_connections(self.m, lc) + self.spare_links(lc)
    }

    /// Start of layer `lc`'s segment in [`NodeLinks`].
    #[inline]
    fn offset(&self, lc: usize) -> usize {
        if lc == 0 {
            0
        } else {
            (self.capacity(0) + 1) + (lc - 1) * (self.capacity(1) + 1)
        }
    }
}

/// The neighbour lists of one node at layers `0..=level`, stored flat:
/// layer `lc` is a segment `[len, id_0, .., id_(cap-1)]` with room for
/// [`ListShape::capacity`] links (`Mmax = 2m` at layer 0 and `m` above, plus the
/// spare ones). One allocation per node keeps builds of millions of nodes
/// cheap and makes the memory estimate exact.
#[derive(Clone, Debug)]
pub(crate) struct NodeLinks {
    slots: Box<[u32]>,
}

impl NodeLinks {
    /// Empty lists for a node of `level` in lists of `shape`.
    pub(crate) fn new(level: usize, shape: ListShape) -> Self {
        let len = shape.offset(level + 1);
        NodeLinks {
            slots: vec![0; len].into_boxed_slice(),
        }
    }

    /// Bytes this node's lists occupy on the heap.
    pub(crate) fn heap_bytes(level: usize, shape: ListShape) -> usize {
        shape.offset(level + 1) * std::mem::size_of::<u32>()
    }

    /// The neighbours at layer `lc`.
    pub(crate) fn get(&self, lc: usize, shape: ListShape) -> &[u32] {
        let at = shape.offset(lc);
        let len = self.slots[at] as usize;
        &self.slots[at + 1..at + 1 + len]
    }

    /// Replaces the neighbours at layer `lc`; more than
    /// [`ListShape::capacity`] is a bug.
    pub(crate) fn set(&mut self, lc: usize, shape: ListShape, ids: &[u32]) {
        let at = shape.offset(lc);
        assert!(
            ids.len() <= shape.capacity(lc),
            "neighbour list of {} exceeds the capacity of {} at layer {lc}",
            ids.len(),
            shape.capacity(lc)
        );
        self.slots[at] = ids.len() as u32;
        self.slots[at + 1..at + 1 + ids.len()].copy_from_slice(ids);
    }
}
