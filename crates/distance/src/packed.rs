//! Exact Hamming and Jaccard distances of packed bit strings: one bit a
//! dimension in 64-bit words (a `bit(n)` value's bytes, zero-padded to a
//! whole number of words), the copies a packed-bit index keeps.
//!
//! The counts are popcounts of `a XOR b` (Hamming) and of `a AND b` and
//! `a OR b` (Jaccard), so the distances are exact. Counting runs 64 bytes
//! at a time with AVX-512 VPOPCNTDQ where the CPU has it, else eight bytes
//! at a time with POPCNT, else portable code (chosen once per process).
//!
//! A packed copy travels through the graph code in two forms that hold
//! the same bytes: f16-style `u16` codes (what element tuples, chunks and
//! the in-memory graph store; four a word) and a prepared query of `f32`s
//! whose bit patterns are the words' bytes (two a word, never used as
//! numbers). [`bytes_of_codes`] and [`bytes_of_query`] view either as bytes.

use crate::half::HalfVector;
use std::sync::OnceLock;

/// Bytes of one packed word.
pub const WORD_BYTES: usize = 8;

/// The two counting kernels: `(xor)` and `(and, or)` of two byte strings.
struct Kernels {
    xor: fn(&[u8], &[u8]) -> u64,
    and_or: fn(&[u8], &[u8]) -> (u64, u64),
    name: &'static str,
}

/// The kernels for this CPU.
fn kernels() -> &'static Kernels {
    static CHOSEN: OnceLock<Kernels> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::packed_x86::has_vpopcntdq() {
                return Kernels {
                    xor: crate::packed_x86::xor_count,
                    and_or: crate::packed_x86::and_or_count,
                    name: "avx512vpopcntdq",
                };
            }
            if std::is_x86_feature_detected!("popcnt") {
                return Kernels {
                    xor: crate::packed_x86::xor_count_popcnt,
                    and_or: crate::packed_x86::and_or_count_popcnt,
                    name: "popcnt",
                };
            }
        }
        Kernels {
            xor: xor_count_portable,
            and_or: and_or_count_portable,
            name: "portable",
        }
    })
}

/// Name of the counting kernels in use.
pub fn kernel_name() -> &'static str {
    kernels().name
}

/// Words of a packed copy of `bits` bits.
pub fn words(bits: usize) -> usize {
    bits.div_ceil(64)
}

/// Bits set in `a XOR b`: their Hamming distance (equal lengths).
#[inline]
pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().xor)(a, b)
}

/// Bits set in `a AND b` and in `a OR b` (equal lengths).
#[inline]
pub fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    debug_assert_eq!(a.len(), b.len());
    (kernels().and_or)(a, b)
}

/// Jaccard distance `1 - |a AND b| / |a OR b|` in f32 (1 when no bit is
/// shared, two empty sets included, as pgvector answers). Both counts are
/// exact integers in f32 below 2^24 bits.
#[inline]
pub fn jaccard(a: &[u8], b: &[u8]) -> f32 {
    let (and, or) = and_or(a, b);
    if and == 0 {
        return 1.0;
    }
    1.0 - and as f32 / or as f32
}

/// Portable XOR count, eight bytes at a time then byte by byte.
#[inline(always)]
pub(crate) fn xor_count_portable(a: &[u8], b: &[u8]) -> u64 {
    let mut n = 0u64;
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x = u64::from_ne_bytes(x.try_into().expect("8 bytes"));
        let y = u64::from_ne_bytes(y.try_into().expect("8 bytes"));
        n += u64::from((x ^ y).count_ones());
    }
    for (x, y) in ra.iter().zip(rb) {
        n += u64::from((x ^ y).count_ones());
    }
    n
}

/// Portable AND and OR counts, eight bytes at a time then byte by byte.
#[inline(always)]
pub(crate) fn and_or_count_portable(a: &[u8], b: &[u8]) -> (u64, u64) {
    let (mut and, mut or) = (0u64, 0u64);
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let x = u64::from_ne_bytes(x.try_into().expect("8 bytes"));
        let y = u64::from_ne_bytes(y.try_into().expect("8 bytes"));
        and += u64::from((x & y).count_ones());
        or += u64::from((x | y).count_ones());
    }
    for (x, y) in ra.iter().zip(rb) {
        and += u64::from((x & y).count_ones());
        or += u64::from((x | y).count_ones());
    }
    (and, or)
}

/// The bytes of a packed copy held as `u16` codes.
#[inline]
pub fn bytes_of_codes(codes: &[u16]) -> &[u8] {
    // SAFETY: any u16 is two initialised bytes; u8 has alignment 1 and the
    // length covers exactly the codes' bytes.
    unsafe { std::slice::from_raw_parts(codes.as_ptr().cast::<u8>(), 2 * codes.len()) }
}

/// The bytes of a packed copy held as a prepared query of `f32`s.
#[inline]
pub fn bytes_of_query(query: &[f32]) -> &[u8] {
    // SAFETY: any f32 is four initialised bytes; u8 has alignment 1 and the
    // length covers exactly the query's bytes.
    unsafe { std::slice::from_raw_parts(query.as_ptr().cast::<u8>(), 4 * query.len()) }
}

/// Packs the first `bits` bits of `bytes` (a `bit(n)` value, most
/// significant bit of each byte first) into whole words: the bytes as
/// they are, bits past `bits` cleared, zero-padded.
pub fn pack_bytes(bytes: &[u8], bits: usize) -> Vec<u8> {
    let mut out = vec![0u8; WORD_BYTES * words(bits)];
    let n = bits.div_ceil(8).min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    crate::bits::masked_tail(&mut out, bits);
    out
}

/// Packs 0/1 floats (a bit a dimension, the form an index reads a bit
/// string in; anything non-zero counts as 1) into whole words.
pub fn pack_floats(v: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; WORD_BYTES * words(v.len())];
    // Eight floats a byte, without a branch per bit (random bits would
    // mispredict half the time).
    for (byte, chunk) in out.iter_mut().zip(v.chunks(8)) {
        let mut b = 0u8;
        for (j, &x) in chunk.iter().enumerate() {
            b |= u8::from(x != 0.0) << (7 - j);
        }
        *byte = b;
    }
    out
}

/// Packed bytes as `u16` codes (the same bytes in memory).
pub fn codes_of_bytes(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_ne_bytes([c[0], c[1]]))
        .collect()
}

/// Packed bytes as a prepared query (the same bytes in memory).
pub fn query_of_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `codes` (a packed copy) written over `out` as a prepared query.
pub fn query_of_codes_into(codes: &[u16], out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        bytes_of_codes(codes)
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
    );
}

/// The copy an element of a packed index holds of 0/1 floats `v`: the
/// packed words as codes, scale 1, error bound 0 (exact), and the norm of
/// the 0/1 vector (the square root of its count of set bits).
pub fn encode(v: &[f32]) -> HalfVector {
    let bytes = pack_floats(v);
    let count = xor_count_portable(&bytes, &vec![0u8; bytes.len()]);
    HalfVector {
        codes: codes_of_bytes(&bytes),
        scale: 1.0,
        err: 0.0,
        norm: (count as f64).sqrt() as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Counts bit by bit: the reference every kernel must equal.
    fn slow(a: &[u8], b: &[u8]) -> (u64, u64, u64) {
        a.iter().zip(b).fold((0, 0, 0), |(p, q, r), (&x, &y)| {
            (
                p + (x ^ y).count_ones() as u64,
                q + (x & y).count_ones() as u64,
                r + (x | y).count_ones() as u64,
            )
        })
    }

    #[test]
    fn every_kernel_equals_the_reference_on_odd_lengths() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let mut lens: Vec<usize> = (0..200).collect();
        lens.extend([511, 513, 1023, 1025, 4097, 8000, 8001]);
        for len in lens {
            for density in [0.0, 0.05, 0.5, 0.95, 1.0] {
                let mut bits = |n: usize| -> Vec<u8> {
                    (0..n)
                        .map(|_| {
                            (0..8).fold(0u8, |b, k| b | (u8::from(rng.gen_bool(density)) << k))
                        })
                        .collect()
                };
                let (a, b) = (bits(len), bits(len));
                let (x, and, or) = slow(&a, &b);
                assert_eq!(xor_count_portable(&a, &b), x, "len {len}");
                assert_eq!(and_or_count_portable(&a, &b), (and, or), "len {len}");
                assert_eq!(hamming(&a, &b), x, "len {len} ({})", kernel_name());
                assert_eq!(and_or(&a, &b), (and, or), "len {len} ({})", kernel_name());
                #[cfg(target_arch = "x86_64")]
                {
                    use crate::packed_x86 as k;
                    if std::is_x86_feature_detected!("popcnt") {
                        assert_eq!(k::xor_count_popcnt(&a, &b), x, "len {len}");
                        assert_eq!(k::and_or_count_popcnt(&a, &b), (and, or), "len {len}");
                    }
                    if k::has_vpopcntdq() {
                        assert_eq!(k::xor_count(&a, &b), x, "len {len}");
                        assert_eq!(k::and_or_count(&a, &b), (and, or), "len {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn distances_equal_the_bit_string_ones() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for bits in [1usize, 7, 63, 64, 65, 1000, 1024, 64_000] {
            let raw = |rng: &mut rand::rngs::StdRng| -> Vec<u8> {
                let mut v: Vec<u8> = (0..bits.div_ceil(8)).map(|_| rng.gen()).collect();
                crate::bits::masked_tail(&mut v, bits);
                v
            };
            let (a, b) = (raw(&mut rng), raw(&mut rng));
            let (pa, pb) = (pack_bytes(&a, bits), pack_bytes(&b, bits));
            assert_eq!(pa.len(), 8 * words(bits));
            assert_eq!(hamming(&pa, &pb), crate::bits::hamming(&a, &b));
            let want = crate::bits::jaccard(&a, &b);
            assert!((jaccard(&pa, &pb) as f64 - want).abs() < 1e-6, "{bits}");
            // the float form, the codes and the query hold the same bytes
            let fa = crate::bits::to_floats(&a, bits);
            assert_eq!(pack_floats(&fa), pa);
            let copy = encode(&fa);
            assert_eq!(bytes_of_codes(&copy.codes), &pa[..]);
            assert_eq!(bytes_of_query(&query_of_bytes(&pa)), &pa[..]);
            let mut q = Vec::new();
            query_of_codes_into(&copy.codes, &mut q);
            assert_eq!(bytes_of_query(&q), &pa[..]);
            let ones = fa.iter().filter(|&&x| x == 1.0).count();
            assert_eq!(copy.norm, (ones as f64).sqrt() as f32);
            assert_eq!((copy.scale, copy.err), (1.0, 0.0));
        }
    }

    #[test]
    fn jaccard_of_empty_sets_is_one() {
        let z = [0u8; 16];
        let mut one = [0u8; 16];
        one[3] = 4;
        assert_eq!(jaccard(&z, &z), 1.0);
        assert_eq!(jaccard(&z, &one), 1.0);
        assert_eq!(jaccard(&one, &one), 0.0);
        assert_eq!(hamming(&z, &one), 1);
    }

    #[test]
    fn packing_clears_bits_past_the_length() {
        assert_eq!(
            pack_bytes(&[0xFF, 0xFF], 9),
            vec![0xFF, 0x80, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(pack_bytes(&[], 0), Vec::<u8>::new());
        assert_eq!(
            pack_floats(&[1.0, 0.0, 1.0]),
            vec![0xA0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
