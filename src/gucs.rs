//! Every setting of the extension: a private static and a typed accessor.
//!
//! Prefixes `pgvision` and `hnsw` are reserved in `init`, so a typo such as
//! `SET hnsw.ef_serch = 10` is an error instead of a silent no-op.

/// Registers every setting; called once from `_PG_init`.
pub fn init() {
    // index settings (hnsw.*) are registered here by the index module
    // embedding settings (pgvision.*) are registered here by the embed module
    reserve_prefix("pgvision");
    reserve_prefix("hnsw");
}

/// Marks a GUC prefix as ours, so unknown names under it are refused.
fn reserve_prefix(prefix: &str) {
    let name = std::ffi::CString::new(prefix).expect("prefix has no NUL");
    // SAFETY: called from _PG_init on the main thread with a NUL-terminated
    // string; Postgres copies the prefix.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(name.as_ptr()) };
}
