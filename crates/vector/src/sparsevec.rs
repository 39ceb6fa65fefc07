//! The `sparsevec` value: pgvector's sparse vector, independent of Postgres.
//!
//! Text format `{1:1.5,3:2}/5` (1-based indices, any order on input, zeros
//! dropped), binary format (big-endian int32 dim, int32 nnz, int32 unused,
//! then nnz 0-based int32 indices and nnz float4 values), type modifiers,
//! conversions to and from dense values, the distances (accumulated in
//! float4 in ascending index order, as pgvector does, so results agree to
//! the bit) and the btree order, all with pgvector 0.8.6's errors
//! ([`SparsevecError`]).

use crate::text::{self, strtof};
use crate::{SqlState, VectorError};
use std::cmp::Ordering;
use std::fmt;

/// Most dimensions a sparsevec may have (pgvector's SPARSEVEC_MAX_DIM).
pub const MAX_DIM: i64 = 1_000_000_000;
/// Most non-zero elements a sparsevec may have (SPARSEVEC_MAX_NNZ).
pub const MAX_NNZ: usize = 16_000;

/// A `sparsevec` error, worded as pgvector 0.8.6 words it.
#[derive(Debug, Clone, PartialEq)]
pub enum SparsevecError {
    /// Text that is not a sparsevec literal; `detail` as pgvector gives it.
    Syntax {
        input: String,
        detail: Option<&'static str>,
    },
    /// A literal number that overflows or underflows float4.
    OutOfRange { token: String },
    /// A NaN element.
    NaN,
    /// An infinite element.
    Infinite,
    /// Fewer than 1 dimension.
    TooFewDimensions,
    /// More than [`MAX_DIM`] dimensions.
    TooManyDimensions,
    /// A negative element count (binary input).
    NegativeNnz,
    /// More than [`MAX_NNZ`] non-zero elements.
    TooManyNnz,
    /// More non-zero elements than dimensions.
    NnzOverDim,
    /// An index below 1 or past the dimensions.
    IndexOutOfBounds,
    /// Indices out of order (binary input).
    NotAscending,
    /// The same index twice.
    Duplicate,
    /// Dimensions differ from the column's typmod.
    ExpectedDimensions { expected: i32, got: i64 },
    /// Two operands of different dimensions.
    DifferentDimensions { a: i32, b: i32 },
    /// Binary input whose unused field is not zero.
    UnusedNotZero { unused: i32 },
    /// Binary input that ends early.
    InsufficientData,
    /// Binary input with a stored zero.
    ZeroInBinary,
    /// A type modifier above [`MAX_DIM`].
    TypmodTooLarge,
    /// A type modifier error shared with `vector` (syntax, count, below 1).
    Typmod(VectorError),
    /// A float4 overflow in arithmetic (`l2_normalize`).
    Overflow,
}

impl SparsevecError {
    /// The SQLSTATE pgvector raises this error with.
    pub fn sqlstate(&self) -> SqlState {
        use SparsevecError::*;
        match self {
            Syntax { .. } => SqlState::InvalidTextRepresentation,
            OutOfRange { .. } | Overflow => SqlState::NumericValueOutOfRange,
            TooManyDimensions | TooManyNnz | NnzOverDim => SqlState::ProgramLimitExceeded,
            InsufficientData => SqlState::ProtocolViolation,
            TypmodTooLarge => SqlState::InvalidParameterValue,
            Typmod(e) => e.sqlstate(),
            NaN
            | Infinite
            | TooFewDimensions
            | NegativeNnz
            | IndexOutOfBounds
            | NotAscending
            | Duplicate
            | ExpectedDimensions { .. }
            | DifferentDimensions { .. }
            | UnusedNotZero { .. }
            | ZeroInBinary => SqlState::DataException,
        }
    }

    /// The errdetail line, where pgvector gives one.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            SparsevecError::Syntax { detail, .. } => *detail,
            _ => None,
        }
    }
}

impl fmt::Display for SparsevecError {
    /// The errmsg line, exactly as pgvector 0.8.6 words it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SparsevecError::*;
        match self {
            Syntax { input, .. } => {
                write!(f, "invalid input syntax for type sparsevec: \"{input}\"")
            }
            OutOfRange { token } => write!(f, "\"{token}\" is out of range for type sparsevec"),
            NaN => f.write_str("NaN not allowed in sparsevec"),
            Infinite => f.write_str("infinite value not allowed in sparsevec"),
            TooFewDimensions => f.write_str("sparsevec must have at least 1 dimension"),
            TooManyDimensions => write!(f, "sparsevec cannot have more than {MAX_DIM} dimensions"),
            NegativeNnz => f.write_str("sparsevec cannot have negative number of elements"),
            TooManyNnz => write!(
                f,
                "sparsevec cannot have more than {MAX_NNZ} non-zero elements"
            ),
            NnzOverDim => f.write_str("sparsevec cannot have more elements than dimensions"),
            IndexOutOfBounds => f.write_str("sparsevec index out of bounds"),
            NotAscending => f.write_str("sparsevec indices must be in ascending order"),
            Duplicate => f.write_str("sparsevec indices must not contain duplicates"),
            ExpectedDimensions { expected, got } => {
                write!(f, "expected {expected} dimensions, not {got}")
            }
            DifferentDimensions { a, b } => write!(f, "different sparsevec dimensions {a} and {b}"),
            UnusedNotZero { unused } => write!(f, "expected unused to be 0, not {unused}"),
            InsufficientData => f.write_str("insufficient data left in message"),
            ZeroInBinary => {
                f.write_str("binary representation of sparsevec cannot contain zero values")
            }
            TypmodTooLarge => write!(f, "dimensions for type sparsevec cannot exceed {MAX_DIM}"),
            Typmod(e) => f.write_str(&e.message("sparsevec")),
            Overflow => f.write_str("value out of range: overflow"),
        }
    }
}

impl std::error::Error for SparsevecError {}

/// Result of a sparsevec operation.
pub type Result<T> = std::result::Result<T, SparsevecError>;

/// An owned sparse vector: `dim` dimensions, non-zero `values` at the
/// 0-based, strictly ascending `indices`.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseVec {
    /// Number of dimensions.
    pub dim: i32,
    /// 0-based positions of the non-zero elements, ascending.
    pub indices: Vec<i32>,
    /// The non-zero elements.
    pub values: Vec<f32>,
}

/// A borrowed sparse vector (a stored value read in place).
#[derive(Debug, Clone, Copy)]
pub struct SparseRef<'a> {
    /// Number of dimensions.
    pub dim: i32,
    /// 0-based positions of the non-zero elements, ascending.
    pub indices: &'a [i32],
    /// The non-zero elements.
    pub values: &'a [f32],
}

impl SparseVec {
    /// The borrowed view.
    pub fn as_ref(&self) -> SparseRef<'_> {
        SparseRef {
            dim: self.dim,
            indices: &self.indices,
            values: &self.values,
        }
    }
}

/// Refuses NaN and infinite elements.
pub fn element(value: f32) -> Result<f32> {
    if value.is_nan() {
        Err(SparsevecError::NaN)
    } else if value.is_infinite() {
        Err(SparsevecError::Infinite)
    } else {
        Ok(value)
    }
}

/// Refuses fewer than 1 or more than [`MAX_DIM`] dimensions.
pub fn dim(dim: i64) -> Result<()> {
    if dim < 1 {
        Err(SparsevecError::TooFewDimensions)
    } else if dim > MAX_DIM {
        Err(SparsevecError::TooManyDimensions)
    } else {
        Ok(())
    }
}

/// Refuses a negative count, more than [`MAX_NNZ`], or more than `dim`.
pub fn nnz(nnz: i64, dim: i64) -> Result<()> {
    if nnz < 0 {
        Err(SparsevecError::NegativeNnz)
    } else if nnz > MAX_NNZ as i64 {
        Err(SparsevecError::TooManyNnz)
    } else if nnz > dim {
        Err(SparsevecError::NnzOverDim)
    } else {
        Ok(())
    }
}

/// Checks `dim` against a column typmod (-1 means unconstrained).
pub fn expected_dim(typmod: i32, dim: i64) -> Result<()> {
    if typmod != -1 && i64::from(typmod) != dim {
        Err(SparsevecError::ExpectedDimensions {
            expected: typmod,
            got: dim,
        })
    } else {
        Ok(())
    }
}

/// Checks index `i` of `indices`: within `dim`, above its predecessor.
pub fn index(indices: &[i32], i: usize, dim: i64) -> Result<()> {
    let x = indices[i];
    if x < 0 || i64::from(x) >= dim {
        return Err(SparsevecError::IndexOutOfBounds);
    }
    if i > 0 {
        match x.cmp(&indices[i - 1]) {
            Ordering::Less => return Err(SparsevecError::NotAscending),
            Ordering::Equal => return Err(SparsevecError::Duplicate),
            Ordering::Greater => {}
        }
    }
    Ok(())
}

/// Checks that two operands have the same number of dimensions.
pub fn same_dims(a: SparseRef<'_>, b: SparseRef<'_>) -> Result<()> {
    if a.dim != b.dim {
        return Err(SparsevecError::DifferentDimensions { a: a.dim, b: b.dim });
    }
    Ok(())
}

/// C's `strtol` (base 10) at the start of `s`, clamped into `lo..=i32::MAX`
/// as pgvector clamps it: the value and the bytes consumed (0: no number).
fn strtol(s: &[u8], lo: i64) -> (i64, usize) {
    let mut i = text::skip_spaces(s, 0);
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        v = (v * 10 + i64::from(d - b'0')).min(1 << 40);
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    let v = if negative { -v } else { v };
    (v.clamp(lo, i64::from(i32::MAX)), i)
}

/// True when a numeric token that strtof read as zero had a non-zero
/// mantissa (strtof's underflow, ERANGE with a zero result).
fn underflowed(token: &str) -> bool {
    let t = token.trim_start_matches(['+', '-']);
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        let mantissa = hex.split(['p', 'P']).next().unwrap_or("");
        mantissa.bytes().any(|b| b.is_ascii_hexdigit() && b != b'0')
    } else {
        let mantissa = t.split(['e', 'E']).next().unwrap_or("");
        mantissa.bytes().any(|b| matches!(b, b'1'..=b'9'))
    }
}

/// Parses a sparsevec literal `{i:x,...}/dim`, checking its dimensions
/// against `typmod` (-1: none). Checks in pgvector's order: the element
/// count (commas) first, then syntax and values left to right, the
/// dimensions, and the indices once sorted.
pub fn parse(input: &str, typmod: i32) -> Result<SparseVec> {
    let syntax = |detail| SparsevecError::Syntax {
        input: input.to_owned(),
        detail,
    };
    let s = input.as_bytes();
    if s.iter().filter(|&&b| b == b',').count() + 1 > MAX_NNZ {
        return Err(SparsevecError::TooManyNnz);
    }
    let mut i = text::skip_spaces(s, 0);
    if s.get(i) != Some(&b'{') {
        return Err(syntax(Some("Vector contents must start with \"{\".")));
    }
    i = text::skip_spaces(s, i + 1);
    let mut elements: Vec<(i64, f32)> = Vec::new();
    if s.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            i = text::skip_spaces(s, i);
            if i >= s.len() {
                return Err(syntax(None));
            }
            let (idx, len) = strtol(&s[i..], i64::from(i32::MIN) + 1);
            if len == 0 {
                return Err(syntax(None));
            }
            i = text::skip_spaces(s, i + len);
            if s.get(i) != Some(&b':') {
                return Err(syntax(None));
            }
            i = text::skip_spaces(s, i + 1);
            let (value, len) = strtof(&s[i..]);
            if len == 0 {
                return Err(syntax(None));
            }
            let token = &input[i..i + len];
            if (value.is_infinite() && !text::is_infinity_word(token))
                || (value == 0.0 && underflowed(token))
            {
                return Err(SparsevecError::OutOfRange {
                    token: token.to_owned(),
                });
            }
            element(value)?;
            if value != 0.0 {
                elements.push((idx - 1, value));
            }
            i = text::skip_spaces(s, i + len);
            match s.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(syntax(None)),
            }
        }
    }
    i = text::skip_spaces(s, i);
    if s.get(i) != Some(&b'/') {
        return Err(syntax(Some("Unexpected end of input.")));
    }
    i += 1;
    let (d, len) = strtol(&s[i..], i64::from(i32::MIN));
    if len == 0 {
        return Err(syntax(None));
    }
    i = text::skip_spaces(s, i + len);
    if i != s.len() {
        return Err(syntax(Some("Junk after closing.")));
    }
    dim(d)?;
    expected_dim(typmod, d)?;
    elements.sort_by_key(|&(idx, _)| idx);
    let indices: Vec<i32> = elements.iter().map(|&(idx, _)| idx as i32).collect();
    for k in 0..indices.len() {
        index(&indices, k, d)?;
    }
    Ok(SparseVec {
        dim: d as i32,
        indices,
        values: elements.iter().map(|&(_, v)| v).collect(),
    })
}

/// Formats a sparsevec as `{i:x,...}/dim` (1-based indices, each value as
/// the shortest decimal that reads back to the same float4).
pub fn format(v: SparseRef<'_>) -> String {
    let mut out = String::with_capacity(v.indices.len() * 16 + 14);
    out.push('{');
    for (k, (&i, &x)) in v.indices.iter().zip(v.values).enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&(i64::from(i) + 1).to_string());
        out.push(':');
        text::format_f32(x, &mut out);
    }
    out.push_str("}/");
    out.push_str(&v.dim.to_string());
    out
}

/// Decodes a binary sparsevec from `buf`, returning it and the bytes read;
/// trailing bytes are left to the caller (Postgres reports them). Fields
/// are read and checked one by one, as pgvector's `sparsevec_recv` does.
pub fn decode(buf: &[u8], typmod: i32) -> Result<(SparseVec, usize)> {
    let mut at = 0usize;
    let mut word = || -> Result<[u8; 4]> {
        let b = buf
            .get(at..at + 4)
            .ok_or(SparsevecError::InsufficientData)?;
        at += 4;
        Ok([b[0], b[1], b[2], b[3]])
    };
    let d = i32::from_be_bytes(word()?);
    let n = i32::from_be_bytes(word()?);
    let unused = i32::from_be_bytes(word()?);
    dim(i64::from(d))?;
    nnz(i64::from(n), i64::from(d))?;
    expected_dim(typmod, i64::from(d))?;
    if unused != 0 {
        return Err(SparsevecError::UnusedNotZero { unused });
    }
    let n = n as usize;
    let mut indices = Vec::with_capacity(n);
    for k in 0..n {
        indices.push(i32::from_be_bytes(word()?));
        index(&indices, k, i64::from(d))?;
    }
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let x = element(f32::from_be_bytes(word()?))?;
        if x == 0.0 {
            return Err(SparsevecError::ZeroInBinary);
        }
        values.push(x);
    }
    let v = SparseVec {
        dim: d,
        indices,
        values,
    };
    Ok((v, at))
}

/// Encodes a sparsevec in the binary wire format.
pub fn encode(v: SparseRef<'_>) -> Vec<u8> {
    let n = v.indices.len();
    let mut out = Vec::with_capacity(12 + 8 * n);
    out.extend_from_slice(&v.dim.to_be_bytes());
    out.extend_from_slice(&(n as i32).to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for i in v.indices {
        out.extend_from_slice(&i.to_be_bytes());
    }
    for x in v.values {
        out.extend_from_slice(&x.to_be_bytes());
    }
    out
}

/// The typmod of `sparsevec(n)` from the modifier list's texts (None for
/// a NULL element), with pgvector's errors: 1 <= n <= [`MAX_DIM`].
pub fn typmod(list: &[Option<&str>]) -> Result<i32> {
    let n = crate::check::typmod_value(list).map_err(SparsevecError::Typmod)?;
    if n < 1 {
        Err(SparsevecError::Typmod(VectorError::TypmodTooSmall))
    } else if i64::from(n) > MAX_DIM {
        Err(SparsevecError::TypmodTooLarge)
    } else {
        Ok(n)
    }
}

/// The sparse form of dense `values` (float4 `vector`, `halfvec` widened,
/// or an array's elements), zeros dropped, checked against `typmod`:
/// dimensions, typmod and count, as pgvector's casts check them.
pub fn from_dense(values: &[f32], typmod: i32) -> Result<SparseVec> {
    let d = values.len() as i64;
    dim(d)?;
    expected_dim(typmod, d)?;
    let n = values.iter().filter(|&&x| x != 0.0).count();
    nnz(n as i64, d)?;
    let (indices, values): (Vec<i32>, Vec<f32>) = values
        .iter()
        .enumerate()
        .filter(|(_, &x)| x != 0.0)
        .map(|(i, &x)| (i as i32, x))
        .unzip();
    Ok(SparseVec {
        dim: d as i32,
        indices,
        values,
    })
}

/// The dense form of `v`, written into `out` (cleared and resized to `dim`).
pub fn to_dense_into(v: SparseRef<'_>, out: &mut Vec<f32>) {
    out.clear();
    out.resize(v.dim.max(0) as usize, 0.0);
    for (&i, &x) in v.indices.iter().zip(v.values) {
        out[i as usize] = x;
    }
}

/// The dense form of `v`.
pub fn to_dense(v: SparseRef<'_>) -> Vec<f32> {
    let mut out = Vec::new();
    to_dense_into(v, &mut out);
    out
}

/// Sums, in float4 and ascending index order over the indices of either
/// vector, `both(x, y)` where both have an element and `one(x)` where only
/// one does (pgvector's order of summation, so the same bits).
#[inline(always)]
fn merge_sum(
    a: SparseRef<'_>,
    b: SparseRef<'_>,
    both: impl Fn(f32, f32) -> f32,
    one: impl Fn(f32) -> f32,
) -> f32 {
    let (na, nb) = (
        a.indices.len().min(a.values.len()),
        b.indices.len().min(b.values.len()),
    );
    let (mut i, mut j, mut sum) = (0usize, 0usize, 0f32);
    while i < na && j < nb {
        let (x, y) = (a.indices[i], b.indices[j]);
        if x == y {
            sum += both(a.values[i], b.values[j]);
            i += 1;
            j += 1;
        } else if x < y {
            sum += one(a.values[i]);
            i += 1;
        } else {
            sum += one(b.values[j]);
            j += 1;
        }
    }
    for &x in &a.values[i..na] {
        sum += one(x);
    }
    for &y in &b.values[j..nb] {
        sum += one(y);
    }
    sum
}

/// Squared Euclidean distance, accumulated in float4 in index order.
pub fn l2_squared_distance(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    f64::from(merge_sum(a, b, |x, y| (x - y) * (x - y), |x| x * x))
}

/// Euclidean distance.
pub fn l2_distance(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    l2_squared_distance(a, b).sqrt()
}

/// Inner product, accumulated in float4 over the common indices.
pub fn inner_product(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    let (mut i, mut j, mut sum) = (0usize, 0usize, 0f32);
    while i < a.indices.len() && j < b.indices.len() {
        match a.indices[i].cmp(&b.indices[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                sum += a.values[i] * b.values[j];
                i += 1;
                j += 1;
            }
        }
    }
    f64::from(sum)
}

/// Negative inner product (the `<#>` operator).
pub fn negative_inner_product(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    -inner_product(a, b)
}

/// Cosine distance, clamped to [0, 2]; NaN when either norm is zero.
pub fn cosine_distance(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    let square = |v: &[f32]| v.iter().fold(0f32, |s, &x| s + x * x);
    let (na, nb) = (square(a.values), square(b.values));
    let similarity = inner_product(a, b) / (f64::from(na) * f64::from(nb)).sqrt();
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// Taxicab distance, accumulated in float4 in index order.
pub fn l1_distance(a: SparseRef<'_>, b: SparseRef<'_>) -> f64 {
    f64::from(merge_sum(a, b, |x, y| (x - y).abs(), f32::abs))
}

/// Euclidean norm, accumulated in float8 (from +0: `Sum` for floats
/// starts at -0, which would print `-0` for an empty vector).
pub fn l2_norm(v: SparseRef<'_>) -> f64 {
    v.values
        .iter()
        .fold(0f64, |s, &x| s + f64::from(x) * f64::from(x))
        .sqrt()
}

/// `v` divided by its norm (unchanged when the norm is 0); elements that
/// underflow to zero are dropped, an overflow is an error.
pub fn l2_normalize(v: SparseRef<'_>) -> Result<SparseVec> {
    let norm = l2_norm(v);
    let mut out = SparseVec {
        dim: v.dim,
        indices: Vec::with_capacity(v.indices.len()),
        values: Vec::with_capacity(v.values.len()),
    };
    if norm > 0.0 {
        for (&i, &x) in v.indices.iter().zip(v.values) {
            let y = (f64::from(x) / norm) as f32;
            if y.is_infinite() {
                return Err(SparsevecError::Overflow);
            }
            if y != 0.0 {
                out.indices.push(i);
                out.values.push(y);
            }
        }
    } else {
        out.indices.extend_from_slice(v.indices);
        out.values.extend_from_slice(v.values);
    }
    Ok(out)
}

/// The btree order: the dense values compared lexicographically over the
/// dimensions both have, then the shorter first (as pgvector orders them,
/// consistent with Postgres arrays).
pub fn cmp(a: SparseRef<'_>, b: SparseRef<'_>) -> Ordering {
    let common = a.dim.min(b.dim);
    let (mut i, mut j) = (0usize, 0usize);
    // the first index (below `common`) where the dense values differ
    loop {
        let (x, y) = (a.indices.get(i).copied(), b.indices.get(j).copied());
        let (at, vx, vy) = match (x, y) {
            (None, None) => break,
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                (x, a.values[i - 1], b.values[j - 1])
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                (x, a.values[i - 1], 0.0)
            }
            (Some(x), None) => {
                i += 1;
                (x, a.values[i - 1], 0.0)
            }
            (_, Some(y)) => {
                j += 1;
                (y, 0.0, b.values[j - 1])
            }
        };
        if at >= common {
            break;
        }
        match vx.partial_cmp(&vy) {
            Some(Ordering::Equal) | None => {}
            Some(o) => return o,
        }
    }
    a.dim.cmp(&b.dim)
}

#[cfg(test)]
#[path = "sparsevec_tests.rs"]
mod tests;
