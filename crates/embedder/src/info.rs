//! What the SQL layer shows about the embedder in use.

use std::fmt;
use std::path::PathBuf;

use crate::device::Provider;
use crate::manifest::Weights;

/// ONNX Runtime version, provider and model of a loaded [`crate::Model`].
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeInfo {
    /// ONNX Runtime version, e.g. "1.31.1".
    pub ort_version: String,
    /// Path of the ONNX Runtime library.
    pub library: PathBuf,
    /// Execution provider in use.
    pub provider: Provider,
    /// Why CUDA was not used when it was asked for (Auto or Cuda).
    pub fallback_reason: Option<String>,
    /// Model name from the manifest.
    pub model: String,
    /// Output dimensions.
    pub dims: usize,
    /// Trained or seeded weights.
    pub weights: Weights,
    /// Intra-op threads of the session.
    pub intra_op_threads: usize,
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "onnx runtime {} ({}), provider {}, model {} ({} dimensions, {} weights), {} thread(s)",
            self.ort_version,
            self.library.display(),
            self.provider,
            self.model,
            self.dims,
            match self.weights {
                Weights::Pretrained => "pretrained",
                Weights::Seeded => "seeded",
            },
            self.intra_op_threads
        )?;
        if let Some(reason) = &self.fallback_reason {
            write!(f, "; cuda not used: {reason}")?;
        }
        Ok(())
    }
}
