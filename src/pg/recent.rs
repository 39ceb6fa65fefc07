//! Remembers, per index block, which shared buffer held it last, so the
//! next read can skip the buffer-mapping lookup.
//!
//! Design note. Reading a page through `ReadBufferExtended` hashes the
//! block's tag, takes a partition lock of the shared buffer-mapping table
//! and probes it: at 2048 dimensions, where a search visits one page per
//! element, that lookup was a sixth of an index scan's time. Postgres'
//! `ReadRecentBuffer` (PG 14+) pins a buffer we name *if* it still holds
//! our block, checking the tag under the buffer-header spinlock, and
//! otherwise reports failure without side effects. So a stale guess costs
//! one failed check and a normal read; it can never return the wrong page.
//!
//! The table is backend-local Rust memory (no Postgres memory, no
//! threads): for each of the last [`MAX_INDEXES`] indexes read, one
//! `Buffer` per block (4 bytes a block, blocks past [`MAX_BLOCKS`] are
//! not remembered). It is keyed by the relation's file node, so a
//! rewritten index (REINDEX, TRUNCATE) starts afresh. Temporary indexes
//! live in local buffers and are read the normal way.

use crate::pgver;
use pgrx::pg_sys;
use std::cell::RefCell;

/// Indexes whose buffers are remembered; the least recently read is forgotten.
const MAX_INDEXES: usize = 8;
/// Blocks remembered per index: the first 8 GiB of it, in at most 4 MiB of
/// table (so a backend holds at most 32 MiB of these tables in all).
const MAX_BLOCKS: usize = 1 << 20;

/// A relation's file node as a comparable key.
type Key = pgver::FileKey;

thread_local! {
    /// Most recently read index first.
    static RECENT: RefCell<Vec<(Key, Vec<pg_sys::Buffer>)>> = const { RefCell::new(Vec::new()) };
}

/// Pins buffer `block` of `index` (not locked), through the remembered
/// buffer when it still holds the block.
pub fn read_buffer(index: pg_sys::Relation, block: u32) -> pg_sys::Buffer {
    // SAFETY: `index` is an open relation, so rd_rel is valid.
    let temp = unsafe {
        (*(*index).rd_rel).relpersistence == pg_sys::RELPERSISTENCE_TEMP as core::ffi::c_char
    };
    if temp || block as usize >= MAX_BLOCKS {
        return read_buffer_normally(index, block);
    }
    let key = pgver::file_key(index);
    let guess = RECENT.with_borrow_mut(|recent| {
        let at = recent.iter().position(|(k, _)| *k == key)?;
        if at != 0 {
            recent[..=at].rotate_right(1);
        }
        recent[0].1.get(block as usize).copied()
    });
    if let Some(buf) = guess.filter(|&b| b != pg_sys::InvalidBuffer as pg_sys::Buffer) {
        // SAFETY: `index` is open and not temporary. Any buffer number is
        // accepted: ReadRecentBuffer pins it only if its header (checked
        // under the header spinlock) holds our block and is valid;
        // otherwise it changes nothing.
        if unsafe { pgver::read_recent_buffer(index, block, buf) } {
            // Counted in pg_statio_*_indexes, as ReadBufferExtended would have.
            pgver::count_buffer_hit(index);
            return buf;
        }
    }
    let buf = read_buffer_normally(index, block);
    if buf > 0 {
        remember(key, block, buf);
    }
    buf
}

/// The buffer that held `block` of `index` when this backend last read
/// it, if remembered (not pinned: it may hold another page by now).
pub fn remembered(index: pg_sys::Relation, block: u32) -> Option<pg_sys::Buffer> {
    let key = pgver::file_key(index);
    RECENT.with_borrow(|recent| {
        let (k, blocks) = recent.first()?;
        let buf = *blocks.get(block as usize)?;
        (*k == key && buf > 0).then_some(buf)
    })
}

/// Records that `buf` holds `block` of the index with file node `key`.
fn remember(key: Key, block: u32, buf: pg_sys::Buffer) {
    RECENT.with_borrow_mut(|recent| {
        if recent.first().is_none_or(|(k, _)| *k != key) {
            if recent.len() >= MAX_INDEXES {
                recent.pop();
            }
            recent.insert(0, (key, Vec::new()));
        }
        let blocks = &mut recent[0].1;
        if blocks.len() <= block as usize {
            blocks.resize(block as usize + 1, pg_sys::InvalidBuffer as pg_sys::Buffer);
        }
        blocks[block as usize] = buf;
    });
}

/// Reads buffer `block` of `index` through the buffer manager (pinned, not locked).
fn read_buffer_normally(index: pg_sys::Relation, block: u32) -> pg_sys::Buffer {
    // SAFETY: `index` is an open relation; an out-of-range block raises ERROR.
    unsafe {
        pg_sys::ReadBufferExtended(
            index,
            pg_sys::ForkNumber::MAIN_FORKNUM,
            block,
            pg_sys::ReadBufferMode::RBM_NORMAL,
            core::ptr::null_mut(),
        )
    }
}
