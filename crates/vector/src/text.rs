//! pgvector's text format: `[1,2.5,3]`.
//!
//! Parsing follows pgvector's `vector_in` step by step (whitespace as C's
//! isspace in the C locale, numbers as C's `strtof`: decimal, `inf`,
//! `infinity`, `nan` and hex floats), so the same strings are accepted and
//! the same errors are raised. Printing uses the shortest decimal that
//! reads back to the same float4, in Postgres' `float4out` style.

use crate::{check, VectorError, MAX_DIM};

/// C's isspace in the C locale, as pgvector's `vector_isspace`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Index of the first non-space byte at or after `i`.
pub(crate) fn skip_spaces(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    i
}

/// Parses a vector literal, checking its dimensions against `typmod` (-1: none).
pub fn parse(input: &str, typmod: i32) -> Result<Vec<f32>, VectorError> {
    let syntax = |detail| VectorError::InvalidSyntax {
        input: input.to_owned(),
        detail,
    };
    let s = input.as_bytes();
    let mut i = skip_spaces(s, 0);
    if s.get(i) != Some(&b'[') {
        return Err(syntax(Some("Vector contents must start with \"[\".")));
    }
    i = skip_spaces(s, i + 1);
    if s.get(i) == Some(&b']') {
        return Err(VectorError::TooFewDimensions);
    }
    let mut values = Vec::new();
    loop {
        if values.len() == MAX_DIM {
            return Err(VectorError::TooManyDimensions);
        }
        i = skip_spaces(s, i);
        if i >= s.len() {
            return Err(syntax(None));
        }
        let (value, len) = strtof(&s[i..]);
        if len == 0 {
            return Err(syntax(None));
        }
        let token = &input[i..i + len];
        if value.is_infinite() && !is_infinity_word(token) {
            return Err(VectorError::OutOfRange {
                token: token.to_owned(),
            });
        }
        values.push(check::element(value)?);
        i = skip_spaces(s, i + len);
        match s.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                break;
            }
            _ => return Err(syntax(None)),
        }
    }
    i = skip_spaces(s, i);
    if i != s.len() {
        return Err(syntax(Some("Junk after closing right brace.")));
    }
    check::dim(values.len())?;
    check::expected_dim(typmod, values.len())?;
    Ok(values)
}

/// True when a numeric token spells infinity rather than overflowing to it.
pub(crate) fn is_infinity_word(token: &str) -> bool {
    let t = token.trim_start_matches(['+', '-']);
    t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity")
}

/// C's `strtof` on the start of `s`: the value and the bytes consumed (0: no number).
///
/// Overflow gives an infinity, underflow a zero or subnormal, as strtof does.
pub fn strtof(s: &[u8]) -> (f32, usize) {
    let mut i = 0;
    let negative = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = |v: f32| if negative { -v } else { v };
    let rest = &s[i..];
    if let Some(n) = word_prefix(rest) {
        return n.map_or((0.0, 0), |(v, len)| (sign(v), i + len));
    }
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, len)) = hex_float(&rest[2..]) {
            return (sign(v), i + 2 + len);
        }
        // "0x" with no hex digits: strtof reads just the "0".
        return (sign(0.0), i + 1);
    }
    let len = decimal_len(rest);
    if len == 0 {
        return (0.0, 0);
    }
    let text = std::str::from_utf8(&rest[..len]).expect("decimal_len only accepts ASCII");
    let v: f32 = text
        .parse()
        .expect("decimal_len only accepts Rust-parsable floats");
    (sign(v), i + len)
}

/// `inf`, `infinity` or `nan` (with an optional `(chars)`) at the start of `s`.
///
/// Returns None when `s` does not start with a letter of those words,
/// Some(None) when it starts like one but is not a number.
fn word_prefix(s: &[u8]) -> Option<Option<(f32, usize)>> {
    let starts = |w: &str| s.len() >= w.len() && s[..w.len()].eq_ignore_ascii_case(w.as_bytes());
    if starts("infinity") {
        Some(Some((f32::INFINITY, 8)))
    } else if starts("inf") {
        Some(Some((f32::INFINITY, 3)))
    } else if starts("nan") {
        let mut len = 3;
        if s.get(3) == Some(&b'(') {
            let close = s[4..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'));
            if let Some(p) = close {
                if s[4 + p] == b')' {
                    len = 4 + p + 1;
                }
            }
        }
        Some(Some((f32::NAN, len)))
    } else if s.first().is_some_and(|b| b.is_ascii_alphabetic()) {
        Some(None)
    } else {
        None
    }
}

/// Length of the longest decimal float at the start of `s` (digits, point, exponent).
fn decimal_len(s: &[u8]) -> usize {
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        if int + frac > 0 {
            i += 1 + frac;
        }
    }
    if int + frac == 0 {
        return 0;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = digits(j);
        if exp > 0 {
            i = j + exp;
        }
    }
    i
}

/// A hex float body after "0x": hex digits, optional point, optional `p` exponent.
fn hex_float(s: &[u8]) -> Option<(f32, usize)> {
    let mut mantissa: f64 = 0.0;
    let mut exp: i64 = 0;
    let mut i = 0;
    let mut any = false;
    while let Some(d) = s.get(i).and_then(|b| (*b as char).to_digit(16)) {
        mantissa = mantissa * 16.0 + d as f64;
        any = true;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        let mut j = i + 1;
        while let Some(d) = s.get(j).and_then(|b| (*b as char).to_digit(16)) {
            mantissa = mantissa * 16.0 + d as f64;
            exp -= 4;
            any = true;
            j += 1;
        }
        if any {
            i = j;
        }
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let negative = match s.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let start = j;
        let mut e: i64 = 0;
        while let Some(d) = s.get(j).filter(|b| b.is_ascii_digit()) {
            e = (e * 10 + (d - b'0') as i64).min(100_000);
            j += 1;
        }
        if j > start {
            exp += if negative { -e } else { e };
            i = j;
        }
    }
    let value = mantissa * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    Some((value as f32, i))
}

/// Formats one float4 like Postgres' `float4out`: shortest round-trip digits,
/// fixed notation for decimal exponents -4..=5, else `1.5e+06` style.
/// Writes straight into `out`, with no allocation of its own.
pub fn format_f32(value: f32, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if value == 0.0 {
        out.push_str(if value.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    if (1e-4..1e6).contains(&value.abs()) {
        // Where embeddings live. Here float4out writes fixed notation, and
        // so does ryu (it turns to exponents only below 1e-5 and from
        // 1e13), with the same shortest digits and ".0" after an integer;
        // and no shortest string can lie on a rounding boundary: between
        // floats below 2^20 every midpoint has more than 9 significant
        // digits (an odd multiple of 2^(e-24), e < 20: at least 24 - e
        // decimals), and a float4's shortest form has at most 9.
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(value);
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return;
    }
    let d = shortest_digits(value);
    let digits = d.as_str();
    let exp = d.exp;
    if value < 0.0 {
        out.push('-');
    }
    if (-4..6).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        // float4 exponents are at most 45: always two digits, as float4out.
        out.push(char::from(b'0' + (e / 10) as u8));
        out.push(char::from(b'0' + (e % 10) as u8));
    }
}

/// Significant decimal digits (no leading or trailing zeros) of a positive
/// number and the decimal exponent of the first: value = d.ddd x 10^exp.
#[derive(Debug)]
struct Digits {
    buf: [u8; 24],
    len: usize,
    exp: i32,
}

impl PartialEq for Digits {
    /// The same digits and exponent (what lies past `len` does not count).
    fn eq(&self, other: &Self) -> bool {
        self.exp == other.exp && self.buf[..self.len] == other.buf[..other.len]
    }
}

impl Digits {
    /// The digits as text.
    fn as_str(&self) -> &str {
        debug_assert!(self.buf[..self.len].is_ascii());
        // SAFETY: `decimal_parts` stores only bytes of its `&str` input
        // that are not '.', i.e. whole ASCII characters (digits, or '1'),
        // so the bytes are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(&self.buf[..self.len]) }
    }

    /// The digits as an integer (at most 9 of them for a float4's shortest form).
    fn integer(&self) -> u64 {
        self.buf[..self.len].iter().fold(0u64, |n, &b| {
            n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
        })
    }

    /// The value these digits name, correctly rounded to float8, when that
    /// takes a single exact operation (Clinger's fast path: at most 15
    /// digits and a power of ten exact in float8); None otherwise.
    fn exact_f64(&self) -> Option<f64> {
        /// 10^0 ..= 10^22: every one exact in float8.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        if self.len > 15 {
            return None;
        }
        let n = self.integer() as f64;
        let k = self.exp - (self.len as i32 - 1);
        match k {
            0..=22 => Some(n * POW10[k as usize]),
            -22..=-1 => Some(n / POW10[(-k) as usize]),
            _ => None,
        }
    }
}

/// The shortest decimal digits that read back as `|value|` (finite, not
/// zero) and their decimal exponent (value = d.ddd x 10^exp), as Postgres'
/// float4out (Ryu) finds them. Two differences from Rust's own formatting:
/// of two equally close digit strings Ryu takes the even one (1.12890625:
/// "1.1289062", Rust "1.1289063"; the `ryu` crate, a port of the same
/// algorithm, does too), and Postgres never takes a string lying exactly
/// on the rounding boundary between two floats, which reads back only by
/// ties-to-even (57706752: "5.7706752e+07", Rust and `ryu` "5.770675e7").
fn shortest_digits(value: f32) -> Digits {
    let value = value.abs();
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(value);
    let digits = decimal_parts(text);
    // Only a string that names a midpoint exactly (in float8) can lie on
    // a boundary; that takes one exact operation to see, or a parse where
    // the fast path does not apply (values below ~1e-13 or above ~1e22).
    let near = digits
        .exact_f64()
        .unwrap_or_else(|| text.parse().expect("ryu writes a number"));
    if !midpoints(value).contains(&near) || !on_boundary(value, &digits) {
        return digits;
    }
    for precision in digits.len..9 {
        let written = format!("{value:.precision$e}");
        let longer = decimal_parts(&written);
        if longer.len <= 9 && !on_boundary(value, &longer) {
            let check: f32 = written.parse().expect("digits parse");
            if check == value {
                return longer;
            }
        }
    }
    digits
}

/// The significant digits (no leading or trailing zeros) and the decimal
/// exponent of the first of a positive number written as `123.45`,
/// `0.0012`, `1.5e7` or `1.5e-7` (at most 24 digits before the exponent,
/// as ryu and Rust's `{:e}` write a float4 and `on_boundary` a midpoint
/// with up to 200 decimals: longer ones keep their first 24 digits and
/// are then never equal to a float4's shortest digits).
fn decimal_parts(text: &str) -> Digits {
    let (mantissa, exp10) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("an integer exponent")),
        None => (text, 0),
    };
    let mut d = Digits {
        buf: [0; 24],
        len: 0,
        exp: 0,
    };
    let (mut int_len, mut lead_zeros, mut before_point, mut truncated) = (0i32, 0i32, true, false);
    for &b in mantissa.as_bytes() {
        if b == b'.' {
            before_point = false;
            continue;
        }
        if before_point {
            int_len += 1;
        }
        if d.len == 0 && b == b'0' {
            lead_zeros += 1;
        } else if d.len < d.buf.len() {
            d.buf[d.len] = b;
            d.len += 1;
        } else if b != b'0' {
            truncated = true;
        }
    }
    while !truncated && d.len > 0 && d.buf[d.len - 1] == b'0' {
        d.len -= 1;
    }
    if truncated {
        // Mark it as more digits than any float4 needs (never equal to one).
        d.buf[d.buf.len() - 1] = b'1';
    }
    d.exp = exp10 + int_len - 1 - lead_zeros;
    d
}

/// Whether the number `digits` names is exactly the midpoint between
/// `value` (positive, finite) and a neighbouring float4. Both midpoints
/// are exact in float8, and an exact float8 prints exactly with enough
/// digits.
fn on_boundary(value: f32, digits: &Digits) -> bool {
    midpoints(value)
        .iter()
        .filter(|m| m.is_finite())
        .any(|&m| decimal_parts(&format!("{m:.200e}")) == *digits)
}

/// The float8 midpoints between `value` (positive, finite) and the float4s
/// on either side (an infinity past the largest).
fn midpoints(value: f32) -> [f64; 2] {
    let v = f64::from(value);
    let up = f64::from(f32::from_bits(value.to_bits() + 1));
    let down = f64::from(f32::from_bits(value.to_bits() - 1));
    [(v + up) / 2.0, (v + down) / 2.0]
}

/// Formats a vector as `[x1,x2,...]`.
pub fn format(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 12 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        format_f32(*v, &mut out);
    }
    out.push(']');
    out
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
