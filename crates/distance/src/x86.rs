//! AVX2 + FMA kernels. Only reached through `kernels()` after run-time
//! detection of both features, which is what makes the safe wrappers sound.

use std::arch::x86_64::*;

/// Adds the eight lanes of `v`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn hsum(v: __m256) -> f32 {
    let hi = _mm256_extractf128_ps(v, 1);
    let lo = _mm256_castps256_ps128(v);
    let s = _mm_add_ps(hi, lo);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    _mm_cvtss_f32(s)
}

/// Loads eight floats from `s[i..i + 8]`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn load(s: &[f32], i: usize) -> __m256 {
    assert!(i + 8 <= s.len());
    // SAFETY: the assert above keeps the eight-float unaligned load inside `s`.
    unsafe { _mm256_loadu_ps(s.as_ptr().add(i)) }
}

/// An operand the AVX2 kernels read eight lanes at a time: f32 values, or
/// f16 codes widened exactly (`widened_x86`), so both run the same steps and
/// agree bit for bit on the widened vector.
pub(crate) trait Lanes: Copy {
    /// Eight lanes `s[i..i + 8]` as f32.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA (and F16C for f16 codes); callers are
    /// `#[target_feature]` functions that this inlines into.
    unsafe fn load8(s: &[Self], i: usize) -> __m256;
    /// One element as f32 (the scalar tail).
    fn value(self) -> f32;
}

impl Lanes for f32 {
    #[inline(always)]
    unsafe fn load8(s: &[f32], i: usize) -> __m256 {
        // SAFETY: the caller guarantees AVX2 and FMA (the trait's contract).
        unsafe { load(s, i) }
    }
    #[inline(always)]
    fn value(self) -> f32 {
        self
    }
}

impl Lanes for u16 {
    #[inline(always)]
    unsafe fn load8(s: &[u16], i: usize) -> __m256 {
        // SAFETY: the caller guarantees AVX2, FMA and F16C (the trait's contract).
        unsafe { load_f16(s, i) }
    }
    #[inline(always)]
    fn value(self) -> f32 {
        half::f16::from_bits(self).to_f32()
    }
}

/// Squared Euclidean distance, two accumulators of eight lanes.
///
/// # Safety
/// As [`Lanes::load8`]: only inlined into a `#[target_feature]` caller.
#[inline(always)]
pub(crate) unsafe fn l2_squared_lanes<A: Lanes>(a: &[A], b: &[f32]) -> f32 {
    // SAFETY: the caller guarantees the CPU features (this fn's contract);
    // every load is bounds-checked inside `load8`.
    unsafe {
        let n = a.len().min(b.len());
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            let d0 = _mm256_sub_ps(A::load8(a, i), load(b, i));
            let d1 = _mm256_sub_ps(A::load8(a, i + 8), load(b, i + 8));
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            i += 16;
        }
        if i + 8 <= n {
            let d0 = _mm256_sub_ps(A::load8(a, i), load(b, i));
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            i += 8;
        }
        let mut sum = hsum(_mm256_add_ps(acc0, acc1));
        for j in i..n {
            let d = a[j].value() - b[j];
            sum += d * d;
        }
        sum
    }
}

/// Inner product, two accumulators of eight lanes.
///
/// # Safety
/// As [`Lanes::load8`]: only inlined into a `#[target_feature]` caller.
#[inline(always)]
pub(crate) unsafe fn inner_product_lanes<A: Lanes>(a: &[A], b: &[f32]) -> f32 {
    // SAFETY: as in `l2_squared_lanes`.
    unsafe {
        let n = a.len().min(b.len());
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            acc0 = _mm256_fmadd_ps(A::load8(a, i), load(b, i), acc0);
            acc1 = _mm256_fmadd_ps(A::load8(a, i + 8), load(b, i + 8), acc1);
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_fmadd_ps(A::load8(a, i), load(b, i), acc0);
            i += 8;
        }
        let mut sum = hsum(_mm256_add_ps(acc0, acc1));
        for j in i..n {
            sum += a[j].value() * b[j];
        }
        sum
    }
}

/// (a.b, |a|^2, |b|^2) in one pass.
///
/// # Safety
/// As [`Lanes::load8`]: only inlined into a `#[target_feature]` caller.
#[inline(always)]
pub(crate) unsafe fn cosine_parts_lanes<A: Lanes>(a: &[A], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: as in `l2_squared_lanes`.
    unsafe {
        let n = a.len().min(b.len());
        let (mut dot, mut na, mut nb) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let mut i = 0;
        while i + 8 <= n {
            let x = A::load8(a, i);
            let y = load(b, i);
            dot = _mm256_fmadd_ps(x, y, dot);
            na = _mm256_fmadd_ps(x, x, na);
            nb = _mm256_fmadd_ps(y, y, nb);
            i += 8;
        }
        let (mut d, mut sa, mut sb) = (hsum(dot), hsum(na), hsum(nb));
        for j in i..n {
            let x = a[j].value();
            d += x * b[j];
            sa += x * x;
            sb += b[j] * b[j];
        }
        (d, sa, sb)
    }
}

/// Manhattan distance: |a - b| by clearing the sign bit.
///
/// # Safety
/// As [`Lanes::load8`]: only inlined into a `#[target_feature]` caller.
#[inline(always)]
pub(crate) unsafe fn l1_lanes<A: Lanes>(a: &[A], b: &[f32]) -> f32 {
    // SAFETY: as in `l2_squared_lanes`.
    unsafe {
        let n = a.len().min(b.len());
        let mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            acc0 = _mm256_add_ps(
                acc0,
                _mm256_and_ps(mask, _mm256_sub_ps(A::load8(a, i), load(b, i))),
            );
            acc1 = _mm256_add_ps(
                acc1,
                _mm256_and_ps(mask, _mm256_sub_ps(A::load8(a, i + 8), load(b, i + 8))),
            );
            i += 16;
        }
        if i + 8 <= n {
            acc0 = _mm256_add_ps(
                acc0,
                _mm256_and_ps(mask, _mm256_sub_ps(A::load8(a, i), load(b, i))),
            );
            i += 8;
        }
        let mut sum = hsum(_mm256_add_ps(acc0, acc1));
        for j in i..n {
            sum += (a[j].value() - b[j]).abs();
        }
        sum
    }
}

/// Squared L2 on f32 operands.
#[target_feature(enable = "avx2,fma")]
fn l2_squared_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { l2_squared_lanes(a, b) }
}

/// Inner product on f32 operands.
#[target_feature(enable = "avx2,fma")]
fn inner_product_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { inner_product_lanes(a, b) }
}

/// Cosine sums on f32 operands.
#[target_feature(enable = "avx2,fma")]
fn cosine_parts_avx2(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { cosine_parts_lanes(a, b) }
}

/// L1 on f32 operands.
#[target_feature(enable = "avx2,fma")]
fn l1_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's target features are the kernel's requirement.
    unsafe { l1_lanes(a, b) }
}

/// Eight f16 codes at `c[i..i + 8]` widened to f32.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) fn load_f16(c: &[u16], i: usize) -> __m256 {
    assert!(i + 8 <= c.len());
    // SAFETY: the assert keeps the 16-byte unaligned load inside `c`.
    unsafe { _mm256_cvtph_ps(_mm_loadu_si128(c.as_ptr().add(i) as *const __m128i)) }
}

/// Squared L2 between f32 `q` and f16 `codes` times `scale`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l2_squared_f16_avx2(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let s = _mm256_set1_ps(scale);
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_sub_ps(load(q, i), _mm256_mul_ps(load_f16(codes, i), s));
        let d1 = _mm256_sub_ps(load(q, i + 8), _mm256_mul_ps(load_f16(codes, i + 8), s));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_sub_ps(load(q, i), _mm256_mul_ps(load_f16(codes, i), s));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        let d = q[j] - half::f16::from_bits(codes[j]).to_f32() * scale;
        sum += d * d;
    }
    sum
}

/// Inner product of f32 `q` and f16 `codes`, times `scale`.
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f16_avx2(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        acc0 = _mm256_fmadd_ps(load(q, i), load_f16(codes, i), acc0);
        acc1 = _mm256_fmadd_ps(load(q, i + 8), load_f16(codes, i + 8), acc1);
        i += 16;
    }
    if i + 8 <= n {
        acc0 = _mm256_fmadd_ps(load(q, i), load_f16(codes, i), acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        sum += q[j] * half::f16::from_bits(codes[j]).to_f32();
    }
    sum * scale
}

/// Squared L2 between two f16 vectors `sa * a` and `sb * b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l2_squared_f16_pair_avx2(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let n = a.len().min(b.len());
    let (va, vb) = (_mm256_set1_ps(sa), _mm256_set1_ps(sb));
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_fmsub_ps(load_f16(a, i), va, _mm256_mul_ps(load_f16(b, i), vb));
        let d1 = _mm256_fmsub_ps(
            load_f16(a, i + 8),
            va,
            _mm256_mul_ps(load_f16(b, i + 8), vb),
        );
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_fmsub_ps(load_f16(a, i), va, _mm256_mul_ps(load_f16(b, i), vb));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        let d = half::f16::from_bits(a[j]).to_f32() * sa - half::f16::from_bits(b[j]).to_f32() * sb;
        sum += d * d;
    }
    sum
}

/// Inner product of two f16 code arrays (scales not applied).
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_f16_pair_avx2(a: &[u16], b: &[u16]) -> f32 {
    let n = a.len().min(b.len());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        acc0 = _mm256_fmadd_ps(load_f16(a, i), load_f16(b, i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16(a, i + 8), load_f16(b, i + 8), acc1);
        i += 16;
    }
    if i + 8 <= n {
        acc0 = _mm256_fmadd_ps(load_f16(a, i), load_f16(b, i), acc0);
        i += 8;
    }
    let mut sum = hsum(_mm256_add_ps(acc0, acc1));
    for j in i..n {
        sum += half::f16::from_bits(a[j]).to_f32() * half::f16::from_bits(b[j]).to_f32();
    }
    sum
}

/// L1 (Manhattan) distance between f32 `q` and f16 `codes` times `scale`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l1_f16_avx2(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    let n = q.len().min(codes.len());
    let (s, sign) = (_mm256_set1_ps(scale), _mm256_set1_ps(-0.0));
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_sub_ps(load(q, i), _mm256_mul_ps(load_f16(codes, i), s));
        let d1 = _mm256_sub_ps(load(q, i + 8), _mm256_mul_ps(load_f16(codes, i + 8), s));
        acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
        acc1 = _mm256_add_ps(acc1, _mm256_andnot_ps(sign, d1));
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_sub_ps(load(q, i), _mm256_mul_ps(load_f16(codes, i), s));
        acc0 = _mm256_add_ps(acc0, _mm256_andnot_ps(sign, d0));
        i += 8;
    }
    let tail = crate::half::l1_scalar(&q[i..n], &codes[i..n], scale);
    hsum(_mm256_add_ps(acc0, acc1)) + tail
}

/// L1 distance between two f16 vectors `sa * a` and `sb * b`.
#[target_feature(enable = "avx2,fma,f16c")]
fn l1_f16_pair_avx2(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    let n = a.len().min(b.len());
    let (va, vb, sign) = (_mm256_set1_ps(sa), _mm256_set1_ps(sb), _mm256_set1_ps(-0.0));
    let mut acc = _mm256_setzero_ps();
    let mut i = 0;
    while i + 8 <= n {
        let d = _mm256_sub_ps(
            _mm256_mul_ps(load_f16(a, i), va),
            _mm256_mul_ps(load_f16(b, i), vb),
        );
        acc = _mm256_add_ps(acc, _mm256_andnot_ps(sign, d));
        i += 8;
    }
    hsum(acc) + crate::half::l1_pair_scalar(&a[i..n], sa, &b[i..n], sb)
}

/// Whether AVX2, FMA and F16C are all present (checked once).
pub fn has_f16c() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
    })
}

/// Safe entry: squared L2 against f16 codes (only after `has_f16c`).
pub fn l2_squared_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l2_squared_f16_avx2(q, codes, scale) }
}

/// `scale * codes` into `out` (same length), eight lanes a step.
#[target_feature(enable = "avx2,fma,f16c")]
fn decode_avx2(codes: &[u16], scale: f32, out: &mut [f32]) {
    let n = codes.len().min(out.len());
    let s = _mm256_set1_ps(scale);
    let mut i = 0;
    while i + 8 <= n {
        let v = _mm256_mul_ps(load_f16(codes, i), s);
        assert!(i + 8 <= out.len());
        // SAFETY: the assert keeps the eight-float unaligned store inside `out`.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) };
        i += 8;
    }
    for j in i..n {
        out[j] = half::f16::from_bits(codes[j]).to_f32() * scale;
    }
}

/// Safe entry: f16 codes decoded (only after `has_f16c`).
pub fn decode(codes: &[u16], scale: f32, out: &mut [f32]) {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { decode_avx2(codes, scale, out) }
}

/// Safe entry: inner product against f16 codes (only after `has_f16c`).
pub fn dot_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { dot_f16_avx2(q, codes, scale) }
}

/// Safe entry: squared L2 between two f16 vectors (only after `has_f16c`).
pub fn l2_squared_f16_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l2_squared_f16_pair_avx2(a, sa, b, sb) }
}

/// Safe entry: inner product of two f16 code arrays (only after `has_f16c`).
pub fn dot_f16_pair(a: &[u16], b: &[u16]) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { dot_f16_pair_avx2(a, b) }
}

/// Safe entry: L1 against f16 codes (only after `has_f16c`).
pub fn l1_f16(q: &[f32], codes: &[u16], scale: f32) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l1_f16_avx2(q, codes, scale) }
}

/// Safe entry: L1 between two f16 vectors (only after `has_f16c`).
pub fn l1_f16_pair(a: &[u16], sa: f32, b: &[u16], sb: f32) -> f32 {
    assert!(has_f16c());
    // SAFETY: the assert guarantees AVX2, FMA and F16C on this CPU.
    unsafe { l1_f16_pair_avx2(a, sa, b, sb) }
}

/// Safe entry: squared L2 (caller guarantees AVX2+FMA were detected).
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only installed in the kernel table after AVX2 and FMA were detected.
    unsafe { l2_squared_avx2(a, b) }
}

/// Safe entry: inner product (caller guarantees AVX2+FMA were detected).
pub fn inner_product(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only installed in the kernel table after AVX2 and FMA were detected.
    unsafe { inner_product_avx2(a, b) }
}

/// Safe entry: cosine sums (caller guarantees AVX2+FMA were detected).
pub fn cosine_parts(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    // SAFETY: only installed in the kernel table after AVX2 and FMA were detected.
    unsafe { cosine_parts_avx2(a, b) }
}

/// Safe entry: L1 (caller guarantees AVX2+FMA were detected).
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: only installed in the kernel table after AVX2 and FMA were detected.
    unsafe { l1_avx2(a, b) }
}

/// Test hook: the AVX2 kernels when this CPU has them, for comparison with scalar.
#[cfg(test)]
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}
