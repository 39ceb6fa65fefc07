//! Element seals (format version 4): two checksums in each element tuple
//! that let a scan tell a damaged element from a true one before it hands
//! the element's heap rows to the executor.
//!
//! A scan reports, for each row, a lower bound of its exact distance that
//! it computes from the element's f16 codes, scale, error bound and norm;
//! the executor rechecks against the heap row and stops with "index
//! returned tuples in wrong order" (XX000) when a bound is above the exact
//! distance. A damaged code, scale, bound, norm or heap TID can do that.
//! Sealed elements carry:
//!
//! | offset | size | what it covers |
//! |---|---|---|
//! | 58 | 4 | the vector seal: scale, error bound, norm and every f16 code (the chunks' too) |
//! | 62 | 2 | the heap seal: level, heap TID count and the TIDs in use |
//!
//! in the place of the tenth heap TID slot (sealed elements hold at most
//! [`SEALED_HEAP_TIDS`]). The vector seal is written once, when the element
//! is encoded (its codes never change afterwards); the heap seal each time
//! its TIDs change. Flags and neighbour lists are not sealed: they change
//! under concurrent inserts and vacuum, and a damaged one is caught by the
//! structural checks (`Corruption::Flags`, `Corruption::LinkBlock`) or costs
//! recall, never order.
//!
//! The hash is a word-wise multiply-xorshift (the codes in four lanes):
//! each step is a bijection of the running state, so any change confined
//! to one 8-byte word always changes the result before it is folded to the
//! seal's width; others collide with probability about 2^-32 (the vector
//! seal) or 2^-16 (the heap seal). About 0.2 ns a code on this project's
//! hosts: a scan checks only the elements whose rows it returns.

/// Heap TIDs a sealed element holds (the tenth slot keeps the seals).
pub const SEALED_HEAP_TIDS: usize = 9;
/// Offset of the vector seal in a sealed element.
pub const VECTOR_SEAL_AT: usize = 58;
/// Offset of the heap seal in a sealed element.
pub const HEAP_SEAL_AT: usize = 62;
/// First format version whose elements are sealed.
pub const SEALED_SINCE: u32 = 4;

const PRIME: u64 = 0x9E37_79B9_7F4A_7C15;

/// Mixes one 8-byte word into the running hash `h`.
#[inline]
fn step(h: u64, w: u64) -> u64 {
    let h = (h ^ w).wrapping_mul(PRIME);
    h ^ (h >> 29)
}

/// Hash of `bytes` (zero-padded to whole words), continuing from `h`.
fn hash_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = step(h, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(last));
    }
    step(h, bytes.len() as u64)
}

/// Hash of f16 `codes`, four to a word as they lie on a (little-endian)
/// page, in four independent lanes (the multiplications of one lane wait
/// for each other, those of four overlap), then folded into `h`.
fn hash_codes(h: u64, codes: &[u16]) -> u64 {
    let word =
        |w: &[u16]| w[0] as u64 | (w[1] as u64) << 16 | (w[2] as u64) << 32 | (w[3] as u64) << 48;
    let mut lanes = [h, h ^ 1, h ^ 2, h ^ 3];
    let mut blocks = codes.chunks_exact(16);
    for b in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(b.chunks_exact(4)) {
            *lane = step(*lane, word(w));
        }
    }
    let mut words = blocks.remainder().chunks_exact(4);
    for w in &mut words {
        lanes[0] = step(lanes[0], word(w));
    }
    let mut last = 0u64;
    for (i, &c) in words.remainder().iter().enumerate() {
        last |= (c as u64) << (16 * i);
    }
    let folded = lanes
        .iter()
        .fold(step(h, last), |acc, &lane| step(acc, lane));
    step(folded, codes.len() as u64)
}

/// The vector seal of an element: its scale, error bound, norm (the 12
/// bytes at offset 64) and all its f16 codes, in index order.
pub fn vector_seal(fields: &[u8; 12], codes: &[u16]) -> u32 {
    let h = hash_codes(hash_bytes(1, fields), codes);
    (h ^ (h >> 32)) as u32
}

/// The vector seal of an element with 8-bit codes (format 5): its
/// scale, error bound, norm and offset (the 16 bytes at offset 64) and
/// all its codes.
pub fn vector_seal_sq8(fields: &[u8; 16], codes: &[u8]) -> u32 {
    let h = hash_bytes(hash_bytes(3, fields), codes);
    (h ^ (h >> 32)) as u32
}

/// The heap seal of an element: its level byte, its TID count and the
/// `count` 6-byte TID slots from offset 4 of `bytes`.
pub fn heap_seal(bytes: &[u8]) -> u16 {
    let count = bytes[3] as usize;
    let mut h = step(2, bytes[1] as u64 | (bytes[3] as u64) << 8);
    h = hash_bytes(h, &bytes[4..4 + 6 * count.min(SEALED_HEAP_TIDS)]);
    (h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_single_bit_flip_changes_the_vector_seal() {
        let fields: [u8; 12] = std::array::from_fn(|i| i as u8 * 7 + 1);
        let codes: Vec<u16> = (0..37).map(|i| (i * 977 % 65521) as u16).collect();
        let seal = vector_seal(&fields, &codes);
        for byte in 0..12 {
            for bit in 0..8 {
                let mut f = fields;
                f[byte] ^= 1 << bit;
                assert_ne!(vector_seal(&f, &codes), seal, "field byte {byte} bit {bit}");
            }
        }
        for i in 0..codes.len() {
            for bit in 0..16 {
                let mut c = codes.clone();
                c[i] ^= 1 << bit;
                assert_ne!(vector_seal(&fields, &c), seal, "code {i} bit {bit}");
            }
        }
        assert_ne!(vector_seal(&fields, &codes[..36]), seal, "a code less");
        let mut swapped = codes.clone();
        swapped.swap(0, 5);
        assert_ne!(vector_seal(&fields, &swapped), seal, "two codes swapped");
    }

    #[test]
    fn heap_seal_covers_level_count_and_tids_in_use() {
        let mut b = vec![0u8; 80];
        b[1] = 2;
        b[3] = 3;
        for (i, x) in b[4..22].iter_mut().enumerate() {
            *x = i as u8 + 9;
        }
        let seal = heap_seal(&b);
        for byte in (1..2).chain(3..4).chain(4..22) {
            for bit in 0..8 {
                let mut d = b.clone();
                d[byte] ^= 1 << bit;
                assert_ne!(heap_seal(&d), seal, "byte {byte} bit {bit}");
            }
        }
        let mut unused = b.clone();
        unused[30] ^= 0xff;
        unused[2] ^= 1;
        assert_eq!(
            heap_seal(&unused),
            seal,
            "flags and unused slots are not sealed"
        );
    }
}
