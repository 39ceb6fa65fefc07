//! The `vector` value of pgvision, independent of Postgres.
//!
//! Everything about a vector that does not need a backend lives here so it
//! can be unit-tested and fuzzed with plain `cargo test`: parsing and
//! printing pgvector's text format, its binary wire format, dimension
//! checks, element-wise arithmetic with pgvector's overflow rules, and the
//! total order behind the btree operator class. The SQL layer turns
//! [`VectorError`] into an ERROR with the SQLSTATE from [`VectorError::sqlstate`].

pub mod arith;
pub mod avg_state;
pub mod binary;
pub mod check;
pub mod chunk_locations;
pub mod element;
pub mod error;
pub mod halfvec;
pub mod recent;
pub mod sparsevec;
pub mod text;
pub mod toast_chunks;

pub use element::Element;
pub use error::{SqlState, VectorError};

/// Most dimensions a vector may have (pgvector's VECTOR_MAX_DIM).
pub const MAX_DIM: usize = 16000;
