//! Choosing the execution provider: CUDA when asked for and usable, else CPU.
//!
//! The CUDA provider is registered only when this crate is built with the
//! `cuda` feature and the loaded ONNX Runtime library is a GPU build
//! (onnxruntime-gpu, with libonnxruntime_providers_cuda.so beside it). Every
//! failure along the way falls back to the CPU and leaves a reason, so the
//! SQL layer can say once which provider is in use and why.

use std::fmt;
use std::str::FromStr;

use ort::session::builder::SessionBuilder;

use crate::options::SessionOptions;
use crate::runtime::Runtime;

/// Where the caller wants the model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// CUDA when available, otherwise CPU.
    #[default]
    Auto,
    /// CPU only.
    Cpu,
    /// CUDA, falling back to the CPU (with a reason) when it cannot be used.
    Cuda,
}

/// The execution provider a session actually uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// ONNX Runtime's CUDA provider.
    Cuda,
}

impl Provider {
    /// ONNX Runtime's name for the provider.
    pub fn ort_name(self) -> &'static str {
        match self {
            Provider::Cpu => "CPUExecutionProvider",
            Provider::Cuda => "CUDAExecutionProvider",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Cpu => "cpu",
            Provider::Cuda => "cuda",
        })
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

impl FromStr for Device {
    type Err = String;

    /// Parse "auto", "cpu" or "cuda" (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            _ => Err(format!(
                "invalid device \"{s}\": expected auto, cpu or cuda"
            )),
        }
    }
}

/// Register the provider for `options.device` on `builder`; on CPU, say why CUDA was not used.
pub(crate) fn register(
    builder: &mut SessionBuilder,
    runtime: &Runtime,
    options: &SessionOptions,
) -> (Provider, Option<String>) {
    match options.device {
        Device::Cpu => (Provider::Cpu, None),
        Device::Auto | Device::Cuda => match register_cuda(builder, runtime, options) {
            Ok(()) => (Provider::Cuda, None),
            Err(reason) => (Provider::Cpu, Some(reason)),
        },
    }
}

/// Without the `cuda` feature there is nothing to register.
#[cfg(not(feature = "cuda"))]
fn register_cuda(_: &mut SessionBuilder, _: &Runtime, _: &SessionOptions) -> Result<(), String> {
    Err("pgvision was built without cuda support".into())
}

/// Preload the CUDA runtime if we know where it is, then register the CUDA provider.
#[cfg(feature = "cuda")]
fn register_cuda(
    builder: &mut SessionBuilder,
    runtime: &Runtime,
    options: &SessionOptions,
) -> Result<(), String> {
    use ort::ep::{ExecutionProvider, CUDA};

    let compiled_in = <CUDA as ExecutionProvider>::is_available().map_err(|e| e.to_string())?;
    if !compiled_in {
        return Err(format!(
            "the onnx runtime library {} has no cuda provider (it is the cpu build; see scripts/fetch-runtime.sh --gpu)",
            runtime.path().display()
        ));
    }
    if !nvidia_driver_present() {
        return Err(NO_DRIVER.into());
    }
    preload_cuda_runtime(runtime, options)?;
    CUDA::default()
        .register(builder)
        .map_err(|e| format!("cuda provider registration failed: {e}"))
}

/// Why CUDA is not used on a machine without the NVIDIA driver.
#[cfg(feature = "cuda")]
const NO_DRIVER: &str =
    "the NVIDIA driver is not installed (libcuda.so.1 was not found), so no GPU can be used";

/// Whether the NVIDIA driver's libcuda.so.1 loads, checked once per process
/// before anything of CUDA is loaded: without it the CUDA provider fails with
/// a misleading message about cuDNN.
#[cfg(feature = "cuda")]
fn nvidia_driver_present() -> bool {
    use std::sync::OnceLock;

    static PRESENT: OnceLock<bool> = OnceLock::new();
    *PRESENT.get_or_init(|| {
        // SAFETY: dlopen gets a NUL-terminated constant name. The handle is
        // deliberately kept (never dlclose'd): the CUDA provider loads the
        // same library next, and a driver library is not made to be unloaded.
        let handle =
            unsafe { libc::dlopen(c"libcuda.so.1".as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL) };
        !handle.is_null()
    })
}

/// Load the CUDA 13 and cuDNN 9 libraries from the nvidia wheels' folders, once per process.
#[cfg(feature = "cuda")]
fn preload_cuda_runtime(runtime: &Runtime, options: &SessionOptions) -> Result<(), String> {
    use std::sync::OnceLock;

    static PRELOADED: OnceLock<Result<(), String>> = OnceLock::new();
    PRELOADED
        .get_or_init(|| {
            let root = options
                .cuda_runtime_dir
                .clone()
                .or_else(|| runtime.path().parent()?.parent().map(|p| p.to_path_buf()));
            let Some(root) = root else { return Ok(()) };
            let (cuda, cudnn) = (root.join("nvidia/cu13/lib"), root.join("nvidia/cudnn/lib"));
            if !cuda.is_dir() || !cudnn.is_dir() {
                return Ok(()); // rely on the system's loader path
            }
            ort::ep::cuda::preload_dylibs(Some(&cuda), Some(&cudnn))
                .map_err(|e| format!("cannot load the cuda runtime from {}: {e}", root.display()))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("CPU".parse::<Device>(), Ok(Device::Cpu));
        assert_eq!("auto".parse::<Device>(), Ok(Device::Auto));
        assert_eq!("cuda".parse::<Device>(), Ok(Device::Cuda));
        assert!("tpu".parse::<Device>().is_err());
    }
}
