//! Tests of the HNSW crate; data generators and recall helpers in `data`.

mod build;
mod data;
mod exact;
mod iterative;
mod recall;
mod repair;
mod store;
mod upper;
