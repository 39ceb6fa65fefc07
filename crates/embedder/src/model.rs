//! A loaded model: checksum-verified ONNX bytes in an ONNX Runtime session.
//!
//! The file is read once, hashed and handed to ONNX Runtime from memory, so
//! the bytes that run are the bytes that were checked.

use std::path::Path;

use ndarray::ArrayView4;
use ort::session::builder::SessionBuilder;
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef, ValueType};

use crate::checksum::sha256_hex;
use crate::device::{self, Provider};
use crate::error::{Error, Result};
use crate::info::RuntimeInfo;
use crate::manifest::Manifest;
use crate::options::SessionOptions;
use crate::runtime::Runtime;

/// A model ready to embed image batches. Not shared between threads: one per backend.
#[derive(Debug)]
pub struct Model {
    manifest: Manifest,
    session: Session,
    provider: Provider,
    fallback_reason: Option<String>,
    runtime: Runtime,
    intra_op_threads: usize,
}

impl Model {
    /// Load `models_dir/<manifest.file>`, refusing it unless its sha256 matches the manifest.
    pub fn load(
        runtime: &Runtime,
        manifest: Manifest,
        models_dir: impl AsRef<Path>,
        options: &SessionOptions,
    ) -> Result<Model> {
        let path = models_dir.as_ref().join(&manifest.file);
        if !path.is_file() {
            return Err(Error::ModelMissing { path });
        }
        let bytes = std::fs::read(&path).map_err(|source| Error::ModelRead {
            path: path.clone(),
            source,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != manifest.sha256 {
            return Err(Error::ChecksumMismatch {
                path,
                expected: manifest.sha256.clone(),
                actual,
            });
        }
        let (session, provider, fallback_reason) =
            create_session(runtime, &manifest, &bytes, options)?;
        check_signature(&session, &manifest)?;
        Ok(Model {
            manifest,
            session,
            provider,
            fallback_reason,
            runtime: runtime.clone(),
            intra_op_threads: options.intra_op_threads.max(1),
        })
    }

    /// Embed a batch [N, 3, input_size, input_size] (preprocessed as the manifest says) into N vectors.
    pub fn embed(&mut self, batch: ArrayView4<'_, f32>) -> Result<Vec<Vec<f32>>> {
        let [c, h, w] = self.manifest.image_shape();
        let shape = batch.shape();
        if shape[1..] != [c, h, w] {
            return Err(Error::InputShape {
                model: self.manifest.name.clone(),
                expected: format!("{c}, {h}, {w}"),
                actual: format!("{shape:?}"),
            });
        }
        let n = shape[0];
        if n == 0 {
            return Ok(Vec::new());
        }
        if batch.iter().any(|v| !v.is_finite()) {
            return Err(Error::InputNotFinite {
                model: self.manifest.name.clone(),
            });
        }
        let contiguous = batch.as_standard_layout();
        let failed = |e: ort::Error| Error::Inference {
            model: self.manifest.name.clone(),
            message: e.to_string(),
        };
        let input = TensorRef::from_array_view(&contiguous).map_err(failed)?;
        let outputs = self
            .session
            .run(ort::inputs![self.manifest.input.as_str() => input])
            .map_err(|e| Error::Inference {
                model: self.manifest.name.clone(),
                message: e.to_string(),
            })?;
        let output =
            outputs
                .get(self.manifest.output.as_str())
                .ok_or_else(|| Error::Inference {
                    model: self.manifest.name.clone(),
                    message: format!("no output named \"{}\"", self.manifest.output),
                })?;
        let (out_shape, data) =
            output
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::Inference {
                    model: self.manifest.name.clone(),
                    message: e.to_string(),
                })?;
        let dims = self.manifest.dims;
        if **out_shape != [n as i64, dims as i64] {
            return Err(Error::OutputShape {
                model: self.manifest.name.clone(),
                batch: n,
                dims,
                actual: format!("{:?}", &**out_shape),
            });
        }
        Ok(data.chunks_exact(dims).map(<[f32]>::to_vec).collect())
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Output dimensions.
    pub fn dims(&self) -> usize {
        self.manifest.dims
    }

    /// The execution provider in use.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Why CUDA is not in use although the options asked for Auto or Cuda.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// ONNX Runtime version, provider in use, model name and dimensions.
    pub fn runtime_info(&self) -> RuntimeInfo {
        RuntimeInfo {
            ort_version: self.runtime.version().to_string(),
            library: self.runtime.path().to_path_buf(),
            provider: self.provider,
            fallback_reason: self.fallback_reason.clone(),
            model: self.manifest.name.clone(),
            dims: self.manifest.dims,
            weights: self.manifest.weights,
            intra_op_threads: self.intra_op_threads,
        }
    }
}

/// Build the session, with CUDA when asked and possible; retry on the CPU if CUDA fails at commit.
fn create_session(
    runtime: &Runtime,
    manifest: &Manifest,
    bytes: &[u8],
    options: &SessionOptions,
) -> Result<(Session, Provider, Option<String>)> {
    let failed = |e: String| Error::Session {
        model: manifest.name.clone(),
        message: e,
    };
    let mut builder = base_builder(runtime, options).map_err(failed)?;
    let (provider, reason) = device::register(&mut builder, runtime, options);
    match builder.commit_from_memory(bytes) {
        Ok(session) => Ok((session, provider, reason)),
        Err(e) if provider == Provider::Cuda => {
            let reason = format!("cuda session creation failed: {e}");
            let cpu = SessionOptions {
                device: crate::Device::Cpu,
                ..options.clone()
            };
            let session = base_builder(runtime, &cpu)
                .map_err(failed)?
                .commit_from_memory(bytes)
                .map_err(|e| failed(e.to_string()))?;
            Ok((session, Provider::Cpu, Some(reason)))
        }
        Err(e) => Err(failed(e.to_string())),
    }
}

/// A session builder with the threading and optimisation options applied.
fn base_builder(
    runtime: &Runtime,
    options: &SessionOptions,
) -> std::result::Result<SessionBuilder, String> {
    let text = |e: ort::Error<SessionBuilder>| e.to_string();
    let mut builder = Session::builder(runtime.environment()).map_err(|e| e.to_string())?;
    ort::ep::ExecutionProvider::register(
        &ort::ep::CPU::default().with_arena_allocator(options.cpu_arena),
        &mut builder,
    )
    .map_err(|e| e.to_string())?;
    builder
        .with_optimization_level(options.optimization.to_ort())
        .map_err(text)?
        .with_intra_threads(options.intra_op_threads.max(1))
        .map_err(text)?
        .with_inter_threads(options.inter_op_threads.max(1))
        .map_err(text)?
        .with_intra_op_spinning(options.spinning)
        .map_err(text)?
        .with_inter_op_spinning(options.spinning)
        .map_err(text)?
        // The memory pattern plans one block for all of a run's tensors.
        // Without the arena that block is a fresh mmap on every run, paid
        // in page faults (sys time 1.45 -> 0.79 ms an image, CPU -6%, at
        // batch 4 for efficientnet_lite0); without the pattern each tensor
        // is a malloc that reuses what the last run freed.
        .with_memory_pattern(options.cpu_arena)
        .map_err(text)
}

/// Check that the graph's input and output agree with the manifest.
fn check_signature(session: &Session, manifest: &Manifest) -> Result<()> {
    let mismatch = |message: String| Error::ModelMismatch {
        model: manifest.name.clone(),
        message,
    };
    let [c, h, w] = manifest.image_shape();
    let inputs = session.inputs();
    if inputs.len() != 1 || inputs[0].name() != manifest.input {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(mismatch(format!(
            "expected one input \"{}\", found {names:?}",
            manifest.input
        )));
    }
    check_tensor(inputs[0].dtype(), &[-1, c as i64, h as i64, w as i64])
        .map_err(|m| mismatch(format!("input \"{}\": {m}", manifest.input)))?;
    let output = session
        .outputs()
        .iter()
        .find(|o| o.name() == manifest.output)
        .ok_or_else(|| mismatch(format!("no output named \"{}\"", manifest.output)))?;
    check_tensor(output.dtype(), &[-1, manifest.dims as i64])
        .map_err(|m| mismatch(format!("output \"{}\": {m}", manifest.output)))
}

/// A float32 tensor whose known dimensions match `expected` (-1 matches anything).
fn check_tensor(ty: &ValueType, expected: &[i64]) -> std::result::Result<(), String> {
    let ValueType::Tensor { ty, shape, .. } = ty else {
        return Err("not a tensor".into());
    };
    if *ty != TensorElementType::Float32 {
        return Err(format!("element type {ty:?}, expected float32"));
    }
    let fits = shape.len() == expected.len()
        && shape
            .iter()
            .zip(expected)
            .all(|(&got, &want)| got < 0 || want < 0 || got == want);
    if fits {
        Ok(())
    } else {
        Err(format!(
            "shape {:?}, expected {expected:?} (-1: any)",
            &**shape
        ))
    }
}
