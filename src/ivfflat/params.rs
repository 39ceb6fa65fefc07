//! What an ivfflat index is built with: dimensions, metric, lists, read
//! from the column's typmod, the operator class and the reloptions, and
//! how its k-means and its lists measure distances.

use super::options::ListStorage;
use crate::error::raise;
use graph::Metric;
use ivf::layout::Element;
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
    /// How records store vectors: as the column's type holds them
    /// ([`IndexParams::column`]) or, with `storage = 'i8'`, as 8-bit copies.
    pub element: ivf::layout::Element,
    /// How the column's type holds vectors exactly ([`element`]).
    pub column: ivf::layout::Element,
    /// Floats of a vector in memory (`Element::width`): rows, sample,
    /// centres.
    pub width: usize,
}

impl IndexParams {
    /// Reads and validates the parameters of `index`, raising pgvector's errors.
    pub fn of(index: pg_sys::Relation) -> Self {
        // bit columns take up to 64,000 dimensions (packed), as pgvector's.
        let limit = element(crate::opclass::of(index).key).max_dims();
        let (class, dims) = crate::pg::am::key_dims_up_to(index, "ivfflat", limit);
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
        let column = element(class.key);
        let element = stored_element(column, super::options::storage_of(index));
        IndexParams {
            dims,
            metric: class.metric,
            lists: super::options::lists(index),
            element,
            column,
            width: element.width(dims),
        }
    }
}

/// What records of a column stored as `column` hold under `storage`
/// (unset: [`DEFAULT_STORAGE`]); ERROR 0A000 for 8-bit bit strings
/// (packed bits are smaller and exact).
pub fn stored_element(column: Element, storage: Option<ListStorage>) -> Element {
    match storage {
        Some(ListStorage::I8) if column.is_bits() => raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "ivfflat storage \"i8\" is not supported for bit columns",
            Some("Bit strings are stored packed and exact; leave storage unset."),
        ),
        Some(ListStorage::I8) => Element::Sq8,
        Some(ListStorage::Exact) => column,
        None if column.is_bits() => column,
        None => stored_element(column, Some(DEFAULT_STORAGE)),
    }
}

/// The storage of a `vector` or `halfvec` index whose options name none:
/// 8-bit copies, a third (halfvec) or a quarter (vector) of the pages of
/// exact lists at the same queries/s (measured, `bench/RESULTS.md`).
pub const DEFAULT_STORAGE: ListStorage = ListStorage::I8;

/// How records of key type `key` store vectors: half floats for
/// `halfvec` (its values widen exactly, so distances stay the SQL
/// operator's), packed bits for `bit` (indexes built before 0.6 stored
/// bits as halves, 0 and 1, and still work so), float4 for everything else.
pub fn element(key: &crate::opclass::KeyType) -> ivf::layout::Element {
    if std::ptr::eq(key, &crate::opclass::HALFVEC) {
        ivf::layout::Element::F16
    } else if std::ptr::eq(key, &crate::opclass::BIT) {
        ivf::layout::Element::Bits
    } else {
        ivf::layout::Element::F32
    }
}

/// How rows are given to lists (and lists ordered for a query) in an
/// index whose records store `element`: by Hamming distance for packed
/// bits; by L2 to the centres for L2 and for Hamming over bits stored as
/// halves (0/1: L2 squared is the Hamming distance), else by inner product
/// with unit-length centres (spherical k-means), which for cosine is the
/// nearest direction.
pub fn assignment(metric: Metric, element: ivf::layout::Element) -> ivf::Assignment {
    if element.is_bits() {
        return ivf::Assignment::Hamming;
    }
    match metric {
        Metric::L2 | Metric::L1 | Metric::Jaccard => ivf::Assignment::L2,
        Metric::PackedHamming | Metric::PackedJaccard => ivf::Assignment::L2,
        Metric::InnerProduct | Metric::Cosine => ivf::Assignment::InnerProduct,
    }
}

/// Whether k-means normalises rows and centres (cosine and inner product).
pub fn spherical(metric: Metric) -> bool {
    matches!(metric, Metric::InnerProduct | Metric::Cosine)
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

/// The Hamming distance (`x <~> q`) of a record's packed bits `x` from
/// query `q`, both in memory form (`Element::prepare`): the count of
/// differing bits, as `hamming_distance` gives it.
#[inline]
pub fn operator_value_bits(x: &[f32], q: &[f32]) -> f64 {
    ivf::bitmeans::hamming(x, q) as f64
}
