//! k-means on packed bit strings (`bit` columns): rows and centres are
//! packed words held as f32s whose bit patterns are the words' bytes
//! (`layout::Element::Bits`), measured by Hamming distance with the
//! popcount kernels of `distance::packed`, and a centre is the majority
//! bit of its rows in each dimension: the bit string nearest (in total
//! Hamming distance) to them, as pgvector's float mean rounded at 0.5 is.

/// The bytes of packed words held as f32 bit patterns.
pub fn bytes(v: &[f32]) -> &[u8] {
    distance::packed::bytes_of_query(v)
}

/// Hamming distance of two packed rows of the same width.
#[inline]
pub fn hamming(a: &[f32], b: &[f32]) -> u64 {
    distance::packed::hamming(bytes(a), bytes(b))
}

/// Writes over `centre` the majority bits of rows `members` of `rows`
/// (rows of `dim` f32s): a bit is set when more than half the members
/// have it (a tie clears it, as pgvector's mean above 0.5).
pub fn majority(rows: &[f32], dim: usize, members: &[u32], centre: &mut [f32]) {
    let nbytes = dim * 4;
    let mut counts = vec![0u32; nbytes * 8];
    for &i in members {
        let row = bytes(&rows[i as usize * dim..(i as usize + 1) * dim]);
        for (byte, c) in row.iter().zip(counts.chunks_exact_mut(8)) {
            if *byte == 0 {
                continue;
            }
            for (j, slot) in c.iter_mut().enumerate() {
                *slot += u32::from((byte >> (7 - j)) & 1);
            }
        }
    }
    let n = members.len() as u64;
    let mut out = vec![0u8; nbytes];
    for (b, c) in out.iter_mut().zip(counts.chunks_exact(8)) {
        for (j, &count) in c.iter().enumerate() {
            if 2 * u64::from(count) > n {
                *b |= 0x80 >> j;
            }
        }
    }
    for (x, w) in centre.iter_mut().zip(out.chunks_exact(4)) {
        *x = f32::from_ne_bytes([w[0], w[1], w[2], w[3]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs a bit string given as '0'/'1' characters into f32 patterns.
    fn row(bits: &str) -> Vec<f32> {
        let v: Vec<f32> = bits.bytes().map(|b| f32::from(b - b'0')).collect();
        let packed = distance::packed::pack_floats(&v);
        packed
            .chunks_exact(4)
            .map(|w| f32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
            .collect()
    }

    #[test]
    fn majority_takes_the_bits_most_rows_have() {
        let rows: Vec<f32> = [row("1100110011"), row("1010101011"), row("1001100110")].concat();
        let dim = rows.len() / 3;
        let mut centre = vec![0f32; dim];
        majority(&rows, dim, &[0, 1, 2], &mut centre);
        assert_eq!(bytes(&centre), bytes(&row("1000100011")));
        // Two rows: a tie clears the bit.
        majority(&rows, dim, &[0, 1], &mut centre);
        assert_eq!(bytes(&centre), bytes(&row("1000100011")));
        majority(&rows, dim, &[2], &mut centre);
        assert_eq!(bytes(&centre), bytes(&row("1001100110")));
    }

    #[test]
    fn hamming_counts_differing_bits() {
        assert_eq!(hamming(&row("1100110011"), &row("1010101011")), 4);
        assert_eq!(hamming(&row("1"), &row("1")), 0);
    }
}
