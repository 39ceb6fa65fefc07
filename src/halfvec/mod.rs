//! The `halfvec` type: pgvector's half-precision vector over the pure
//! `vectorcore::halfvec`, on the shared varlena wrapper (`crate::pg`).
//! Indexed by hnsw through the `halfvec_*_ops` operator classes
//! (`crate::opclass`).

pub mod aggregates;
pub mod casts;
pub mod datum;
pub mod distances;
pub mod functions;
pub mod io;
pub mod operators;

pub use datum::{Halfvec, HalfvecArg};
