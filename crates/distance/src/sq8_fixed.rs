//! An ivfflat scan's query as 16-bit fixed point, measured against 8-bit copies
//! (`crate::sq8`) with integer dot products.
//!
//! The f32 kernels of `crate::sq8` decode every code of every copy a scan
//! visits (widen, convert, multiply-add: about five instructions for
//! sixteen codes) and read four bytes of query a dimension. Here the query
//! `q` is rounded once to `q~ = oq + sq * u` with per-query `oq`, `sq`
//! and 16-bit `u = 256 h + l`, kept as two byte planes `h` and `l`. For a
//! copy `x~ = o + s * c` of `n` dimensions, with `Sc = sum(c_i)`,
//! `Sc2 = sum(c_i^2)` and `Suc = sum(u_i c_i) = 256 sum(h_i c_i) +
//! sum(l_i c_i)`, and the query's `Q1 = sum(q~_i)`, `Q2 = |q~|^2`:
//!
//! ```text
//! q~ . x~    = o Q1 + s (oq Sc + sq Suc)
//! |x~|^2     = n o^2 + 2 o s Sc + s^2 Sc2
//! |q~ - x~|^2 = Q2 - 2 q~ . x~ + |x~|^2
//! ```
//!
//! With AVX-512 VNNI the four integer sums of sixty-four codes take three
//! `vpdpbusd` (the products), a `vpsadbw` and an add (the sum) and an xor
//! (the codes flipped for `Sc2`), reading half the query bytes; the few
//! terms are combined in f64. That pays where the codes stream in page
//! after page (an ivfflat list: 6-18% faster scans at 960 and 2048
//! dimensions); an hnsw scan, which waits on memory at each element,
//! measured the same either way and keeps f32 queries.
//!
//! What a scan needs to keep its lower bounds proven: [`FixedQuery::err`]
//! bounds `|q - q~|` (computed in f64 from the values), and the f64
//! combination is off from the exact `|q~ - x~|^2` by far less than
//! [`ROUNDING`] times `(|q~| + |x~|)^2` (each term is at most a few times
//! `n (|q~| + |x~|)^2` and carries a few f64 roundings; see
//! `graph::bound::lower_bound_fixed`, which also covers the difference
//! between `x~` in exact arithmetic and the f32 value `crate::sq8`'s
//! error bound is measured against).
//!
//! A packed query travels through the graph code as any prepared query
//! does, in f32 slots ([`pack`]); [`FixedQuery::view`] tells it from a
//! plain query, and from a build's packed copy (`crate::sq8_pairs`), by
//! its length and its recorded dimensions.

/// Slots before the planes: `sq`, `oq`, `Q1` (two slots of f64 bits),
/// `Q2` (two), the error bound, the dimensions (as bits).
const HEADER: usize = 8;

/// Fewest dimensions a query is packed for (below, the f32 kernels are as
/// fast, and the lengths of plain and packed queries could meet).
pub const MIN_DIM: usize = 64;

/// What the f64 combination may be off by, relative to
/// `(|q~| + |x~|)^2`: far above the few f64 roundings of terms at most
/// `4 n` times that (n <= 16,000).
pub const ROUNDING: f64 = 1e-9;

/// Largest 16-bit code.
const TOP: f64 = 65535.0;

/// Length of a packed query of `dim` dimensions.
pub fn packed_len(dim: usize) -> usize {
    HEADER + 2 * dim.div_ceil(4)
}

/// Whether this CPU has the integer kernel (AVX-512 VNNI with BW): the
/// only place packing pays (elsewhere [`FixedQuery`] still measures
/// correctly, with a scalar loop).
pub fn has_kernel() -> bool {
    crate::sq8_pairs::has_kernel()
}

/// Packs the query `q` (finite values, in the index's dimension order) as
/// 16-bit fixed point into `out` (cleared); false, with `out` cleared,
/// when `q` has fewer than [`MIN_DIM`] dimensions.
pub fn pack(q: &[f32], out: &mut Vec<f32>) -> bool {
    out.clear();
    let n = q.len();
    if n < MIN_DIM {
        return false;
    }
    let (lo, hi) = q
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let range = hi as f64 - lo as f64;
    // the step, rounded to f32; codes are clamped, so the last one may
    // fall a little short of `hi` (the error bound measures that too)
    let sq = (range / TOP) as f32;
    let (oq, sq64) = (lo, sq as f64);
    // any code is correct (the error bound is measured from the codes):
    // the nearest one, up to the rounding of a product by the reciprocal
    let inv = if sq64 > 0.0 { 1.0 / sq64 } else { 0.0 };
    let words = n.div_ceil(4);
    let mut planes = vec![0x80u8; 8 * words]; // padding flips to code 0
    let (his, los) = planes.split_at_mut(4 * words);
    let (mut q1, mut q2, mut err2) = (0f64, 0f64, 0f64);
    for (i, &v) in q.iter().enumerate() {
        // `as` saturates: a negative value gives 0
        let u = (((v as f64 - oq as f64) * inv + 0.5) as u32).min(TOP as u32);
        his[i] = (u >> 8) as u8 ^ 0x80;
        los[i] = (u & 0xff) as u8 ^ 0x80;
        let back = oq as f64 + sq64 * u as f64;
        q1 += back;
        q2 += back * back;
        err2 += (v as f64 - back) * (v as f64 - back);
    }
    // margins for the f64 sums above (n roundings of each)
    let err = (err2.sqrt() * (1.0 + 1e-6) + 1e-30) as f32;
    let err = if (err as f64) < err2.sqrt() {
        f32::from_bits(err.to_bits() + 1)
    } else {
        err
    };
    let (q1b, q2b) = (q1.to_bits(), q2.to_bits());
    out.extend_from_slice(&[
        sq,
        oq,
        f32::from_bits(q1b as u32),
        f32::from_bits((q1b >> 32) as u32),
        f32::from_bits(q2b as u32),
        f32::from_bits((q2b >> 32) as u32),
        err,
        f32::from_bits(n as u32),
    ]);
    out.extend(
        planes
            .chunks_exact(4)
            .map(|w| f32::from_bits(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))),
    );
    true
}

/// A packed query read back.
#[derive(Debug, Clone, Copy)]
pub struct FixedQuery<'a> {
    /// Step between two 16-bit codes.
    sq: f64,
    /// Value of code 0.
    oq: f64,
    /// `sum(q~_i)`.
    q1: f64,
    /// `|q~|^2`.
    q2: f64,
    /// A bound of `|q - q~|`.
    pub err: f32,
    /// High bytes of the codes, top bit flipped, zero-padded.
    hi: &'a [u8],
    /// Low bytes likewise.
    lo: &'a [u8],
    /// Dimensions.
    dim: usize,
}

impl<'a> FixedQuery<'a> {
    /// The packed query in `q` when `q` is one of `dim` dimensions (its
    /// length and its recorded dimensions say so); `None` for any other
    /// query.
    #[inline]
    pub fn view(q: &'a [f32], dim: usize) -> Option<Self> {
        if dim < MIN_DIM || q.len() != packed_len(dim) || q[7].to_bits() as usize != dim {
            return None;
        }
        let words = &q[HEADER..];
        // SAFETY: f32 has no padding and every byte pattern is a valid u8;
        // the byte view covers exactly the memory of `words`, which it
        // borrows for 'a, and u8 needs no alignment.
        let bytes =
            unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), 4 * words.len()) };
        let (hi, lo) = bytes.split_at(bytes.len() / 2);
        let f64_at =
            |i: usize| f64::from_bits(q[i].to_bits() as u64 | (q[i + 1].to_bits() as u64) << 32);
        Some(FixedQuery {
            sq: q[0] as f64,
            oq: q[1] as f64,
            q1: f64_at(2),
            q2: f64_at(4),
            err: q[6],
            hi: &hi[..dim],
            lo: &lo[..dim],
            dim,
        })
    }

    /// `(q~ . x~, |x~|^2)` for the copy `o + s * codes`.
    #[inline]
    fn dot_and_norm2(&self, codes: &[u8], s: f64, o: f64) -> (f64, f64) {
        debug_assert_eq!(codes.len(), self.dim);
        let k = sums(codes, self.hi, self.lo);
        let sc = k.sum as f64;
        let suc = (256 * (k.hi + 128 * k.sum as i64) + k.lo + 128 * k.sum as i64) as f64;
        let sc2 = (k.sq + 128 * k.sum as i64) as f64;
        let dot = o * self.q1 + s * (self.oq * sc + self.sq * suc);
        let n = self.dim as f64;
        (dot, n * o * o + 2.0 * o * s * sc + s * s * sc2)
    }

    /// Squared L2 between the packed query and `offset + scale * codes`.
    #[inline]
    pub fn l2_squared(&self, codes: &[u8], scale: f32, offset: f32) -> f32 {
        let (dot, x2) = self.dot_and_norm2(codes, scale as f64, offset as f64);
        (self.q2 - 2.0 * dot + x2).max(0.0) as f32
    }

    /// Inner product of the packed query and `offset + scale * codes`.
    #[inline]
    pub fn dot(&self, codes: &[u8], scale: f32, offset: f32) -> f32 {
        self.dot_and_norm2(codes, scale as f64, offset as f64).0 as f32
    }
}

/// The integer sums of one copy against a query's planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSums {
    /// `sum(c_i)`.
    pub sum: u64,
    /// `sum(c_i * (c_i - 128))`.
    pub sq: i64,
    /// `sum(c_i * (h_i - 128))`.
    pub hi: i64,
    /// `sum(c_i * (l_i - 128))`.
    pub lo: i64,
}

/// [`CodeSums`] of `codes` against the flipped planes `hi`, `lo`.
#[inline]
fn sums(codes: &[u8], hi: &[u8], lo: &[u8]) -> CodeSums {
    #[cfg(target_arch = "x86_64")]
    if crate::sq8_x86::has_vnni() {
        return crate::sq8_x86::fixed_sums_vnni(codes, hi, lo);
    }
    sums_scalar(codes, hi, lo)
}

/// The scalar reference of the kernel: [`CodeSums`] of `codes` against
/// the flipped planes `hi` and `lo`.
pub fn sums_scalar(codes: &[u8], hi: &[u8], lo: &[u8]) -> CodeSums {
    let mut k = CodeSums {
        sum: 0,
        sq: 0,
        hi: 0,
        lo: 0,
    };
    for ((&c, &h), &l) in codes.iter().zip(hi).zip(lo) {
        let c = c as i64;
        k.sum += c as u64;
        k.sq += c * (c - 128);
        k.hi += c * (h as i8) as i64;
        k.lo += c * (l as i8) as i64;
    }
    k
}

/// [`CodeSums`] with the kernel this CPU runs (for tests against
/// [`sums_scalar`]).
pub fn sums_kernel(codes: &[u8], hi: &[u8], lo: &[u8]) -> CodeSums {
    sums(codes, hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sq8::Sq8Vector;
    use crate::sq8_pairs::tests::{decoded, sums_of, vectors};
    use rand::{Rng, SeedableRng};

    #[test]
    fn packed_queries_measure_the_copies_as_the_exact_formulas_do() {
        for dim in [64, 65, 127, 960, 2048, 2051] {
            let vs = vectors(dim, 12, dim as u64);
            let copies: Vec<Sq8Vector> = vs.iter().map(|v| Sq8Vector::encode(v)).collect();
            let mut packed = Vec::new();
            for q in &vs {
                assert!(pack(q, &mut packed));
                assert_eq!(packed.len(), packed_len(dim));
                let f = FixedQuery::view(&packed, dim).expect("a packed query");
                // the error bound holds and is tight: 16 bits of the range
                let qn: f64 = q.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
                let (lo, hi) = q
                    .iter()
                    .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                let step = (hi - lo) as f64 / 65535.0;
                assert!(
                    f.err as f64 <= step * (dim as f64).sqrt() + 1e-30 + 1e-6 * qn,
                    "{dim}"
                );
                // the codes as packed: each the nearest or next to it
                let back: Vec<f64> = (0..dim)
                    .map(|i| {
                        let u = ((f.hi[i] ^ 0x80) as u32) << 8 | (f.lo[i] ^ 0x80) as u32;
                        if f.sq > 0.0 {
                            let ideal = ((q[i] as f64 - f.oq) / f.sq).clamp(0.0, 65535.0);
                            assert!(
                                (u as f64 - ideal).abs() <= 0.5 + 1e-6,
                                "{dim}: {u} vs {ideal}"
                            );
                        } else {
                            assert_eq!(u, 0);
                        }
                        f.oq + f.sq * u as f64
                    })
                    .collect();
                let e: f64 = q
                    .iter()
                    .zip(&back)
                    .map(|(&a, b)| (a as f64 - b).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(e <= f.err as f64, "{dim}: {e} > {}", f.err);
                for x in &copies {
                    let dx = decoded(x);
                    let l2: f64 = back.iter().zip(&dx).map(|(a, b)| (a - b) * (a - b)).sum();
                    let dot: f64 = back.iter().zip(&dx).map(|(a, b)| a * b).sum();
                    let s = (back.iter().map(|a| a * a).sum::<f64>().sqrt()
                        + dx.iter().map(|a| a * a).sum::<f64>().sqrt())
                    .powi(2);
                    let got = f.l2_squared(&x.codes, x.scale, x.offset) as f64;
                    assert!(
                        (got - l2).abs() <= ROUNDING * s + 1e-6 * l2,
                        "{dim}: {got} vs {l2}"
                    );
                    let got = f.dot(&x.codes, x.scale, x.offset) as f64;
                    assert!(
                        (got - dot).abs() <= ROUNDING * s + 1e-6 * dot.abs(),
                        "{dim}: {got} vs {dot}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_kernel_equals_its_scalar_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for n in [0, 1, 63, 64, 65, 127, 128, 200, 256, 1000, 2048, 16000] {
            let c: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let h: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let l: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            assert_eq!(sums_kernel(&c, &h, &l), sums_scalar(&c, &h, &l), "{n}");
            // the extremes in every lane: codes 255 against -128 and 127
            let c = vec![255u8; n];
            let (h, l) = (vec![0x00u8; n], vec![0xffu8; n]);
            assert_eq!(sums_kernel(&c, &h, &l), sums_scalar(&c, &h, &l), "{n}");
        }
    }

    #[test]
    fn other_queries_are_not_taken_for_packed_ones() {
        for dim in [64, 100, 2048] {
            assert!(FixedQuery::view(&vec![0.5; dim], dim).is_none());
            let mut build = Vec::new();
            let copy = Sq8Vector::encode(&vec![0.5; dim]);
            crate::sq8_pairs::pack_query(&copy.codes, sums_of(&copy), &mut build);
            assert!(FixedQuery::view(&build, dim).is_none());
        }
        let mut packed = Vec::new();
        assert!(!pack(&[1.0; 63], &mut packed) && packed.is_empty());
        assert!(pack(&vec![1.0; 2048], &mut packed));
        assert!(FixedQuery::view(&packed, 2044).is_none());
        assert!(FixedQuery::view(&packed, 2048).is_some());
    }
}
