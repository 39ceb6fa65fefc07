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
        // the class first: it refuses a type (varbit) before its dimensions
        let class = crate::opclass::of(index);
        // SAFETY: an index relation has a tuple descriptor with one attribute here.
        let typmod = unsafe { (*crate::pgver::tuple_desc_attr((*index).rd_att, 0)).atttypmod };
        if typmod < 1 {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "column does not have dimensions",
                None,
            );
        }
        let max = class.key.max_dims.min(pageformat::MAX_DIMS);
        if typmod as usize > max {
            raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("column cannot have more than {max} dimensions for hnsw index"),
                None,
            );
        }
        IndexParams {
            dims: typmod as usize,
            metric: class.metric,
            m,
            ef_construction,
        }
    }

    /// Highest level an element may get (it must fit one page).
    pub fn level_cap(&self) -> usize {
        pageformat::level_cap(self.m, self.dims).min(graph::DEFAULT_MAX_LEVEL)
    }
}
