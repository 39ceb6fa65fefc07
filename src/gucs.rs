//! Every setting of the extension: a private static and a typed accessor.
//!
//! Prefixes `pgvision` and `hnsw` are reserved in `init`, so a typo such as
//! `SET hnsw.ef_serch = 10` is an error instead of a silent no-op.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

/// `hnsw.iterative_scan`: whether a scan goes on past its first `ef_search`
/// results (pgvector 0.8's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PostgresGucEnum)]
pub enum IterativeScan {
    /// Stop after `ef_search` results.
    #[name = c"off"]
    Off,
    /// Keep going; results may come slightly out of order (re-sorted by the executor).
    #[name = c"relaxed_order"]
    RelaxedOrder,
    /// Keep going, dropping results found out of order.
    #[name = c"strict_order"]
    StrictOrder,
}

static EF_SEARCH: GucSetting<i32> = GucSetting::<i32>::new(40);
static ITERATIVE_SCAN: GucSetting<IterativeScan> =
    GucSetting::<IterativeScan>::new(IterativeScan::Off);
static MAX_SCAN_TUPLES: GucSetting<i32> = GucSetting::<i32>::new(20_000);

/// `hnsw.ef_search`: size of the dynamic candidate list of a scan.
pub fn ef_search() -> usize {
    EF_SEARCH.get() as usize
}

/// `hnsw.iterative_scan`.
pub fn iterative_scan() -> IterativeScan {
    ITERATIVE_SCAN.get()
}

/// `hnsw.max_scan_tuples`: heap tuples an iterative scan may visit.
pub fn max_scan_tuples() -> usize {
    MAX_SCAN_TUPLES.get() as usize
}

/// Registers every setting; called once from `_PG_init`.
pub fn init() {
    GucRegistry::define_int_guc(
        c"hnsw.ef_search",
        c"Sets the size of the dynamic candidate list for search",
        c"Valid range is 1..1000.",
        &EF_SEARCH,
        1,
        1000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"hnsw.iterative_scan",
        c"Sets the mode for iterative scans",
        c"off, relaxed_order or strict_order.",
        &ITERATIVE_SCAN,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"hnsw.max_scan_tuples",
        c"Sets the max number of tuples to visit for iterative scans",
        c"",
        &MAX_SCAN_TUPLES,
        1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
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
