//! Exact distances between sparse vectors, for indexes that store only
//! the non-zero elements (`sparsevec`, format 7).
//!
//! Two forms of a sparse vector meet here:
//!
//! * a **query** ([`pack`]): its ascending 0-based indices, then its
//!   values, as one `f32` slice (an index word holds the index's bits), so
//!   it travels through the graph crate's `&[f32]` queries unchanged;
//! * a **stored copy** ([`encode`]): its values as little-endian f32, then
//!   the gaps between successive indices as LEB128 varints (the first gap
//!   from -1), about 6 bytes a non-zero on SPLADE-like data (30,522
//!   dimensions, gaps under 16,384).
//!
//! Every distance merges the two index lists in ascending order and sums
//! in f32 in that order, as the `sparsevec` operators do, so an index
//! measures the same float as the operator (the scan's order stays exact).

/// One non-zero element: (0-based index, value).
pub type Entry = (u32, f32);

/// Packs ascending `indices` and their `values` into a query: the index
/// bits first, then the values.
pub fn pack(indices: &[u32], values: &[f32], out: &mut Vec<f32>) {
    debug_assert_eq!(indices.len(), values.len());
    out.clear();
    out.extend(indices.iter().map(|&i| f32::from_bits(i)));
    out.extend_from_slice(values);
}

/// The (indices, values) of a query made by [`pack`]; an odd-length slice
/// drops its last word.
#[inline]
pub fn unpack(q: &[f32]) -> (impl Iterator<Item = u32> + '_, &[f32]) {
    let n = q.len() / 2;
    (q[..n].iter().map(|x| x.to_bits()), &q[n..2 * n])
}

/// Bytes of the stored copy of `entries` ([`encode`]): 4 a value plus
/// each gap's varint.
pub fn encoded_len(indices: &[u32]) -> usize {
    4 * indices.len() + gaps(indices).map(varint_len).sum::<usize>()
}

/// The gaps between successive indices, the first from -1 (so >= 1 when
/// the indices ascend strictly).
fn gaps(indices: &[u32]) -> impl Iterator<Item = u32> + '_ {
    let mut prev: i64 = -1;
    indices.iter().map(move |&i| {
        let g = (i as i64 - prev) as u32;
        prev = i as i64;
        g
    })
}

/// Bytes of `v` as an LEB128 varint.
fn varint_len(v: u32) -> usize {
    (32 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends the stored copy of ascending `indices` and `values`: values,
/// then index gaps. Returns the bytes of the gaps.
pub fn encode(indices: &[u32], values: &[f32], out: &mut Vec<u8>) -> usize {
    debug_assert_eq!(indices.len(), values.len());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let start = out.len();
    for mut g in gaps(indices) {
        while g >= 0x80 {
            out.push((g as u8 & 0x7f) | 0x80);
            g >>= 7;
        }
        out.push(g as u8);
    }
    out.len() - start
}

/// A stored copy ([`encode`]) of `nnz` elements, read in place.
#[derive(Clone, Copy, Debug)]
pub struct Stored<'a> {
    values: &'a [u8],
    gaps: &'a [u8],
}

impl<'a> Stored<'a> {
    /// The copy of `nnz` elements at the start of `bytes`, None when
    /// `bytes` is too short for its values (its gaps are what follows).
    pub fn new(bytes: &'a [u8], nnz: usize) -> Option<Self> {
        let n = nnz.checked_mul(4)?;
        (bytes.len() >= n).then(|| Stored {
            values: &bytes[..n],
            gaps: &bytes[n..],
        })
    }

    /// Bytes of the copy: values and gaps.
    pub fn bytes(&self) -> usize {
        self.values.len() + self.gaps.len()
    }

    /// Non-zero elements held.
    pub fn nnz(&self) -> usize {
        self.values.len() / 4
    }

    /// Its elements in ascending index order. A damaged copy yields what
    /// it can and stops (see [`Stored::check`]).
    #[inline]
    pub fn iter(&self) -> Entries<'a> {
        Entries {
            values: self.values,
            gaps: self.gaps,
            index: -1,
        }
    }

    /// Checks that the gaps decode to exactly `nnz` strictly ascending
    /// indices below `dims` using every byte, and that the values are
    /// finite and non-zero: None when they do not.
    pub fn check(&self, dims: u64) -> Option<()> {
        let mut it = self.iter();
        let mut count = 0;
        for (i, v) in &mut it {
            if u64::from(i) >= dims || !v.is_finite() || v == 0.0 {
                return None;
            }
            count += 1;
        }
        (count == self.nnz() && it.gaps.is_empty()).then_some(())
    }

    /// Its elements as (indices, values).
    pub fn to_vecs(&self) -> (Vec<u32>, Vec<f32>) {
        self.iter().unzip()
    }
}

/// The elements of a [`Stored`] copy, ascending.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    values: &'a [u8],
    gaps: &'a [u8],
    index: i64,
}

impl Iterator for Entries<'_> {
    type Item = Entry;

    /// The next element; None at the end or at a damaged gap.
    #[inline]
    fn next(&mut self) -> Option<Entry> {
        if self.values.len() < 4 {
            return None;
        }
        let (&b, rest) = self.gaps.split_first()?;
        let g = if b < 0x80 {
            // one byte: gaps under 128, most of them on dense-ish rows
            self.gaps = rest;
            u64::from(b)
        } else {
            self.long_gap()?
        };
        let index = self.index + g as i64;
        if g == 0 || index > u32::MAX as i64 {
            return None;
        }
        self.index = index;
        let (v, rest) = self.values.split_at(4);
        self.values = rest;
        Some((index as u32, f32::from_le_bytes([v[0], v[1], v[2], v[3]])))
    }
}

impl Entries<'_> {
    /// A gap of two to five varint bytes; None past five or at the end.
    #[inline]
    fn long_gap(&mut self) -> Option<u64> {
        let mut g: u64 = 0;
        let mut shift = 0;
        loop {
            let (&b, rest) = self.gaps.split_first()?;
            self.gaps = rest;
            g |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(g);
            }
            shift += 7;
            if shift > 28 {
                return None;
            }
        }
    }
}

/// Sums over the union of the indices of `a` and `b`, ascending, in f32:
/// `both(x, y)` where both hold an element, `one(x)` where one does.
#[inline(always)]
fn merge(
    a: impl Iterator<Item = Entry>,
    b: impl Iterator<Item = Entry>,
    both: impl Fn(f32, f32) -> f32,
    one: impl Fn(f32) -> f32,
) -> f32 {
    let (mut a, mut b) = (a, b);
    let (mut x, mut y) = (a.next(), b.next());
    let mut sum = 0f32;
    loop {
        match (x, y) {
            (Some((i, xv)), Some((j, yv))) => {
                if i == j {
                    sum += both(xv, yv);
                    x = a.next();
                    y = b.next();
                } else if i < j {
                    sum += one(xv);
                    x = a.next();
                } else {
                    sum += one(yv);
                    y = b.next();
                }
            }
            (Some((_, xv)), None) => {
                sum += one(xv);
                x = a.next();
            }
            (None, Some((_, yv))) => {
                sum += one(yv);
                y = b.next();
            }
            (None, None) => return sum,
        }
    }
}

/// Squared Euclidean distance.
#[inline]
pub fn l2_squared(a: impl Iterator<Item = Entry>, b: impl Iterator<Item = Entry>) -> f32 {
    merge(a, b, |x, y| (x - y) * (x - y), |x| x * x)
}

/// Taxicab distance.
#[inline]
pub fn l1(a: impl Iterator<Item = Entry>, b: impl Iterator<Item = Entry>) -> f32 {
    merge(a, b, |x, y| (x - y).abs(), f32::abs)
}

/// Inner product (over the common indices).
#[inline]
pub fn dot(a: impl Iterator<Item = Entry>, b: impl Iterator<Item = Entry>) -> f32 {
    merge(a, b, |x, y| x * y, |_| 0.0)
}

/// The elements of a [`pack`]ed query, ascending.
#[inline]
pub fn query_entries(q: &[f32]) -> impl Iterator<Item = Entry> + Clone + '_ {
    let n = q.len() / 2;
    q[..n]
        .iter()
        .map(|x| x.to_bits())
        .zip(q[n..2 * n].iter().copied())
}

/// Euclidean norm of `values`, summed in f64.
pub fn norm(values: &[f32]) -> f32 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense copy of sparse `entries` of `dims` dimensions.
    fn dense(e: &[(u32, f32)], dims: usize) -> Vec<f32> {
        let mut v = vec![0f32; dims];
        for &(i, x) in e {
            v[i as usize] = x;
        }
        v
    }

    /// Random sparse entries: `nnz` distinct indices below `dims`.
    fn random(seed: u64, dims: u32, nnz: usize) -> Vec<(u32, f32)> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut idx: Vec<u32> = (0..nnz).map(|_| (next() % dims as u64) as u32).collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .map(|i| (i, (next() % 2000) as f32 / 1000.0 - 1.0 + 1e-3))
            .collect()
    }

    #[test]
    fn encode_decode_round_trip_and_sizes() {
        for (dims, nnz) in [
            (32u32, 3usize),
            (30_522, 150),
            (1_000_000_000, 1000),
            (5, 0),
        ] {
            let e = random(dims as u64 + nnz as u64, dims, nnz);
            let (idx, val): (Vec<u32>, Vec<f32>) = e.iter().copied().unzip();
            let mut b = vec![];
            let gap_bytes = encode(&idx, &val, &mut b);
            assert_eq!(b.len(), encoded_len(&idx));
            assert_eq!(b.len(), 4 * idx.len() + gap_bytes);
            let s = Stored::new(&b, idx.len()).unwrap();
            assert_eq!(s.to_vecs(), (idx.clone(), val.clone()));
            assert!(s.check(dims as u64).is_some());
            if dims == 30_522 {
                assert!(
                    gap_bytes <= 2 * idx.len(),
                    "SPLADE-like gaps take at most 2 bytes"
                );
            }
        }
        // the largest index and gap survive
        let mut b = vec![];
        encode(&[0, u32::MAX - 1], &[1.0, 2.0], &mut b);
        assert_eq!(
            Stored::new(&b, 2).unwrap().to_vecs(),
            (vec![0, u32::MAX - 1], vec![1.0, 2.0])
        );
    }

    #[test]
    fn damage_is_refused() {
        let mut b = vec![];
        encode(&[1, 5, 9], &[1.0, 2.0, 3.0], &mut b);
        let ok = Stored::new(&b, 3).unwrap();
        assert!(ok.check(10).is_some());
        assert!(ok.check(9).is_none(), "index past the dimensions");
        let mut zero_gap = b.clone();
        zero_gap[13] = 0;
        assert!(Stored::new(&zero_gap, 3).unwrap().check(10).is_none());
        let mut nan = b.clone();
        nan[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Stored::new(&nan, 3).unwrap().check(10).is_none());
        let mut trailing = b.clone();
        trailing.push(1);
        assert!(Stored::new(&trailing, 3).unwrap().check(100).is_none());
        let truncated = &b[..b.len() - 1];
        assert!(Stored::new(truncated, 3).unwrap().check(10).is_none());
        let endless = [0u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Stored::new(&endless, 1).unwrap().iter().count(), 0);
        assert!(Stored::new(&b[..5], 3).is_none());
    }

    #[test]
    fn distances_are_the_dense_ones_exactly() {
        for seed in 0..50u64 {
            let dims = [8u32, 64, 30_522][seed as usize % 3];
            let a = random(seed, dims, 1 + seed as usize % 40);
            let b = random(seed + 1000, dims, 1 + (seed as usize * 7) % 40);
            let (ia, va): (Vec<u32>, Vec<f32>) = a.iter().copied().unzip();
            let (ib, vb): (Vec<u32>, Vec<f32>) = b.iter().copied().unzip();
            let mut q = vec![];
            pack(&ia, &va, &mut q);
            let mut bytes = vec![];
            encode(&ib, &vb, &mut bytes);
            let s = Stored::new(&bytes, ib.len()).unwrap();
            let (da, db) = (dense(&a, dims as usize), dense(&b, dims as usize));
            // the dense scalar sums in index order, skipping 0 + 0 terms,
            // which add nothing: the same floats
            let mut l2 = 0f32;
            let mut l1s = 0f32;
            let mut ip = 0f32;
            for (x, y) in da.iter().zip(&db) {
                if *x != 0.0 || *y != 0.0 {
                    l2 += (x - y) * (x - y);
                    l1s += (x - y).abs();
                }
                if *x != 0.0 && *y != 0.0 {
                    ip += x * y;
                }
            }
            assert_eq!(l2_squared(query_entries(&q), s.iter()), l2);
            assert_eq!(l1(query_entries(&q), s.iter()), l1s);
            assert_eq!(dot(query_entries(&q), s.iter()), ip);
            assert_eq!(l2_squared(s.iter(), query_entries(&q)), l2, "symmetric");
        }
        // orthogonal and empty vectors
        let q = {
            let mut q = vec![];
            pack(&[1], &[2.0], &mut q);
            q
        };
        let mut bytes = vec![];
        encode(&[3], &[4.0], &mut bytes);
        let s = Stored::new(&bytes, 1).unwrap();
        assert_eq!(dot(query_entries(&q), s.iter()), 0.0);
        assert_eq!(l2_squared(query_entries(&q), s.iter()), 20.0);
        assert_eq!(l1(query_entries(&[]), s.iter()), 4.0);
        let (i, v) = unpack(&q);
        assert_eq!((i.collect::<Vec<_>>(), v), (vec![1], &[2.0][..]));
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
    }
}
