//! New pages of an index build written straight to the relation's storage,
//! past shared buffers, the way Postgres 15's btree build writes its pages
//! (`nbtsort.c`): each page image gets its block number in order, is
//! WAL-logged as a full page with up to 31 others in one record
//! (`log_newpages`) when the index is permanent, checksummed and appended
//! with `smgrextend`; [`BulkWriter::finish`] then fsyncs the fork, since a
//! checkpoint that began after the WAL records would not have written
//! pages that never passed through shared buffers.
//!
//! The pages must be the relation's last blocks, appended in order, and no
//! shared buffer may hold them: only a build that extends the index through
//! this writer alone (after any pages it wrote through buffers) may use it.

use super::buffer::{PageImage, PageKind};
use pgrx::pg_sys;

/// Pages logged together in one WAL record (`XLR_NORMAL_MAX_BLOCK_ID` + 1).
const BATCH: usize = 32;

/// Appends page images to an index's main fork.
pub struct BulkWriter<K: PageKind> {
    index: pg_sys::Relation,
    /// Block number of the next page pushed.
    next: u32,
    /// Pages waiting to be written, with their blocks.
    pending: Vec<(u32, PageImage<K>)>,
    /// Whether pages are WAL-logged (a permanent index).
    logged: bool,
    /// Whether any page was written.
    wrote: bool,
}

impl<K: PageKind> BulkWriter<K> {
    /// A writer appending after the current last block of `index`.
    pub fn new(index: pg_sys::Relation) -> Self {
        // SAFETY: the index is open; reading its persistence and size.
        let (next, logged) = unsafe {
            (
                pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM),
                (*(*index).rd_rel).relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT,
            )
        };
        BulkWriter {
            index,
            next,
            pending: Vec::with_capacity(BATCH),
            logged,
            wrote: false,
        }
    }

    /// The block number the next pushed page gets.
    pub fn next_block(&self) -> u32 {
        self.next
    }

    /// Queues `image` as block [`BulkWriter::next_block`]; returns it.
    pub fn push(&mut self, image: PageImage<K>) -> u32 {
        let block = self.next;
        self.pending.push((block, image));
        self.next += 1;
        if self.pending.len() == BATCH {
            self.flush();
        }
        block
    }

    /// Logs and writes the queued pages.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut blocks: Vec<pg_sys::BlockNumber> = self.pending.iter().map(|(b, _)| *b).collect();
        let mut pages: Vec<pg_sys::Page> = self.pending.iter_mut().map(|(_, p)| p.page()).collect();
        // SAFETY: every page is a formatted BLCKSZ image we own (standard
        // layout: the hole between lower and upper is zero); the blocks
        // continue the fork in order, nobody else sees the index during a
        // build, and no shared buffer holds these blocks. log_newpages sets
        // each page's LSN before the checksum is computed and it is written.
        unsafe {
            if self.logged {
                #[cfg(feature = "pg15")]
                let mut node = (*self.index).rd_node;
                #[cfg(not(feature = "pg15"))]
                let mut node = (*self.index).rd_locator;
                pg_sys::log_newpages(
                    &mut node,
                    pg_sys::ForkNumber::MAIN_FORKNUM,
                    pages.len() as i32,
                    blocks.as_mut_ptr(),
                    pages.as_mut_ptr(),
                    true,
                );
            }
            for (&block, &page) in blocks.iter().zip(&pages) {
                pg_sys::PageSetChecksumInplace(page, block);
                pg_sys::smgrextend(
                    pg_sys::RelationGetSmgr(self.index),
                    pg_sys::ForkNumber::MAIN_FORKNUM,
                    block,
                    page as _,
                    true,
                );
            }
        }
        self.pending.clear();
        self.wrote = true;
    }

    /// Writes what is queued and, for a logged index, fsyncs the fork.
    pub fn finish(mut self) {
        self.flush();
        if self.logged && self.wrote {
            // SAFETY: the index is open; its main fork exists.
            unsafe {
                pg_sys::smgrimmedsync(
                    pg_sys::RelationGetSmgr(self.index),
                    pg_sys::ForkNumber::MAIN_FORKNUM,
                )
            };
        }
    }
}
