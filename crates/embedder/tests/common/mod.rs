//! Locating ONNX Runtime and the generated models for the tests.
//!
//! PGVISION_ORT_LIB and PGVISION_MODELS_DIR override the defaults under the
//! repository's `.pgvision/`. Missing files fail the tests: they never pass
//! silently without running ONNX Runtime.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use embedder::{Manifest, Model, Runtime, SessionOptions};

/// The repository root (two levels above this crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Path of libonnxruntime.so.1.31.1.
pub fn ort_lib() -> PathBuf {
    std::env::var_os("PGVISION_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            repo_root()
                .join(".pgvision/lib")
                .join(embedder::ORT_LIB_NAME)
        })
}

/// Folder of the generated models and their manifests.
pub fn models_dir() -> PathBuf {
    std::env::var_os("PGVISION_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".pgvision/models"))
}

/// The process's runtime; panics with the fix when the library is absent.
pub fn runtime() -> Runtime {
    let lib = ort_lib();
    assert!(
        lib.is_file(),
        "onnx runtime library not found at {} (set PGVISION_ORT_LIB or run scripts/fetch-runtime.sh)",
        lib.display()
    );
    Runtime::init(&lib).unwrap_or_else(|e| panic!("{e}"))
}

/// The manifest of a generated model; panics with the fix when it is absent.
pub fn manifest(name: &str) -> Manifest {
    let dir = models_dir();
    let path = dir.join(format!("{name}.toml"));
    assert!(
        path.is_file(),
        "model manifest {} not found (set PGVISION_MODELS_DIR or run scripts/fetch-runtime.sh)",
        path.display()
    );
    Manifest::find(&dir, name).unwrap_or_else(|e| panic!("{e}"))
}

/// Load a generated model on the CPU with default options.
pub fn model(name: &str) -> Model {
    Model::load(
        &runtime(),
        manifest(name),
        models_dir(),
        &SessionOptions::cpu(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A deterministic pseudo-random batch [n, 3, side, side] in about [-2, 2].
pub fn batch(n: usize, side: usize, seed: u64) -> ndarray::Array4<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ndarray::Array4::from_shape_fn((n, 3, side, side), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    })
}
