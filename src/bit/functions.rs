//! pgvector's operators on bit strings, `<~>` (Hamming) and `<%>`
//! (Jaccard), over the distance functions of `fmgr.rs` and the POPCNT
//! kernels of `distance::bits`, and the error for different lengths.

use super::datum::Bit;
use crate::error::raise;
use pgrx::PgSqlErrorCode;

/// Raises pgvector's error for bit strings of different lengths.
pub(super) fn same_lengths(a: &Bit, b: &Bit) {
    if a.len() != b.len() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("different bit lengths {} and {}", a.len(), b.len()),
            None,
        );
    }
}

pgrx::extension_sql!(
    r#"
CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');
"#,
    name = "bit_operators",
    requires = ["bit_distance_functions"],
);
