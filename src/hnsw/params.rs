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
        let storage = storage_for(class, options::storage_of(index));
        let (class, dims) = crate::pg::am::key_dims_up_to(index, "hnsw", storage.max_dims());
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

/// The storage of an index of `class` whose `storage` option is `named`
/// (None: unset). A `bit` column gets packed bits unless it names `half`
/// or `i8` (the f16 and 8-bit layouts of 0/1 floats, up to 16,000 bits,
/// as before packed bits); `bit` storage is for `bit` columns only.
fn storage_for(
    class: &crate::opclass::Opclass,
    named: Option<pageformat::Storage>,
) -> pageformat::Storage {
    let bit_column = std::ptr::eq(class.key, &crate::opclass::BIT);
    match named {
        None if bit_column => pageformat::Storage::Bits,
        None => pageformat::Storage::Half,
        Some(pageformat::Storage::Bits) if !bit_column => raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!(
                "hnsw storage \"bit\" is only for bit columns, not {}",
                class.key.name
            ),
            Some("Use storage \"half\" or \"i8\"."),
        ),
        Some(s) => s,
    }
}
