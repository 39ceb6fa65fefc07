//! What can be wrong with an index page's bytes, as the checks of
//! [`crate::page`] and [`crate::element`] find it. The extension turns
//! each into an ERROR with SQLSTATE XX002 (index_corrupted) naming the
//! block (and item) it was found on; the texts read after that prefix.

use std::fmt;

/// One problem found in an index page or item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Corruption {
    /// The page header does not describe a page of this index.
    PageHeader {
        /// `pd_lower`.
        lower: u16,
        /// `pd_upper`.
        upper: u16,
        /// `pd_special`.
        special: u16,
    },
    /// The special space does not hold our page id.
    PageId(u16),
    /// A line pointer places its item outside the page's item area.
    LinePointer {
        /// The line pointer's number.
        offset: u16,
        /// Its `lp_off`.
        off: u16,
        /// Its `lp_len`.
        len: u16,
    },
    /// A line pointer not in use (this index never frees one).
    UnusedLinePointer {
        /// The line pointer's number.
        offset: u16,
        /// Its `lp_flags`.
        flags: u8,
    },
    /// Two items share bytes.
    Overlap(u16, u16),
    /// An item whose first byte is neither an element's nor a chunk's.
    ItemKind(u8),
    /// An item too short for its kind.
    TooShort(usize),
    /// An element whose length does not match its level.
    ElementLength {
        /// Bytes of the item.
        len: usize,
        /// The level byte.
        level: u8,
        /// Bytes an element of that level has.
        expected: usize,
    },
    /// An element above the highest level an element may have.
    Level {
        /// The level byte.
        level: u8,
        /// The highest level allowed.
        cap: usize,
    },
    /// More heap TIDs than an element holds.
    HeapTidCount(u8),
    /// A seal (format 4) that does not match what it covers: the heap
    /// TIDs or the vector ([`crate::seal`]).
    Seal(&'static str),
    /// A heap TID no heap row can have (offset 0 or past a page's last,
    /// or block `InvalidBlockNumber`).
    HeapTid {
        /// Heap block.
        block: u32,
        /// Heap line pointer offset.
        offset: u16,
    },
    /// Flag bits this format does not use, or free without deleted.
    Flags(u8),
    /// A live element without heap TIDs, or a deleted one with some.
    TidsAndFlags {
        /// Heap TIDs in use.
        tids: u8,
        /// The flags byte.
        flags: u8,
    },
    /// A scale, error bound or norm that no vector has.
    /// A sparse copy whose indices do not decode to its count of strictly
    /// ascending indices below the dimensions, or with a value zero or not
    /// a number.
    SparseCopy,
    Field {
        /// Which field.
        name: &'static str,
        /// Its value.
        value: f32,
    },
    /// An f16 code that is infinite or NaN (encoding never makes one).
    Code {
        /// Its dimension (in the index's order).
        dim: usize,
        /// The code.
        code: u16,
    },
    /// The block an element says its chunks start at cannot be where they
    /// are (or a whole-page element names one).
    ChunkBlock(u32),
    /// A neighbour slot naming the meta page, or a block past the index's
    /// end (`nblocks` blocks).
    LinkBlock {
        /// Layer of the list.
        lc: usize,
        /// The neighbour's block.
        block: u32,
        /// The neighbour's offset.
        offset: u16,
        /// Blocks of the index.
        nblocks: u32,
    },
    /// A neighbour after an empty slot (lists are written packed).
    LinkAfterEmpty {
        /// Layer of the list.
        lc: usize,
        /// The slot.
        slot: usize,
    },
    /// An item where chunk `number` of the element at `owner` should be
    /// that is not that chunk.
    NotChunk {
        /// The chunk's number.
        number: usize,
        /// The block of the element it belongs to.
        owner: u32,
    },
    /// The f16 copy is farther from the heap row's vector than the error
    /// bound the element stores (or its norm is not the vector's).
    Copy {
        /// Distance between the copy and the vector (or the norm found).
        found: f64,
        /// What the element says it is at most (or its norm).
        bound: f64,
    },
    /// A packed-bit copy differs from the heap row's bits in this many.
    Bits(u64),
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Corruption::*;
        match *self {
            PageHeader {
                lower,
                upper,
                special,
            } => write!(
                f,
                "page header is not an hnsw page's (lower {lower}, upper {upper}, special {special})"
            ),
            PageId(id) => write!(f, "special space holds {id:#06x}, not the hnsw page id"),
            LinePointer { offset, off, len } => write!(
                f,
                "line pointer {offset} places its item outside the page's items \
                 (offset {off}, length {len})"
            ),
            UnusedLinePointer { offset, flags } => {
                write!(f, "line pointer {offset} is not in use (flags {flags})")
            }
            Overlap(a, b) => write!(f, "items {a} and {b} overlap"),
            ItemKind(k) => write!(f, "item of unknown kind {k}"),
            TooShort(len) => write!(f, "item of {len} bytes is too short for its kind"),
            ElementLength {
                len,
                level,
                expected,
            } => write!(
                f,
                "element of {len} bytes at level {level}, where one has {expected}"
            ),
            Level { level, cap } => write!(f, "element at level {level}, above the cap {cap}"),
            HeapTidCount(n) => write!(f, "element with {n} heap TIDs, more than it holds"),
            Seal(what) => write!(f, "element's seal of its {what} does not match (damaged)"),
            HeapTid { block, offset } => write!(f, "invalid heap TID ({block},{offset})"),
            Flags(flags) => write!(f, "element flags {flags:#04x} are not valid"),
            TidsAndFlags { tids, flags } => write!(
                f,
                "element with {tids} heap TIDs and flags {flags:#04x} \
                 (a live element has some, a deleted one none)"
            ),
            Field { name, value } => write!(f, "element's {name} is {value}"),
            SparseCopy => write!(f, "element's sparse copy does not decode"),
            Code { dim, code } => write!(
                f,
                "f16 code {code:#06x} of dimension {dim} is not a finite number"
            ),
            ChunkBlock(block) => write!(f, "element's chunks cannot start at block {block}"),
            LinkBlock {
                lc,
                block,
                offset,
                nblocks,
            } => write!(
                f,
                "neighbour ({block},{offset}) at layer {lc} is not an element block \
                 of the index ({nblocks} blocks)"
            ),
            LinkAfterEmpty { lc, slot } => {
                write!(f, "neighbour slot {slot} at layer {lc} follows an empty one")
            }
            NotChunk { number, owner } => write!(
                f,
                "item is not chunk {number} of the element at block {owner}"
            ),
            Copy { found, bound } => write!(
                f,
                "f16 copy does not match the heap row's vector ({found} against {bound})"
            ),
            Bits(n) => write!(f, "packed bits differ from the heap row's in {n} bits"),
        }
    }
}

impl std::error::Error for Corruption {}
