//! A second, deliberately naive store (nested Vecs behind one mutex per
//! node) to drive the generic algorithms through the traits alone. It holds
//! f16 copies, as the memory store does, so both build the same graph.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use distance::half::HalfVector;

use crate::{max_connections, Graph, GraphMut, Metric};

/// Vectors and per-layer neighbour lists, nothing clever.
pub struct VecStore {
    pub metric: Metric,
    pub m: usize,
    pub vectors: Vec<HalfVector>,
    pub links: Vec<Mutex<Vec<Vec<u32>>>>,
    /// Whether lists get the memory store's spare links while built.
    pub spare: bool,
    /// Nodes marked deleted (as vacuum's first pass does).
    pub deleted: Vec<AtomicBool>,
    /// What [`GraphMut::keeps_reach`] answers (as the on-page index: true).
    pub keep_reach: bool,
}

impl VecStore {
    /// A store holding `vectors` with the given node levels, no links yet.
    pub fn new(metric: Metric, m: usize, vectors: Vec<Vec<f32>>, levels: Vec<usize>) -> Self {
        let links = levels
            .iter()
            .map(|&l| Mutex::new(vec![Vec::new(); l + 1]))
            .collect();
        VecStore {
            metric,
            m,
            vectors: vectors.iter().map(|v| HalfVector::encode(v)).collect(),
            deleted: levels.iter().map(|_| AtomicBool::new(false)).collect(),
            links,
            spare: false,
            keep_reach: false,
        }
    }

    /// Node `id`'s vector as a query, as `MemoryGraph::insert` makes it.
    pub fn query(&self, id: u32) -> Vec<f32> {
        let v = self.vectors[id as usize].decode();
        self.metric.prepare(&v).unwrap_or(v)
    }

    /// `(codes, scale, norm)` of node `id`.
    fn half(&self, id: u32) -> (&[u16], f32, f32) {
        let h = &self.vectors[id as usize];
        (&h.codes, h.scale, h.norm)
    }

    /// The longest a list at `lc` may be.
    fn capacity(&self, lc: usize) -> usize {
        max_connections(self.m, lc) + self.spare_links(lc)
    }
}

impl Graph for VecStore {
    type Id = u32;

    /// Distance from `query` to node `id`.
    fn distance(&self, query: &[f32], id: u32) -> f32 {
        let (codes, scale, norm) = self.half(id);
        self.metric.to_half(query, codes, scale, norm)
    }

    /// Whether `id` was marked deleted.
    fn is_deleted(&self, id: u32) -> bool {
        self.deleted[id as usize].load(Ordering::Relaxed)
    }

    /// Copies the list of `id` at `lc`, empty above its level.
    fn neighbours(&self, id: u32, lc: usize, out: &mut Vec<u32>) {
        if let Some(list) = self.links[id as usize].lock().unwrap().get(lc) {
            out.extend_from_slice(list);
        }
    }
}

impl GraphMut for VecStore {
    /// Distance between two stored nodes.
    fn distance_between(&self, a: u32, b: u32) -> f32 {
        self.metric.between_halves(self.half(a), self.half(b))
    }

    /// [`VecStore::query`].
    fn query_of(&self, id: u32) -> Vec<f32> {
        self.query(id)
    }

    /// The metric the store was made with.
    fn metric(&self) -> Metric {
        self.metric
    }

    /// Dimensions of the first vector (all have the same).
    fn dims(&self) -> usize {
        self.vectors[0].codes.len()
    }

    /// The memory store's spare links when `spare` is set, else none.
    fn spare_links(&self, lc: usize) -> usize {
        if self.spare {
            crate::links::ListShape::new(self.m, self.vectors[0].codes.len()).spare_links(lc)
        } else {
            0
        }
    }

    /// `keep_reach`.
    fn keeps_reach(&self) -> bool {
        self.keep_reach
    }

    /// Overwrites a list, checking the Mmax bound.
    fn set_neighbours(&self, id: u32, lc: usize, neighbours: &[u32]) {
        assert!(neighbours.len() <= max_connections(self.m, lc));
        self.links[id as usize].lock().unwrap()[lc] = neighbours.to_vec();
    }

    /// Read-modify-write under the node's mutex.
    fn update_neighbours(&self, id: u32, lc: usize, update: &mut dyn FnMut(&mut Vec<u32>)) {
        let mut links = self.links[id as usize].lock().unwrap();
        update(&mut links[lc]);
        assert!(links[lc].len() <= self.capacity(lc));
    }
}
