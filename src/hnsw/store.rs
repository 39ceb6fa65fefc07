//! The graph as it lives in the index's pages: the `graph` crate's storage
//! traits over Postgres buffers, plus meta-page and element-placement helpers.
//!
//! Every method takes and releases its own buffer lock (see `pg/buffer.rs`
//! for the one-lock-at-a-time protocol). Queries handed to [`PageGraph`]
//! must be prepared with [`Metric::prepare`] (unit length for cosine).

use super::pages::{raise_corrupted, Extent, PageHint, PageImage, ReadPage, WritePage};
use distance::half;
use graph::{Graph, GraphMut, Metric};
use pageformat::{ElementId, ElementLayout, Meta, Storage};
use pgrx::pg_sys;
use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};

/// Cache lines of f16 codes prefetched per element of a batch up front.
const PREFETCH_CODE_LINES: usize = 8;
/// How many elements ahead of the one being measured the rest of a long
/// vector's codes is prefetched. The hardware prefetcher does not stream
/// a 4 kB vector fast enough by itself: at 2,048 dimensions this pipeline
/// cut a scan's time 14-17% (ef_search 20-80; ahead 1 and 2 alike, 3 no
/// better; the pipeline alone, without the first lines of every element
/// up front, worse).
const PREFETCH_AHEAD: usize = 2;

/// Block number of the meta page.
pub const META_BLOCK: u32 = 0;

/// Reads and validates the meta page.
pub fn read_meta(index: pg_sys::Relation) -> Meta {
    meta_on(index, &ReadPage::new(index, META_BLOCK))
}

/// The validated meta page contents of `index` on `page`.
fn meta_on(index: pg_sys::Relation, page: &ReadPage) -> Meta {
    checked_meta(
        index,
        Meta::from_bytes(page.contents(pageformat::META_BYTES)),
    )
}

/// `meta` if its fields are valid, else an ERROR (XX002) naming the
/// meta page and what is wrong.
fn checked_meta(index: pg_sys::Relation, meta: Meta) -> Meta {
    if let Err(e) = meta.validate() {
        corrupted(index, format!("meta page (block {META_BLOCK}): {e}"));
    }
    meta
}

/// Raises "index corrupted" (XX002) for `index` with `what`.
fn corrupted(index: pg_sys::Relation, what: String) -> ! {
    raise_corrupted(index, what)
}

/// Rewrites the meta page through `change`, WAL-logged; the dimension
/// order after the fields is written back as it was (the page's contents
/// end at pd_lower, so what is not rewritten would be lost to WAL).
pub fn update_meta(index: pg_sys::Relation, change: impl FnOnce(&mut Meta)) {
    let mut page = WritePage::new(index, META_BLOCK);
    let mut meta = checked_meta(
        index,
        Meta::from_bytes(page.contents(pageformat::META_BYTES)),
    );
    let mut contents = page.contents(meta.contents_len()).to_vec();
    let order_len = meta.order_len;
    change(&mut meta);
    assert_eq!(
        meta.order_len, order_len,
        "the dimension order is set by the build only"
    );
    contents[..pageformat::META_BYTES].copy_from_slice(&meta.to_bytes());
    page.set_contents(&contents);
    page.commit();
}

/// [`read_meta`] and the index's dimension order (see
/// `graph::variance_order`), if it has one, from one read of the page.
pub fn read_meta_and_order(index: pg_sys::Relation) -> (Meta, Option<Vec<u32>>) {
    let page = ReadPage::new(index, META_BLOCK);
    let meta = meta_on(index, &page);
    if meta.order_len == 0 {
        return (meta, None);
    }
    let bytes = &page.contents(meta.contents_len())[pageformat::META_BYTES..];
    match pageformat::decode_order(bytes, meta.dims as usize) {
        Ok(order) => (meta, Some(order)),
        Err(e) => corrupted(index, format!("meta page (block {META_BLOCK}): {e}")),
    }
}

/// Item `off` of `block` (its `bytes`) seen as an element: None for a
/// chunk; an ERROR (XX002) naming the block and item for anything that is
/// not a well-formed element ([`ElementLayout::check_element`]).
pub fn checked_element<'a>(
    index: pg_sys::Relation,
    layout: ElementLayout,
    block: u32,
    off: u16,
    bytes: &'a [u8],
) -> Option<pageformat::ElementRef<'a>> {
    let checked = pageformat::item_kind(bytes).and_then(|kind| match kind {
        pageformat::ItemKind::Chunk => Ok(None),
        pageformat::ItemKind::Element => layout.check_element(bytes, block).map(Some),
    });
    checked.unwrap_or_else(|e| corrupted(index, format!("block {block}, item {off}: {e}")))
}

/// `v` as the index stores it: its dimensions in the index's order.
pub fn in_index_order<'a>(order: Option<&[u32]>, v: &'a [f32]) -> std::borrow::Cow<'a, [f32]> {
    match order {
        Some(order) => graph::apply_order(order, v).into(),
        None => v.into(),
    }
}

/// Pages taken from the free space map per insert before giving up on reuse
/// (an entry can be stale: its slots already reused).
const FREE_PAGE_TRIES: usize = 4;

/// Puts a new element tuple in a free slot (see vacuum.rs) or on a page with
/// room, extending the index when none has; returns its address. `codes`
/// is its whole f16 copy, for the chunks of a page-spanning layout. The
/// caller holds the update lock in share mode, so no slot becomes free
/// meanwhile.
pub fn place_element(
    index: pg_sys::Relation,
    bytes: &[u8],
    codes: &[u16],
    layout: ElementLayout,
) -> ElementId {
    if layout.spans() {
        return place_extent(index, bytes, codes, layout);
    }
    if let Some(id) = reuse_free_slot(index, bytes, layout) {
        return id;
    }
    let insert_block = read_meta(index).insert_block;
    // SAFETY: `index` is open; the count is read without locks (it only grows).
    let nblocks =
        unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) };
    if insert_block > META_BLOCK && insert_block < nblocks {
        let mut page = WritePage::new(index, insert_block);
        if page.free_space() >= bytes.len() {
            if let Some(off) = page.add_item(bytes) {
                let id = ElementId::new(page.block(), off);
                page.commit();
                return id;
            }
        }
    }
    let mut page = WritePage::extend(index);
    let off = page
        .add_item(bytes)
        .expect("hnsw: an element always fits an empty page");
    let id = ElementId::new(page.block(), off);
    page.commit();
    update_meta(index, |m| m.insert_block = m.insert_block.max(id.block()));
    id
}

/// Writes `bytes` over a free element slot of a page the free space map
/// lists: one of the same size if the page has one, else any the page has
/// room to resize. Re-lists the page while it has free slots left.
fn reuse_free_slot(
    index: pg_sys::Relation,
    bytes: &[u8],
    layout: ElementLayout,
) -> Option<ElementId> {
    // SAFETY: `index` is open; the count only grows.
    let nblocks =
        unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) };
    // Pages whose free slots were all too small for this element: listed
    // again afterwards, or a smaller element could never reuse their slots
    // (taking a page from the map marks it used).
    let mut too_small = Vec::new();
    let found = take_free_slot(index, bytes, layout, nblocks, &mut too_small);
    for block in too_small {
        // SAFETY: as in take_free_slot.
        unsafe { pg_sys::RecordFreeIndexPage(index, block) };
    }
    found
}

/// The search of [`reuse_free_slot`]; pages it took from the free space
/// map whose free slots could not hold `bytes` are pushed to `too_small`.
fn take_free_slot(
    index: pg_sys::Relation,
    bytes: &[u8],
    layout: ElementLayout,
    nblocks: u32,
    too_small: &mut Vec<u32>,
) -> Option<ElementId> {
    for _ in 0..FREE_PAGE_TRIES {
        // SAFETY: the index's free space map; it hands a page out once
        // (marking it used) until it is recorded free again.
        let block = unsafe { pg_sys::GetFreeIndexPage(index) };
        if block == pg_sys::InvalidBlockNumber {
            return None;
        }
        if block == META_BLOCK || block >= nblocks {
            continue;
        }
        let mut page = WritePage::new(index, block);
        let mut free: Vec<(u16, usize)> = Vec::new();
        for off in 1..=page.max_offset() {
            if let Some(item) = page.item_mut(off) {
                let e = layout.read(item);
                if e.is_valid() && e.free() {
                    free.push((off, item.len()));
                }
            }
        }
        // Same size first (an in-place copy), then the largest.
        pageformat::free_slot_order(&mut free, bytes.len());
        let Some(pos) = free
            .iter()
            .position(|&(off, _)| page.replace_item(off, bytes))
        else {
            // A stale entry, or no room to grow a smaller slot.
            if !free.is_empty() {
                too_small.push(block);
            }
            continue;
        };
        let id = ElementId::new(block, free[pos].0);
        page.commit();
        if free.len() > 1 {
            // SAFETY: as above.
            unsafe { pg_sys::RecordFreeIndexPage(index, block) };
        }
        return Some(id);
    }
    None
}

/// The page images of a new extent at `first` whose first place holds
/// the element `bytes` with f16 `codes` and whose other places are free
/// (see pageformat's `extent_items`).
fn new_extent_images(
    first: u32,
    bytes: &[u8],
    codes: &[u16],
    layout: ElementLayout,
) -> Vec<PageImage> {
    let mut places = vec![None; layout.group()];
    places[0] = Some((bytes, codes));
    layout
        .extent_items(first, &places)
        .iter()
        .map(|items| {
            let mut image = PageImage::new();
            for (i, item) in items.iter().enumerate() {
                assert_eq!(
                    image.add_item(item),
                    Some(i as u16 + 1),
                    "hnsw: items fit their block"
                );
            }
            image
        })
        .collect()
}

/// [`place_element`] for a page-spanning layout: writes the element over
/// a free place of an extent (see vacuum.rs) and its chunks over that
/// place's, or makes a new extent; either way in one WAL record.
fn place_extent(
    index: pg_sys::Relation,
    bytes: &[u8],
    codes: &[u16],
    layout: ElementLayout,
) -> ElementId {
    for _ in 0..FREE_PAGE_TRIES {
        // SAFETY: as in reuse_free_slot.
        let block = unsafe { pg_sys::GetFreeIndexPage(index) };
        if block == pg_sys::InvalidBlockNumber {
            break;
        }
        if let Some(id) = reuse_extent_place(index, block, bytes, codes, layout) {
            return id;
        }
    }
    let extent = Extent::extend(index, layout.extent_blocks());
    let first = extent.block(0);
    extent.install(&new_extent_images(first, bytes, codes, layout));
    for place in first + 1..first + layout.group() as u32 {
        // SAFETY: the index's free space map; the free elements just
        // written there are for the next inserts.
        unsafe { pg_sys::RecordFreeIndexPage(index, place) };
    }
    ElementId::new(first, 1)
}

/// Writes the element over the free one on `block` and its chunks over
/// that one's; None (nothing written) when `block` holds no free element
/// with intact chunks (a stale free-space-map entry).
fn reuse_extent_place(
    index: pg_sys::Relation,
    block: u32,
    bytes: &[u8],
    codes: &[u16],
    layout: ElementLayout,
) -> Option<ElementId> {
    // SAFETY: `index` is open; the count only grows.
    let nblocks =
        unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) };
    if block == META_BLOCK || block >= nblocks {
        return None;
    }
    let mut extent = Extent::new(index);
    extent.lock(block);
    let chunk_block = extent.item(0, 1).and_then(|b| {
        let e = layout.read(b);
        (pageformat::is_element(b) && e.is_valid() && e.free()).then(|| e.chunk_block())
    })?;
    // None (a stale entry or not a spanning element's place) when its
    // chunk block cannot be where its chunks are.
    let places: Vec<(u32, u16)> = (1..=layout.chunks())
        .map(|i| layout.chunk_location(block, chunk_block, i))
        .collect::<Option<_>>()?;
    if places.iter().any(|&(b, _)| b >= nblocks) {
        return None;
    }
    let mut images = vec![PageImage::new()];
    let mut head = bytes.to_vec();
    layout.write(&mut head).set_chunk_block(chunk_block);
    assert_eq!(
        images[0].add_item(&head),
        Some(1),
        "hnsw: element fits its block"
    );
    for (i, &(b, off)) in places.iter().enumerate() {
        let at = extent.lock(b);
        extent
            .item(at, off)
            .and_then(|old| layout.read_chunk(old, block, i + 1))?;
        let mut image = extent.image(at);
        let chunk = layout.encode_chunk(block, i + 1, codes);
        assert!(
            image.replace_item(off, &chunk),
            "hnsw: a chunk keeps its size"
        );
        images.push(image);
    }
    extent.install(&images);
    Some(ElementId::new(block, 1))
}

/// `order` (positions into `ids`, sorted by id) cut into runs of ids on
/// one page, so each page is locked once per batch.
fn page_runs<'a>(ids: &'a [ElementId], order: &'a [usize]) -> impl Iterator<Item = &'a [usize]> {
    order.chunk_by(move |&a, &b| ids[a].block() == ids[b].block())
}

/// An hnsw index seen as a graph: elements are nodes, addressed by [`ElementId`].
pub struct PageGraph {
    index: pg_sys::Relation,
    layout: ElementLayout,
    metric: Metric,
    /// (id, deleted) of the element read last, so `is_deleted` right after
    /// `distance` needs no second page read.
    last: Cell<Option<(ElementId, bool)>>,
    /// (id, deleted) of the last batch of distances, in the order of its
    /// ids, for the same reason.
    batch: RefCell<Vec<(ElementId, bool)>>,
    /// Where in `batch` the next `is_deleted` looks first: a search asks
    /// about a batch's ids in its order, so each answer is found there or
    /// a few places on, not by a scan of the whole batch.
    batch_at: Cell<usize>,
    /// Reused buffer: positions of a batch sorted by block.
    order: RefCell<Vec<usize>>,
    /// Reused buffer: the page hints of a batch, in `order`.
    hints: RefCell<Vec<Option<PageHint>>>,
    /// f16 copies `(codes, scale, norm)` read by `distance_between`:
    /// neighbour selection measures every pair among some 33 elements, so
    /// each is read from its page once instead of once per pair. An
    /// element's vector never changes while a PageGraph lives (a slot is
    /// rewritten only once free, and no list then names it).
    halves: RefCell<FxHashMap<ElementId, HalfCopy>>,
    /// How many copies `halves` holds before it starts again.
    halves_cap: usize,
    /// The sparse copies `(bytes, nnz, norm)` read by `distance_between`
    /// in an index of sparse copies, as `halves` (at most `halves_cap`).
    sparse: RefCell<FxHashMap<ElementId, SparseCopy>>,
    /// Reused buffer: the assembled codes of a page-spanning element.
    spanning: RefCell<Vec<u16>>,
    /// Blocks of the index when last counted (0 before): a block number
    /// read from a page is read only below it (counted again when one is
    /// not: the index may have grown), so a damaged one can never make a
    /// read extend the index.
    nblocks: Cell<u32>,
    /// Set while the build that creates the index inserts into it (see
    /// `crate::pg::deferred_wal`): it deletes nothing, so no element is
    /// read to learn that it is not deleted.
    building: bool,
}

/// An element's f16 copy: codes, scale, norm.
pub type HalfCopy = (Vec<u16>, f32, f32);

/// An element's sparse copy (`distance::sparse`): its bytes, its count of
/// non-zero elements, its norm.
pub type SparseCopy = (Vec<u8>, usize, f32);

/// The copy `c` read in place.
fn stored(c: &SparseCopy) -> distance::sparse::Stored<'_> {
    distance::sparse::Stored::new(&c.0, c.1).expect("a copy read whole")
}

/// Bytes of f16 copies a PageGraph keeps for `distance_between`.
const HALVES_BYTES: usize = 1 << 20;
/// Sparse copies a PageGraph keeps for `distance_between` (at most 8 kB
/// each, a page).
const SPARSE_COPIES: usize = 256;

impl PageGraph {
    /// The graph of `index` described by `meta` (validated: its sizes are
    /// in range).
    pub fn new(index: pg_sys::Relation, meta: &Meta) -> Self {
        let Some(mut metric) = Metric::from_code(meta.metric) else {
            corrupted(index, format!("meta page: metric code {}", meta.metric));
        };
        if meta.storage() == Storage::Bits {
            if !matches!(metric, Metric::L1 | Metric::Jaccard) {
                corrupted(
                    index,
                    format!("meta page: metric code {} of packed bits", meta.metric),
                );
            }
            metric = metric.packed();
        }
        PageGraph {
            index,
            layout: ElementLayout::new(meta.m as usize, meta.dims as usize, meta.version),
            metric,
            last: Cell::new(None),
            batch: RefCell::new(Vec::new()),
            batch_at: Cell::new(0),
            order: RefCell::new(Vec::new()),
            hints: RefCell::new(Vec::new()),
            halves: RefCell::new(FxHashMap::default()),
            halves_cap: (HALVES_BYTES / (meta.dims as usize * 2 + 64)).max(64),
            sparse: RefCell::new(FxHashMap::default()),
            spanning: RefCell::new(Vec::new()),
            nblocks: Cell::new(0),
            building: crate::pg::deferred_wal::deferred(index),
        }
    }

    /// Whether `block` may hold elements: not the meta page, and below the
    /// index's block count (counted again, one system call, only when the
    /// last count is not above it).
    #[inline]
    fn element_block(&self, block: u32) -> bool {
        if pageformat::is_element_block(block, self.nblocks.get()) {
            return true;
        }
        // SAFETY: the index is open; the count only grows.
        let n = unsafe {
            pg_sys::RelationGetNumberOfBlocksInFork(self.index, pg_sys::ForkNumber::MAIN_FORKNUM)
        };
        self.nblocks.set(n);
        pageformat::is_element_block(block, n)
    }

    /// Raises XX002 unless `block` may hold elements (see
    /// [`PageGraph::element_block`]); `what` says who named it.
    #[inline]
    fn check_block(&self, block: u32, what: impl FnOnce() -> String) {
        if !self.element_block(block) {
            corrupted(
                self.index,
                format!(
                    "{}: block {block} is not an element block of the index ({} blocks)",
                    what(),
                    self.nblocks.get()
                ),
            );
        }
    }

    /// The meta page's entry point, its block checked (see
    /// [`PageGraph::element_block`]).
    pub fn entry_point(&self, meta: &Meta) -> Option<(ElementId, usize)> {
        let ep = meta.entry_point()?;
        self.check_block(ep.0.block(), || {
            format!(
                "meta page (block {META_BLOCK}): entry point ({},{})",
                ep.0.block(),
                ep.0.offset()
            )
        });
        Some(ep)
    }

    /// Runs `f` on element block `block`, share-locked.
    fn with_page<T>(&self, block: u32, f: impl FnOnce(&ReadPage) -> T) -> T {
        self.check_block(block, || "an element's id".into());
        f(&ReadPage::new(self.index, block))
    }

    /// The index relation.
    pub fn index(&self) -> pg_sys::Relation {
        self.index
    }

    /// The element layout of this index.
    pub fn layout(&self) -> ElementLayout {
        self.layout
    }

    /// The distance metric of this index.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Runs `f` on element `id` under a share lock.
    pub fn with_element<T>(
        &self,
        id: ElementId,
        f: impl FnOnce(pageformat::ElementRef<'_>) -> T,
    ) -> T {
        self.with_page(id.block(), |page| {
            let e = self.element_on(page, id);
            self.last.set(Some((id, e.deleted())));
            f(e)
        })
    }

    /// Element `id` on a page we hold; an ERROR (XX002) if it is not
    /// there or not well-formed (the cheap check of a scan's path:
    /// [`pageformat::ElementRef::is_valid`]).
    #[inline]
    fn element_on<'p>(&self, page: &'p ReadPage, id: ElementId) -> pageformat::ElementRef<'p> {
        let Some(bytes) = page.item(id.offset()) else {
            corrupted(
                self.index,
                format!("block {}: no element at offset {}", id.block(), id.offset()),
            )
        };
        let e = self.layout.read(bytes);
        if !e.is_valid() {
            self.bad_element(id, bytes);
        }
        e
    }

    /// Raises XX002 for the malformed element `bytes` at `id`, saying what
    /// is wrong with it.
    #[cold]
    fn bad_element(&self, id: ElementId, bytes: &[u8]) -> ! {
        let what = match self.layout.check_element(bytes, id.block()) {
            Err(e) => e.to_string(),
            Ok(_) => "element is malformed".into(),
        };
        corrupted(
            self.index,
            format!("block {}, item {}: {what}", id.block(), id.offset()),
        )
    }

    /// The element `bytes` at `id` for a change: fully checked
    /// ([`ElementLayout::check_element`]), an ERROR (XX002) otherwise.
    fn element_for_change(&self, id: ElementId, bytes: Option<&[u8]>) -> usize {
        let Some(bytes) = bytes else {
            corrupted(
                self.index,
                format!("block {}: no element at offset {}", id.block(), id.offset()),
            )
        };
        match self.layout.check_element(bytes, id.block()) {
            Ok(e) => e.level(),
            Err(e) => corrupted(
                self.index,
                format!("block {}, item {}: {e}", id.block(), id.offset()),
            ),
        }
    }

    /// Distance from a prepared query to the f16 vector of an element that
    /// fits one page (see [`PageGraph::distance_to`] for any element).
    /// Past `bound`, any value past it (see [`Metric::to_half_within`]).
    fn element_distance(&self, query: &[f32], e: pageformat::ElementRef<'_>, bound: f32) -> f32 {
        debug_assert!(!self.layout.spans());
        if self.layout.storage() == Storage::Sparse {
            return self.metric.to_sparse(query, e.sparse(), e.norm());
        }
        if self.layout.storage() == Storage::Sq8 {
            return self.metric.to_sq8_within(
                query,
                e.sq8_codes(),
                (e.scale(), e.offset()),
                e.norm(),
                bound,
            );
        }
        self.metric
            .to_half_within(query, &e.head_codes(), e.scale(), e.norm(), bound)
    }

    /// Distance from a prepared query to element `id` and whether it is
    /// deleted; a page-spanning element's codes are gathered from its
    /// blocks one at a time (they do not change while it is reachable:
    /// only the places of free elements are rewritten).
    fn distance_to(&self, query: &[f32], id: ElementId) -> (f32, bool) {
        if !self.layout.spans() {
            return self.with_element(id, |e| {
                (self.element_distance(query, e, f32::INFINITY), e.deleted())
            });
        }
        let mut codes = self.spanning.borrow_mut();
        codes.clear();
        let (scale, norm, deleted, chunk_block) = self.with_element(id, |e| {
            codes.extend_from_slice(&e.head_codes());
            (e.scale(), e.norm(), e.deleted(), e.chunk_block())
        });
        self.append_chunks(id, chunk_block, &mut codes);
        (self.metric.to_half(query, &codes, scale, norm), deleted)
    }

    /// Appends the codes element `id` keeps in chunks from `chunk_block` on
    /// (none unless the layout spans pages) to `out`, which holds its
    /// tuple's codes.
    pub fn append_chunks(&self, id: ElementId, chunk_block: u32, out: &mut Vec<u16>) {
        for i in 1..=self.layout.chunks() {
            let Some((block, offset)) = self.layout.chunk_location(id.block(), chunk_block, i)
            else {
                corrupted(
                    self.index,
                    format!(
                        "block {}, item {}: element's chunks cannot start at block {chunk_block}",
                        id.block(),
                        id.offset()
                    ),
                )
            };
            self.check_block(block, || {
                format!("block {}, item {}: chunk {i}", id.block(), id.offset())
            });
            self.with_page(block, |page| {
                let chunk = page
                    .item(offset)
                    .and_then(|b| self.layout.read_chunk(b, id.block(), i));
                let Some(chunk) = chunk else {
                    corrupted(
                        self.index,
                        format!(
                            "block {block}, item {offset}: not chunk {i} of the element at ({},{})",
                            id.block(),
                            id.offset()
                        ),
                    )
                };
                out.extend_from_slice(&chunk);
            });
        }
    }

    /// Checks the seals of element `id` (format 4 on, see
    /// `pageformat::seal`), its chunks' codes included: an ERROR (XX002)
    /// naming its block when its heap TIDs, scale, error bound, norm or
    /// codes are not what was written.
    pub fn check_seal(&self, id: ElementId) {
        if !self.layout.sealed() {
            return;
        }
        let mut rest = Vec::new();
        if self.layout.spans() {
            let chunk_block = self.with_element(id, |e| e.chunk_block());
            self.append_chunks(id, chunk_block, &mut rest);
        }
        if let Err(e) = self.with_element(id, |e| e.check_seal(&rest)) {
            corrupted(
                self.index,
                format!("block {}, item {}: {e}", id.block(), id.offset()),
            );
        }
    }

    /// Element `id`'s whole f16 copy: codes, scale, norm. Of an 8-bit
    /// element, the f16 copy of its decoded 8-bit copy (for neighbour
    /// selection, which compares copies with each other).
    pub fn half_copy(&self, id: ElementId) -> HalfCopy {
        if self.layout.storage() == Storage::Sq8 {
            let mut v = Vec::new();
            let norm = self.with_element(id, |e| {
                e.sq8_decode_into(&mut v);
                e.norm()
            });
            let h = half::HalfVector::encode(&v);
            return (h.codes, h.scale, norm);
        }
        let (mut codes, scale, norm, chunk_block) = self.with_element(id, |e| {
            (
                e.head_codes().into_owned(),
                e.scale(),
                e.norm(),
                e.chunk_block(),
            )
        });
        self.append_chunks(id, chunk_block, &mut codes);
        (codes, scale, norm)
    }

    /// Hints the CPU to fetch what a batch of distances will read, so the
    /// cache misses of different elements overlap instead of coming one by
    /// one (a scan's batch is 10-30 elements on pages not read lately):
    /// first every page's buffer header, page header and line pointer,
    /// then each element's header and first lines of f16 codes (at the
    /// place a level-0 element has them, the common case). Through
    /// [`PageHint`]s: no pins, no locks. `order` sorts `ids` by page.
    fn prefetch_batch(&self, ids: &[ElementId], order: &[usize]) {
        debug_assert!(!self.layout.spans(), "spanning batches are not by page");
        let mut hints = self.hints.borrow_mut();
        hints.clear();
        for &i in order {
            let hint = PageHint::of(self.index, ids[i].block());
            if let Some(hint) = &hint {
                hint.prefetch_head(ids[i].offset());
            }
            hints.push(hint);
        }
        let codes = self.level0_codes_at();
        let code_lines = self.code_lines().min(PREFETCH_CODE_LINES);
        for (hint, &i) in hints.iter().zip(order) {
            if let Some(hint) = hint {
                hint.prefetch_item(ids[i].offset(), codes, code_lines);
            }
        }
    }

    /// Where the code lines past the first [`PREFETCH_CODE_LINES`] of a
    /// level-0 element start (bytes into the item) and how many there
    /// are; `None` when the codes are no longer than those.
    fn code_rest(&self) -> Option<(usize, usize)> {
        let lines = self.code_lines();
        (lines > PREFETCH_CODE_LINES).then(|| {
            (
                self.level0_codes_at() + 64 * PREFETCH_CODE_LINES,
                lines - PREFETCH_CODE_LINES,
            )
        })
    }

    /// Cache lines an element's codes may touch: items are only 8-byte
    /// aligned, so `b` bytes of codes usually straddle one line more than
    /// `b / 64` (128 codes: three lines, not two). Prefetching from the
    /// first code on in steps of 64 bytes, this many covers the last one.
    fn code_lines(&self) -> usize {
        (self.code_bytes() + 63).div_ceil(64)
    }

    /// Byte offset of the codes in a level-0 element (they end it).
    fn level0_codes_at(&self) -> usize {
        self.layout.size_at(0) - self.code_bytes()
    }

    /// Bytes of an element's codes (f16 or 8-bit).
    fn code_bytes(&self) -> usize {
        self.layout.storage().code_bytes() * self.layout.dims
    }

    /// Prefetches `rest` (see [`PageGraph::code_rest`]) of the element at
    /// position `k` of `order` (a batch's `hints`), if any: issued a few
    /// elements ahead of the one being measured, a long vector's codes
    /// arrive while the ones before it are compared.
    fn prefetch_rest(
        hints: &[Option<PageHint>],
        ids: &[ElementId],
        order: &[usize],
        k: usize,
        (at, lines): (usize, usize),
    ) {
        if let Some(Some(hint)) = hints.get(k) {
            hint.prefetch_item(ids[order[k]].offset(), at, lines);
        }
    }

    /// Element `id`'s sparse copy (an index of sparse copies).
    pub fn sparse_copy(&self, id: ElementId) -> SparseCopy {
        self.with_element(id, |e| {
            let copy = e.sparse();
            let at = self.layout.codes_at(e.level());
            (
                e.bytes()[at..at + copy.bytes()].to_vec(),
                copy.nnz(),
                e.norm(),
            )
        })
    }

    /// Runs `f` on element `id`'s sparse copy, read from its page once
    /// while the cache `sparse` holds it.
    fn with_sparse<T>(&self, id: ElementId, f: impl FnOnce(&SparseCopy) -> T) -> T {
        let mut copies = self.sparse.borrow_mut();
        if copies.len() + 1 > SPARSE_COPIES {
            copies.clear();
        }
        f(copies.entry(id).or_insert_with(|| self.sparse_copy(id)))
    }

    /// The element's vector decoded and prepared as a query.
    fn as_query(&self, id: ElementId) -> Vec<f32> {
        if self.layout.storage() == Storage::Sparse {
            let mut q = Vec::new();
            self.query_into(id, &mut q);
            return q;
        }
        let (codes, scale, _) = self.half_copy(id);
        let mut v = Vec::new();
        self.metric.query_from_copy(&codes, scale, &mut v);
        v
    }

    /// Raises XX002 when a list at layer `lc` is to be written into element
    /// `id` of `level` (the element changed under a link that named it at
    /// a layer it is not on).
    fn check_layer(&self, id: ElementId, lc: usize, level: usize) {
        if lc > level {
            corrupted(
                self.index,
                format!(
                    "block {}, item {}: a list at layer {lc} to write into an element of level {level}",
                    id.block(),
                    id.offset()
                ),
            );
        }
    }

    /// Whether element `id`'s neighbour list at `lc` still equals `expected`.
    fn neighbours_equal(
        &self,
        e: pageformat::ElementRef<'_>,
        lc: usize,
        expected: &[ElementId],
    ) -> bool {
        let mut now = Vec::with_capacity(expected.len());
        e.neighbours(lc, &mut now);
        now == expected
    }
}

impl Graph for PageGraph {
    type Id = ElementId;

    fn distance(&self, query: &[f32], id: ElementId) -> f32 {
        self.distance_to(query, id).0
    }

    /// Reads each page once for all the ids stored on it (neighbours laid
    /// out near each other by the build share pages); L2 distances past
    /// `bound` are given up part way (see `half::l2_squared_within`).
    /// Remembers which ids are deleted (`batch`).
    fn distances_within(&self, query: &[f32], ids: &[ElementId], bound: f32, out: &mut Vec<f32>) {
        let start = out.len();
        out.resize(start + ids.len(), 0.0);
        let mut batch = self.batch.borrow_mut();
        batch.clear();
        self.batch_at.set(0);
        if self.layout.spans() {
            for (i, &id) in ids.iter().enumerate() {
                let (d, deleted) = self.distance_to(query, id);
                out[start + i] = d;
                batch.push((id, deleted));
            }
            return;
        }
        batch.resize(ids.len(), (ElementId::new(0, 0), false));
        let mut order = self.order.borrow_mut();
        order.clear();
        order.extend(0..ids.len());
        order.sort_unstable_by_key(|&i| ids[i]);
        self.prefetch_batch(ids, &order);
        let hints = self.hints.borrow();
        let rest = self.code_rest();
        if let Some(rest) = rest {
            for k in 0..PREFETCH_AHEAD {
                Self::prefetch_rest(&hints, ids, &order, k, rest);
            }
        }
        let mut k = 0;
        for run in page_runs(ids, &order) {
            self.with_page(ids[run[0]].block(), |page| {
                for &i in run {
                    if let Some(rest) = rest {
                        Self::prefetch_rest(&hints, ids, &order, k + PREFETCH_AHEAD, rest);
                    }
                    k += 1;
                    let e = self.element_on(page, ids[i]);
                    out[start + i] = self.element_distance(query, e, bound);
                    batch[i] = (ids[i], e.deleted());
                }
            });
        }
    }

    /// The list as stored, each neighbour's block checked (see
    /// [`PageGraph::element_block`]): a comparison per neighbour.
    fn neighbours(&self, id: ElementId, lc: usize, out: &mut Vec<ElementId>) {
        let start = out.len();
        self.with_element(id, |e| e.neighbours(lc, out));
        for &n in &out[start..] {
            if !self.element_block(n.block()) {
                corrupted(
                    self.index,
                    format!(
                        "block {}, item {}: {}",
                        id.block(),
                        id.offset(),
                        pageformat::Corruption::LinkBlock {
                            lc,
                            block: n.block(),
                            offset: n.offset(),
                            nblocks: self.nblocks.get(),
                        }
                    ),
                );
            }
        }
    }

    fn is_deleted(&self, id: ElementId) -> bool {
        if self.building {
            return false;
        }
        if let Some((_, deleted)) = self.last.get().filter(|(last, _)| *last == id) {
            return deleted;
        }
        let batch = self.batch.borrow();
        let at = self.batch_at.get().min(batch.len());
        let found = batch[at..]
            .iter()
            .position(|(b, _)| *b == id)
            .map(|k| at + k)
            .or_else(|| batch[..at].iter().position(|(b, _)| *b == id));
        if let Some(k) = found {
            self.batch_at.set(k + 1);
            return batch[k].1;
        }
        drop(batch);
        self.with_element(id, |e| e.deleted())
    }
}

impl GraphMut for PageGraph {
    /// Between the f16 copies, each read once (see `halves`).
    fn distance_between(&self, a: ElementId, b: ElementId) -> f32 {
        if self.layout.storage() == Storage::Sparse {
            let sa = self.with_sparse(a, |c| c.clone());
            return self.with_sparse(b, |cb| {
                self.metric
                    .between_sparse((stored(&sa), sa.2), (stored(cb), cb.2))
            });
        }
        let mut halves = self.halves.borrow_mut();
        if halves.len() + 2 > self.halves_cap {
            halves.clear();
        }
        for id in [a, b] {
            halves.entry(id).or_insert_with(|| self.half_copy(id));
        }
        let (ha, hb) = (&halves[&a], &halves[&b]);
        self.metric
            .between_halves((&ha.0, ha.1, ha.2), (&hb.0, hb.1, hb.2))
    }

    fn query_of(&self, id: ElementId) -> Vec<f32> {
        self.as_query(id)
    }

    /// Decodes the copy this graph holds of `id`'s f16 vector (read from
    /// its page once, as for [`GraphMut::distance_between`]).
    fn query_into(&self, id: ElementId, out: &mut Vec<f32>) {
        if self.layout.storage() == Storage::Sparse {
            let (indices, values) = self.with_sparse(id, |c| stored(c).to_vecs());
            distance::sparse::pack(&indices, &values, out);
            self.metric.prepare_sparse_in_place(out);
            return;
        }
        if self.layout.storage() == Storage::Sq8 {
            // Decoded straight from the page: going through an f16 copy
            // (as `half_copy` does) cost the spilled build's inserts 9% in
            // f16 encoding and decoding alone.
            self.with_element(id, |e| e.sq8_decode_into(out));
            self.metric.prepare_in_place(out);
            return;
        }
        let mut halves = self.halves.borrow_mut();
        if halves.len() + 1 > self.halves_cap {
            halves.clear();
        }
        let (codes, scale, _) = halves.entry(id).or_insert_with(|| self.half_copy(id));
        self.metric.query_from_copy(codes, *scale, out);
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    /// False for an index of sparse copies (its queries are packed).
    fn dense_queries(&self) -> bool {
        self.layout.storage() != Storage::Sparse
    }

    fn dims(&self) -> usize {
        self.layout.dims
    }

    /// Inserts (and a spilled build's) are linked one at a time, with no
    /// pass after them that bridges to what a back-link's shrink cut off.
    /// A spilled build's final reconnect pass would bridge to those too, and
    /// skipping the check there took its on-disk phase from 128 s to 71 s
    /// (clustered-128-100k at 20MB), but lost recall: 0.968 against 0.975
    /// at ef_search 40 (bench/RESULTS.md, 2026-12-06, branch spill3): rows
    /// cut off while the later rows were inserted were never linked to them.
    /// A spilled build answers the check from its in-link counts instead
    /// (`has_way_in`, `spill_links.rs`).
    fn keeps_reach(&self) -> bool {
        true
    }

    /// From the spilled build's in-link counts (`spill_links.rs`), if this
    /// is that build's graph and it keeps them.
    fn has_way_in(&self, id: ElementId) -> Option<bool> {
        if !self.building {
            return None;
        }
        super::spill_links::has_in_link(id)
    }

    fn set_neighbours(&self, id: ElementId, lc: usize, neighbours: &[ElementId]) {
        self.check_block(id.block(), || "a list to write".into());
        let mut page = WritePage::new(self.index, id.block());
        let level = self.element_for_change(id, page.item_mut(id.offset()).map(|b| &*b));
        self.check_layer(id, lc, level);
        let bytes = page.item_mut(id.offset()).expect("checked above");
        let mut old = Vec::new();
        let counted = self.building && lc == 0;
        if counted {
            self.layout.read(bytes).neighbours(0, &mut old);
        }
        self.layout.write(bytes).set_neighbours(lc, neighbours);
        page.commit();
        if counted {
            super::spill_links::replace(&old, neighbours);
        }
    }

    /// Optimistic read-modify-write: `update` runs on a copy with no lock
    /// held (it may read other pages); the result is written only if the
    /// list did not change meanwhile, else it is retried. After a few lost
    /// races the back-link is skipped: the graph stays valid, one edge poorer.
    fn update_neighbours(
        &self,
        id: ElementId,
        lc: usize,
        update: &mut dyn FnMut(&mut Vec<ElementId>),
    ) {
        for _ in 0..4 {
            let mut old = Vec::new();
            self.neighbours(id, lc, &mut old);
            let mut new = old.clone();
            update(&mut new);
            if new == old {
                return;
            }
            let mut page = WritePage::new(self.index, id.block());
            let level = self.element_for_change(id, page.item_mut(id.offset()).map(|b| &*b));
            self.check_layer(id, lc, level);
            let bytes = page.item_mut(id.offset()).expect("checked above");
            if !self.neighbours_equal(self.layout.read(bytes), lc, &old) {
                continue; // dropped without commit: nothing written
            }
            self.layout.write(bytes).set_neighbours(lc, &new);
            page.commit();
            if self.building && lc == 0 {
                super::spill_links::replace(&old, &new);
            }
            return;
        }
    }
}
