//! Distances between a vector stored as f16 codes (a `halfvec`'s values,
//! taken exactly: no scale) and an f32 query, equal bit for bit to the
//! f32 kernels ([`crate::l2_squared`] and the rest) on the widened vector,
//! so an index that stores halves answers with the SQL operator's exact
//! values. Where the f32 kernels are AVX2+FMA and the CPU has F16C the
//! codes are widened in registers (`widened_x86`: no widened copy is
//! written and read back, which was half of a 2048-d ivfflat scan);
//! otherwise they are widened into a buffer and the f32 kernel runs on it.

use std::cell::RefCell;
use std::sync::OnceLock;

/// Whether the fused kernels reproduce the f32 kernels in use.
fn fused() -> bool {
    static FUSED: OnceLock<bool> = OnceLock::new();
    *FUSED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            crate::kernel_name() == "avx2+fma" && crate::x86::has_f16c()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

thread_local! {
    /// The widened vector of the fallback path (reused between calls).
    static WIDE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `kernel` on the f32 values of `a` and `b` (the fallback path).
fn on_widened<T>(a: &[u16], b: &[f32], kernel: impl FnOnce(&[f32], &[f32]) -> T) -> T {
    WIDE.with(|w| {
        let wide = &mut *w.borrow_mut();
        crate::half::decode_into(a, 1.0, wide);
        kernel(wide, b)
    })
}

/// [`crate::l2_squared`] of widened `a` and `b`.
#[inline]
pub fn l2_squared(a: &[u16], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if fused() {
        return crate::widened_x86::l2_squared(a, b);
    }
    on_widened(a, b, crate::l2_squared)
}

/// [`crate::inner_product`] of widened `a` and `b`.
#[inline]
pub fn inner_product(a: &[u16], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if fused() {
        return crate::widened_x86::inner_product(a, b);
    }
    on_widened(a, b, crate::inner_product)
}

/// [`crate::cosine_distance`] of widened `a` and `b`.
#[inline]
pub fn cosine_distance(a: &[u16], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if fused() {
        let (dot, na, nb) = crate::widened_x86::cosine_parts(a, b);
        return crate::cosine_from_parts(dot, na, nb);
    }
    on_widened(a, b, crate::cosine_distance)
}

/// [`crate::l1`] of widened `a` and `b`.
#[inline]
pub fn l1(a: &[u16], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if fused() {
        return crate::widened_x86::l1(a, b);
    }
    on_widened(a, b, crate::l1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Random f16 codes (finite, both signs, a wide range) and an f32 query.
    fn pair(rng: &mut rand::rngs::StdRng, n: usize) -> (Vec<u16>, Vec<f32>) {
        let codes = (0..n)
            .map(|_| {
                half::f16::from_f32(rng.gen_range(-300.0f32..300.0) * rng.gen::<f32>()).to_bits()
            })
            .collect();
        let q = (0..n).map(|_| rng.gen_range(-200.0f32..200.0)).collect();
        (codes, q)
    }

    #[test]
    fn every_kernel_equals_the_f32_kernel_on_the_widened_vector_bit_for_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let lengths = (0..=40).chain([63, 64, 65, 127, 128, 129, 960, 2047, 2048, 2049, 4000]);
        for n in lengths {
            for _ in 0..4 {
                let (codes, q) = pair(&mut rng, n);
                let wide: Vec<f32> = codes
                    .iter()
                    .map(|&c| half::f16::from_bits(c).to_f32())
                    .collect();
                assert_eq!(
                    l2_squared(&codes, &q).to_bits(),
                    crate::l2_squared(&wide, &q).to_bits(),
                    "l2 n={n}"
                );
                assert_eq!(
                    inner_product(&codes, &q).to_bits(),
                    crate::inner_product(&wide, &q).to_bits(),
                    "ip n={n}"
                );
                let (c, w) = (
                    cosine_distance(&codes, &q),
                    crate::cosine_distance(&wide, &q),
                );
                assert!(
                    c.to_bits() == w.to_bits() || (c.is_nan() && w.is_nan()),
                    "cosine n={n}: {c} {w}"
                );
                assert_eq!(
                    l1(&codes, &q).to_bits(),
                    crate::l1(&wide, &q).to_bits(),
                    "l1 n={n}"
                );
            }
        }
    }

    #[test]
    fn the_fallback_equals_the_fused_kernels() {
        // Both paths, whichever `fused()` picks for this CPU.
        let mut rng = rand::rngs::StdRng::seed_from_u64(22);
        for n in [0usize, 5, 16, 100, 2048] {
            let (codes, q) = pair(&mut rng, n);
            let fallback = on_widened(&codes, &q, crate::l2_squared);
            assert_eq!(
                l2_squared(&codes, &q).to_bits(),
                fallback.to_bits(),
                "n={n}"
            );
            let fallback = on_widened(&codes, &q, crate::cosine_distance);
            let c = cosine_distance(&codes, &q);
            assert!(c.to_bits() == fallback.to_bits() || (c.is_nan() && fallback.is_nan()));
        }
    }

    #[test]
    fn zero_vectors_give_nan_under_cosine() {
        let codes = vec![0u16; 24];
        let q = vec![1.0f32; 24];
        assert!(cosine_distance(&codes, &q).is_nan());
        assert_eq!(l2_squared(&codes, &q), 24.0);
    }
}
