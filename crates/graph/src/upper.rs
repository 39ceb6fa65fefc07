//! A private copy of a graph's upper layers, for the descent to layer 0.
//!
//! Design note. Every search starts with a walk from the entry point down
//! through the layers above 0 (greedy, Algorithm 5 lines 1-4, then a
//! small search of layer 1 for the entry points of layer 0). On
//! pages, each step of it reads one element, one page at a time: at 128
//! dimensions that walk was a sixth of an index scan. The upper layers
//! hold only one node in `m` (1/16 at m = 16), so a backend can keep a
//! copy of them, f16 codes and upper lists, and walk it in memory.
//! [`UpperLayers`] is that copy, filled by its owner node by node
//! ([`UpperLayers::add`]) and then frozen ([`UpperLayers::finish`]); the
//! walk is the same [`entry_points`] as on any other store, so it ends at
//! the same layer-0 entries as the walk on the pages the copy was made
//! from.
//! Whether the copy is still current is the owner's business (the
//! extension compares a counter in the meta page).

use std::collections::HashMap;
use std::hash::Hash;

use crate::search::entry_points;
use crate::{Candidate, Graph, Metric, SearchScratch};

/// Nodes above layer 0 with their copies (f16 or 8-bit codes, or the
/// non-zero elements of sparse vectors) and upper neighbour lists.
#[derive(Debug)]
pub struct UpperLayers<Id> {
    metric: Metric,
    dim: usize,
    /// Dense index -> node.
    ids: Vec<Id>,
    /// Node -> dense index.
    dense: HashMap<Id, u32>,
    levels: Vec<u8>,
    /// f16 codes, node `i` at `[i * dim, (i + 1) * dim)` (f16 copies).
    codes: Vec<u16>,
    /// 8-bit codes, laid out as `codes` (8-bit copies, `distance::sq8`).
    bytes: Vec<u8>,
    /// Sparse copies (`distance::sparse`), one after another.
    sparse: Vec<u8>,
    /// Per node of a sparse copy, where its copy starts in `sparse` and
    /// its count of non-zero elements.
    sparse_at: Vec<(usize, usize)>,
    /// `(scale, norm, offset)` per node (offset 0 for f16 copies).
    halves: Vec<(f32, f32, f32)>,
    /// Per node, its lists at layers `1..=level` (dense indexes) once
    /// finished; the ids as added before.
    lists: Vec<Vec<Vec<u32>>>,
    added: Vec<Vec<Vec<Id>>>,
}

impl<Id: Copy + Eq + Hash> UpperLayers<Id> {
    /// An empty copy for `dim`-dimensional f16 codes compared with `metric`.
    pub fn new(metric: Metric, dim: usize) -> Self {
        UpperLayers {
            metric,
            dim,
            ids: Vec::new(),
            dense: HashMap::new(),
            levels: Vec::new(),
            codes: Vec::new(),
            bytes: Vec::new(),
            sparse: Vec::new(),
            sparse_at: Vec::new(),
            halves: Vec::new(),
            lists: Vec::new(),
            added: Vec::new(),
        }
    }

    /// Adds node `id` of `level >= 1` with its f16 copy and its neighbour
    /// lists at layers `1..=level` (`lists[lc - 1]`). A node added twice
    /// keeps its first copy.
    pub fn add(
        &mut self,
        id: Id,
        level: usize,
        codes: &[u16],
        scale: f32,
        norm: f32,
        lists: Vec<Vec<Id>>,
    ) {
        assert_eq!(codes.len(), self.dim, "codes of the wrong dimension");
        assert!(self.bytes.is_empty(), "f16 and 8-bit copies mixed");
        assert!(self.sparse_at.is_empty(), "dense and sparse copies mixed");
        if self.push(id, level, (scale, norm, 0.0), lists) {
            self.codes.extend_from_slice(codes);
        }
    }

    /// [`UpperLayers::add`] for an index of 8-bit copies
    /// `offset + scale * codes` (every node of one copy is of one kind).
    pub fn add_sq8(
        &mut self,
        id: Id,
        level: usize,
        codes: &[u8],
        (scale, offset): (f32, f32),
        norm: f32,
        lists: Vec<Vec<Id>>,
    ) {
        assert_eq!(codes.len(), self.dim, "codes of the wrong dimension");
        assert!(self.codes.is_empty(), "f16 and 8-bit copies mixed");
        assert!(self.sparse_at.is_empty(), "dense and sparse copies mixed");
        if self.push(id, level, (scale, norm, offset), lists) {
            self.bytes.extend_from_slice(codes);
        }
    }

    /// [`UpperLayers::add`] for an index of sparse copies: `bytes` holds
    /// the copy of `nnz` non-zero elements (`distance::sparse::encode`),
    /// `norm` the vector's norm (every node of one copy is of one kind).
    pub fn add_sparse(
        &mut self,
        id: Id,
        level: usize,
        bytes: &[u8],
        nnz: usize,
        norm: f32,
        lists: Vec<Vec<Id>>,
    ) {
        assert!(
            self.codes.is_empty() && self.bytes.is_empty(),
            "dense and sparse copies mixed"
        );
        assert!(
            distance::sparse::Stored::new(bytes, nnz).is_some(),
            "a sparse copy too short for its elements"
        );
        if self.push(id, level, (0.0, norm, 0.0), lists) {
            self.sparse_at.push((self.sparse.len(), nnz));
            self.sparse.extend_from_slice(bytes);
        }
    }

    /// Records node `id` (not its codes); false when it was added before.
    fn push(&mut self, id: Id, level: usize, fields: (f32, f32, f32), lists: Vec<Vec<Id>>) -> bool {
        assert!(
            level >= 1 && lists.len() == level,
            "one list per upper layer"
        );
        if self.dense.contains_key(&id) {
            return false;
        }
        let at = u32::try_from(self.ids.len()).expect("fewer than 2^32 upper nodes");
        self.dense.insert(id, at);
        self.ids.push(id);
        self.levels
            .push(u8::try_from(level).expect("level fits a byte"));
        self.halves.push(fields);
        self.added.push(lists);
        true
    }

    /// Resolves the lists to dense indexes; links to nodes that were not
    /// added are dropped. Call once, after the last [`UpperLayers::add`].
    pub fn finish(&mut self) {
        let dense = &self.dense;
        self.lists = std::mem::take(&mut self.added)
            .into_iter()
            .map(|layers| {
                layers
                    .into_iter()
                    .map(|list| list.iter().filter_map(|n| dense.get(n).copied()).collect())
                    .collect()
            })
            .collect();
    }

    /// Whether node `id` is in the copy.
    pub fn contains(&self, id: Id) -> bool {
        self.dense.contains_key(&id)
    }

    /// Number of nodes copied.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no node was copied.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Heap bytes a copy of `nodes` nodes of `dim` dimensions with `links`
    /// links in all takes (ids of up to 8 bytes), for memory limits.
    pub fn estimate_bytes(nodes: usize, dim: usize, links: usize) -> usize {
        nodes * (2 * dim + 8 + 1 + 8 + 24 * 2 + 8 * 2) + links * 4
    }

    /// [`UpperLayers::estimate_bytes`] for sparse copies of `bytes` bytes
    /// in all.
    pub fn estimate_sparse_bytes(nodes: usize, bytes: usize, links: usize) -> usize {
        nodes * (16 + 8 + 1 + 8 + 24 * 2 + 8 * 2) + bytes + links * 4
    }

    /// The [`entry_points`] of layer 0 (`UPPER_EF` wide) found from
    /// the entry point `ep = (id, L)` on the copy, with their distances to
    /// the prepared `query`; `None` when `ep` is not in the copy.
    pub fn entry_points(&self, query: &[f32], ep: (Id, usize)) -> Option<Vec<Candidate<Id>>> {
        let &start = self.dense.get(&ep.0)?;
        let top = ep.1.min(self.levels[start as usize] as usize);
        let (mut scratch, mut eps) = (SearchScratch::new(), Vec::new());
        entry_points(&Dense(self), query, (start, top), &mut scratch, &mut eps);
        Some(
            eps.into_iter()
                .map(|c| Candidate::new(c.distance, self.ids[c.id as usize]))
                .collect(),
        )
    }
}

/// The copy seen as a graph over its dense indexes.
struct Dense<'a, Id>(&'a UpperLayers<Id>);

/// Bytes of a copy's codes prefetched for every id of a batch up front.
const PREFETCH_FIRST: usize = 256;
/// How many ids ahead of the one being measured the rest of a copy's
/// codes is prefetched. Why: at 2,048 dimensions the descent on the copy
/// (2 kB of 8-bit codes a node, ids in no order) was a tenth of a query's
/// backend time, most of it waiting for the codes.
const PREFETCH_AHEAD: usize = 2;

impl<Id> Dense<'_, Id> {
    /// Prefetches bytes `from..to` (clamped to its length) of the codes of
    /// dense copy `id`, and its scale, norm and offset when `from` is 0;
    /// nothing for a sparse copy (measured in full, as short as its
    /// non-zero elements).
    #[inline]
    fn prefetch_codes(&self, id: u32, from: usize, to: usize) {
        let u = self.0;
        if !u.sparse_at.is_empty() {
            return;
        }
        let at = id as usize * u.dim;
        let (start, len): (*const u8, usize) = if !u.bytes.is_empty() {
            (u.bytes[at..at + u.dim].as_ptr(), u.dim)
        } else {
            (u.codes[at..at + u.dim].as_ptr().cast(), 2 * u.dim)
        };
        if from == 0 {
            distance::prefetch((&u.halves[id as usize] as *const (f32, f32, f32)).cast());
        }
        let to = to.min(len);
        if from < to {
            distance::prefetch_bytes(start.wrapping_add(from), to - from, usize::MAX);
        }
    }

    /// The f16 distance to copy `id`; past `bound`, any value past it. A
    /// sparse copy is measured in full, as on its page.
    #[inline]
    fn measure(&self, query: &[f32], id: u32, bound: f32) -> f32 {
        let u = self.0;
        let (scale, norm, offset) = u.halves[id as usize];
        if let Some(&(start, nnz)) = u.sparse_at.get(id as usize) {
            let end = u
                .sparse_at
                .get(id as usize + 1)
                .map_or(u.sparse.len(), |&(e, _)| e);
            let copy = distance::sparse::Stored::new(&u.sparse[start..end], nnz)
                .expect("checked when added");
            return u.metric.to_sparse(query, copy, norm);
        }
        let at = id as usize * u.dim;
        if !u.bytes.is_empty() {
            let codes = &u.bytes[at..at + u.dim];
            return u
                .metric
                .to_sq8_within(query, codes, (scale, offset), norm, bound);
        }
        u.metric
            .to_half_within(query, &u.codes[at..at + u.dim], scale, norm, bound)
    }
}

impl<Id: Copy + Eq + Hash> Graph for Dense<'_, Id> {
    type Id = u32;

    /// The metric's f16 distance, as every store computes it.
    #[inline]
    fn distance(&self, query: &[f32], id: u32) -> f32 {
        self.measure(query, id, f32::INFINITY)
    }

    /// As the pages measure (see `Metric::to_half_within`), so a descent
    /// on the copy ends where the one on pages would. The codes are
    /// prefetched as on pages: the first lines of every id up front, the
    /// rest of each [`PREFETCH_AHEAD`] ids before it is measured.
    fn distances_within(&self, query: &[f32], ids: &[u32], bound: f32, out: &mut Vec<f32>) {
        for &id in ids {
            self.prefetch_codes(id, 0, PREFETCH_FIRST);
        }
        for &id in ids.iter().take(PREFETCH_AHEAD) {
            self.prefetch_codes(id, PREFETCH_FIRST, usize::MAX);
        }
        out.extend(ids.iter().enumerate().map(|(k, &id)| {
            if let Some(&next) = ids.get(k + PREFETCH_AHEAD) {
                self.prefetch_codes(next, PREFETCH_FIRST, usize::MAX);
            }
            self.measure(query, id, bound)
        }));
    }

    /// The copied list at `1 <= lc <= level`, nothing otherwise.
    fn neighbours(&self, id: u32, lc: usize, out: &mut Vec<u32>) {
        if lc >= 1 {
            if let Some(list) = self.0.lists[id as usize].get(lc - 1) {
                out.extend_from_slice(list);
            }
        }
    }

    /// Dense indexes are array indexes.
    fn dense_index(&self, id: u32) -> Option<usize> {
        Some(id as usize)
    }
}
