//! Backend-local copies of the indexes' upper layers, for the scans'
//! descent to layer 0 (see `graph::UpperLayers`).
//!
//! Design note. The layers above 0 hold one element in `m`; walking them
//! on pages costs a scan one page read per step, a sixth of a 128-d scan.
//! A backend therefore keeps, for the last [`MAX_INDEXES`] indexes it
//! scanned, a copy of every element above layer 0 (its codes, or its
//! non-zero elements in an index of sparse copies, and its upper
//! lists) in its own Rust memory, and descends on it. Rules:
//!
//! - *Current or not used.* The meta page's `upper_version` moves on with
//!   every insert above layer 0 and every vacuum repair, and starts from
//!   a value the build draws (file nodes can be reused). A copy is used
//!   only while the version and the entry point it was made under are
//!   the meta page's; otherwise the scan descends on pages as before. A
//!   copy's descent ends on the same element as the descent on the pages
//!   it was made from, so answers do not change.
//! - *Paid for before it is made.* Copying reads one page per upper
//!   element, many times one descent. The copy is made only after as
//!   many descents on pages as it takes to read as many pages (ski
//!   rental): a backend that runs one query never pays for it, and an
//!   index under constant inserts costs at most about twice its descents.
//! - *Within `work_mem`.* A copy that would outgrow `work_mem` is given
//!   up, and not retried until `work_mem` or the index changes.
//! - No threads, no Postgres memory: plain Rust allocations, freed when
//!   replaced. `pgvision.hnsw_upper_cache = off` turns it off.

use super::store::PageGraph;
use graph::{Candidate, UpperLayers};
use pageformat::{ElementId, Meta};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};

/// Indexes whose upper layers a backend keeps; the least recently scanned goes.
const MAX_INDEXES: usize = 4;
/// Upper elements read by one descent on pages, roughly: the price of a
/// descent in page reads, against which a copy is paid off.
const PAGES_PER_DESCENT: usize = 48;

/// A relation's file node as a comparable key.
type Key = crate::pgver::FileKey;

/// What a backend knows of one index's upper layers.
struct Entry {
    key: Key,
    /// `upper_version` and entry point the copy (or the attempt) was made under.
    version: u32,
    ep: (ElementId, usize),
    layers: Option<UpperLayers<ElementId>>,
    /// Descents on pages since the copy was last made or found stale.
    descents: usize,
    /// Elements of the last copy (made or attempted; a guess before the
    /// first), its price in pages.
    nodes: usize,
    /// `work_mem` (kB) under which copying was given up, if it was.
    too_big_at: Option<i32>,
}

thread_local! {
    /// Most recently scanned index first.
    static COPIES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// The layer-0 entry points for the prepared `query` (`graph::entry_points`),
/// from this backend's copy of the upper layers when it is current; `None`
/// when the caller must descend on pages (which this call counts towards
/// making a copy).
pub fn entry_points(
    graph: &PageGraph,
    meta: &Meta,
    query: &[f32],
) -> Option<Vec<Candidate<ElementId>>> {
    let ep = meta.entry_point()?;
    if ep.1 == 0 || !crate::gucs::upper_cache() {
        return None;
    }
    let key = file_node(graph.index());
    COPIES.with_borrow_mut(|copies| {
        let at = match copies.iter().position(|e| e.key == key) {
            Some(at) => at,
            None => {
                if copies.len() >= MAX_INDEXES {
                    copies.pop();
                }
                copies.push(Entry {
                    key,
                    version: meta.upper_version,
                    ep,
                    layers: None,
                    descents: 0,
                    // The first copy's size is unknown: one element in m.
                    nodes: elements_guess(graph) / meta.m.max(2) as usize,
                    too_big_at: None,
                });
                copies.len() - 1
            }
        };
        copies[..=at].rotate_right(1);
        let entry = &mut copies[0];
        let current = entry.version == meta.upper_version && entry.ep == ep;
        if let (true, Some(layers)) = (current, &entry.layers) {
            return layers.entry_points(query, ep);
        }
        // Stale or missing: descend on pages, and copy once that has cost
        // as much as the copy will.
        if !current {
            entry.version = meta.upper_version;
            entry.ep = ep;
            entry.layers = None;
            entry.descents = 0;
            entry.too_big_at = None;
        }
        entry.descents += 1;
        let work_mem = work_mem_kb();
        if entry.too_big_at.is_some_and(|at| at >= work_mem) {
            return None;
        }
        if entry.descents * PAGES_PER_DESCENT < entry.nodes {
            return None;
        }
        let limit = work_mem as usize * 1024;
        match copy_upper(graph, ep, graph.layout().dims, limit) {
            Ok(layers) => {
                entry.nodes = layers.len();
                entry.descents = 0;
                let eps = layers.entry_points(query, ep);
                entry.layers = Some(layers);
                eps
            }
            Err(nodes) => {
                entry.nodes = nodes;
                entry.too_big_at = Some(work_mem);
                None
            }
        }
    })
}

/// Elements in this backend's copy of `index`'s upper layers, when it
/// holds one that is current (for tests).
#[cfg(any(test, feature = "pg_test"))]
pub fn held(index: pg_sys::Relation) -> Option<usize> {
    let meta = super::store::read_meta(index);
    let key = file_node(index);
    COPIES.with_borrow(|copies| {
        let e = copies.iter().find(|e| e.key == key)?;
        let current = e.version == meta.upper_version && Some(e.ep) == meta.entry_point();
        e.layers.as_ref().filter(|_| current).map(UpperLayers::len)
    })
}

/// An element's copy as read from its page: f16 (codes of its tuple,
/// scale, norm, first chunk block), 8-bit (codes, (scale, offset), norm)
/// or sparse (bytes, non-zero elements, norm).
enum Copied {
    Half((Vec<u16>, f32, f32, u32)),
    Sq8(Vec<u8>, (f32, f32), f32),
    Sparse(Vec<u8>, usize, f32),
}

/// Reads every element above layer 0 reachable from `ep` through the
/// upper lists (breadth first), within `limit` bytes; the number of
/// elements read when it would not fit.
fn copy_upper(
    graph: &PageGraph,
    ep: (ElementId, usize),
    dims: usize,
    limit: usize,
) -> Result<UpperLayers<ElementId>, usize> {
    let mut layers = UpperLayers::new(graph.metric(), dims);
    let sq8 = graph.layout().storage() == pageformat::Storage::Sq8;
    let sparse = graph.layout().storage() == pageformat::Storage::Sparse;
    let mut sparse_bytes = 0usize;
    let mut queue = VecDeque::from([ep.0]);
    let mut seen = HashSet::from([ep.0]);
    let (mut nodes, mut links) = (0usize, 0usize);
    while let Some(id) = queue.pop_front() {
        let copied = graph.with_element(id, |e| {
            let level = e.level();
            if level == 0 {
                return None; // a link left by a concurrent change
            }
            let lists: Vec<Vec<ElementId>> = (1..=level)
                .map(|lc| {
                    let mut list = Vec::new();
                    e.neighbours(lc, &mut list);
                    list
                })
                .collect();
            if sparse {
                let copy = e.sparse();
                let at = graph.layout().codes_at(level).min(e.bytes().len());
                let bytes = e.bytes()[at..at + copy.bytes()].to_vec();
                return Some((level, Copied::Sparse(bytes, copy.nnz(), e.norm()), lists));
            }
            if sq8 {
                let fields = (e.scale(), e.offset());
                return Some((
                    level,
                    Copied::Sq8(e.sq8_codes().to_vec(), fields, e.norm()),
                    lists,
                ));
            }
            let copy = (
                e.head_codes().into_owned(),
                e.scale(),
                e.norm(),
                e.chunk_block(),
            );
            Some((level, Copied::Half(copy), lists))
        });
        let Some((level, copy, lists)) = copied else {
            continue;
        };
        for &n in lists.iter().flatten() {
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
        nodes += 1;
        links += lists.iter().map(Vec::len).sum::<usize>();
        let bytes = match &copy {
            Copied::Sparse(b, _, _) => {
                sparse_bytes += b.len();
                UpperLayers::<ElementId>::estimate_sparse_bytes(nodes, sparse_bytes, links)
            }
            _ => UpperLayers::<ElementId>::estimate_bytes(nodes, dims, links),
        };
        if bytes > limit {
            return Err(nodes);
        }
        match copy {
            Copied::Half((mut codes, scale, norm, chunk_block)) => {
                graph.append_chunks(id, chunk_block, &mut codes);
                layers.add(id, level, &codes, scale, norm, lists);
            }
            Copied::Sq8(codes, fields, norm) => {
                layers.add_sq8(id, level, &codes, fields, norm, lists)
            }
            Copied::Sparse(bytes, nnz, norm) => {
                layers.add_sparse(id, level, &bytes, nnz, norm, lists)
            }
        }
        if nodes.is_multiple_of(256) {
            pgrx::check_for_interrupts!();
        }
    }
    layers.finish();
    Ok(layers)
}

/// About how many elements the index holds: its blocks times the
/// layer-0 elements a page takes (or over the blocks an element spans).
fn elements_guess(graph: &PageGraph) -> usize {
    // SAFETY: the index is open; the count is read without locks.
    let blocks = unsafe {
        pg_sys::RelationGetNumberOfBlocksInFork(graph.index(), pg_sys::ForkNumber::MAIN_FORKNUM)
    };
    let layout = graph.layout();
    if layout.spans() {
        return blocks as usize * layout.group() / layout.extent_blocks();
    }
    let footprint = pageformat::item_footprint(layout.size_at(0));
    blocks as usize * (pageformat::page_capacity() / footprint).max(1)
}

/// The relation's file node.
fn file_node(index: pg_sys::Relation) -> Key {
    crate::pgver::file_key(index)
}

/// `work_mem` in kB.
fn work_mem_kb() -> i32 {
    // SAFETY: a plain read of a GUC variable on the main thread.
    unsafe { pg_sys::work_mem }
}
