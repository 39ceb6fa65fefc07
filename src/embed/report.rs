//! `pgvision_runtime()`: what `image_embed` runs on in this backend.

use pgrx::prelude::*;

use super::config::Config;
use super::session;
use crate::gucs;

/// Loads the model (`pgvision.model` when NULL) and reports the ONNX Runtime
/// version and library, the requested device and the provider in use, the
/// model, its dimensions and weights, the threads and the models folder.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_safe)]
fn pgvision_runtime(
    model: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(onnxruntime_version, String),
        name!(library, String),
        name!(device, String),
        name!(provider, String),
        name!(model, String),
        name!(dims, i32),
        name!(weights, String),
        name!(intra_op_threads, i32),
        name!(models_dir, String),
        name!(cpu_reason, Option<String>),
    ),
> {
    let name = model.map_or_else(gucs::model, str::to_string);
    let config = Config::current();
    let row = session::with_model(&name, &config, |loaded| {
        let info = loaded.model.runtime_info();
        (
            info.ort_version,
            info.library.display().to_string(),
            config.device.to_string(),
            info.provider.to_string(),
            info.model,
            info.dims as i32,
            match info.weights {
                embedder::Weights::Pretrained => "pretrained".to_string(),
                embedder::Weights::Seeded => "seeded".to_string(),
            },
            info.intra_op_threads as i32,
            loaded.models_dir.display().to_string(),
            info.fallback_reason,
        )
    });
    TableIterator::once(row)
}
