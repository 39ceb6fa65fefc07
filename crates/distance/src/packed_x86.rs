//! x86_64 counting kernels of [`crate::packed`]: AVX-512 VPOPCNTDQ (64
//! bytes a step) and POPCNT (8 bytes a step), each with a byte-by-byte
//! tail; chosen at run time by `packed::kernels`.

use core::arch::x86_64::*;

/// Whether this CPU runs the AVX-512 VPOPCNTDQ kernels.
pub fn has_vpopcntdq() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vpopcntdq")
}

/// Bits set in `a XOR b`, 64 bytes a step.
#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
fn xor_count_512(a: &[u8], b: &[u8]) -> u64 {
    let n = a.len().min(b.len());
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i + 64 <= n {
        // SAFETY: i + 64 <= n, so both 64-byte unaligned loads are in bounds.
        let (x, y) = unsafe {
            (
                _mm512_loadu_si512(a.as_ptr().add(i).cast()),
                _mm512_loadu_si512(b.as_ptr().add(i).cast()),
            )
        };
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
        i += 64;
    }
    _mm512_reduce_add_epi64(acc) as u64 + crate::packed::xor_count_portable(&a[i..n], &b[i..n])
}

/// Bits set in `a AND b` and in `a OR b`, 64 bytes a step.
#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
fn and_or_count_512(a: &[u8], b: &[u8]) -> (u64, u64) {
    let n = a.len().min(b.len());
    let (mut and, mut or) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i + 64 <= n {
        // SAFETY: i + 64 <= n, so both 64-byte unaligned loads are in bounds.
        let (x, y) = unsafe {
            (
                _mm512_loadu_si512(a.as_ptr().add(i).cast()),
                _mm512_loadu_si512(b.as_ptr().add(i).cast()),
            )
        };
        and = _mm512_add_epi64(and, _mm512_popcnt_epi64(_mm512_and_si512(x, y)));
        or = _mm512_add_epi64(or, _mm512_popcnt_epi64(_mm512_or_si512(x, y)));
        i += 64;
    }
    let (ta, to) = crate::packed::and_or_count_portable(&a[i..n], &b[i..n]);
    (
        _mm512_reduce_add_epi64(and) as u64 + ta,
        _mm512_reduce_add_epi64(or) as u64 + to,
    )
}

/// [`xor_count_512`] behind its feature check.
pub fn xor_count(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: chosen (and tested) only where has_vpopcntdq() said the CPU
    // has AVX-512F and VPOPCNTDQ.
    unsafe { xor_count_512(a, b) }
}

/// [`and_or_count_512`] behind its feature check.
pub fn and_or_count(a: &[u8], b: &[u8]) -> (u64, u64) {
    // SAFETY: as for xor_count.
    unsafe { and_or_count_512(a, b) }
}

/// The portable XOR count compiled with POPCNT.
#[target_feature(enable = "popcnt")]
fn xor_count_popcnt_inner(a: &[u8], b: &[u8]) -> u64 {
    crate::packed::xor_count_portable(a, b)
}

/// The portable AND/OR counts compiled with POPCNT.
#[target_feature(enable = "popcnt")]
fn and_or_count_popcnt_inner(a: &[u8], b: &[u8]) -> (u64, u64) {
    crate::packed::and_or_count_portable(a, b)
}

/// [`xor_count_popcnt_inner`] behind its feature check.
pub fn xor_count_popcnt(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: chosen (and tested) only after is_x86_feature_detected!("popcnt").
    unsafe { xor_count_popcnt_inner(a, b) }
}

/// [`and_or_count_popcnt_inner`] behind its feature check.
pub fn and_or_count_popcnt(a: &[u8], b: &[u8]) -> (u64, u64) {
    // SAFETY: as for xor_count_popcnt.
    unsafe { and_or_count_popcnt_inner(a, b) }
}
