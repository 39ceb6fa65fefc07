//! The `halfvec` value: pgvector's half-precision vector, independent of
//! Postgres.
//!
//! Text format `[1,2.5,3]` (read as float4 with C's `strtof`, as `vector`
//! is, then rounded to the nearest f16), binary format (big-endian int16
//! dim, int16 unused, then dim big-endian IEEE 754 binary16 values), type
//! modifiers, and the checks, all with pgvector 0.8.6's errors worded for
//! `halfvec` ([`HalfvecError`]). A float4 that is finite but rounds to an
//! f16 infinity (|x| >= 65520) is "out of range for type halfvec", as
//! pgvector's `Float4ToHalf` says.

use crate::{text, SqlState, VectorError, MAX_DIM};
pub use half::f16;
use std::fmt;

/// The type's SQL name, in messages.
pub const TYPE_NAME: &str = "halfvec";

/// A `halfvec` error: a [`VectorError`] worded for halfvec, with
/// pgvector's SQLSTATE for that type.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfvecError(pub VectorError);

impl HalfvecError {
    /// The SQLSTATE pgvector raises this error with for halfvec.
    pub fn sqlstate(&self) -> SqlState {
        match self.0 {
            // halfvec_recv raises ERRCODE_DATA_EXCEPTION here
            VectorError::UnusedNotZero { .. } => SqlState::DataException,
            ref e => e.sqlstate(),
        }
    }

    /// The errdetail line, where pgvector gives one.
    pub fn detail(&self) -> Option<&'static str> {
        self.0.detail()
    }
}

impl From<VectorError> for HalfvecError {
    fn from(e: VectorError) -> Self {
        HalfvecError(e)
    }
}

impl fmt::Display for HalfvecError {
    /// The errmsg line, as pgvector 0.8.6 words it for halfvec.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message(TYPE_NAME))
    }
}

impl std::error::Error for HalfvecError {}

/// Result of a halfvec operation.
pub type Result<T> = std::result::Result<T, HalfvecError>;

/// Refuses NaN and infinite elements.
pub fn element(h: f16) -> Result<f16> {
    if h.is_nan() {
        Err(VectorError::NaN.into())
    } else if h.is_infinite() {
        Err(VectorError::Infinite.into())
    } else {
        Ok(h)
    }
}

/// Refuses fewer than 1 or more than [`MAX_DIM`] dimensions (signed: a
/// binary header's int16 count can be negative).
pub fn dim(dim: i64) -> Result<()> {
    if dim < 1 {
        Err(VectorError::TooFewDimensions.into())
    } else if dim > MAX_DIM as i64 {
        Err(VectorError::TooManyDimensions.into())
    } else {
        Ok(())
    }
}

/// Checks `dim` against a column typmod (-1 means unconstrained).
pub fn expected_dim(typmod: i32, dim: usize) -> Result<()> {
    Ok(crate::check::expected_dim(typmod, dim)?)
}

/// Checks that two operands have the same number of dimensions.
pub fn same_dims(a: &[f16], b: &[f16]) -> Result<()> {
    if a.len() != b.len() {
        return Err(VectorError::DifferentDimensions {
            a: a.len(),
            b: b.len(),
        }
        .into());
    }
    Ok(())
}

/// The bit patterns of `values` (the same memory), for kernels that take
/// f16 codes as u16.
pub fn bits(values: &[f16]) -> &[u16] {
    use half::slice::HalfFloatSliceExt;
    values.reinterpret_cast()
}

/// Halves of float4 values, as [`from_f32`] makes them one by one, but a
/// slice at a time (F16C where the CPU has it: a `vector(2048)` to
/// `halfvec` cast is several times faster); "out of range" at the first
/// finite value that rounds to an infinity.
pub fn narrow(values: &[f32]) -> Result<Vec<f16>> {
    use half::slice::HalfFloatSliceExt;
    let mut halves = vec![f16::ZERO; values.len()];
    halves.convert_from_f32_slice(values);
    // One pass without an early exit (so the compiler can vectorise it)
    // says whether any finite value overflowed; only then is it found.
    let overflowed = halves.iter().zip(values).fold(false, |acc, (h, x)| {
        acc | ((h.to_bits() & 0x7fff) == 0x7c00 && x.is_finite())
    });
    if overflowed {
        if let Some(i) = halves
            .iter()
            .zip(values)
            .position(|(h, x)| h.is_infinite() && x.is_finite())
        {
            from_f32(values[i])?;
        }
    }
    Ok(halves)
}

/// The last float4 values narrowed and their halves ([`narrow`]), so that
/// narrowing the same values again is a comparison instead of a
/// conversion.
///
/// Why: `ORDER BY embedding <-> $1::halfvec(2048)` under a generic plan
/// evaluates the cast of the (unchanging) parameter again for every row
/// the executor rechecks and projects, some 20 times a query; at 2,048
/// dimensions the conversion and its check were about a tenth of such a
/// query's backend time.
#[derive(Debug, Default)]
pub struct LastNarrowed {
    values: Vec<f32>,
    halves: Vec<f16>,
}

impl LastNarrowed {
    /// An empty memo.
    pub const fn new() -> Self {
        LastNarrowed {
            values: Vec::new(),
            halves: Vec::new(),
        }
    }

    /// [`narrow`] of `values`, from the memo when they are bit for bit the
    /// last values narrowed (so -0.0 and NaN payloads count as different).
    /// A failed narrowing leaves the memo empty.
    pub fn narrow(&mut self, values: &[f32]) -> Result<&[f16]> {
        if !same_bits(&self.values, values) {
            self.values.clear();
            self.halves = narrow(values)?;
            self.values.extend_from_slice(values);
        }
        Ok(&self.halves)
    }
}

/// Whether `a` and `b` hold the same bit patterns: compared in blocks
/// whose XORs are OR-ed together without an early exit (vectorised).
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.chunks(64).zip(b.chunks(64)).all(|(x, y)| {
            x.iter()
                .zip(y)
                .fold(0u32, |acc, (p, q)| acc | (p.to_bits() ^ q.to_bits()))
                == 0
        })
}

/// A float4 as f16 (nearest, ties to even); "out of range" when a finite
/// value rounds to an infinity. NaN and infinities pass through (the
/// caller's [`element`] check decides on them).
pub fn from_f32(x: f32) -> Result<f16> {
    let h = f16::from_f32(x);
    if h.is_infinite() && x.is_finite() {
        let mut token = String::new();
        text::format_f32(x, &mut token);
        return Err(VectorError::OutOfRange { token }.into());
    }
    Ok(h)
}

/// Halves of float4 values from a SQL array, in pgvector's order: every
/// value rounded first ("out of range for type halfvec" at the first finite
/// one that overflows), then NaN and infinities refused.
pub fn from_floats(values: &[f32]) -> Result<Vec<f16>> {
    let halves = narrow(values)?;
    for &h in &halves {
        element(h)?;
    }
    Ok(halves)
}

/// An element of `avg(halfvec)`: the mean rounded to float4 and then to
/// f16, with the checks of [`from_f32`] and [`element`].
pub fn avg_element(mean: f64) -> Result<f16> {
    element(from_f32(mean as f32)?)
}

/// Parses a halfvec literal, checking its dimensions against `typmod` (-1: none).
pub fn parse(input: &str, typmod: i32) -> Result<Vec<f16>> {
    let syntax = |detail| {
        HalfvecError(VectorError::InvalidSyntax {
            input: input.to_owned(),
            detail,
        })
    };
    let s = input.as_bytes();
    let mut i = text::skip_spaces(s, 0);
    if s.get(i) != Some(&b'[') {
        return Err(syntax(Some("Vector contents must start with \"[\".")));
    }
    i = text::skip_spaces(s, i + 1);
    if s.get(i) == Some(&b']') {
        return Err(VectorError::TooFewDimensions.into());
    }
    let mut values = Vec::new();
    loop {
        if values.len() == MAX_DIM {
            return Err(VectorError::TooManyDimensions.into());
        }
        i = text::skip_spaces(s, i);
        if i >= s.len() {
            return Err(syntax(None));
        }
        let (value, len) = text::strtof(&s[i..]);
        if len == 0 {
            return Err(syntax(None));
        }
        let token = &input[i..i + len];
        let h = f16::from_f32(value);
        // float4 overflow (strtof gives an infinity for a number that is no
        // infinity word), or a finite float4 that rounds to an f16 infinity
        if (value.is_infinite() && !text::is_infinity_word(token))
            || (h.is_infinite() && value.is_finite())
        {
            return Err(VectorError::OutOfRange {
                token: token.to_owned(),
            }
            .into());
        }
        values.push(element(h)?);
        i = text::skip_spaces(s, i + len);
        match s.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                break;
            }
            _ => return Err(syntax(None)),
        }
    }
    i = text::skip_spaces(s, i);
    if i != s.len() {
        return Err(syntax(Some("Junk after closing right brace.")));
    }
    dim(values.len() as i64)?;
    expected_dim(typmod, values.len())?;
    Ok(values)
}

/// Formats a halfvec as `[x1,x2,...]`: each element as the shortest
/// decimal that reads back to the same float4 (its exact f16 value).
pub fn format(values: &[f16]) -> String {
    let mut out = String::with_capacity(values.len() * 8 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        text::format_f32(v.to_f32(), &mut out);
    }
    out.push(']');
    out
}

/// Decodes a binary halfvec from `buf`, returning the values and bytes
/// read; trailing bytes are left to the caller (Postgres reports them).
pub fn decode(buf: &[u8], typmod: i32) -> Result<(Vec<f16>, usize)> {
    let i16_at = |i: usize| -> Result<i16> {
        buf.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or(HalfvecError(VectorError::InsufficientData))
    };
    let n = i16_at(0)?;
    let unused = i16_at(2)?;
    dim(n as i64)?;
    let n = n as usize;
    expected_dim(typmod, n)?;
    if unused != 0 {
        return Err(VectorError::UnusedNotZero {
            unused: unused as i32,
        }
        .into());
    }
    let body = buf
        .get(4..4 + 2 * n)
        .ok_or(HalfvecError(VectorError::InsufficientData))?;
    let values = body
        .chunks_exact(2)
        .map(|c| element(f16::from_bits(u16::from_be_bytes([c[0], c[1]]))))
        .collect::<Result<Vec<f16>>>()?;
    Ok((values, 4 + 2 * n))
}

/// Encodes `values` in the binary wire format.
pub fn encode(values: &[f16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 2 * values.len());
    out.extend_from_slice(&(values.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    for v in values {
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    out
}

/// The typmod of `halfvec(n)` from the modifier list's texts (None for a
/// NULL element), with pgvector's errors.
pub fn typmod(list: &[Option<&str>]) -> Result<i32> {
    crate::check::typmod(list).map_err(HalfvecError)
}

#[cfg(test)]
#[path = "halfvec_tests.rs"]
mod tests;
