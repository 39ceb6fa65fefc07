//! Distance kernels for pgvision.
//!
//! Every kernel has a scalar reference in [`scalar`] and, on x86_64, an
//! AVX2+FMA version in `x86` that is chosen at run time. A CPU without
//! AVX2 runs the scalar code: nothing here can fail to build or to load.
//!
//! Kernels accumulate in `f32` lanes like pgvector does; the public
//! functions take slices of equal length (callers check dimensions and
//! report mismatches as user errors, this crate only debug-asserts).

pub mod bits;
pub mod half;
pub mod packed;
#[cfg(target_arch = "x86_64")]
mod packed_x86;
pub mod scalar;
pub mod sparse;
pub mod sq8;
pub mod sq8_fixed;
pub mod sq8_pairs;
#[cfg(target_arch = "x86_64")]
mod sq8_x86;
pub mod widened;
#[cfg(target_arch = "x86_64")]
mod widened_x86;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_512;

use std::sync::OnceLock;

/// A kernel over two equal-length slices.
type Kernel = fn(&[f32], &[f32]) -> f32;
/// A kernel returning the three cosine sums.
type PartsKernel = fn(&[f32], &[f32]) -> (f32, f32, f32);

/// The set of kernels picked for this CPU.
struct Kernels {
    l2_squared: Kernel,
    inner_product: Kernel,
    cosine_parts: PartsKernel,
    l1: Kernel,
    name: &'static str,
}

/// Kernels selected once per process by CPU feature detection.
static KERNELS: OnceLock<Kernels> = OnceLock::new();

/// Picks the fastest kernels this CPU supports.
fn kernels() -> &'static Kernels {
    KERNELS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Kernels {
                l2_squared: x86::l2_squared,
                inner_product: x86::inner_product,
                cosine_parts: x86::cosine_parts,
                l1: x86::l1,
                name: "avx2+fma",
            };
        }
        Kernels {
            l2_squared: scalar::l2_squared,
            inner_product: scalar::inner_product,
            cosine_parts: scalar::cosine_parts,
            l1: scalar::l1,
            name: "scalar",
        }
    })
}

/// Name of the kernel family in use ("avx2+fma" or "scalar").
pub fn kernel_name() -> &'static str {
    kernels().name
}

/// Squared Euclidean distance: sum of (a[i] - b[i])^2.
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().l2_squared)(a, b)
}

/// Euclidean distance, the meaning of `<->`.
#[inline]
pub fn l2(a: &[f32], b: &[f32]) -> f32 {
    l2_squared(a, b).sqrt()
}

/// Inner product: sum of a[i] * b[i].
#[inline]
pub fn inner_product(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().inner_product)(a, b)
}

/// Negative inner product, the meaning of `<#>` (smaller is closer).
#[inline]
pub fn negative_inner_product(a: &[f32], b: &[f32]) -> f32 {
    -inner_product(a, b)
}

/// Cosine distance 1 - cos(a, b), clamped to [0, 2]; NaN when either
/// vector has zero norm (pgvector's behaviour).
#[inline]
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let (dot, na, nb) = (kernels().cosine_parts)(a, b);
    cosine_from_parts(dot, na, nb)
}

/// Finishes a cosine distance from (a.b, |a|^2, |b|^2) in double precision.
pub fn cosine_from_parts(dot: f32, norm_a_sq: f32, norm_b_sq: f32) -> f64 {
    let similarity = dot as f64 / ((norm_a_sq as f64) * (norm_b_sq as f64)).sqrt();
    if similarity.is_nan() {
        return f64::NAN;
    }
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// Manhattan distance, the meaning of `<+>`.
#[inline]
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().l1)(a, b)
}

/// Euclidean norm |a|.
#[inline]
pub fn norm(a: &[f32]) -> f64 {
    a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests;

/// Hints the CPU to bring the cache line holding `p` into its caches, so
/// that the misses of several vectors about to be read overlap instead of
/// coming one by one. A prefetch never faults and reads nothing the
/// program sees, whatever `p` is.
#[inline]
pub fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 is a hint: it has no architectural effect, even on
    // an invalid address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch`]es the cache lines of the first `max_bytes` of `bytes`
/// bytes at `p` (the hardware prefetcher streams the rest of a long
/// vector by itself once it is being read).
#[inline]
pub fn prefetch_bytes(p: *const u8, bytes: usize, max_bytes: usize) {
    let first = p as usize & !63;
    let end = p as usize + bytes.min(max_bytes);
    let mut line = first;
    while line < end {
        prefetch(line as *const u8);
        line += 64;
    }
}
