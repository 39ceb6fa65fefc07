//! pgvision's image search product, around the extension: bulk ingest and
//! search from the command line, and an HTTP search service with a gallery
//! page. The pure pieces (names, hashing, walking, batching, error mapping,
//! JSON shapes) are small modules tested with plain `cargo test`; `db` holds
//! every SQL statement; `ingest`, `search` and `server` wire them together.

pub mod api;
pub mod batch;
pub mod db;
pub mod hashing;
pub mod ident;
pub mod ingest;
pub mod search;
pub mod server;
pub mod sniff;
pub mod sqlstate;
pub mod walk;
