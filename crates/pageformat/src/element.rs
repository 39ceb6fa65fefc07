//! Element tuples: heap TIDs, neighbour lists and the f16 vector of one node.
//!
//! Layout (little-endian, the item starts MAXALIGNed):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | kind (1 = element) |
//! | 1 | 1 | level |
//! | 2 | 1 | flags (bit 0: deleted, bit 1: free - deleted and unreferenced, reusable) |
//! | 3 | 1 | number of heap TIDs in use |
//! | 4 | 60 | 10 heap TIDs (block u32, offset u16); from format 4, 9 and the element's seals ([`crate::seal`]) |
//! | 64 | 4 | f16 scale (f32) |
//! | 68 | 4 | error bound (f32) |
//! | 72 | 4 | exact norm (f32) |
//! | 76 | 4 | first block of its chunks (0 unless the layout spans pages) |
//! | 80 | 6 x (2m + level m) | neighbour slots, layer 0 first; unused = block u32::MAX |
//! | ... | 2 x inline | f16 codes (all `dims` of them unless the layout spans pages) |
//!
//! An element too wide for one page (see [`ElementLayout::spans`]) keeps
//! the first `inline` codes in its tuple, alone on its block, and the rest
//! in *chunk tuples* on blocks of its *extent*. When the rest is small
//! (up to ~5,800 dimensions at m = 16) the extent holds a *group* of
//! elements, one per block, and one block with the chunk of each of them
//! (item s + 1 for the element on the extent's block s); otherwise it holds
//! one element and then its chunks, one per block, each the block's only
//! item:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | kind (2 = chunk) |
//! | 1 | 1 | reserved (0) |
//! | 2 | 2 | chunk number, 1 to [`ElementLayout::chunks`] |
//! | 4 | 4 | block of the element it belongs to |
//! | 8 | 2 x chunk | f16 codes |
//!
//! An index of 8-bit copies (format 5, `storage = 'i8'`, see
//! [`crate::storage`]) has the same element tuples, with an 8-bit copy
//! (`distance::sq8`) in place of the f16 one: its offset where the first
//! chunk block would be (its elements never span pages: the meta page's
//! check refuses dimensions that would) and one byte a code:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 64 | 4 | scale (f32) |
//! | 68 | 4 | error bound (f32) |
//! | 72 | 4 | exact norm (f32) |
//! | 76 | 4 | offset (f32): the value of code 0 |
//! | 80 | 6 x (2m + level m) | neighbour slots, as above |
//! | ... | dims | 8-bit codes |
//!
//! An index of sparse copies (format 7, `sparsevec`, see
//! [`crate::storage`]) keeps each vector's non-zero elements exactly
//! ([`distance::sparse`]), so its elements differ in size (as elements of
//! different levels do already; a free slot is reused by an element that
//! fits it, see `crate::placement`) and never span pages:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 64 | 4 | non-zero elements `nnz` (u32, at most [`crate::SPARSE_MAX_NNZ`]) |
//! | 68 | 4 | error bound (f32): 0, the copy is exact |
//! | 72 | 4 | exact norm (f32) |
//! | 76 | 4 | bytes of the index gaps `g` (u32) |
//! | 80 | 6 x (2m + level m) | neighbour slots, as above |
//! | ... | 4 nnz | the values (f32) |
//! | ... | g | the gaps between successive indices, LEB128 varints |
//!
//! The vector seal covers the four fields and the values and gaps. A
//! sparse vector whose element would not fit a page at level 0 (more
//! non-zeros than m leaves room for) is refused; one that fits at a lower
//! level than it drew gets that level ([`ElementLayout::sparse_level_cap`]).
//! An index of packed bits (format 6, `bit` columns) has the f16 layout
//! with the bit string's bytes, zero-padded to 64-bit words, in place of
//! the f16 codes (as 2-byte "codes", four a word), scale 1, error bound 0
//! and the norm of the 0/1 vector; it spans pages past 60,736 bits
//! at m = 16, as an f16 element past 3,800 dimensions does.

use crate::seal::{self, SEALED_HEAP_TIDS};
use crate::Corruption;
use crate::Storage;
use distance::half::HalfVector;
use distance::sq8::Sq8Vector;

/// Heap TID slots of an element (identical vectors share an element; a
/// sealed one, format 4 on, holds one less: [`ElementLayout::max_tids`]).
pub const MAX_HEAP_TIDS: usize = 10;
/// Tuple kind byte of an element.
pub const KIND_ELEMENT: u8 = 1;
/// Tuple kind byte of a chunk: more codes of a page-spanning element.
pub const KIND_CHUNK: u8 = 2;
const HEADER: usize = 80;
const CHUNK_HEADER: usize = 8;
const SLOT: usize = 6;
const FLAG_DELETED: u8 = 1;
const FLAG_FREE: u8 = 2;

/// Address of an element: (block, line pointer offset), packed in a u64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementId(u64);

impl ElementId {
    /// The element at `block`, `offset`.
    pub const fn new(block: u32, offset: u16) -> Self {
        ElementId((block as u64) << 16 | offset as u64)
    }
    /// Its block number.
    pub const fn block(self) -> u32 {
        (self.0 >> 16) as u32
    }
    /// Its line pointer offset (1-based).
    pub const fn offset(self) -> u16 {
        self.0 as u16
    }
}

/// A heap tuple address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeapTid {
    /// Heap block.
    pub block: u32,
    /// Heap line pointer offset.
    pub offset: u16,
}

impl HeapTid {
    /// Whether a heap row can have this address: a real block, an offset
    /// from 1 to the most line pointers a heap page holds.
    #[inline]
    pub fn is_valid(&self) -> bool {
        self.block != u32::MAX && (1..=crate::page::MAX_HEAP_OFFSET).contains(&self.offset)
    }
}

/// The kind of an item on an element page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An element tuple.
    Element,
    /// A chunk of a page-spanning element's codes.
    Chunk,
}

/// What `bytes` (an item of an element page) is; an error for an item
/// too short to say or of an unknown kind.
pub fn item_kind(bytes: &[u8]) -> Result<ItemKind, Corruption> {
    match bytes.first() {
        Some(&KIND_ELEMENT) if bytes.len() >= HEADER => Ok(ItemKind::Element),
        Some(&KIND_CHUNK) if bytes.len() >= CHUNK_HEADER => Ok(ItemKind::Chunk),
        Some(&KIND_ELEMENT) | Some(&KIND_CHUNK) => Err(Corruption::TooShort(bytes.len())),
        Some(&k) => Err(Corruption::ItemKind(k)),
        None => Err(Corruption::TooShort(0)),
    }
}

/// Checks that no f16 code of `codes` (dimensions from `first_dim` on) is
/// infinite or NaN: encoding scales every vector into f16's finite range.
pub fn check_codes(codes: &[u16], first_dim: usize) -> Result<(), Corruption> {
    match codes.iter().position(|&c| c & 0x7c00 == 0x7c00) {
        None => Ok(()),
        Some(i) => Err(Corruption::Code {
            dim: first_dim + i,
            code: codes[i],
        }),
    }
}

/// Checks an f16 copy (`codes` times `scale`, with error bound `err` and
/// norm `norm`) against the vector `x` it was made from (in the index's
/// dimension order): within the bound, with the same norm, up to float
/// rounding.
pub fn check_copy(
    x: &[f32],
    codes: &[u16],
    scale: f32,
    err: f32,
    norm: f32,
) -> Result<(), Corruption> {
    if codes.len() != x.len() {
        return Err(Corruption::Copy {
            found: f64::INFINITY,
            bound: err as f64,
        });
    }
    check_decoded(x, &distance::half::decode(codes, scale), err, norm)
}

/// [`check_copy`] for any copy, given decoded (`back`, in the index's
/// dimension order): within the bound `err` of `x`, with the same norm.
pub fn check_decoded(x: &[f32], back: &[f32], err: f32, norm: f32) -> Result<(), Corruption> {
    let codes = back;
    let (mut diff2, mut norm2) = (0f64, 0f64);
    for (&v, &back) in x.iter().zip(back) {
        diff2 += (v as f64 - back as f64).powi(2);
        norm2 += (v as f64).powi(2);
    }
    let (diff, exact) = (diff2.sqrt(), norm2.sqrt());
    let slack = 1e-5 * exact + 1e-30;
    if codes.len() != x.len() || diff > err as f64 * (1.0 + 1e-4) + slack {
        return Err(Corruption::Copy {
            found: diff,
            bound: err as f64,
        });
    }
    if (exact - norm as f64).abs() > slack {
        return Err(Corruption::Copy {
            found: norm as f64,
            bound: exact,
        });
    }
    Ok(())
}

/// Writes a (block, offset) pair into a 6-byte slot.
fn put_slot(b: &mut [u8], block: u32, offset: u16) {
    b[..4].copy_from_slice(&block.to_le_bytes());
    b[4..6].copy_from_slice(&offset.to_le_bytes());
}

/// Writes the heap seal of the sealed element `b` (after its TIDs changed).
fn reseal_heap(b: &mut [u8]) {
    let h = seal::heap_seal(b);
    b[seal::HEAP_SEAL_AT..seal::HEAP_SEAL_AT + 2].copy_from_slice(&h.to_le_bytes());
}

/// Reads a (block, offset) pair from a 6-byte slot.
fn get_slot(b: &[u8]) -> (u32, u16) {
    (
        u32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
        u16::from_le_bytes(b[4..6].try_into().expect("2 bytes")),
    )
}

/// Reads a little-endian f32 at `at`.
fn get_f32(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Whether an item is an element tuple (not a chunk of one).
pub fn is_element(bytes: &[u8]) -> bool {
    bytes.first() == Some(&KIND_ELEMENT)
}

/// Most elements an extent holds (its blocks are logged in one WAL record).
const MAX_GROUP: usize = 16;

/// Sizes and offsets of element tuples for one index (m and dims are fixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementLayout {
    /// Neighbours per element above layer 0.
    pub m: usize,
    /// Vector dimensions: codes of its copies (of a packed-bit layout,
    /// four a 64-bit word of bits, [`Storage::codes_for`]).
    pub dims: usize,
    /// Codes kept in the element tuple itself.
    inline: usize,
    /// Codes per chunk tuple (0 when the element fits one page).
    chunk: usize,
    /// Elements per extent (see the module note).
    group: usize,
    /// Whether elements carry seals (format version 4 on, [`crate::seal`]).
    sealed: bool,
    /// The kind of copy its elements hold (from the format version).
    storage: Storage,
}

impl ElementLayout {
    /// The layout for `m` and `dims` in on-disk format `version` (elements
    /// are sealed from [`seal::SEALED_SINCE`] on; sizes are the same in
    /// every version): one page per element when one at level [`crate::MIN_LEVEL_CAP`] fits
    /// a page, else as many codes in the element tuple as fit beside the
    /// lists of that level and the rest in chunk tuples on following pages.
    ///
    /// An index of 8-bit copies (format 5) never spans pages: its layout
    /// holds every code in the element tuple (its meta page's check keeps
    /// the dimensions to what fits, [`crate::max_single_page_dims_in`]).
    ///
    /// A packed-bit index (format 6) is laid out as an f16 one whose
    /// `dims` ([`ElementLayout::dims`]) are its copy's codes, four a
    /// 64-bit word ([`Storage::codes_for`]).
    pub fn new(m: usize, dims: usize, version: u32) -> Self {
        let sealed = version >= seal::SEALED_SINCE;
        let storage = Storage::of_version(version);
        let dims = storage.codes_for(dims);
        let lists = ElementLayout {
            m,
            dims: 0,
            inline: 0,
            chunk: 0,
            group: 1,
            sealed,
            storage: Storage::Half,
        }
        .size_at(crate::MIN_LEVEL_CAP);
        let room = crate::max_item();
        if lists + storage.code_bytes() * dims <= room || !storage.f16_layout() {
            return ElementLayout {
                m,
                dims,
                inline: dims,
                chunk: 0,
                group: 1,
                sealed,
                storage,
            };
        }
        let inline = (room - lists) / 2;
        let rest = crate::item_footprint(CHUNK_HEADER + 2 * (dims - inline));
        let group = (crate::page_capacity() / rest).min(MAX_GROUP);
        ElementLayout {
            m,
            dims,
            inline,
            chunk: if group > 1 {
                dims - inline
            } else {
                (room - CHUNK_HEADER) / 2
            },
            group: group.max(1),
            sealed,
            storage,
        }
    }

    /// The kind of copy its elements hold.
    pub fn storage(&self) -> Storage {
        self.storage
    }

    /// Heap TIDs one element holds in this format.
    pub fn max_tids(&self) -> usize {
        if self.sealed {
            SEALED_HEAP_TIDS
        } else {
            MAX_HEAP_TIDS
        }
    }

    /// Whether its elements carry seals ([`crate::seal`]).
    pub fn sealed(&self) -> bool {
        self.sealed
    }

    /// Whether elements span pages (are wider than one page holds).
    pub fn spans(&self) -> bool {
        self.chunk != 0
    }

    /// Chunk tuples per element (0 unless it spans pages).
    pub fn chunks(&self) -> usize {
        if self.chunk == 0 {
            0
        } else {
            (self.dims - self.inline).div_ceil(self.chunk)
        }
    }

    /// Elements per extent: several when their chunks share one block.
    pub fn group(&self) -> usize {
        self.group
    }

    /// Blocks of an extent: one per element, then the chunk blocks
    /// (1 for a whole page-fitting element, which has no extent).
    pub fn extent_blocks(&self) -> usize {
        if self.group > 1 {
            self.group + 1
        } else {
            1 + self.chunks()
        }
    }

    /// Where chunk `i` of the element on `head_block`, whose chunks start
    /// at `chunk_block`, lies: (block, offset); None when no extent of this
    /// layout puts them there (the numbers come from a page, so they are
    /// checked, never wrapped: a wrapped block number could name one past
    /// the index's end, and reading that extends the index).
    pub fn chunk_location(
        &self,
        head_block: u32,
        chunk_block: u32,
        i: usize,
    ) -> Option<(u32, u16)> {
        if i == 0 || i > self.chunks() {
            return None;
        }
        let distance = chunk_block.checked_sub(head_block).filter(|&d| d >= 1)? as usize;
        let slot = self.group.checked_sub(distance)?;
        let block = chunk_block.checked_add(u32::try_from(i - 1).ok()?)?;
        (block != u32::MAX).then_some((block, slot as u16 + 1))
    }

    /// The items of a new extent at block `first`, block by block, in
    /// offset order: `places[s]` is the element tuple and whole f16 codes
    /// of the element on the extent's block s, or None for a free place
    /// (only a group has more than one). Sets each element's chunk block
    /// and each chunk's owner; free places get zero codes.
    pub fn extent_items(
        &self,
        first: u32,
        places: &[Option<(&[u8], &[u16])>],
    ) -> Vec<Vec<Vec<u8>>> {
        assert!(
            self.spans() && places.len() == self.group,
            "one entry per place"
        );
        let chunk_block = first + self.group as u32;
        let mut blocks: Vec<Vec<Vec<u8>>> = places
            .iter()
            .map(|place| match place {
                Some((bytes, _)) => {
                    let mut b = bytes.to_vec();
                    self.write(&mut b).set_chunk_block(chunk_block);
                    vec![b]
                }
                None => vec![self.encode_free(chunk_block)],
            })
            .collect();
        let zeros = vec![0u16; self.dims];
        let codes = |s: usize| places[s].map_or(&zeros[..], |(_, c)| c);
        if self.group > 1 {
            blocks.push(
                (0..self.group)
                    .map(|s| self.encode_chunk(first + s as u32, 1, codes(s)))
                    .collect(),
            );
        } else {
            blocks.extend((1..=self.chunks()).map(|i| vec![self.encode_chunk(first, i, codes(0))]));
        }
        blocks
    }

    /// A free element (deleted, unreferenced, no heap TIDs) whose chunks
    /// start at `chunk_block`: holds an unused place in a new extent until
    /// an insert takes it.
    pub fn encode_free(&self, chunk_block: u32) -> Vec<u8> {
        let mut b = vec![0u8; self.size_at(0)];
        b[0] = KIND_ELEMENT;
        b[2] = FLAG_DELETED | FLAG_FREE;
        b[76..80].copy_from_slice(&chunk_block.to_le_bytes());
        for s in 0..self.slots(0) {
            put_slot(&mut b[self.layer_offset(0) + SLOT * s..], u32::MAX, 0);
        }
        b
    }

    /// Bytes of the sparse copy of element `bytes` (a sparse layout):
    /// `4 nnz + g`, None when the fields are past any page.
    fn sparse_payload(bytes: &[u8]) -> Option<usize> {
        let nnz = u32::from_le_bytes(bytes.get(64..68)?.try_into().ok()?) as usize;
        let gaps = u32::from_le_bytes(bytes.get(76..80)?.try_into().ok()?) as usize;
        (nnz <= crate::BLCKSZ && gaps <= crate::BLCKSZ).then_some(4 * nnz + gaps)
    }

    /// The length element `bytes` must have: [`ElementLayout::size_at`]
    /// its level, plus its sparse copy in a sparse layout (None when its
    /// fields say no page could hold it).
    fn expected_len(&self, bytes: &[u8]) -> Option<usize> {
        let head = self.size_at(*bytes.get(1)? as usize);
        if self.storage == Storage::Sparse {
            return Some(head + Self::sparse_payload(bytes)?);
        }
        Some(head)
    }

    /// Highest level an element whose sparse copy takes `payload` bytes
    /// ([`distance::sparse::encoded_len`]) may have to fit one page, at
    /// most `cap`; None when it does not fit even at level 0.
    pub fn sparse_level_cap(&self, payload: usize, cap: usize) -> Option<usize> {
        (0..=cap)
            .take_while(|&l| {
                crate::item_footprint(self.size_at(l) + payload) <= crate::page_capacity()
            })
            .last()
    }

    /// Encodes a new element with no neighbours from the non-zero
    /// elements of a sparse vector, ascending `indices` and their `values`
    /// (a layout of [`Storage::Sparse`]; the caller has checked that it
    /// fits a page at `level`, see [`ElementLayout::sparse_level_cap`]).
    pub fn encode_sparse(
        &self,
        level: usize,
        tids: &[HeapTid],
        indices: &[u32],
        values: &[f32],
    ) -> Vec<u8> {
        assert_eq!(self.storage, Storage::Sparse, "a sparse layout");
        assert!(indices.len() == values.len() && indices.len() <= crate::SPARSE_MAX_NNZ);
        let mut b = self.encode_head(level, tids);
        let gaps = distance::sparse::encode(indices, values, &mut b);
        b[64..68].copy_from_slice(&(indices.len() as u32).to_le_bytes());
        b[68..72].copy_from_slice(&0f32.to_le_bytes());
        b[72..76].copy_from_slice(&distance::sparse::norm(values).to_le_bytes());
        b[76..80].copy_from_slice(&(gaps as u32).to_le_bytes());
        let fields: [u8; 16] = b[64..80].try_into().expect("16 bytes");
        let at = self.codes_at(level);
        let v = seal::vector_seal_sq8(&fields, &b[at..]);
        b[seal::VECTOR_SEAL_AT..seal::VECTOR_SEAL_AT + 4].copy_from_slice(&v.to_le_bytes());
        reseal_heap(&mut b);
        b
    }

    /// Codes stored in the element tuple (all of them unless it spans pages).
    pub fn inline_dims(&self) -> usize {
        self.inline
    }

    /// The codes chunk `i` (1 to [`ElementLayout::chunks`]) holds, as a
    /// range of dimensions.
    pub fn chunk_range(&self, i: usize) -> std::ops::Range<usize> {
        assert!(
            i >= 1 && i <= self.chunks(),
            "chunk {i} of {}",
            self.chunks()
        );
        let start = self.inline + (i - 1) * self.chunk;
        start..(start + self.chunk).min(self.dims)
    }

    /// Encodes chunk `i` of the element at block `owner` from its f16 codes.
    pub fn encode_chunk(&self, owner: u32, i: usize, codes: &[u16]) -> Vec<u8> {
        assert_eq!(codes.len(), self.dims, "vector has the index's dimensions");
        let range = self.chunk_range(i);
        let mut b = vec![0u8; CHUNK_HEADER + 2 * range.len()];
        b[0] = KIND_CHUNK;
        b[2..4].copy_from_slice(&(i as u16).to_le_bytes());
        b[4..8].copy_from_slice(&owner.to_le_bytes());
        for (k, c) in codes[range].iter().enumerate() {
            b[CHUNK_HEADER + 2 * k..CHUNK_HEADER + 2 * k + 2].copy_from_slice(&c.to_le_bytes());
        }
        b
    }

    /// The owner block and chunk number a chunk item names, or None when
    /// `bytes` is not a chunk.
    pub fn chunk_owner(bytes: &[u8]) -> Option<(u32, usize)> {
        (item_kind(bytes) == Ok(ItemKind::Chunk)).then(|| {
            (
                u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
                u16::from_le_bytes([bytes[2], bytes[3]]) as usize,
            )
        })
    }

    /// The codes of chunk `i` of the element at block `owner`, or None when
    /// `bytes` is not that chunk (a sign of corruption, or of a slot whose
    /// writer crashed before it was complete).
    pub fn read_chunk<'a>(
        &self,
        bytes: &'a [u8],
        owner: u32,
        i: usize,
    ) -> Option<std::borrow::Cow<'a, [u16]>> {
        if i == 0 || i > self.chunks() {
            return None;
        }
        let len = self.chunk_range(i).len();
        let ok = bytes.len() == CHUNK_HEADER + 2 * len
            && bytes[0] == KIND_CHUNK
            && u16::from_le_bytes([bytes[2], bytes[3]]) as usize == i
            && u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) == owner;
        ok.then(|| codes_of(&bytes[CHUNK_HEADER..]))
    }

    /// Neighbour slots at layer `lc`.
    pub fn slots(&self, lc: usize) -> usize {
        if lc == 0 {
            2 * self.m
        } else {
            self.m
        }
    }

    /// Byte offset of layer `lc`'s first neighbour slot.
    fn layer_offset(&self, lc: usize) -> usize {
        HEADER + SLOT * (0..lc).map(|l| self.slots(l)).sum::<usize>()
    }

    /// Total bytes of an element tuple at `level`.
    pub fn size_at(&self, level: usize) -> usize {
        self.layer_offset(level + 1) + self.storage.code_bytes() * self.inline
    }

    /// Byte offset of the codes in an element tuple at `level`.
    pub fn codes_at(&self, level: usize) -> usize {
        self.layer_offset(level + 1)
    }

    /// The element tuple's header and empty lists (codes, fields and
    /// seals still to write).
    fn encode_head(&self, level: usize, tids: &[HeapTid]) -> Vec<u8> {
        assert!(
            !tids.is_empty() && tids.len() <= self.max_tids(),
            "1 to {} heap TIDs",
            self.max_tids()
        );
        let mut b = vec![0u8; self.size_at(level)];
        b[0] = KIND_ELEMENT;
        b[1] = u8::try_from(level).expect("level fits a byte");
        b[3] = tids.len() as u8;
        for (i, t) in tids.iter().enumerate() {
            put_slot(&mut b[4 + SLOT * i..], t.block, t.offset);
        }
        for lc in 0..=level {
            for s in 0..self.slots(lc) {
                put_slot(&mut b[self.layer_offset(lc) + SLOT * s..], u32::MAX, 0);
            }
        }
        b
    }

    /// Encodes a new element with no neighbours from its 8-bit copy (a
    /// layout of [`Storage::Sq8`]).
    pub fn encode_sq8(&self, level: usize, tids: &[HeapTid], copy: &Sq8Vector) -> Vec<u8> {
        assert_eq!(self.storage, Storage::Sq8, "an 8-bit layout");
        assert_eq!(
            copy.codes.len(),
            self.dims,
            "vector has the index's dimensions"
        );
        let mut b = self.encode_head(level, tids);
        b[64..68].copy_from_slice(&copy.scale.to_le_bytes());
        b[68..72].copy_from_slice(&copy.err.to_le_bytes());
        b[72..76].copy_from_slice(&copy.norm.to_le_bytes());
        b[76..80].copy_from_slice(&copy.offset.to_le_bytes());
        let at = self.codes_at(level);
        b[at..at + self.dims].copy_from_slice(&copy.codes);
        let fields: [u8; 16] = b[64..80].try_into().expect("16 bytes");
        let v = seal::vector_seal_sq8(&fields, &copy.codes);
        b[seal::VECTOR_SEAL_AT..seal::VECTOR_SEAL_AT + 4].copy_from_slice(&v.to_le_bytes());
        reseal_heap(&mut b);
        b
    }

    /// Encodes a new element with no neighbours.
    pub fn encode(&self, level: usize, tids: &[HeapTid], half: &HalfVector) -> Vec<u8> {
        assert_ne!(self.storage, Storage::Sq8, "an f16 or packed-bit layout");
        assert_eq!(
            half.codes.len(),
            self.dims,
            "vector has the index's dimensions"
        );
        let mut b = self.encode_head(level, tids);
        b[64..68].copy_from_slice(&half.scale.to_le_bytes());
        b[68..72].copy_from_slice(&half.err.to_le_bytes());
        b[72..76].copy_from_slice(&half.norm.to_le_bytes());
        let codes = self.layer_offset(level + 1);
        for (i, c) in half.codes[..self.inline].iter().enumerate() {
            b[codes + 2 * i..codes + 2 * i + 2].copy_from_slice(&c.to_le_bytes());
        }
        if self.sealed {
            let fields: [u8; 12] = b[64..76].try_into().expect("12 bytes");
            let v = seal::vector_seal(&fields, &half.codes);
            b[seal::VECTOR_SEAL_AT..seal::VECTOR_SEAL_AT + 4].copy_from_slice(&v.to_le_bytes());
            reseal_heap(&mut b);
        }
        b
    }

    /// Read access to an element tuple's bytes.
    pub fn read<'a>(&self, bytes: &'a [u8]) -> ElementRef<'a> {
        ElementRef {
            bytes,
            layout: *self,
        }
    }

    /// Checks that `bytes`, an item on `block`, is a well-formed element
    /// of this layout: its length matches its level, its flags and heap
    /// TIDs are ones this format writes, a non-free element's scale, error
    /// bound and norm are numbers a vector has, and its chunks (if it spans
    /// pages) can be where it says. Reads only the header, never past the
    /// item.
    pub fn check_element<'a>(
        &self,
        bytes: &'a [u8],
        block: u32,
    ) -> Result<ElementRef<'a>, Corruption> {
        if item_kind(bytes)? != ItemKind::Element {
            return Err(Corruption::ItemKind(bytes[0]));
        }
        let level = bytes[1];
        let expected = self.expected_len(bytes).unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(Corruption::ElementLength {
                len: bytes.len(),
                level,
                expected,
            });
        }
        let (flags, tids) = (bytes[2], bytes[3]);
        if tids as usize > self.max_tids() {
            return Err(Corruption::HeapTidCount(tids));
        }
        let deleted = flags & FLAG_DELETED != 0;
        if flags & !(FLAG_DELETED | FLAG_FREE) != 0 || (flags & FLAG_FREE != 0 && !deleted) {
            return Err(Corruption::Flags(flags));
        }
        if deleted != (tids == 0) {
            return Err(Corruption::TidsAndFlags { tids, flags });
        }
        let e = self.read(bytes);
        if let Some(t) = e.heap_tids().find(|t| !t.is_valid()) {
            return Err(Corruption::HeapTid {
                block: t.block,
                offset: t.offset,
            });
        }
        if !e.free() {
            e.check_fields()?;
        }
        let chunk_block = e.chunk_block();
        let placed = if !self.storage.f16_layout() {
            true // the field holds the copy's offset or its gaps' bytes
        } else if self.spans() {
            self.chunk_location(block, chunk_block, 1).is_some()
        } else {
            chunk_block == 0
        };
        if !placed {
            return Err(Corruption::ChunkBlock(chunk_block));
        }
        Ok(e)
    }

    /// Checks the neighbour slots of `e` (checked by
    /// [`ElementLayout::check_element`]) in an index of `nblocks` blocks:
    /// every list packed, every neighbour on an element block (not the
    /// meta page, not past the end) at an offset from 1.
    pub fn check_links(&self, e: ElementRef<'_>, nblocks: u32) -> Result<(), Corruption> {
        for lc in 0..=e.level() {
            let start = self.layer_offset(lc);
            let mut empty = false;
            for slot in 0..self.slots(lc) {
                let (block, offset) = get_slot(&e.bytes[start + SLOT * slot..]);
                if block == u32::MAX {
                    empty = true;
                } else if empty {
                    return Err(Corruption::LinkAfterEmpty { lc, slot });
                } else if !crate::page::is_element_block(block, nblocks) || offset == 0 {
                    return Err(Corruption::LinkBlock {
                        lc,
                        block,
                        offset,
                        nblocks,
                    });
                }
            }
        }
        Ok(())
    }

    /// Write access to an element tuple's bytes.
    pub fn write<'a>(&self, bytes: &'a mut [u8]) -> ElementMut<'a> {
        ElementMut {
            bytes,
            layout: *self,
        }
    }
}

/// A read-only view of an element tuple.
#[derive(Clone, Copy)]
pub struct ElementRef<'a> {
    bytes: &'a [u8],
    layout: ElementLayout,
}

impl<'a> ElementRef<'a> {
    /// Whether the bytes are a well-formed element of this layout.
    pub fn is_valid(&self) -> bool {
        self.bytes.len() >= HEADER
            && self.bytes[0] == KIND_ELEMENT
            && Some(self.bytes.len()) == self.layout.expected_len(self.bytes)
            && self.bytes[3] as usize <= self.layout.max_tids()
    }

    /// Checks its seals ([`crate::seal`]; nothing to check before format
    /// 4): the heap seal against its TIDs, and the vector seal against its
    /// scale, error bound, norm, the codes in the tuple and `rest`, the
    /// codes of its chunks (empty unless the layout spans pages).
    pub fn check_seal(&self, rest: &[u16]) -> Result<(), Corruption> {
        if !self.layout.sealed {
            return Ok(());
        }
        if !self.layout.storage.f16_layout() {
            return self.check_seal_sq8();
        }
        let stored = self.check_heap_seal()?;
        let fields: [u8; 12] = self.bytes[64..76].try_into().expect("12 bytes");
        let head = self.head_codes();
        let codes: std::borrow::Cow<'_, [u16]> = if rest.is_empty() {
            head
        } else {
            std::borrow::Cow::Owned([&head[..], rest].concat())
        };
        if codes.len() != self.layout.dims || seal::vector_seal(&fields, &codes) != stored {
            return Err(Corruption::Seal("vector"));
        }
        Ok(())
    }

    /// Checks the heap-TID seal; returns the stored vector seal, for the
    /// caller to compare with the one its codes give.
    fn check_heap_seal(&self) -> Result<u32, Corruption> {
        let stored = u16::from_le_bytes(
            self.bytes[seal::HEAP_SEAL_AT..seal::HEAP_SEAL_AT + 2]
                .try_into()
                .expect("2 bytes"),
        );
        if seal::heap_seal(self.bytes) != stored {
            return Err(Corruption::Seal("heap TIDs"));
        }
        Ok(u32::from_le_bytes(
            self.bytes[seal::VECTOR_SEAL_AT..seal::VECTOR_SEAL_AT + 4]
                .try_into()
                .expect("4 bytes"),
        ))
    }

    /// [`ElementRef::check_seal`] of an element of 8-bit codes or of a
    /// sparse copy (in the tuple, all of it).
    fn check_seal_sq8(&self) -> Result<(), Corruption> {
        let stored = self.check_heap_seal()?;
        let fields: [u8; 16] = self.bytes[64..80].try_into().expect("16 bytes");
        let copy = if self.layout.storage == Storage::Sparse {
            &self.bytes[self.layout.codes_at(self.level())..]
        } else {
            self.sq8_codes()
        };
        if seal::vector_seal_sq8(&fields, copy) != stored {
            return Err(Corruption::Seal("vector"));
        }
        Ok(())
    }

    /// Checks that its scale, error bound and norm are numbers a vector
    /// has (scale positive, the others not negative, all finite): a scan
    /// checks the elements it returns, whose lower bounds come from them.
    #[inline]
    pub fn check_fields(&self) -> Result<(), Corruption> {
        if self.layout.storage == Storage::Sparse {
            let nnz = self.nnz();
            if nnz > crate::SPARSE_MAX_NNZ {
                return Err(Corruption::Field {
                    name: "non-zero count",
                    value: nnz as f32,
                });
            }
            for (name, value) in [("error bound", self.err()), ("norm", self.norm())] {
                if !(value.is_finite() && value >= 0.0) || (name == "error bound" && value != 0.0) {
                    return Err(Corruption::Field { name, value });
                }
            }
            return Ok(());
        }
        for (name, value, least) in [
            ("scale", self.scale(), f32::MIN_POSITIVE),
            ("error bound", self.err(), 0.0),
            ("norm", self.norm(), 0.0),
        ] {
            if !(value.is_finite() && value >= least) {
                return Err(Corruption::Field { name, value });
            }
        }
        if self.layout.storage == Storage::Sq8 && !self.offset().is_finite() {
            return Err(Corruption::Field {
                name: "offset",
                value: self.offset(),
            });
        }
        Ok(())
    }

    /// The element's top layer.
    pub fn level(&self) -> usize {
        self.bytes[1] as usize
    }

    /// Whether vacuum removed all its heap tuples.
    pub fn deleted(&self) -> bool {
        self.bytes[2] & FLAG_DELETED != 0
    }

    /// Whether vacuum found it deleted and unlinked it from every live
    /// element: its slot may be overwritten by a new element.
    pub fn free(&self) -> bool {
        self.bytes[2] & FLAG_FREE != 0
    }

    /// The heap TIDs it stands for.
    pub fn heap_tids(&self) -> impl Iterator<Item = HeapTid> + 'a {
        let b = self.bytes;
        (0..b[3] as usize).map(move |i| {
            let (block, offset) = get_slot(&b[4 + SLOT * i..]);
            HeapTid { block, offset }
        })
    }

    /// Scale of the f16 codes.
    pub fn scale(&self) -> f32 {
        get_f32(self.bytes, 64)
    }

    /// Bound of the f16 rounding error's norm.
    pub fn err(&self) -> f32 {
        get_f32(self.bytes, 68)
    }

    /// Exact norm of the original vector.
    pub fn norm(&self) -> f32 {
        get_f32(self.bytes, 72)
    }

    /// Offset of its 8-bit copy (the value of code 0; an 8-bit layout).
    pub fn offset(&self) -> f32 {
        get_f32(self.bytes, 76)
    }

    /// Its 8-bit codes (an 8-bit layout: all of them, in the tuple).
    pub fn sq8_codes(&self) -> &'a [u8] {
        debug_assert_eq!(self.layout.storage, Storage::Sq8);
        let start = self.layout.layer_offset(self.level() + 1);
        &self.bytes[start..start + self.layout.inline]
    }

    /// Its 8-bit copy decoded into `out` (an 8-bit layout).
    pub fn sq8_decode_into(&self, out: &mut Vec<f32>) {
        let codes = self.sq8_codes();
        out.clear();
        out.resize(codes.len(), 0.0);
        distance::sq8::decode_to(codes, self.scale(), self.offset(), out);
    }

    /// The element tuple's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Non-zero elements of its sparse copy (a sparse layout).
    pub fn nnz(&self) -> usize {
        u32::from_le_bytes(self.bytes[64..68].try_into().expect("4 bytes")) as usize
    }

    /// Its sparse copy (a sparse layout whose element passed
    /// [`ElementRef::is_valid`]; empty otherwise).
    #[inline]
    pub fn sparse(&self) -> distance::sparse::Stored<'a> {
        let start = self.layout.codes_at(self.level()).min(self.bytes.len());
        distance::sparse::Stored::new(&self.bytes[start..], self.nnz())
            .unwrap_or_else(|| distance::sparse::Stored::new(&[], 0).expect("empty"))
    }

    /// Checks its sparse copy in full (a sparse layout): indices strictly
    /// ascending below the layout's dimensions, every byte used, values
    /// finite and non-zero.
    pub fn check_sparse(&self) -> Result<(), Corruption> {
        self.sparse()
            .check(self.layout.dims as u64)
            .filter(|_| self.sparse().nnz() == self.nnz())
            .ok_or(Corruption::SparseCopy)
    }

    /// First block of its chunks (0 unless the layout spans pages; an
    /// 8-bit or sparse layout keeps other fields there and has none).
    pub fn chunk_block(&self) -> u32 {
        if !self.layout.storage.f16_layout() {
            return 0;
        }
        u32::from_le_bytes(self.bytes[76..80].try_into().expect("4 bytes"))
    }

    /// Appends its neighbours at layer `lc` to `out`.
    pub fn neighbours(&self, lc: usize, out: &mut Vec<ElementId>) {
        if lc > self.level() {
            return;
        }
        let start = self.layout.layer_offset(lc);
        for s in 0..self.layout.slots(lc) {
            let (block, offset) = get_slot(&self.bytes[start + SLOT * s..]);
            if block == u32::MAX {
                break;
            }
            out.push(ElementId::new(block, offset));
        }
    }

    /// The f16 codes in the tuple: all of them, or for a page-spanning
    /// layout the first [`ElementLayout::inline_dims`] (the chunks hold the
    /// rest). Borrowed when 2-aligned, as on a page; copied otherwise.
    pub fn head_codes(&self) -> std::borrow::Cow<'a, [u16]> {
        let start = self.layout.layer_offset(self.level() + 1);
        codes_of(&self.bytes[start..start + 2 * self.layout.inline])
    }
}

/// Little-endian u16 codes from raw bytes, borrowed when aligned.
fn codes_of(raw: &[u8]) -> std::borrow::Cow<'_, [u16]> {
    match bytemuck::try_cast_slice(raw) {
        Ok(codes) => std::borrow::Cow::Borrowed(codes),
        Err(_) => std::borrow::Cow::Owned(
            raw.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
    }
}

/// A writable view of an element tuple.
pub struct ElementMut<'a> {
    bytes: &'a mut [u8],
    layout: ElementLayout,
}

impl ElementMut<'_> {
    /// Records where its chunks start (a page-spanning layout).
    pub fn set_chunk_block(&mut self, block: u32) {
        self.bytes[76..80].copy_from_slice(&block.to_le_bytes());
    }

    /// Replaces its neighbours at layer `lc` (extra ones beyond the slots are an error).
    pub fn set_neighbours(&mut self, lc: usize, neighbours: &[ElementId]) {
        assert!(
            lc <= self.bytes[1] as usize,
            "layer above the element's level"
        );
        let slots = self.layout.slots(lc);
        assert!(
            neighbours.len() <= slots,
            "{} neighbours for {slots} slots",
            neighbours.len()
        );
        let start = self.layout.layer_offset(lc);
        for s in 0..slots {
            let (block, offset) = neighbours
                .get(s)
                .map_or((u32::MAX, 0), |n| (n.block(), n.offset()));
            put_slot(&mut self.bytes[start + SLOT * s..], block, offset);
        }
    }

    /// Keeps only the heap TIDs `keep` accepts; marks the element deleted
    /// when none is left. Returns how many were removed.
    pub fn retain_heap_tids(&mut self, mut keep: impl FnMut(HeapTid) -> bool) -> usize {
        let intact = self.heap_seal_intact();
        let n = self.bytes[3] as usize;
        let mut kept = 0;
        for i in 0..n {
            let (block, offset) = get_slot(&self.bytes[4 + SLOT * i..]);
            if keep(HeapTid { block, offset }) {
                put_slot(&mut self.bytes[4 + SLOT * kept..], block, offset);
                kept += 1;
            }
        }
        self.bytes[3] = kept as u8;
        if kept == 0 {
            self.bytes[2] |= FLAG_DELETED;
        }
        if intact {
            reseal_heap(self.bytes);
        }
        n - kept
    }

    /// Marks a deleted element free (reusable); false when it is not deleted.
    pub fn mark_free(&mut self) -> bool {
        if self.bytes[2] & FLAG_DELETED == 0 {
            return false;
        }
        self.bytes[2] |= FLAG_FREE;
        true
    }

    /// Adds a heap TID for an identical vector; false when the element is full or deleted.
    pub fn add_heap_tid(&mut self, tid: HeapTid) -> bool {
        let n = self.bytes[3] as usize;
        if n >= self.layout.max_tids() || self.bytes[2] & FLAG_DELETED != 0 {
            return false;
        }
        let intact = self.heap_seal_intact();
        put_slot(&mut self.bytes[4 + SLOT * n..], tid.block, tid.offset);
        self.bytes[3] += 1;
        if intact {
            reseal_heap(self.bytes);
        }
        true
    }

    /// Whether it is sealed and its heap seal matches: a change of its
    /// TIDs writes a new seal only then, so damage never gets sealed over.
    fn heap_seal_intact(&self) -> bool {
        self.layout.sealed
            && u16::from_le_bytes(
                self.bytes[seal::HEAP_SEAL_AT..seal::HEAP_SEAL_AT + 2]
                    .try_into()
                    .expect("2 bytes"),
            ) == seal::heap_seal(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_read_write_round_trip() {
        let layout = ElementLayout::new(16, 5, crate::FORMAT_VERSION);
        let half = HalfVector::encode(&[1.0, -2.0, 3.5, 0.25, 1e5]);
        let tids = [
            HeapTid {
                block: 9,
                offset: 4,
            },
            HeapTid {
                block: 1,
                offset: 2,
            },
        ];
        let mut b = layout.encode(2, &tids, &half);
        assert_eq!(b.len(), 80 + 6 * (32 + 16 + 16) + 10);
        let e = layout.read(&b);
        assert!(e.is_valid());
        assert_eq!(e.level(), 2);
        assert_eq!(e.heap_tids().collect::<Vec<_>>(), tids);
        assert_eq!(
            (e.scale(), e.err(), e.norm()),
            (half.scale, half.err, half.norm)
        );
        assert_eq!(&*e.head_codes(), &half.codes[..]);
        let mut out = vec![];
        e.neighbours(1, &mut out);
        assert!(out.is_empty());
        let ns: Vec<_> = (0..16).map(|i| ElementId::new(i, i as u16 + 1)).collect();
        layout.write(&mut b).set_neighbours(1, &ns);
        layout.write(&mut b).set_neighbours(0, &ns[..3]);
        let e = layout.read(&b);
        e.neighbours(1, &mut out);
        assert_eq!(out, ns);
        out.clear();
        e.neighbours(0, &mut out);
        assert_eq!(out, &ns[..3]);
        out.clear();
        e.neighbours(2, &mut out);
        assert!(out.is_empty());
        assert_eq!(
            &*layout.read(&b).head_codes(),
            &half.codes[..],
            "neighbours do not clobber codes"
        );
    }

    #[test]
    fn sparse_elements_round_trip_vary_in_size_and_are_checked() {
        let layout = ElementLayout::new(16, 30_522, crate::SPARSE_FORMAT_VERSION);
        assert_eq!(layout.storage(), Storage::Sparse);
        assert!(!layout.spans());
        let tid = HeapTid {
            block: 2,
            offset: 5,
        };
        let (idx, val) = (vec![3u32, 70, 30_521], vec![0.5f32, -2.0, 1e-3]);
        let mut b = layout.encode_sparse(1, &[tid], &idx, &val);
        let payload = distance::sparse::encoded_len(&idx);
        assert_eq!(b.len(), layout.size_at(1) + payload);
        assert_eq!(payload, 12 + 1 + 1 + 3, "gaps 4, 67, 30451");
        let e = layout.check_element(&b, 1).expect("well formed");
        assert!(e.is_valid() && e.check_sparse().is_ok() && e.check_seal(&[]).is_ok());
        assert_eq!(e.nnz(), 3);
        assert_eq!(e.sparse().to_vecs(), (idx.clone(), val.clone()));
        assert_eq!(e.norm(), distance::sparse::norm(&val));
        assert_eq!((e.err(), e.chunk_block()), (0.0, 0));
        // lists do not clobber the copy
        layout
            .write(&mut b)
            .set_neighbours(0, &[ElementId::new(4, 1); 32]);
        assert_eq!(
            layout.read(&b).sparse().to_vecs(),
            (idx.clone(), val.clone())
        );
        // an empty sparse vector is an element too
        let empty = layout.encode_sparse(0, &[tid], &[], &[]);
        assert_eq!(empty.len(), layout.size_at(0));
        assert!(layout.check_element(&empty, 1).is_ok());
        // damage: values, gaps and fields break the seal; a wrong count or
        // length the structure; an index past the dimensions the full check
        let at = layout.codes_at(1);
        for at in [at, at + 12, 64, 72, b.len() - 1] {
            let mut d = b.clone();
            d[at] ^= 0x04;
            assert!(
                layout.read(&d).check_seal(&[]).is_err() || layout.check_element(&d, 1).is_err(),
                "byte {at}"
            );
        }
        let mut count = b.clone();
        count[64] = 4;
        assert!(!layout.read(&count).is_valid());
        assert!(layout.check_element(&count, 1).is_err());
        let small = ElementLayout::new(16, 30_000, crate::SPARSE_FORMAT_VERSION);
        assert_eq!(small.read(&b).check_sparse(), Err(Corruption::SparseCopy));
        let mut gap0 = b.clone();
        gap0[at + 12] = 0;
        assert_eq!(
            layout.read(&gap0).check_sparse(),
            Err(Corruption::SparseCopy)
        );
        let mut err = b.clone();
        err[68..72].copy_from_slice(&1f32.to_le_bytes());
        assert!(matches!(
            layout.check_element(&err, 1),
            Err(Corruption::Field { .. })
        ));
        // levels: 1,000 non-zeros of SPLADE fit at m = 16 (gaps of 2 bytes)
        let full: Vec<u32> = (0..1000).map(|i| i * 30).collect();
        let cap = layout.sparse_level_cap(distance::sparse::encoded_len(&full), 16);
        assert!(cap.is_some_and(|c| c >= 3), "{cap:?}");
        assert_eq!(layout.sparse_level_cap(8200, 16), None);
        assert_eq!(layout.sparse_level_cap(0, 16), Some(16));
    }

    #[test]
    fn older_formats_hold_ten_heap_tids_and_no_seals() {
        let layout = ElementLayout::new(4, 2, 3);
        assert!(!layout.sealed() && layout.max_tids() == MAX_HEAP_TIDS);
        let tids: Vec<_> = (1..=10)
            .map(|o| HeapTid {
                block: 1,
                offset: o,
            })
            .collect();
        let mut b = layout.encode(0, &tids, &HalfVector::encode(&[1.0, 2.0]));
        let e = layout.read(&b);
        assert!(e.is_valid() && layout.check_element(&b, 1).is_ok());
        assert_eq!(e.heap_tids().count(), 10);
        b[70] ^= 1;
        assert!(layout.read(&b).check_seal(&[]).is_ok(), "nothing to check");
        let sealed = ElementLayout::new(4, 2, crate::FORMAT_VERSION);
        assert_eq!(sealed.size_at(1), layout.size_at(1), "same sizes");
        assert!(
            sealed.check_element(&b, 1).is_err(),
            "10 TIDs are too many when sealed"
        );
    }

    #[test]
    fn seals_catch_damaged_tids_fields_and_codes_but_not_links_or_flags() {
        for dims in [5, 6000] {
            let layout = ElementLayout::new(16, dims, crate::FORMAT_VERSION);
            let x: Vec<f32> = (0..dims).map(|i| (i as f32 * 0.37).sin()).collect();
            let half = HalfVector::encode(&x);
            let tid = HeapTid {
                block: 3,
                offset: 7,
            };
            let mut b = layout.encode(1, &[tid], &half);
            let rest = &half.codes[layout.inline_dims()..];
            assert!(layout.read(&b).check_seal(rest).is_ok());
            // Changes through ElementMut keep the seals right.
            assert!(layout.write(&mut b).add_heap_tid(HeapTid {
                block: 4,
                offset: 1
            }));
            layout
                .write(&mut b)
                .set_neighbours(1, &[ElementId::new(2, 1)]);
            assert_eq!(layout.write(&mut b).retain_heap_tids(|t| t.block == 4), 1);
            assert!(layout.read(&b).check_seal(rest).is_ok());
            // Damaged TIDs are never sealed over by a later change.
            let mut damaged = b.clone();
            damaged[5] ^= 1;
            assert!(layout.write(&mut damaged).add_heap_tid(HeapTid {
                block: 5,
                offset: 1
            }));
            assert_eq!(
                layout.read(&damaged).check_seal(rest),
                Err(Corruption::Seal("heap TIDs"))
            );
            // Flags and links are not sealed.
            let mut flags = b.clone();
            flags[2] |= FLAG_DELETED;
            assert!(layout.read(&flags).check_seal(rest).is_ok());
            // Damage anywhere in the TIDs, scale, error bound, norm or codes is caught.
            let codes_at = layout.layer_offset(2);
            for (at, what) in [
                (4, "heap TIDs"),
                (9, "heap TIDs"),
                (3, "heap TIDs"),
                (64, "vector"),
                (69, "vector"),
                (75, "vector"),
                (codes_at, "vector"),
                (b.len() - 1, "vector"),
            ] {
                let mut d = b.clone();
                d[at] ^= 0x10;
                assert_eq!(
                    layout.read(&d).check_seal(rest),
                    Err(Corruption::Seal(what)),
                    "dims {dims}, byte {at}"
                );
            }
            if layout.spans() {
                let mut r = rest.to_vec();
                r[100] ^= 1;
                assert_eq!(
                    layout.read(&b).check_seal(&r),
                    Err(Corruption::Seal("vector"))
                );
                assert!(layout.read(&b).check_seal(&[]).is_err(), "chunks missing");
            }
        }
    }

    #[test]
    fn packed_bit_elements_fit_their_pages_up_to_64000_bits_at_every_m() {
        let v = crate::BITS_FORMAT_VERSION;
        for m in crate::meta::M_RANGE {
            for bits in [1, 64, 1024, 2048, 30_000, 64_000] {
                let layout = ElementLayout::new(m as usize, bits, v);
                assert_eq!(layout.storage(), Storage::Bits);
                assert_eq!(layout.dims, 4 * bits.div_ceil(64));
                let cap = crate::level_cap_in(m as usize, bits, v);
                assert!(cap >= crate::MIN_LEVEL_CAP, "m {m}, {bits} bits: cap {cap}");
                assert!(crate::item_footprint(layout.size_at(cap)) <= crate::page_capacity());
                if layout.spans() {
                    for i in 1..=layout.chunks() {
                        let len = layout.chunk_range(i).len();
                        let per_block = if layout.group() > 1 {
                            layout.group()
                        } else {
                            1
                        };
                        assert!(
                            per_block * crate::item_footprint(CHUNK_HEADER + 2 * len)
                                <= crate::page_capacity()
                        );
                    }
                }
            }
        }
        let small = ElementLayout::new(16, 2048, v);
        assert!(!small.spans());
        let per_page = crate::page_capacity() / crate::item_footprint(small.size_at(0));
        assert_eq!(per_page, 15, "fifteen 2048-bit level-0 elements a page");
        assert!(ElementLayout::new(16, 64_000, v).spans());
        // the widest that fits one page at m = 16 (as the module note says)
        assert!(!ElementLayout::new(16, 60_736, v).spans());
        assert!(ElementLayout::new(16, 60_737, v).spans());
    }

    #[test]
    fn packed_bit_elements_round_trip_and_are_sealed() {
        let v = crate::BITS_FORMAT_VERSION;
        let tid = HeapTid {
            block: 3,
            offset: 7,
        };
        for bits in [5usize, 1024, 64_000] {
            let layout = ElementLayout::new(16, bits, v);
            let x: Vec<f32> = (0..bits).map(|i| f32::from(u8::from(i % 3 == 0))).collect();
            let copy = distance::packed::encode(&x);
            assert_eq!(copy.codes.len(), layout.dims);
            let b = layout.encode(2, &[tid], &copy);
            let e = layout.read(&b);
            assert_eq!((e.scale(), e.err(), e.norm()), (1.0, 0.0, copy.norm));
            let inline = layout.inline_dims();
            assert_eq!(&*e.head_codes(), &copy.codes[..inline]);
            let rest = &copy.codes[inline..];
            assert!(e.check_seal(rest).is_ok());
            assert!(e.check_fields().is_ok());
            // one flipped bit anywhere breaks the vector seal
            let at = if rest.is_empty() {
                inline - 1
            } else {
                rest.len() - 1
            };
            if rest.is_empty() {
                let mut d = b.clone();
                let end = d.len() - 1;
                d[end] ^= 1;
                assert_eq!(
                    layout.read(&d).check_seal(&[]),
                    Err(Corruption::Seal("vector"))
                );
            } else {
                let mut r = rest.to_vec();
                r[at] ^= 1;
                assert_eq!(e.check_seal(&r), Err(Corruption::Seal("vector")));
            }
        }
    }

    #[test]
    fn sq8_elements_round_trip_pack_three_a_page_at_2048_d_and_are_sealed() {
        let v = crate::SQ8_FORMAT_VERSION;
        let layout = ElementLayout::new(16, 2048, v);
        assert_eq!(layout.storage(), Storage::Sq8);
        assert!(!layout.spans());
        let per_page = crate::page_capacity() / crate::item_footprint(layout.size_at(0));
        assert_eq!(per_page, 3, "three level-0 elements a page");
        assert!(crate::level_cap_in(16, 2048, v) >= crate::level_cap(16, 2048));
        assert!(crate::max_single_page_dims_in(16, crate::MIN_LEVEL_CAP, Storage::Sq8) > 7_500);
        let x: Vec<f32> = (0..2048)
            .map(|i| (i as f32 * 0.37).sin().max(0.0))
            .collect();
        let copy = Sq8Vector::encode(&x);
        let tid = HeapTid {
            block: 3,
            offset: 7,
        };
        let mut b = layout.encode_sq8(1, &[tid], &copy);
        assert_eq!(b.len(), 80 + 6 * 48 + 2048);
        let e = layout.check_element(&b, 5).expect("well-formed");
        assert_eq!(e.sq8_codes(), &copy.codes[..]);
        assert_eq!(
            (e.scale(), e.err(), e.norm(), e.offset(), e.chunk_block()),
            (copy.scale, copy.err, copy.norm, copy.offset, 0)
        );
        let mut back = Vec::new();
        e.sq8_decode_into(&mut back);
        assert_eq!(back, copy.decode());
        assert!(check_decoded(&x, &back, e.err(), e.norm()).is_ok());
        assert!(check_decoded(&x, &back, e.err() * 0.5, e.norm()).is_err());
        assert!(e.check_seal(&[]).is_ok());
        layout
            .write(&mut b)
            .set_neighbours(0, &[ElementId::new(2, 1)]);
        assert!(layout.write(&mut b).add_heap_tid(HeapTid {
            block: 4,
            offset: 1
        }));
        assert!(
            layout.read(&b).check_seal(&[]).is_ok(),
            "links are not sealed"
        );
        let codes_at = layout.codes_at(1);
        for (at, what) in [
            (5, "heap TIDs"),
            (64, "vector"),
            (70, "vector"),
            (74, "vector"),
            (78, "vector"),
            (codes_at, "vector"),
            (b.len() - 1, "vector"),
        ] {
            let mut d = b.clone();
            d[at] ^= 0x10;
            assert_eq!(
                layout.read(&d).check_seal(&[]),
                Err(Corruption::Seal(what)),
                "byte {at}"
            );
        }
        let mut bad = b.clone();
        bad[76..80].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(matches!(
            layout.check_element(&bad, 5),
            Err(Corruption::Field { name: "offset", .. })
        ));
        // An f16 layout of the same size reads none of it as its own.
        let half = ElementLayout::new(16, 2048, crate::FORMAT_VERSION);
        assert!(half.check_element(&b, 5).is_err());
    }

    #[test]
    fn heap_tids_and_deletion() {
        let layout = ElementLayout::new(4, 2, crate::FORMAT_VERSION);
        let half = HalfVector::encode(&[1.0, 2.0]);
        let mut b = layout.encode(
            0,
            &[HeapTid {
                block: 1,
                offset: 1,
            }],
            &half,
        );
        for i in 2..=layout.max_tids() as u16 {
            assert!(layout.write(&mut b).add_heap_tid(HeapTid {
                block: 1,
                offset: i
            }));
        }
        assert!(!layout.write(&mut b).add_heap_tid(HeapTid {
            block: 2,
            offset: 1
        }));
        let removed = layout.write(&mut b).retain_heap_tids(|t| t.offset % 2 == 0);
        assert_eq!(removed, 5);
        assert!(!layout.read(&b).deleted());
        assert!(
            !layout.write(&mut b).mark_free(),
            "a live element is never freed"
        );
        assert!(!layout.read(&b).free());
        assert_eq!(layout.write(&mut b).retain_heap_tids(|_| false), 4);
        assert!(layout.read(&b).deleted());
        assert!(!layout.read(&b).free());
        assert!(layout.write(&mut b).mark_free());
        assert!(layout.read(&b).free() && layout.read(&b).deleted());
        assert!(!layout.write(&mut b).add_heap_tid(HeapTid {
            block: 3,
            offset: 1
        }));
    }

    #[test]
    fn ids_pack_block_and_offset() {
        let id = ElementId::new(u32::MAX - 1, 291);
        assert_eq!((id.block(), id.offset()), (u32::MAX - 1, 291));
        assert!(ElementId::new(1, 5) < ElementId::new(2, 1));
    }

    #[test]
    fn resnet_features_fit_one_page() {
        assert!(
            crate::item_footprint(ElementLayout::new(16, 2048, crate::FORMAT_VERSION).size_at(8))
                <= crate::page_capacity()
        );
        assert!(crate::level_cap(16, 2048) >= 8);
        assert!(!ElementLayout::new(16, 2048, crate::FORMAT_VERSION).spans());
        let max = crate::max_single_page_dims(16, crate::MIN_LEVEL_CAP);
        assert_eq!(max, 3796);
        assert!(!ElementLayout::new(16, max, crate::FORMAT_VERSION).spans());
        assert!(ElementLayout::new(16, max + 1, crate::FORMAT_VERSION).spans());
        let lists = ElementLayout::new(16, 0, crate::FORMAT_VERSION).size_at(crate::MIN_LEVEL_CAP);
        let fits = |d: usize| crate::item_footprint(lists + 2 * d) <= crate::page_capacity();
        assert!(fits(max) && !fits(max + 1));
        assert_eq!(
            crate::page_capacity()
                / crate::item_footprint(
                    ElementLayout::new(16, 128, crate::FORMAT_VERSION).size_at(0)
                ),
            15
        );
    }

    /// Elements wider than a page: every layout up to 16,000 dimensions and
    /// m = 100 puts each code in exactly one place (tuple or chunk), every
    /// tuple fits a page at the level cap, a group's chunks fit their shared
    /// block, an extent fits one WAL record, and chunks round-trip.
    #[test]
    fn wide_elements_span_pages() {
        for m in [2usize, 16, 48, 100] {
            let single = crate::max_single_page_dims(m, crate::MIN_LEVEL_CAP);
            for dims in [
                single,
                single + 1,
                4096,
                5800,
                8000,
                12_000,
                crate::MAX_DIMS,
            ] {
                let layout = ElementLayout::new(m, dims, crate::FORMAT_VERSION);
                let pages = layout.chunks() + 1;
                assert!(layout.extent_blocks() <= 32, "m={m} dims={dims}");
                assert_eq!(layout.spans(), dims > single, "m={m} dims={dims}");
                if !layout.spans() {
                    assert_eq!((layout.chunks(), layout.group()), (0, 1));
                    continue;
                }
                if layout.group() > 1 {
                    assert_eq!(layout.chunks(), 1);
                    let item =
                        crate::item_footprint(layout.encode_chunk(1, 1, &vec![0; dims]).len());
                    assert!(
                        item * layout.group() <= crate::page_capacity(),
                        "m={m} dims={dims}"
                    );
                }
                let cap = crate::level_cap(m, dims);
                assert!(cap >= crate::MIN_LEVEL_CAP, "m={m} dims={dims}: cap {cap}");
                assert!(
                    crate::item_footprint(layout.size_at(cap)) <= crate::page_capacity(),
                    "m={m} dims={dims}"
                );
                let mut covered = layout.inline_dims();
                for i in 1..pages {
                    let r = layout.chunk_range(i);
                    assert_eq!(r.start, covered, "chunks follow each other");
                    assert!(!r.is_empty());
                    covered = r.end;
                }
                assert_eq!(covered, dims, "m={m} dims={dims}");
            }
        }
        assert_eq!(
            ElementLayout::new(16, 4096, crate::FORMAT_VERSION).group(),
            13
        );
        assert_eq!(
            ElementLayout::new(16, 4096, crate::FORMAT_VERSION).extent_blocks(),
            14
        );
        assert_eq!(
            ElementLayout::new(16, 6000, crate::FORMAT_VERSION).group(),
            1
        );
        assert_eq!(
            ElementLayout::new(16, crate::MAX_DIMS, crate::FORMAT_VERSION).extent_blocks(),
            4
        );
        assert_eq!(
            ElementLayout::new(48, crate::MAX_DIMS, crate::FORMAT_VERSION).extent_blocks(),
            5
        );
        let layout = ElementLayout::new(16, 9000, crate::FORMAT_VERSION);
        assert_eq!((layout.chunks(), layout.group()), (2, 1));
        let x: Vec<f32> = (0..9000).map(|i| (i as f32 * 0.01).sin()).collect();
        let half = HalfVector::encode(&x);
        let head = layout.encode(
            1,
            &[HeapTid {
                block: 3,
                offset: 7,
            }],
            &half,
        );
        assert!(is_element(&head));
        let e = layout.read(&head);
        assert!(e.is_valid());
        let mut all = e.head_codes().into_owned();
        assert_eq!(all.len(), layout.inline_dims());
        for i in 1..=layout.chunks() {
            let chunk = layout.encode_chunk(42, i, &half.codes);
            assert!(!is_element(&chunk), "a chunk is not an element");
            assert!(crate::item_footprint(chunk.len()) <= crate::page_capacity());
            assert!(layout.read_chunk(&chunk, 41, i).is_none(), "other owner");
            assert!(
                layout.read_chunk(&chunk, 42, 3 - i).is_none(),
                "other number"
            );
            all.extend_from_slice(&layout.read_chunk(&chunk, 42, i).expect("its chunk"));
        }
        assert_eq!(all, half.codes, "the pieces make the whole copy");
        assert!(
            layout.read_chunk(&head, 42, 1).is_none(),
            "an element is not a chunk"
        );
        let chunk = layout.encode_chunk(42, 2, &half.codes);
        assert_eq!(ElementLayout::chunk_owner(&chunk), Some((42, 2)));
        assert_eq!(ElementLayout::chunk_owner(&head), None);
        assert_eq!(ElementLayout::chunk_owner(&chunk[..7]), None);
    }

    /// Where a chunk is: the block after the element's when it has an
    /// extent of its own, item s + 1 of the shared block for the element on
    /// block s of a group; free placeholders read as free and deleted.
    #[test]
    fn chunk_locations_and_free_placeholders() {
        let alone = ElementLayout::new(16, 9000, crate::FORMAT_VERSION);
        assert_eq!(alone.chunk_location(10, 11, 1), Some((11, 1)));
        assert_eq!(alone.chunk_location(10, 11, 2), Some((12, 1)));
        let grouped = ElementLayout::new(16, 4096, crate::FORMAT_VERSION);
        let g = grouped.group() as u32;
        // An extent at block 1: elements on blocks 1..=g, chunks on block g + 1.
        assert_eq!(grouped.chunk_location(1, g + 1, 1), Some((g + 1, 1)));
        assert_eq!(grouped.chunk_location(5, g + 1, 1), Some((g + 1, 5)));
        assert_eq!(grouped.chunk_location(g, g + 1, 1), Some((g + 1, g as u16)));
        let free = grouped.encode_free(g + 1);
        let e = grouped.read(&free);
        assert!(is_element(&free) && e.is_valid() && e.free() && e.deleted());
        assert_eq!(
            (e.level(), e.heap_tids().count(), e.chunk_block()),
            (0, 0, g + 1)
        );
        let mut out = vec![];
        e.neighbours(0, &mut out);
        assert!(out.is_empty());
        let half = HalfVector::encode(&vec![0.5; 4096]);
        let mut b = grouped.encode(
            2,
            &[HeapTid {
                block: 1,
                offset: 1,
            }],
            &half,
        );
        assert_eq!(grouped.read(&b).chunk_block(), 0);
        grouped.write(&mut b).set_chunk_block(77);
        assert_eq!(grouped.read(&b).chunk_block(), 77);
        assert_eq!(
            &*grouped.read(&b).head_codes(),
            &half.codes[..grouped.inline_dims()]
        );
    }

    /// A new extent's items: a group's elements point at its chunk block,
    /// free places fill the rest, and every chunk names its element; a lone
    /// element's chunks follow it block by block.
    #[test]
    fn extent_items_lay_out_groups_and_lone_elements() {
        let grouped = ElementLayout::new(16, 4096, crate::FORMAT_VERSION);
        let g = grouped.group();
        let half = HalfVector::encode(&vec![0.25; 4096]);
        let tid = [HeapTid {
            block: 1,
            offset: 1,
        }];
        let head = grouped.encode(1, &tid, &half);
        let mut places = vec![None; g];
        places[0] = Some((&head[..], &half.codes[..]));
        let blocks = grouped.extent_items(20, &places);
        assert_eq!(blocks.len(), grouped.extent_blocks());
        let chunk_block = 20 + g as u32;
        for (s, items) in blocks[..g].iter().enumerate() {
            assert_eq!(items.len(), 1);
            let e = grouped.read(&items[0]);
            assert!(e.is_valid() && e.chunk_block() == chunk_block);
            assert_eq!(e.free(), s > 0, "place {s}");
        }
        assert_eq!(blocks[g].len(), g, "one chunk per place");
        for (s, chunk) in blocks[g].iter().enumerate() {
            let (b, off) = grouped
                .chunk_location(20 + s as u32, chunk_block, 1)
                .unwrap();
            assert_eq!((b, off as usize), (chunk_block, s + 1));
            assert!(grouped.read_chunk(chunk, 20 + s as u32, 1).is_some());
        }
        let mut whole = grouped.read(&blocks[0][0]).head_codes().into_owned();
        whole.extend_from_slice(&grouped.read_chunk(&blocks[g][0], 20, 1).expect("chunk"));
        assert_eq!(whole, half.codes);

        let lone = ElementLayout::new(16, 9000, crate::FORMAT_VERSION);
        let half = HalfVector::encode(&vec![0.5; 9000]);
        let head = lone.encode(0, &tid, &half);
        let blocks = lone.extent_items(7, &[Some((&head[..], &half.codes[..]))]);
        assert_eq!(blocks.len(), 3);
        assert_eq!(lone.read(&blocks[0][0]).chunk_block(), 8);
        let mut whole = lone.read(&blocks[0][0]).head_codes().into_owned();
        for (i, items) in blocks.iter().enumerate().skip(1) {
            assert_eq!(lone.chunk_location(7, 8, i), Some((7 + i as u32, 1)));
            whole.extend_from_slice(&lone.read_chunk(&items[0], 7, i).expect("chunk"));
        }
        assert_eq!(whole, half.codes);
    }

    /// A level-1 element of `layout` with two heap TIDs and some links.
    fn sample(layout: ElementLayout) -> Vec<u8> {
        let x: Vec<f32> = (0..layout.dims)
            .map(|i| (i as f32 * 0.37).cos() * 3.0)
            .collect();
        let tids = [
            HeapTid {
                block: 4,
                offset: 2,
            },
            HeapTid {
                block: 0,
                offset: 291,
            },
        ];
        let mut b = layout.encode(1, &tids, &HalfVector::encode(&x));
        let ns: Vec<_> = (1..=5).map(|i| ElementId::new(i, i as u16)).collect();
        layout.write(&mut b).set_neighbours(0, &ns);
        layout.write(&mut b).set_neighbours(1, &ns[..2]);
        b
    }

    #[test]
    fn well_formed_elements_pass_their_checks() {
        let layout = ElementLayout::new(16, 128, crate::FORMAT_VERSION);
        let b = sample(layout);
        let e = layout.check_element(&b, 3).expect("valid");
        assert_eq!(layout.check_links(e, 6), Ok(()));
        assert!(matches!(
            layout.check_links(e, 5),
            Err(Corruption::LinkBlock { block: 5, .. })
        ));
        assert_eq!(check_codes(&e.head_codes(), 0), Ok(()));
        let free = layout.encode_free(0);
        assert!(layout.check_element(&free, 3).is_ok());
        let wide = ElementLayout::new(16, 9000, crate::FORMAT_VERSION);
        let mut w = sample(wide);
        assert_eq!(
            wide.check_element(&w, 10).map(|_| ()),
            Err(Corruption::ChunkBlock(0)),
            "a spanning element names its chunks"
        );
        wide.write(&mut w).set_chunk_block(11);
        assert!(wide.check_element(&w, 10).is_ok());
        assert!(
            wide.check_element(&w, 11).is_err(),
            "chunks before the element"
        );
    }

    /// Each way an element's header can be wrong is found, and named.
    #[test]
    fn malformed_elements_are_refused() {
        let layout = ElementLayout::new(16, 128, crate::FORMAT_VERSION);
        let good = sample(layout);
        let spoil = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            layout.check_element(&b, 3).map(|_| ())
        };
        assert_eq!(spoil(&|b| b[0] = 9), Err(Corruption::ItemKind(9)));
        assert_eq!(spoil(&|b| b.truncate(40)), Err(Corruption::TooShort(40)));
        assert!(matches!(
            spoil(&|b| b[1] = 0),
            Err(Corruption::ElementLength { level: 0, .. })
        ));
        assert!(matches!(
            spoil(&|b| b[1] = 255),
            Err(Corruption::ElementLength { level: 255, .. })
        ));
        assert_eq!(spoil(&|b| b[3] = 11), Err(Corruption::HeapTidCount(11)));
        assert_eq!(spoil(&|b| b[2] = 4), Err(Corruption::Flags(4)));
        assert_eq!(
            spoil(&|b| b[2] = FLAG_FREE),
            Err(Corruption::Flags(FLAG_FREE))
        );
        assert!(matches!(
            spoil(&|b| b[2] = FLAG_DELETED),
            Err(Corruption::TidsAndFlags { tids: 2, .. })
        ));
        assert!(matches!(
            spoil(&|b| b[3] = 0),
            Err(Corruption::TidsAndFlags { tids: 0, .. })
        ));
        assert_eq!(
            spoil(&|b| b[3] = 3),
            Err(Corruption::HeapTid {
                block: 0,
                offset: 0
            }),
            "a third TID in a slot never written"
        );
        assert_eq!(
            spoil(&|b| b[4..8].copy_from_slice(&u32::MAX.to_le_bytes())),
            Err(Corruption::HeapTid {
                block: u32::MAX,
                offset: 2
            })
        );
        assert!(matches!(
            spoil(&|b| b[64..68].copy_from_slice(&f32::NAN.to_le_bytes())),
            Err(Corruption::Field { name: "scale", .. })
        ));
        assert!(matches!(
            spoil(&|b| b[68..72].copy_from_slice(&(-1.0f32).to_le_bytes())),
            Err(Corruption::Field {
                name: "error bound",
                ..
            })
        ));
        assert!(matches!(
            spoil(&|b| b[72..76].copy_from_slice(&f32::INFINITY.to_le_bytes())),
            Err(Corruption::Field { name: "norm", .. })
        ));
        assert_eq!(
            spoil(&|b| b[76..80].copy_from_slice(&7u32.to_le_bytes())),
            Err(Corruption::ChunkBlock(7))
        );
        // links: past the end, the meta page, offset 0, after an empty slot
        let link = |slot: usize, block: u32, offset: u16| {
            let mut b = good.clone();
            put_slot(&mut b[HEADER + SLOT * slot..], block, offset);
            let e = layout.check_element(&b, 3).map(|_| ());
            assert_eq!(e, Ok(()), "links are not the element check's");
            layout.check_links(layout.read(&b), 100)
        };
        assert!(matches!(
            link(0, 100, 1),
            Err(Corruption::LinkBlock {
                lc: 0,
                block: 100,
                ..
            })
        ));
        assert!(matches!(
            link(1, 0, 1),
            Err(Corruption::LinkBlock { block: 0, .. })
        ));
        assert!(matches!(
            link(2, 9, 0),
            Err(Corruption::LinkBlock { offset: 0, .. })
        ));
        assert_eq!(
            link(7, 9, 1),
            Err(Corruption::LinkAfterEmpty { lc: 0, slot: 7 })
        );
        assert_eq!(link(4, u32::MAX, 0), Ok(()), "a shorter list");
        assert_eq!(
            link(2, u32::MAX, 0),
            Err(Corruption::LinkAfterEmpty { lc: 0, slot: 3 })
        );
    }

    /// Chunk addresses are computed with checked arithmetic: any numbers a
    /// page may hold give a place inside the extent, or none.
    #[test]
    fn chunk_locations_never_wrap() {
        for dims in [4096, 9000, crate::MAX_DIMS] {
            let layout = ElementLayout::new(16, dims, crate::FORMAT_VERSION);
            let g = layout.group() as u32;
            let edges = [0, 1, 2, g, g + 1, u32::MAX - 2, u32::MAX - 1, u32::MAX];
            for &head in &edges {
                for &chunk_block in &edges {
                    for i in 0..=layout.chunks() + 1 {
                        let Some((b, off)) = layout.chunk_location(head, chunk_block, i) else {
                            continue;
                        };
                        assert!(chunk_block > head && chunk_block - head <= g);
                        assert!(b >= chunk_block && b < u32::MAX);
                        assert!((1..=g as u16).contains(&off));
                    }
                }
            }
            assert_eq!(layout.chunk_location(u32::MAX - 1, u32::MAX, 1), None);
            assert_eq!(layout.chunk_location(5, 4, 1), None);
            assert_eq!(layout.chunk_location(5, 5 + g + 1, 1), None);
        }
        assert_eq!(
            ElementLayout::new(16, 128, crate::FORMAT_VERSION).chunk_location(1, 2, 1),
            None
        );
    }

    /// Random bit flips in an element: its check passes or names a
    /// problem, and whatever passes can be read whole without a panic.
    #[test]
    fn random_flips_are_caught_or_harmless() {
        let mut seed = 0xdead_beef_cafe_f00du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for dims in [3, 128, 9000] {
            let layout = ElementLayout::new(16, dims, crate::FORMAT_VERSION);
            let mut good = sample(layout);
            if layout.spans() {
                layout.write(&mut good).set_chunk_block(2);
            }
            for _ in 0..5_000 {
                let mut b = good.clone();
                for _ in 0..1 + next() % 3 {
                    // most flips in the header and the lists
                    let span = if next() % 4 == 0 {
                        b.len()
                    } else {
                        HEADER + 200
                    };
                    let at = (next() as usize) % span.min(b.len());
                    b[at] ^= 1 << (next() % 8);
                }
                if next() % 16 == 0 {
                    b.truncate((next() as usize) % b.len());
                }
                let Ok(e) = layout.check_element(&b, 1) else {
                    continue;
                };
                let _ = layout.check_links(e, 50);
                let mut out = Vec::new();
                for lc in 0..=e.level() + 1 {
                    e.neighbours(lc, &mut out);
                }
                assert!(e.heap_tids().all(|t| t.is_valid()));
                let _ = check_codes(&e.head_codes(), 0);
                assert!(e.scale() > 0.0 || e.free());
            }
        }
    }

    #[test]
    fn random_flips_in_8_bit_elements_are_caught_or_harmless() {
        // A flip that check_element lets through leaves numbers a scan can
        // use (finite scale, bound, norm, offset) and readable codes; a
        // flip in the fields or codes of a sealed element breaks its seal.
        let mut seed = 0x0123_4567_89ab_cdefu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for dims in [3, 128, 2048] {
            let layout = ElementLayout::new(16, dims, crate::SQ8_FORMAT_VERSION);
            let x: Vec<f32> = (0..dims).map(|i| (i as f32 * 0.61).cos() * 3.0).collect();
            let tid = HeapTid {
                block: 2,
                offset: 5,
            };
            let good = layout.encode_sq8(1, &[tid], &Sq8Vector::encode(&x));
            for _ in 0..5_000 {
                let mut b = good.clone();
                let at = (next() as usize) % b.len();
                b[at] ^= 1 << (next() % 8);
                let Ok(e) = layout.check_element(&b, 1) else {
                    continue;
                };
                assert!(e.heap_tids().all(|t| t.is_valid()));
                assert_eq!(e.sq8_codes().len(), dims);
                assert!(e.scale() > 0.0 && e.offset().is_finite() && e.err().is_finite());
                if (64..80).contains(&at) || at >= layout.codes_at(1) {
                    assert_eq!(
                        e.check_seal(&[]),
                        Err(Corruption::Seal("vector")),
                        "byte {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn codes_and_copies_are_checked() {
        let x: Vec<f32> = (0..300).map(|i| (i as f32).sin() * 40_000.0).collect();
        let half = HalfVector::encode(&x);
        assert_eq!(check_codes(&half.codes, 0), Ok(()));
        assert_eq!(
            check_copy(&x, &half.codes, half.scale, half.err, half.norm),
            Ok(())
        );
        let mut codes = half.codes.clone();
        codes[7] = 0x7c00;
        assert_eq!(
            check_codes(&codes, 10),
            Err(Corruption::Code {
                dim: 17,
                code: 0x7c00
            })
        );
        codes[7] = half.codes[7] ^ 0x8000; // a sign flip keeps the norm
        assert!(check_copy(&x, &codes, half.scale, half.err, half.norm).is_err());
        assert!(check_copy(&x, &half.codes, half.scale, half.err, half.norm * 1.01).is_err());
        assert!(check_copy(&x[..299], &half.codes, half.scale, half.err, half.norm).is_err());
    }
}
