//! Session options: threads, spinning, graph optimisation, device.
//!
//! Defaults suit a Postgres backend: one intra-op thread and one inter-op
//! thread, with spinning OFF. ONNX Runtime's worker threads otherwise spin
//! on their cores between runs; with several busy backends on a small
//! machine they steal each other's cores (ResNet-50 dropped from ~20 to 6-8
//! images/s with two backends on two cores). Parallelism across backends
//! comes from Postgres itself.

use std::path::PathBuf;

use crate::device::Device;

/// ONNX Runtime graph optimisation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    /// No graph rewrites.
    Disable,
    /// Constant folding, redundant node removal.
    Basic,
    /// Basic plus node fusions.
    Extended,
    /// Everything, including layout optimisations.
    #[default]
    All,
}

/// How a session is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Where to run the model.
    pub device: Device,
    /// Threads used inside one operator (default 1).
    pub intra_op_threads: usize,
    /// Threads used across independent operators (default 1).
    pub inter_op_threads: usize,
    /// Let idle worker threads spin (default false; see the module doc).
    pub spinning: bool,
    /// Graph optimisation level (default `All`).
    pub optimization: OptimizationLevel,
    /// Keep ONNX Runtime's CPU memory arena (default false). The arena keeps
    /// the largest batch's working memory for the session's life; without it
    /// that memory is freed after each run, so it exists only while the
    /// caller has it counted.
    pub cpu_arena: bool,
    /// Folder holding `nvidia/cu13/lib` and `nvidia/cudnn/lib` (the CUDA 13 and
    /// cuDNN 9 runtime from scripts/fetch-runtime.sh --gpu). `None`: look beside
    /// the ONNX Runtime library's folder, then leave it to the system loader.
    pub cuda_runtime_dir: Option<PathBuf>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            device: Device::Auto,
            intra_op_threads: 1,
            inter_op_threads: 1,
            spinning: false,
            optimization: OptimizationLevel::All,
            cpu_arena: false,
            cuda_runtime_dir: None,
        }
    }
}

impl SessionOptions {
    /// Default options on the CPU.
    pub fn cpu() -> Self {
        SessionOptions {
            device: Device::Cpu,
            ..SessionOptions::default()
        }
    }

    /// These options with `threads` intra-op threads.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.intra_op_threads = threads.max(1);
        self
    }
}

impl OptimizationLevel {
    /// The matching `ort` level.
    pub(crate) fn to_ort(self) -> ort::session::builder::GraphOptimizationLevel {
        use ort::session::builder::GraphOptimizationLevel as L;
        match self {
            OptimizationLevel::Disable => L::Disable,
            OptimizationLevel::Basic => L::Level1,
            OptimizationLevel::Extended => L::Level2,
            OptimizationLevel::All => L::All,
        }
    }
}
