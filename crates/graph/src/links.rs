//! One node's neighbour lists in a single allocation.

use crate::max_connections;

/// How many links a list at layer `lc` may hold while a graph is being
/// built in memory: `Mmax` plus [`spare_links`] (see `MemoryGraph`).
#[inline]
pub(crate) fn capacity(m: usize, lc: usize) -> usize {
    max_connections(m, lc) + spare_links(m, lc)
}

/// Links a list may hold beyond `Mmax` before INSERT shrinks it with the
/// heuristic: a quarter of `Mmax`, so a list is shrunk once every few
/// back-links instead of at every one (the build's main cost).
#[inline]
pub(crate) fn spare_links(m: usize, lc: usize) -> usize {
    max_connections(m, lc).div_ceil(4)
}

/// The neighbour lists of one node at layers `0..=level`, stored flat:
/// layer `lc` is a segment `[len, id_0, .., id_(cap-1)]` with room for
/// [`capacity`] links (`Mmax = 2m` at layer 0 and `m` above, plus the
/// spare ones). One allocation per node keeps builds of millions of nodes
/// cheap and makes the memory estimate exact.
#[derive(Clone, Debug)]
pub(crate) struct NodeLinks {
    slots: Box<[u32]>,
}

impl NodeLinks {
    /// Empty lists for a node of `level` in a graph built with `m`.
    pub(crate) fn new(level: usize, m: usize) -> Self {
        let len = Self::offset(level + 1, m);
        NodeLinks {
            slots: vec![0; len].into_boxed_slice(),
        }
    }

    /// Bytes this node's lists occupy on the heap.
    pub(crate) fn heap_bytes(level: usize, m: usize) -> usize {
        Self::offset(level + 1, m) * std::mem::size_of::<u32>()
    }

    /// Start of layer `lc`'s segment.
    fn offset(lc: usize, m: usize) -> usize {
        if lc == 0 {
            0
        } else {
            (capacity(m, 0) + 1) + (lc - 1) * (capacity(m, 1) + 1)
        }
    }

    /// The neighbours at layer `lc`.
    pub(crate) fn get(&self, lc: usize, m: usize) -> &[u32] {
        let at = Self::offset(lc, m);
        let len = self.slots[at] as usize;
        &self.slots[at + 1..at + 1 + len]
    }

    /// Replaces the neighbours at layer `lc`; more than [`capacity`] is a bug.
    pub(crate) fn set(&mut self, lc: usize, m: usize, ids: &[u32]) {
        let at = Self::offset(lc, m);
        assert!(
            ids.len() <= capacity(m, lc),
            "neighbour list of {} exceeds the capacity of {} at layer {lc}",
            ids.len(),
            capacity(m, lc)
        );
        self.slots[at] = ids.len() as u32;
        self.slots[at + 1..at + 1 + ids.len()].copy_from_slice(ids);
    }
}
