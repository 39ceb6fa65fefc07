//! AVX2 + FMA and AVX-512F kernels for 8-bit codes (`crate::sq8`): each
//! byte widened to f32 exactly, decoded with one fused multiply-add
//! (`offset + scale * code`, within one rounding of the scalar reference,
//! which the error bounds of `sq8.rs` allow for), then f32 products and
//! sums. Only reached after run-time detection, which is what makes the
//! safe wrappers sound.

use std::arch::x86_64::*;

/// Whether AVX2 and FMA are both present (checked once).
pub fn has_avx2() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    })
}

/// [`crate::sq8::Sq8Vector::encode`] compiled for AVX2: the same
/// arithmetic (Rust fuses no multiply-adds on its own), so the same copy.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn encode_avx2(x: &[f32]) -> crate::sq8::Sq8Vector {
    crate::sq8::encode_body(x)
}

/// Loads eight floats from `s[i..i + 8]`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn load8(s: &[f32], i: usize) -> __m256 {
    assert!(i + 8 <= s.len());
    // SAFETY: the assert keeps the eight-float unaligned load inside `s`.
    unsafe { _mm256_loadu_ps(s.as_ptr().add(i)) }
}

/// Decodes eight codes `c[i..i + 8]`: `o + s * c`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn codes8(c: &[u8], i: usize, s: __m256, o: __m256) -> __m256 {
    assert!(i + 8 <= c.len());
    // SAFETY: the assert keeps the eight-byte unaligned load inside `c`.
    let bytes = unsafe { _mm_loadl_epi64(c.as_ptr().add(i) as *const __m128i) };
    _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), s, o)
}

/// Adds the eight lanes of `v`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55)))
}

/// Squared L2, AVX2.
#[target_feature(enable = "avx2,fma")]
fn l2_avx2(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm256_set1_ps(scale), _mm256_set1_ps(offset));
    let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let d0 = _mm256_sub_ps(load8(q, i), codes8(c, i, s, o));
        let d1 = _mm256_sub_ps(load8(q, i + 8), codes8(c, i + 8, s, o));
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        a1 = _mm256_fmadd_ps(d1, d1, a1);
        i += 16;
    }
    if i + 8 <= n {
        let d0 = _mm256_sub_ps(load8(q, i), codes8(c, i, s, o));
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        i += 8;
    }
    hsum(_mm256_add_ps(a0, a1)) + crate::sq8::l2_squared_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// Inner product, AVX2.
#[target_feature(enable = "avx2,fma")]
fn dot_avx2_impl(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm256_set1_ps(scale), _mm256_set1_ps(offset));
    let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        a0 = _mm256_fmadd_ps(load8(q, i), codes8(c, i, s, o), a0);
        a1 = _mm256_fmadd_ps(load8(q, i + 8), codes8(c, i + 8, s, o), a1);
        i += 16;
    }
    if i + 8 <= n {
        a0 = _mm256_fmadd_ps(load8(q, i), codes8(c, i, s, o), a0);
        i += 8;
    }
    hsum(_mm256_add_ps(a0, a1)) + crate::sq8::dot_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// L1, AVX2.
#[target_feature(enable = "avx2,fma")]
fn l1_avx2_impl(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm256_set1_ps(scale), _mm256_set1_ps(offset));
    let sign = _mm256_set1_ps(-0.0);
    let mut acc = _mm256_setzero_ps();
    let mut i = 0;
    while i + 8 <= n {
        let d = _mm256_sub_ps(load8(q, i), codes8(c, i, s, o));
        acc = _mm256_add_ps(acc, _mm256_andnot_ps(sign, d));
        i += 8;
    }
    hsum(acc) + crate::sq8::l1_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// Decoding, AVX2.
#[target_feature(enable = "avx2,fma")]
fn decode_avx2_impl(c: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    let n = c.len().min(out.len());
    let (s, o) = (_mm256_set1_ps(scale), _mm256_set1_ps(offset));
    let mut i = 0;
    while i + 8 <= n {
        let v = codes8(c, i, s, o);
        assert!(i + 8 <= out.len());
        // SAFETY: the assert keeps the eight-float unaligned store inside `out`.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) };
        i += 8;
    }
    crate::sq8::decode_scalar(&c[i..n], scale, offset, &mut out[i..n]);
}

/// Loads sixteen floats from `s[i..i + 16]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn load16(s: &[f32], i: usize) -> __m512 {
    assert!(i + 16 <= s.len());
    // SAFETY: the assert keeps the sixteen-float unaligned load inside `s`.
    unsafe { _mm512_loadu_ps(s.as_ptr().add(i)) }
}

/// Decodes sixteen codes `c[i..i + 16]`: `o + s * c`.
#[inline]
#[target_feature(enable = "avx512f")]
fn codes16(c: &[u8], i: usize, s: __m512, o: __m512) -> __m512 {
    assert!(i + 16 <= c.len());
    // SAFETY: the assert keeps the sixteen-byte unaligned load inside `c`.
    let bytes = unsafe { _mm_loadu_si128(c.as_ptr().add(i) as *const __m128i) };
    _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), s, o)
}

/// Squared L2, AVX-512.
#[target_feature(enable = "avx512f")]
fn l2_512(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm512_set1_ps(scale), _mm512_set1_ps(offset));
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        let d0 = _mm512_sub_ps(load16(q, i), codes16(c, i, s, o));
        let d1 = _mm512_sub_ps(load16(q, i + 16), codes16(c, i + 16, s, o));
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        a1 = _mm512_fmadd_ps(d1, d1, a1);
        i += 32;
    }
    if i + 16 <= n {
        let d0 = _mm512_sub_ps(load16(q, i), codes16(c, i, s, o));
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        i += 16;
    }
    _mm512_reduce_add_ps(_mm512_add_ps(a0, a1))
        + crate::sq8::l2_squared_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// Inner product, AVX-512.
#[target_feature(enable = "avx512f")]
fn dot_512_impl(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm512_set1_ps(scale), _mm512_set1_ps(offset));
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        a0 = _mm512_fmadd_ps(load16(q, i), codes16(c, i, s, o), a0);
        a1 = _mm512_fmadd_ps(load16(q, i + 16), codes16(c, i + 16, s, o), a1);
        i += 32;
    }
    if i + 16 <= n {
        a0 = _mm512_fmadd_ps(load16(q, i), codes16(c, i, s, o), a0);
        i += 16;
    }
    _mm512_reduce_add_ps(_mm512_add_ps(a0, a1))
        + crate::sq8::dot_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// L1, AVX-512.
#[target_feature(enable = "avx512f")]
fn l1_512_impl(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    let n = q.len().min(c.len());
    let (s, o) = (_mm512_set1_ps(scale), _mm512_set1_ps(offset));
    let mut acc = _mm512_setzero_ps();
    let mut i = 0;
    while i + 16 <= n {
        let d = _mm512_sub_ps(load16(q, i), codes16(c, i, s, o));
        acc = _mm512_add_ps(acc, _mm512_abs_ps(d));
        i += 16;
    }
    _mm512_reduce_add_ps(acc) + crate::sq8::l1_scalar(&q[i..n], &c[i..n], scale, offset)
}

/// Decoding, AVX-512.
#[target_feature(enable = "avx512f")]
fn decode_512_impl(c: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    let n = c.len().min(out.len());
    let (s, o) = (_mm512_set1_ps(scale), _mm512_set1_ps(offset));
    let mut i = 0;
    while i + 16 <= n {
        let v = codes16(c, i, s, o);
        assert!(i + 16 <= out.len());
        // SAFETY: the assert keeps the sixteen-float unaligned store inside `out`.
        unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(i), v) };
        i += 16;
    }
    crate::sq8::decode_scalar(&c[i..n], scale, offset, &mut out[i..n]);
}

/// Safe entry: squared L2 (only after [`has_avx2`]).
pub fn l2_squared_avx2(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(has_avx2());
    // SAFETY: the assert guarantees AVX2 and FMA on this CPU.
    unsafe { l2_avx2(q, c, scale, offset) }
}

/// Safe entry: inner product (only after [`has_avx2`]).
pub fn dot_avx2(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(has_avx2());
    // SAFETY: the assert guarantees AVX2 and FMA on this CPU.
    unsafe { dot_avx2_impl(q, c, scale, offset) }
}

/// Safe entry: L1 (only after [`has_avx2`]).
pub fn l1_avx2(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(has_avx2());
    // SAFETY: the assert guarantees AVX2 and FMA on this CPU.
    unsafe { l1_avx2_impl(q, c, scale, offset) }
}

/// Safe entry: decoding (only after [`has_avx2`]).
pub fn decode_avx2(c: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    assert!(has_avx2());
    // SAFETY: the assert guarantees AVX2 and FMA on this CPU.
    unsafe { decode_avx2_impl(c, scale, offset, out) }
}

/// Safe entry: squared L2 (only after `has_avx512`).
pub fn l2_squared_512(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(crate::x86_512::has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l2_512(q, c, scale, offset) }
}

/// Safe entry: inner product (only after `has_avx512`).
pub fn dot_512(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(crate::x86_512::has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { dot_512_impl(q, c, scale, offset) }
}

/// Safe entry: L1 (only after `has_avx512`).
pub fn l1_512(q: &[f32], c: &[u8], scale: f32, offset: f32) -> f32 {
    assert!(crate::x86_512::has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { l1_512_impl(q, c, scale, offset) }
}

/// Safe entry: decoding (only after `has_avx512`).
pub fn decode_512(c: &[u8], scale: f32, offset: f32, out: &mut [f32]) {
    assert!(crate::x86_512::has_avx512());
    // SAFETY: the assert guarantees AVX-512F on this CPU.
    unsafe { decode_512_impl(c, scale, offset, out) }
}

/// Whether AVX-512 F, BW and VNNI are all present (checked once): the
/// integer kernel of `crate::sq8_pairs`.
pub fn has_vnni() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    })
}

/// `sum(b_i * (f_i as i8))`, sixty-four bytes an instruction
/// (`vpdpbusd`: unsigned bytes of `b` times signed bytes of `f`, four
/// products summed into each 32-bit lane, no saturation). Each lane sums
/// at most 4 * 250 products of magnitude <= 255 * 128 for 16,000
/// dimensions, far inside i32.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn code_dot_512(b: &[u8], f: &[u8]) -> i64 {
    let n = b.len().min(f.len());
    let (mut a0, mut a1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i + 128 <= n {
        // SAFETY: i + 128 <= n keeps all four 64-byte loads inside b and f.
        unsafe {
            let b0 = _mm512_loadu_si512(b.as_ptr().add(i).cast());
            let f0 = _mm512_loadu_si512(f.as_ptr().add(i).cast());
            let b1 = _mm512_loadu_si512(b.as_ptr().add(i + 64).cast());
            let f1 = _mm512_loadu_si512(f.as_ptr().add(i + 64).cast());
            a0 = _mm512_dpbusd_epi32(a0, b0, f0);
            a1 = _mm512_dpbusd_epi32(a1, b1, f1);
        }
        i += 128;
    }
    while i < n {
        let left = (n - i).min(64);
        let mask: __mmask64 = if left == 64 { !0 } else { (1u64 << left) - 1 };
        // SAFETY: the mask enables only bytes i..i + left, all inside b
        // and f; masked-off bytes are neither read nor faulted on.
        unsafe {
            let b0 = _mm512_maskz_loadu_epi8(mask, b.as_ptr().add(i).cast());
            let f0 = _mm512_maskz_loadu_epi8(mask, f.as_ptr().add(i).cast());
            a0 = _mm512_dpbusd_epi32(a0, b0, f0);
        }
        i += left;
    }
    _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1)) as i64
}

/// Safe entry for [`code_dot_512`] (only after [`has_vnni`]).
pub fn code_dot_vnni(b: &[u8], f: &[u8]) -> i64 {
    assert!(has_vnni());
    // SAFETY: the assert guarantees AVX-512 F, BW and VNNI on this CPU.
    unsafe { code_dot_512(b, f) }
}

/// `crate::sq8_fixed::CodeSums` of codes `c` against a query's flipped
/// byte planes `h` and `l`, sixty-four codes a step: `vpdpbusd` for the
/// three products (unsigned codes times signed plane bytes, or the codes
/// flipped), `vpsadbw` for the sum. A 32-bit lane sums at most
/// 4 * 250 products of magnitude <= 255 * 128 for 16,000 dimensions.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn fixed_sums_512(c: &[u8], h: &[u8], l: &[u8]) -> crate::sq8_fixed::CodeSums {
    let n = c.len().min(h.len()).min(l.len());
    let flip = _mm512_set1_epi8(0x80u8 as i8);
    let zero = _mm512_setzero_si512();
    let (mut ah, mut al, mut aq, mut asum) = (zero, zero, zero, zero);
    let mut i = 0;
    while i < n {
        let left = (n - i).min(64);
        let mask: __mmask64 = if left == 64 { !0 } else { (1u64 << left) - 1 };
        // SAFETY: the mask enables only bytes i..i + left, inside c, h and
        // l; masked-off bytes are neither read nor faulted on and load as
        // zero (a zero code adds nothing to any sum).
        unsafe {
            let cv = _mm512_maskz_loadu_epi8(mask, c.as_ptr().add(i).cast());
            let hv = _mm512_maskz_loadu_epi8(mask, h.as_ptr().add(i).cast());
            let lv = _mm512_maskz_loadu_epi8(mask, l.as_ptr().add(i).cast());
            ah = _mm512_dpbusd_epi32(ah, cv, hv);
            al = _mm512_dpbusd_epi32(al, cv, lv);
            aq = _mm512_dpbusd_epi32(aq, cv, _mm512_xor_si512(cv, flip));
            asum = _mm512_add_epi64(asum, _mm512_sad_epu8(cv, zero));
        }
        i += left;
    }
    crate::sq8_fixed::CodeSums {
        sum: _mm512_reduce_add_epi64(asum) as u64,
        sq: _mm512_reduce_add_epi32(aq) as i64,
        hi: _mm512_reduce_add_epi32(ah) as i64,
        lo: _mm512_reduce_add_epi32(al) as i64,
    }
}

/// Safe entry for [`fixed_sums_512`] (only after [`has_vnni`]).
pub fn fixed_sums_vnni(c: &[u8], h: &[u8], l: &[u8]) -> crate::sq8_fixed::CodeSums {
    assert!(has_vnni());
    // SAFETY: the assert guarantees AVX-512 F, BW and VNNI on this CPU.
    unsafe { fixed_sums_512(c, h, l) }
}
