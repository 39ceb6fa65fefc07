//! Distances between bit strings (Postgres `bit(n)`, most significant bit
//! of each byte first), for binary-quantised vectors: Hamming (differing
//! bits) and Jaccard (1 - shared set bits / set bits of either).
//!
//! Callers pass equal-length byte slices holding the same number of bits,
//! with the unused low bits of the last byte zero (Postgres keeps them so);
//! [`masked_tail`] clears them for bytes of untrusted origin. The counting
//! is [`crate::packed`]'s (the packed-bit index's kernels).

/// Number of differing bits (the counting kernels of [`crate::packed`]:
/// AVX-512 VPOPCNTDQ, POPCNT or portable, any length).
pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    crate::packed::hamming(a, b)
}

/// Jaccard distance `1 - |a AND b| / |a OR b|` in f64; 1 when neither has
/// a bit set (pgvector's answer for two empty sets).
pub fn jaccard(a: &[u8], b: &[u8]) -> f64 {
    let (and, or) = crate::packed::and_or(a, b);
    if or == 0 {
        1.0
    } else {
        1.0 - and as f64 / or as f64
    }
}

/// `bytes` with the bits past `bits` (in the last byte) cleared.
pub fn masked_tail(bytes: &mut [u8], bits: usize) {
    let used = bits % 8;
    if used != 0 {
        if let Some(last) = bytes.get_mut(bits / 8) {
            *last &= 0xFFu8 << (8 - used);
        }
    }
    for b in bytes.iter_mut().skip(bits.div_ceil(8)) {
        *b = 0;
    }
}

/// Binary quantisation: bit i (most significant first in each byte) is set
/// when `v[i] > 0`, as pgvector's `binary_quantize`; `ceil(len / 8)` bytes.
pub fn binary_quantize(v: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; v.len().div_ceil(8)];
    for (byte, chunk) in out.iter_mut().zip(v.chunks(8)) {
        for (j, &x) in chunk.iter().enumerate() {
            *byte |= u8::from(x > 0.0) << (7 - j);
        }
    }
    out
}

/// The first `bits` bits of `bytes` as 0/1 floats, most significant bit
/// of each byte first (the form an index reads a bit string in; exact in
/// f16). Bits past the end of `bytes` read as 0.
pub fn to_floats(bytes: &[u8], bits: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(bits);
    // A byte at a time (bytes past the end of `bytes` read as zero).
    for i in 0..bits.div_ceil(8) {
        let byte = bytes.get(i).copied().unwrap_or(0);
        let n = (bits - 8 * i).min(8);
        out.extend((0..n).map(|j| f32::from((byte >> (7 - j)) & 1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_packed_words_round_trip() {
        for n in [1usize, 7, 8, 9, 63, 64, 65, 1000] {
            let text: String = (0..n)
                .map(|i| if (i * 37 + n) % 5 < 2 { '1' } else { '0' })
                .collect();
            let b = bits(&text);
            let f = to_floats(&b, n);
            let want: Vec<f32> = text
                .chars()
                .map(|c| if c == '1' { 1.0 } else { 0.0 })
                .collect();
            assert_eq!(f, want, "{n} bits");
            // Bytes short of the length read as zero bits.
            assert_eq!(
                to_floats(&b[..b.len() - 1], n)[..8 * (b.len() - 1)],
                want[..8 * (b.len() - 1)]
            );
            assert!(to_floats(&b[..b.len() - 1], n)[8 * (b.len() - 1)..]
                .iter()
                .all(|&x| x == 0.0));
            let packed = crate::packed::pack_floats(&f);
            assert_eq!(packed.len(), 8 * n.div_ceil(64));
            assert_eq!(&packed[..b.len()], &b[..], "{n} bits");
            assert!(packed[b.len()..].iter().all(|&x| x == 0));
        }
    }

    /// A bit string from '0'/'1' text, as Postgres stores it.
    fn bits(s: &str) -> Vec<u8> {
        let mut out = vec![0u8; s.len().div_ceil(8)];
        for (i, c) in s.chars().enumerate() {
            if c == '1' {
                out[i / 8] |= 0x80 >> (i % 8);
            }
        }
        out
    }

    #[test]
    fn hamming_counts_differing_bits() {
        assert_eq!(hamming(&bits("111"), &bits("111")), 0);
        assert_eq!(hamming(&bits("111"), &bits("110")), 1);
        assert_eq!(hamming(&bits("111"), &bits("000")), 3);
        assert_eq!(hamming(&bits(""), &bits("")), 0);
        let a = "10".repeat(257);
        let b = "01".repeat(257);
        assert_eq!(hamming(&bits(&a), &bits(&b)), 514);
        assert_eq!(hamming(&bits(&a), &bits(&a)), 0);
    }

    #[test]
    fn jaccard_matches_its_definition() {
        assert_eq!(jaccard(&bits("1111"), &bits("1111")), 0.0);
        assert_eq!(jaccard(&bits("1111"), &bits("1110")), 0.25);
        assert_eq!(jaccard(&bits("1100"), &bits("1000")), 0.5);
        assert_eq!(jaccard(&bits("1111"), &bits("0000")), 1.0);
        assert_eq!(jaccard(&bits("0000"), &bits("0000")), 1.0);
        assert_eq!(jaccard(&bits(""), &bits("")), 1.0);
    }

    #[test]
    fn counts_agree_with_bytewise_counts_on_every_length() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for len in 0..140 {
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            };
            let a: Vec<u8> = (0..len).map(|_| next()).collect();
            let b: Vec<u8> = (0..len).map(|_| next()).collect();
            let (xor, and, or) = a.iter().zip(&b).fold((0, 0, 0), |(p, q, r), (&x, &y)| {
                (
                    p + (x ^ y).count_ones() as u64,
                    q + (x & y).count_ones() as u64,
                    r + (x | y).count_ones() as u64,
                )
            });
            assert_eq!(hamming(&a, &b), xor, "len {len}");
            let want = if or == 0 {
                1.0
            } else {
                1.0 - and as f64 / or as f64
            };
            assert_eq!(jaccard(&a, &b), want, "len {len}");
        }
    }

    #[test]
    fn quantise_sets_positive_dimensions_msb_first() {
        assert_eq!(binary_quantize(&[1.0, -1.0, 0.0, 2.0]), bits("1001"));
        let v: Vec<f32> = (0..11)
            .map(|i| if i % 3 == 0 { 0.5 } else { -0.5 })
            .collect();
        assert_eq!(binary_quantize(&v), bits("10010010010"));
        assert!(binary_quantize(&[]).is_empty());
    }

    #[test]
    fn floats_read_bits_msb_first() {
        assert_eq!(to_floats(&bits("1001"), 4), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(to_floats(&bits("0000000011"), 10)[8..], [1.0, 1.0]);
        assert_eq!(
            binary_quantize(&to_floats(&bits("1101001"), 7)),
            bits("1101001")
        );
        assert!(to_floats(&[], 0).is_empty());
    }

    #[test]
    fn masking_clears_the_unused_tail() {
        let mut b = vec![0xFF, 0xFF];
        masked_tail(&mut b, 11);
        assert_eq!(b, vec![0xFF, 0xE0]);
        let mut b = vec![0xFF, 0xFF];
        masked_tail(&mut b, 8);
        assert_eq!(b, vec![0xFF, 0x00]);
    }
}
