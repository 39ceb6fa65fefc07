//! AVX2 + FMA + F16C kernels over f16 codes widened in registers: the
//! f32 kernels of `x86` with the first operand loaded through `cvtph`, the
//! same lanes, the same operations in the same order, so each result is
//! bit for bit the f32 kernel's on the widened vector. Only reached
//! through `widened` after `x86::has_f16c`.

use crate::x86::{hsum, load, load_f16};
use std::arch::x86_64::*;

/// Squared L2 between widened `a` and `b`: `x86::l2_squared_avx2`'s steps.
#[target_feature(enable = "avx2,fma,f16c")]
fn l2_squared_avx2(a: &[u16], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_sub_ps(load_f16(a, i), load(b, i));
        let d1 = _mm256_sub_ps(load_f16(a, i + 8), load(b, i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_sub_ps(load_f16(a, i), load(b, i));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        let d = half::f16::from_bits(a[j]).to_f32() - b[j];
        sum += d * d;
    }
    sum
}

/// Inner product of widened `a` and `b`: `x86::inner_product_avx2`'s steps.
#[target_feature(enable = "avx2,fma,f16c")]
fn inner_product_avx2(a: &[u16], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        acc0 = _mm256_fmadd_ps(load_f16(a, i), load(b, i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16(a, i + 8), load(b, i + 8), acc1);
        i += 16;
    }
    if i + 8 <= n {
        acc0 = _mm256_fmadd_ps(load_f16(a, i), load(b, i), acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        sum += half::f16::from_bits(a[j]).to_f32() * b[j];
    }
    sum
}

/// (a.b, |a|^2, |b|^2) of widened `a` and `b`: `x86::cosine_parts_avx2`'s steps.
#[target_feature(enable = "avx2,fma,f16c")]
fn cosine_parts_avx2(a: &[u16], b: &[f32]) -> (f32, f32, f32) {
    let n = a.len().min(b.len());
    let (mut dot, mut na, mut nb) = (
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
    );
    let mut i = 0;
    while i + 8 <= n {
        let x = load_f16(a, i);
        let y = load(b, i);
        dot = _mm256_fmadd_ps(x, y, dot);
        na = _mm256_fmadd_ps(x, x, na);
        nb = _mm256_fmadd_ps(y, y, nb);
        i += 8;
    }
    let (mut d, mut sa, mut sb) = (hsum(dot), hsum(na), hsum(nb));
    for j in i..n {
        let x = half::f16::from_bits(a[j]).to_f32();
        d += x * b[j];
        sa += x * x;
        sb += b[j] * b[j];
    }
    (d, sa, sb)
}

/// L1 between widened `a` and `b`: `x86::l1_avx2`'s steps.
#[target_feature(enable = "avx2,fma,f16c")]
fn l1_avx2(a: &[u16], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        acc0 = _mm256_add_ps(
            acc0,
            _mm256_and_ps(mask, _mm256_sub_ps(load_f16(a, i), load(b, i))),
        );
        acc1 = _mm256_add_ps(
            acc1,
            _mm256_and_ps(mask, _mm256_sub_ps(load_f16(a, i + 8), load(b, i + 8))),
        );
        i += 16;
    }
    if i + 8 <= n {
        acc0 = _mm256_add_ps(
            acc0,
            _mm256_and_ps(mask, _mm256_sub_ps(load_f16(a, i), load(b, i))),
        );
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        sum += (half::f16::from_bits(a[j]).to_f32() - b[j]).abs();
    }
    sum
}

/// Safe entry: squared L2 (only after `x86::has_f16c`).
pub fn l2_squared(a: &[u16], b: &[f32]) -> f32 {
    assert!(crate::x86::has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l2_squared_avx2(a, b) }
}

/// Safe entry: inner product (only after `x86::has_f16c`).
pub fn inner_product(a: &[u16], b: &[f32]) -> f32 {
    assert!(crate::x86::has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { inner_product_avx2(a, b) }
}

/// Safe entry: cosine sums (only after `x86::has_f16c`).
pub fn cosine_parts(a: &[u16], b: &[f32]) -> (f32, f32, f32) {
    assert!(crate::x86::has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { cosine_parts_avx2(a, b) }
}

/// Safe entry: L1 (only after `x86::has_f16c`).
pub fn l1(a: &[u16], b: &[f32]) -> f32 {
    assert!(crate::x86::has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l1_avx2(a, b) }
}
