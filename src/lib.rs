//! pgvision: image similarity search inside PostgreSQL.
//!
//! This crate is the Postgres glue only; the logic lives in the pure crates
//! under `crates/`. Modules: `vector` (the pgvector-compatible type), `hnsw`
//! (the index), `embed` (`image_embed`: CNN embeddings through ONNX Runtime).

pub mod embed;
pub mod error;
pub mod gucs;
pub mod hnsw;
pub mod threads;
pub mod vector;

::pgrx::pg_module_magic!(name, version);

/// Library load hook: registers the settings.
#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    no_backtraces_in_errors();
    gucs::init();
    hnsw::options::init();
}

/// Keeps Rust backtraces out of what clients see: pgrx attaches one to the
/// DETAIL of every Postgres ERROR raised inside a `pg_sys` call (a page
/// Postgres finds damaged, a read past a file's end) when the server's
/// environment sets RUST_BACKTRACE, as a developer's shell often does.
/// `std` decides once, on its first backtrace, and reads
/// RUST_LIB_BACKTRACE before RUST_BACKTRACE.
fn no_backtraces_in_errors() {
    // Called from _PG_init on the backend's main thread, before this
    // library starts any thread, so nothing reads the environment meanwhile.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
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
