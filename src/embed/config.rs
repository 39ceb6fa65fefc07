//! The embedding settings of this call, read once on the main thread.

use std::path::PathBuf;

use embedder::Device;
use imagepipe::Limits;
use pgrx::PgSqlErrorCode;

use super::paths;
use crate::error::raise;
use crate::gucs::{self, EmbedDevice};

/// A snapshot of the `pgvision.*` embedding settings, paths resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder of the model manifests and ONNX files.
    pub models_dir: PathBuf,
    /// Absolute path of the ONNX Runtime library.
    pub library: PathBuf,
    /// Requested device.
    pub device: Device,
    /// ONNX Runtime intra-op threads.
    pub intra_op_threads: usize,
    /// Decode threads of the batch form (0: one per core).
    pub decode_threads: usize,
    /// Decoder limits.
    pub limits: Limits,
    /// Images per inference in the batch form (at most; see `memory::chunk_size`).
    pub batch_size: usize,
    /// `pgvision.decode_memory_limit` in bytes.
    pub decode_memory_limit: u64,
}

impl Config {
    /// The current settings.
    pub fn current() -> Config {
        let models_dir = gucs::models_dir()
            .map(|d| absolute("pgvision.models_dir", d))
            .unwrap_or_else(paths::default_models_dir);
        let library = gucs::onnxruntime_library()
            .map(|l| absolute("pgvision.onnxruntime_library", l))
            .unwrap_or_else(paths::default_library);
        let device = match gucs::device() {
            EmbedDevice::Auto => Device::Auto,
            EmbedDevice::Cpu => Device::Cpu,
            EmbedDevice::Cuda => Device::Cuda,
        };
        let limits = Limits {
            max_pixels: gucs::max_image_pixels(),
            ..Limits::default()
        };
        Config {
            models_dir,
            library,
            device,
            intra_op_threads: gucs::intra_op_threads(),
            decode_threads: gucs::decode_threads(),
            limits,
            batch_size: gucs::embed_batch_size(),
            decode_memory_limit: gucs::decode_memory_limit(),
        }
    }
}

/// `value` as a path, refusing a relative one (it would resolve against the data directory).
fn absolute(setting: &str, value: String) -> PathBuf {
    let path = PathBuf::from(&value);
    if !path.is_absolute() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{setting} must be an absolute path, not \"{value}\""),
            None,
        );
    }
    path
}
