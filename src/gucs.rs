//! Every setting of the extension: a private static and a typed accessor.
//!
//! Prefixes `pgvision`, `hnsw` and `ivfflat` are reserved in `init`, so a typo such as
//! `SET hnsw.ef_serch = 10` is an error instead of a silent no-op.

use std::ffi::{CStr, CString};

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

/// Registers every setting; called once from `_PG_init`.
pub fn init() {
    init_index();
    init_ivfflat();
    init_embedding();
    reserve_prefix("pgvision");
    reserve_prefix("hnsw");
    reserve_prefix("ivfflat");
}

/// Marks a GUC prefix as ours, so unknown names under it are refused.
fn reserve_prefix(prefix: &str) {
    let name = std::ffi::CString::new(prefix).expect("prefix has no NUL");
    // SAFETY: called from _PG_init on the main thread with a NUL-terminated
    // string; Postgres copies the prefix.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(name.as_ptr()) };
}

// ---------------------------------------------------------------------------
// index (hnsw.*): pgvector 0.8's names, ranges and defaults.

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
static SCAN_MEM_MULTIPLIER: GucSetting<f64> = GucSetting::<f64>::new(1.0);
static UPPER_CACHE: GucSetting<bool> = GucSetting::<bool>::new(true);

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

/// Bytes an iterative scan's search may hold: `work_mem` times
/// `hnsw.scan_mem_multiplier` (pgvector 0.8's rule).
pub fn scan_mem_bytes() -> usize {
    // SAFETY: a plain read of a GUC variable on the main thread.
    let work_mem_kb = unsafe { pgrx::pg_sys::work_mem };
    (work_mem_kb as f64 * SCAN_MEM_MULTIPLIER.get() * 1024.0).min(usize::MAX as f64) as usize
}

/// `pgvision.hnsw_upper_cache`: whether scans descend the upper layers
/// on a backend-local copy (see `src/hnsw/upper.rs`).
pub fn upper_cache() -> bool {
    UPPER_CACHE.get()
}

/// Registers the `hnsw.*` index settings.
fn init_index() {
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
    GucRegistry::define_float_guc(
        c"hnsw.scan_mem_multiplier",
        c"Sets the multiple of work_mem to use for iterative scans",
        c"",
        &SCAN_MEM_MULTIPLIER,
        1.0,
        1000.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"pgvision.hnsw_upper_cache",
        c"Lets hnsw scans walk a backend-local copy of the index's upper layers",
        c"The copy is made after a few scans, checked against the index on every scan, and held within work_mem.",
        &UPPER_CACHE,
        GucContext::Userset,
        GucFlags::default(),
    );
}

// ---------------------------------------------------------------------------
// ivfflat.*: pgvector 0.8's names, ranges and defaults.

/// `ivfflat.iterative_scan`: whether a scan opens more lists when the
/// executor wants more rows than its `probes` lists gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PostgresGucEnum)]
pub enum IvfIterativeScan {
    /// Scan `ivfflat.probes` lists, no more.
    #[name = c"off"]
    Off,
    /// Go on, `probes` lists at a time, up to `ivfflat.max_probes`; rows of
    /// a later batch may come after closer ones of an earlier batch.
    #[name = c"relaxed_order"]
    RelaxedOrder,
}

/// Most lists an ivfflat index has, and the upper bound of its settings.
const IVF_MAX_LISTS: i32 = 32_768;
static PROBES: GucSetting<i32> = GucSetting::<i32>::new(1);
static IVF_ITERATIVE_SCAN: GucSetting<IvfIterativeScan> =
    GucSetting::<IvfIterativeScan>::new(IvfIterativeScan::Off);
static MAX_PROBES: GucSetting<i32> = GucSetting::<i32>::new(IVF_MAX_LISTS);

/// `ivfflat.probes`: lists a scan opens.
pub fn probes() -> usize {
    PROBES.get().max(1) as usize
}

/// `ivfflat.iterative_scan`.
pub fn ivf_iterative_scan() -> IvfIterativeScan {
    IVF_ITERATIVE_SCAN.get()
}

/// `ivfflat.max_probes`: lists an iterative scan opens at most (never
/// fewer than `ivfflat.probes`).
pub fn max_probes() -> usize {
    MAX_PROBES.get().max(1) as usize
}

/// Registers the `ivfflat.*` settings.
fn init_ivfflat() {
    GucRegistry::define_int_guc(
        c"ivfflat.probes",
        c"Sets the number of probes",
        c"Valid range is 1..lists.",
        &PROBES,
        1,
        IVF_MAX_LISTS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"ivfflat.iterative_scan",
        c"Sets the mode for iterative scans",
        c"off or relaxed_order.",
        &IVF_ITERATIVE_SCAN,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"ivfflat.max_probes",
        c"Sets the max number of probes for iterative scans",
        c"If this is less than probes, probes is used.",
        &MAX_PROBES,
        1,
        IVF_MAX_LISTS,
        GucContext::Userset,
        GucFlags::default(),
    );
}

// ---------------------------------------------------------------------------
// embedding (image_embed): see src/embed/ and the README's settings table.
//
// Paths are superuser-only (PGC_SUSET): a normal user must not be able to
// make the server read arbitrary files. The model is chosen by NAME among
// the manifests of the models directory, so it can be user-settable.

/// Where `image_embed` runs its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PostgresGucEnum)]
pub enum EmbedDevice {
    /// CUDA when the library and a GPU are there, else the CPU.
    #[name = c"auto"]
    Auto,
    /// The CPU only.
    #[name = c"cpu"]
    Cpu,
    /// CUDA; falls back to the CPU with a NOTICE when it cannot be used.
    #[name = c"cuda"]
    Cuda,
}

/// Default model name; the one real model an offline setup ships.
pub const DEFAULT_MODEL: &str = "efficientnet_lite0";

static MODEL: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"efficientnet_lite0"));
static MODELS_DIR: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c""));
static ONNXRUNTIME_LIBRARY: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c""));
static DEVICE: GucSetting<EmbedDevice> = GucSetting::<EmbedDevice>::new(EmbedDevice::Auto);
static INTRA_OP_THREADS: GucSetting<i32> = GucSetting::<i32>::new(1);
static DECODE_THREADS: GucSetting<i32> = GucSetting::<i32>::new(0);
static MAX_IMAGE_PIXELS: GucSetting<i32> = GucSetting::<i32>::new(64 * 1024 * 1024);
static EMBED_BATCH_SIZE: GucSetting<i32> = GucSetting::<i32>::new(4);
/// In kB, like work_mem: 512MB.
static DECODE_MEMORY_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(512 * 1024);

/// Registers the `pgvision.*` embedding settings.
fn init_embedding() {
    // SAFETY: the check hook is a #[pg_guard] function with the signature
    // Postgres expects for string settings.
    unsafe {
        GucRegistry::define_string_guc_with_hooks(
            c"pgvision.model",
            c"Name of the model image_embed(bytea) uses.",
            c"A manifest <name>.toml in pgvision.models_dir; names are 1-63 characters of a-z, 0-9 and _.",
            &MODEL,
            GucContext::Userset,
            GucFlags::default(),
            Some(check_model_name),
            None,
            None,
        );
    }
    GucRegistry::define_string_guc(
        c"pgvision.models_dir",
        c"Folder holding the model manifests and ONNX files (superuser only).",
        c"Empty: <sharedir>/extension/pgvision/models.",
        &MODELS_DIR,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"pgvision.onnxruntime_library",
        c"Absolute path of the ONNX Runtime shared library (superuser only).",
        c"Empty: <sharedir>/extension/pgvision/lib/libonnxruntime.so.1.31.1 (gpu/lib/ in a cuda build when present). Loaded once per backend.",
        &ONNXRUNTIME_LIBRARY,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"pgvision.device",
        c"Where image_embed runs the model: auto, cpu or cuda.",
        c"auto uses CUDA when available, else the CPU.",
        &DEVICE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pgvision.intra_op_threads",
        c"ONNX Runtime threads per backend for one inference.",
        c"1 keeps one backend on one core; parallelism comes from backends.",
        &INTRA_OP_THREADS,
        1,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pgvision.decode_threads",
        c"Threads per backend decoding images for the batch form of image_embed.",
        c"0: one per CPU core.",
        &DECODE_THREADS,
        0,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pgvision.max_image_pixels",
        c"Largest width * height image_embed decodes (superuser only).",
        c"Checked from the image header before any pixel is decoded.",
        &MAX_IMAGE_PIXELS,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"pgvision.decode_memory_limit",
        c"Memory a backend's image decoding may hold at once, all threads and batches together (superuser only).",
        c"Each image's peak is estimated from its header before decoding; an image needing more than the limit is refused, others wait for room.",
        &DECODE_MEMORY_LIMIT,
        1024,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"pgvision.embed_batch_size",
        c"Images per inference in the batch form of image_embed.",
        c"On the CPU larger batches are not faster (measured: batch 1-4 best); raise it for a GPU.",
        &EMBED_BATCH_SIZE,
        1,
        1024,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// Refuses a `pgvision.model` that is not a plain model name.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn check_model_name(
    newval: *mut *mut std::ffi::c_char,
    _extra: *mut *mut std::ffi::c_void,
    _source: pgrx::pg_sys::GucSource::Type,
) -> bool {
    // SAFETY: Postgres passes a valid pointer to the proposed value, which is
    // NULL or a NUL-terminated string.
    let value = unsafe {
        let p = *newval;
        if p.is_null() {
            return true;
        }
        CStr::from_ptr(p)
    };
    if is_model_name(value.to_bytes()) {
        return true;
    }
    let detail = c"A model name is 1-63 characters of a-z, 0-9 and _.";
    // SAFETY: GUC_check_errdetail_string takes a palloc'd string; pstrdup copies ours.
    unsafe { pgrx::pg_sys::GUC_check_errdetail_string = pgrx::pg_sys::pstrdup(detail.as_ptr()) };
    false
}

/// True for `[a-z0-9_]{1,63}`, the names a manifest may have.
pub fn is_model_name(name: &[u8]) -> bool {
    (1..=63).contains(&name.len())
        && name
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// A string setting, `None` when empty or unset.
fn string(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
}

/// `pgvision.model`: the model `image_embed(bytea)` uses.
pub fn model() -> String {
    string(&MODEL).unwrap_or_else(|| DEFAULT_MODEL.to_string())
}

/// `pgvision.models_dir`, `None` for the default under the share directory.
pub fn models_dir() -> Option<String> {
    string(&MODELS_DIR)
}

/// `pgvision.onnxruntime_library`, `None` for the default under the share directory.
pub fn onnxruntime_library() -> Option<String> {
    string(&ONNXRUNTIME_LIBRARY)
}

/// `pgvision.device`.
pub fn device() -> EmbedDevice {
    DEVICE.get()
}

/// `pgvision.intra_op_threads`.
pub fn intra_op_threads() -> usize {
    INTRA_OP_THREADS.get().max(1) as usize
}

/// `pgvision.decode_threads`, 0 meaning one per CPU core.
pub fn decode_threads() -> usize {
    DECODE_THREADS.get().max(0) as usize
}

/// `pgvision.max_image_pixels`.
pub fn max_image_pixels() -> u64 {
    MAX_IMAGE_PIXELS.get().max(1) as u64
}

/// `pgvision.decode_memory_limit` in bytes.
pub fn decode_memory_limit() -> u64 {
    DECODE_MEMORY_LIMIT.get().max(1) as u64 * 1024
}

/// `pgvision.embed_batch_size`.
pub fn embed_batch_size() -> usize {
    EMBED_BATCH_SIZE.get().max(1) as usize
}
