//! A build whose graph outgrows `maintenance_work_mem`, linked in parts.
//!
//! Design note. When the in-memory graph would pass the memory limit, the
//! build stops growing it and writes every row it holds, and every later
//! row, as a fixed-size record (heap TIDs and stored copy,
//! `graph::RecordShape`) to a temporary file; rows with identical copies
//! still share a record (a seek back into the file). Once the heap is read:
//!
//! 1. k-means (`ivf::train`, on a seeded sample of all rows) draws `k`
//!    centres, `k` such that every part fits the memory left beside a few
//!    bytes a row (`Partitioned::plan`);
//! 2. each row gets a home part, its nearest centre with room; then the
//!    three quarters of the rows nearest a border between parts get a
//!    guest part, their next nearest with room (`graph::Placement`: no
//!    part ever holds more than it was sized for);
//! 3. part by part, the rows at home and the guests are linked in memory
//!    on the build's threads: each home row's layer-0 list is written,
//!    with its copy, to a temporary file in the part's page order, each
//!    guest's list to another, by row (the guests make lists that cross
//!    the parts' borders);
//! 4. the rows of level 1 and above (a row's level is drawn once, from the
//!    build's seed, in row order) are linked in one in-memory graph: the
//!    index's upper layers, whose layer 0 links parts too;
//! 5. the first file is read once more to write the element pages, each
//!    row's layer-0 list merged from its home part's, its guest part's
//!    and (for the upper layers' rows) the upper graph's lists
//!    (`graph::merge_lists`).
//!
//! Measured (bench/RESULTS.md): 100,000 128-d rows at 20MB and 8MB build
//! in 1.6x the time of an in-memory build with the same recall, where
//! inserting the rows past the spill one by one took 5.6x.
//!
//! The caller then makes every element reachable (`reconnect_spilled`)
//! and logs every page, as after a spill. The threads only link graphs in
//! Rust memory; all reads and writes of files and pages are on the main
//! thread, which checks for interrupts between chunks of work.

use super::build::{seen_bytes, write_meta, ElementWriter};
use super::params::IndexParams;
use crate::pg::am::{progress, progress_all};
use crate::pg::temp_file::TempFile;
use crate::threads::{self, Purpose};
use graph::{MemoryGraph, Placement, RecordShape, StoredCopy};
use pageformat::{ElementLayout, HeapTid};
use pgrx::pg_sys;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Seed of the levels, the sample and k-means: builds are reproducible.
const SEED: u64 = 0x9a27_5eed_0b17;
/// Rows k-means trains on, at most.
const SAMPLE_ROWS: usize = 20_000;
/// The sample's floats take at most this fraction of the memory limit.
const SAMPLE_SHARE: usize = 16;
/// Records read and ranked together.
const BATCH: usize = 4096;
/// Nodes linked between two interrupt checks.
const CHUNK: u32 = 1024;
/// Fewest rows a part may be sized for.
const MIN_PART_ROWS: usize = 1024;
/// Share of the rows that are also guests in a second part: those
/// nearest a border between parts.
const GUEST_SHARE: f64 = 0.75;
/// Layer-0 links of an upper layers' row that come from the upper
/// graph's layer 0 (linking parts), the rest from its parts.
const UPPER_LINKS: usize = 4;
/// Lloyd iterations for the parts' centres.
const ITERATIONS: usize = 10;

/// The rows of a partitioned build, while the heap is read.
pub struct Partitioned {
    shape: RecordShape,
    rows: TempFile,
    /// Rows (records) so far.
    n: u32,
    /// Hash of a copy -> the last record with that hash.
    seen: FxHashMap<u32, u32>,
    /// Every row's level.
    levels: Vec<u8>,
    /// Draws the levels, from the build's seed.
    level_gen: graph::LevelGenerator,
    /// The rows k-means will train on.
    sample: ivf::Reservoir,
    /// Bytes one node of an in-memory graph takes, as measured.
    node_bytes: usize,
    /// One record's bytes, reused.
    record: Vec<u8>,
    /// Rows the in-memory graph held when it outgrew memory.
    held: u32,
    /// The build's memory, bytes.
    limit: usize,
}

/// Whether an index of `params` can be built in parts: dense copies that
/// fit a page (sparse copies, packed bits and page-spanning elements keep
/// the one-row-at-a-time inserts after a spill).
pub fn can_partition(params: &IndexParams) -> bool {
    matches!(
        params.storage,
        pageformat::Storage::Half | pageformat::Storage::Sq8
    ) && !params.graph_metric().is_packed()
        && !ElementLayout::new(params.m, params.dims, params.version()).spans()
}

/// The copy a graph node holds.
fn node_copy(graph: &MemoryGraph, node: u32, sq8: bool) -> StoredCopy {
    if sq8 {
        StoredCopy::Sq8(graph.sq8_vector(node))
    } else {
        StoredCopy::Half(graph.half_vector(node))
    }
}

/// Adds `copy` to `graph` at `level`.
fn add_copy(graph: &mut MemoryGraph, copy: &StoredCopy, level: usize) -> u32 {
    match copy {
        StoredCopy::Sq8(v) => graph.add_sq8_at(v, level),
        StoredCopy::Half(v) => graph.add_half_at(v, level),
    }
}

/// The TIDs of a record as heap TIDs.
fn heap_tids(tids: &[(u32, u16)]) -> Vec<HeapTid> {
    tids.iter()
        .map(|&(block, offset)| HeapTid { block, offset })
        .collect()
}

impl Partitioned {
    /// Starts a partitioned build with the rows `graph` holds (their TIDs
    /// in `tids`, their copies' hashes in `seen`), which it takes over;
    /// `used` is the bytes they took, `sq8` whether the copies are 8-bit,
    /// `limit` the build's memory.
    pub fn start(
        params: &IndexParams,
        limit: usize,
        graph: &MemoryGraph,
        tids: &super::build_tids::NodeTids,
        seen: FxHashMap<u32, u32>,
        used: usize,
        sq8: bool,
    ) -> Partitioned {
        let dims = graph.dim();
        let mut parts = Partitioned {
            shape: RecordShape { sq8, dims },
            rows: TempFile::create(),
            n: 0,
            seen,
            levels: Vec::new(),
            level_gen: graph::LevelGenerator::new(params.m, params.level_cap(), SEED),
            sample: ivf::Reservoir::new(
                dims,
                (limit / SAMPLE_SHARE / (4 * dims)).clamp(64, SAMPLE_ROWS),
                SEED,
            ),
            node_bytes: used / graph.len().max(1),
            record: Vec::new(),
            held: graph.len() as u32,
            limit,
        };
        for node in 0..graph.len() as u32 {
            let tids: Vec<(u32, u16)> = tids.of(node).iter().map(|t| (t.block, t.offset)).collect();
            parts.append(&tids, &node_copy(graph, node, sq8));
            if node % CHUNK == 0 {
                pgrx::check_for_interrupts!();
            }
        }
        parts
    }

    /// Adds a row: `copy` (whose hash is `key`) of heap row `tid`.
    pub fn take(&mut self, key: u32, tid: HeapTid, copy: StoredCopy) {
        if let Some(&r) = self.seen.get(&key) {
            let at = r as u64 * self.shape.bytes() as u64;
            let mut record = vec![0u8; self.shape.bytes()];
            self.rows.seek(at);
            self.rows.read_exact(&mut record);
            let joined = (self.shape.copy(&record) == copy)
                .then(|| self.shape.with_tid(&record, (tid.block, tid.offset)))
                .flatten();
            if let Some(joined) = joined {
                self.rows.seek(at);
                self.rows.overwrite(&joined);
                self.rows.seek(self.rows.end());
                return;
            }
            self.rows.seek(self.rows.end());
        }
        // The map of copies takes at most a quarter of the memory: past
        // that, later rows are matched only with the copies it holds.
        if self.seen.len() < self.seen.capacity()
            || seen_bytes(self.seen.capacity() * 2) <= self.limit / 4
        {
            self.seen.insert(key, self.n);
        }
        self.append(&[(tid.block, tid.offset)], &copy);
    }

    /// Appends a new record, draws its level and offers it to the sample.
    fn append(&mut self, tids: &[(u32, u16)], copy: &StoredCopy) {
        self.record.clear();
        self.shape.write(tids, copy, &mut self.record);
        self.rows.append(&self.record);
        self.levels.push(self.level_gen.next_level() as u8);
        self.sample.offer(self.n as u64, &copy.decode());
        self.n += 1;
    }

    /// The parts for the rows read, `(k, cap)`: `k` parts of at most
    /// `cap` rows (home and guest), each linked within `limit` bytes
    /// beside a byte a row for its level, two for its home part, two for
    /// its guest part and four for its place in the page order; `None`
    /// when a part would hold fewer than [`MIN_PART_ROWS`], or when the
    /// other steps would not fit: choosing the parts (the level, home and
    /// guest, and eight bytes a row for its distance to a border and a
    /// copy of them) and writing the pages (the level, the place, the
    /// element's address and the graph of the upper layers' rows). The
    /// build then links the rows that fit in memory and inserts the others
    /// one by one into the written graph, as pgvector does.
    pub fn plan(&self, limit: usize) -> Option<(usize, usize)> {
        let n = self.n as usize;
        let node_bytes = self.node_bytes.max(1);
        let upper_rows = self.levels.iter().filter(|&&l| l > 0).count();
        let placing = n * (1 + 2 + 2 + 8);
        let writing = n * (1 + 4 + 8) + upper_rows * node_bytes;
        let cap = limit.saturating_sub(n * (1 + 2 + 2 + 4)) / node_bytes;
        let guests = (n as f64 * GUEST_SHARE) as usize;
        (cap >= MIN_PART_ROWS && placing <= limit && writing <= limit)
            .then(|| (graph::partitions_for(n + guests, cap), cap))
    }

    /// Frees what only a build in parts needs, before the rows go one by
    /// one instead (see [`Partitioned::plan`]).
    pub fn forget_parts(&mut self) {
        self.seen = FxHashMap::default();
        self.levels = Vec::new();
        self.sample = ivf::Reservoir::new(1, 0, SEED);
    }

    /// Rows the in-memory graph held when it outgrew memory: as many as
    /// fit it.
    pub fn held(&self) -> u32 {
        self.held
    }

    /// Calls `f` with every row in order: its number, heap TIDs and copy.
    pub fn for_each_row(&mut self, mut f: impl FnMut(u32, Vec<HeapTid>, StoredCopy)) {
        let shape = self.shape;
        scan(
            &mut self.rows,
            shape,
            self.n as usize,
            &mut Vec::new(),
            |g, record| f(g, heap_tids(&shape.tids(record)), shape.copy(record)),
        );
    }

    /// Links the rows in the parts of `plan` and writes the index's pages
    /// (unlogged: the caller logs them all after making every element
    /// reachable).
    pub fn finish(
        mut self,
        (k, cap): (usize, usize),
        index: pg_sys::Relation,
        params: &IndexParams,
        order_dims: Option<&[u32]>,
        threads: usize,
    ) {
        let started = std::time::Instant::now();
        self.seen = FxHashMap::default(); // no more rows come
        let pool = threads::pool(Purpose::IndexBuild, threads);
        let centres = self.centres(&pool, params, k);
        let placed = self.place(&pool, &centres, params, k, cap);
        let moved = placed.moved;
        let placed_at = started.elapsed().as_secs_f64();
        let upper_rows = self.levels.iter().filter(|&&l| l > 0).count();
        let guests = placed
            .guests
            .iter()
            .filter(|&&p| p != graph::NO_PARTITION)
            .count();
        let total = self.n as usize + guests + upper_rows;
        progress_all(&[
            (
                pg_sys::PROGRESS_CREATEIDX_SUBPHASE,
                super::build::PHASE_GRAPH,
            ),
            (pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL, total as i64),
            (pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, 0),
        ]);
        let mut done = 0i64;
        let lists = self.link_parts(&pool, params, k, (&placed.homes, &placed.guests), &mut done);
        drop(placed);
        let linked = started.elapsed().as_secs_f64();
        let upper = self.link_upper(&pool, params, &mut done);
        let upper_done = started.elapsed().as_secs_f64();
        progress(
            pg_sys::PROGRESS_CREATEIDX_SUBPHASE,
            super::build::PHASE_WRITE,
        );
        self.write(index, params, order_dims, lists, upper);
        pgrx::debug1!(
            "hnsw build: {} rows in {k} parts of at most {cap} rows ({moved} not in their nearest, {guests} guests): placed in {placed_at:.2} s, parts linked in {:.2} s, upper layers ({upper_rows} rows) in {:.2} s, pages written in {:.2} s",
            self.n,
            linked - placed_at,
            upper_done - linked,
            started.elapsed().as_secs_f64() - upper_done
        );
    }

    /// `k` centres for the parts, by k-means on the sample.
    fn centres(&mut self, pool: &rayon::ThreadPool, params: &IndexParams, k: usize) -> Vec<f32> {
        let how = partition_assignment(params);
        let sample =
            std::mem::replace(&mut self.sample, ivf::Reservoir::new(1, 0, SEED)).into_rows();
        crate::kmeans_on_pool::train(
            pool,
            sample,
            self.shape.dims,
            ivf::Params {
                k,
                iterations: ITERATIONS,
                seed: SEED,
                spherical: how == ivf::Assignment::InnerProduct,
                assignment: how,
            },
        )
    }

    /// Every row's home part, then every row's guest part (two passes
    /// over the rows, ranking the parts on the pool), and how many rows
    /// are not at home in their nearest part.
    fn place(
        &mut self,
        pool: &rayon::ThreadPool,
        centres: &[f32],
        params: &IndexParams,
        k: usize,
        cap: usize,
    ) -> Placed {
        let n = self.n as usize;
        let how = partition_assignment(params);
        let (shape, dims) = (self.shape, self.shape.dims);
        let mut placement = Placement::new(k, cap);
        let mut homes: Vec<u16> = Vec::with_capacity(n);
        let mut guests: Vec<u16> = Vec::with_capacity(n);
        let mut moved = 0;
        let mut margins: Vec<f32> = Vec::with_capacity(n);
        let mut border = f32::INFINITY;
        let mut buf = Vec::new();
        for guest_pass in [false, true] {
            if guest_pass && n > 0 {
                // Guests for the rows nearest a border only.
                border = quantile(&margins, GUEST_SHARE);
            }
            let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
            let mut first = 0usize;
            let mut rank_batch = |batch: &mut Vec<Vec<u8>>, first: usize| {
                let ranked: Vec<Ranked> = pool.install(|| {
                    batch
                        .par_iter()
                        .map(|record| rank(centres, dims, &shape.copy(record).decode(), how))
                        .collect()
                });
                for (i, r) in ranked.iter().enumerate() {
                    if guest_pass {
                        guests.push(if r.margin() <= border {
                            placement.place_guest(&r.parts, homes[first + i])
                        } else {
                            graph::NO_PARTITION
                        });
                    } else {
                        let home = placement.place_home(&r.parts);
                        moved += usize::from(home as usize != r.parts[0]);
                        homes.push(home);
                        margins.push(r.margin());
                    }
                }
                batch.clear();
            };
            scan(&mut self.rows, shape, n, &mut buf, |g, record| {
                batch.push(record.to_vec());
                if batch.len() == BATCH {
                    rank_batch(&mut batch, first);
                    first = g as usize + 1;
                }
            });
            rank_batch(&mut batch, first);
        }
        Placed {
            homes,
            guests,
            moved,
        }
    }

    /// Links the parts one after another and writes, for each part's home
    /// rows in its page order, the row (its number, record and layer-0
    /// list) to the first file returned; each guest's list there goes
    /// to the second, a record of [`guest_bytes`] at the row's number.
    fn link_parts(
        &mut self,
        pool: &rayon::ThreadPool,
        params: &IndexParams,
        k: usize,
        (homes, guests): (&[u16], &[u16]),
        done: &mut i64,
    ) -> PartLists {
        let n = self.n as usize;
        let shape = self.shape;
        let list_max = graph::max_connections(params.m, 0);
        let mut out = PartLists {
            homes: TempFile::create(),
            guests: TempFile::create(),
            order: Vec::with_capacity(n),
            list_max,
        };
        let zeros = vec![0u8; guest_bytes(list_max) * BATCH];
        for first in (0..n).step_by(BATCH) {
            out.guests
                .append(&zeros[..guest_bytes(list_max) * BATCH.min(n - first)]);
        }
        let mut buf = Vec::new();
        let mut bytes = Vec::new();
        let levels = &self.levels;
        for p in 0..k as u16 {
            let mut part = super::build::new_graph(params);
            let mut global: Vec<u32> = Vec::new();
            let mut tids: FxHashMap<u32, Vec<(u32, u16)>> = FxHashMap::default();
            scan(&mut self.rows, shape, n, &mut buf, |g, record| {
                let home = homes[g as usize] == p;
                if home || guests[g as usize] == p {
                    global.push(g);
                    add_copy(&mut part, &shape.copy(record), levels[g as usize] as usize);
                    if home {
                        tids.insert(g, shape.tids(record));
                    }
                }
            });
            link(pool, &part, done);
            for node in graph::page_order(&part) {
                let g = global[node as usize];
                let list: Vec<u32> = part
                    .neighbour_list(node, 0)
                    .iter()
                    .take(list_max)
                    .map(|&l| global[l as usize])
                    .collect();
                bytes.clear();
                if homes[g as usize] == p {
                    bytes.extend_from_slice(&g.to_le_bytes());
                    shape.write(&tids[&g], &node_copy(&part, node, shape.sq8), &mut bytes);
                }
                bytes.extend_from_slice(&(list.len() as u32).to_le_bytes());
                bytes.extend(list.iter().flat_map(|l| l.to_le_bytes()));
                if homes[g as usize] == p {
                    out.homes.append(&bytes);
                    out.order.push(g);
                } else {
                    out.guests.seek(g as u64 * guest_bytes(list_max) as u64);
                    out.guests.overwrite(&bytes);
                }
            }
            pgrx::check_for_interrupts!();
        }
        assert_eq!(out.order.len(), n, "hnsw build: every row has one home");
        out
    }

    /// The graph of the rows of level 1 and above, linked: the index's
    /// upper layers (its layer-0 lists join those rows' lists), and their
    /// row numbers.
    fn link_upper(
        &mut self,
        pool: &rayon::ThreadPool,
        params: &IndexParams,
        done: &mut i64,
    ) -> (MemoryGraph, Vec<u32>) {
        let shape = self.shape;
        let levels = &self.levels;
        let mut upper = super::build::new_graph(params);
        let mut rows: Vec<u32> = Vec::new();
        scan(
            &mut self.rows,
            shape,
            self.n as usize,
            &mut Vec::new(),
            |g, record| {
                let level = levels[g as usize] as usize;
                if level > 0 {
                    rows.push(g);
                    add_copy(&mut upper, &shape.copy(record), level);
                }
            },
        );
        link(pool, &upper, done);
        (upper, rows)
    }

    /// Writes the meta page and every element, in the parts' page order:
    /// each row's layer-0 list merges its home and guest parts' lists,
    /// its lists above come from `upper`.
    fn write(
        &self,
        index: pg_sys::Relation,
        params: &IndexParams,
        order_dims: Option<&[u32]>,
        mut lists: PartLists,
        (upper, upper_rows): (MemoryGraph, Vec<u32>),
    ) {
        let n = self.n as usize;
        let (shape, levels, order) = (self.shape, &self.levels, &lists.order);
        let layout = ElementLayout::new(params.m, params.dims, params.version());
        let ids = pageformat::pack_addresses(&layout, order, n, |g| levels[g as usize] as usize);
        let entry = match upper.entry_point() {
            Some((node, level)) => (ids[upper_rows[node as usize] as usize], level),
            None => (ids[order[0] as usize], 0),
        };
        let last_block = ids[*order.last().expect("rows") as usize].block();
        write_meta(index, params, order_dims, Some(entry), last_block);
        let mut writer = ElementWriter::default();
        let list_max = lists.list_max;
        let mut head = [0u8; 4];
        let mut record = vec![0u8; shape.bytes()];
        let mut guest = vec![0u8; guest_bytes(list_max)];
        let mut raw = Vec::new();
        let mut neighbours = Vec::new();
        lists.homes.seek(0);
        for written in 0..n {
            lists.homes.read_exact(&mut head);
            let g = u32::from_le_bytes(head);
            lists.homes.read_exact(&mut record);
            lists.homes.read_exact(&mut head);
            raw.resize(4 * u32::from_le_bytes(head) as usize, 0);
            lists.homes.read_exact(&mut raw);
            lists.guests.seek(g as u64 * guest.len() as u64);
            lists.guests.read_exact(&mut guest);
            let guest_len = (u32s(&guest[..4])[0] as usize).min(list_max);
            let level = levels[g as usize] as usize;
            let upper_node = upper_rows.binary_search(&g).ok().map(|node| node as u32);
            let upper_list: Vec<u32> = upper_node.map_or_else(Vec::new, |node| {
                upper
                    .neighbour_list(node, 0)
                    .iter()
                    .map(|&u| upper_rows[u as usize])
                    .collect()
            });
            let (home_list, guest_list) = (u32s(&raw), u32s(&guest[4..4 + 4 * guest_len]));
            // The upper graph's links tie the parts together: a few suffice.
            let reserve = upper_list.len().min(UPPER_LINKS);
            let mut list = graph::merge_lists(&[&home_list, &guest_list], list_max - reserve);
            for &u in &upper_list {
                if list.len() == list_max {
                    break;
                }
                if !list.contains(&u) {
                    list.push(u);
                }
            }
            let tids = heap_tids(&shape.tids(&record));
            let mut element = match shape.copy(&record) {
                StoredCopy::Sq8(v) => layout.encode_sq8(level, &tids, &v),
                StoredCopy::Half(v) => layout.encode(level, &tids, &v),
            };
            neighbours.clear();
            neighbours.extend(list.iter().map(|&l| ids[l as usize]));
            layout.write(&mut element).set_neighbours(0, &neighbours);
            if let Some(node) = upper_node {
                for lc in 1..=upper.level(node) {
                    neighbours.clear();
                    neighbours.extend(
                        upper
                            .neighbour_list(node, lc)
                            .iter()
                            .map(|&u| ids[upper_rows[u as usize] as usize]),
                    );
                    layout.write(&mut element).set_neighbours(lc, &neighbours);
                }
            }
            writer.put(index, ids[g as usize], &element);
            if written % CHUNK as usize == 0 {
                pgrx::check_for_interrupts!();
            }
        }
    }
}

/// Where [`Partitioned::place`] put the rows.
struct Placed {
    /// Every row's home part.
    homes: Vec<u16>,
    /// Every row's guest part, or `graph::NO_PARTITION`.
    guests: Vec<u16>,
    /// Rows not at home in their nearest part (it was full).
    moved: usize,
}

/// What [`Partitioned::link_parts`] writes: the home rows with their
/// lists in page order, the guests' lists by row, and that order.
struct PartLists {
    homes: TempFile,
    guests: TempFile,
    order: Vec<u32>,
    /// Most links of a layer-0 list.
    list_max: usize,
}

/// Bytes of a guest list's record: a count and `list_max` row numbers.
fn guest_bytes(list_max: usize) -> usize {
    4 * (1 + list_max)
}

/// The little-endian u32s of `bytes`.
fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Calls `f` with each of the `n` records of `rows` and its number, read
/// from the start in batches through `buf`; checks for interrupts
/// between batches.
fn scan(
    rows: &mut TempFile,
    shape: RecordShape,
    n: usize,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(u32, &[u8]),
) {
    let rb = shape.bytes();
    rows.seek(0);
    for first in (0..n).step_by(BATCH) {
        let count = BATCH.min(n - first);
        buf.resize(count * rb, 0);
        rows.read_exact(buf);
        for (i, record) in buf.chunks_exact(rb).enumerate() {
            f((first + i) as u32, record);
        }
        pgrx::check_for_interrupts!();
    }
}

/// Links every node of `graph` on `pool`, chunk by chunk, counting them
/// in `done` (the build's progress); then shrinks its lists and bridges
/// to any node layer 0 cannot reach.
fn link(pool: &rayon::ThreadPool, graph: &MemoryGraph, done: &mut i64) {
    let n = graph.len() as u32;
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        // The main thread waits here: Postgres calls stay on it.
        pool.install(|| graph.insert_range(start..end));
        pgrx::check_for_interrupts!();
        *done += (end - start) as i64;
        progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, *done);
        start = end;
    }
    pool.install(|| graph.shrink_lists());
    graph.connect(&mut || {
        pgrx::check_for_interrupts!();
    });
}

/// How rows are given to parts: by Euclidean distance, or (cosine and
/// inner product) by inner product with unit-length centres.
fn partition_assignment(params: &IndexParams) -> ivf::Assignment {
    match params.graph_metric() {
        graph::Metric::Cosine | graph::Metric::InnerProduct => ivf::Assignment::InnerProduct,
        _ => ivf::Assignment::L2,
    }
}

/// How near a row lies to each part.
struct Ranked {
    /// Every part, nearest first.
    parts: Vec<usize>,
    /// Distance to the nearest part's centre and to the next one's
    /// (squared Euclidean, or cosine distance for inner-product parts).
    distances: (f32, f32),
}

impl Ranked {
    /// How much farther the next part is than the nearest: how far from
    /// the border between them the row lies (under L2, the difference of
    /// the squared distances is the distance to the bisecting plane
    /// times twice the centres' distance).
    fn margin(&self) -> f32 {
        let (d1, d2) = self.distances;
        d2 - d1
    }
}

/// The parts as `v` ranks them.
fn rank(centres: &[f32], dims: usize, v: &[f32], how: ivf::Assignment) -> Ranked {
    let norm = (distance::norm(v) as f32).max(f32::MIN_POSITIVE);
    let mut by: Vec<(f32, usize)> = centres
        .chunks_exact(dims)
        .enumerate()
        .map(|(c, centre)| {
            let d = match how {
                // Unit-length centres: 1 - cos(v, centre).
                ivf::Assignment::InnerProduct => 1.0 + how.distance(v, centre) / norm,
                _ => how.distance(v, centre),
            };
            (d, c)
        })
        .collect();
    by.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let d1 = by[0].0;
    let d2 = by.get(1).map_or(f32::INFINITY, |next| next.0);
    Ranked {
        parts: by.into_iter().map(|(_, c)| c).collect(),
        distances: (d1, d2),
    }
}

/// The value below which a share `q` of `values` (not empty) lies.
fn quantile(values: &[f32], q: f64) -> f32 {
    let mut sorted = values.to_vec();
    let at = ((values.len() as f64 * q) as usize).min(values.len() - 1);
    *sorted.select_nth_unstable_by(at, f32::total_cmp).1
}
