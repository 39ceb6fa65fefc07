//! The `sparsevec` type: pgvector's sparse vector over the pure
//! `vectorcore::sparsevec`, on the shared varlena wrapper (`crate::pg`).
//! Indexed by hnsw through the `sparsevec_*_ops` operator classes
//! (`crate::opclass`), densified to float4.

pub mod casts;
pub mod datum;
pub mod functions;
pub mod io;

pub use datum::Sparsevec;
