//! Image embeddings for pgvision with ONNX Runtime, loaded at run time.
//!
//! Pure Rust, no Postgres: the extension's `image_embed` glue calls this
//! crate, and so do the tests and the `bare_infer` example.
//!
//! ```no_run
//! use embedder::{Manifest, Model, Runtime, SessionOptions};
//! # fn main() -> embedder::Result<()> {
//! let runtime = Runtime::init("/work/main/.pgvision/lib/libonnxruntime.so.1.31.1")?;
//! let models = std::path::Path::new("/work/main/.pgvision/models");
//! let manifest = Manifest::find(models, "efficientnet_lite0")?;
//! let mut model = Model::load(&runtime, manifest, models, &SessionOptions::default())?;
//! let batch = ndarray::Array4::<f32>::zeros((1, 3, 224, 224));
//! let embeddings = model.embed(batch.view())?; // 1 x 1280
//! # Ok(()) }
//! ```
//!
//! The ONNX Runtime library and the models come from
//! `scripts/fetch-runtime.sh`; `models/README.md` says where each model's
//! weights come from.

mod checksum;
mod device;
mod error;
mod info;
mod manifest;
mod model;
mod options;
mod runtime;

pub use device::{Device, Provider};
pub use error::{Error, Result};
pub use info::RuntimeInfo;
pub use manifest::{Interpolation, Layout, Manifest, Weights};
pub use model::Model;
pub use options::{OptimizationLevel, SessionOptions};
pub use runtime::{Runtime, ORT_LIB_NAME};

/// Re-exported so callers build input batches with the same `ndarray` version.
pub use ndarray;
