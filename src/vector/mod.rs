//! The `vector` type: pgvector's SQL surface over the pure `vectorcore` crate.

pub mod aggregates;
pub mod array;
pub mod casts;
pub mod datum;
pub mod fmgr;
pub mod functions;
pub mod io;
pub mod operators;

pub use array::VectorArray;
pub use datum::{Vector, VectorArg};
