//! One node's neighbour lists in a single allocation.

use std::sync::atomic::{AtomicU32, Ordering};

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
///   No spare links at all (the paper's shrink at every overflow) gives
///   0.961 but takes 3x the build; even with each link remembering its
///   distance and the heuristic's last verdict (pgvector's incremental
///   re-selection) it took 1.35x the CPU, since the new link must still
///   meet most of `R` at every append; `Mmax / 8` gives 0.957 for 1.2x.
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

    /// Start of layer `lc`'s segment (`lc >= 1`) in [`NodeLinks`].
    #[inline]
    fn offset(&self, lc: usize) -> usize {
        debug_assert!(lc >= 1, "layer 0 lives in LayerZero");
        (lc - 1) * (self.capacity(1) + 1)
    }
}

/// The neighbour lists of one node at layers `1..=level`, stored flat:
/// layer `lc` is a segment `[len, id_0, .., id_(cap-1)]` with room for
/// [`ListShape::capacity`] links (`Mmax = m` above layer 0, plus the
/// spare ones). Layer 0 lives in [`LayerZero`]; most nodes have no upper
/// layer and allocate nothing here.
#[derive(Clone, Debug)]
pub(crate) struct NodeLinks {
    slots: Box<[u32]>,
}

impl NodeLinks {
    /// Empty lists for a node of `level` in lists of `shape`.
    pub(crate) fn new(level: usize, shape: ListShape) -> Self {
        NodeLinks {
            slots: vec![0; NodeLinks::slots(level, shape)].into_boxed_slice(),
        }
    }

    /// Slots the layers `1..=level` take.
    fn slots(level: usize, shape: ListShape) -> usize {
        level * (shape.capacity(1) + 1)
    }

    /// Bytes this node's upper lists occupy on the heap.
    pub(crate) fn heap_bytes(level: usize, shape: ListShape) -> usize {
        NodeLinks::slots(level, shape) * std::mem::size_of::<u32>()
    }

    /// The neighbours at layer `lc >= 1`.
    pub(crate) fn get(&self, lc: usize, shape: ListShape) -> &[u32] {
        let at = shape.offset(lc);
        let len = self.slots[at] as usize;
        &self.slots[at + 1..at + 1 + len]
    }

    /// Replaces the neighbours at layer `lc >= 1`; more than
    /// [`ListShape::capacity`] is a bug.
    pub(crate) fn set(&mut self, lc: usize, shape: ListShape, ids: &[u32]) {
        let at = shape.offset(lc);
        check_capacity(ids.len(), lc, shape);
        self.slots[at] = ids.len() as u32;
        self.slots[at + 1..at + 1 + ids.len()].copy_from_slice(ids);
    }
}

/// Panics when `len` links exceed the capacity of a list at layer `lc`.
fn check_capacity(len: usize, lc: usize, shape: ListShape) {
    assert!(
        len <= shape.capacity(lc),
        "neighbour list of {len} exceeds the capacity of {} at layer {lc}",
        shape.capacity(lc)
    );
}

/// Every node's layer-0 list in one flat array, node `i`'s as row `i`:
/// `[len, id_0, .., id_(cap-1)]`. A search reads one such list per node it
/// expands, so a row's address follows from the id alone: the read does
/// not wait for a pointer to come from memory first (as a per-node
/// allocation's would), and the search can prefetch the row of the node
/// it will expand next.
///
/// The slots are atomics so that the lists can be read and written through
/// `&self`; the caller serialises writers and readers of a row with the
/// node's lock, so relaxed loads and stores (plain moves) are enough.
#[derive(Debug, Default)]
pub(crate) struct LayerZero {
    width: usize,
    slots: Vec<AtomicU32>,
}

impl LayerZero {
    /// No rows yet, each to hold the layer-0 list of `shape`.
    pub(crate) fn new(shape: ListShape) -> Self {
        LayerZero {
            width: shape.capacity(0) + 1,
            slots: Vec::new(),
        }
    }

    /// Appends an empty row for the next node.
    pub(crate) fn push_empty(&mut self) {
        self.slots
            .resize_with(self.slots.len() + self.width, || AtomicU32::new(0));
    }

    /// Bytes one row takes.
    pub(crate) fn row_bytes(&self) -> usize {
        self.width * std::mem::size_of::<u32>()
    }

    /// Makes room for exactly `rows` more rows.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.slots.reserve_exact(rows * self.width);
    }

    /// Bytes of room held for rows, used or not.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<AtomicU32>()
    }

    /// The row of `node`.
    #[inline]
    fn row(&self, node: u32) -> &[AtomicU32] {
        let at = node as usize * self.width;
        &self.slots[at..at + self.width]
    }

    /// Number of links of `node` (the caller holds the node's lock).
    #[inline]
    pub(crate) fn len(&self, node: u32) -> usize {
        self.row(node)[0].load(Ordering::Relaxed) as usize
    }

    /// Appends `node`'s links to `out` (the caller holds the node's lock).
    #[inline]
    pub(crate) fn read(&self, node: u32, out: &mut Vec<u32>) {
        let row = self.row(node);
        let len = row[0].load(Ordering::Relaxed) as usize;
        out.extend(row[1..1 + len].iter().map(|s| s.load(Ordering::Relaxed)));
    }

    /// Replaces `node`'s links (the caller holds the node's write lock);
    /// more than the capacity is a bug.
    pub(crate) fn write(&self, node: u32, shape: ListShape, ids: &[u32]) {
        check_capacity(ids.len(), 0, shape);
        let row = self.row(node);
        row[0].store(ids.len() as u32, Ordering::Relaxed);
        for (slot, &id) in row[1..].iter().zip(ids) {
            slot.store(id, Ordering::Relaxed);
        }
    }

    /// Starts fetching `node`'s row (its length and first links) into the
    /// CPU's caches.
    #[inline]
    pub(crate) fn prefetch(&self, node: u32) {
        let row = self.row(node);
        distance::prefetch_bytes(row.as_ptr().cast(), self.row_bytes(), self.row_bytes());
    }
}
