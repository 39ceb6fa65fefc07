//! Distance functions the graph is built over; smaller is always closer.

use distance::{half, packed, sparse, sq8, sq8_fixed, sq8_pairs};

/// The distance an index orders by. Every variant returns "smaller is
/// closer", so the graph algorithms never need to know which one is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Squared Euclidean distance (the L2 opclass's support function;
    /// monotone in true L2, so the order is the same).
    L2,
    /// Negative inner product, the meaning of `<#>`.
    InnerProduct,
    /// Cosine distance `1 - cos(a, b)`.
    Cosine,
    /// Manhattan (taxicab) distance, the meaning of `<+>` (and on 0/1
    /// vectors the Hamming distance, the meaning of `<~>` on bit strings).
    L1,
    /// Jaccard distance `1 - a.b / (|a|^2 + |b|^2 - a.b)` of 0/1 vectors
    /// (bit strings read one bit a dimension), the meaning of `<%>`; 1 when
    /// they share no set bit, two zero vectors included (pgvector's
    /// answer). Defined for 0/1 vectors only: its f16 kernels read the
    /// counts as integers. A [`Metric::prepare`]d query carries its count
    /// of set bits in its first element (see [`jaccard_prepare`]).
    Jaccard,
    /// Hamming distance of packed bit strings (an index of packed-bit
    /// copies, `distance::packed`): stored as [`Metric::L1`]'s code. Its
    /// copies and prepared queries hold the packed words' bytes (see
    /// [`Metric::packed`]); distances are exact popcounts.
    PackedHamming,
    /// Jaccard distance of packed bit strings, stored as
    /// [`Metric::Jaccard`]'s code; exact, as [`Metric::PackedHamming`].
    PackedJaccard,
}

impl Metric {
    /// Every metric, in the order of their codes.
    pub const ALL: [Metric; 5] = [
        Metric::L2,
        Metric::InnerProduct,
        Metric::Cosine,
        Metric::L1,
        Metric::Jaccard,
    ];

    /// The metric's code in an index's meta page (part of the on-disk
    /// format: never renumber).
    pub fn code(self) -> u32 {
        match self {
            Metric::L2 => 0,
            Metric::InnerProduct => 1,
            Metric::Cosine => 2,
            Metric::L1 => 3,
            Metric::Jaccard | Metric::PackedJaccard => 4,
            Metric::PackedHamming => 3,
        }
    }

    /// The metric an index of packed-bit copies measures in for this
    /// opclass metric: Hamming (`L1` on bits) and Jaccard become their
    /// packed forms; the others have none and stay as they are.
    pub fn packed(self) -> Metric {
        match self {
            Metric::L1 | Metric::PackedHamming => Metric::PackedHamming,
            Metric::Jaccard | Metric::PackedJaccard => Metric::PackedJaccard,
            other => other,
        }
    }

    /// Whether it measures packed bit strings (see [`Metric::packed`]).
    pub fn is_packed(self) -> bool {
        matches!(self, Metric::PackedHamming | Metric::PackedJaccard)
    }

    /// A stored copy (`scale * codes`, or the packed words for a packed
    /// metric) written over `out` as a prepared query: decoded and
    /// [`Metric::prepare`]d, or the packed words' bytes as they are.
    pub fn query_from_copy(&self, codes: &[u16], scale: f32, out: &mut Vec<f32>) {
        if self.is_packed() {
            packed::query_of_codes_into(codes, out);
            return;
        }
        half::decode_into(codes, scale, out);
        self.prepare_in_place(out);
    }

    /// The metric of a meta-page code (None for a code no build writes).
    pub fn from_code(code: u32) -> Option<Metric> {
        Metric::ALL.get(code as usize).copied()
    }

    /// A query as the f16 distances below expect it: unit length for
    /// cosine, `None` when a cosine query has zero or infinite norm (no
    /// result is meaningful); unchanged otherwise.
    ///
    /// For a packed metric, `v` holds 0/1 floats (a bit a dimension) and
    /// the prepared query the packed words' bytes (two floats a word).
    pub fn prepare(&self, v: &[f32]) -> Option<Vec<f32>> {
        if self.is_packed() {
            return Some(packed::query_of_bytes(&packed::pack_floats(v)));
        }
        let mut v = v.to_vec();
        self.prepare_in_place(&mut v).then_some(v)
    }

    /// [`Metric::prepare`] over `v` itself; false (and `v` unchanged) for a
    /// cosine vector of zero or infinite norm. Not for a packed metric,
    /// whose prepared query is shorter (`v` is left as it is).
    pub fn prepare_in_place(&self, v: &mut [f32]) -> bool {
        debug_assert!(!self.is_packed(), "a packed query changes length");
        if *self == Metric::Jaccard {
            jaccard_prepare(v);
            return true;
        }
        if *self != Metric::Cosine {
            return true;
        }
        let norm = distance::norm(v);
        if !(norm > 0.0 && norm.is_finite()) {
            return false;
        }
        v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
        true
    }

    /// Distance from a [`Metric::prepare`]d query to the f16 copy
    /// `scale * codes` of a vector whose exact norm is `norm`.
    #[inline]
    pub fn to_half(&self, query: &[f32], codes: &[u16], scale: f32, norm: f32) -> f32 {
        let d = match self {
            // chunked as in `to_half_within`, so both agree exactly
            Metric::L2 => half::l2_squared_within(query, codes, scale, f32::INFINITY),
            Metric::InnerProduct => -half::dot(query, codes, scale),
            Metric::Cosine => 1.0 - half::dot(query, codes, scale) / norm,
            Metric::L1 => half::l1(query, codes, scale),
            Metric::Jaccard => {
                let (q0, a) = jaccard_unprepare(query);
                let Some(&c0) = codes.first() else {
                    return 1.0;
                };
                let mut x0 = [0.0f32];
                half::decode_scalar(&[c0], scale, &mut x0);
                let x0 = x0[0];
                let ab = half::dot(&query[1..], &codes[1..], scale) + q0 * x0;
                jaccard_of_counts(ab, a, norm * norm)
            }
            Metric::PackedHamming => {
                packed::hamming(packed::bytes_of_query(query), packed::bytes_of_codes(codes)) as f32
            }
            Metric::PackedJaccard => {
                packed::jaccard(packed::bytes_of_query(query), packed::bytes_of_codes(codes))
            }
        };
        nan_last(d)
    }

    /// [`Metric::to_half`], except that a distance above `bound` may come
    /// out as any value above `bound`: L2 stops measuring once the partial
    /// sum passes it ([`half::l2_squared_within`]); the other metrics have
    /// no partial sum that only grows and measure everything.
    #[inline]
    pub fn to_half_within(
        &self,
        query: &[f32],
        codes: &[u16],
        scale: f32,
        norm: f32,
        bound: f32,
    ) -> f32 {
        match self {
            Metric::L2 => nan_last(half::l2_squared_within(query, codes, scale, bound)),
            _ => self.to_half(query, codes, scale, norm),
        }
    }

    /// Distance from a [`Metric::prepare`]d query to the 8-bit copy
    /// `offset + scale * codes` (`distance::sq8`) of a vector whose exact
    /// norm is `norm`; past `bound`, any value past it (L2 stops measuring,
    /// as [`Metric::to_half_within`]). Jaccard needs exact copies, which
    /// 8-bit ones are not: it gets 0 (an index refuses that pairing).
    #[inline]
    pub fn to_sq8_within(
        &self,
        query: &[f32],
        codes: &[u8],
        (scale, offset): (f32, f32),
        norm: f32,
        bound: f32,
    ) -> f32 {
        if let Some(q) = sq8_fixed::FixedQuery::view(query, codes.len()) {
            return self.to_sq8_fixed(&q, codes, (scale, offset), norm);
        }
        let d = match self {
            Metric::L2 => sq8::l2_squared_within(query, codes, scale, offset, bound),
            Metric::InnerProduct => -sq8::dot(query, codes, scale, offset),
            Metric::Cosine => 1.0 - sq8::dot(query, codes, scale, offset) / norm,
            Metric::L1 => sq8::l1(query, codes, scale, offset),
            Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => 0.0,
        };
        nan_last(d)
    }

    /// The prepared query `q` packed as 16-bit fixed point
    /// (`distance::sq8_fixed`) into `out`, for a scan of 8-bit copies that
    /// [`Metric::to_sq8_within`] then measures with integer dot products:
    /// false (and `out` untouched) where that does not pay or does not
    /// apply: a CPU without the integer kernel, up to
    /// [`FIXED_MIN_DIM`] dimensions, a metric other than L2, inner
    /// product and cosine. Its error bound goes to
    /// `crate::bound::lower_bound_fixed`.
    pub fn pack_fixed(&self, q: &[f32], out: &mut Vec<f32>) -> bool {
        let linear = matches!(self, Metric::L2 | Metric::InnerProduct | Metric::Cosine);
        if !linear || !sq8_fixed::has_kernel() || q.len() <= FIXED_MIN_DIM {
            return false;
        }
        sq8_fixed::pack(q, out)
    }

    /// Distance from a fixed-point query `q` ([`Metric::pack_fixed`]) to
    /// the 8-bit copy `offset + scale * codes` of a vector whose exact
    /// norm is `norm`: what [`Metric::to_sq8_within`] gives for the query
    /// `q` stands for, up to its rounding to 16 bits. Only L2, inner
    /// product and cosine have this form; the others get 0 (never packed).
    #[inline]
    fn to_sq8_fixed(
        self,
        q: &sq8_fixed::FixedQuery<'_>,
        codes: &[u8],
        (scale, offset): (f32, f32),
        norm: f32,
    ) -> f32 {
        let d = match self {
            Metric::L2 => q.l2_squared(codes, scale, offset),
            Metric::InnerProduct => -q.dot(codes, scale, offset),
            Metric::Cosine => 1.0 - q.dot(codes, scale, offset) / norm,
            _ => 0.0,
        };
        nan_last(d)
    }

    /// Distance from a node's packed 8-bit copy `q` (an index build's
    /// query, `distance::sq8_pairs`) to the 8-bit copy `codes` with
    /// scalars `b` of a vector whose exact norm is `norm`: what
    /// [`Metric::to_sq8_within`] gives for `q` decoded (and, for cosine,
    /// made unit length), up to rounding. Only L2, inner product and
    /// cosine have this form; the others get 0 (graphs pack queries only
    /// for those three).
    #[inline]
    pub fn to_sq8_from_codes(
        &self,
        q: &sq8_pairs::QueryCodes<'_>,
        codes: &[u8],
        b: sq8_pairs::CopySums,
        norm: f32,
    ) -> f32 {
        let d = match self {
            Metric::L2 => q.l2_squared(codes, b),
            Metric::InnerProduct => -q.dot(codes, b),
            Metric::Cosine => {
                // a zero query stays unnormalised, as `prepare_in_place` leaves it
                let unit = q.norm > 0.0 && q.norm.is_finite();
                let dot = if unit { q.dot(codes, b) / q.norm } else { 0.0 };
                1.0 - dot / norm
            }
            _ => 0.0,
        };
        nan_last(d)
    }

    /// A sparse query ([`distance::sparse::pack`]) as the sparse distances
    /// below expect it, in place: values of unit length for cosine (false,
    /// and `q` unchanged, for a zero norm); unchanged otherwise.
    pub fn prepare_sparse_in_place(&self, q: &mut [f32]) -> bool {
        if *self != Metric::Cosine {
            return true;
        }
        let n = q.len() / 2;
        let norm = distance::sparse::norm(&q[n..]) as f64;
        if !(norm > 0.0 && norm.is_finite()) {
            return false;
        }
        q[n..]
            .iter_mut()
            .for_each(|x| *x = (*x as f64 / norm) as f32);
        true
    }

    /// Distance from a [`Metric::prepare_sparse_in_place`]d query to the
    /// stored sparse copy `x` of norm `norm`, merged exactly (the
    /// operators' floats for L2, inner product and L1). The bit metrics
    /// have no sparse form: 1.
    #[inline]
    pub fn to_sparse(&self, query: &[f32], x: sparse::Stored<'_>, norm: f32) -> f32 {
        let q = sparse::query_entries(query);
        let d = match self {
            Metric::L2 => sparse::l2_squared(q, x.iter()),
            Metric::InnerProduct => -sparse::dot(q, x.iter()),
            Metric::Cosine => 1.0 - sparse::dot(q, x.iter()) / norm,
            Metric::L1 => sparse::l1(q, x.iter()),
            Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => 1.0,
        };
        nan_last(d)
    }

    /// Distance between two stored sparse copies `(copy, norm)`.
    #[inline]
    pub fn between_sparse(
        &self,
        a: (sparse::Stored<'_>, f32),
        b: (sparse::Stored<'_>, f32),
    ) -> f32 {
        let d = match self {
            Metric::L2 => sparse::l2_squared(a.0.iter(), b.0.iter()),
            Metric::InnerProduct => -sparse::dot(a.0.iter(), b.0.iter()),
            Metric::Cosine => 1.0 - sparse::dot(a.0.iter(), b.0.iter()) / (a.1 * b.1),
            Metric::L1 => sparse::l1(a.0.iter(), b.0.iter()),
            Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => 1.0,
        };
        nan_last(d)
    }

    /// Distance between two f16 copies `(codes, scale, norm)`.
    #[inline]
    pub fn between_halves(&self, a: (&[u16], f32, f32), b: (&[u16], f32, f32)) -> f32 {
        let d = match self {
            Metric::L2 => half::l2_squared_pair(a.0, a.1, b.0, b.1),
            Metric::InnerProduct => -half::dot_pair(a.0, a.1, b.0, b.1),
            Metric::Cosine => 1.0 - half::dot_pair(a.0, a.1, b.0, b.1) / (a.2 * b.2),
            Metric::L1 => half::l1_pair(a.0, a.1, b.0, b.1),
            Metric::Jaccard => {
                jaccard_of_counts(half::dot_pair(a.0, a.1, b.0, b.1), a.2 * a.2, b.2 * b.2)
            }
            Metric::PackedHamming => {
                packed::hamming(packed::bytes_of_codes(a.0), packed::bytes_of_codes(b.0)) as f32
            }
            Metric::PackedJaccard => {
                packed::jaccard(packed::bytes_of_codes(a.0), packed::bytes_of_codes(b.0))
            }
        };
        nan_last(d)
    }

    /// Distance between two [`Metric::prepare`]d vectors (for cosine both
    /// of unit length, so `1 - a.b`).
    #[inline]
    pub fn between_prepared(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = match self {
            Metric::L2 => distance::l2_squared(a, b),
            Metric::InnerProduct => -distance::inner_product(a, b),
            Metric::Cosine => 1.0 - distance::inner_product(a, b),
            Metric::L1 => distance::l1(a, b),
            Metric::Jaccard => {
                let ((a0, na), (b0, nb)) = (jaccard_unprepare(a), jaccard_unprepare(b));
                let ab = distance::inner_product(&a[1..], &b[1..]) + a0 * b0;
                jaccard_of_counts(ab, na, nb)
            }
            Metric::PackedHamming => {
                packed::hamming(packed::bytes_of_query(a), packed::bytes_of_query(b)) as f32
            }
            Metric::PackedJaccard => {
                packed::jaccard(packed::bytes_of_query(a), packed::bytes_of_query(b))
            }
        };
        nan_last(d)
    }

    /// Distance between `a` and `b` (for a packed metric, two
    /// [`Metric::prepare`]d queries); NaN (a zero-norm cosine operand) is
    /// reported as `+inf` so such a vector sorts last instead of poisoning
    /// the heaps.
    #[inline]
    pub fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = match self {
            Metric::L2 => distance::l2_squared(a, b),
            Metric::InnerProduct => -distance::inner_product(a, b),
            Metric::Cosine => distance::cosine_distance(a, b) as f32,
            Metric::L1 => distance::l1(a, b),
            Metric::Jaccard => {
                let sq = |v: &[f32]| distance::inner_product(v, v);
                jaccard_of_counts(distance::inner_product(a, b), sq(a), sq(b))
            }
            Metric::PackedHamming | Metric::PackedJaccard => self.between_prepared(a, b),
        };
        nan_last(d)
    }
}

/// Jaccard distance from the (integer) counts of shared set bits `ab`
/// and of set bits `a` and `b`, rounded to integers first: 1 when no bit
/// is shared.
#[inline]
fn jaccard_of_counts(ab: f32, a: f32, b: f32) -> f32 {
    let (ab, a, b) = (ab.round(), a.round(), b.round());
    if ab <= 0.0 {
        return 1.0;
    }
    1.0 - ab / (a + b - ab)
}

/// Prepares a 0/1 vector `v` as a Jaccard query, in place: its first
/// element becomes `v[0] + 2 * count`, `count` its set bits, so the f16
/// kernel learns the query's count without a pass over it per distance
/// (the other elements are unchanged; [`jaccard_unprepare`] reads both
/// back). Exact in f32 up to 2^22 dimensions.
fn jaccard_prepare(v: &mut [f32]) {
    let count = distance::inner_product(v, v).round();
    if let Some(first) = v.first_mut() {
        *first += 2.0 * count;
    }
}

/// `(v[0], count)` of a query [`jaccard_prepare`]d into `q`.
#[inline]
fn jaccard_unprepare(q: &[f32]) -> (f32, f32) {
    let Some(&first) = q.first() else {
        return (0.0, 0.0);
    };
    let count = (first * 0.5).floor();
    (first - 2.0 * count, count)
}

/// Dimensions up to which [`Metric::pack_fixed`] keeps f32 queries: an
/// ivfflat scan at 128 dimensions measured the same or 8% slower with
/// fixed-point ones, at 960 and 2048 6-18% faster (alternating passes).
pub const FIXED_MIN_DIM: usize = 256;

/// NaN (a zero-norm cosine operand) as `+inf`, so such a vector sorts last
/// instead of poisoning the heaps.
#[inline]
fn nan_last(d: f32) -> f32 {
    if d.is_nan() {
        f32::INFINITY
    } else {
        d
    }
}

#[cfg(test)]
mod code_tests {
    use super::Metric;

    #[test]
    fn codes_are_the_on_disk_ones_and_round_trip() {
        // Written by every build since format version 1: never renumber.
        let expected = [
            (Metric::L2, 0),
            (Metric::InnerProduct, 1),
            (Metric::Cosine, 2),
            (Metric::L1, 3),
            (Metric::Jaccard, 4),
        ];
        for (metric, code) in expected {
            assert_eq!(metric.code(), code);
            assert_eq!(Metric::from_code(code), Some(metric));
        }
        assert_eq!(Metric::from_code(5), None);
        assert_eq!(Metric::from_code(u32::MAX), None);
    }
}

#[cfg(test)]
mod bit_tests {
    use super::Metric;
    use distance::half::HalfVector;
    use rand::{Rng, SeedableRng};

    /// Random bit strings of `bits` bits (tail bits zero) with about
    /// `density` of them set.
    fn random_bits(rng: &mut rand::rngs::StdRng, bits: usize, density: f64) -> Vec<u8> {
        let mut out = vec![0u8; bits.div_ceil(8)];
        for i in 0..bits {
            if rng.gen_bool(density) {
                out[i / 8] |= 0x80 >> (i % 8);
            }
        }
        out
    }

    #[test]
    fn every_kernel_equals_the_bit_string_distances() {
        // Hamming is L1 on 0/1 vectors; Jaccard has its own kernels. Every
        // path a graph measures by must give what `<~>` / `<%>` give.
        let mut rng = rand::rngs::StdRng::seed_from_u64(20);
        for bits in [1, 3, 8, 63, 64, 65, 256, 1000, 4099] {
            for i in 0..40 {
                let densities = [0.0, 0.01, 0.3, 0.5, 0.9, 1.0];
                let a = random_bits(&mut rng, bits, densities[i % 6]);
                let b = random_bits(&mut rng, bits, densities[(i / 6) % 6]);
                let (fa, fb) = (
                    distance::bits::to_floats(&a, bits),
                    distance::bits::to_floats(&b, bits),
                );
                let (ha, hb) = (HalfVector::encode(&fa), HalfVector::encode(&fb));
                assert_eq!((ha.err, hb.err), (0.0, 0.0));
                for (metric, want) in [
                    (Metric::L1, distance::bits::hamming(&a, &b) as f64),
                    (Metric::Jaccard, distance::bits::jaccard(&a, &b)),
                ] {
                    let (qa, qb) = (metric.prepare(&fa).unwrap(), metric.prepare(&fb).unwrap());
                    let got = [
                        metric.distance(&fa, &fb),
                        metric.to_half(&qa, &hb.codes, hb.scale, hb.norm),
                        metric.to_half(&qb, &ha.codes, ha.scale, ha.norm),
                        metric.to_half_within(&qa, &hb.codes, hb.scale, hb.norm, 0.0),
                        metric.between_halves(
                            (&ha.codes, ha.scale, ha.norm),
                            (&hb.codes, hb.scale, hb.norm),
                        ),
                        metric.between_prepared(&qa, &qb),
                    ];
                    for (k, g) in got.iter().enumerate() {
                        assert!(
                            (*g as f64 - want).abs() <= 1e-6 * want.max(1.0),
                            "{metric:?} {bits} bits, path {k}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn packed_metrics_are_exact_on_every_path() {
        use distance::packed;
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        for bits in [1, 3, 63, 64, 65, 1000, 1024, 4099, 64_000] {
            for i in 0..12 {
                let densities = [0.0, 0.01, 0.3, 0.5, 0.9, 1.0];
                let a = random_bits(&mut rng, bits, densities[i % 6]);
                let b = random_bits(&mut rng, bits, densities[(i / 2) % 6]);
                let fa = distance::bits::to_floats(&a, bits);
                let fb = distance::bits::to_floats(&b, bits);
                let (ca, cb) = (packed::encode(&fa), packed::encode(&fb));
                for (plain, want) in [
                    (Metric::L1, distance::bits::hamming(&a, &b) as f64),
                    (Metric::Jaccard, distance::bits::jaccard(&a, &b)),
                ] {
                    let metric = plain.packed();
                    assert!(metric.is_packed() && metric.code() == plain.code());
                    let (qa, qb) = (metric.prepare(&fa).unwrap(), metric.prepare(&fb).unwrap());
                    assert_eq!(qa.len(), 2 * packed::words(bits));
                    let mut back = Vec::new();
                    metric.query_from_copy(&ca.codes, ca.scale, &mut back);
                    assert_eq!(packed::bytes_of_query(&back), packed::bytes_of_query(&qa));
                    let got = [
                        metric.distance(&qa, &qb),
                        metric.to_half(&qa, &cb.codes, cb.scale, cb.norm),
                        metric.to_half_within(&qb, &ca.codes, ca.scale, ca.norm, 0.0),
                        metric.between_halves(
                            (&ca.codes, ca.scale, ca.norm),
                            (&cb.codes, cb.scale, cb.norm),
                        ),
                        metric.between_prepared(&qa, &qb),
                    ];
                    for (k, g) in got.iter().enumerate() {
                        assert!(
                            (*g as f64 - want).abs() <= 1e-6 * want.max(1.0),
                            "{metric:?} {bits} bits, path {k}: {g} vs {want}"
                        );
                        let bound = crate::lower_bound(metric, *g, 0.0, ca.norm, 0.0, bits);
                        assert!(bound <= want, "{metric:?} bound {bound} above {want}");
                        assert!(
                            bound >= want - 2e-6,
                            "{metric:?} bound {bound} far below {want}"
                        );
                    }
                    if plain == Metric::L1 {
                        assert_eq!(got[1] as f64, want, "Hamming is exact");
                    }
                }
            }
        }
    }

    #[test]
    fn jaccard_of_zero_vectors_is_one_as_in_pgvector() {
        let z = [0.0f32; 5];
        let one = [1.0f32, 0.0, 0.0, 0.0, 0.0];
        let m = Metric::Jaccard;
        assert_eq!(m.distance(&z, &z), 1.0);
        assert_eq!(m.distance(&z, &one), 1.0);
        assert_eq!(m.distance(&one, &one), 0.0);
        let hz = HalfVector::encode(&z);
        assert_eq!(
            m.to_half(&m.prepare(&z).unwrap(), &hz.codes, hz.scale, hz.norm),
            1.0
        );
        assert_eq!(
            m.between_prepared(&m.prepare(&z).unwrap(), &m.prepare(&z).unwrap()),
            1.0
        );
    }

    #[test]
    fn a_prepared_jaccard_query_keeps_its_other_elements() {
        let v = [1.0f32, 1.0, 0.0, 1.0];
        let q = Metric::Jaccard.prepare(&v).unwrap();
        assert_eq!(q, vec![7.0, 1.0, 0.0, 1.0]);
        let z = Metric::Jaccard.prepare(&[0.0, 1.0]).unwrap();
        assert_eq!(z, vec![2.0, 1.0]);
    }
}
