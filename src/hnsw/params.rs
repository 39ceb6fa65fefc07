//! What an index is built with: dimensions, metric, m, ef_construction,
//! read from the column's typmod, the operator class and the reloptions.

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
        // SAFETY: an index relation has a tuple descriptor with one attribute here.
        let typmod = unsafe { (*crate::pgver::tuple_desc_attr((*index).rd_att, 0)).atttypmod };
        if typmod < 1 {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "column does not have dimensions",
                None,
            );
        }
        let max = pageformat::MAX_DIMS;
        if typmod as usize > max {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("column cannot have more than {max} dimensions for hnsw index"),
                None,
            );
        }
        IndexParams {
            dims: typmod as usize,
            metric: metric_of(index),
            m,
            ef_construction,
        }
    }

    /// Highest level an element may get (it must fit one page).
    pub fn level_cap(&self) -> usize {
        pageformat::level_cap(self.m, self.dims).min(graph::DEFAULT_MAX_LEVEL)
    }
}

/// The metric of the index's operator class: support function 1 names the
/// distance, a support function 2 (the norm) marks cosine.
fn metric_of(index: pg_sys::Relation) -> Metric {
    // SAFETY: the index is open; procnums 1 and 2 are within amsupport.
    unsafe {
        let norm = pg_sys::index_getprocid(index, 1, 2);
        if norm != pg_sys::InvalidOid {
            return Metric::Cosine;
        }
        let name = pg_sys::get_func_name(pg_sys::index_getprocid(index, 1, 1));
        let name = if name.is_null() {
            ""
        } else {
            core::ffi::CStr::from_ptr(name).to_str().unwrap_or("")
        };
        match name {
            "vector_l2_squared_distance" => Metric::L2,
            "vector_negative_inner_product" => Metric::InnerProduct,
            "l1_distance" => Metric::L1,
            other => raise(
                PgSqlErrorCode::ERRCODE_INVALID_OBJECT_DEFINITION,
                format!(
                    "hnsw operator class support function 1 \"{other}\" is not a known distance"
                ),
                None,
            ),
        }
    }
}
