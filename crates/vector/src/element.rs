//! The element types of the dense vector types (`f32` for `vector`, `f16`
//! for `halfvec`), so that arithmetic, ordering and normalisation are
//! written once (`arith`) and computed as pgvector does for each type: in
//! float4, then rounded to the element type.

use half::f16;

/// An element of a dense vector type.
pub trait Element: Copy + PartialOrd + Send + Sync + 'static {
    /// The exact float4 value.
    fn to_f32(self) -> f32;
    /// The nearest element to `x` (ties to even), infinite where `x`
    /// overflows the type; the caller checks.
    fn from_f32(x: f32) -> Self;
}

impl Element for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        x
    }
}

impl Element for f16 {
    #[inline]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline]
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
}

/// The float4 values of `x` (exact).
pub fn widen<E: Element>(x: &[E]) -> Vec<f32> {
    x.iter().map(|e| e.to_f32()).collect()
}

/// Euclidean norm, summed in float8 as pgvector does.
pub fn norm<E: Element>(a: &[E]) -> f64 {
    a.iter()
        .map(|&x| {
            let v = f64::from(x.to_f32());
            v * v
        })
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_and_widen_exactly() {
        assert_eq!(<f16 as Element>::from_f32(1.5).to_f32(), 1.5);
        assert!(<f16 as Element>::from_f32(65520.0).to_f32().is_infinite());
        assert_eq!(
            widen(&[f16::from_f32(0.1)]),
            vec![f16::from_f32(0.1).to_f32()]
        );
        assert_eq!(norm(&[3.0f32, 4.0]), 5.0);
        assert_eq!(norm(&[f16::from_f32(3.0), f16::from_f32(4.0)]), 5.0);
    }
}
