//! Distances between bit strings, pgvector's `hamming_distance` (`<~>`)
//! and `jaccard_distance` (`<%>`), over the POPCNT kernels of
//! `distance::bits`.

use super::datum::Bit;
use crate::error::raise;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// Raises pgvector's error for bit strings of different lengths.
fn same_lengths(a: &Bit, b: &Bit) {
    if a.len() != b.len() {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("different bit lengths {} and {}", a.len(), b.len()),
            None,
        );
    }
}

/// Number of differing bits, `<~>`.
#[pg_extern(immutable, strict, parallel_safe)]
fn hamming_distance(a: Bit, b: Bit) -> f64 {
    same_lengths(&a, &b);
    distance::bits::hamming(a.bytes(), b.bytes()) as f64
}

/// 1 - shared set bits / set bits of either, `<%>` (1 when neither has any).
#[pg_extern(immutable, strict, parallel_safe)]
fn jaccard_distance(a: Bit, b: Bit) -> f64 {
    same_lengths(&a, &b);
    distance::bits::jaccard(a.bytes(), b.bytes())
}

pgrx::extension_sql!(
    r#"
CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');
"#,
    name = "bit_operators",
    requires = [hamming_distance, jaccard_distance],
);
