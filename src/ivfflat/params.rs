//! What an ivfflat index is built with: dimensions, metric, lists, read
//! from the column's typmod, the operator class and the reloptions, and
//! how its k-means and its lists measure distances.

use crate::error::raise;
use graph::Metric;
use pgrx::{pg_sys, PgSqlErrorCode};

/// The parameters of one index, checked the way pgvector checks them.
#[derive(Debug, Clone, Copy)]
pub struct IndexParams {
    /// Dimensions of the indexed column.
    pub dims: usize,
    /// Distance of the operator class.
    pub metric: Metric,
    /// `lists` reloption.
    pub lists: usize,
    /// How records store vectors: as the column's type holds them.
    pub element: ivf::layout::Element,
}

impl IndexParams {
    /// Reads and validates the parameters of `index`, raising pgvector's errors.
    pub fn of(index: pg_sys::Relation) -> Self {
        let (class, dims) = crate::pg::am::key_dims(index, "ivfflat");
        // ivfflat has the classes of pgvector's: L2, inner product, cosine,
        // and Hamming for bit (L1 over 0/1 values).
        let bits = std::ptr::eq(class.key, &crate::opclass::BIT);
        let supported = match class.metric {
            Metric::L2 | Metric::InnerProduct | Metric::Cosine => !bits,
            Metric::L1 => bits,
            Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => false,
        };
        if !supported {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "operator class \"{}\" is not supported by ivfflat",
                    class.name
                ),
                None,
            );
        }
        IndexParams {
            dims,
            metric: class.metric,
            lists: super::options::lists(index),
            element: element(class.key),
        }
    }
}

/// How records of key type `key` store vectors: half floats for
/// `halfvec` (its values widen exactly, so distances stay the SQL
/// operator's) and `bit` (0 and 1 are exact), float4 for everything else.
pub fn element(key: &crate::opclass::KeyType) -> ivf::layout::Element {
    if std::ptr::eq(key, &crate::opclass::HALFVEC) || std::ptr::eq(key, &crate::opclass::BIT) {
        ivf::layout::Element::F16
    } else {
        ivf::layout::Element::F32
    }
}

/// How rows are given to lists (and lists ordered for a query): by L2 to
/// the centres for L2 and for Hamming (bits as 0/1: L2 squared is the
/// Hamming distance), else by inner product with unit-length centres
/// (spherical k-means), which for cosine is the nearest direction.
pub fn assignment(metric: Metric) -> ivf::Assignment {
    match metric {
        Metric::L2 | Metric::L1 | Metric::Jaccard => ivf::Assignment::L2,
        Metric::PackedHamming | Metric::PackedJaccard => ivf::Assignment::L2,
        Metric::InnerProduct | Metric::Cosine => ivf::Assignment::InnerProduct,
    }
}

/// Whether k-means normalises rows and centres (cosine and inner product).
pub fn spherical(metric: Metric) -> bool {
    assignment(metric) == ivf::Assignment::InnerProduct
}

/// The value the operator class's operator gives for column value `x` and
/// query `q` (`x <-> q`, `x <#> q`, `x <=> q`), computed with the same
/// kernels as the SQL functions, so it is bit-identical to them.
#[inline]
pub fn operator_value(metric: Metric, x: &[f32], q: &[f32]) -> f64 {
    match metric {
        Metric::L2 => (distance::l2_squared(x, q) as f64).sqrt(),
        Metric::InnerProduct => -(distance::inner_product(x, q) as f64),
        Metric::Cosine => distance::cosine_distance(x, q),
        // Hamming over 0/1 values: an exact integer, as hamming_distance gives.
        Metric::L1 => distance::l1(x, q) as f64,
        Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => {
            unreachable!("no ivfflat class has it: IndexParams::of refuses it")
        }
    }
}

/// [`operator_value`] for a record stored as halves `codes` (their exact
/// float4 values), measured without widening them first: the same value
/// bit for bit (`distance::widened`).
#[inline]
pub fn operator_value_halves(metric: Metric, codes: &[u16], q: &[f32]) -> f64 {
    use distance::widened;
    match metric {
        Metric::L2 => (widened::l2_squared(codes, q) as f64).sqrt(),
        Metric::InnerProduct => -(widened::inner_product(codes, q) as f64),
        Metric::Cosine => widened::cosine_distance(codes, q),
        Metric::L1 => widened::l1(codes, q) as f64,
        Metric::Jaccard | Metric::PackedHamming | Metric::PackedJaccard => {
            unreachable!("no ivfflat class has it: IndexParams::of refuses it")
        }
    }
}
