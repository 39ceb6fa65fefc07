//! `pgvision_index_check(index regclass, heapallindexed boolean DEFAULT
//! false)`: checks an hnsw index's pages, as amcheck's `bt_index_check`
//! checks a B-tree's, and raises an ERROR (XX002, index_corrupted, naming
//! the block and what is wrong) on the first problem. An ivfflat index is
//! handed, after the same locks and snapshot, to `crate::ivfflat::verify`.
//!
//! Design note. It takes AccessShareLock on the table and the index (in
//! that order, as amcheck), so inserts and vacuum may run beside it; it
//! only checks what holds at every moment under them:
//!
//! 1. the meta page: header, magic, format version, fields in range,
//!    dimension order;
//! 2. every block: header and special space, every line pointer in use and
//!    inside the page's items, no two items overlapping; every element
//!    well-formed (`ElementLayout::check_element`: length for its level,
//!    flags, heap TIDs, scale, error bound, norm), at most at the level
//!    cap, its heap TIDs on blocks the table has, its f16 codes finite, its
//!    seals intact (format 4 on), its chunks (a page-spanning element) where
//!    its chunk block says, each claimed by exactly one element;
//! 3. every neighbour slot of every element: lists packed, each neighbour
//!    an element of the index (one added since step 2 is read again);
//! 4. the entry point: an element that is not free, at the meta page's
//!    level (read again if the meta page moved meanwhile);
//! 5. with `heapallindexed`, under an MVCC snapshot taken before step 2
//!    (rows it sees were indexed before the walk and cannot be vacuumed
//!    away while it is held): every row the index should hold (vector not
//!    NULL, not a zero vector under cosine, the index's predicate) has its
//!    TID in a live element, and that element's f16 copy is within its
//!    stored error bound of the row's vector (so damaged codes are found
//!    too). The TIDs are held in Rust memory, 16 bytes each, within
//!    `maintenance_work_mem`.
//!
//! What it does not check, because inserts and vacuum may leave it so for
//! a moment or for good without harm: that links point at elements on
//! their layer, that no live element links to a free one (vacuum's relink
//! may lose its races and leave one), that every element is reachable.
//! Each page is read under one share lock at a time (pg/buffer.rs's
//! protocol). Nothing is resolved through `search_path`: the relation
//! comes as an OID and the access method is recognised by its callbacks.

use super::pages::{raise_corrupted, ReadPage};
use super::store::{in_index_order, read_meta_and_order, PageGraph, META_BLOCK};
use crate::error::raise;
use pageformat::{ElementId, ElementLayout, ItemKind, Meta};
use pgrx::prelude::*;
use pgrx::{pg_sys, PgMemoryContexts, PgSqlErrorCode};

/// Checks index `index` (see the module note); raises on the first problem.
#[pg_extern(sql = r#"
CREATE FUNCTION pgvision_index_check("index" regclass, heapallindexed boolean DEFAULT false) RETURNS void
    VOLATILE STRICT PARALLEL RESTRICTED LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
COMMENT ON FUNCTION pgvision_index_check(regclass, boolean) IS 'checks an hnsw or ivfflat index for corruption';
"#)]
fn pgvision_index_check(index: pg_sys::Oid, heapallindexed: bool) {
    let lock = pg_sys::AccessShareLock as pg_sys::LOCKMODE;
    let (heap, rel) = open(index, lock);
    // SAFETY: an MVCC snapshot of this transaction, registered before the
    // walk and unregistered below (or by the transaction's abort).
    let snapshot = heapallindexed.then(|| unsafe {
        check_snapshot_usable(rel);
        pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot())
    });
    if is_ivfflat(rel) {
        crate::ivfflat::verify::check(rel, heap, snapshot);
    } else {
        check_hnsw(rel, heap, snapshot);
    }
    if let Some(snapshot) = snapshot {
        // SAFETY: registered above.
        unsafe { pg_sys::UnregisterSnapshot(snapshot) };
    }
    // SAFETY: opened in `open` with this lock mode.
    unsafe {
        pg_sys::index_close(rel, lock);
        pg_sys::table_close(heap, lock);
    }
}

/// Whether open index `rel` is an ivfflat index (recognised by its build
/// callback, as `open` recognises an hnsw one).
fn is_ivfflat(rel: pg_sys::Relation) -> bool {
    // SAFETY: an open index has a valid rd_indam.
    let build = unsafe { (*(*rel).rd_indam).ambuild.map(|f| f as usize) };
    build == Some(crate::ivfflat::build::ambuild as *const () as usize)
}

/// Steps 1 to 5 of the module note for hnsw index `rel`.
fn check_hnsw(rel: pg_sys::Relation, heap: pg_sys::Relation, snapshot: Option<pg_sys::Snapshot>) {
    let mut walk = Walk::new(rel, heap, snapshot.is_some());
    walk.pages();
    walk.links();
    walk.entry_point();
    if let Some(snapshot) = snapshot {
        walk.heap(heap, snapshot);
    }
    pgrx::debug1!(
        "pgvision_index_check: {} elements on {} blocks are sound",
        walk.elements.len(),
        walk.nblocks
    );
}

/// Opens and locks the table, then the index (amcheck's order); ERRORs
/// for a relation that is not an hnsw or ivfflat index (or is a partitioned one, which
/// has no pages), is another session's
/// temporary one, is not valid, or that the user does not own.
fn open(index: pg_sys::Oid, lock: pg_sys::LOCKMODE) -> (pg_sys::Relation, pg_sys::Relation) {
    // SAFETY: catalog lookups and relation opens; every pointer read is of
    // a relation we hold open.
    unsafe {
        let heap_oid = pg_sys::IndexGetRelation(index, true);
        if heap_oid == pg_sys::InvalidOid {
            let kind = pg_sys::get_rel_relkind(index) as u8;
            if kind == 0 {
                raise(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                    format!("relation with OID {} does not exist", u32::from(index)),
                    None,
                );
            }
            raise(
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("\"{}\" is not an index", rel_name(index)),
                None,
            );
        }
        let heap = pg_sys::table_open(heap_oid, lock);
        let rel = pg_sys::index_open(index, lock);
        if pg_sys::IndexGetRelation(index, false) != heap_oid {
            raise(
                PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                format!(
                    "could not open parent table of index \"{}\"",
                    rel_name(index)
                ),
                None,
            );
        }
        if (*(*rel).rd_rel).relkind as u8 != pg_sys::RELKIND_INDEX {
            raise(
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!(
                    "\"{}\" is a partitioned index: check the index of each partition",
                    rel_name(index)
                ),
                None,
            );
        }
        let am = (*rel).rd_indam;
        let ours = !am.is_null()
            && ((*am).ambuild.map(|f| f as usize)
                == Some(super::build::ambuild as *const () as usize)
                || is_ivfflat(rel));
        if !ours {
            raise(
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("\"{}\" is not an hnsw or ivfflat index", rel_name(index)),
                None,
            );
        }
        if !crate::pgver::owns_relation(index, pg_sys::GetUserId()) {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("must be owner of index {}", rel_name(index)),
                None,
            );
        }
        let temp = (*(*rel).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_TEMP;
        if temp && !(*rel).rd_islocaltemp {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "cannot access temporary tables of other sessions",
                None,
            );
        }
        if !(*(*rel).rd_index).indisvalid {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("cannot check index \"{}\"", rel_name(index)),
                Some("Index is not valid."),
            );
        }
        (heap, rel)
    }
}

/// Refuses, as amcheck does, a transaction snapshot that may predate an
/// index whose rows it could not see yet (`indcheckxmin`, under
/// REPEATABLE READ or SERIALIZABLE).
///
/// # Safety
/// `rel` must be an open index.
unsafe fn check_snapshot_usable(rel: pg_sys::Relation) {
    // SAFETY: forwarded from the caller; plain reads of a GUC and of the
    // index's pg_index row.
    let (xact_snapshot, check_xmin) = unsafe {
        (
            pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32,
            (*(*rel).rd_index).indcheckxmin,
        )
    };
    if xact_snapshot && check_xmin {
        raise(
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
            format!(
                "index \"{}\" cannot be verified using transaction snapshot",
                crate::pg::buffer::index_name(rel)
            ),
            None,
        );
    }
}

/// A relation's name, for messages (its OID if it has none).
fn rel_name(oid: pg_sys::Oid) -> String {
    // SAFETY: get_rel_name returns a palloc'd NUL-terminated copy or null.
    unsafe {
        let name = pg_sys::get_rel_name(oid);
        if name.is_null() {
            u32::from(oid).to_string()
        } else {
            core::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// An element's address as a sortable number (the order of [`ElementId`]).
fn key(block: u32, offset: u16) -> u64 {
    (block as u64) << 16 | offset as u64
}

/// The state of one check.
struct Walk {
    index: pg_sys::Relation,
    /// The table, and its blocks when last counted.
    heap: pg_sys::Relation,
    heap_blocks: u32,
    meta: Meta,
    order: Option<Vec<u32>>,
    graph: PageGraph,
    layout: ElementLayout,
    /// Highest level an element may have.
    cap: usize,
    /// Blocks when the walk began; counted again where a link needs it.
    nblocks: u32,
    /// Every element seen, ascending (the walk's order).
    elements: Vec<u64>,
    /// Where chunks are, ascending, and where elements say theirs are.
    chunks: Vec<u64>,
    claimed: Vec<u64>,
    /// (heap TID, element) of live elements, when checking the heap.
    tids: Option<Vec<(u64, u64)>>,
    /// Most entries `tids` may hold (`maintenance_work_mem`).
    tids_cap: usize,
}

impl Walk {
    /// Reads and checks the meta page (step 1).
    fn new(index: pg_sys::Relation, heap: pg_sys::Relation, heapallindexed: bool) -> Self {
        let nblocks = blocks(index);
        if nblocks == 0 {
            raise_corrupted(index, "the index has no meta page (0 blocks)");
        }
        {
            let page = ReadPage::new(index, META_BLOCK);
            if let Err(e) = pageformat::page::check_header(page.bytes()) {
                raise_corrupted(index, format_args!("meta page (block {META_BLOCK}): {e}"));
            }
        }
        let (meta, order) = read_meta_and_order(index);
        let graph = PageGraph::new(index, &meta);
        let layout = graph.layout();
        // SAFETY: a plain read of a GUC on the main thread.
        let budget = unsafe { pg_sys::maintenance_work_mem } as usize * 1024;
        Walk {
            index,
            heap,
            heap_blocks: blocks(heap),
            cap: pageformat::level_cap_in(layout.m, meta.dims as usize, meta.version)
                .min(graph::DEFAULT_MAX_LEVEL),
            meta,
            order,
            graph,
            layout,
            nblocks,
            elements: Vec::new(),
            chunks: Vec::new(),
            claimed: Vec::new(),
            tids: heapallindexed.then(Vec::new),
            tids_cap: budget / 16,
        }
    }

    /// Raises XX002 for item `offset` of `block` with `what`.
    fn fail(&self, block: u32, offset: u16, what: impl std::fmt::Display) -> ! {
        raise_corrupted(
            self.index,
            format_args!("block {block}, item {offset}: {what}"),
        )
    }

    /// Step 2: every block, every item, every element's chunks.
    fn pages(&mut self) {
        for block in (META_BLOCK + 1)..self.nblocks {
            pgrx::check_for_interrupts!();
            let mut spanning = Vec::new();
            {
                let page = ReadPage::new(self.index, block);
                if let Err(e) = pageformat::check_page(page.bytes()) {
                    raise_corrupted(self.index, format_args!("block {block}: {e}"));
                }
                let n = page.max_offset();
                let mut kinds = (0, 0);
                for off in 1..=n {
                    let bytes = page.item(off).expect("check_page found every item");
                    match pageformat::item_kind(bytes) {
                        Err(e) => self.fail(block, off, e),
                        Ok(ItemKind::Chunk) => {
                            kinds.1 += 1;
                            self.chunks.push(key(block, off));
                        }
                        Ok(ItemKind::Element) => {
                            kinds.0 += 1;
                            if let Some(s) = self.element(block, off, bytes) {
                                spanning.push(s);
                            }
                        }
                    }
                }
                let mixed = if self.layout.spans() {
                    kinds.0 > 0 && n != 1
                } else {
                    kinds.1 > 0
                };
                if mixed {
                    raise_corrupted(
                        self.index,
                        format_args!(
                            "block {block}: {} elements and {} chunks, not a block of this layout",
                            kinds.0, kinds.1
                        ),
                    );
                }
            }
            for (off, chunk_block, free) in spanning {
                self.element_chunks(block, off, chunk_block, free);
            }
        }
        self.chunk_claims();
    }

    /// Every chunk is claimed by exactly one element. A chunk no element
    /// the walk saw claims is read again with its owner: an extent made
    /// while the walk ran may have been installed between the reads of its
    /// element blocks and of its chunk block.
    fn chunk_claims(&mut self) {
        self.claimed.retain(|&k| k >> 16 < self.nblocks as u64);
        self.claimed.sort_unstable();
        if let Some(w) = self.claimed.windows(2).find(|w| w[0] == w[1]) {
            let k = w[0];
            self.fail((k >> 16) as u32, k as u16, "a chunk two elements claim");
        }
        let unclaimed: Vec<u64> = self
            .chunks
            .iter()
            .copied()
            .filter(|k| self.claimed.binary_search(k).is_err())
            .collect();
        for k in unclaimed {
            let (block, off) = ((k >> 16) as u32, k as u16);
            if !self.claimed_now(block, off) {
                self.fail(block, off, "a chunk no element claims");
            }
        }
    }

    /// Whether the chunk at (`block`, `off`) is, now, where the element it
    /// names as its owner puts that chunk.
    fn claimed_now(&self, block: u32, off: u16) -> bool {
        let owner = {
            let page = ReadPage::new(self.index, block);
            page.item(off).and_then(ElementLayout::chunk_owner)
        };
        let Some((owner, number)) = owner else {
            return false;
        };
        if !pageformat::is_element_block(owner, blocks(self.index)) {
            return false;
        }
        let page = ReadPage::new(self.index, owner);
        page.item(1)
            .and_then(|b| self.layout.check_element(b, owner).ok())
            .and_then(|e| self.layout.chunk_location(owner, e.chunk_block(), number))
            == Some((block, off))
    }

    /// Checks element `bytes` at (`block`, `off`); returns what its chunks
    /// need checked once the page is released (a page-spanning layout).
    fn element(&mut self, block: u32, off: u16, bytes: &[u8]) -> Option<(u16, u32, bool)> {
        let e = self
            .layout
            .check_element(bytes, block)
            .unwrap_or_else(|e| self.fail(block, off, e));
        if e.level() > self.cap {
            self.fail(
                block,
                off,
                pageformat::Corruption::Level {
                    level: e.level() as u8,
                    cap: self.cap,
                },
            );
        }
        if !e.free() {
            if self.layout.storage() == pageformat::Storage::Half {
                if let Err(c) = pageformat::check_codes(&e.head_codes(), 0) {
                    self.fail(block, off, c);
                }
            }
            if self.layout.storage() == pageformat::Storage::Sparse {
                if let Err(c) = e.check_sparse() {
                    self.fail(block, off, c);
                }
            }
            if !self.layout.spans() {
                if let Err(c) = e.check_seal(&[]) {
                    self.fail(block, off, c);
                }
            }
        }
        if let Some(t) = e.heap_tids().find(|t| t.block >= self.heap_blocks) {
            self.heap_blocks = blocks(self.heap); // the table may have grown
            if t.block >= self.heap_blocks {
                self.fail(
                    block,
                    off,
                    format_args!(
                        "heap TID ({},{}) is past the end of table \"{}\" ({} blocks)",
                        t.block,
                        t.offset,
                        table_name(self.index),
                        self.heap_blocks
                    ),
                );
            }
        }
        let id = key(block, off);
        self.elements.push(id);
        if let Some(tids) = &mut self.tids {
            if !e.deleted() {
                tids.extend(e.heap_tids().map(|t| (key(t.block, t.offset), id)));
                if tids.len() > self.tids_cap {
                    raise(
                        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                        format!(
                            "heapallindexed needs more than maintenance_work_mem for the index's {} or more heap TIDs",
                            tids.len()
                        ),
                        Some("It holds 16 bytes a row. Raise maintenance_work_mem."),
                    );
                }
            }
        }
        self.layout
            .spans()
            .then(|| (off, e.chunk_block(), e.free()))
    }

    /// Reads and checks the chunks of the spanning element at (`block`,
    /// `off`), then its seals (format 4 on) over all its codes.
    fn element_chunks(&mut self, block: u32, off: u16, chunk_block: u32, free: bool) {
        let mut rest = Vec::new();
        for i in 1..=self.layout.chunks() {
            let Some((b, o)) = self.layout.chunk_location(block, chunk_block, i) else {
                self.fail(block, off, pageformat::Corruption::ChunkBlock(chunk_block));
            };
            if b >= self.nblocks {
                self.fail(block, off, pageformat::Corruption::ChunkBlock(chunk_block));
            }
            self.claimed.push(key(b, o));
            let page = ReadPage::new(self.index, b);
            let chunk = page
                .item(o)
                .and_then(|bytes| self.layout.read_chunk(bytes, block, i));
            let Some(codes) = chunk else {
                self.fail(
                    block,
                    off,
                    format_args!(
                        "item {o} of block {b}, where its chunk {i} belongs: {}",
                        pageformat::Corruption::NotChunk {
                            number: i,
                            owner: block,
                        }
                    ),
                );
            };
            if !free {
                let first = self.layout.chunk_range(i).start;
                if self.layout.storage() == pageformat::Storage::Half {
                    if let Err(c) = pageformat::check_codes(&codes, first) {
                        self.fail(b, o, c);
                    }
                }
                rest.extend_from_slice(&codes);
            }
        }
        if free || !self.layout.sealed() {
            return;
        }
        // Read again (the page was let go): vacuum may have freed it since,
        // and a free element is not sealed.
        let page = ReadPage::new(self.index, block);
        let e = page.item(off).map(|bytes| self.layout.read(bytes));
        if let Some(Err(c)) = e
            .filter(|e| e.is_valid() && !e.free())
            .map(|e| e.check_seal(&rest))
        {
            self.fail(block, off, c);
        }
    }

    /// Step 3: every neighbour slot names an element.
    fn links(&mut self) {
        for block in (META_BLOCK + 1)..self.nblocks {
            pgrx::check_for_interrupts!();
            let mut unknown = Vec::new();
            {
                let page = ReadPage::new(self.index, block);
                for off in 1..=page.max_offset() {
                    let Some(bytes) = page.item(off) else {
                        continue;
                    };
                    if pageformat::item_kind(bytes) != Ok(ItemKind::Element) {
                        continue;
                    }
                    let e = self
                        .layout
                        .check_element(bytes, block)
                        .unwrap_or_else(|c| self.fail(block, off, c));
                    if self.layout.check_links(e, self.nblocks).is_err() {
                        // the index may have grown since the walk began
                        if let Err(c) = self.layout.check_links(e, blocks(self.index)) {
                            self.fail(block, off, c);
                        }
                    }
                    let mut list = Vec::new();
                    for lc in 0..=e.level() {
                        list.clear();
                        e.neighbours(lc, &mut list);
                        for n in &list {
                            if self
                                .elements
                                .binary_search(&key(n.block(), n.offset()))
                                .is_err()
                            {
                                unknown.push((off, lc, *n));
                            }
                        }
                    }
                }
            }
            for (off, lc, n) in unknown {
                if !self.is_element_now(n) {
                    self.fail(
                        block,
                        off,
                        format_args!(
                            "neighbour ({},{}) at layer {lc} is not an element",
                            n.block(),
                            n.offset()
                        ),
                    );
                }
            }
        }
    }

    /// Whether `id` (on a block of the index) holds an element now: one
    /// the walk has not seen may have been added since.
    fn is_element_now(&self, id: ElementId) -> bool {
        if id.block() >= blocks(self.index) {
            return false;
        }
        let page = ReadPage::new(self.index, id.block());
        page.item(id.offset())
            .is_some_and(|b| self.layout.check_element(b, id.block()).is_ok())
    }

    /// Step 4: the entry point is a live or deleted (not free) element at
    /// the meta page's level; read again when the meta page moved.
    fn entry_point(&mut self) {
        for _ in 0..3 {
            let Some((ep, level)) = self.meta.entry_point() else {
                return;
            };
            let problem = if level > self.cap {
                Some(format!(
                    "entry point at level {level}, above the cap {}",
                    self.cap
                ))
            } else if ep.block() >= blocks(self.index) {
                Some(format!(
                    "entry point ({},{}) is past the index's end",
                    ep.block(),
                    ep.offset()
                ))
            } else {
                let page = ReadPage::new(self.index, ep.block());
                match page
                    .item(ep.offset())
                    .map(|b| self.layout.check_element(b, ep.block()))
                {
                    Some(Ok(e)) if e.free() => Some("entry point is a free element".into()),
                    Some(Ok(e)) if e.level() != level => Some(format!(
                        "entry point at level {} where the meta page says {level}",
                        e.level()
                    )),
                    Some(Ok(_)) => None,
                    _ => Some(format!(
                        "entry point ({},{}) is not an element",
                        ep.block(),
                        ep.offset()
                    )),
                }
            };
            let Some(problem) = problem else {
                return;
            };
            let now = read_meta_and_order(self.index).0;
            if now.entry_point() == self.meta.entry_point() {
                raise_corrupted(
                    self.index,
                    format_args!("meta page (block {META_BLOCK}): {problem}"),
                );
            }
            self.meta = now;
        }
    }

    /// Step 5: every row the index should hold is in a live element whose
    /// f16 copy matches it.
    fn heap(&mut self, heap: pg_sys::Relation, snapshot: pg_sys::Snapshot) {
        let mut tids = self.tids.take().unwrap_or_default();
        tids.sort_unstable();
        let index = self.index;
        let mut state = HeapCheck {
            walk: self,
            tids,
            tmp: PgMemoryContexts::new("pgvision_index_check temporary"),
            rows: 0,
            problem: None,
        };
        // SAFETY: the table and index are open and locked; the scan uses
        // our registered snapshot and is ended by the build scan itself;
        // the callback gets `state` back, which outlives the call.
        unsafe {
            let info = pg_sys::BuildIndexInfo(index);
            let scan =
                pg_sys::table_beginscan_strat(heap, snapshot, 0, core::ptr::null_mut(), true, true);
            pg_sys::table_index_build_scan(
                heap,
                index,
                info,
                true,
                false,
                Some(heap_callback),
                (&mut state as *mut HeapCheck).cast(),
                scan,
            );
        }
        // Raised here, not in the callback: an ERROR raised inside the scan
        // would come back through the scan's C frames as a Postgres error.
        if let Some(problem) = state.problem {
            raise_corrupted(index, problem);
        }
        pgrx::debug1!("pgvision_index_check: {} heap rows are indexed", state.rows);
    }

    /// The element heap row `tid` is in; an error when none is.
    fn element_of(
        &self,
        tids: &[(u64, u64)],
        tid: pageformat::HeapTid,
    ) -> Result<ElementId, String> {
        let at = tids.partition_point(|&(t, _)| t < key(tid.block, tid.offset));
        let Some(&(_, id)) = tids
            .get(at)
            .filter(|&&(t, _)| t == key(tid.block, tid.offset))
        else {
            return Err(format!(
                "heap row ({},{}) of table \"{}\" is not in the index",
                tid.block,
                tid.offset,
                table_name(self.index)
            ));
        };
        Ok(ElementId::new((id >> 16) as u32, id as u16))
    }

    /// Checks heap row `tid`, a sparse vector of `dims` dimensions with
    /// non-zero elements `packed`, against an index of sparse copies: its
    /// element's copy must be exactly those elements.
    fn sparse_row(
        &self,
        tids: &[(u64, u64)],
        tid: pageformat::HeapTid,
        dims: usize,
        packed: &[f32],
    ) -> Result<(), String> {
        let n = packed.len() / 2;
        if self.graph.metric() == graph::Metric::Cosine
            && distance::sparse::norm(&packed[n..]) == 0.0
        {
            return Ok(()); // a zero vector under cosine is not indexed
        }
        let id = self.element_of(tids, tid)?;
        if dims != self.layout.dims || n > pageformat::SPARSE_MAX_NNZ {
            return Ok(()); // not indexable: an insert would have failed
        }
        let same = self.graph.with_element(id, |e| {
            e.sparse()
                .iter()
                .map(|(i, v)| (i, v.to_bits()))
                .eq(distance::sparse::query_entries(packed).map(|(i, v)| (i, v.to_bits())))
        });
        if same {
            return Ok(());
        }
        Err(format!(
            "block {}, item {}: heap row ({},{}): {}",
            id.block(),
            id.offset(),
            tid.block,
            tid.offset,
            pageformat::Corruption::SparseCopy
        ))
    }

    /// Checks heap row `tid` with vector `v` against the index; what is
    /// wrong (naming the block) if anything.
    fn row(&self, tids: &[(u64, u64)], tid: pageformat::HeapTid, v: &[f32]) -> Result<(), String> {
        if self.graph.metric().prepare(v).is_none() {
            return Ok(()); // a zero vector under cosine is not indexed
        }
        let id = self.element_of(tids, tid)?;
        if v.len() != self.meta.dims as usize {
            return Ok(()); // not indexable: an insert would have failed
        }
        let x = in_index_order(self.order.as_deref(), v);
        let packed = self.layout.storage() == pageformat::Storage::Bits;
        if self.layout.storage() == pageformat::Storage::Sq8 {
            let mut back = Vec::new();
            let (err, norm) = self.graph.with_element(id, |e| {
                e.sq8_decode_into(&mut back);
                (e.err(), e.norm())
            });
            return pageformat::check_decoded(&x, &back, err, norm).map_err(|c| {
                format!(
                    "block {}, item {}: heap row ({},{}): {c}",
                    id.block(),
                    id.offset(),
                    tid.block,
                    tid.offset
                )
            });
        }
        let (mut codes, scale, err, norm, chunk_block) = self.graph.with_element(id, |e| {
            (
                e.head_codes().into_owned(),
                e.scale(),
                e.err(),
                e.norm(),
                e.chunk_block(),
            )
        });
        self.graph.append_chunks(id, chunk_block, &mut codes);
        let checked = if packed {
            check_packed(&x, &codes, (scale, err, norm))
        } else {
            pageformat::check_copy(&x, &codes, scale, err, norm)
        };
        checked.map_err(|c| {
            format!(
                "block {}, item {}: heap row ({},{}): {c}",
                id.block(),
                id.offset(),
                tid.block,
                tid.offset
            )
        })
    }
}

/// Checks a packed-bit copy (`codes` and (scale, error bound, norm))
/// against the bits `x` (0/1 floats) it was made from: the same words,
/// scale 1, error bound 0 and the same norm, exactly.
fn check_packed(
    x: &[f32],
    codes: &[u16],
    fields: (f32, f32, f32),
) -> Result<(), pageformat::Corruption> {
    let want = distance::packed::encode(x);
    if codes != want.codes.as_slice() {
        let found = distance::packed::hamming(
            distance::packed::bytes_of_codes(codes),
            distance::packed::bytes_of_codes(&want.codes),
        );
        return Err(pageformat::Corruption::Bits(found));
    }
    if fields != (want.scale, want.err, want.norm) {
        return Err(pageformat::Corruption::Copy {
            found: fields.2 as f64,
            bound: want.norm as f64,
        });
    }
    Ok(())
}

/// The name of the table `index` is on, for messages.
fn table_name(index: pg_sys::Relation) -> String {
    // SAFETY: an open index has a valid rd_index.
    let table = unsafe { (*(*index).rd_index).indrelid };
    rel_name(table)
}

/// Blocks of relation `rel` (the index or its table) now.
fn blocks(rel: pg_sys::Relation) -> u32 {
    // SAFETY: the relation is open.
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// What the heap scan's callback needs.
struct HeapCheck<'w> {
    walk: &'w Walk,
    /// (heap TID, element) of live elements, sorted.
    tids: Vec<(u64, u64)>,
    /// Reset after every row (detoasted vectors).
    tmp: PgMemoryContexts,
    rows: usize,
    /// The first problem found (the rest of the scan checks nothing).
    problem: Option<String>,
}

/// Called for every row the MVCC snapshot sees (and the index's
/// predicate passes): checks it against the index.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn heap_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut core::ffi::c_void,
) {
    // SAFETY: `state` is the HeapCheck passed to table_index_build_scan;
    // values/isnull have one entry for our single key column; the TID is valid.
    let (state, row) =
        unsafe { crate::pg::am::build_scan_row::<HeapCheck>(tid, values, isnull, state) };
    let Some((tid, datum)) = row.filter(|_| state.problem.is_none()) else {
        return;
    };
    let HeapCheck {
        walk,
        tids,
        tmp,
        problem,
        ..
    } = state;
    // SAFETY: the temporary context is ours and reset after every row.
    unsafe {
        let key = crate::opclass::key_type_of(walk.index);
        match key.sparse {
            Some(read) if walk.layout.storage() == pageformat::Storage::Sparse => {
                tmp.switch_to(|_| {
                    read(datum, &mut |dims, packed| {
                        *problem = walk.sparse_row(tids, tid, dims, packed).err()
                    })
                });
            }
            _ => {
                let read = key.read;
                tmp.switch_to(|_| read(datum, &mut |v| *problem = walk.row(tids, tid, v).err()));
            }
        }
        tmp.reset();
    }
    state.rows += 1;
    pgrx::check_for_interrupts!();
}
