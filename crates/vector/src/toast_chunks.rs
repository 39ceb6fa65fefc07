//! Reassembling an out-of-line (TOAST) value from its chunks, independent of
//! Postgres: which chunk numbers and sizes a value of a given size must come
//! in, and where each chunk's bytes go when the value is read into a header
//! buffer and an element buffer of its own (one copy per byte).
//!
//! Postgres stores an uncompressed out-of-line value of `size` bytes (its
//! 4-byte length word excluded) as chunks 0, 1, ... of [`toast_max_chunk_size`]
//! bytes each but the last, which holds the rest. The SQL layer reads them in
//! order through the TOAST index and hands each one to [`ChunkPlan::place`];
//! any other number or size is the corruption Postgres itself reports.

use std::fmt;

/// Bytes of chunk data per TOAST chunk for block size `blcksz` (Postgres'
/// `TOAST_MAX_CHUNK_SIZE`: 1,996 for 8 kB blocks): a quarter of a page's
/// tuple space, less a heap tuple header, the chunk id, sequence number and
/// the chunk's own 4-byte length word.
pub const fn toast_max_chunk_size(blcksz: usize) -> usize {
    const MAXALIGN: usize = 8;
    const fn align_up(x: usize) -> usize {
        x.div_ceil(MAXALIGN) * MAXALIGN
    }
    // SizeOfPageHeaderData (24) + 4 line pointers of 4 bytes, MAXALIGNed.
    let tuple_max = (blcksz - align_up(24 + 4 * 4)) / 4 / MAXALIGN * MAXALIGN;
    // MAXALIGN(SizeofHeapTupleHeader = 23), chunk_id, chunk_seq, varlena header.
    tuple_max - align_up(23) - 4 - 4 - 4
}

/// A chunk that does not belong where it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Chunk `got` came where chunk `expected` should.
    UnexpectedNumber { got: i64, expected: usize },
    /// Chunk `seq` of `chunks` holds `got` bytes instead of `expected`.
    UnexpectedSize {
        seq: usize,
        chunks: usize,
        got: usize,
        expected: usize,
    },
    /// The chunks ended before chunk `seq`.
    Missing { seq: usize },
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::UnexpectedNumber { got, expected } => {
                write!(f, "unexpected chunk number {got} (expected {expected})")
            }
            ChunkError::UnexpectedSize {
                seq,
                chunks,
                got,
                expected,
            } => write!(
                f,
                "unexpected chunk size {got} (expected {expected}) in chunk {seq} of {chunks}"
            ),
            ChunkError::Missing { seq } => write!(f, "missing chunk number {seq}"),
        }
    }
}

/// The chunks still expected of one value, in order.
#[derive(Debug, Clone)]
pub struct ChunkPlan {
    size: usize,
    chunk: usize,
    next: usize,
}

impl ChunkPlan {
    /// A value of `size` bytes in chunks of `chunk` bytes (`chunk` > 0).
    pub fn new(size: usize, chunk: usize) -> Self {
        ChunkPlan {
            size,
            chunk,
            next: 0,
        }
    }

    /// Number of chunks the value has.
    pub fn chunks(&self) -> usize {
        self.size.div_ceil(self.chunk)
    }

    /// Byte offset in the value of the next chunk, numbered `seq` and `len`
    /// bytes long, or why it does not fit.
    pub fn place(&mut self, seq: i64, len: usize) -> Result<usize, ChunkError> {
        let chunks = self.chunks();
        if seq != self.next as i64 || self.next >= chunks {
            return Err(ChunkError::UnexpectedNumber {
                got: seq,
                expected: self.next,
            });
        }
        let at = self.next * self.chunk;
        let expected = self.chunk.min(self.size - at);
        if len != expected {
            return Err(ChunkError::UnexpectedSize {
                seq: self.next,
                chunks,
                got: len,
                expected,
            });
        }
        self.next += 1;
        Ok(at)
    }

    /// Ok once every chunk has been placed.
    pub fn finish(&self) -> Result<(), ChunkError> {
        if self.next < self.chunks() {
            return Err(ChunkError::Missing { seq: self.next });
        }
        Ok(())
    }
}

/// Copies `src`, the value's bytes from offset `at`, into `head` (the value's
/// first `head.len()` bytes) and `body` (the rest); false, copying nothing,
/// when `src` runs past the end of both (the caller sized them from the
/// value's size).
pub fn split_copy(at: usize, src: &[u8], head: &mut [u8], body: &mut [u8]) -> bool {
    if at
        .checked_add(src.len())
        .is_none_or(|end| end > head.len() + body.len())
    {
        return false;
    }
    let in_head = head.len().saturating_sub(at).min(src.len());
    if in_head > 0 {
        head[at..at + in_head].copy_from_slice(&src[..in_head]);
    }
    let body_at = (at + in_head) - head.len().min(at + in_head);
    body[body_at..body_at + src.len() - in_head].copy_from_slice(&src[in_head..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_of_8k_blocks_is_postgres() {
        assert_eq!(toast_max_chunk_size(8192), 1996);
        assert_eq!(toast_max_chunk_size(32768), 8140);
    }

    #[test]
    fn plan_accepts_exact_chunks_in_order() {
        let mut p = ChunkPlan::new(4100, 1996);
        assert_eq!(p.chunks(), 3);
        assert_eq!(p.place(0, 1996), Ok(0));
        assert_eq!(p.place(1, 1996), Ok(1996));
        assert_eq!(p.finish(), Err(ChunkError::Missing { seq: 2 }));
        assert_eq!(p.place(2, 108), Ok(3992));
        assert_eq!(p.finish(), Ok(()));
        assert!(matches!(
            p.place(3, 1),
            Err(ChunkError::UnexpectedNumber {
                got: 3,
                expected: 3
            })
        ));
    }

    #[test]
    fn plan_refuses_gaps_and_wrong_sizes() {
        let mut p = ChunkPlan::new(4000, 1996);
        assert!(matches!(
            p.place(1, 1996),
            Err(ChunkError::UnexpectedNumber {
                got: 1,
                expected: 0
            })
        ));
        assert_eq!(
            p.place(0, 1995),
            Err(ChunkError::UnexpectedSize {
                seq: 0,
                chunks: 3,
                got: 1995,
                expected: 1996
            })
        );
        let mut q = ChunkPlan::new(1996, 1996);
        assert_eq!(q.place(0, 1996), Ok(0));
        assert_eq!(q.finish(), Ok(()));
    }

    #[test]
    fn split_copy_straddles_head_and_body() {
        let value: Vec<u8> = (0..20).collect();
        for step in 1..=20 {
            let (mut head, mut body) = ([0u8; 4], [0u8; 16]);
            for at in (0..20).step_by(step) {
                let end = (at + step).min(20);
                assert!(split_copy(at, &value[at..end], &mut head, &mut body));
            }
            assert_eq!(&head[..], &value[..4]);
            assert_eq!(&body[..], &value[4..]);
        }
        let (mut head, mut body) = ([0u8; 4], [0u8; 16]);
        assert!(!split_copy(18, &[1, 2, 3], &mut head, &mut body));
        assert_eq!(body, [0u8; 16]);
    }
}
