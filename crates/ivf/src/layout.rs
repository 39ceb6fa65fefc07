//! On-disk format of the `ivfflat` index, as plain bytes (no Postgres).
//!
//! # Blocks
//!
//! * Block 0, the meta page: [`Meta`] after the page header.
//! * The centre pages: every list's centre, `lists * dims` little-endian
//!   f32s, as one byte stream cut into pages of [`STREAM_BYTES`] (page
//!   contents after the header, like the meta page), so a centre of any
//!   width (up to 16,000 dimensions) needs no item of its own.
//! * The directory pages: an entry of [`DIR_ENTRY`] bytes a list, the same
//!   kind of stream: the list's *head* block (u32, 0 for an empty list)
//!   and its *insert page* (u32, 0 for none): a page of its chain, after
//!   the head, that vacuum found room on. Inserts change a list's head
//!   and insert page.
//! * List pages: records (one row each), linked into one chain per list
//!   through a block number in the page's special space ([`NEXT_AT`]; 0
//!   ends the chain: block 0 is the meta page, never a list page). A
//!   chain is walked from the head; a new page is put in *front* of the
//!   old head, so a build writes each page once and never comes back to
//!   link it. A page's link never changes once written, and it names an
//!   older page (a lower block) but within one record in pieces.
//!
//! # Space reuse
//!
//! Vacuum deletes dead records in place and then names, for each list,
//! the first page of its chain after the head with room for a record as
//! the list's insert page. An insert (under the list's lock) puts its
//! record there, or on the next page along the chain with room, moving the
//! insert page on; when the chain has none left the insert page becomes 0
//! and records go onto the head page or a new head as before. So an index
//! under churn stays near its size. Records in pieces (one a page) do not
//! reuse space.
//!
//! # Records
//!
//! A record is a heap TID and the row's vector at the precision of the
//! column's type ([`Element`]: float4 for `vector`, half floats for
//! `halfvec`), or with `storage = 'i8'` an 8-bit copy of it
//! ([`Element::Sq8`]: its scale, offset, error bound and norm, then a
//! byte a dimension, `distance::sq8`). A record whose vector fits one item ([`PIECE_BYTES`]: up to
//! 2,036 float4 or 4,072 half dimensions) is one item, many to a page. A wider one is cut into
//! *pieces*, one item each, alone on consecutive pages of the chain
//! (piece 0 first); every piece repeats the TID and says which piece it
//! is, so vacuum can drop pieces one by one and a scan only takes a
//! record whose pieces it saw in order, all of them.

use pageformat::{maxalign, HeapTid, BLCKSZ, LINE_POINTER, PAGE_HEADER, SPECIAL};

/// The u16 at the start of every ivfflat page's special space.
pub const PAGE_ID: u16 = 0xF1F0;
/// Byte offset, inside the special space, of a list page's next block.
pub const NEXT_AT: usize = 4;
/// Block of the meta page.
pub const META_BLOCK: u32 = 0;
/// Identifies an ivfflat meta page.
pub const MAGIC: u32 = 0x6976_6670;
/// Version of this format; bump on any change.
pub const FORMAT_VERSION: u32 = 2;
/// Bytes of a list's directory entry: head block, insert page.
pub const DIR_ENTRY: usize = 8;
/// Bytes of [`Meta`] on the meta page.
pub const META_BYTES: usize = 40;
/// Bytes of stream (centres, directory) one page holds.
pub const STREAM_BYTES: usize = BLCKSZ - PAGE_HEADER - SPECIAL;
/// Largest item a page takes (its MAXALIGNed size and line pointer fit).
pub const MAX_ITEM: usize = (BLCKSZ - PAGE_HEADER - SPECIAL - LINE_POINTER) & !7;
/// Bytes of a record item's header: heap block, heap offset, piece.
pub const RECORD_HEADER: usize = 8;
/// Bytes of vector one record item carries at most.
pub const PIECE_BYTES: usize = MAX_ITEM - RECORD_HEADER;
/// Most lists an index may have (pgvector's bound).
pub const MAX_LISTS: u32 = 32_768;

/// What is wrong with bytes read from an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corrupt {
    /// The meta page is not a valid one of this format.
    Meta(String),
    /// A record item is malformed.
    Record(String),
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Corrupt::Meta(s) => write!(f, "meta page: {s}"),
            Corrupt::Record(s) => write!(f, "record: {s}"),
        }
    }
}

/// The meta page's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// [`MAGIC`].
    pub magic: u32,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Dimensions of every vector.
    pub dims: u32,
    /// Number of lists (and centres).
    pub lists: u32,
    /// The distance's code (`graph::Metric::code`).
    pub metric: u32,
    /// First centre page.
    pub centre_start: u32,
    /// First directory page.
    pub dir_start: u32,
    /// Rows the build indexed (for the planner; inserts do not count).
    pub built_rows: u64,
    /// How list records store a vector's elements ([`Element::code`]).
    pub element: u32,
}

/// Reads the little-endian u32 at `at`.
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl Meta {
    /// A meta page for a new index; the start blocks follow from `lists`
    /// and `dims` (see [`Meta::centre_pages`]).
    pub fn new(dims: u32, lists: u32, metric: u32, element: Element) -> Meta {
        let centre_start = META_BLOCK + 1;
        let centre_pages = stream_pages(centre_bytes(lists, dims, element)) as u32;
        Meta {
            magic: MAGIC,
            version: FORMAT_VERSION,
            dims,
            lists,
            metric,
            centre_start,
            dir_start: centre_start + centre_pages,
            built_rows: 0,
            element: element.code(),
        }
    }

    /// How records store vectors.
    pub fn element_kind(&self) -> Element {
        Element::from_code(self.element).expect("checked by from_bytes")
    }

    /// Bytes of the centre stream.
    pub fn centre_bytes(&self) -> usize {
        centre_bytes(self.lists, self.dims, self.element_kind())
    }

    /// Floats of one centre in memory (`Element::width`).
    pub fn width(&self) -> usize {
        self.element_kind().width(self.dims as usize)
    }

    /// Pages the centres take.
    pub fn centre_pages(&self) -> u32 {
        stream_pages(self.centre_bytes()) as u32
    }

    /// Bytes of the directory stream.
    pub fn dir_bytes(&self) -> usize {
        self.lists as usize * DIR_ENTRY
    }

    /// Pages the directory takes.
    pub fn dir_pages(&self) -> u32 {
        stream_pages(self.dir_bytes()) as u32
    }

    /// First block after the directory (the first list page of a build).
    pub fn first_list_block(&self) -> u32 {
        self.dir_start + self.dir_pages()
    }

    /// The directory page and byte offset of list `list`'s entry (its
    /// head; its insert page 4 bytes on).
    pub fn head_location(&self, list: u32) -> (u32, usize) {
        let at = list as usize * DIR_ENTRY;
        (
            self.dir_start + (at / STREAM_BYTES) as u32,
            at % STREAM_BYTES,
        )
    }

    /// The bytes written on the meta page.
    pub fn to_bytes(&self) -> [u8; META_BYTES] {
        let mut b = [0u8; META_BYTES];
        for (i, v) in [
            self.magic,
            self.version,
            self.dims,
            self.lists,
            self.metric,
            self.centre_start,
            self.dir_start,
            self.element,
        ]
        .iter()
        .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b[32..40].copy_from_slice(&self.built_rows.to_le_bytes());
        b
    }

    /// The fields in `b` (at least [`META_BYTES`]), checked.
    pub fn from_bytes(b: &[u8]) -> Result<Meta, Corrupt> {
        if b.len() < META_BYTES {
            return Err(Corrupt::Meta("too short".into()));
        }
        let m = Meta {
            magic: u32_at(b, 0),
            version: u32_at(b, 4),
            dims: u32_at(b, 8),
            lists: u32_at(b, 12),
            metric: u32_at(b, 16),
            centre_start: u32_at(b, 20),
            dir_start: u32_at(b, 24),
            element: u32_at(b, 28),
            built_rows: u64::from_le_bytes(b[32..40].try_into().expect("8 bytes")),
        };
        if m.magic != MAGIC {
            return Err(Corrupt::Meta(format!("bad magic {:#x}", m.magic)));
        }
        if m.version != FORMAT_VERSION {
            return Err(Corrupt::Meta(format!(
                "unknown format version {}",
                m.version
            )));
        }
        let Some(element) = Element::from_code(m.element) else {
            return Err(Corrupt::Meta(format!("unknown element kind {}", m.element)));
        };
        if m.dims == 0 || m.dims as usize > element.max_dims() {
            return Err(Corrupt::Meta(format!("bad dimensions {}", m.dims)));
        }
        if m.lists == 0 || m.lists > MAX_LISTS {
            return Err(Corrupt::Meta(format!("bad number of lists {}", m.lists)));
        }
        if m.centre_start != META_BLOCK + 1 || m.dir_start != m.centre_start + m.centre_pages() {
            return Err(Corrupt::Meta("centre or directory pages misplaced".into()));
        }
        Ok(m)
    }
}

/// Bytes of the centre stream of `lists` centres of `dims` dimensions:
/// float4s, or for `Bits` the packed words (majority bits, as pgvector
/// keeps bit centres).
pub fn centre_bytes(lists: u32, dims: u32, element: Element) -> usize {
    let per = match element {
        Element::F32 | Element::F16 | Element::Sq8 => dims as usize * 4,
        Element::Bits => element.vector_bytes(dims as usize),
    };
    lists as usize * per
}

/// The directory stream for lists with heads `heads` and no insert pages.
pub fn dir_stream(heads: &[u32]) -> Vec<u8> {
    heads
        .iter()
        .flat_map(|h| h.to_le_bytes().into_iter().chain([0u8; 4]))
        .collect()
}

/// Every list's (head, insert page) in directory stream bytes `b`.
pub fn dir_entries(b: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    b.chunks_exact(DIR_ENTRY)
        .map(|e| (u32_at(e, 0), u32_at(e, 4)))
}

/// Free bytes of a page for one more item (Postgres' `PageGetFreeSpace`),
/// from its header; 0 for a page whose header makes no sense.
pub fn free_bytes(page: &[u8]) -> usize {
    let h = pageformat::PageHeader::read(page);
    (h.upper as usize)
        .saturating_sub(h.lower as usize)
        .saturating_sub(LINE_POINTER)
}

/// Pages a stream of `bytes` takes (at least one).
pub fn stream_pages(bytes: usize) -> usize {
    bytes.div_ceil(STREAM_BYTES).max(1)
}

/// Floats as little-endian bytes.
pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Appends the little-endian floats in `b` (whole floats) to `out`.
pub fn extend_f32(out: &mut Vec<f32>, b: &[u8]) {
    out.extend(
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
    );
}

/// How a record stores a vector's elements: as the column's type holds
/// them, so a scan's distances are exactly the SQL operator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// float4 (`vector`).
    F32,
    /// IEEE half floats (`halfvec`; widened to float4 exactly).
    F16,
    /// Packed bits (`bit`): one bit a dimension, most significant bit of
    /// each byte first, in whole 64-bit words (`distance::packed`), so
    /// 64,000 bits take 8,000 bytes and fit one item. In memory (rows,
    /// centres, queries) a packed vector is held as f32s whose bit
    /// patterns are its bytes ([`Element::prepare`]), never used as
    /// numbers: the code that moves float rows moves these unchanged.
    Bits,
    /// An 8-bit copy (`distance::sq8::Sq8Vector`) of a `vector` or
    /// `halfvec` value: [`SQ8_HEADER`] bytes (scale, offset, error bound,
    /// norm: f32s) then one code a dimension. Approximate: a scan hands on
    /// lower bounds of exact distances and the executor rechecks them. In
    /// memory (rows, centres, queries) vectors are plain f32s.
    Sq8,
}

/// Bytes before the codes of an [`Element::Sq8`] vector.
pub const SQ8_HEADER: usize = 16;

/// An [`Element::Sq8`] vector's stored bytes, read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sq8Record<'a> {
    /// Step between two codes.
    pub scale: f32,
    /// Value of code 0.
    pub offset: f32,
    /// Bound of the copy's error (`distance::sq8`).
    pub err: f32,
    /// Exact norm of the vector.
    pub norm: f32,
    /// One code a dimension.
    pub codes: &'a [u8],
}

impl<'a> Sq8Record<'a> {
    /// The fields of stored bytes `b` (a whole vector); an error where
    /// they are too short or a field is not finite (or the scale not
    /// positive), which a scan's bounds could not survive.
    pub fn read(b: &'a [u8]) -> Result<Sq8Record<'a>, Corrupt> {
        if b.len() < SQ8_HEADER {
            return Err(Corrupt::Record(format!(
                "8-bit vector of {} bytes",
                b.len()
            )));
        }
        let f = |at: usize| f32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        let r = Sq8Record {
            scale: f(0),
            offset: f(4),
            err: f(8),
            norm: f(12),
            codes: &b[SQ8_HEADER..],
        };
        let ok = r.scale.is_finite()
            && r.scale > 0.0
            && r.offset.is_finite()
            && r.err.is_finite()
            && r.err >= 0.0
            && r.norm.is_finite()
            && r.norm >= 0.0;
        if !ok {
            return Err(Corrupt::Record(format!(
                "8-bit vector with scale {}, offset {}, bound {}, norm {}",
                r.scale, r.offset, r.err, r.norm
            )));
        }
        Ok(r)
    }

    /// The approximate values `offset + scale * code`, into `out`.
    pub fn decode_into(&self, out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.codes.len(), 0.0);
        distance::sq8::decode_to(self.codes, self.scale, self.offset, out);
    }
}

impl Element {
    /// The code on the meta page (never renumber).
    pub fn code(self) -> u32 {
        match self {
            Element::F32 => 0,
            Element::F16 => 1,
            Element::Bits => 2,
            Element::Sq8 => 3,
        }
    }

    /// The kind of a meta-page code.
    pub fn from_code(code: u32) -> Option<Element> {
        match code {
            0 => Some(Element::F32),
            1 => Some(Element::F16),
            2 => Some(Element::Bits),
            3 => Some(Element::Sq8),
            _ => None,
        }
    }

    /// Bytes of one stored value (for `Bits`, one f32 of the in-memory
    /// form: 32 bits; for `Sq8`, a code).
    pub fn bytes(self) -> usize {
        match self {
            Element::F32 | Element::Bits => 4,
            Element::F16 => 2,
            Element::Sq8 => 1,
        }
    }

    /// Floats a vector of `dims` dimensions takes in memory (rows,
    /// centres, queries): `dims`, or for `Bits` its packed words' bytes
    /// over four.
    pub fn width(self, dims: usize) -> usize {
        match self {
            Element::F32 | Element::F16 | Element::Sq8 => dims,
            Element::Bits => distance::packed::words(dims) * distance::packed::WORD_BYTES / 4,
        }
    }

    /// Bytes of a stored vector of `dims` dimensions.
    pub fn vector_bytes(self, dims: usize) -> usize {
        match self {
            Element::F32 | Element::F16 => dims * self.bytes(),
            Element::Sq8 => SQ8_HEADER + dims,
            Element::Bits => self.width(dims) * 4,
        }
    }

    /// Most dimensions an index of this kind takes.
    pub fn max_dims(self) -> usize {
        match self {
            Element::F32 | Element::F16 | Element::Sq8 => pageformat::MAX_DIMS,
            Element::Bits => pageformat::MAX_BIT_DIMS,
        }
    }

    /// Whether vectors are packed bits (measured by Hamming distance on
    /// their bytes, not as numbers).
    pub fn is_bits(self) -> bool {
        self == Element::Bits
    }

    /// Column value `v` in its in-memory form: `v` itself, or for `Bits`
    /// (`v` a bit string read as 0/1 floats) its packed words as f32 bit
    /// patterns, written into `out`.
    pub fn prepare<'a>(self, v: &'a [f32], out: &'a mut Vec<f32>) -> &'a [f32] {
        match self {
            Element::F32 | Element::F16 | Element::Sq8 => v,
            Element::Bits => {
                let packed = distance::packed::pack_floats(v);
                out.clear();
                extend_f32(out, &packed);
                out
            }
        }
    }

    /// A vector's bytes as records store it (for `F16`, values a halfvec
    /// held, which convert exactly; for `Sq8`, its 8-bit copy).
    pub fn encode(self, v: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(v, &mut out);
        out
    }

    /// [`Element::encode`] written over `out`.
    pub fn encode_into(self, v: &[f32], out: &mut Vec<u8>) {
        out.clear();
        match self {
            Element::F32 | Element::Bits => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            Element::F16 => {
                use half::slice::HalfFloatSliceExt;
                let mut h = vec![half::f16::ZERO; v.len()];
                h.convert_from_f32_slice(v); // SIMD where the CPU has F16C
                out.extend(h.iter().flat_map(|x| x.to_le_bytes()));
            }
            Element::Sq8 => {
                let s = distance::sq8::Sq8Vector::encode(v);
                for x in [s.scale, s.offset, s.err, s.norm] {
                    out.extend_from_slice(&x.to_le_bytes());
                }
                out.extend_from_slice(&s.codes);
            }
        }
    }

    /// Whether records hold approximate copies (a scan's distances are
    /// lower bounds, rechecked by the executor).
    pub fn is_approximate(self) -> bool {
        self == Element::Sq8
    }

    /// Appends the values of stored bytes `b` (whole elements) to `out`
    /// (not for `Sq8`, whose pieces are assembled as bytes: see
    /// [`Assembler`]).
    fn extend(self, out: &mut Vec<f32>, b: &[u8]) {
        match self {
            Element::F32 | Element::Bits => extend_f32(out, b),
            Element::F16 => {
                let mut wide = Vec::new();
                decode_halves(b, &mut wide);
                out.extend_from_slice(&wide);
            }
            Element::Sq8 => unreachable!("8-bit records are assembled as bytes"),
        }
    }

    /// The values of stored bytes `b`: borrowed where they are aligned
    /// float4s, else decoded into `scratch` (not for `Sq8`: read its
    /// bytes with [`Sq8Record::read`]).
    pub fn values<'a>(self, b: &'a [u8], scratch: &'a mut Vec<f32>) -> &'a [f32] {
        if self != Element::F16 {
            #[cfg(target_endian = "little")]
            if let Ok(v) = bytemuck::try_cast_slice::<u8, f32>(b) {
                return v;
            }
        }
        match self {
            Element::F32 | Element::Bits => {
                scratch.clear();
                extend_f32(scratch, b);
            }
            Element::F16 => decode_halves(b, scratch),
            Element::Sq8 => unreachable!("8-bit records are read with Sq8Record::read"),
        }
        scratch
    }
}

/// Stored half floats `b` as f16 bit patterns, borrowed: None where they
/// are not 2-aligned or the target is big-endian (the caller widens them
/// with [`Element::values`] instead).
pub fn halves(b: &[u8]) -> Option<&[u16]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice::<u8, u16>(b).ok()
    } else {
        None
    }
}

/// The half floats in `b` (little-endian) widened into `out` (replacing
/// its contents) with the distance crate's SIMD decoder (exact: a scale
/// of 1).
fn decode_halves(b: &[u8], out: &mut Vec<f32>) {
    let copy: Vec<u16>;
    let bits: &[u16] = match bytemuck::try_cast_slice::<u8, u16>(b) {
        Ok(bits) if cfg!(target_endian = "little") => bits,
        _ => {
            copy = b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            &copy
        }
    };
    // A scan reuses `out` for rows of one length: resized once, then
    // written over without zero-filling.
    if out.len() != bits.len() {
        out.clear();
        out.resize(bits.len(), 0.0);
    }
    distance::half::decode_to(bits, 1.0, out);
}

/// How an index of `dims` dimensions cuts its records into items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLayout {
    /// How elements are stored.
    pub element: Element,
    /// Bytes of one vector.
    pub vector_bytes: usize,
    /// Items per record.
    pub pieces: usize,
}

impl RecordLayout {
    /// The layout for vectors of `dims` elements stored as `element`.
    pub fn new(dims: usize, element: Element) -> RecordLayout {
        let vector_bytes = element.vector_bytes(dims);
        RecordLayout {
            element,
            vector_bytes,
            // Pieces end on whole elements: PIECE_BYTES is a multiple of 4.
            pieces: vector_bytes.div_ceil(PIECE_BYTES).max(1),
        }
    }

    /// Whether a record spans pages (one piece per page).
    pub fn spans(&self) -> bool {
        self.pieces > 1
    }

    /// The bytes of the vector piece `i` carries.
    pub fn piece_range(&self, i: usize) -> std::ops::Range<usize> {
        let start = i * PIECE_BYTES;
        start..(start + PIECE_BYTES).min(self.vector_bytes)
    }

    /// The items of one record, piece 0 first.
    pub fn encode(&self, tid: HeapTid, vector: &[u8]) -> Vec<Vec<u8>> {
        (0..self.pieces)
            .map(|i| {
                let mut b = Vec::new();
                self.piece_into(tid, i, vector, &mut b);
                b
            })
            .collect()
    }

    /// Item `i` of a record, written over `out` (a build reuses one buffer).
    pub fn piece_into(&self, tid: HeapTid, i: usize, vector: &[u8], out: &mut Vec<u8>) {
        assert_eq!(vector.len(), self.vector_bytes, "vector of the wrong size");
        out.clear();
        out.extend_from_slice(&tid.block.to_le_bytes());
        out.extend_from_slice(&tid.offset.to_le_bytes());
        out.extend_from_slice(&(i as u16).to_le_bytes());
        out.extend_from_slice(&vector[self.piece_range(i)]);
    }

    /// The TID, piece number and vector bytes of a record item, checked.
    pub fn decode<'a>(&self, item: &'a [u8]) -> Result<(HeapTid, usize, &'a [u8]), Corrupt> {
        if item.len() < RECORD_HEADER {
            return Err(Corrupt::Record(format!("item of {} bytes", item.len())));
        }
        let tid = HeapTid {
            block: u32_at(item, 0),
            offset: u16::from_le_bytes([item[4], item[5]]),
        };
        let piece = u16::from_le_bytes([item[6], item[7]]) as usize;
        if piece >= self.pieces {
            return Err(Corrupt::Record(format!("piece {piece} of {}", self.pieces)));
        }
        let body = &item[RECORD_HEADER..];
        if body.len() != self.piece_range(piece).len() {
            return Err(Corrupt::Record(format!(
                "piece {piece} has {} bytes, not {}",
                body.len(),
                self.piece_range(piece).len()
            )));
        }
        Ok((tid, piece, body))
    }

    /// Free bytes a page needs to take one more one-item record.
    pub fn footprint(&self) -> usize {
        maxalign(RECORD_HEADER + self.vector_bytes) + LINE_POINTER
    }

    /// The TID of a record item (for vacuum), checked like [`Self::decode`].
    pub fn tid(&self, item: &[u8]) -> Result<HeapTid, Corrupt> {
        self.decode(item).map(|(t, _, _)| t)
    }
}

/// Puts records back together from the items of a chain, read in order.
#[derive(Debug)]
pub struct Assembler {
    layout: RecordLayout,
    /// The TID of the record being assembled and the next piece expected.
    partial: Option<(HeapTid, usize)>,
    /// The vector so far (the whole vector once complete).
    values: Vec<f32>,
    /// For `Sq8` records, the stored bytes so far instead.
    raw: Vec<u8>,
}

impl Assembler {
    /// An assembler for records of `layout`.
    pub fn new(layout: RecordLayout) -> Assembler {
        Assembler {
            layout,
            partial: None,
            values: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// Takes the next item of the chain; the record's TID once this item
    /// completes one (its vector is then [`Assembler::vector`]). A piece
    /// out of sequence (its record was partly vacuumed) drops the record.
    pub fn feed(&mut self, item: &[u8]) -> Result<Option<HeapTid>, Corrupt> {
        let (tid, piece, body) = self.layout.decode(item)?;
        let expected = match self.partial {
            Some((t, next)) if t == tid => next,
            _ => 0,
        };
        if piece != expected {
            self.partial = None;
            return Ok(None);
        }
        if piece == 0 {
            self.values.clear();
            self.raw.clear();
        }
        if self.layout.element == Element::Sq8 {
            self.raw.extend_from_slice(body);
        } else {
            self.layout.element.extend(&mut self.values, body);
        }
        if piece + 1 == self.layout.pieces {
            self.partial = None;
            Ok(Some(tid))
        } else {
            self.partial = Some((tid, piece + 1));
            Ok(None)
        }
    }

    /// The vector of the record [`Assembler::feed`] completed last
    /// (empty for `Sq8` records: see [`Assembler::bytes`]).
    pub fn vector(&self) -> &[f32] {
        &self.values
    }

    /// The stored bytes of the `Sq8` record [`Assembler::feed`] completed
    /// last (empty for other kinds).
    pub fn bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Forgets a record in progress (a new chain starts).
    pub fn reset(&mut self) {
        self.partial = None;
    }
}

/// Rows a sample holds per list, up to 10,000 rows (k-means' cost grows
/// with rows times dimensions; more rows a list changed no list much).
const SAMPLE_PER_LIST: usize = 256;

/// Rows a build samples for k-means: 50 a list, and 256 a list up to
/// 10,000 rows when that is more (`SAMPLE_PER_LIST`), fewer
/// when they would not fit `memory` bytes beside k-means' own memory
/// (`crate::memory_bytes`) and the centres; None when not even one row
/// fits.
pub fn sample_rows(lists: usize, dims: usize, spherical: bool, memory: u64) -> Option<usize> {
    let target = (lists * 50).max((lists * SAMPLE_PER_LIST).min(10_000));
    let fixed = crate::memory_bytes(0, dims, lists, spherical) + (lists * dims * 4) as u64;
    let per_row = crate::memory_bytes(1, dims, lists, spherical)
        - crate::memory_bytes(0, dims, lists, spherical)
        + (dims * 4) as u64;
    let fit = memory.checked_sub(fixed)? / per_row;
    (fit >= 1).then(|| target.min(fit as usize))
}

/// The lists a scan opens in its `batch`-th round (0 first): `probes` at a
/// time along the nearest-first order of `lists` lists, up to `max` lists
/// in all (at least `probes`); empty when there is nothing left.
pub fn probe_batch(
    batch: usize,
    probes: usize,
    max: usize,
    lists: usize,
) -> std::ops::Range<usize> {
    let probes = probes.clamp(1, lists.max(1));
    let limit = max.max(probes).min(lists);
    let start = (batch * probes).min(limit);
    start..(start + probes).min(limit)
}

/// Maximum items of one record layout on a page, for estimates.
pub fn records_per_page(layout: &RecordLayout) -> usize {
    if layout.spans() {
        return 1;
    }
    let item = maxalign(RECORD_HEADER + layout.vector_bytes) + LINE_POINTER;
    (STREAM_BYTES / item).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_borrow_the_stored_bit_patterns() {
        let v = [1.5f32, -2.0, 65504.0, 0.0, 3.25];
        let bytes = Element::F16.encode(&v);
        // A u16-aligned copy (a record body on a page is MAXALIGNed + 8).
        let words: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let aligned: &[u8] = bytemuck::cast_slice(&words);
        let got = halves(aligned).expect("aligned little-endian halves");
        assert_eq!(got, &words[..]);
        let widened: Vec<f32> = got
            .iter()
            .map(|&h| half::f16::from_bits(h).to_f32())
            .collect();
        assert_eq!(widened, v);
        // An odd start cannot be borrowed: the caller widens a copy.
        let mut odd = vec![0u8; aligned.len() + 1];
        odd[1..].copy_from_slice(aligned);
        assert!(halves(&odd[1..]).is_none());
    }

    #[test]
    fn meta_round_trip_and_checks() {
        let mut m = Meta::new(128, 100, 2, Element::F16);
        m.built_rows = 12345;
        let b = m.to_bytes();
        assert_eq!(Meta::from_bytes(&b), Ok(m));
        assert_eq!(m.centre_start, 1);
        assert_eq!(
            m.centre_pages(),
            (100 * 128 * 4usize).div_ceil(STREAM_BYTES) as u32
        );
        assert_eq!(m.dir_start, 1 + m.centre_pages());
        let mut bad = b;
        bad[0] ^= 1;
        assert!(Meta::from_bytes(&bad).is_err());
        let mut bad = b;
        bad[28..32].copy_from_slice(&7u32.to_le_bytes());
        assert!(Meta::from_bytes(&bad).is_err());
        let mut bad = b;
        bad[12..16].copy_from_slice(&0u32.to_le_bytes());
        assert!(Meta::from_bytes(&bad).is_err());
        assert!(Meta::from_bytes(&b[..10]).is_err());
    }

    #[test]
    fn head_locations_cover_the_directory() {
        let m = Meta::new(3, 5000, 0, Element::F32);
        assert_eq!(m.dir_pages(), 5);
        assert_eq!(m.head_location(0), (m.dir_start, 0));
        assert_eq!(m.head_location(1), (m.dir_start, 8));
        let per_page = STREAM_BYTES / DIR_ENTRY;
        assert_eq!(m.head_location(per_page as u32), (m.dir_start + 1, 0));
        assert_eq!(m.head_location(4999).0, m.dir_start + 4);
        assert_eq!(m.first_list_block(), m.dir_start + 5);
        let stream = dir_stream(&[7, 0, 9]);
        assert_eq!(stream.len(), 3 * DIR_ENTRY);
        assert_eq!(
            dir_entries(&stream).collect::<Vec<_>>(),
            [(7, 0), (0, 0), (9, 0)]
        );
    }

    #[test]
    fn items_fit_a_page() {
        // The largest item and its line pointer fit an empty page.
        assert!(maxalign(MAX_ITEM) + LINE_POINTER <= STREAM_BYTES);
        assert!(maxalign(MAX_ITEM + 1) + LINE_POINTER > STREAM_BYTES);
        // pgvector's limits stay one item: 2,000 float4 dimensions.
        assert_eq!(RecordLayout::new(2000, Element::F32).pieces, 1);
        assert_eq!(RecordLayout::new(PIECE_BYTES / 4, Element::F32).pieces, 1);
        assert_eq!(
            RecordLayout::new(PIECE_BYTES / 4 + 1, Element::F32).pieces,
            2
        );
        assert_eq!(RecordLayout::new(16_000, Element::F32).pieces, 8);
        assert_eq!(RecordLayout::new(4000, Element::F16).pieces, 1);
        assert_eq!(RecordLayout::new(16_000, Element::F16).pieces, 4);
        assert_eq!(
            records_per_page(&RecordLayout::new(3, Element::F32)),
            8160 / 28
        );
        assert_eq!(RecordLayout::new(3, Element::F32).footprint(), 28);
        let mut page = vec![0u8; BLCKSZ];
        page[12..14].copy_from_slice(&32u16.to_le_bytes());
        page[14..16].copy_from_slice(&8000u16.to_le_bytes());
        assert_eq!(free_bytes(&page), 8000 - 32 - 4);
        page[14..16].copy_from_slice(&30u16.to_le_bytes());
        assert_eq!(free_bytes(&page), 0);
    }

    #[test]
    fn records_round_trip_in_pieces() {
        for (dims, element) in [1usize, 3, 2000, 2037, 5000, 16_000]
            .into_iter()
            .flat_map(|d| [(d, Element::F32), (d, Element::F16)])
        {
            let layout = RecordLayout::new(dims, element);
            // Values a halfvec can hold exactly, so F16 round-trips too.
            let v: Vec<f32> = (0..dims).map(|i| (i % 512) as f32 * 0.5 - 7.0).collect();
            let tid = HeapTid {
                block: 77,
                offset: 3,
            };
            let items = layout.encode(tid, &element.encode(&v));
            assert_eq!(items.len(), layout.pieces);
            let mut a = Assembler::new(layout);
            for (i, item) in items.iter().enumerate() {
                assert!(item.len() <= MAX_ITEM);
                let got = a.feed(item).unwrap();
                if i + 1 == items.len() {
                    assert_eq!(got, Some(tid));
                } else {
                    assert_eq!(got, None);
                }
            }
            assert_eq!(a.vector(), &v[..]);
        }
    }

    #[test]
    fn a_partly_vacuumed_record_is_dropped() {
        let layout = RecordLayout::new(5000, Element::F32);
        let v = vec![1.0f32; 5000];
        let t1 = HeapTid {
            block: 1,
            offset: 1,
        };
        let t2 = HeapTid {
            block: 1,
            offset: 2,
        };
        let one = layout.encode(t1, &f32_bytes(&v));
        let two = layout.encode(t2, &f32_bytes(&v));
        let mut a = Assembler::new(layout);
        // piece 0 of t1 was removed: its other pieces are skipped
        assert_eq!(a.feed(&one[1]).unwrap(), None);
        assert_eq!(a.feed(&one[2]).unwrap(), None);
        assert_eq!(a.feed(&two[0]).unwrap(), None);
        assert_eq!(a.feed(&two[1]).unwrap(), None);
        assert_eq!(a.feed(&two[2]).unwrap(), Some(t2));
        // a piece of another record in between breaks the sequence
        assert_eq!(a.feed(&one[0]).unwrap(), None);
        assert_eq!(a.feed(&two[1]).unwrap(), None);
        assert_eq!(a.feed(&one[1]).unwrap(), None);
    }

    #[test]
    fn elements_with_or_without_a_copy() {
        let v = [1.5f32, -2.0, 3.25];
        let bytes = Element::F32.encode(&v);
        let aligned: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
            .collect();
        let b: &[u8] = bytemuck::cast_slice(&aligned);
        let mut scratch = Vec::new();
        assert_eq!(Element::F32.values(b, &mut scratch), &v);
        assert!(scratch.is_empty(), "aligned float4s are not copied");
        let mut unaligned = vec![0u8];
        unaligned.extend_from_slice(&bytes);
        assert_eq!(Element::F32.values(&unaligned[1..], &mut scratch), &v);
        let half = Element::F16.encode(&v);
        assert_eq!(half.len(), 6);
        assert_eq!(half[..2], half::f16::from_f32(1.5).to_le_bytes());
        assert_eq!(Element::F16.values(&half, &mut scratch), &v);
        let mut odd = vec![0u8];
        odd.extend_from_slice(&half);
        assert_eq!(Element::F16.values(&odd[1..], &mut scratch), &v);
        // Long enough for the SIMD path, with its tail.
        let long: Vec<f32> = (0..1001).map(|i| (i % 97) as f32 * 0.25 - 3.0).collect();
        assert_eq!(
            Element::F16.values(&Element::F16.encode(&long), &mut scratch),
            &long[..]
        );
        assert_eq!(Element::from_code(Element::F16.code()), Some(Element::F16));
        assert_eq!(
            Element::from_code(Element::Bits.code()),
            Some(Element::Bits)
        );
        assert_eq!(Element::from_code(Element::Sq8.code()), Some(Element::Sq8));
        assert_eq!(Element::from_code(4), None);
    }

    #[test]
    fn sq8_records_round_trip_whole_and_in_pieces() {
        for dims in [1usize, 3, 128, 2048, 8200, 16_000] {
            let layout = RecordLayout::new(dims, Element::Sq8);
            assert_eq!(layout.vector_bytes, SQ8_HEADER + dims);
            assert_eq!(layout.spans(), SQ8_HEADER + dims > PIECE_BYTES, "{dims}");
            let v: Vec<f32> = (0..dims)
                .map(|i| ((i * 37) % 101) as f32 * 0.01 - 0.4)
                .collect();
            let bytes = Element::Sq8.encode(&v);
            let want = distance::sq8::Sq8Vector::encode(&v);
            let tid = HeapTid {
                block: 5,
                offset: 9,
            };
            let mut a = Assembler::new(layout);
            let mut done = None;
            for item in layout.encode(tid, &bytes) {
                assert!(item.len() <= MAX_ITEM);
                done = a.feed(&item).unwrap();
            }
            assert_eq!(done, Some(tid));
            assert_eq!(a.bytes(), &bytes[..]);
            let r = Sq8Record::read(a.bytes()).unwrap();
            assert_eq!(
                (r.scale, r.offset, r.err, r.norm),
                (want.scale, want.offset, want.err, want.norm)
            );
            assert_eq!(r.codes, &want.codes[..]);
            let mut back = Vec::new();
            r.decode_into(&mut back);
            assert_eq!(back, want.decode());
        }
        // 2048-d: a quarter of the float4 record, half the halfvec one.
        assert_eq!(records_per_page(&RecordLayout::new(2048, Element::Sq8)), 3);
        assert_eq!(records_per_page(&RecordLayout::new(2048, Element::F16)), 1);
        assert_eq!(records_per_page(&RecordLayout::new(128, Element::Sq8)), 52);
        assert_eq!(records_per_page(&RecordLayout::new(128, Element::F32)), 15);
        // Damaged fields are errors, not bounds.
        let mut bytes = Element::Sq8.encode(&[1.0, 2.0, 3.0]);
        assert!(Sq8Record::read(&bytes[..10]).is_err());
        bytes[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Sq8Record::read(&bytes).is_err());
        let mut bytes = Element::Sq8.encode(&[1.0, 2.0, 3.0]);
        bytes[8..12].copy_from_slice(&(-1.0f32).to_le_bytes());
        assert!(Sq8Record::read(&bytes).is_err());
    }

    #[test]
    fn packed_bits_of_64000_dimensions_are_one_item() {
        let e = Element::Bits;
        assert_eq!(e.width(64_000), 2_000);
        assert_eq!(e.vector_bytes(64_000), 8_000);
        assert_eq!(e.vector_bytes(1), 8); // one whole word
        assert_eq!(e.vector_bytes(65), 16);
        let layout = RecordLayout::new(64_000, e);
        assert!(!layout.spans(), "8,000 bytes fit one item of {PIECE_BYTES}");
        assert_eq!(records_per_page(&layout), 1);
        // 64,001 bits would still fit one item, but the limit is pgvector's.
        assert_eq!(e.max_dims(), 64_000);
        // The in-memory form holds the packed bytes; records keep them as is.
        let v: Vec<f32> = (0..64_000)
            .map(|i| ((i * 7) % 3 == 0) as u8 as f32)
            .collect();
        let mut out = Vec::new();
        let prepared = e.prepare(&v, &mut out).to_vec();
        assert_eq!(prepared.len(), 2_000);
        let bytes = e.encode(&prepared);
        assert_eq!(bytes, distance::packed::pack_floats(&v));
        let mut scratch = Vec::new();
        assert_eq!(
            crate::bitmeans::bytes(e.values(&bytes, &mut scratch)),
            &bytes[..]
        );
        let tid = HeapTid {
            block: 9,
            offset: 3,
        };
        let items = layout.encode(tid, &bytes);
        assert_eq!(items.len(), 1);
        let mut a = Assembler::new(layout);
        assert_eq!(a.feed(&items[0]).unwrap(), Some(tid));
        assert_eq!(crate::bitmeans::bytes(a.vector()), &bytes[..]);
        // A meta page of a 64,000-bit index reads back; centres are packed.
        let meta = Meta::new(64_000, 100, 7, e);
        assert_eq!(meta.centre_bytes(), 800_000);
        assert_eq!(Meta::from_bytes(&meta.to_bytes()), Ok(meta));
        let wide = Meta::new(64_001, 100, 7, e);
        assert!(Meta::from_bytes(&wide.to_bytes()).is_err());
        let floats = Meta::new(20_000, 100, 7, Element::F32);
        assert!(Meta::from_bytes(&floats.to_bytes()).is_err());
    }

    #[test]
    fn malformed_items_are_errors() {
        let layout = RecordLayout::new(4, Element::F32);
        assert!(layout.decode(&[0u8; 5]).is_err());
        let mut item = layout
            .encode(
                HeapTid {
                    block: 0,
                    offset: 1,
                },
                &[0u8; 16],
            )
            .remove(0);
        assert!(layout.decode(&item).is_ok());
        item.push(0);
        assert!(layout.decode(&item).is_err());
        item.pop();
        item[6] = 1; // piece 1 of a one-piece layout
        assert!(layout.decode(&item).is_err());
    }

    #[test]
    fn samples_fit_memory() {
        assert_eq!(sample_rows(100, 128, false, 64 << 20), Some(10_000));
        assert_eq!(sample_rows(20, 2048, false, 2 << 30), Some(20 * 256));
        assert_eq!(sample_rows(10, 128, false, 64 << 20), Some(2_560));
        assert_eq!(sample_rows(1000, 128, false, 1 << 30), Some(50_000));
        let few = sample_rows(100, 128, false, 2 << 20).unwrap();
        assert!(few < 10_000 && few > 100, "{few}");
        let used =
            crate::memory_bytes(few, 128, 100, false) + (few * 128 * 4 + 100 * 128 * 4) as u64;
        assert!(used <= 2 << 20);
        assert_eq!(sample_rows(32_768, 16_000, true, 64 << 20), None);
    }

    #[test]
    fn probe_batches() {
        assert_eq!(probe_batch(0, 3, 1, 10), 0..3);
        assert_eq!(probe_batch(1, 3, 1, 10), 3..3);
        assert_eq!(probe_batch(1, 3, 10, 10), 3..6);
        assert_eq!(probe_batch(3, 3, 10, 10), 9..10);
        assert_eq!(probe_batch(4, 3, 10, 10), 10..10);
        assert_eq!(probe_batch(0, 50, 100, 10), 0..10);
        assert_eq!(probe_batch(2, 2, 5, 10), 4..5);
    }
}
