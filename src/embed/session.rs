//! One ONNX Runtime session per backend and model, created on first use and
//! rebuilt when the settings it was built with (models folder, device,
//! intra-op threads) change.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use embedder::{Device, Manifest, Model, Provider, Runtime, SessionOptions};
use imagepipe::Preprocess;
use pgrx::PgSqlErrorCode;

use super::config::Config;
use super::preprocess;
use crate::error::{raise, raise_embedder};
use crate::gucs::is_model_name;
use crate::threads::with_signals_blocked;

/// The largest dimension count a `vector` holds.
const MAX_DIMS: usize = 16_000;

/// What a cached session was built with; a difference means a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    models_dir: PathBuf,
    device: Device,
    intra_op_threads: usize,
}

/// A loaded model and the image preprocessing its manifest asks for.
pub struct Loaded {
    /// The ONNX Runtime session.
    pub model: Model,
    /// Decode, resize, crop and normalise parameters.
    pub preprocess: Preprocess,
    /// The models folder it was loaded from.
    pub models_dir: PathBuf,
    key: Key,
}

thread_local! {
    /// This backend's sessions, by model name.
    static CACHE: RefCell<HashMap<String, Loaded>> = RefCell::new(HashMap::new());
    /// Whether this backend already said that CUDA is not in use.
    static CPU_NOTICE_GIVEN: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the session of model `name` under `config`, loading it first
/// if this backend has none or the settings changed.
pub fn with_model<R>(name: &str, config: &Config, f: impl FnOnce(&mut Loaded) -> R) -> R {
    let key = Key {
        models_dir: config.models_dir.clone(),
        device: config.device,
        intra_op_threads: config.intra_op_threads,
    };
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.get(name).is_none_or(|l| l.key != key) {
            cache.remove(name); // free the old session before building the new one
            let loaded = load(name, config, key);
            cache.insert(name.to_string(), loaded);
        }
        f(cache.get_mut(name).expect("session just inserted"))
    })
}

/// Loads the runtime (once per process), the manifest and the model.
fn load(name: &str, config: &Config, key: Key) -> Loaded {
    let manifest = find_manifest(&config.models_dir, name);
    if manifest.dims > MAX_DIMS {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "model \"{name}\" has {} dimensions, more than the {MAX_DIMS} a vector can hold",
                manifest.dims
            ),
            None,
        );
    }
    let preprocess = preprocess::from_manifest(&manifest)
        .unwrap_or_else(|message| raise(PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR, message, None));
    let options = SessionOptions {
        device: config.device,
        ..SessionOptions::default()
    }
    .with_threads(config.intra_op_threads);
    let model = with_signals_blocked(|| {
        let runtime = Runtime::init(&config.library)?;
        Model::load(&runtime, manifest, &config.models_dir, &options)
    })
    .unwrap_or_else(|e| raise_embedder(e));
    notice_cpu_fallback(&model, config.device);
    Loaded {
        model,
        preprocess,
        models_dir: config.models_dir.clone(),
        key,
    }
}

/// Reads `<dir>/<name>.toml`: 22023 for a malformed name, 58P01 when absent.
fn find_manifest(dir: &Path, name: &str) -> Manifest {
    if !is_model_name(name.as_bytes()) {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("invalid model name \"{name}\""),
            Some("A model name is 1-63 characters of a-z, 0-9 and _."),
        );
    }
    if !dir.join(format!("{name}.toml")).is_file() {
        let available = available_models(dir);
        let detail = if available.is_empty() {
            String::from("No models are installed there: run scripts/fetch-runtime.sh --install.")
        } else {
            format!("Available models: {}.", available.join(", "))
        };
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
            format!("model \"{name}\" not found in {}", dir.display()),
            Some(&detail),
        );
    }
    Manifest::find(dir, name).unwrap_or_else(|e| raise_embedder(e))
}

/// Names of the manifests in `dir`, sorted.
fn available_models(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let path = e.path();
                    (path.extension()? == "toml")
                        .then(|| path.file_stem()?.to_str().map(str::to_string))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Says once per backend that the model runs on the CPU, when CUDA was asked
/// for, or when `auto` could have expected it (a cuda build).
fn notice_cpu_fallback(model: &Model, device: Device) {
    let expected = match device {
        Device::Cuda => true,
        Device::Auto => cfg!(feature = "cuda"),
        Device::Cpu => false,
    };
    if model.provider() != Provider::Cpu || !expected || CPU_NOTICE_GIVEN.get() {
        return;
    }
    if let Some(reason) = model.fallback_reason() {
        CPU_NOTICE_GIVEN.set(true);
        pgrx::notice!("pgvision: running image_embed on the cpu: {reason}");
    }
}
