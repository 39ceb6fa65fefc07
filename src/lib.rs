//! pgvision: image similarity search inside PostgreSQL.
//!
//! This crate is the Postgres glue only; the logic lives in the pure crates
//! under `crates/`. Modules: `vector` (the pgvector-compatible type), `hnsw`
//! and `ivfflat` (the indexes), `embed` (`image_embed`: CNN embeddings through ONNX Runtime).

pub mod bit;
pub mod catalog;
pub mod embed;
pub mod error;
pub mod gucs;
pub mod halfvec;
pub mod hnsw;
pub mod ivfflat;
pub mod kmeans_on_pool;
pub(crate) mod opclass;
pub(crate) mod pg;
mod pgver;
pub mod sparsevec;
pub mod threads;
pub mod vector;

::pgrx::pg_module_magic!(name, version);

/// Library load hook: registers the settings.
#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    error::hide_rust_backtraces();
    gucs::init();
    hnsw::options::init();
    ivfflat::options::init();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Hooks required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    /// One-off initialisation when the test framework starts.
    pub fn setup(_options: Vec<&str>) {}

    /// postgresql.conf settings the tests need.
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
