//! SIMD kernels against the scalar reference at many lengths, odd ones included.

use super::*;
use rand::{Rng, SeedableRng};

/// Relative-or-absolute closeness for float sums accumulated in different orders.
fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1.0)
}

/// Random pairs of vectors of length `n`, seeded.
fn pair(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let a = (0..n).map(|_| rng.gen_range(-10.0..10.0)).collect();
    let b = (0..n).map(|_| rng.gen_range(-10.0..10.0)).collect();
    (a, b)
}

/// Lengths around every block boundary of the SIMD loops, up to 2051.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=70).collect();
    v.extend([
        127, 128, 129, 255, 256, 257, 959, 960, 961, 2047, 2048, 2049, 2051,
    ]);
    v
}

#[test]
fn dispatch_matches_scalar_at_all_lengths() {
    for n in lengths() {
        let (a, b) = pair(n, n as u64);
        assert!(
            close(l2_squared(&a, &b), scalar::l2_squared(&a, &b)),
            "l2 n={n}"
        );
        assert!(
            close(inner_product(&a, &b), scalar::inner_product(&a, &b)),
            "ip n={n}"
        );
        assert!(close(l1(&a, &b), scalar::l1(&a, &b)), "l1 n={n}");
        let (d, x, y) = (kernels().cosine_parts)(&a, &b);
        let (rd, rx, ry) = scalar::cosine_parts(&a, &b);
        assert!(close(d, rd) && close(x, rx) && close(y, ry), "cos n={n}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_kernels_match_scalar_when_available() {
    if !x86::available() {
        eprintln!("no AVX2+FMA on this CPU: only the scalar path is tested");
        return;
    }
    assert_eq!(kernel_name(), "avx2+fma");
    for n in lengths() {
        let (a, b) = pair(n, 1000 + n as u64);
        assert!(
            close(x86::l2_squared(&a, &b), scalar::l2_squared(&a, &b)),
            "n={n}"
        );
        assert!(
            close(x86::inner_product(&a, &b), scalar::inner_product(&a, &b)),
            "n={n}"
        );
        assert!(close(x86::l1(&a, &b), scalar::l1(&a, &b)), "n={n}");
    }
}

#[test]
fn known_values() {
    assert_eq!(l2(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
    assert_eq!(inner_product(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
    assert_eq!(
        negative_inner_product(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]),
        -32.0
    );
    assert_eq!(l1(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 9.0);
    assert_eq!(norm(&[3.0, 4.0]), 5.0);
    assert!((cosine_distance(&[1.0, 2.0], &[2.0, 4.0])).abs() < 1e-7);
    assert!((cosine_distance(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-7);
    assert!((cosine_distance(&[1.0, 1.0], &[-1.0, -1.0]) - 2.0).abs() < 1e-7);
    assert!(cosine_distance(&[0.0, 0.0], &[1.0, 1.0]).is_nan());
}
