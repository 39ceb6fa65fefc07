//! AVX-512F kernels for f16 codes: sixteen lanes a step, twice the AVX2
//! kernels' width (at 2048 dimensions the f16 distance is a quarter of an
//! index scan). Same arithmetic as `x86.rs`: codes widened to f32 exactly,
//! f32 products and sums, so the error bounds of `half.rs` hold unchanged.
//! Only reached after [`has_avx512`], which makes the safe wrappers sound.

use std::arch::x86_64::*;

/// Loads sixteen floats from `s[i..i + 16]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn load(s: &[f32], i: usize) -> __m512 {
    assert!(i + 16 <= s.len());
    // SAFETY: the assert keeps the sixteen-float unaligned load inside `s`.
    unsafe { _mm512_loadu_ps(s.as_ptr().add(i)) }
}

/// Widens sixteen f16 codes `c[i..i + 16]` to f32 (exactly).
#[inline]
#[target_feature(enable = "avx512f")]
fn load_f16(c: &[u16], i: usize) -> __m512 {
    assert!(i + 16 <= c.len());
    // SAFETY: the assert keeps the 32-byte unaligned load inside `c`.
    unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(c.as_ptr().add(i) as *const __m256i)) }
}

/// f32 value of f16 code `c`.
fn widen(c: u16) -> f32 {
    half::f16::from_bits(c).to_f32()
}

/// Squared L2 between f32 `q` and f16 `codes` times `scale`.
#[target_feature(enable = "avx512f")]
fn l2_squared_f16_512(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let s = _mm512_set1_ps(scale);
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        let d0 = _mm512_sub_ps(load(q, i), _mm512_mul_ps(load_f16(codes, i), s));
        let d1 = _mm512_sub_ps(load(q, i + 16), _mm512_mul_ps(load_f16(codes, i + 16), s));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        i += 32;
    }
    if i + 16 <= n {
        let d0 = _mm512_sub_ps(load(q, i), _mm512_mul_ps(load_f16(codes, i), s));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for j in i..n {
        let d = q[j] - widen(codes[j]) * scale;
        sum += d * d;
    }
    sum
}

/// Inner product of f32 `q` and f16 `codes`, times `scale`.
#[target_feature(enable = "avx512f")]
fn dot_f16_512(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        acc0 = _mm512_fmadd_ps(load(q, i), load_f16(codes, i), acc0);
        acc1 = _mm512_fmadd_ps(load(q, i + 16), load_f16(codes, i + 16), acc1);
        i += 32;
    }
    if i + 16 <= n {
        acc0 = _mm512_fmadd_ps(load(q, i), load_f16(codes, i), acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for j in i..n {
        sum += q[j] * widen(codes[j]);
    }
    sum * scale
}

/// Squared L2 between `sa * a` and `sb * b`, both f16 codes.
#[target_feature(enable = "avx512f")]
fn l2_squared_f16_pair_512(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let n = a.len().min(b.len());
    let (va, vb) = (_mm512_set1_ps(sa), _mm512_set1_ps(sb));
    let diff = |i| {
        _mm512_sub_ps(
            _mm512_mul_ps(load_f16(a, i), va),
            _mm512_mul_ps(load_f16(b, i), vb),
        )
    };
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        let (d0, d1) = (diff(i), diff(i + 16));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        i += 32;
    }
    if i + 16 <= n {
        let d0 = diff(i);
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for j in i..n {
        let d = widen(a[j]) * sa - widen(b[j]) * sb;
        sum += d * d;
    }
    sum
}

/// Inner product of two f16 code arrays (unscaled).
#[target_feature(enable = "avx512f")]
fn dot_f16_pair_512(a: &[u16], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        acc0 = _mm512_fmadd_ps(load_f16(a, i), load_f16(b, i), acc0);
        acc1 = _mm512_fmadd_ps(load_f16(a, i + 16), load_f16(b, i + 16), acc1);
        i += 32;
    }
    if i + 16 <= n {
        acc0 = _mm512_fmadd_ps(load_f16(a, i), load_f16(b, i), acc0);
        i += 16;
    }
    let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    for j in i..n {
        sum += widen(a[j]) * widen(b[j]);
    }
    sum
}

/// L1 (Manhattan) distance between f32 `q` and f16 `codes` times `scale`.
#[target_feature(enable = "avx512f")]
fn l1_f16_512(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let s = _mm512_set1_ps(scale);
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        let d0 = _mm512_sub_ps(load(q, i), _mm512_mul_ps(load_f16(codes, i), s));
        let d1 = _mm512_sub_ps(load(q, i + 16), _mm512_mul_ps(load_f16(codes, i + 16), s));
        acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
        acc1 = _mm512_add_ps(acc1, _mm512_abs_ps(d1));
        i += 32;
    }
    if i + 16 <= n {
        let d0 = _mm512_sub_ps(load(q, i), _mm512_mul_ps(load_f16(codes, i), s));
        acc0 = _mm512_add_ps(acc0, _mm512_abs_ps(d0));
        i += 16;
    }
    let tail = crate::half::l1_scalar(&q[i..n], &codes[i..n], scale);
    _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + tail
}

/// L1 distance between two f16 vectors `sa * a` and `sb * b`.
#[target_feature(enable = "avx512f")]
fn l1_f16_pair_512(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let n = a.len().min(b.len());
    let (va, vb) = (_mm512_set1_ps(sa), _mm512_set1_ps(sb));
    let mut acc = _mm512_setzero_ps();
    let mut i = 0;
    while i + 16 <= n {
        let d = _mm512_sub_ps(
            _mm512_mul_ps(load_f16(a, i), va),
            _mm512_mul_ps(load_f16(b, i), vb),
        );
        acc = _mm512_add_ps(acc, _mm512_abs_ps(d));
        i += 16;
    }
    _mm512_reduce_add_ps(acc) + crate::half::l1_pair_scalar(&a[i..n], sa, &b[i..n], sb)
}

/// Whether AVX-512F is present (checked once).
pub fn has_avx512() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| std::is_x86_feature_detected!("avx512f"))
}

/// Safe entry: squared L2 against f16 codes (only after `has_avx512`).
pub fn l2_squared_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l2_squared_f16_512(q, codes, scale) }
}

/// `scale * codes` into `out` (same length), sixteen lanes a step.
#[target_feature(enable = "avx512f")]
fn decode_512(codes: &[u16], scale: f32, out: &mut [f32]) {
    let n = codes.len().min(out.len());
    let s = _mm512_set1_ps(scale);
    let mut i = 0;
    while i + 16 <= n {
        let v = _mm512_mul_ps(load_f16(codes, i), s);
        assert!(i + 16 <= out.len());
        // SAFETY: the assert keeps the sixteen-float unaligned store inside `out`.
        unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(i), v) };
        i += 16;
    }
    for j in i..n {
        out[j] = widen(codes[j]) * scale;
    }
}

/// Safe entry: f16 codes decoded (only after `has_avx512`).
pub fn decode(codes: &[u16], scale: f32, out: &mut [f32]) {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { decode_512(codes, scale, out) }
}

/// Safe entry: inner product against f16 codes (only after `has_avx512`).
pub fn dot_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { dot_f16_512(q, codes, scale) }
}

/// Safe entry: squared L2 between two f16 vectors (only after `has_avx512`).
pub fn l2_squared_f16_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l2_squared_f16_pair_512(a, sa, b, sb) }
}

/// Safe entry: inner product of two f16 code arrays (only after `has_avx512`).
pub fn dot_f16_pair(a: &[u16], b: &[u16]) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { dot_f16_pair_512(a, b) }
}

/// Safe entry: L1 against f16 codes (only after `has_avx512`).
pub fn l1_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l1_f16_512(q, codes, scale) }
}

/// Safe entry: L1 between two f16 vectors (only after `has_avx512`).
pub fn l1_f16_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    assert!(has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l1_f16_pair_512(a, sa, b, sb) }
}
