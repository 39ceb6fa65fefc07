//! Distance functions the graph is built over; smaller is always closer.

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
}

impl Metric {
    /// Distance between `a` and `b`; NaN (a zero-norm cosine operand) is
    /// reported as `+inf` so such a vector sorts last instead of poisoning
    /// the heaps.
    #[inline]
    pub fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = match self {
            Metric::L2 => distance::l2_squared(a, b),
            Metric::InnerProduct => -distance::inner_product(a, b),
            Metric::Cosine => distance::cosine_distance(a, b) as f32,
        };
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    }
}
