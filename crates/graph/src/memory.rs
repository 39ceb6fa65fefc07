//! The in-memory store: index builds and tests.
//!
//! Design note. An index build adds every heap tuple with [`MemoryGraph::add`]
//! (main thread: it reads the heap), then links them with
//! [`MemoryGraph::insert_range`], which runs INSERT (Algorithm 1) on rayon
//! threads concurrently: each node's neighbour lists sit behind their own
//! `RwLock`, and the entry point behind a mutex, as in hnswlib's parallel
//! construction. Rayon threads touch only this Rust-owned memory, never
//! Postgres. The caller drives `insert_range` in chunks (say 1,000 ids at a
//! time) so that between chunks its main thread can check for query
//! cancel and report progress. [`MemoryGraph::shrink_lists`] then brings
//! the lists, which may hold a few spare links while the graph grows, back
//! to `Mmax`. Finally the page writer reads the graph back with `len`,
//! `level`, `vector`, `neighbour_list` and `entry_point`.
//!
//! A single-threaded build ([`MemoryGraph::insert`] in id order) is
//! deterministic for a given seed; a parallel one depends on scheduling.
//!
//! Vectors are held as the f16 copies the index pages store
//! ([`HalfVector`]: codes, scale, error bound, exact norm), so the graph is
//! built on exactly the data its scans will read, takes half the memory of
//! float4, and a build, whose distances are bound by memory bandwidth at
//! high dimensions, reads half the bytes per distance.

use std::ops::Range;

use distance::half::HalfVector;
use distance::sq8::Sq8Vector;
use distance::sq8_pairs::{self, CopySums, QueryCodes};
use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::insert::insert;
use crate::links::{LayerZero, ListShape, NodeLinks};
use crate::search::knn_search;
use crate::{Candidate, Graph, GraphMut, InsertParams, LevelGenerator, Metric, SearchScratch};

/// Bytes of a vector's codes prefetched per node by `distances`.
const PREFETCH_BYTES: usize = 512;

/// Highest level a node may draw unless [`MemoryGraph::with_max_level`] says otherwise.
pub const DEFAULT_MAX_LEVEL: usize = 16;

/// An HNSW graph held in Rust memory, ids `0..len`.
#[derive(Debug)]
pub struct MemoryGraph {
    dim: usize,
    metric: Metric,
    params: InsertParams,
    levels: LevelGenerator,
    /// All f16 codes, node `i` at `[i * dim, (i + 1) * dim)`.
    codes: Vec<u16>,
    /// Per node: `(scale, err, norm)` of its [`HalfVector`].
    halves: Vec<(f32, f32, f32)>,
    node_levels: Vec<u8>,
    /// Per node: the lock over all its lists, and its lists above layer 0.
    links: Vec<RwLock<NodeLinks>>,
    /// Every node's layer-0 list (under the node's lock in `links`).
    layer0: LayerZero,
    /// How long the lists may grow while the graph is built.
    shape: ListShape,
    deleted: Vec<bool>,
    /// `(ep, L)`: entry point and the top level.
    entry: Mutex<Option<(u32, usize)>>,
    /// Heap bytes of the lists above layer 0 (in `links`).
    links_bytes: usize,
    /// Sparse copies instead of f16 ones ([`MemoryGraph::new_sparse`]).
    sparse: Option<SparseCopies>,
    /// 8-bit copies instead of f16 ones ([`MemoryGraph::new_sq8`]).
    sq8: Option<Sq8Copies>,
}

/// The 8-bit copies of a [`MemoryGraph::new_sq8`] graph
/// (`distance::sq8`): half the bytes of f16 ones, so that an index
/// build of 8-bit elements holds more rows in `maintenance_work_mem`.
#[derive(Debug, Default)]
struct Sq8Copies {
    /// All codes, node `i` at `[i * dim, (i + 1) * dim)`.
    codes: Vec<u8>,
    /// Per node: the copy's offset (its scale, error bound and norm are
    /// in `halves`).
    offsets: Vec<f32>,
    /// Whether nodes are measured against each other by integer sums of
    /// their codes (`distance::sq8_pairs`): queries made from nodes are
    /// then packed codes, not decoded vectors.
    packs_queries: bool,
    /// Per node, when `packs_queries`: `(sum(codes), sum(codes^2))`.
    sums: Vec<(u32, u32)>,
}

/// The sparse copies of a [`MemoryGraph::new_sparse`] graph
/// (`distance::sparse`), node after node.
#[derive(Debug, Default)]
struct SparseCopies {
    /// Every node's stored copy.
    bytes: Vec<u8>,
    /// Per node: where its copy starts in `bytes`, and its non-zeros.
    at: Vec<(usize, u32)>,
}

impl MemoryGraph {
    /// An empty graph of `dim`-dimensional vectors; `seed` drives the levels.
    pub fn new(dim: usize, metric: Metric, m: usize, ef_construction: usize, seed: u64) -> Self {
        assert!(dim > 0, "dim must be positive");
        let shape = ListShape::new(m, dim);
        MemoryGraph {
            dim,
            metric,
            params: InsertParams { m, ef_construction },
            levels: LevelGenerator::new(m, DEFAULT_MAX_LEVEL, seed),
            codes: Vec::new(),
            halves: Vec::new(),
            node_levels: Vec::new(),
            links: Vec::new(),
            layer0: LayerZero::new(shape),
            shape,
            deleted: Vec::new(),
            entry: Mutex::new(None),
            links_bytes: 0,
            sparse: None,
            sq8: None,
        }
    }

    /// An empty graph of `dim`-dimensional vectors held as 8-bit copies
    /// ([`Sq8Vector`], the copies an index of 8-bit elements stores):
    /// nodes are added with [`MemoryGraph::add_sq8`], queries are plain
    /// (prepared) f32 vectors. Above 256 dimensions the nodes' own
    /// queries during the build are their packed codes instead (see
    /// [`MemoryGraph::packing_queries`]).
    pub fn new_sq8(
        dim: usize,
        metric: Metric,
        m: usize,
        ef_construction: usize,
        seed: u64,
    ) -> Self {
        let mut g = MemoryGraph::new(dim, metric, m, ef_construction, seed);
        g.sq8 = Some(Sq8Copies::default());
        // Above one chunk of dimensions (measured: 40% off a 2048-d build,
        // 38% off a 960-d one; at 128 dimensions 6-10% slower than the f32
        // kernels with selection over decoded f32 queries).
        g.packing_queries(dim > distance::half::WITHIN_CHUNK)
    }

    /// An 8-bit graph that measures its nodes against each other with the
    /// f32 kernels (`false`) even where it would pack their codes as
    /// queries (see [`MemoryGraph::new_sq8`]), or packs them whenever the
    /// CPU can (`true`): for comparisons. Before any node is added.
    pub fn packing_queries(mut self, on: bool) -> Self {
        let metric = self.metric;
        let copies = self.sq8.as_mut().expect("an 8-bit graph");
        assert!(copies.offsets.is_empty(), "before any node is added");
        copies.packs_queries = on
            && self.dim > 8
            && sq8_pairs::has_kernel()
            && matches!(metric, Metric::L2 | Metric::InnerProduct | Metric::Cosine);
        self
    }

    /// Stores the 8-bit copy `vector` as a new node (a
    /// [`MemoryGraph::new_sq8`] graph); see [`MemoryGraph::add_half`].
    pub fn add_sq8(&mut self, vector: &Sq8Vector) -> u32 {
        assert_eq!(
            vector.codes.len(),
            self.dim,
            "expected {} dimensions",
            self.dim
        );
        let copies = self.sq8.as_mut().expect("an 8-bit graph");
        copies.codes.extend_from_slice(&vector.codes);
        copies.offsets.push(vector.offset);
        if copies.packs_queries {
            copies.sums.push(sq8_pairs::code_sums(&vector.codes));
        }
        self.push_node((vector.scale, vector.err, vector.norm), usize::MAX)
    }

    /// [`MemoryGraph::add_sq8`] at a given `level` instead of a drawn one
    /// (a partitioned build draws every row's level once, for all its
    /// graphs); the level is capped as drawn ones are.
    pub fn add_sq8_at(&mut self, vector: &Sq8Vector, level: usize) -> u32 {
        let id = self.add_sq8(vector);
        self.set_level(id, level);
        id
    }

    /// [`MemoryGraph::add_half`] at a given `level` (see
    /// [`MemoryGraph::add_sq8_at`]).
    pub fn add_half_at(&mut self, vector: &HalfVector, level: usize) -> u32 {
        let id = self.add_half(vector);
        self.set_level(id, level);
        id
    }

    /// Gives the last added node `id`, not yet linked, level `level`
    /// (capped at the generator's maximum) instead of its drawn one.
    fn set_level(&mut self, id: u32, level: usize) {
        assert_eq!(id as usize + 1, self.len(), "only the last node added");
        let level = level.min(self.levels.max_level());
        let drawn = self.level(id);
        self.links_bytes -= NodeLinks::heap_bytes(drawn, self.shape);
        self.node_levels[id as usize] = level as u8;
        self.links[id as usize] = RwLock::new(NodeLinks::new(level, self.shape));
        self.links_bytes += NodeLinks::heap_bytes(level, self.shape);
    }

    /// Node `id`'s 8-bit copy (an 8-bit graph).
    pub fn sq8_vector(&self, id: u32) -> Sq8Vector {
        let (codes, scale, offset, norm) = self.sq8_copy(id);
        Sq8Vector {
            scale,
            offset,
            err: self.halves[id as usize].1,
            norm,
            codes: codes.to_vec(),
        }
    }

    /// `(codes, scale, offset, norm)` of node `id` in an 8-bit graph.
    #[inline]
    fn sq8_copy(&self, id: u32) -> (&[u8], f32, f32, f32) {
        let copies = self.sq8.as_ref().expect("an 8-bit graph");
        let at = id as usize * self.dim;
        let (scale, _, norm) = self.halves[id as usize];
        (
            &copies.codes[at..at + self.dim],
            scale,
            copies.offsets[id as usize],
            norm,
        )
    }

    /// `(codes, scalars, norm)` of node `id`'s 8-bit copy as pair
    /// distances read it (a graph that packs queries), each field read once.
    #[inline]
    fn sq8_pair_copy(&self, id: u32) -> (&[u8], CopySums, f32) {
        let (codes, scale, offset, norm) = self.sq8_copy(id);
        let (sum, sum_sq) = self.sq8.as_ref().expect("an 8-bit graph").sums[id as usize];
        let sums = CopySums {
            scale,
            offset,
            sum,
            sum_sq,
        };
        (codes, sums, norm)
    }

    /// Distance from a prepared `query` to node `id`'s 8-bit copy, any
    /// value past `bound` once it is past it.
    #[inline]
    fn to_sq8(&self, query: &[f32], id: u32, bound: f32) -> f32 {
        if let Some(q) = QueryCodes::view(query, self.dim) {
            return self.to_sq8_packed(&q, id);
        }
        let (codes, scale, offset, norm) = self.sq8_copy(id);
        self.metric
            .to_sq8_within(query, codes, (scale, offset), norm, bound)
    }

    /// Distance from a node's packed query `q` to node `id`'s 8-bit copy.
    #[inline]
    fn to_sq8_packed(&self, q: &QueryCodes<'_>, id: u32) -> f32 {
        let (codes, b, norm) = self.sq8_pair_copy(id);
        self.metric.to_sq8_from_codes(q, codes, b, norm)
    }

    /// An empty graph of sparse vectors of `dim` dimensions, held as their
    /// non-zero elements (`distance::sparse`): nodes are added with
    /// [`MemoryGraph::add_sparse`], queries are packed
    /// ([`distance::sparse::pack`], then [`Metric::prepare_sparse_in_place`]).
    pub fn new_sparse(
        dim: usize,
        metric: Metric,
        m: usize,
        ef_construction: usize,
        seed: u64,
    ) -> Self {
        let mut g = MemoryGraph::new(dim, metric, m, ef_construction, seed);
        g.sparse = Some(SparseCopies::default());
        g
    }

    /// Stores the sparse vector of ascending `indices` and their `values`
    /// as a new node (a [`MemoryGraph::new_sparse`] graph); see
    /// [`MemoryGraph::add_half`].
    /// Its level is at most `max_level` (what its element fits a page at).
    pub fn add_sparse(&mut self, indices: &[u32], values: &[f32], max_level: usize) -> u32 {
        let copies = self.sparse.as_mut().expect("a sparse graph");
        let start = copies.bytes.len();
        distance::sparse::encode(indices, values, &mut copies.bytes);
        copies.at.push((start, indices.len() as u32));
        let norm = distance::sparse::norm(values);
        self.push_node((0.0, 0.0, norm), max_level)
    }

    /// Node `id`'s sparse copy and its norm (a sparse graph).
    pub fn sparse_copy(&self, id: u32) -> (distance::sparse::Stored<'_>, f32) {
        let copies = self.sparse.as_ref().expect("a sparse graph");
        let (start, nnz) = copies.at[id as usize];
        let end = copies
            .at
            .get(id as usize + 1)
            .map_or(copies.bytes.len(), |&(e, _)| e);
        let stored = distance::sparse::Stored::new(&copies.bytes[start..end], nnz as usize)
            .expect("copies are written whole");
        (stored, self.halves[id as usize].2)
    }

    /// Caps node levels at `max_level` (the on-page neighbour tuple must
    /// fit a page); call it before the first [`MemoryGraph::add`].
    pub fn with_max_level(mut self, max_level: usize) -> Self {
        assert!(self.is_empty(), "set max_level before adding nodes");
        assert!(
            max_level <= u8::MAX as usize,
            "max_level must fit in a byte"
        );
        self.levels = self.levels.with_max_level(max_level);
        self
    }

    /// Stores the f16 copy of `vector` as a new node (see
    /// [`MemoryGraph::add_half`]); under a packed metric, its packed copy
    /// (`vector` holds 0/1 floats, `dim` is the copy's codes).
    pub fn add(&mut self, vector: &[f32]) -> u32 {
        if self.metric.is_packed() {
            return self.add_half(&distance::packed::encode(vector));
        }
        self.add_half(&HalfVector::encode(vector))
    }

    /// Stores `vector` as a new node and draws its level; it is not linked
    /// into the graph until inserted. Returns its id.
    pub fn add_half(&mut self, vector: &HalfVector) -> u32 {
        assert_eq!(
            vector.codes.len(),
            self.dim,
            "expected {} dimensions, not {}",
            self.dim,
            vector.codes.len()
        );
        assert!(self.sparse.is_none() && self.sq8.is_none(), "an f16 graph");
        self.codes.extend_from_slice(&vector.codes);
        self.push_node((vector.scale, vector.err, vector.norm), usize::MAX)
    }

    /// Records a new node whose copy is stored, with its `(scale, err,
    /// norm)`, and draws its level (at most `max_level`). Returns its id.
    fn push_node(&mut self, fields: (f32, f32, f32), max_level: usize) -> u32 {
        let id = u32::try_from(self.node_levels.len()).expect("more than u32::MAX nodes");
        let level = self.levels.next_level().min(max_level);
        self.halves.push(fields);
        self.node_levels.push(level as u8);
        self.links
            .push(RwLock::new(NodeLinks::new(level, self.shape)));
        self.layer0.push_empty();
        self.deleted.push(false);
        self.links_bytes += NodeLinks::heap_bytes(level, self.shape);
        id
    }

    /// Makes room for exactly `additional` more nodes, so that a caller
    /// that grows the graph in steps bounds its spare room (a vector's
    /// doubling would hold up to twice what [`MemoryGraph::estimated_bytes`]
    /// counts in use).
    pub fn reserve(&mut self, additional: usize) {
        match &mut self.sparse {
            // Sparse copies vary in size: their bytes grow as they come.
            Some(copies) => copies.at.reserve_exact(additional),
            None => match &mut self.sq8 {
                Some(copies) => {
                    copies.codes.reserve_exact(additional * self.dim);
                    copies.offsets.reserve_exact(additional);
                    if copies.packs_queries {
                        copies.sums.reserve_exact(additional);
                    }
                }
                None => self.codes.reserve_exact(additional * self.dim),
            },
        }
        self.halves.reserve_exact(additional);
        self.node_levels.reserve_exact(additional);
        self.links.reserve_exact(additional);
        self.layer0.reserve(additional);
        self.deleted.reserve_exact(additional);
    }

    /// Nodes the graph holds room for without reallocating.
    pub fn capacity(&self) -> usize {
        self.node_levels.capacity()
    }

    /// Links already-added node `id` into the graph (Algorithm 1).
    pub fn insert(&self, id: u32, scratch: &mut SearchScratch<u32>) {
        let level = self.level(id);
        let ep = {
            let mut entry = self.entry.lock();
            match *entry {
                None => {
                    *entry = Some((id, level));
                    return;
                }
                Some(ep) => ep,
            }
        };
        // q as a query: its f16 copy decoded (unit length for cosine).
        let mut q = Vec::new();
        self.query_into(id, &mut q);
        if insert(self, id, &q, level, Some(ep), self.params, scratch) {
            let mut entry = self.entry.lock();
            if entry.is_none_or(|(_, top)| level > top) {
                *entry = Some((id, level));
            }
        }
    }

    /// Links the already-added nodes `ids` concurrently on the current
    /// rayon pool (use `ThreadPool::install` to choose one). Each id must
    /// be inserted once; call it chunk by chunk to stay responsive, then
    /// [`MemoryGraph::shrink_lists`] once at the end.
    pub fn insert_range(&self, ids: Range<u32>) {
        ids.into_par_iter()
            .for_each_init(SearchScratch::new, |scratch, id| self.insert(id, scratch));
    }

    /// Brings every list back to `Mmax` with the heuristic, on the
    /// current rayon pool. While the graph is built, a list may hold a
    /// few more links than `Mmax` (its spare links, see `ListShape`) and is shrunk
    /// only when that overflows: the shrink, which measures distances
    /// between all the links, then runs once every few back-links instead
    /// of at every one, and with more candidates to choose from. Call it
    /// after the last insert, before the lists are read as final.
    pub fn shrink_lists(&self) {
        let m = self.params.m;
        (0..self.len() as u32).into_par_iter().for_each(|id| {
            for lc in 0..=self.level(id) {
                let max = crate::max_connections(m, lc);
                if self.list_len(id, lc) > max {
                    crate::shrink_overfull(self, id, lc, m);
                }
            }
        });
    }

    /// The last step of a build, after [`MemoryGraph::shrink_lists`]:
    /// bridges to every live node that layer 0 cannot reach from the entry
    /// point (see [`crate::reconnect()`]); `tick` runs every so often (the
    /// caller's interrupt check). Back-link shrinking leaves such nodes
    /// wherever a node is nobody's near neighbour: outliers under L2 and
    /// L1, small norms under inner product, as very sparse vectors (1-5
    /// non-zeros of 32) make many of (3-9 of 400 rows were lost at any
    /// ef_search). Returns the bridges added.
    pub fn connect(&self, tick: &mut dyn FnMut()) -> usize {
        let Some(ep) = self.entry_point() else {
            return 0;
        };
        let live = (0..self.len() as u32).filter(|&id| !self.deleted[id as usize]);
        crate::reconnect(self, ep, live, &[], self.params, FxHashSet::default(), tick)
    }

    /// The `k` nearest live nodes to `query` with `ef` = hnsw.ef_search.
    pub fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<Candidate<u32>> {
        self.search_with(query, k, ef, &mut SearchScratch::new())
    }

    /// [`MemoryGraph::search`] reusing a caller's scratch; nothing for a
    /// cosine query of zero norm.
    pub fn search_with(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        scratch: &mut SearchScratch<u32>,
    ) -> Vec<Candidate<u32>> {
        let prepared = if self.sparse.is_some() {
            let mut q = query.to_vec();
            self.metric.prepare_sparse_in_place(&mut q).then_some(q)
        } else {
            self.metric.prepare(query)
        };
        match (self.entry_point(), prepared) {
            (Some(ep), Some(q)) => knn_search(self, &q, ep, k, ef, scratch),
            _ => Vec::new(),
        }
    }

    /// Number of nodes added.
    pub fn len(&self) -> usize {
        self.node_levels.len()
    }

    /// Whether no node was added.
    pub fn is_empty(&self) -> bool {
        self.node_levels.is_empty()
    }

    /// Dimensions of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The metric distances are measured in.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// `m` and `ef_construction`.
    pub fn params(&self) -> InsertParams {
        self.params
    }

    /// Top layer of node `id`.
    pub fn level(&self, id: u32) -> usize {
        self.node_levels[id as usize] as usize
    }

    /// The f16 codes of node `id`.
    pub fn codes(&self, id: u32) -> &[u16] {
        let at = id as usize * self.dim;
        &self.codes[at..at + self.dim]
    }

    /// The f16 copy of node `id`, as the page writer stores it.
    pub fn half_vector(&self, id: u32) -> HalfVector {
        let (scale, err, norm) = self.halves[id as usize];
        HalfVector {
            scale,
            err,
            norm,
            codes: self.codes(id).to_vec(),
        }
    }

    /// Node `id`'s vector as held (`scale * codes`), in f32.
    pub fn vector(&self, id: u32) -> Vec<f32> {
        if self.sq8.is_some() {
            return self.sq8_vector(id).decode();
        }
        distance::half::decode(self.codes(id), self.halves[id as usize].0)
    }

    /// `(codes, scale, norm)` of node `id`, for [`Metric::between_halves`].
    #[inline]
    fn half(&self, id: u32) -> (&[u16], f32, f32) {
        let (scale, _, norm) = self.halves[id as usize];
        (self.codes(id), scale, norm)
    }

    /// Number of node `id`'s neighbours at layer `lc <= level(id)`.
    fn list_len(&self, id: u32, lc: usize) -> usize {
        let links = self.links[id as usize].read();
        if lc == 0 {
            self.layer0.len(id)
        } else {
            links.get(lc, self.shape).len()
        }
    }

    /// Appends node `id`'s list at layer `lc <= level(id)` to `out`; the
    /// caller holds the node's lock, whose guarded `links` it passes.
    #[inline]
    fn read_list(&self, links: &NodeLinks, id: u32, lc: usize, out: &mut Vec<u32>) {
        if lc == 0 {
            self.layer0.read(id, out);
        } else {
            out.extend_from_slice(links.get(lc, self.shape));
        }
    }

    /// Replaces node `id`'s list at layer `lc <= level(id)`; the caller
    /// holds the node's write lock, whose guarded `links` it passes.
    fn write_list(&self, links: &mut NodeLinks, id: u32, lc: usize, ids: &[u32]) {
        if lc == 0 {
            self.layer0.write(id, self.shape, ids);
        } else {
            links.set(lc, self.shape, ids);
        }
    }

    /// A copy of node `id`'s neighbours at layer `lc` (empty above its level).
    pub fn neighbour_list(&self, id: u32, lc: usize) -> Vec<u32> {
        let mut out = Vec::new();
        Graph::neighbours(self, id, lc, &mut out);
        out
    }

    /// `(ep, L)`: the entry point and its level, `None` before the first insert.
    pub fn entry_point(&self) -> Option<(u32, usize)> {
        *self.entry.lock()
    }

    /// Heap bytes held, for maintenance_work_mem accounting: every array
    /// by its capacity (exact up to allocator overhead).
    pub fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.codes.capacity() * std::mem::size_of::<u16>()
            + self.sparse.as_ref().map_or(0, |c| {
                c.bytes.capacity() + c.at.capacity() * std::mem::size_of::<(usize, u32)>()
            })
            + self.sq8.as_ref().map_or(0, |c| {
                c.codes.capacity()
                    + c.offsets.capacity() * std::mem::size_of::<f32>()
                    + c.sums.capacity() * std::mem::size_of::<(u32, u32)>()
            })
            + self.halves.capacity() * std::mem::size_of::<(f32, f32, f32)>()
            + self.node_levels.capacity()
            + self.deleted.capacity()
            + self.links.capacity() * std::mem::size_of::<RwLock<NodeLinks>>()
            + self.layer0.heap_bytes()
            + self.links_bytes
    }

    /// Marks `id` deleted: still traversed, never returned; see [`MemoryGraph::repair`].
    pub fn mark_deleted(&mut self, id: u32) {
        self.deleted[id as usize] = true;
    }

    /// Vacuum: relinks every live node around the deleted ones and moves
    /// the entry point off a deleted node (see [`crate::repair_neighbours`]
    /// and [`crate::replace_entry_point`]), then makes every live node
    /// reachable and every relinked one findable again (see
    /// [`crate::reconnect()`]); returns the bridges added.
    pub fn repair(&self) -> usize {
        let m = self.params.m;
        let mut repaired = Vec::new();
        for id in 0..self.len() as u32 {
            if self.deleted[id as usize] {
                continue;
            }
            for lc in 0..=self.level(id) {
                if crate::repair_neighbours(self, id, lc, m) && lc == 0 {
                    repaired.push(id);
                }
            }
        }
        let ep = {
            let mut entry = self.entry.lock();
            if let Some(ep) = *entry {
                if self.deleted[ep.0 as usize] {
                    *entry = crate::replace_entry_point(self, ep, |id| self.level(id));
                }
            }
            *entry
        };
        let Some(ep) = ep else {
            return 0;
        };
        let live = (0..self.len() as u32).filter(|&id| !self.deleted[id as usize]);
        let reached = FxHashSet::default();
        crate::reconnect(self, ep, live, &repaired, self.params, reached, &mut || ())
    }
}

impl Graph for MemoryGraph {
    type Id = u32;

    /// Distance from a prepared `query` (see [`Metric::prepare`]) to node
    /// `id`'s f16 copy.
    #[inline]
    fn distance(&self, query: &[f32], id: u32) -> f32 {
        if self.sparse.is_some() {
            let (x, norm) = self.sparse_copy(id);
            return self.metric.to_sparse(query, x, norm);
        }
        if self.sq8.is_some() {
            return self.to_sq8(query, id, f32::INFINITY);
        }
        let (codes, scale, norm) = self.half(id);
        self.metric.to_half(query, codes, scale, norm)
    }

    /// Prefetches the codes of the whole batch, then measures, giving up on
    /// L2 distances past `bound`: a build's distances mostly wait on memory
    /// (its vectors far outgrow a core's caches and are read in random
    /// order), and the misses of the batch's 10-30 nodes then overlap
    /// instead of coming one after another.
    fn distances_within(&self, query: &[f32], ids: &[u32], bound: f32, out: &mut Vec<f32>) {
        if self.sparse.is_some() {
            out.extend(ids.iter().map(|&id| self.distance(query, id)));
            return;
        }
        self.prefetch(ids);
        if self.sq8.is_some() {
            // a packed query read once for the whole batch
            if let Some(q) = QueryCodes::view(query, self.dim) {
                out.extend(ids.iter().map(|&id| self.to_sq8_packed(&q, id)));
            } else {
                out.extend(ids.iter().map(|&id| self.to_sq8(query, id, bound)));
            }
            return;
        }
        out.extend(ids.iter().map(|&id| {
            let (codes, scale, norm) = self.half(id);
            self.metric.to_half_within(query, codes, scale, norm, bound)
        }));
    }

    /// Prefetches the first `PREFETCH_BYTES` of each node's codes, its
    /// scale and (8-bit copies) its offset and any code sums, all kept
    /// apart from the codes.
    #[inline]
    fn prefetch(&self, ids: &[u32]) {
        if self.sparse.is_some() {
            return;
        }
        for &id in ids {
            distance::prefetch((&self.halves[id as usize] as *const (f32, f32, f32)).cast());
            if let Some(copies) = &self.sq8 {
                distance::prefetch((&copies.offsets[id as usize] as *const f32).cast());
                if let Some(sums) = copies.sums.get(id as usize) {
                    distance::prefetch((sums as *const (u32, u32)).cast());
                }
                let (codes, ..) = self.sq8_copy(id);
                distance::prefetch_bytes(codes.as_ptr(), codes.len(), PREFETCH_BYTES);
                continue;
            }
            let codes = self.codes(id);
            distance::prefetch_bytes(codes.as_ptr().cast(), 2 * codes.len(), PREFETCH_BYTES);
        }
    }

    /// The node's lock word and the start of its layer-0 row.
    #[inline]
    fn prefetch_neighbours(&self, id: u32, lc: usize) {
        distance::prefetch((&self.links[id as usize] as *const RwLock<NodeLinks>).cast());
        if lc == 0 {
            self.layer0.prefetch(id);
        }
    }

    /// Node ids are array indexes.
    #[inline]
    fn dense_index(&self, id: u32) -> Option<usize> {
        Some(id as usize)
    }

    /// Copies the list under a short read lock.
    #[inline]
    fn neighbours(&self, id: u32, lc: usize, out: &mut Vec<u32>) {
        if lc <= self.level(id) {
            self.read_list(&self.links[id as usize].read(), id, lc, out);
        }
    }

    /// Whether [`MemoryGraph::mark_deleted`] was called for `id`.
    #[inline]
    fn is_deleted(&self, id: u32) -> bool {
        self.deleted[id as usize]
    }
}

impl GraphMut for MemoryGraph {
    /// Distance between two stored vectors.
    #[inline]
    fn distance_between(&self, a: u32, b: u32) -> f32 {
        if self.sparse.is_some() {
            return self
                .metric
                .between_sparse(self.sparse_copy(a), self.sparse_copy(b));
        }
        if self.sq8.is_some() {
            let mut q = Vec::new();
            self.query_into(a, &mut q);
            return self.to_sq8(&q, b, f32::INFINITY);
        }
        self.metric.between_halves(self.half(a), self.half(b))
    }

    /// The f16 copy decoded, unit length for cosine.
    fn query_of(&self, id: u32) -> Vec<f32> {
        let mut v = Vec::new();
        self.query_into(id, &mut v);
        v
    }

    /// Decodes into `out` without allocating once it has grown; an 8-bit
    /// graph that packs queries writes the node's packed codes instead
    /// (`distance::sq8_pairs`), which only this graph's distances read.
    fn query_into(&self, id: u32, out: &mut Vec<f32>) {
        if self.sparse.is_some() {
            let (idx, val) = self.sparse_copy(id).0.to_vecs();
            distance::sparse::pack(&idx, &val, out);
            self.metric.prepare_sparse_in_place(out);
            return;
        }
        if let Some(copies) = &self.sq8 {
            if copies.packs_queries {
                let (codes, sums, _) = self.sq8_pair_copy(id);
                sq8_pairs::pack_query(codes, sums, out);
                return;
            }
            let (codes, scale, offset, _) = self.sq8_copy(id);
            out.clear();
            out.resize(self.dim, 0.0);
            distance::sq8::decode_to(codes, scale, offset, out);
            self.metric.prepare_in_place(out);
            return;
        }
        self.metric
            .query_from_copy(self.codes(id), self.halves[id as usize].0, out);
    }

    /// False for a sparse graph, and for an 8-bit one that packs queries.
    fn dense_queries(&self) -> bool {
        self.sparse.is_none() && !self.sq8.as_ref().is_some_and(|c| c.packs_queries)
    }

    /// True for 8-bit copies: a pair's distance decodes (or packs) `a` and
    /// measures it against `b`'s codes ([`GraphMut::distance_between`]).
    fn decodes_pairs(&self) -> bool {
        self.sq8.is_some()
    }

    /// The metric the graph was made with.
    fn metric(&self) -> Metric {
        self.metric
    }

    /// Dimensions of every vector.
    fn dims(&self) -> usize {
        self.dim
    }

    /// `Mmax` or a quarter of it by the dimensions (see [`MemoryGraph::shrink_lists`]).
    fn spare_links(&self, lc: usize) -> usize {
        self.shape.spare_links(lc)
    }

    /// Overwrites the list under the node's write lock.
    fn set_neighbours(&self, id: u32, lc: usize, neighbours: &[u32]) {
        self.write_list(&mut self.links[id as usize].write(), id, lc, neighbours);
    }

    /// Runs `update` under the node's write lock (it only reads vectors,
    /// which are immutable, so no second lock is ever taken).
    fn update_neighbours(&self, id: u32, lc: usize, update: &mut dyn FnMut(&mut Vec<u32>)) {
        let mut links = self.links[id as usize].write();
        let mut list = Vec::new();
        self.read_list(&links, id, lc, &mut list);
        update(&mut list);
        self.write_list(&mut links, id, lc, &list);
    }
}
