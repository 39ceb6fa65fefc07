//! 8-bit scalar-quantised copies of vectors (an hnsw index's `storage = 'i8'`).
//!
//! A copy is `x ~ offset + scale * codes`, one unsigned byte a dimension,
//! with the vector's own range: `offset` its smallest element, `scale` its
//! range over 255. Half the bytes of an f16 copy, so a 2048-d element takes
//! about 2.3 kB and three share a page. Like an f16 copy (`crate::half`) it
//! carries the exact norm and a proven bound `err >= |x - x8|`, computed in
//! f64 against the f32 value the kernels decode, plus a margin for the one
//! rounding by which a kernel's fused multiply-add may differ from it; a
//! scan's lower bounds of exact distances (`graph::bound`) come from it.
//! Per-vector ranges (not per-dimension ones) keep every element
//! self-contained: nothing to keep in step on the meta page, and an insert
//! outside the build's ranges loses nothing.

use crate::half::HalfVector;

/// An 8-bit copy of a vector: `x ~ offset + scale * codes`,
/// `|x - (offset + scale * codes)| <= err`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sq8Vector {
    /// Step between two codes (positive, finite).
    pub scale: f32,
    /// Value of code 0 (the vector's smallest element).
    pub offset: f32,
    /// Upper bound of the Euclidean norm of the quantisation error.
    pub err: f32,
    /// Exact Euclidean norm of the original vector.
    pub norm: f32,
    /// One code a dimension.
    pub codes: Vec<u8>,
}

/// Largest code.
const TOP: f64 = 255.0;

impl Sq8Vector {
    /// Encodes `x` (finite elements), computing its range, error bound and
    /// norm: [`encode_body`], compiled for AVX2 where the CPU has it (the
    /// same arithmetic, without fused operations: the same copy).
    pub fn encode(x: &[f32]) -> Self {
        #[cfg(target_arch = "x86_64")]
        if crate::sq8_x86::has_avx2() {
            // SAFETY: AVX2 and FMA are present (checked just above).
            return unsafe { crate::sq8_x86::encode_avx2(x) };
        }
        encode_body(x)
    }
}

/// [`Sq8Vector::encode`]'s arithmetic, inlined into each caller (so the
/// AVX2 wrapper compiles it for AVX2).
#[inline(always)]
pub(crate) fn encode_body(x: &[f32]) -> Sq8Vector {
    let (lo, hi) = range(x);
    // Slightly under range / 255, so that offset + 255 * scale never
    // rounds past the largest element (nor overflows to infinity).
    // Capped so that 255 * scale stays finite in f32 (a range wider
    // than f32's largest value; the bound then says how far off it is).
    let step = ((hi as f64 - lo as f64) / TOP * (1.0 - 1e-6)).min(f32::MAX as f64 / 256.0);
    let scale = if step >= f32::MIN_POSITIVE as f64 {
        step as f32
    } else {
        1.0 // a constant vector: every code 0, the copy exact
    };
    // Rounded to the nearest code (a float-to-int conversion that
    // saturates, not a call per element); any codes would do for the
    // bound, which is measured from them below.
    let inv = (1.0 / scale as f64) as f32;
    let codes: Vec<u8> = x.iter().map(|&v| ((v - lo) * inv + 0.5) as u8).collect();
    let norm = sum8(x, |v| v as f64 * v as f64).sqrt();
    Sq8Vector {
        scale,
        offset: lo,
        err: err_bound(x, &codes, scale, lo),
        norm: norm as f32,
        codes,
    }
}

impl Sq8Vector {
    /// Encodes the f16 copy `h` of a vector `x`: the bound covers
    /// `|x - x8| <= |x - x16| + |x16 - x8|` (a build keeps only f16 copies).
    pub fn from_half(h: &HalfVector) -> Self {
        let x16 = h.decode();
        let mut s = Sq8Vector::encode(&x16);
        s.err = ((s.err as f64 + h.err as f64) * (1.0 + 1e-6)) as f32;
        s.norm = h.norm;
        s
    }

    /// The approximate vector `offset + scale * codes` as f32.
    pub fn decode(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.codes.len()];
        decode_to(&self.codes, self.scale, self.offset, &mut out);
        out
    }
}

/// A bound of `|x - (offset + scale * codes)|`: the f64 norm of the errors
/// against the values [`decode_scalar`] computes, plus what the kernels'
/// fused multiply-adds may differ by (one f32 rounding of each decoded
/// value, at most `eps * max|decoded|` each), rounded up.
#[inline(always)]
fn err_bound(x: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    let back = |c: u8| offset + scale * c as f32;
    let (mut err2, mut top) = ([0f64; LANES], [0f32; LANES]);
    let (xs, cs) = (x.chunks_exact(LANES), codes.chunks_exact(LANES));
    let (x_rest, c_rest) = (xs.remainder(), cs.remainder());
    for (x, c) in xs.zip(cs) {
        for i in 0..LANES {
            let b = back(c[i]);
            err2[i] += (x[i] as f64 - b as f64) * (x[i] as f64 - b as f64);
            top[i] = if b.abs() > top[i] { b.abs() } else { top[i] };
        }
    }
    for (i, (&v, &c)) in x_rest.iter().zip(c_rest).enumerate() {
        let b = back(c);
        err2[i] += (v as f64 - b as f64) * (v as f64 - b as f64);
        top[i] = if b.abs() > top[i] { b.abs() } else { top[i] };
    }
    let err2: f64 = err2.iter().sum();
    let top = top.iter().fold(0f64, |t, &b| t.max(b as f64));
    let fused = (x.len() as f64).sqrt() * f32::EPSILON as f64 * top;
    ((err2.sqrt() + fused) * (1.0 + 1e-6)) as f32
}

/// Independent sums a loop below keeps (so that the compiler may use SIMD
/// lanes: float sums in one accumulator must stay in order).
const LANES: usize = 8;

/// The smallest and largest of `x` ((0, 0) when empty; NaN-free input).
#[inline(always)]
fn range(x: &[f32]) -> (f32, f32) {
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let (mut lo, mut hi) = ([x[0]; LANES], [x[0]; LANES]);
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            lo[i] = if c[i] < lo[i] { c[i] } else { lo[i] };
            hi[i] = if c[i] > hi[i] { c[i] } else { hi[i] };
        }
    }
    for (i, &v) in rest.iter().enumerate() {
        lo[i] = if v < lo[i] { v } else { lo[i] };
        hi[i] = if v > hi[i] { v } else { hi[i] };
    }
    let lo = lo.iter().fold(f32::INFINITY, |a, &b| a.min(b));
    let hi = hi.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    (lo, hi)
}

/// The f64 sum of `f` over `x`, in [`LANES`] partial sums.
#[inline(always)]
fn sum8(x: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    let mut acc = [0f64; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] += f(c[i]);
        }
    }
    for (i, &v) in rest.iter().enumerate() {
        acc[i] += f(v);
    }
    acc.iter().sum()
}

/// Scalar reference: `offset + scale * codes` into `out` (same length).
pub fn decode_scalar(codes: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = offset + scale * c as f32;
    }
}

/// Scalar reference: squared L2 between `q` and `offset + scale * codes`.
pub fn l2_squared_scalar(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        let d = x - (offset + scale * c as f32);
        sum += d * d;
    }
    sum
}

/// Scalar reference: inner product of `q` and `offset + scale * codes`.
pub fn dot_scalar(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        sum += x * (offset + scale * c as f32);
    }
    sum
}

/// Scalar reference: L1 distance between `q` and `offset + scale * codes`.
pub fn l1_scalar(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    let mut sum = 0.0f32;
    for (&x, &c) in q.iter().zip(codes) {
        sum += (x - (offset + scale * c as f32)).abs();
    }
    sum
}

/// A query kernel: `(q, codes, scale, offset)`.
pub type Sq8Kernel = fn(&[f32], &[u8], f32, f32) -> f32;
/// `offset + scale * codes` written to an f32 slice of the same length.
pub type Sq8DecodeKernel = fn(&[u8], f32, f32, &mut [f32]);

/// The 8-bit kernels of one instruction set.
#[derive(Clone, Copy)]
pub struct Sq8Kernels {
    /// Which instruction set ("avx512", "avx2", "scalar").
    pub name: &'static str,
    /// Squared L2.
    pub l2: Sq8Kernel,
    /// Inner product.
    pub dot: Sq8Kernel,
    /// L1.
    pub l1: Sq8Kernel,
    /// Decoding.
    pub decode: Sq8DecodeKernel,
}

/// The scalar references.
const SCALAR: Sq8Kernels = Sq8Kernels {
    name: "scalar",
    l2: l2_squared_scalar,
    dot: dot_scalar,
    l1: l1_scalar,
    decode: decode_scalar,
};

/// Every kernel set this CPU can run, fastest first, the scalar one last.
pub fn available_kernels() -> Vec<Sq8Kernels> {
    let mut sets = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use crate::sq8_x86;
        if crate::x86_512::has_avx512() {
            sets.push(Sq8Kernels {
                name: "avx512",
                l2: sq8_x86::l2_squared_512,
                dot: sq8_x86::dot_512,
                l1: sq8_x86::l1_512,
                decode: sq8_x86::decode_512,
            });
        }
        if sq8_x86::has_avx2() {
            sets.push(Sq8Kernels {
                name: "avx2",
                l2: sq8_x86::l2_squared_avx2,
                dot: sq8_x86::dot_avx2,
                l1: sq8_x86::l1_avx2,
                decode: sq8_x86::decode_avx2,
            });
        }
    }
    sets.push(SCALAR);
    sets
}

/// The kernels in use: the fastest set, chosen once per process.
fn kernels() -> &'static Sq8Kernels {
    static CHOSEN: std::sync::OnceLock<Sq8Kernels> = std::sync::OnceLock::new();
    CHOSEN.get_or_init(|| available_kernels()[0])
}

/// `offset + scale * codes` into `out` (as long as `codes`).
pub fn decode_to(codes: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    assert_eq!(codes.len(), out.len(), "decode_to: lengths differ");
    (kernels().decode)(codes, scale, offset, out);
}

/// Squared L2 between `q` and `offset + scale * codes`.
#[inline]
pub fn l2_squared(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().l2)(q, codes, scale, offset)
}

/// [`l2_squared`] measured [`crate::half::WITHIN_CHUNK`] dimensions at a
/// time and given up once the partial sum passes `bound`, as
/// [`crate::half::l2_squared_within`] does for f16 copies (same chunks
/// whatever the bound, so a distance within it is the same bit for bit).
#[inline]
pub fn l2_squared_within(q: &[f32], codes: &[u8], scale: f32, offset: f32, bound: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    let n = q.len().min(codes.len());
    let chunk = crate::half::WITHIN_CHUNK;
    if n <= chunk {
        return l2_squared(q, codes, scale, offset);
    }
    let l2 = kernels().l2;
    let mut sum = 0.0;
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        sum += l2(&q[start..end], &codes[start..end], scale, offset);
        if sum > bound {
            break;
        }
    }
    sum
}

/// Inner product of `q` and `offset + scale * codes`.
#[inline]
pub fn dot(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().dot)(q, codes, scale, offset)
}

/// L1 distance between `q` and `offset + scale * codes`.
#[inline]
pub fn l1(q: &[f32], codes: &[u8], scale: f32, offset: f32) -> f32 {
    debug_assert_eq!(q.len(), codes.len());
    (kernels().l1)(q, codes, scale, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// `|x - y|` in f64.
    fn dist(x: &[f32], y: &[f32]) -> f64 {
        x.iter()
            .zip(y)
            .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Vectors of many shapes: signed, non-negative with a few large
    /// elements (ResNet-like), constant, huge, tiny.
    fn shapes(rng: &mut rand::rngs::StdRng, n: usize) -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        for magnitude in [1e-30f32, 1e-6, 1.0, 1e3, 1e30, 3e38] {
            out.push(
                (0..n)
                    .map(|_| rng.gen_range(-1.0..1.0) * magnitude)
                    .collect(),
            );
        }
        out.push(
            (0..n)
                .map(|_| {
                    let v: f32 = rng.gen_range(0.0..1.0);
                    if v < 0.9 {
                        v * 0.1
                    } else {
                        v * 20.0
                    }
                })
                .collect(),
        );
        out.push(vec![4.25; n]);
        out.push(vec![f32::MAX; n]);
        out.push(
            (0..n)
                .map(|i| if i % 2 == 0 { f32::MAX } else { -f32::MAX })
                .collect(),
        );
        out
    }

    #[test]
    fn error_bound_holds_and_copy_is_finite() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(41);
        for n in [0usize, 1, 2, 7, 16, 33, 128, 960, 2048] {
            for x in shapes(&mut rng, n) {
                let s = Sq8Vector::encode(&x);
                assert!(s.scale.is_finite() && s.scale > 0.0, "n={n}");
                // (a norm past f32's range has no finite bound either)
                assert!(s.offset.is_finite(), "n={n}");
                assert!(s.err.is_finite() || !s.norm.is_finite(), "n={n}");
                let back = s.decode();
                assert!(back.iter().all(|v| v.is_finite()), "n={n}");
                let e = dist(&x, &back);
                assert!(e <= s.err as f64, "n={n}: {e} > {}", s.err);
                let norm = dist(&x, &vec![0.0; n]);
                if norm < f32::MAX as f64 {
                    assert!((norm - s.norm as f64).abs() <= 1e-6 * norm + 1e-37);
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_copy() {
        // encode_body here is compiled for the baseline; encode dispatches.
        let mut rng = rand::rngs::StdRng::seed_from_u64(43);
        for n in [0usize, 1, 2, 7, 16, 33, 128, 960, 2048] {
            for x in shapes(&mut rng, n) {
                let (a, b) = (Sq8Vector::encode(&x), encode_body(&x));
                assert_eq!(a.codes, b.codes, "n={n}");
                let bits = |s: &Sq8Vector| [s.scale, s.offset, s.err, s.norm].map(f32::to_bits);
                assert_eq!(bits(&a), bits(&b), "n={n}");
            }
        }
    }

    #[test]
    fn error_is_a_255th_of_the_range() {
        let x: Vec<f32> = (0..512).map(|i| (i as f32 * 0.37).sin()).collect();
        let s = Sq8Vector::encode(&x);
        let per_dim = 2.0 / 255.0 / 2.0;
        assert!(s.err <= per_dim * (512f32).sqrt() * 1.01, "{}", s.err);
        let c = Sq8Vector::encode(&[3.0, 3.0]);
        assert_eq!(c.decode(), [3.0, 3.0], "a constant vector is exact");
        assert!(c.err < 1e-6, "{}", c.err);
    }

    #[test]
    fn from_half_bounds_the_distance_to_the_original() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for n in [1usize, 5, 128, 2048] {
            for x in shapes(&mut rng, n) {
                let s = Sq8Vector::from_half(&HalfVector::encode(&x));
                let e = dist(&x, &s.decode());
                assert!(e <= s.err as f64, "n={n}: {e} > {}", s.err);
            }
        }
    }

    /// Every kernel set this CPU has agrees with the scalar references.
    #[test]
    fn every_kernel_set_matches_scalar() {
        let sets = available_kernels();
        println!(
            "sq8 kernel sets tested: {:?}",
            sets.iter().map(|k| k.name).collect::<Vec<_>>()
        );
        assert_eq!(sets.last().map(|k| k.name), Some("scalar"));
        let mut rng = rand::rngs::StdRng::seed_from_u64(43);
        let mut lengths: Vec<usize> = (0..=70).collect();
        lengths.extend([127, 128, 129, 255, 256, 257, 959, 960, 2047, 2048, 2049]);
        for n in lengths {
            let q: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let x: Vec<f32> = (0..n).map(|_| rng.gen_range(-0.5..2.0)).collect();
            let s = Sq8Vector::encode(&x);
            let close = |x: f32, y: f32| (x - y).abs() <= 1e-4 * x.abs().max(y.abs()).max(1e-3);
            let back = s.decode();
            let mut want = vec![0.0; n];
            decode_scalar(&s.codes, s.scale, s.offset, &mut want);
            assert!(back.iter().zip(&want).all(|(a, b)| close(*a, *b)));
            assert!(close(
                l2_squared_scalar(&q, &s.codes, s.scale, s.offset),
                crate::scalar::l2_squared(&q, &want)
            ));
            for k in &sets {
                let name = k.name;
                for (kernel, reference, what) in [
                    (k.l2, SCALAR.l2, "l2"),
                    (k.dot, SCALAR.dot, "dot"),
                    (k.l1, SCALAR.l1, "l1"),
                ] {
                    let got = kernel(&q, &s.codes, s.scale, s.offset);
                    let want = reference(&q, &s.codes, s.scale, s.offset);
                    assert!(close(got, want), "{name} {what} n={n}: {got} vs {want}");
                }
                let mut got = vec![7.0; n];
                (k.decode)(&s.codes, s.scale, s.offset, &mut got);
                assert!(got.iter().zip(&want).all(|(a, b)| close(*a, *b)), "{name}");
            }
        }
    }

    #[test]
    fn l2_within_is_exact_up_to_the_bound_and_above_it_beyond() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(44);
        for n in [1usize, 255, 256, 257, 2048] {
            let x: Vec<f32> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
            let q: Vec<f32> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
            let s = Sq8Vector::encode(&x);
            let full = l2_squared_within(&q, &s.codes, s.scale, s.offset, f32::INFINITY);
            assert!((full - l2_squared(&q, &s.codes, s.scale, s.offset)).abs() <= 1e-4 * full);
            let within = l2_squared_within(&q, &s.codes, s.scale, s.offset, full * 1.01);
            assert_eq!(within, full, "n={n}");
            let bound = full * 0.3;
            let got = l2_squared_within(&q, &s.codes, s.scale, s.offset, bound);
            assert!(got > bound && got <= full * (1.0 + 1e-5), "n={n}");
        }
    }
}
