//! `pgvision_index_check` for an ivfflat index (the SQL function, its
//! locks and its snapshot are hnsw's, `crate::hnsw::verify`, which hands
//! an ivfflat index here). Raises "index corrupted" (XX002) naming the
//! block on the first problem.
//!
//! Design note. Under AccessShareLock on table and index (inserts and
//! vacuum may run beside it), one page share-locked at a time:
//!
//! 1. the meta page: header, magic, version, fields in range, a known
//!    metric, the dimensions and element kind of the indexed column;
//! 2. the centre pages: headers, the stream's length, finite centres;
//! 3. the directory: headers, every list's head and insert page 0 or a
//!    list page;
//! 4. every list page (block order): header, ivfflat page id, line
//!    pointers in use and inside the items, no overlap; every record's
//!    length for its piece, its heap TID on a block of the table, its
//!    values finite; one record piece a page where records span pages;
//!    its chain link 0 or an older list page;
//! 5. the chains, from the heads read in step 3 through the links read in
//!    step 4 (a page's link never changes once it is written, and a page
//!    links only to pages older than itself): no cycle, no page on two
//!    lists, no link to an uninitialised page; every insert page on its
//!    list's chain;
//! 6. with `heapallindexed`, under the caller's MVCC snapshot taken before
//!    step 1: every row the index should hold (not NULL, not a zero vector
//!    under cosine, the index's predicate) is a record reachable from a
//!    head, and that record's stored bytes are the row's vector as the
//!    index stores it (compared by a 64-bit fingerprint; 24 bytes a
//!    record, within `maintenance_work_mem`).
//!
//! Pages on no chain (an insert interrupted between writing its page and
//! naming it the head) are checked as pages but hold no indexed rows.

use super::pages::{raise_corrupted, ReadPage};
use super::store::read_entries;
use crate::error::raise;
use crate::pg::am::nblocks;
use graph::Metric;
use ivf::check::{self, Fingerprint};
use ivf::layout::{extend_f32, Meta, RecordLayout, META_BLOCK, META_BYTES, NEXT_AT};
use pageformat::HeapTid;
use pgrx::{pg_sys, PgMemoryContexts, PgSqlErrorCode};

/// Checks ivfflat index `index` of table `heap`; with a snapshot, its rows
/// too (see the module note).
pub fn check(index: pg_sys::Relation, heap: pg_sys::Relation, snapshot: Option<pg_sys::Snapshot>) {
    let mut walk = Walk::new(index, heap, snapshot.is_some());
    let centres = walk.centres();
    let entries = walk.directory();
    walk.list_pages();
    walk.chains(&entries);
    if let Some(snapshot) = snapshot {
        walk.heap(snapshot);
    }
    pgrx::debug1!(
        "pgvision_index_check: ivfflat index of {} lists ({} centre values), {} list pages are sound",
        walk.meta.lists,
        centres.len(),
        walk.pages.len()
    );
}

/// A row's heap TID as a sortable number.
fn key(t: HeapTid) -> u64 {
    (t.block as u64) << 16 | t.offset as u64
}

/// What step 4 saw of one list page.
#[derive(Default, Clone, Copy)]
struct PageSeen {
    /// Its chain link (0: the end).
    next: u32,
    /// Whether it was uninitialised (all zero).
    new: bool,
    /// The list whose chain holds it (step 5), u32::MAX if none yet.
    list: u32,
    /// Where records span pages: its piece (TID, piece number, fingerprint).
    piece: Option<(HeapTid, usize, Fingerprint)>,
}

/// The state of one check.
struct Walk {
    index: pg_sys::Relation,
    heap: pg_sys::Relation,
    heap_blocks: u32,
    meta: Meta,
    layout: RecordLayout,
    /// Blocks when the walk began.
    nblocks: u32,
    /// List pages, from `meta.first_list_block()`.
    pages: Vec<PageSeen>,
    /// (heap TID, block << 16 | item, fingerprint) of every whole record,
    /// when checking the heap (one-item records: from every page; filtered
    /// to the pages on a chain in step 5).
    records: Option<Vec<(u64, u64, Fingerprint)>>,
    /// Most entries `records` may hold (`maintenance_work_mem`).
    records_cap: usize,
}

impl Walk {
    /// Step 1: reads and checks the meta page.
    fn new(index: pg_sys::Relation, heap: pg_sys::Relation, heapallindexed: bool) -> Self {
        let nblocks = nblocks(index);
        if nblocks == 0 {
            raise_corrupted(index, "the index has no meta page (0 blocks)");
        }
        let meta = {
            let page = ReadPage::new(index, META_BLOCK);
            let fail = |e: &dyn std::fmt::Display| -> ! {
                raise_corrupted(index, format_args!("meta page (block {META_BLOCK}): {e}"))
            };
            if let Err(e) = check::check_stream_page(page.bytes(), META_BYTES) {
                fail(&e);
            }
            Meta::from_bytes(page.contents(META_BYTES)).unwrap_or_else(|e| fail(&e))
        };
        let fail = |e: String| -> ! {
            raise_corrupted(index, format_args!("meta page (block {META_BLOCK}): {e}"))
        };
        let Some(metric) = Metric::from_code(meta.metric) else {
            fail(format!("unknown metric {}", meta.metric));
        };
        let params = super::params::IndexParams::of(index);
        if params.metric != metric {
            fail(format!(
                "metric {metric:?}, not the operator class's {:?}",
                params.metric
            ));
        }
        if params.dims != meta.dims as usize {
            fail(format!(
                "{} dimensions, the column has {}",
                meta.dims, params.dims
            ));
        }
        // A bit index built before packed bits stores them as halves.
        let legacy_bits =
            params.element.is_bits() && meta.element_kind() == ivf::layout::Element::F16;
        // 8-bit copies of any vector or halfvec column, whatever its
        // storage option says now (ALTER INDEX SET changes only options).
        let copies = !params.column.is_bits() && meta.element_kind().is_approximate();
        if params.column != meta.element_kind() && !legacy_bits && !copies {
            fail(format!(
                "element kind {:?}, the column's type stores {:?}",
                meta.element_kind(),
                params.column
            ));
        }
        if meta.first_list_block() > nblocks {
            fail(format!(
                "centres and directory end at block {}, the index has {nblocks} blocks",
                meta.first_list_block()
            ));
        }
        // SAFETY: a plain read of a GUC on the main thread.
        let budget = unsafe { pg_sys::maintenance_work_mem } as usize * 1024;
        Walk {
            index,
            heap,
            heap_blocks: nblocks_of(heap),
            meta,
            layout: RecordLayout::new(meta.dims as usize, meta.element_kind()),
            nblocks,
            pages: Vec::new(),
            records: heapallindexed.then(Vec::new),
            records_cap: budget / 24,
        }
    }

    /// Raises XX002 naming `block` with `what`.
    fn fail(&self, block: u32, what: impl std::fmt::Display) -> ! {
        raise_corrupted(self.index, format_args!("block {block}: {what}"))
    }

    /// Reads stream pages from `start` holding `total` bytes, checking
    /// each; calls `f` with each page's block and bytes.
    fn stream(&self, start: u32, total: usize, mut f: impl FnMut(u32, &[u8])) {
        for i in 0..ivf::layout::stream_pages(total) {
            let block = start + i as u32;
            let len = check::stream_len(total, i);
            let page = ReadPage::new(self.index, block);
            if let Err(e) = check::check_stream_page(page.bytes(), len) {
                self.fail(block, e);
            }
            f(block, page.contents(len));
        }
    }

    /// Step 2: the centre pages and the centres.
    fn centres(&self) -> Vec<f32> {
        let total = self.meta.centre_bytes();
        let mut out = Vec::with_capacity(total / 4);
        let mut last = self.meta.centre_start;
        self.stream(self.meta.centre_start, total, |block, b| {
            extend_f32(&mut out, b);
            last = block;
        });
        if let Err(e) = check::check_centres(&self.meta, &out) {
            // name the page of the first bad value
            let at = out.iter().position(|x| !x.is_finite()).unwrap_or(0) * 4;
            let block = self.meta.centre_start + (at / ivf::layout::STREAM_BYTES) as u32;
            self.fail(block.min(last), e);
        }
        out
    }

    /// Step 3: the directory pages and every list's head and insert page.
    fn directory(&self) -> Vec<(u32, u32)> {
        self.stream(self.meta.dir_start, self.meta.dir_bytes(), |_, _| {});
        let entries = read_entries(self.index, &self.meta);
        let n = nblocks(self.index);
        for (list, &(head, insert_page)) in entries.iter().enumerate() {
            let list = list as u32;
            if let Err(e) = check::check_head(&self.meta, list, head, n) {
                self.fail(self.meta.head_location(list).0, e);
            }
            if let Err(e) = check::check_head(&self.meta, list, insert_page, n) {
                self.fail(
                    self.meta.head_location(list).0,
                    format_args!("insert page: {e}"),
                );
            }
        }
        entries
    }

    /// Step 4: every list page and record.
    fn list_pages(&mut self) {
        let first = self.meta.first_list_block();
        let mut scratch = Vec::new();
        // Counted after step 3: every head it read is a block of this walk.
        self.nblocks = nblocks(self.index);
        for block in first..self.nblocks {
            pgrx::check_for_interrupts!();
            let page = ReadPage::new(self.index, block);
            let bytes = page.bytes();
            let n = check::check_list_page(bytes).unwrap_or_else(|e| self.fail(block, e));
            let mut seen = PageSeen {
                new: pageformat::PageHeader::read(bytes).is_new(),
                list: u32::MAX,
                ..PageSeen::default()
            };
            if seen.new {
                self.pages.push(seen);
                continue;
            }
            seen.next = page.special_u32(NEXT_AT);
            if seen.next != 0 && (seen.next < first || seen.next >= block && !self.layout.spans()) {
                self.fail(
                    block,
                    format_args!("links to block {}, not an older list page", seen.next),
                );
            }
            if seen.next >= self.nblocks {
                self.fail(
                    block,
                    format_args!("links to block {} past the index's end", seen.next),
                );
            }
            if self.layout.spans() && n > 1 {
                self.fail(
                    block,
                    format_args!("{n} record pieces on one page where each has a page"),
                );
            }
            for off in 1..=n {
                let item = page.item(off).expect("check_list_page found every item");
                let (tid, piece) = self.record(block, off, item, &mut scratch);
                if self.records.is_none() {
                    continue;
                }
                let body = &item[ivf::layout::RECORD_HEADER..];
                if self.layout.spans() {
                    seen.piece = Some((tid, piece, Fingerprint::of(body)));
                } else {
                    self.push_record(tid, block, off, Fingerprint::of(body));
                }
            }
            self.pages.push(seen);
        }
    }

    /// Checks one record item; its TID and piece.
    fn record(
        &mut self,
        block: u32,
        off: u16,
        item: &[u8],
        scratch: &mut Vec<f32>,
    ) -> (HeapTid, usize) {
        match check::check_record(&self.layout, item, self.heap_blocks, scratch) {
            Ok(r) => r,
            Err(_) => {
                self.heap_blocks = nblocks_of(self.heap); // the table may have grown
                check::check_record(&self.layout, item, self.heap_blocks, scratch).unwrap_or_else(
                    |e| {
                        self.fail(
                            block,
                            format_args!("item {off}: {e} (table \"{}\")", table_name(self.index)),
                        )
                    },
                )
            }
        }
    }

    /// Holds a whole record for step 6.
    fn push_record(&mut self, tid: HeapTid, block: u32, off: u16, f: Fingerprint) {
        let Some(records) = &mut self.records else {
            return;
        };
        records.push((key(tid), (block as u64) << 16 | off as u64, f));
        if records.len() > self.records_cap {
            raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "heapallindexed needs more than maintenance_work_mem for the index's {} or more records",
                    records.len()
                ),
                Some("It holds 24 bytes a record. Raise maintenance_work_mem."),
            );
        }
    }

    /// Step 5: follows every list's chain through the links of step 4.
    fn chains(&mut self, entries: &[(u32, u32)]) {
        let first = self.meta.first_list_block();
        for (list, &(head, _)) in entries.iter().enumerate() {
            let list = list as u32;
            let (mut block, mut from) = (head, None::<u32>);
            // Where records span pages: the record being put together.
            let mut partial: Option<(HeapTid, usize, Fingerprint, u32)> = None;
            while block != 0 {
                let name = |b: Option<u32>| match b {
                    Some(b) => format!("block {b} links"),
                    None => format!("list {list}'s head is"),
                };
                if block >= first + self.pages.len() as u32 {
                    // heads were read before step 4 counted the blocks
                    let at = from.unwrap_or_else(|| self.meta.head_location(list).0);
                    raise_corrupted(
                        self.index,
                        format_args!(
                            "block {at}: {} block {block}, past the list pages",
                            name(from)
                        ),
                    );
                }
                let i = (block - first) as usize;
                let PageSeen {
                    next,
                    new,
                    list: owner,
                    piece,
                } = self.pages[i];
                if new {
                    let at = from.unwrap_or_else(|| self.meta.head_location(list).0);
                    raise_corrupted(
                        self.index,
                        format_args!(
                            "block {at}: {} block {block}, an uninitialised page",
                            name(from)
                        ),
                    );
                }
                if owner != u32::MAX {
                    let what = if owner == list {
                        "a cycle in the chain of list".to_string()
                    } else {
                        format!("on the chains of lists {owner} and")
                    };
                    self.fail(block, format_args!("{what} {list}"));
                }
                self.pages[i].list = list;
                if let Some((tid, piece, f)) = piece {
                    partial = match partial {
                        Some((t, p, acc, start)) if t == tid && p + 1 == piece => {
                            Some((t, piece, acc.then(f), start))
                        }
                        _ if piece == 0 => Some((tid, 0, Fingerprint::start().then(f), block)),
                        _ => None, // a record partly vacuumed: scans skip it too
                    };
                    if let Some((t, p, acc, start)) = partial {
                        if p + 1 == self.layout.pieces {
                            self.push_record(t, start, 1, acc);
                            partial = None;
                        }
                    }
                }
                from = Some(block);
                block = next;
            }
            pgrx::check_for_interrupts!();
        }
        // An insert page is a page of its list's chain (never put on one
        // after step 3 read it: chains only grow at their heads).
        for (list, &(_, insert_page)) in entries.iter().enumerate() {
            if insert_page == 0 {
                continue;
            }
            let owner = self.pages[(insert_page - first) as usize].list;
            if owner != list as u32 {
                self.fail(
                    self.meta.head_location(list as u32).0,
                    format_args!(
                        "list {list}'s insert page {insert_page} is not on its chain{}",
                        if owner == u32::MAX {
                            String::new()
                        } else {
                            format!(" but on list {owner}'s")
                        }
                    ),
                );
            }
        }
        if !self.layout.spans() {
            // Records of pages on no chain are not in the index.
            let pages = &self.pages;
            if let Some(records) = &mut self.records {
                records.retain(|&(_, at, _)| {
                    pages[((at >> 16) as u32 - first) as usize].list != u32::MAX
                });
            }
        }
    }

    /// Step 6: every row the index should hold is a record with its bytes.
    fn heap(&mut self, snapshot: pg_sys::Snapshot) {
        let mut records = self.records.take().unwrap_or_default();
        records.sort_unstable();
        let metric = Metric::from_code(self.meta.metric).expect("checked in step 1");
        let mut state = HeapCheck {
            index: self.index,
            metric,
            element: self.meta.element_kind(),
            dims: self.meta.dims as usize,
            records,
            tmp: PgMemoryContexts::new("pgvision_index_check temporary"),
            rows: 0,
            problem: None,
        };
        // SAFETY: the table and index are open and locked; the scan uses
        // the caller's registered snapshot and is ended by the build scan
        // itself; the callback gets `state` back, which outlives the call.
        unsafe {
            let info = pg_sys::BuildIndexInfo(self.index);
            let scan = pg_sys::table_beginscan_strat(
                self.heap,
                snapshot,
                0,
                core::ptr::null_mut(),
                true,
                true,
            );
            pg_sys::table_index_build_scan(
                self.heap,
                self.index,
                info,
                true,
                false,
                Some(heap_callback),
                (&mut state as *mut HeapCheck).cast(),
                scan,
            );
        }
        // Raised here, not in the callback (see hnsw's verify).
        if let Some(problem) = state.problem {
            raise_corrupted(self.index, problem);
        }
        pgrx::debug1!("pgvision_index_check: {} heap rows are indexed", state.rows);
    }
}

/// The name of the table of `index`, for messages.
fn table_name(index: pg_sys::Relation) -> String {
    // SAFETY: an open index has a valid rd_index; get_rel_name returns a
    // palloc'd copy or null.
    unsafe {
        let name = pg_sys::get_rel_name((*(*index).rd_index).indrelid);
        if name.is_null() {
            "?".into()
        } else {
            core::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// Blocks of relation `rel` now.
fn nblocks_of(rel: pg_sys::Relation) -> u32 {
    // SAFETY: the relation is open.
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// What the heap scan's callback needs.
struct HeapCheck {
    index: pg_sys::Relation,
    metric: Metric,
    element: ivf::layout::Element,
    dims: usize,
    /// (heap TID, where, fingerprint) of every reachable record, sorted.
    records: Vec<(u64, u64, Fingerprint)>,
    /// Reset after every row (detoasted vectors).
    tmp: PgMemoryContexts,
    rows: usize,
    /// The first problem found (the rest of the scan checks nothing).
    problem: Option<String>,
}

impl HeapCheck {
    /// Checks heap row `tid` with vector `v`: what is wrong, if anything.
    fn row(&self, tid: HeapTid, v: &[f32]) -> Result<(), String> {
        if self.metric == Metric::Cosine && distance::norm(v) == 0.0 {
            return Ok(()); // a zero vector under cosine is not indexed
        }
        if v.len() != self.dims {
            return Ok(()); // not indexable: an insert would have failed
        }
        let k = key(tid);
        let at = self.records.partition_point(|&(t, _, _)| t < k);
        let same: Vec<_> = self.records[at..].iter().take_while(|r| r.0 == k).collect();
        let Some(first) = same.first() else {
            return Err(format!(
                "heap row ({},{}) of table \"{}\" is not in the index",
                tid.block,
                tid.offset,
                table_name(self.index)
            ));
        };
        let layout = RecordLayout::new(self.dims, self.element);
        let mut packed = Vec::new();
        let v = self.element.prepare(v, &mut packed);
        let want = Fingerprint::of_record(&layout, &self.element.encode(v));
        if same.iter().any(|r| r.2 == want) {
            return Ok(());
        }
        Err(format!(
            "block {}, item {}: the record of heap row ({},{}) does not hold the row's vector",
            first.1 >> 16,
            first.1 & 0xffff,
            tid.block,
            tid.offset
        ))
    }
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
    let mut tmp = std::mem::replace(&mut state.tmp, PgMemoryContexts::CurrentMemoryContext);
    let mut problem = None;
    // SAFETY: the temporary context is ours and reset after every row.
    unsafe {
        let read = crate::opclass::key_type_of(state.index).read;
        tmp.switch_to(|_| read(datum, &mut |v| problem = state.row(tid, v).err()));
        tmp.reset();
    }
    state.tmp = tmp;
    state.problem = problem;
    state.rows += 1;
    pgrx::check_for_interrupts!();
}
