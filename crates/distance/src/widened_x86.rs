//! AVX2 + FMA + F16C kernels over f16 codes widened in registers: the
//! f32 kernels of `x86` (its generic `*_lanes` functions) with the first
//! operand loaded through `cvtph`, so each result is bit for bit the f32
//! kernel's on the widened vector. Only reached through `widened` after
//! `x86::has_f16c`.

use crate::x86::{cosine_parts_lanes, inner_product_lanes, l1_lanes, l2_squared_lanes};

/// Squared L2 between widened `a` and `b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l2_squared_avx2(a: &[u16], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { l2_squared_lanes(a, b) }
}

/// Inner product of widened `a` and `b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn inner_product_avx2(a: &[u16], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { inner_product_lanes(a, b) }
}

/// (a.b, |a|^2, |b|^2) of widened `a` and `b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn cosine_parts_avx2(a: &[u16], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { cosine_parts_lanes(a, b) }
}

/// L1 between widened `a` and `b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l1_avx2(a: &[u16], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { l1_lanes(a, b) }
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
