//! pgvector's functions on Postgres' built-in `bit` type: Hamming and
//! Jaccard distances with their operators, and the `Bit` value that
//! `binary_quantize(vector)` and `binary_quantize(halfvec)` return.

pub mod datum;
pub mod fmgr;
pub mod functions;

pub use datum::Bit;
