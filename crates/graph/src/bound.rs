//! Lower bounds of exact distances from distances to f16 copies.
//!
//! An index stores an f16 copy `x16` of each vector `x` with a proven
//! bound `err >= |x - x16|` (see `distance::half`). A scan measures the
//! query against `x16` and hands the executor, as the ORDER BY value, a
//! value that is never above the exact distance to `x`; the executor
//! rechecks and re-sorts. A value above the exact one would make Postgres
//! raise "index returned tuples in wrong order", so every bound below
//! also gives up a margin for float rounding.

use crate::Metric;

/// Relative rounding slack of float sums of `dims` terms (2 n u, u = 2^-24).
pub fn rounding_slack(dims: usize) -> f64 {
    2.0 * dims as f64 * f64::from(f32::EPSILON) / 2.0 + 1e-7
}

/// A lower bound of the exact ORDER BY value of an element, given the
/// approximate traversal distance `d` (squared L2, negative inner product,
/// cosine or L1 distance against the f16 copy, as [`Metric::to_half`]
/// measures it), the copy's error bound `err`, the element's norm, the
/// query's norm and the dimensions. The ORDER BY value is the operator's:
/// L2 (not squared), negative inner product, cosine or L1 distance.
pub fn lower_bound(metric: Metric, d: f32, err: f32, norm: f32, q_norm: f32, dims: usize) -> f64 {
    let (err, norm, qn) = (err as f64, norm as f64, q_norm as f64);
    bound_of(metric, d as f64, err, norm, qn, dims)
}

/// [`lower_bound`] for a distance measured from a fixed-point query
/// (`Metric::pack_fixed`, `distance::sq8_fixed`) whose rounding is at most
/// `q_err` (`|q - q~|`, of the prepared query). With `x~` the copy in
/// exact arithmetic, `n` the dimensions and `eps` f32's epsilon:
/// - `|x - x~| <= err + 2 eps sqrt(n) (|x| + err)`: the copy's bound is
///   measured against its f32 decoding, each value of which is off the
///   exact one by at most three f32 roundings of values at most twice
///   the largest decoded one;
/// - the measured inner product is within `~1e-15 n |q~| |x~|` of
///   `q~ . x~` and the measured squared L2 within `ROUNDING (|q~| +
///   |x~|)^2` of `|q~ - x~|^2` (a few f64 roundings of terms at most `n`
///   times those; `distance::sq8_fixed`);
/// - [`KAPPA`] covers both (>= 2 eps sqrt(16,000) + 1e-11 + sqrt(ROUNDING)).
///
/// So `|q - x| >= |q~ - x~| - q_err - err - KAPPA (|q| + q_err + |x| +
/// err)`, and `q . x` is above the measured `q~ . x~` by at most `|q| err`
/// (which [`lower_bound`] allows) plus `(q_err + KAPPA (|q| + q_err)) (|x| +
/// err)`.
pub fn lower_bound_fixed(
    metric: Metric,
    d: f32,
    (err, q_err): (f32, f32),
    norm: f32,
    q_norm: f32,
    dims: usize,
) -> f64 {
    let (d, err, q_err, norm, qn) = (
        d as f64,
        err as f64,
        q_err as f64,
        norm as f64,
        q_norm as f64,
    );
    // the packed query is the prepared one: unit length for cosine
    let prepared_norm = if metric == Metric::Cosine { 1.0 } else { qn };
    let moved = (q_err + KAPPA * (prepared_norm + q_err)) * (norm + err);
    match metric {
        Metric::L2 => {
            let err = err + q_err + KAPPA * (qn + q_err + norm + err);
            bound_of(metric, d, err, norm, qn, dims)
        }
        Metric::InnerProduct => bound_of(metric, d - moved, err, norm, qn, dims),
        Metric::Cosine if norm > 0.0 => bound_of(metric, d - moved / norm, err, norm, qn, dims),
        _ => bound_of(metric, d, err, norm, qn, dims),
    }
}

/// What [`lower_bound_fixed`] allows, relative to the norms, for the f64
/// combination and the f32 decoding of 8-bit copies (together at most
/// 6.5e-5 of them at 16,000 dimensions).
const KAPPA: f64 = 1e-4;

/// [`lower_bound`] in f64.
fn bound_of(metric: Metric, d: f64, err: f64, norm: f64, qn: f64, dims: usize) -> f64 {
    let g = rounding_slack(dims);
    let slack = err + g * (norm + err);
    match metric {
        // |q - x| >= |q - x16| - |x - x16|
        Metric::L2 => ((d.max(0.0) / (1.0 + g)).sqrt() - err).max(0.0) * (1.0 - g),
        // -<q,x> >= -<q,x16> - |q| |x - x16|
        Metric::InnerProduct => d - qn * (slack + g * norm) - 1e-30,
        // 1 - <q^,x>/|x| >= 1 - (<q^,x16> + |x - x16|)/|x|, q^ of unit length
        Metric::Cosine => (d - (slack + g * norm) / norm).max(0.0) * (1.0 - g),
        // |q - x|_1 >= |q - x16|_1 - |x - x16|_1, and |r|_1 <= sqrt(n) |r|_2
        Metric::L1 => (d.max(0.0) / (1.0 + g) - (dims as f64).sqrt() * err).max(0.0) * (1.0 - g),
        // 0/1 copies are exact (err 0): the counts are exact integers in
        // f32 and `d` is the exact distance up to two roundings (of the
        // quotient, at most 1 here, and of 1 - it), each under 2^-24;
        // an inexact copy gets the trivial bound 0.
        Metric::Jaccard if err == 0.0 => (d - JACCARD_SLACK).max(0.0),
        Metric::Jaccard => 0.0,
        // packed copies are exact: the count is an exact integer in f32
        Metric::PackedHamming => d.max(0.0),
        // exact counts, the same two roundings as Jaccard's above
        Metric::PackedJaccard => (d - JACCARD_SLACK).max(0.0),
    }
}

/// What a Jaccard bound gives up for float rounding: far above the two
/// roundings of 2^-24 each it covers.
const JACCARD_SLACK: f64 = 1e-6;

#[cfg(test)]
mod tests {
    use super::*;
    use distance::half::HalfVector;
    use rand::{Rng, SeedableRng};

    /// The exact ORDER BY value in f64, as the SQL operators define it.
    fn exact(metric: Metric, q: &[f32], x: &[f32]) -> f64 {
        let dot: f64 = q.iter().zip(x).map(|(a, b)| *a as f64 * *b as f64).sum();
        let nq: f64 = q.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        let nx: f64 = x.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        match metric {
            Metric::L2 => q
                .iter()
                .zip(x)
                .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                .sum::<f64>()
                .sqrt(),
            Metric::InnerProduct => -dot,
            // clamped as the operator clamps the similarity
            Metric::Cosine => 1.0 - (dot / (nq * nx)).clamp(-1.0, 1.0),
            Metric::L1 => q
                .iter()
                .zip(x)
                .map(|(a, b)| (*a as f64 - *b as f64).abs())
                .sum(),
            Metric::Jaccard => {
                let (na, nb) = (nq * nq, nx * nx);
                if dot.round() == 0.0 {
                    1.0
                } else {
                    1.0 - dot.round() / (na.round() + nb.round() - dot.round())
                }
            }
            Metric::PackedHamming | Metric::PackedJaccard => unreachable!("tested in metric.rs"),
        }
    }

    /// A random 0/1 vector with about `density` of its elements set.
    fn random_bits(rng: &mut rand::rngs::StdRng, dims: usize, density: f64) -> Vec<f32> {
        (0..dims)
            .map(|_| if rng.gen_bool(density) { 1.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn bit_bounds_never_exceed_and_nearly_reach_the_exact_distance() {
        // Hamming (L1) and Jaccard over bit strings: exact f16 copies.
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        for metric in [Metric::L1, Metric::Jaccard] {
            for dims in [1, 7, 64, 1000, 16000] {
                for i in 0..30 {
                    let density = [0.0, 0.02, 0.5, 0.97, 1.0][i % 5];
                    let x = random_bits(&mut rng, dims, density);
                    let q = random_bits(&mut rng, dims, [0.5, 0.0, 0.1, 1.0, 0.9][i % 5]);
                    let half = HalfVector::encode(&x);
                    assert_eq!(half.err, 0.0);
                    let prepared = metric.prepare(&q).expect("every bit query");
                    let d = metric.to_half(&prepared, &half.codes, half.scale, half.norm);
                    let q_norm = distance::norm(&q) as f32;
                    let b = lower_bound(metric, d, half.err, half.norm, q_norm, dims);
                    let e = exact(metric, &q, &x);
                    assert!(b <= e, "{metric:?} {dims}-d: bound {b} above exact {e}");
                    let slack = if metric == Metric::L1 { 0.01 * e } else { 2e-6 };
                    assert!(
                        e - b <= slack,
                        "{metric:?} {dims}-d: bound {b} far below {e}"
                    );
                }
            }
        }
        // an inexact copy gets the trivial bound
        assert_eq!(lower_bound(Metric::Jaccard, 0.5, 0.01, 1.0, 1.0, 4), 0.0);
    }

    /// Random vectors of varied scale (so the f16 copies round visibly).
    fn random(rng: &mut rand::rngs::StdRng, dims: usize) -> Vec<f32> {
        let scale = 10f32.powi(rng.gen_range(-3..4));
        (0..dims)
            .map(|_| rng.gen_range(-1.0f32..1.0) * scale)
            .collect()
    }

    #[test]
    fn bound_never_exceeds_the_exact_distance() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(20);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
            for dims in [1, 3, 128, 2048] {
                for _ in 0..40 {
                    let x = random(&mut rng, dims);
                    let q = random(&mut rng, dims);
                    let half = HalfVector::encode(&x);
                    let prepared = metric.prepare(&q).expect("a non-zero query");
                    let d = metric.to_half(&prepared, &half.codes, half.scale, half.norm);
                    let q_norm = distance::norm(&q) as f32;
                    let b = lower_bound(metric, d, half.err, half.norm, q_norm, dims);
                    let e = exact(metric, &q, &x);
                    assert!(b <= e, "{metric:?} {dims}-d: bound {b} above exact {e}");
                }
            }
        }
    }

    /// Vectors the 8-bit copies find hard: ResNet-like (non-negative, most
    /// elements small, a few large), signed of varied scale, offset far
    /// from zero, nearly constant.
    fn awkward(rng: &mut rand::rngs::StdRng, dims: usize, kind: usize) -> Vec<f32> {
        match kind % 4 {
            0 => (0..dims)
                .map(|_| {
                    let v: f32 = rng.gen_range(0.0..1.0);
                    if v < 0.85 {
                        v * 0.05
                    } else {
                        v * v * 8.0
                    }
                })
                .collect(),
            1 => random(rng, dims),
            2 => (0..dims)
                .map(|_| 1000.0 + rng.gen_range(-1.0f32..1.0))
                .collect(),
            _ => (0..dims)
                .map(|i| 0.5 + if i % 7 == 0 { 1e-4 } else { 0.0 })
                .collect(),
        }
    }

    #[test]
    fn sq8_bound_never_exceeds_the_exact_distance() {
        // Every metric an opclass orders by over 8-bit copies, for vector
        // columns (copies of the f32 values) and halfvec columns (values
        // that are f16 already); copies encoded from the f32 vector and,
        // as a build makes them, from its f16 copy.
        use distance::sq8::Sq8Vector;
        let mut rng = rand::rngs::StdRng::seed_from_u64(23);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
            for dims in [1, 2, 3, 17, 128, 960, 2048] {
                for i in 0..48 {
                    let mut x = awkward(&mut rng, dims, i);
                    let mut q = awkward(&mut rng, dims, i / 4 + 1);
                    let halfvec = i % 3 == 0;
                    if halfvec {
                        x = HalfVector::encode(&x).decode();
                        q = HalfVector::encode(&q).decode();
                    }
                    let copy = if i % 2 == 0 {
                        Sq8Vector::encode(&x)
                    } else {
                        Sq8Vector::from_half(&HalfVector::encode(&x))
                    };
                    let Some(prepared) = metric.prepare(&q) else {
                        continue;
                    };
                    let d = metric.to_sq8_within(
                        &prepared,
                        &copy.codes,
                        (copy.scale, copy.offset),
                        copy.norm,
                        f32::INFINITY,
                    );
                    let q_norm = distance::norm(&q) as f32;
                    let b = lower_bound(metric, d, copy.err, copy.norm, q_norm, dims);
                    let e = exact(metric, &q, &x);
                    assert!(
                        b <= e,
                        "{metric:?} {dims}-d kind {i} halfvec {halfvec}: bound {b} above exact {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn fixed_query_bound_never_exceeds_the_exact_distance() {
        // The scan's fixed-point queries (`Metric::pack_fixed`) against
        // 8-bit copies: the bound stays below the exact value, also for a
        // query next to the vector (L2 near 0, where rounding counts most),
        // and stays as useful as the f32 query's bound.
        use distance::sq8::Sq8Vector;
        let mut rng = rand::rngs::StdRng::seed_from_u64(25);
        let mut packed = Vec::new();
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            for dims in [64, 65, 128, 960, 2048] {
                for i in 0..48 {
                    let mut x = awkward(&mut rng, dims, i);
                    let mut q = if i % 5 == 4 {
                        x.iter()
                            .map(|v| v * (1.0 + rng.gen_range(-1e-3f32..1e-3)))
                            .collect()
                    } else {
                        awkward(&mut rng, dims, i / 4 + 1)
                    };
                    if i % 3 == 0 {
                        x = HalfVector::encode(&x).decode();
                        q = HalfVector::encode(&q).decode();
                    }
                    let copy = Sq8Vector::encode(&x);
                    let Some(prepared) = metric.prepare(&q) else {
                        continue;
                    };
                    assert!(distance::sq8_fixed::pack(&prepared, &mut packed));
                    let q_err = distance::sq8_fixed::FixedQuery::view(&packed, dims)
                        .expect("a packed query")
                        .err;
                    let measure = |query: &[f32]| {
                        let at = (copy.scale, copy.offset);
                        metric.to_sq8_within(query, &copy.codes, at, copy.norm, f32::INFINITY)
                    };
                    let q_norm = distance::norm(&q) as f32;
                    let b = lower_bound_fixed(
                        metric,
                        measure(&packed),
                        (copy.err, q_err),
                        copy.norm,
                        q_norm,
                        dims,
                    );
                    let plain = lower_bound(
                        metric,
                        measure(&prepared),
                        copy.err,
                        copy.norm,
                        q_norm,
                        dims,
                    );
                    let e = exact(metric, &q, &x);
                    let what = format!("{metric:?} {dims}-d kind {i}");
                    assert!(b <= e, "{what}: bound {b} above exact {e}");
                    let scale = if metric == Metric::L2 {
                        (q_norm + copy.norm) as f64
                    } else if metric == Metric::Cosine {
                        1.0
                    } else {
                        ((q_norm + copy.norm) as f64).powi(2)
                    };
                    assert!(
                        b >= plain - 1e-3 * scale,
                        "{what}: bound {b} far below {plain}"
                    );
                }
            }
        }
    }

    #[test]
    fn sq8_bound_is_useful_near_the_query() {
        // A neighbour at a typical distance gets a bound close to it (the
        // scan's reorder queue depends on that).
        use distance::sq8::Sq8Vector;
        let mut rng = rand::rngs::StdRng::seed_from_u64(24);
        let x = awkward(&mut rng, 2048, 0);
        let q: Vec<f32> = x
            .iter()
            .map(|v| v + rng.gen_range(-0.02f32..0.02))
            .collect();
        let copy = Sq8Vector::encode(&x);
        let d = Metric::L2.to_sq8_within(
            &q,
            &copy.codes,
            (copy.scale, copy.offset),
            copy.norm,
            f32::INFINITY,
        );
        let b = lower_bound(Metric::L2, d, copy.err, copy.norm, 0.0, 2048);
        let e = exact(Metric::L2, &q, &x);
        assert!(b <= e && b > 0.2 * e, "bound {b}, exact {e}");
    }

    #[test]
    fn bound_is_tight_for_an_exact_copy() {
        // Small integers are exact in f16: err is 0 and the bound is the
        // distance up to the rounding margin.
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let q = [2.0f32, 2.0, 1.0, 0.0];
        let half = HalfVector::encode(&x);
        assert_eq!(half.err, 0.0);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::L1] {
            let d = metric.to_half(&q, &half.codes, half.scale, half.norm);
            let b = lower_bound(metric, d, half.err, half.norm, distance::norm(&q) as f32, 4);
            let e = exact(metric, &q, &x);
            assert!(
                b <= e && e - b < 1e-5 * e.abs().max(1.0),
                "{metric:?}: {b} vs {e}"
            );
        }
    }

    #[test]
    fn bound_is_not_negative_for_nonnegative_distances() {
        for metric in [Metric::L2, Metric::Cosine, Metric::L1] {
            assert!(lower_bound(metric, 0.0, 5.0, 1.0, 1.0, 16) >= 0.0);
        }
    }
}
