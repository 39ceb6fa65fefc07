//! Half-precision (f16) copies of vectors for graph traversal.
//!
//! The HNSW index keeps an f16 copy of every vector beside its neighbour
//! list: half the bytes of float4, so a 2048-d element fits in one 8 kB page.
//! Each copy carries a scale (for vectors whose elements exceed f16's range)
//! and an error bound `err >= |x - scale * codes|`, from which a scan gets
//! a guaranteed lower bound of the exact distance; the executor then
//! re-sorts by exact distance (see `src/hnsw/scan.rs`).

use half::f16;
use half::slice::HalfFloatSliceExt;
use half::vec::HalfFloatVecExt;

/// Largest magnitude stored unscaled; beyond it the vector is scaled down.
/// A power of two, so `max / MAX_UNSCALED` is exact and codes times the
/// scale never exceed the largest input (no overflow to infinity).
const MAX_UNSCALED: f32 = 16384.0;

/// An f16 copy of a vector: `x ~ scale * codes`, `|x - scale * codes| <= err`.
#[derive(Debug, Clone, PartialEq)]
pub struct HalfVector {
    /// Multiplier applied to every code.
    pub scale: f32,
    /// Upper bound of the Euclidean norm of the rounding error.
    pub err: f32,
    /// Exact Euclidean norm of the original vector.
    pub norm: f32,
    /// The f16 bit patterns.
    pub codes: Vec<u16>,
}

impl HalfVector {
    /// Encodes `x`, computing its scale, error bound and norm.
    ///
    /// The conversions run on whole slices (F16C where the CPU has it,
    /// through the `half` crate) and the sums in eight f64 lanes, so a
    /// build's main thread spends a few microseconds on a 2048-d vector
    /// instead of fifteen; a test holds it to a per-element reference.
    pub fn encode(x: &[f32]) -> Self {
        let scale = scale_for(lanes_max_abs(x));
        let mut halves = vec![f16::ZERO; x.len()];
        if scale == 1.0 {
            halves.convert_from_f32_slice(x);
        } else {
            let scaled: Vec<f32> = x.iter().map(|&v| v / scale).collect();
            halves.convert_from_f32_slice(&scaled);
        }
        let mut back = vec![0.0f32; x.len()];
        halves.convert_to_f32_slice(&mut back);
        // Against the f32 product the kernels use, not the exact one.
        let (err2, norm2) = lanes_err_norm(x, &back, scale);
        HalfVector {
            scale,
            err: err_bound(err2),
            norm: norm2.sqrt() as f32,
            codes: halves.reinterpret_into(),
        }
    }

    /// The approximate vector `scale * codes` as f32.
    pub fn decode(&self) -> Vec<f32> {
        decode(&self.codes, self.scale)
    }
}

/// The scale for a vector whose largest magnitude is `max`: 1 unless its
/// elements exceed f16's comfortable range.
fn scale_for(max: f32) -> f32 {
    if max > MAX_UNSCALED {
        max / MAX_UNSCALED
    } else {
        1.0
    }
}

/// An f64 sum of squared errors as an f32 bound, rounded up so that it
/// stays a bound after the cast.
fn err_bound(err2: f64) -> f32 {
    (err2.sqrt() * (1.0 + 1e-6)) as f32
}

/// Lanes of the vectorisable loops below.
const LANES: usize = 8;

/// `max |x_i|`, in [`LANES`] independent lanes the compiler vectorises.
fn lanes_max_abs(x: &[f32]) -> f32 {
    let mut m = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            m[l] = m[l].max(c[l].abs());
        }
    }
    tail.iter()
        .fold(m.iter().fold(0.0f32, |a, &b| a.max(b)), |a, v| {
            a.max(v.abs())
        })
}

/// `(sum (x_i - scale * back_i)^2, sum x_i^2)` in f64, in [`LANES`] lanes.
fn lanes_err_norm(x: &[f32], back: &[f32], scale: f32) -> (f64, f64) {
    let (mut e, mut n) = ([0.0f64; LANES], [0.0f64; LANES]);
    let term = |v: f32, b: f32| {
        let v = v as f64;
        let d = v - (b * scale) as f64;
        (d * d, v * v)
    };
    let (xs, bs) = (x.chunks_exact(LANES), back.chunks_exact(LANES));
    let (xt, bt) = (xs.remainder(), bs.remainder());
    for (xc, bc) in xs.zip(bs) {
        for l in 0..LANES {
            let (de, dn) = term(xc[l], bc[l]);
            e[l] += de;
            n[l] += dn;
        }
    }
    for (&v, &b) in xt.iter().zip(bt) {
        let (de, dn) = term(v, b);
        e[0] += de;
        n[0] += dn;
    }
    (e.iter().sum(), n.iter().sum())
}

/// [`HalfVector::encode`] one element at a time: the reference the
/// vectorised version must match bit for bit.
#[cfg(test)]
fn encode_scalar(x: &[f32]) -> HalfVector {
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = scale_for(max);
    let codes: Vec<u16> = x
        .iter()
        .map(|&v| f16::from_f32(v / scale).to_bits())
        .collect();
    let (mut err2, mut norm2) = (0.0f64, 0.0f64);
    for (&v, &c) in x.iter().zip(&codes) {
        let d = v as f64 - (f16::from_bits(c).to_f32() * scale) as f64;
        err2 += d * d;
        norm2 += v as f64 * v as f64;
    }
    HalfVector {
        scale,
        err: err_bound(err2),
        norm: norm2.sqrt() as f32,
        codes,
    }
}

/// `scale * codes` as f32.
pub fn decode(codes: &[u16], scale: f32) -> Vec<f32> {
    let mut out = Vec::new();
    decode_into(codes, scale, &mut out);
    out
}

/// `scale * codes` as f32, written over `out`, with the SIMD kernels
/// (several times faster than element by element, or than the `half`
/// crate's slice conversion, which calls out per eight elements): the
/// graph's neighbour selection decodes each candidate it compares.
pub fn decode_into(codes: &[u16], scale: f32, out: &mut Vec<f32>) {
    out.clear();
    out.resize(codes.len(), 0.0);
    decode_to(codes, scale, out);
}

/// `scale * codes` as f32 into `out` (as long as `codes`), with the SIMD
/// kernels; for a caller that reuses one buffer of the right length (no
/// clearing and zero-filling per vector, as [`decode_into`] does).
pub fn decode_to(codes: &[u16], scale: f32, out: &mut [f32]) {
    assert_eq!(codes.len(), out.len(), "decode_to: lengths differ");
    (kernels().decode)(codes, scale, out);
}

/// Scalar reference: `scale * codes` into `out`.
pub fn decode_scalar(codes: &[u16], scale: f32, out: &mut [f32]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = f16::from_bits(c).to_f32() * scale;
    }
}

/// Scalar reference: squared L2 between `q` and `scale * codes`.
pub fn l2_squared_scalar(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        let d = x - f16::from_bits(c).to_f32() * scale;
        sum += d * d;
    }
    sum
}

/// Scalar reference: inner product of `q` and `scale * codes`.
pub fn dot_scalar(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        sum += x * f16::from_bits(c).to_f32();
    }
    sum * scale
}

/// Scalar reference: squared L2 between `sa * a` and `sb * b`.
pub fn l2_squared_pair_scalar(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &y) in a.iter().zip(b) {
        let d = f16::from_bits(x).to_f32() * sa - f16::from_bits(y).to_f32() * sb;
        sum += d * d;
    }
    sum
}

/// Scalar reference: inner product of `sa * a` and `sb * b`.
pub fn dot_pair_scalar(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &y) in a.iter().zip(b) {
        sum += f16::from_bits(x).to_f32() * f16::from_bits(y).to_f32();
    }
    sum * sa * sb
}

/// Scalar reference: L1 distance between `q` and `scale * codes`.
pub fn l1_scalar(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        sum += (x - f16::from_bits(c).to_f32() * scale).abs();
    }
    sum
}

/// Scalar reference: L1 distance between `sa * a` and `sb * b`.
pub fn l1_pair_scalar(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &y) in a.iter().zip(b) {
        sum += (f16::from_bits(x).to_f32() * sa - f16::from_bits(y).to_f32() * sb).abs();
    }
    sum
}

/// A query kernel: `(q, codes, scale)`.
pub type QueryKernel = fn(&[f32], &[u16], f32) -> f32;
/// A pair kernel: `(a, sa, b, sb)`.
pub type PairKernel = fn(&[u16], f32, &[u16], f32) -> f32;

/// `scale * codes` written to an f32 slice of the same length.
pub type DecodeKernel = fn(&[u16], f32, &mut [f32]);

/// The f16 kernels of one instruction set.
#[derive(Clone, Copy)]
pub struct HalfKernels {
    /// Which instruction set ("avx512", "avx2", "scalar").
    pub name: &'static str,
    l2: QueryKernel,
    dot: QueryKernel,
    l1: QueryKernel,
    l2_pair: PairKernel,
    dot_pair: PairKernel,
    l1_pair: PairKernel,
    decode: DecodeKernel,
}

/// The scalar references.
const SCALAR: HalfKernels = HalfKernels {
    name: "scalar",
    l2: l2_squared_scalar,
    dot: dot_scalar,
    l1: l1_scalar,
    l2_pair: l2_squared_pair_scalar,
    dot_pair: dot_pair_scalar,
    l1_pair: l1_pair_scalar,
    decode: decode_scalar,
};

/// Every kernel set this CPU can run, fastest first, the scalar one last.
pub fn available_kernels() -> Vec<HalfKernels> {
    let mut sets = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use crate::{x86, x86_512};
        if x86_512::has_avx512() {
            sets.push(HalfKernels {
                name: "avx512",
                l2: x86_512::l2_squared_f16,
                dot: x86_512::dot_f16,
                l1: x86_512::l1_f16,
                l2_pair: x86_512::l2_squared_f16_pair,
                dot_pair: |a, sa, b, sb| x86_512::dot_f16_pair(a, b) * sa * sb,
                l1_pair: x86_512::l1_f16_pair,
                decode: x86_512::decode,
            });
        }
        if x86::has_f16c() {
            sets.push(HalfKernels {
                name: "avx2",
                l2: x86::l2_squared_f16,
                dot: x86::dot_f16,
                l1: x86::l1_f16,
                l2_pair: x86::l2_squared_f16_pair,
                dot_pair: |a, sa, b, sb| x86::dot_f16_pair(a, b) * sa * sb,
                l1_pair: x86::l1_f16_pair,
                decode: x86::decode,
            });
        }
    }
    sets.push(SCALAR);
    sets
}

/// The kernels in use: the fastest set, chosen once per process.
fn kernels() -> &'static HalfKernels {
    static CHOSEN: std::sync::OnceLock<HalfKernels> = std::sync::OnceLock::new();
    CHOSEN.get_or_init(|| available_kernels()[0])
}

/// Squared L2 between `q` and `scale * codes`.
#[inline]
pub fn l2_squared(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().l2)(q, codes, scale)
}

/// Dimensions measured between two looks at the bound in
/// [`l2_squared_within`]: 512 bytes of f16 codes, eight cache lines.
pub const WITHIN_CHUNK: usize = 256;

/// Squared L2 between `q` and `scale * codes`, measured a chunk of
/// [`WITHIN_CHUNK`] dimensions at a time and given up as soon as the sum
/// so far exceeds `bound` (partial distance search): the result is the
/// exact value when it is at most `bound`, and otherwise some value above
/// `bound` (the partial sum, a lower bound of the whole). Every term is a
/// square, so the sum only grows and giving up never misjudges a vector
/// as beyond the bound. Stops earliest when the dimensions come with the
/// largest spread first (an index orders them so, see `pageformat`).
/// Sums in the same chunks whatever the bound, so a vector's distance is
/// the same bit for bit with any bound it is within (searches on
/// different stores then agree exactly).
#[inline]
pub fn l2_squared_within(q: &[f32], codes: &[u16], scale: f32, bound: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    let n = q.len().min(codes.len());
    if n <= WITHIN_CHUNK {
        return l2_squared(q, codes, scale);
    }
    let l2 = kernels().l2;
    let mut sum = 0.0;
    for start in (0..n).step_by(WITHIN_CHUNK) {
        let end = (start + WITHIN_CHUNK).min(n);
        sum += l2(&q[start..end], &codes[start..end], scale);
        if sum > bound {
            break;
        }
    }
    sum
}

/// Inner product of `q` and `scale * codes`.
#[inline]
pub fn dot(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().dot)(q, codes, scale)
}

/// L1 distance between `q` and `scale * codes`.
#[inline]
pub fn l1(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().l1)(q, codes, scale)
}

/// Squared L2 between two f16 copies `sa * a` and `sb * b` (the in-memory
/// graph of a build compares its nodes with each other).
#[inline]
pub fn l2_squared_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().l2_pair)(a, sa, b, sb)
}

/// Inner product of two f16 copies `sa * a` and `sb * b`.
#[inline]
pub fn dot_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().dot_pair)(a, sa, b, sb)
}

/// L1 distance between two f16 copies `sa * a` and `sb * b`.
#[inline]
pub fn l1_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().l1_pair)(a, sa, b, sb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn every_decode_kernel_equals_the_element_by_element_one() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        let mut out = vec![7.0; 3]; // stale contents are overwritten
        for n in [0usize, 1, 7, 8, 9, 128, 2049] {
            for scale in [1.0f32, 0.5, 3.7e4] {
                let codes: Vec<u16> = (0..n)
                    .map(|_| f16::from_f32(rng.gen_range(-65_000.0..65_000.0)).to_bits())
                    .collect();
                decode_into(&codes, scale, &mut out);
                let want: Vec<f32> = codes
                    .iter()
                    .map(|&c| f16::from_bits(c).to_f32() * scale)
                    .collect();
                assert_eq!(out, want, "n={n} scale={scale}");
                for k in available_kernels() {
                    let mut got = vec![0.0; n];
                    (k.decode)(&codes, scale, &mut got);
                    assert_eq!(got, want, "{} n={n} scale={scale}", k.name);
                }
            }
        }
    }

    #[test]
    fn error_bound_holds_and_kernels_match_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for n in [1usize, 7, 8, 15, 16, 17, 33, 128, 129, 2048, 2049] {
            for magnitude in [1e-6f32, 1.0, 1e3, 1e6, 3e38] {
                let x: Vec<f32> = (0..n)
                    .map(|_| rng.gen_range(-1.0..1.0) * magnitude)
                    .collect();
                let h = HalfVector::encode(&x);
                let back = h.decode();
                let err: f64 = x
                    .iter()
                    .zip(&back)
                    .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                    .sum::<f64>()
                    .sqrt();
                assert!(
                    err <= h.err as f64 * (1.0 + 1e-5) + 1e-30,
                    "n={n} mag={magnitude}"
                );
                assert!(back.iter().all(|v| v.is_finite()), "n={n} mag={magnitude}");
                if magnitude > 1e30 {
                    continue; // the products below overflow f32 by design
                }
                let q: Vec<f32> = (0..n)
                    .map(|_| rng.gen_range(-1.0..1.0) * magnitude)
                    .collect();
                let (a, b) = (
                    l2_squared(&q, &h.codes, h.scale),
                    l2_squared_scalar(&q, &h.codes, h.scale),
                );
                assert!(
                    (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-30),
                    "l2 n={n}"
                );
                let (a, b) = (
                    dot(&q, &h.codes, h.scale),
                    dot_scalar(&q, &h.codes, h.scale),
                );
                let tol = 1e-4 * q.iter().zip(&back).map(|(x, y)| (x * y).abs()).sum::<f32>();
                assert!((a - b).abs() <= tol.max(1e-30), "dot n={n}");
            }
        }
    }

    #[test]
    fn l2_within_is_exact_up_to_the_bound_and_above_it_beyond() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for n in [1usize, 255, 256, 257, 700, 2048, 2049] {
            for _ in 0..20 {
                let x: Vec<f32> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
                let q: Vec<f32> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
                let h = HalfVector::encode(&x);
                let full = l2_squared(&q, &h.codes, h.scale);
                let close = |a: f32| (a - full).abs() <= 1e-5 * full.max(1e-30);
                assert!(close(l2_squared_within(
                    &q,
                    &h.codes,
                    h.scale,
                    f32::INFINITY
                )));
                // a bound the vector is within: the exact value
                assert!(
                    close(l2_squared_within(&q, &h.codes, h.scale, full * 1.01)),
                    "n={n}"
                );
                // a bound it is beyond: something above the bound, at most the whole
                for share in [0.05f32, 0.3, 0.6, 0.95] {
                    let bound = full * share;
                    let got = l2_squared_within(&q, &h.codes, h.scale, bound);
                    assert!(
                        got > bound && got <= full * (1.0 + 1e-5),
                        "n={n} share={share}"
                    );
                    if n > 2 * WITHIN_CHUNK && share < 0.1 {
                        assert!(got < full * 0.9, "n={n}: a low bound stops early");
                    }
                }
            }
        }
    }

    #[test]
    fn pair_kernels_match_reference_and_decoded_f32() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for n in [0usize, 1, 7, 8, 15, 16, 17, 33, 128, 129, 2048, 2049] {
            for magnitude in [1e-3f32, 1.0, 1e5] {
                let mut draw = || -> Vec<f32> {
                    (0..n)
                        .map(|_| rng.gen_range(-1.0..1.0) * magnitude)
                        .collect()
                };
                let (a, b) = (HalfVector::encode(&draw()), HalfVector::encode(&draw()));
                let (da, db) = (a.decode(), b.decode());
                let close = |x: f32, y: f32, scale: f32| (x - y).abs() <= 1e-4 * scale.max(1e-30);
                let l2 = l2_squared_pair(&a.codes, a.scale, &b.codes, b.scale);
                let want = crate::scalar::l2_squared(&da, &db);
                assert!(
                    close(l2, want, want),
                    "l2 n={n} mag={magnitude}: {l2} vs {want}"
                );
                let r = l2_squared_pair_scalar(&a.codes, a.scale, &b.codes, b.scale);
                assert!(close(l2, r, want), "l2 scalar n={n}");
                let dot = dot_pair(&a.codes, a.scale, &b.codes, b.scale);
                let want = crate::scalar::inner_product(&da, &db);
                let mag: f32 = da.iter().zip(&db).map(|(x, y)| (x * y).abs()).sum();
                assert!(
                    close(dot, want, mag),
                    "dot n={n} mag={magnitude}: {dot} vs {want}"
                );
                let r = dot_pair_scalar(&a.codes, a.scale, &b.codes, b.scale);
                assert!(close(dot, r, mag), "dot scalar n={n}");
            }
        }
    }

    #[test]
    fn relative_error_is_f16_precision() {
        let x: Vec<f32> = (0..512).map(|i| (i as f32 * 0.37).sin()).collect();
        let h = HalfVector::encode(&x);
        assert_eq!(h.scale, 1.0);
        assert!(h.err / h.norm < 1e-3, "{} / {}", h.err, h.norm);
        assert!((h.norm as f64 - crate::norm(&x)).abs() < 1e-5);
    }

    /// Every kernel set this CPU has (AVX-512F, AVX2 + F16C), not only the
    /// one in use, agrees with the scalar references, for all six kernels;
    /// the L1 references agree with L1 over the decoded vectors.
    #[test]
    fn every_kernel_set_matches_scalar() {
        let sets = available_kernels();
        println!(
            "kernel sets tested: {:?}",
            sets.iter().map(|k| k.name).collect::<Vec<_>>()
        );
        assert_eq!(sets.last().map(|k| k.name), Some("scalar"));
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for n in [
            0usize, 1, 7, 8, 15, 16, 17, 31, 32, 33, 48, 127, 128, 2048, 2049,
        ] {
            let mut draw = || -> Vec<f32> { (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect() };
            let (q, a, b) = (
                draw(),
                HalfVector::encode(&draw()),
                HalfVector::encode(&draw()),
            );
            let close = |x: f32, y: f32| (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1e-3);
            let (da, db) = (a.decode(), b.decode());
            assert!(close(
                l1_scalar(&q, &a.codes, a.scale),
                crate::scalar::l1(&q, &da)
            ));
            assert!(close(
                l1_pair_scalar(&a.codes, a.scale, &b.codes, b.scale),
                crate::scalar::l1(&da, &db)
            ));
            for k in &sets {
                let name = k.name;
                for (kernel, reference, what) in [
                    (k.l2, SCALAR.l2, "l2"),
                    (k.dot, SCALAR.dot, "dot"),
                    (k.l1, SCALAR.l1, "l1"),
                ] {
                    let (got, want) = (
                        kernel(&q, &a.codes, a.scale),
                        reference(&q, &a.codes, a.scale),
                    );
                    assert!(close(got, want), "{name} {what} n={n}: {got} vs {want}");
                }
                for (kernel, reference, what) in [
                    (k.l2_pair, SCALAR.l2_pair, "l2 pair"),
                    (k.dot_pair, SCALAR.dot_pair, "dot pair"),
                    (k.l1_pair, SCALAR.l1_pair, "l1 pair"),
                ] {
                    let got = kernel(&a.codes, a.scale, &b.codes, b.scale);
                    let want = reference(&a.codes, a.scale, &b.codes, b.scale);
                    assert!(close(got, want), "{name} {what} n={n}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn encode_matches_the_per_element_reference() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(31);
        for n in [0usize, 1, 3, 7, 8, 9, 16, 31, 33, 128, 2048, 2051] {
            for magnitude in [1e-7f32, 1e-4, 1.0, 3e4, 1e9] {
                let mut x: Vec<f32> = (0..n)
                    .map(|_| rng.gen_range(-1.0f32..1.0) * magnitude)
                    .collect();
                // Exact halfway cases between two f16 values, and -0.
                if n >= 4 {
                    x[0] = 1.0 + 2f32.powi(-11);
                    x[1] = -0.0;
                    x[2] = 2f32.powi(-24) * 1.5; // an f16 subnormal halfway
                    x[3] = 65504.0 / 4.0;
                }
                let (got, want) = (HalfVector::encode(&x), encode_scalar(&x));
                assert_eq!(got.codes, want.codes, "n={n} magnitude={magnitude}");
                assert_eq!(got.scale, want.scale, "n={n} magnitude={magnitude}");
                let near = |a: f32, b: f32| (a - b).abs() <= 1e-6 * a.abs().max(b.abs());
                assert!(near(got.err, want.err), "{} vs {}", got.err, want.err);
                assert!(near(got.norm, want.norm), "{} vs {}", got.norm, want.norm);
            }
        }
    }
}
