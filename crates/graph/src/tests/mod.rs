//! Tests of the HNSW crate; data generators and recall helpers in `data`.

mod build;
mod build_reach;
mod churn;
mod data;
mod exact;
mod insert_reach;
mod iterative;
mod recall;
mod repair;
mod sparse_ties;
mod store;
mod upper;
