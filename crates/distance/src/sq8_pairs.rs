//! Distances between two 8-bit copies (`crate::sq8`) from integer sums of
//! their codes, for an index build, whose queries are the graph's own
//! nodes.
//!
//! A copy is `x = o + s * c` with per-copy `o`, `s` and byte codes `c`.
//! For two copies `a` and `b` of `n` dimensions, with `A1 = sum(a_i)`,
//! `A2 = sum(a_i^2)` (likewise `B1`, `B2`) and `AB = sum(a_i * b_i)`:
//!
//! ```text
//! |x_a - x_b|^2 = n (o_a - o_b)^2 + s_a^2 A2 + s_b^2 B2
//!               + 2 (o_a - o_b) (s_a A1 - s_b B1) - 2 s_a s_b AB
//! x_a . x_b     = n o_a o_b + o_a s_b B1 + o_b s_a A1 + s_a s_b AB
//! ```
//!
//! `A1`, `A2` are computed once per copy and `AB` is exact integer
//! arithmetic, which AVX-512 VNNI does 64 codes an instruction (the
//! f32 kernels of `crate::sq8` widen, convert and decode each code: about
//! five instructions for sixteen). The few terms are combined in f64, so
//! the result is the distance between the two decoded copies up to a few
//! f64 roundings of values as large as the copies' squared norms: a
//! build's graph is the same one the f32 kernels would give, measured
//! faster. Only used where the CPU has VNNI ([`has_kernel`]); elsewhere
//! the f32 kernels serve, and a build's queries stay f32 vectors.
//!
//! A query is packed into f32 slots ([`pack_query`]) so that it travels
//! through the graph code as any prepared query does; [`QueryCodes::view`]
//! tells a packed query from a plain one by its length.

/// Scalars of one copy that the pair formulas need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopySums {
    /// Step between two codes.
    pub scale: f32,
    /// Value of code 0.
    pub offset: f32,
    /// `sum(c_i)`.
    pub sum: u32,
    /// `sum(c_i^2)`.
    pub sum_sq: u32,
}

/// Slots of a packed query before its codes: scale, offset, sum, sum of
/// squares (as bits), the decoded copy's norm.
const HEADER: usize = 5;

/// Whether this CPU has the integer kernel (AVX-512 VNNI with BW).
pub fn has_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::sq8_x86::has_vnni()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `(sum(c_i), sum(c_i^2))` of a copy's codes (at most 16,000 of them, so
/// neither sum overflows).
pub fn code_sums(codes: &[u8]) -> (u32, u32) {
    codes.iter().fold((0u32, 0u32), |(s, q), &c| {
        (s + c as u32, q + c as u32 * c as u32)
    })
}

/// Length of a packed query of `dim` dimensions.
pub fn packed_len(dim: usize) -> usize {
    HEADER + dim.div_ceil(4)
}

/// Packs the copy `codes` with scalars `sums` (its `sum`s from
/// [`code_sums`]) as a query into `out` (cleared): [`HEADER`] scalars,
/// then the codes with their top bit flipped (`c - 128` as signed bytes,
/// what the kernel multiplies by), four to a slot in memory order, in bit
/// patterns only ever copied, never computed on.
pub fn pack_query(codes: &[u8], sums: CopySums, out: &mut Vec<f32>) {
    debug_assert_eq!((sums.sum, sums.sum_sq), code_sums(codes));
    let norm = l2_squared_decoded_norm(codes.len(), sums).sqrt() as f32;
    out.clear();
    out.extend_from_slice(&[
        sums.scale,
        sums.offset,
        f32::from_bits(sums.sum),
        f32::from_bits(sums.sum_sq),
        norm,
    ]);
    let words = codes.chunks_exact(4);
    let rest = words.remainder();
    out.extend(words.map(|c| {
        let word = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
        f32::from_bits(word ^ 0x8080_8080)
    }));
    if !rest.is_empty() {
        let mut word = [0x80u8; 4]; // padding flips to 0: adds nothing
        word[..rest.len()].copy_from_slice(rest);
        out.push(f32::from_bits(u32::from_ne_bytes(word) ^ 0x8080_8080));
    }
}

/// Squared norm of the decoded copy: `n o^2 + 2 o s S1 + s^2 S2`.
fn l2_squared_decoded_norm(n: usize, c: CopySums) -> f64 {
    let (o, s) = (c.offset as f64, c.scale as f64);
    n as f64 * o * o + 2.0 * o * s * c.sum as f64 + s * s * c.sum_sq as f64
}

/// A packed query read back: its sums, the decoded copy's norm and its
/// flipped codes.
#[derive(Debug, Clone, Copy)]
pub struct QueryCodes<'a> {
    /// The query copy's scalars.
    pub sums: CopySums,
    /// Euclidean norm of the decoded query copy.
    pub norm: f32,
    /// `c_i ^ 0x80` for each code, zero-padded to a multiple of four.
    flipped: &'a [u8],
    /// Dimensions.
    dim: usize,
}

impl<'a> QueryCodes<'a> {
    /// The packed query in `q` when `q` is one for `dim` dimensions (its
    /// length says so: a plain query has `dim` slots, which no packed one
    /// of more than eight dimensions has); `None` for a plain query.
    pub fn view(q: &'a [f32], dim: usize) -> Option<Self> {
        if dim <= 8 || q.len() != packed_len(dim) {
            return None;
        }
        let words = &q[HEADER..];
        // SAFETY: f32 has no padding and every byte pattern is a valid u8;
        // the byte view covers exactly the memory of `words`, which it
        // borrows for 'a, and u8 needs no alignment.
        let flipped =
            unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), 4 * words.len()) };
        Some(QueryCodes {
            sums: CopySums {
                scale: q[0],
                offset: q[1],
                sum: q[2].to_bits(),
                sum_sq: q[3].to_bits(),
            },
            norm: q[4],
            flipped: &flipped[..dim],
            dim,
        })
    }

    /// `sum(a_i * b_i)` of the query's codes `a` and `codes`.
    #[inline]
    fn dot_codes(&self, codes: &[u8], b_sum: u32) -> i64 {
        debug_assert_eq!(codes.len(), self.dim);
        // kernel: sum(b_i * (a_i - 128)) = AB - 128 B1
        kernel(codes, self.flipped) + 128 * b_sum as i64
    }

    /// Squared L2 between the decoded query copy and the copy `codes`
    /// with scalars `b` (its `sum`s from [`code_sums`]).
    #[inline]
    pub fn l2_squared(&self, codes: &[u8], b: CopySums) -> f32 {
        let ab = self.dot_codes(codes, b.sum) as f64;
        let a = self.sums;
        let (sa, sb) = (a.scale as f64, b.scale as f64);
        let d_o = a.offset as f64 - b.offset as f64;
        let d2 = self.dim as f64 * d_o * d_o
            + sa * sa * a.sum_sq as f64
            + sb * sb * b.sum_sq as f64
            + 2.0 * d_o * (sa * a.sum as f64 - sb * b.sum as f64)
            - 2.0 * sa * sb * ab;
        d2.max(0.0) as f32
    }

    /// Inner product of the decoded query copy and the copy `codes`.
    #[inline]
    pub fn dot(&self, codes: &[u8], b: CopySums) -> f32 {
        let ab = self.dot_codes(codes, b.sum) as f64;
        let a = self.sums;
        let (sa, sb) = (a.scale as f64, b.scale as f64);
        let (oa, ob) = (a.offset as f64, b.offset as f64);
        (self.dim as f64 * oa * ob + oa * sb * b.sum as f64 + ob * sa * a.sum as f64 + sa * sb * ab)
            as f32
    }
}

/// `sum(b_i * (f_i as i8))` over codes `b` and flipped query codes `f`.
#[inline]
fn kernel(b: &[u8], flipped: &[u8]) -> i64 {
    #[cfg(target_arch = "x86_64")]
    if crate::sq8_x86::has_vnni() {
        return crate::sq8_x86::code_dot_vnni(b, flipped);
    }
    kernel_scalar(b, flipped)
}

/// The scalar reference of [`kernel`].
pub fn kernel_scalar(b: &[u8], flipped: &[u8]) -> i64 {
    b.iter()
        .zip(flipped)
        .map(|(&b, &f)| b as i64 * (f as i8) as i64)
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sq8::Sq8Vector;
    use rand::{Rng, SeedableRng};

    /// Random vectors of `dim` dimensions of four shapes: signed of
    /// varied scale, sparse and non-negative as image features are, far
    /// from zero, constant.
    pub(crate) fn vectors(dim: usize, count: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..count)
            .map(|k| {
                (0..dim)
                    .map(|_| match k % 4 {
                        0 => rng.gen_range(-3.0f32..3.0) * 10f32.powi(rng.gen_range(-2..3)),
                        1 => rng.gen_range(-1.0f32..2.0).max(0.0) * 4.0,
                        2 => rng.gen_range(100.0f32..101.0),
                        _ => 0.25,
                    })
                    .collect()
            })
            .collect()
    }

    /// The copy's decoded values in f64 (`offset + scale * code`).
    pub(crate) fn decoded(x: &Sq8Vector) -> Vec<f64> {
        x.codes
            .iter()
            .map(|&c| x.offset as f64 + x.scale as f64 * c as f64)
            .collect()
    }

    /// The copy's scalars.
    pub(crate) fn sums_of(x: &Sq8Vector) -> CopySums {
        let (sum, sum_sq) = code_sums(&x.codes);
        CopySums {
            scale: x.scale,
            offset: x.offset,
            sum,
            sum_sq,
        }
    }

    #[test]
    fn pair_distances_match_the_decoded_copies() {
        for dim in [9, 63, 64, 65, 257, 960, 2048, 2051] {
            let copies: Vec<Sq8Vector> = vectors(dim, 12, dim as u64)
                .iter()
                .map(|v| Sq8Vector::encode(v))
                .collect();
            let mut packed = Vec::new();
            for a in &copies {
                pack_query(&a.codes, sums_of(a), &mut packed);
                assert_eq!(packed.len(), packed_len(dim));
                let q = QueryCodes::view(&packed, dim).expect("a packed query");
                let da = decoded(a);
                let na = da.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert!((q.norm as f64 - na).abs() <= 1e-5 * na.max(1.0), "{dim}");
                for b in &copies {
                    let db = decoded(b);
                    let l2: f64 = da.iter().zip(&db).map(|(x, y)| (x - y) * (x - y)).sum();
                    let dot: f64 = da.iter().zip(&db).map(|(x, y)| x * y).sum();
                    let scale = na * na + db.iter().map(|x| x * x).sum::<f64>();
                    let got = q.l2_squared(&b.codes, sums_of(b)) as f64;
                    assert!(
                        (got - l2).abs() <= 1e-6 * scale + 1e-6 * l2,
                        "{dim}: {got} vs {l2}"
                    );
                    let got = q.dot(&b.codes, sums_of(b)) as f64;
                    assert!((got - dot).abs() <= 1e-6 * scale, "{dim}: {got} vs {dot}");
                }
            }
        }
    }

    #[test]
    fn a_copy_is_at_distance_zero_from_itself() {
        for v in vectors(2048, 6, 7) {
            let x = Sq8Vector::encode(&v);
            let mut packed = Vec::new();
            pack_query(&x.codes, sums_of(&x), &mut packed);
            let q = QueryCodes::view(&packed, 2048).unwrap();
            let d = q.l2_squared(&x.codes, sums_of(&x));
            assert!(d >= 0.0 && d <= 1e-6 * (q.norm * q.norm), "{d}");
        }
    }

    #[test]
    fn the_kernel_equals_its_scalar_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for n in [0, 1, 63, 64, 65, 127, 128, 200, 256, 1000, 2048, 16000] {
            let b: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            let mut f: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            // the extremes: 255 * 127 and 255 * -128 in every lane
            if n == 16000 {
                f.iter_mut().for_each(|x| *x = 0x80);
            }
            let mut all_ff = b.clone();
            all_ff.iter_mut().for_each(|x| *x = 255);
            assert_eq!(kernel(&b, &f), kernel_scalar(&b, &f), "{n}");
            assert_eq!(kernel(&all_ff, &f), kernel_scalar(&all_ff, &f), "{n}");
        }
    }

    #[test]
    fn a_plain_query_is_not_taken_for_a_packed_one() {
        for dim in [9, 100, 2048] {
            assert!(QueryCodes::view(&vec![0.5; dim], dim).is_none());
        }
        let packed = vec![0.0; packed_len(2048)];
        assert!(QueryCodes::view(&packed, 2044).is_none());
        assert!(QueryCodes::view(&packed, 2048).is_some());
    }
}
