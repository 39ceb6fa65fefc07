//! Every error of the crate, with the SQLSTATE the SQL layer should raise.

use std::path::PathBuf;

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the embedder; messages are lowercase with no final period.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ONNX Runtime library file does not exist.
    #[error("onnx runtime library not found at {path}: run scripts/fetch-runtime.sh")]
    RuntimeMissing { path: PathBuf },

    /// The library exists but could not be loaded (not a library, wrong version, missing symbols).
    #[error("cannot load onnx runtime from {path}: {message}")]
    RuntimeLoad { path: PathBuf, message: String },

    /// The runtime was already initialised from another library in this process.
    #[error(
        "onnx runtime already loaded from {loaded}, cannot load {requested} in the same process"
    )]
    RuntimeConflict { loaded: PathBuf, requested: PathBuf },

    /// A manifest file could not be read.
    #[error("cannot read model manifest {path}: {source}")]
    ManifestRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A manifest is malformed or describes something this crate cannot run.
    #[error("invalid model manifest {origin}: {message}")]
    ManifestInvalid { origin: String, message: String },

    /// The model file named by the manifest does not exist.
    #[error("model file not found at {path}: run scripts/fetch-runtime.sh")]
    ModelMissing { path: PathBuf },

    /// The model file could not be read.
    #[error("cannot read model file {path}: {source}")]
    ModelRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The model file's sha256 differs from the manifest's.
    #[error("model file {path} has sha256 {actual}, but its manifest requires {expected}")]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// ONNX Runtime refused the model or the session options.
    #[error("cannot create onnx runtime session for model \"{model}\": {message}")]
    Session { model: String, message: String },

    /// The graph's inputs or outputs do not match the manifest.
    #[error("model \"{model}\" does not match its manifest: {message}")]
    ModelMismatch { model: String, message: String },

    /// The input batch has the wrong shape for the model.
    #[error("model \"{model}\" expects input of shape [n, {expected}], not {actual}")]
    InputShape {
        model: String,
        expected: String,
        actual: String,
    },

    /// The input batch contains NaN or infinite values.
    #[error("input batch for model \"{model}\" contains non-finite values")]
    InputNotFinite { model: String },

    /// ONNX Runtime failed while running the model.
    #[error("inference failed for model \"{model}\": {message}")]
    Inference { model: String, message: String },

    /// The model produced an output of unexpected shape.
    #[error("model \"{model}\" returned output of shape {actual}, expected [{batch}, {dims}]")]
    OutputShape {
        model: String,
        batch: usize,
        dims: usize,
        actual: String,
    },
}

impl Error {
    /// The SQLSTATE the SQL layer should raise for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            // 58P01 undefined_file
            Error::RuntimeMissing { .. } | Error::ModelMissing { .. } => "58P01",
            // 58030 io_error
            Error::ManifestRead { .. } | Error::ModelRead { .. } => "58030",
            // 55000 object_not_in_prerequisite_state
            Error::RuntimeLoad { .. } | Error::RuntimeConflict { .. } => "55000",
            // F0000 config_file_error
            Error::ManifestInvalid { .. } => "F0000",
            // XX001 data_corrupted
            Error::ChecksumMismatch { .. } => "XX001",
            // 22023 invalid_parameter_value: the caller's batch
            Error::InputShape { .. } => "22023",
            // 22000 data_exception
            Error::InputNotFinite { .. } => "22000",
            // XX000 internal_error: ONNX Runtime or the model misbehaved
            Error::Session { .. }
            | Error::ModelMismatch { .. }
            | Error::Inference { .. }
            | Error::OutputShape { .. } => "XX000",
        }
    }
}
