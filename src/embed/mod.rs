//! `image_embed`: CNN image embeddings inside the database.
//!
//! Thin glue over the pure crates: `imagepipe` decodes and preprocesses,
//! `embedder` runs the model in ONNX Runtime. This module reads the
//! settings, keeps one session per backend and model, moves bytes out of
//! Postgres memory before other threads see them, and turns every failure
//! into an ERROR with a SQLSTATE.
//!
//! Threads never touch Postgres: rayon's decode threads and ONNX Runtime's
//! intra-op threads work on Rust-owned memory only, and are created with
//! every signal blocked so Postgres' signal handlers only ever run on the
//! backend's own thread. Vectors are palloc'd on the main thread, which
//! also checks for interrupts between chunks of a batch.

mod config;
mod functions;
mod memory;
mod paths;
mod pipeline;
mod preprocess;
mod report;
mod session;
