//! Buffers only through RAII guards, for any of the extension's index
//! access methods: each names its pages with a [`PageKind`] (its name in
//! messages and the id in its pages' special space), and its own module
//! makes type aliases of these guards for its kind (see `hnsw/pages.rs`).
//!
//! [`ReadPage`] pins and share-locks a page; [`WritePage`] pins,
//! exclusive-locks and registers it with generic WAL, and its changes reach
//! the page and the WAL only through [`WritePage::commit`]; dropping it
//! without a commit aborts the record and leaves the page as it was.
//! [`BuildPage`] is the build's writer: no per-page WAL, because a build
//! logs every page once at the end (`build.rs`).
//!
//! [`Extent`] rewrites the blocks of one page-spanning element at once.
//!
//! Lock protocol: a backend holds at most one buffer content lock of this
//! index at a time (never a second one while the first is held), so two
//! backends can never deadlock on buffer locks. Code that needs data from
//! two pages copies out of the first before locking the second. The one
//! exception is an [`Extent`]: it locks its blocks in ascending order and
//! waits only for higher blocks while holding lower ones; whoever holds
//! such a block either holds nothing else or is another extent writer
//! waiting for still higher blocks, so no cycle of waits can form.

use crate::error::raise;
use core::marker::PhantomData;
use distance::prefetch;
use pageformat::{Corruption, PageHeader, SPECIAL};
use pgrx::{pg_sys, PgSqlErrorCode};

/// The pages of one index access method. Every page of such an index has
/// `pageformat::SPECIAL` bytes of special space starting with `PAGE_ID`.
pub trait PageKind {
    /// The access method's name, for messages ("hnsw index \"x\": ...").
    const AM: &'static str;
    /// The u16 at the start of every page's special space.
    const PAGE_ID: u16;
}

/// Bytes of the page header before the first line pointer.
const PAGE_HEADER: usize = pageformat::PAGE_HEADER;

/// Reads buffer `block` of `index` (pinned, not locked), skipping the
/// buffer-mapping lookup when the block's last buffer still holds it.
fn read_buffer(index: pg_sys::Relation, block: u32) -> pg_sys::Buffer {
    super::recent::read_buffer(index, block)
}

/// The index's name, for messages.
pub fn index_name(index: pg_sys::Relation) -> String {
    // SAFETY: an open relation has a valid rd_rel with a NUL-terminated name.
    unsafe { pgrx::name_data_to_str(&(*(*index).rd_rel).relname).to_owned() }
}

/// Raises "index corrupted" (XX002) for `index` with `what`, which names
/// the block and what is wrong with it.
pub fn raise_corrupted<K: PageKind>(index: pg_sys::Relation, what: impl std::fmt::Display) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED,
        format!("{} index \"{}\": {what}", K::AM, index_name(index)),
        None,
    )
}

/// Raises [`raise_corrupted`] for a problem found on `block`.
fn raise_on_block<K: PageKind>(index: pg_sys::Relation, block: u32, e: Corruption) -> ! {
    raise_corrupted::<K>(index, format_args!("block {block}: {e}"))
}

/// The page as bytes.
///
/// # Safety
/// `page` must point to BLCKSZ readable bytes that outlive the slice and
/// that nobody writes while it is used.
unsafe fn page_bytes<'a>(page: pg_sys::Page) -> &'a [u8] {
    // SAFETY: forwarded from the caller.
    unsafe { core::slice::from_raw_parts(page as *const u8, pg_sys::BLCKSZ as usize) }
}

/// The bytes of item `offset` on `page`: None if there is no such item,
/// an error if its line pointer places it outside the page's items
/// (checked by `pageformat::item_range`: a few comparisons).
///
/// # Safety
/// `page` must be a valid, locked page that outlives the returned slice.
unsafe fn item<'a>(page: pg_sys::Page, offset: u16) -> Result<Option<&'a mut [u8]>, Corruption> {
    // SAFETY: forwarded from the caller; the shared view of the page ends
    // before the mutable slice of the item is made.
    let range = pageformat::item_range(unsafe { page_bytes(page) }, offset)?;
    // SAFETY: item_range keeps the range inside the page's BLCKSZ bytes.
    Ok(range.map(|r| unsafe {
        core::slice::from_raw_parts_mut((page as *mut u8).add(r.start), r.len())
    }))
}

/// The header of `page`.
///
/// # Safety
/// `page` must point to a readable page.
unsafe fn header(page: pg_sys::Page) -> PageHeader {
    // SAFETY: forwarded from the caller.
    PageHeader::read(unsafe { page_bytes(page) })
}

/// Formats an empty page with the special space of `K`.
///
/// # Safety
/// `page` must point to BLCKSZ writable bytes.
pub unsafe fn init_page<K: PageKind>(page: pg_sys::Page) {
    // SAFETY: forwarded from the caller.
    unsafe {
        pg_sys::PageInit(page, pg_sys::BLCKSZ as usize, SPECIAL);
        let special = pg_sys::PageGetSpecialPointer(page) as *mut u16;
        special.write_unaligned(K::PAGE_ID);
    }
}

/// Appends `bytes` as a new item; its offset, or None when the page is full.
///
/// # Safety
/// `page` must be a valid page the caller may modify.
unsafe fn add_item(page: pg_sys::Page, bytes: &[u8]) -> Option<u16> {
    // SAFETY: PageAddItemExtended copies `bytes` and checks free space itself.
    let off = unsafe {
        pg_sys::PageAddItemExtended(
            page,
            bytes.as_ptr() as pg_sys::Item,
            bytes.len(),
            pg_sys::InvalidOffsetNumber,
            0,
        )
    };
    (off != pg_sys::InvalidOffsetNumber).then_some(off)
}

/// Free bytes for one more item on `page`.
///
/// # Safety
/// `page` must be a valid page.
unsafe fn free_space(page: pg_sys::Page) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { pg_sys::PageGetFreeSpace(page) }
}

/// Writes the meta page contents after the header and sets pd_lower past
/// them, so generic WAL and full-page images do not treat them as the hole.
///
/// # Safety
/// `page` must be a valid page the caller may modify.
pub unsafe fn set_contents(page: pg_sys::Page, bytes: &[u8]) {
    assert!(PAGE_HEADER + bytes.len() < pg_sys::BLCKSZ as usize);
    // SAFETY: forwarded from the caller; the assert keeps the copy in the page.
    unsafe {
        let dst = (page as *mut u8).add(PAGE_HEADER);
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        (*(page as *mut pg_sys::PageHeaderData)).pd_lower = (PAGE_HEADER + bytes.len()) as u16;
    }
}

/// The u32 at byte `at` of the page's special space (after the page
/// kind's id: a chain link, for access methods whose pages form chains).
///
/// # Safety
/// `page` must point to a readable, formatted page.
unsafe fn special_u32(page: pg_sys::Page, at: usize) -> u32 {
    assert!(at >= 2 && at + 4 <= SPECIAL, "special word out of range");
    // SAFETY: forwarded from the caller; the assert keeps the read inside
    // the special space at the end of the page.
    unsafe {
        ((page as *const u8).add(pg_sys::BLCKSZ as usize - SPECIAL + at) as *const u32)
            .read_unaligned()
    }
}

/// Sets the u32 at byte `at` of the page's special space.
///
/// # Safety
/// `page` must point to a formatted page the caller may modify.
unsafe fn set_special_u32(page: pg_sys::Page, at: usize, value: u32) {
    assert!(at >= 2 && at + 4 <= SPECIAL, "special word out of range");
    // SAFETY: as in `special_u32`.
    unsafe {
        ((page as *mut u8).add(pg_sys::BLCKSZ as usize - SPECIAL + at) as *mut u32)
            .write_unaligned(value)
    }
}

/// Deletes the items at `offsets` (ascending) from `page`, compacting it.
///
/// # Safety
/// `page` must be a valid page the caller may modify.
unsafe fn delete_items(page: pg_sys::Page, offsets: &mut [u16]) {
    offsets.sort_unstable();
    // SAFETY: forwarded from the caller; the offsets are sorted and exist
    // (the caller found them on this page).
    unsafe { pg_sys::PageIndexMultiDelete(page, offsets.as_mut_ptr(), offsets.len() as i32) };
}

/// A pinned, share-locked page.
pub struct ReadPage<K: PageKind> {
    buf: pg_sys::Buffer,
    page: pg_sys::Page,
    index: pg_sys::Relation,
    kind: PhantomData<K>,
}

impl<K: PageKind> ReadPage<K> {
    /// Pins and share-locks `block`.
    pub fn new(index: pg_sys::Relation, block: u32) -> Self {
        let buf = read_buffer(index, block);
        // SAFETY: `buf` is a valid buffer we just pinned.
        unsafe {
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_SHARE as i32);
            ReadPage {
                buf,
                page: pg_sys::BufferGetPage(buf),
                index,
                kind: PhantomData,
            }
        }
    }

    /// The bytes of item `offset`, if present; an ERROR (XX002) if its
    /// line pointer places it outside the page's items.
    pub fn item(&self, offset: u16) -> Option<&[u8]> {
        // SAFETY: the page stays pinned and locked while `self` lives.
        match unsafe { item(self.page, offset) } {
            Ok(bytes) => bytes.map(|s| &*s),
            Err(e) => raise_on_block::<K>(self.index, self.block(), e),
        }
    }

    /// Number of line pointers on the page.
    pub fn max_offset(&self) -> u16 {
        // SAFETY: the page is pinned and locked.
        unsafe { header(self.page) }.max_offset()
    }

    /// This page's block number.
    pub fn block(&self) -> u32 {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetBlockNumber(self.buf) }
    }

    /// The u32 at byte `at` of the special space (see [`WritePage::set_special_u32`]).
    pub fn special_u32(&self, at: usize) -> u32 {
        // SAFETY: the page is pinned and locked.
        unsafe { special_u32(self.page, at) }
    }

    /// The whole page (for `pgvision_index_check`).
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: pinned and share-locked while `self` lives: nobody writes it.
        unsafe { page_bytes(self.page) }
    }

    /// The bytes right after the page header (the meta page's contents).
    pub fn contents(&self, len: usize) -> &[u8] {
        assert!(
            PAGE_HEADER + len <= pg_sys::BLCKSZ as usize,
            "meta contents past the page"
        );
        // SAFETY: a page is BLCKSZ bytes and the assert keeps len within it.
        unsafe { core::slice::from_raw_parts((self.page as *const u8).add(PAGE_HEADER), len) }
    }
}

impl<K: PageKind> Drop for ReadPage<K> {
    fn drop(&mut self) {
        // SAFETY: we hold the pin and the share lock taken in `new`.
        unsafe { pg_sys::UnlockReleaseBuffer(self.buf) };
    }
}

/// Where a block of an index probably is in shared buffers, for prefetch
/// hints only: the buffer that held it when this backend last read it
/// (see `recent.rs`). Holds no pin and no lock, so the buffer may hold
/// another page by now, or one being rewritten; nothing read through a
/// hint is ever used except as an address to prefetch, so a stale hint
/// costs a wasted prefetch and nothing else.
///
/// Why not pin instead: a scan prefetches a batch of 10-30 pages before
/// reading them, and holding that many pins at once overflows Postgres'
/// per-backend array of 8 private reference counts into a hash table that
/// every later pin and unpin then probes. With pins kept per page (a pin
/// cache of 64), pinning took a fifth of a 2048-d scan's time; reading
/// each page with one short pin and prefetching through hints made the
/// scan ~20% faster at 2048-d and ~25% at 128-d.
pub struct PageHint {
    buf: pg_sys::Buffer,
}

impl PageHint {
    /// The hint for `block` of `index`, if this backend remembers a buffer for it.
    pub fn of(index: pg_sys::Relation, block: u32) -> Option<Self> {
        super::recent::remembered(index, block).map(|buf| PageHint { buf })
    }

    /// The page's address in the buffer pool (mapped for the backend's life).
    fn page(&self) -> *const u8 {
        // SAFETY: a remembered buffer is a shared buffer (1..=NBuffers),
        // so this only computes an address inside the buffer pool.
        unsafe { pg_sys::BufferGetPage(self.buf) as *const u8 }
    }

    /// Byte offset of the line pointer of item `offset`, inside the page.
    fn line_pointer(offset: u16) -> usize {
        let at = PAGE_HEADER + pageformat::LINE_POINTER * (offset.max(1) as usize - 1);
        at.min(pg_sys::BLCKSZ as usize - pageformat::LINE_POINTER)
    }

    /// Hints the CPU to fetch the buffer's header (what pinning it checks),
    /// the page header and the line pointer of item `offset`.
    pub fn prefetch_head(&self, offset: u16) {
        let page = self.page();
        // SAFETY: only an address is computed (index `buf - 1` of the
        // buffer descriptor array, NBuffers long); nothing is read.
        let desc = unsafe { pg_sys::BufferDescriptors.add(self.buf as usize - 1) };
        prefetch(desc as *const u8);
        prefetch(page);
        prefetch(page.wrapping_add(Self::line_pointer(offset)));
    }

    /// Hints the CPU to fetch the buffer's header and the page's used
    /// bytes: the header and line pointers up to `pd_lower` and the items
    /// from `pd_upper` to the end (the free space between is skipped). The
    /// two bounds are read unlocked, so they may be stale or torn; they
    /// are clamped into the page and only used as addresses to prefetch.
    pub fn prefetch_page(&self) {
        let page = self.page();
        // SAFETY: only an address is computed, as in `prefetch_head`.
        let desc = unsafe { pg_sys::BufferDescriptors.add(self.buf as usize - 1) };
        prefetch(desc as *const u8);
        // SAFETY: pd_lower and pd_upper are the u16s at bytes 12 and 14 of
        // the page header (bufpage.h), inside the mapped page; a racing
        // writer can only make the values wrong, which the clamps absorb.
        let (lower, upper) = unsafe {
            (
                core::ptr::read_volatile(page.add(12) as *const u16) as usize,
                core::ptr::read_volatile(page.add(14) as *const u16) as usize,
            )
        };
        let end = pg_sys::BLCKSZ as usize;
        let lower = lower.clamp(PAGE_HEADER, end);
        let upper = (upper & !63).min(end);
        for at in (0..lower)
            .step_by(64)
            .chain((upper.max(lower)..end).step_by(64))
        {
            prefetch(page.wrapping_add(at));
        }
    }

    /// Hints the CPU to fetch item `offset`'s first two lines and `lines`
    /// lines from byte `at` of it on. Reads the line pointer unlocked, so
    /// the address may be wrong; it is kept inside the page either way.
    pub fn prefetch_item(&self, offset: u16, at: usize, lines: usize) {
        let page = self.page();
        // SAFETY: the line pointer lies inside the page, which is mapped for
        // the backend's life, 4-aligned. Other backends may be writing it:
        // the volatile read may see a stale or torn value, which is only
        // used as an address to prefetch, clamped into the page.
        let pointer =
            unsafe { core::ptr::read_volatile(page.add(Self::line_pointer(offset)) as *const u32) };
        // lp_off is the low 15 bits of an ItemIdData (see itemid.h).
        let start = (pointer & 0x7fff) as usize;
        let within = |at: usize| page.wrapping_add(at.min(pg_sys::BLCKSZ as usize - 1));
        prefetch(within(start));
        prefetch(within(start + 64));
        for line in 0..lines {
            prefetch(within(start + at + 64 * line));
        }
    }
}

/// A pinned, exclusive-locked page registered with generic WAL (or, while
/// a build defers its WAL, changed in a private copy: see `deferred_wal`).
pub struct WritePage<K: PageKind> {
    buf: pg_sys::Buffer,
    /// Null when the WAL is deferred.
    state: *mut pg_sys::GenericXLogState,
    page: pg_sys::Page,
    /// The private copy `page` points into when the WAL is deferred.
    copy: Option<PageImage<K>>,
    index: pg_sys::Relation,
    kind: PhantomData<K>,
}

/// The copy of `buf`'s page that a [`WritePage`] changes: generic WAL's,
/// or, when `index`'s WAL is deferred, a private image (no state).
///
/// # Safety
/// `buf` is pinned and exclusive-locked; `full` says the page is new (its
/// contents are not copied).
unsafe fn register<K: PageKind>(
    index: pg_sys::Relation,
    buf: pg_sys::Buffer,
    full: bool,
) -> (
    *mut pg_sys::GenericXLogState,
    pg_sys::Page,
    Option<PageImage<K>>,
) {
    if super::deferred_wal::deferred(index) {
        let mut image = PageImage::<K>::new();
        if !full {
            // SAFETY: both are BLCKSZ bytes; the buffer is locked.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    pg_sys::BufferGetPage(buf) as *const u8,
                    image.0.as_mut_ptr() as *mut u8,
                    pg_sys::BLCKSZ as usize,
                )
            };
        }
        let page = image.0.as_mut_ptr() as pg_sys::Page;
        return (core::ptr::null_mut(), page, Some(image));
    }
    let flags = if full {
        pg_sys::GENERIC_XLOG_FULL_IMAGE as i32
    } else {
        0
    };
    // SAFETY: the caller holds the buffer locked; the state is ours.
    unsafe {
        let state = pg_sys::GenericXLogStart(index);
        let page = pg_sys::GenericXLogRegisterBuffer(state, buf, flags);
        (state, page, None)
    }
}

impl<K: PageKind> WritePage<K> {
    /// Pins, locks and registers existing block `block`; an ERROR (XX002)
    /// when its header is not a valid index page's (Postgres' page functions
    /// would PANIC on it part way through a change).
    pub fn new(index: pg_sys::Relation, block: u32) -> Self {
        let buf = read_buffer(index, block);
        // SAFETY: `buf` is pinned; the generic WAL state works on a copy of
        // the page that is applied only at GenericXLogFinish.
        let this = unsafe {
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            let (state, page, copy) = register::<K>(index, buf, false);
            WritePage {
                buf,
                state,
                page,
                copy,
                index,
                kind: PhantomData,
            }
        };
        // SAFETY: the page copy is valid while `this` lives.
        if let Err(e) = unsafe { header(this.page) }.check() {
            raise_on_block::<K>(index, block, e); // `this` is dropped: aborted
        }
        this
    }

    /// Extends the index by one empty element page, logged as a full image.
    pub fn extend(index: pg_sys::Relation) -> Self {
        // SAFETY: the relation extension lock serialises concurrent
        // extenders; the new buffer is locked before anyone can see it used.
        unsafe {
            pg_sys::LockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
            let buf = read_buffer(index, pg_sys::InvalidBlockNumber);
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            pg_sys::UnlockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
            let (state, page, copy) = register::<K>(index, buf, true);
            init_page::<K>(page);
            WritePage {
                buf,
                state,
                page,
                copy,
                index,
                kind: PhantomData,
            }
        }
    }

    /// This page's block number.
    pub fn block(&self) -> u32 {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetBlockNumber(self.buf) }
    }

    /// Mutable bytes of item `offset`, if present; an ERROR (XX002) if its
    /// line pointer places it outside the page's items.
    pub fn item_mut(&mut self, offset: u16) -> Option<&mut [u8]> {
        // SAFETY: the page copy lives until commit/abort, which consume `self`.
        match unsafe { item(self.page, offset) } {
            Ok(bytes) => bytes,
            Err(e) => raise_on_block::<K>(self.index, self.block(), e),
        }
    }

    /// Number of line pointers on the page.
    pub fn max_offset(&self) -> u16 {
        // SAFETY: the page copy is valid while `self` lives.
        unsafe { header(self.page) }.max_offset()
    }

    /// Appends an item; its offset, or None when it does not fit (or the
    /// page was never initialised).
    pub fn add_item(&mut self, bytes: &[u8]) -> Option<u16> {
        // SAFETY: the page copy is ours to modify until commit; `new`
        // checked its header, and a new page is not added to.
        unsafe { (!header(self.page).is_new()).then(|| add_item(self.page, bytes))? }
    }

    /// Replaces item `offset` by `bytes` (of any size, other items move);
    /// false, changing nothing, when the page has no room for the new size.
    pub fn replace_item(&mut self, offset: u16, bytes: &[u8]) -> bool {
        // SAFETY: the page copy is ours to modify until commit;
        // PageIndexTupleOverwrite checks the offset and the free space and
        // copies `bytes`.
        unsafe {
            pg_sys::PageIndexTupleOverwrite(
                self.page,
                offset,
                bytes.as_ptr() as pg_sys::Item,
                bytes.len(),
            )
        }
    }

    /// The u32 at byte `at` of the special space (see [`ReadPage::special_u32`]).
    pub fn special_u32(&self, at: usize) -> u32 {
        // SAFETY: the page is pinned and exclusive-locked.
        unsafe { special_u32(self.page, at) }
    }

    /// Free bytes for one more item.
    pub fn free_space(&self) -> usize {
        // SAFETY: the page copy is valid while `self` lives.
        unsafe { free_space(self.page) }
    }

    /// The bytes right after the page header (the meta page's contents).
    pub fn contents(&self, len: usize) -> &[u8] {
        assert!(
            PAGE_HEADER + len <= pg_sys::BLCKSZ as usize,
            "meta contents past the page"
        );
        // SAFETY: the page copy is BLCKSZ bytes and the assert keeps len within it.
        unsafe { core::slice::from_raw_parts((self.page as *const u8).add(PAGE_HEADER), len) }
    }

    /// Overwrites the meta page contents and sets pd_lower past them, so
    /// generic WAL does not treat them as the page's hole.
    pub fn set_contents(&mut self, bytes: &[u8]) {
        // SAFETY: we hold this page (or its WAL copy) exclusively.
        unsafe { set_contents(self.page, bytes) }
    }

    /// Sets the u32 at byte `at` of the special space (after the page
    /// id: a chain link, for access methods whose pages form chains).
    pub fn set_special_u32(&mut self, at: usize, value: u32) {
        // SAFETY: the page copy is ours to modify until commit.
        unsafe { set_special_u32(self.page, at, value) }
    }

    /// Deletes the items at `offsets`, compacting the page (later items
    /// get lower offsets).
    pub fn delete_items(&mut self, offsets: &mut [u16]) {
        // SAFETY: the page copy is ours to modify until commit.
        unsafe { delete_items(self.page, offsets) }
    }

    /// Applies the changes to the buffer, writes the WAL record (unless
    /// deferred), unlocks.
    pub fn commit(mut self) {
        let copy = self.copy.take();
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: state (or the private copy) and buffer were set up in
        // new/extend and are still held; ManuallyDrop keeps Drop from
        // aborting afterwards. The copy is BLCKSZ bytes, like the page.
        unsafe {
            match copy {
                Some(image) => {
                    core::ptr::copy_nonoverlapping(
                        image.0.as_ptr() as *const u8,
                        pg_sys::BufferGetPage(this.buf) as *mut u8,
                        pg_sys::BLCKSZ as usize,
                    );
                    pg_sys::MarkBufferDirty(this.buf);
                }
                None => {
                    pg_sys::GenericXLogFinish(this.state);
                }
            }
            pg_sys::UnlockReleaseBuffer(this.buf);
        }
    }
}

impl<K: PageKind> Drop for WritePage<K> {
    fn drop(&mut self) {
        // SAFETY: not committed: discard the page copy, then release.
        unsafe {
            if self.copy.is_none() {
                pg_sys::GenericXLogAbort(self.state);
            }
            pg_sys::UnlockReleaseBuffer(self.buf);
        }
    }
}

/// A page written by an index build, without WAL (logged at the end).
pub struct BuildPage<K: PageKind> {
    buf: pg_sys::Buffer,
    page: pg_sys::Page,
    kind: PhantomData<K>,
}

impl<K: PageKind> BuildPage<K> {
    /// Extends the index by one formatted, empty page (the meta page too:
    /// its contents go after the header, see [`BuildPage::set_contents`]).
    pub fn extend(index: pg_sys::Relation) -> Self {
        let buf = read_buffer(index, pg_sys::InvalidBlockNumber);
        // SAFETY: during a build nobody else sees the index; we format the
        // fresh page under an exclusive lock.
        unsafe {
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            let page = pg_sys::BufferGetPage(buf);
            init_page::<K>(page);
            BuildPage {
                buf,
                page,
                kind: PhantomData,
            }
        }
    }

    /// This page's block number.
    pub fn block(&self) -> u32 {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetBlockNumber(self.buf) }
    }

    /// Appends an item; its offset, or None when it does not fit.
    pub fn add_item(&mut self, bytes: &[u8]) -> Option<u16> {
        // SAFETY: we hold the exclusive lock on this page.
        unsafe { add_item(self.page, bytes) }
    }

    /// Writes the meta page contents (see [`WritePage::set_contents`]).
    pub fn set_contents(&mut self, bytes: &[u8]) {
        // SAFETY: we hold this page (or its WAL copy) exclusively.
        unsafe { set_contents(self.page, bytes) }
    }

    /// Formats block `block`, which the build wrote before, afresh (to
    /// write contents known only later, such as a directory).
    pub fn rewrite(index: pg_sys::Relation, block: u32) -> Self {
        let buf = read_buffer(index, block);
        // SAFETY: during a build nobody else sees the index; we format the
        // page under an exclusive lock.
        unsafe {
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            let page = pg_sys::BufferGetPage(buf);
            init_page::<K>(page);
            BuildPage {
                buf,
                page,
                kind: PhantomData,
            }
        }
    }
}

impl<K: PageKind> Drop for BuildPage<K> {
    fn drop(&mut self) {
        // SAFETY: we hold pin and lock; the page is marked dirty so the
        // checkpointer writes it (the build WAL-logs it at the end).
        unsafe {
            pg_sys::MarkBufferDirty(self.buf);
            pg_sys::UnlockReleaseBuffer(self.buf);
        }
    }
}

/// An empty page image in Rust memory (8-aligned, like a shared buffer).
pub struct PageImage<K: PageKind>(Box<[u64; pg_sys::BLCKSZ as usize / 8]>, PhantomData<K>);

impl<K: PageKind> Default for PageImage<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: PageKind> PageImage<K> {
    /// A formatted element page with no items.
    pub fn new() -> Self {
        let mut image = PageImage(Box::new([0u64; pg_sys::BLCKSZ as usize / 8]), PhantomData);
        // SAFETY: the box is BLCKSZ writable, 8-aligned bytes.
        unsafe { init_page::<K>(image.page()) };
        image
    }

    /// The image as a Postgres page pointer.
    pub(super) fn page(&mut self) -> pg_sys::Page {
        self.0.as_mut_ptr() as pg_sys::Page
    }

    /// Appends an item; its offset, or None when it does not fit.
    pub fn add_item(&mut self, bytes: &[u8]) -> Option<u16> {
        // SAFETY: the image is a valid page we own.
        unsafe { add_item(self.page(), bytes) }
    }

    /// Sets the u32 at byte `at` of the special space (see [`WritePage::set_special_u32`]).
    pub fn set_special_u32(&mut self, at: usize, value: u32) {
        // SAFETY: the image is a valid page we own.
        unsafe { set_special_u32(self.page(), at, value) }
    }

    /// Writes contents after the header (see [`WritePage::set_contents`]).
    pub fn set_contents(&mut self, bytes: &[u8]) {
        // SAFETY: the image is a valid page we own.
        unsafe { set_contents(self.page(), bytes) }
    }

    /// Replaces item `offset` by `bytes`; false when there is no room.
    pub fn replace_item(&mut self, offset: u16, bytes: &[u8]) -> bool {
        // SAFETY: the image is a valid page we own; PageIndexTupleOverwrite
        // checks the offset and the free space and copies `bytes`.
        unsafe {
            pg_sys::PageIndexTupleOverwrite(
                self.page(),
                offset,
                bytes.as_ptr() as pg_sys::Item,
                bytes.len(),
            )
        }
    }
}

/// The blocks a page-spanning element is written to (its own block and
/// those of its chunks, see pageformat), pinned and exclusive-locked in
/// ascending order, replaced by page images in [`Extent::install`] and
/// logged in one WAL record of full-page images, so that a crash or a
/// replica never sees part of an element. Dropped without `install`, it
/// changes nothing.
pub struct Extent<K: PageKind> {
    index: pg_sys::Relation,
    bufs: Vec<pg_sys::Buffer>,
    kind: PhantomData<K>,
}

impl<K: PageKind> Extent<K> {
    /// No blocks yet: [`Extent::lock`] adds them.
    pub fn new(index: pg_sys::Relation) -> Self {
        Extent {
            index,
            bufs: Vec::new(),
            kind: PhantomData,
        }
    }

    /// Pins and exclusive-locks existing `block`, which must come after
    /// every block locked so far (the ascending order of the module note);
    /// returns its position in the extent.
    pub fn lock(&mut self, block: u32) -> usize {
        assert!(
            self.bufs.is_empty() || self.block(self.bufs.len() - 1) < block,
            "extent blocks locked out of order"
        );
        let buf = read_buffer(self.index, block);
        // SAFETY: `buf` is pinned; ascending order (module note).
        unsafe { pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32) };
        self.bufs.push(buf);
        self.bufs.len() - 1
    }

    /// Extends the index by `pages` new blocks in a row and locks them.
    pub fn extend(index: pg_sys::Relation, pages: usize) -> Self {
        let mut extent = Extent {
            index,
            bufs: Vec::with_capacity(pages),
            kind: PhantomData,
        };
        // SAFETY: holding the relation extension lock for all of them makes
        // the new blocks consecutive; nobody else can see them before they
        // are linked from a neighbour list, after `install`.
        unsafe {
            pg_sys::LockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
            for _ in 0..pages {
                let buf = read_buffer(index, pg_sys::InvalidBlockNumber);
                pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
                extent.bufs.push(buf);
            }
            pg_sys::UnlockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
        }
        let first = extent.block(0);
        for (i, &buf) in extent.bufs.iter().enumerate() {
            // SAFETY: the buffers are pinned.
            let block = unsafe { pg_sys::BufferGetBlockNumber(buf) };
            assert_eq!(block, first + i as u32, "extent blocks not consecutive");
        }
        extent
    }

    /// The block at position `i`.
    pub fn block(&self, i: usize) -> u32 {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetBlockNumber(self.bufs[i]) }
    }

    /// A copy of the page at position `i`, to change and install.
    pub fn image(&self, i: usize) -> PageImage<K> {
        let mut image = PageImage::new();
        // SAFETY: the buffer is pinned and locked; both are BLCKSZ bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(
                pg_sys::BufferGetPage(self.bufs[i]) as *const u8,
                image.0.as_mut_ptr() as *mut u8,
                pg_sys::BLCKSZ as usize,
            )
        };
        image
    }

    /// Item `offset` of the extent's `i`-th block, as it is now; an ERROR
    /// (XX002) if its line pointer places it outside the page's items.
    pub fn item(&self, i: usize, offset: u16) -> Option<&[u8]> {
        // SAFETY: the buffer is pinned and locked while `self` lives; a new
        // (all-zero) page has no line pointers, so `item` finds none.
        match unsafe { item(pg_sys::BufferGetPage(self.bufs[i]), offset) } {
            Ok(bytes) => bytes.map(|s| &*s),
            Err(e) => raise_on_block::<K>(self.index, self.block(i), e),
        }
    }

    /// Replaces every block by its image (one per block), WAL-logs them in
    /// one record when the index is permanent (and its WAL not deferred,
    /// see `deferred_wal`), and unlocks.
    pub fn install(self, images: &[PageImage<K>]) {
        assert_eq!(images.len(), self.bufs.len(), "one image per block");
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: every buffer is pinned and exclusive-locked; the page
        // images are BLCKSZ bytes each. Inside the critical section only
        // copies and WAL calls run (nothing that can raise an ERROR but
        // running out of WAL, which is a PANIC anyway, as for every
        // WAL-logged change). The record is what log_newpage_range writes:
        // XLOG_FPI with a forced image of each block, replayed by
        // restoring the images, all or none.
        unsafe {
            let logged = (*(*this.index).rd_rel).relpersistence as u8
                == pg_sys::RELPERSISTENCE_PERMANENT
                && !super::deferred_wal::deferred(this.index);
            if logged && this.bufs.len() > pg_sys::XLR_NORMAL_MAX_BLOCK_ID as usize {
                pg_sys::XLogEnsureRecordSpace(this.bufs.len() as i32 - 1, 0);
            }
            pg_sys::CritSectionCount += 1;
            for (&buf, image) in this.bufs.iter().zip(images) {
                core::ptr::copy_nonoverlapping(
                    image.0.as_ptr() as *const u8,
                    pg_sys::BufferGetPage(buf) as *mut u8,
                    pg_sys::BLCKSZ as usize,
                );
                pg_sys::MarkBufferDirty(buf);
            }
            if logged {
                pg_sys::XLogBeginInsert();
                for (i, &buf) in this.bufs.iter().enumerate() {
                    pg_sys::XLogRegisterBuffer(
                        i as u8,
                        buf,
                        (pg_sys::REGBUF_FORCE_IMAGE | pg_sys::REGBUF_STANDARD) as u8,
                    );
                }
                let lsn =
                    pg_sys::XLogInsert(pg_sys::RmgrIds::RM_XLOG_ID as u8, pg_sys::XLOG_FPI as u8);
                for &buf in &this.bufs {
                    let header = pg_sys::BufferGetPage(buf) as *mut pg_sys::PageHeaderData;
                    (*header).pd_lsn = pg_sys::PageXLogRecPtr {
                        xlogid: (lsn >> 32) as u32,
                        xrecoff: lsn as u32,
                    };
                }
            }
            pg_sys::CritSectionCount -= 1;
            for &buf in &this.bufs {
                pg_sys::UnlockReleaseBuffer(buf);
            }
        }
    }
}

impl<K: PageKind> Drop for Extent<K> {
    fn drop(&mut self) {
        // SAFETY: not installed: the pages were not touched; release them.
        unsafe {
            for &buf in &self.bufs {
                pg_sys::UnlockReleaseBuffer(buf);
            }
        }
    }
}

/// Writes `images` as the init fork of unlogged `index` (blocks 0, 1, ...),
/// each logged as a full page (init forks are always logged).
pub fn write_init_fork<K: PageKind>(index: pg_sys::Relation, images: &[PageImage<K>]) {
    for image in images {
        // SAFETY: a fresh init-fork buffer, overwritten with a formatted
        // image under an exclusive lock and WAL-logged as a full page.
        unsafe {
            let buf = pg_sys::ReadBufferExtended(
                index,
                pg_sys::ForkNumber::INIT_FORKNUM,
                pg_sys::InvalidBlockNumber,
                pg_sys::ReadBufferMode::RBM_NORMAL,
                core::ptr::null_mut(),
            );
            pg_sys::LockBuffer(buf, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
            core::ptr::copy_nonoverlapping(
                image.0.as_ptr() as *const u8,
                pg_sys::BufferGetPage(buf) as *mut u8,
                pg_sys::BLCKSZ as usize,
            );
            pg_sys::MarkBufferDirty(buf);
            pg_sys::log_newpage_buffer(buf, true);
            pg_sys::UnlockReleaseBuffer(buf);
        }
    }
}

/// WAL-logs blocks `start..end` of `index` as full page images when it is
/// permanent (a build that wrote some pages through shared buffers and the
/// rest with `bulk_write`, which logs its own).
pub fn log_pages(index: pg_sys::Relation, start: u32, end: u32) {
    // SAFETY: the index is open and blocks start..end are written.
    unsafe {
        if (*(*index).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT {
            pg_sys::log_newpage_range(index, pg_sys::ForkNumber::MAIN_FORKNUM, start, end, true);
        }
    }
}

/// WAL-logs every block of `index` as a full page image when it is
/// permanent: how a build that wrote its pages without WAL logs them once.
pub fn log_all_pages(index: pg_sys::Relation) {
    // SAFETY: the index is open and its pages are written.
    unsafe {
        let nblocks =
            pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
        if (*(*index).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT {
            pg_sys::log_newpage_range(index, pg_sys::ForkNumber::MAIN_FORKNUM, 0, nblocks, true);
        }
    }
}
