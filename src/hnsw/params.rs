//! What an index is built with: dimensions, metric, m, ef_construction,
//! read from the column's typmod, the operator class (`crate::opclass`)
//! and the reloptions.

use super::options;
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
    /// `m` reloption.
    pub m: usize,
    /// `ef_construction` reloption.
    pub ef_construction: usize,
    /// `storage` reloption: the kind of copy elements hold.
    pub storage: pageformat::Storage,
}

/// The storage of an index whose `storage` option is unset: 8-bit copies
/// for `vector` and `halfvec` columns where an element fits its page (at
/// the same ef_search they reach the recall of f16 copies with a third to
/// a half of the index and more queries/s: bench/RESULTS.md, "8-bit copies
/// by default"), sparse copies for `sparsevec`, packed bits for `bit`, f16
/// copies for every other column.
fn default_storage(class: &crate::opclass::Opclass, dims: usize, m: usize) -> pageformat::Storage {
    use pageformat::Storage;
    if class.key.sparse.is_some() {
        return Storage::Sparse;
    }
    if std::ptr::eq(class.key, &crate::opclass::BIT) {
        return Storage::Bits;
    }
    let dense = std::ptr::eq(class.key, &crate::opclass::VECTOR)
        || std::ptr::eq(class.key, &crate::opclass::HALFVEC);
    let fits =
        dims <= pageformat::max_single_page_dims_in(m, pageformat::MIN_LEVEL_CAP, Storage::Sq8);
    if dense && fits && class.metric != Metric::Jaccard {
        Storage::Sq8
    } else {
        Storage::Half
    }
}

impl IndexParams {
    /// Reads and validates the parameters of `index`, raising pgvector's errors.
    pub fn of(index: pg_sys::Relation) -> Self {
        let (m, ef_construction) = options::of(index);
        if ef_construction < 2 * m {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "ef_construction must be greater than or equal to 2 * m",
                None,
            );
        }
        let class = crate::opclass::of(index);
        let named = options::storage_of(index);
        check_named_storage(class, named);
        // The column's dimension limit depends on the storage (16,000
        // dense, 64,000 packed bits, any sparse); an unset option's choice
        // between f16 and 8-bit copies, made once the dimensions are known,
        // does not change it.
        let limit = named
            .unwrap_or_else(|| default_storage(class, 1, m))
            .max_dims();
        let (class, dims) = crate::pg::am::key_dims_up_to(index, "hnsw", limit);
        let storage = named.unwrap_or_else(|| default_storage(class, dims, m));
        if storage == pageformat::Storage::Sq8 {
            if class.metric == Metric::Jaccard {
                raise(
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    "hnsw storage \"i8\" does not support Jaccard distance",
                    Some("Jaccard distance needs exact copies of the bits: use storage \"half\"."),
                );
            }
            let max = pageformat::max_single_page_dims_in(m, pageformat::MIN_LEVEL_CAP, storage);
            if dims > max {
                raise(
                    PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                    format!(
                        "column cannot have more than {max} dimensions for hnsw index with storage \"i8\" and m = {m}"
                    ),
                    None,
                );
            }
        }
        IndexParams {
            dims,
            metric: class.metric,
            m,
            ef_construction,
            storage,
        }
    }

    /// The metric the graph measures in: the class's, or its packed form
    /// for an index of packed bits.
    pub fn graph_metric(&self) -> Metric {
        if self.storage == pageformat::Storage::Bits {
            self.metric.packed()
        } else {
            self.metric
        }
    }

    /// The on-disk format version an index of these parameters is written in.
    pub fn version(&self) -> u32 {
        self.storage.version()
    }

    /// Highest level an element may get (it must fit one page).
    pub fn level_cap(&self) -> usize {
        pageformat::level_cap_in(self.m, self.dims, self.version()).min(graph::DEFAULT_MAX_LEVEL)
    }
}

/// Refuses a `storage` option that names copies `class`'s type cannot
/// have: packed bits are for `bit` columns, sparse copies for `sparsevec`
/// (a `bit` column may still name `half` or `i8`, the f16 and 8-bit
/// layouts of 0/1 floats, up to 16,000 bits, as before packed bits).
fn check_named_storage(class: &crate::opclass::Opclass, named: Option<pageformat::Storage>) {
    let bit_column = std::ptr::eq(class.key, &crate::opclass::BIT);
    match named {
        Some(pageformat::Storage::Bits) if !bit_column => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "hnsw storage \"bit\" is only for bit columns, not {}",
                class.key.name
            ),
            Some("Use storage \"half\" or \"i8\"."),
        ),
        Some(pageformat::Storage::Sparse) if class.key.sparse.is_none() => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "hnsw storage \"sparse\" does not support type {}",
                class.key.name
            ),
            Some("Sparse copies are for sparsevec columns: use storage \"half\" or \"i8\"."),
        ),
        _ => {}
    }
}
