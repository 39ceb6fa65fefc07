//! The pure core of an inverted-file (IVF) index: the coarse quantiser.
//!
//! An IVF index splits the vectors into `lists`, each around a centre found
//! by k-means on a sample of the table; a search measures the query against
//! the centres and scans the nearest `probes` lists exactly. This crate
//! trains the centres ([`kmeans`]) and answers which centres are nearest
//! ([`nearest`]), draws the sample it trains on ([`sample`]) and lays the
//! index out on pages ([`layout`]); the Postgres access method does the I/O.
//!
//! Everything here is plain Rust on `f32` slices: no Postgres, no I/O. The
//! training runs on rayon's current pool and gives the same centres for the
//! same input and seed whatever the number of threads.

pub mod bitmeans;
mod centre_sums;
pub mod check;
mod elkan;
mod hamerly;
pub mod kmeans;
pub mod layout;
pub mod nearest;
mod rng;
pub mod sample;

pub use kmeans::memory_bytes;
pub use kmeans::{quick_centres, train, train_with, Assignment, Cancelled, Params, Pruning};
pub use nearest::{nearest_centre, nearest_centres, PrunedNearest};
pub use sample::Reservoir;
