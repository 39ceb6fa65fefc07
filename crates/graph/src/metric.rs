//! Distance functions the graph is built over; smaller is always closer.

use distance::half;

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
    /// Manhattan (taxicab) distance, the meaning of `<+>`.
    L1,
}

impl Metric {
    /// Every metric, in the order of their codes.
    pub const ALL: [Metric; 4] = [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1];

    /// The metric's code in an index's meta page (part of the on-disk
    /// format: never renumber).
    pub fn code(self) -> u32 {
        match self {
            Metric::L2 => 0,
            Metric::InnerProduct => 1,
            Metric::Cosine => 2,
            Metric::L1 => 3,
        }
    }

    /// The metric of a meta-page code (None for a code no build writes).
    pub fn from_code(code: u32) -> Option<Metric> {
        Metric::ALL.get(code as usize).copied()
    }

    /// A query as the f16 distances below expect it: unit length for
    /// cosine, `None` when a cosine query has zero or infinite norm (no
    /// result is meaningful); unchanged otherwise.
    pub fn prepare(&self, v: &[f32]) -> Option<Vec<f32>> {
        let mut v = v.to_vec();
        self.prepare_in_place(&mut v).then_some(v)
    }

    /// [`Metric::prepare`] over `v` itself; false (and `v` unchanged) for a
    /// cosine vector of zero or infinite norm.
    pub fn prepare_in_place(&self, v: &mut [f32]) -> bool {
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

    /// Distance between two f16 copies `(codes, scale, norm)`.
    #[inline]
    pub fn between_halves(&self, a: (&[u16], f32, f32), b: (&[u16], f32, f32)) -> f32 {
        let d = match self {
            Metric::L2 => half::l2_squared_pair(a.0, a.1, b.0, b.1),
            Metric::InnerProduct => -half::dot_pair(a.0, a.1, b.0, b.1),
            Metric::Cosine => 1.0 - half::dot_pair(a.0, a.1, b.0, b.1) / (a.2 * b.2),
            Metric::L1 => half::l1_pair(a.0, a.1, b.0, b.1),
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
        };
        nan_last(d)
    }

    /// Distance between `a` and `b`; NaN (a zero-norm cosine operand) is
    /// reported as `+inf` so such a vector sorts last instead of poisoning
    /// the heaps.
    #[inline]
    pub fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = match self {
            Metric::L2 => distance::l2_squared(a, b),
            Metric::InnerProduct => -distance::inner_product(a, b),
            Metric::Cosine => distance::cosine_distance(a, b) as f32,
            Metric::L1 => distance::l1(a, b),
        };
        nan_last(d)
    }
}

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
        ];
        for (metric, code) in expected {
            assert_eq!(metric.code(), code);
            assert_eq!(Metric::from_code(code), Some(metric));
        }
        assert_eq!(Metric::from_code(4), None);
        assert_eq!(Metric::from_code(u32::MAX), None);
    }
}
