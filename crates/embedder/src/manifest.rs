//! Model manifests: what a model expects and produces, and where it comes from.
//!
//! One TOML file per model (`models/<name>.toml` in the repository, copied
//! next to the `.onnx` by scripts/fetch-runtime.sh). The preprocessing keys
//! (`resize`, `crop`, `interpolation`, `mean`, `std`) describe what the image
//! pipeline must do before [`crate::Model::embed`].

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Memory layout of the input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Layout {
    /// [batch, channels, height, width], channels RGB.
    #[serde(rename = "NCHW")]
    Nchw,
}

/// Resampling filter used for the resize step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Nearest neighbour.
    Nearest,
    /// Bilinear (triangle filter).
    Bilinear,
    /// Bicubic (Catmull-Rom).
    Bicubic,
}

/// Whether the weights were trained or are seeded random numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// Trained weights: features are meaningful.
    Pretrained,
    /// Seeded random weights: for speed and plumbing tests only.
    Seeded,
}

/// A model's manifest, as read from `<name>.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Model name, `[a-z0-9_]+`; also the manifest's file stem.
    pub name: String,
    /// ONNX file name, relative to the models directory.
    pub file: String,
    /// Lowercase hex sha256 of the ONNX file.
    pub sha256: String,
    /// Name of the graph input (float32 image batch).
    pub input: String,
    /// Name of the graph output (float32 [N, dims]).
    pub output: String,
    /// Input layout; only NCHW.
    pub layout: Layout,
    /// Input height and width in pixels.
    pub input_size: u32,
    /// The shorter side of the image is resized to this before cropping.
    pub resize: u32,
    /// Side of the centre crop taken after resizing; equals `input_size`.
    pub crop: u32,
    /// Filter for the resize.
    pub interpolation: Interpolation,
    /// Per-channel mean (RGB, on values scaled to [0, 1]).
    pub mean: [f32; 3],
    /// Per-channel standard deviation (RGB, on values scaled to [0, 1]).
    pub std: [f32; 3],
    /// Output dimensions.
    pub dims: usize,
    /// Trained or seeded weights.
    pub weights: Weights,
    /// Licence of the weights.
    pub licence: String,
    /// Where the weights come from and how the file was made.
    pub source: String,
    /// sha256 of the file the model was converted from, where known.
    #[serde(default)]
    pub source_sha256: Option<String>,
    /// ONNX Runtime's working memory per image of a batch during one run
    /// (activations), in bytes, as measured with `bare_infer --arena off`;
    /// absent: [`DEFAULT_INFERENCE_FACTOR`] times the input tensor.
    #[serde(default)]
    pub inference_bytes: Option<u64>,
}

/// Working memory per image assumed for a model whose manifest does not say,
/// as a multiple of its input tensor: measured CNNs at 224 x 224 need 12-13x
/// (EfficientNet-Lite0 7.0 MB, ResNet-50 7.8 MB per image), so this errs high.
pub const DEFAULT_INFERENCE_FACTOR: u64 = 32;

impl Manifest {
    /// Read and validate a manifest file.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::ManifestRead {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Read and validate `<models_dir>/<name>.toml`.
    pub fn find(models_dir: impl AsRef<Path>, name: &str) -> Result<Manifest> {
        check_name(name).map_err(|message| invalid(name, message))?;
        let manifest = Manifest::load(models_dir.as_ref().join(format!("{name}.toml")))?;
        if manifest.name != name {
            return Err(invalid(
                name,
                format!("file {name}.toml declares name \"{}\"", manifest.name),
            ));
        }
        Ok(manifest)
    }

    /// Parse and validate manifest text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| invalid(origin, lowercase_first(e.message())))?;
        manifest
            .validate()
            .map_err(|message| invalid(origin, message))?;
        Ok(manifest)
    }

    /// Check the fields' invariants; returns the first problem found.
    pub fn validate(&self) -> std::result::Result<(), String> {
        check_name(&self.name)?;
        if self.file.is_empty()
            || self.file.contains('/')
            || self.file.contains('\\')
            || self.file.starts_with('.')
        {
            return Err(format!("file \"{}\" must be a plain file name", self.file));
        }
        check_sha256("sha256", &self.sha256)?;
        if let Some(sha) = &self.source_sha256 {
            check_sha256("source_sha256", sha)?;
        }
        if self.input.is_empty() || self.output.is_empty() {
            return Err("input and output names must not be empty".into());
        }
        if self.input_size == 0 || self.input_size > 4096 {
            return Err(format!(
                "input_size {} is out of range 1..4096",
                self.input_size
            ));
        }
        if self.crop != self.input_size {
            return Err(format!(
                "crop {} must equal input_size {}",
                self.crop, self.input_size
            ));
        }
        if self.resize < self.crop {
            return Err(format!(
                "resize {} must be at least crop {}",
                self.resize, self.crop
            ));
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return Err("mean must be finite".into());
        }
        if self.std.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err("std must be finite and positive".into());
        }
        if self.dims == 0 || self.dims > 65535 {
            return Err(format!("dims {} is out of range 1..65535", self.dims));
        }
        if self.inference_bytes.is_some_and(|b| b > 1 << 40) {
            return Err("inference_bytes must be at most 1 TiB".into());
        }
        Ok(())
    }

    /// Bytes of one input image as the float32 tensor the model takes.
    pub fn tensor_bytes(&self) -> u64 {
        let side = u64::from(self.input_size);
        3 * side * side * 4
    }

    /// ONNX Runtime's working memory per image of a batch during one run:
    /// the manifest's `inference_bytes`, else a conservative multiple of the
    /// input tensor.
    pub fn inference_bytes_per_image(&self) -> u64 {
        self.inference_bytes
            .unwrap_or(DEFAULT_INFERENCE_FACTOR * self.tensor_bytes())
    }

    /// Shape of one input image: [3, input_size, input_size].
    pub fn image_shape(&self) -> [usize; 3] {
        let side = self.input_size as usize;
        [3, side, side]
    }
}

/// Build a `ManifestInvalid` error.
fn invalid(origin: &str, message: impl Into<String>) -> Error {
    Error::ManifestInvalid {
        origin: origin.to_string(),
        message: message.into(),
    }
}

/// Lowercase the first letter of a message from another library.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.trim_end_matches('.').chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Model names are `[a-z0-9_]+` (they become file names).
fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "model name \"{name}\" must be 1-63 characters of a-z, 0-9 and _"
        ))
    }
}

/// A sha256 is 64 lowercase hex digits.
fn check_sha256(field: &str, value: &str) -> std::result::Result<(), String> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!("{field} must be 64 lowercase hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"
name = "tiny16"
file = "tiny16.onnx"
sha256 = "24d51d54f81c4839ae0fd7de02ecfc06eb1b3c40027b1b115b33458a9b1000aa"
input = "input"
output = "features"
layout = "NCHW"
input_size = 32
resize = 32
crop = 32
interpolation = "bilinear"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
dims = 16
weights = "seeded"
licence = "Apache-2.0"
source = "models/tiny.py"
"#;

    #[test]
    fn parses_valid_manifest() {
        let m = Manifest::parse(TINY, "test").unwrap();
        assert_eq!(m.dims, 16);
        assert_eq!(m.layout, Layout::Nchw);
        assert_eq!(m.interpolation, Interpolation::Bilinear);
        assert_eq!(m.weights, Weights::Seeded);
        assert_eq!(m.image_shape(), [3, 32, 32]);
        assert_eq!(m.tensor_bytes(), 3 * 32 * 32 * 4);
        assert_eq!(m.inference_bytes, None);
        assert_eq!(
            m.inference_bytes_per_image(),
            DEFAULT_INFERENCE_FACTOR * 3 * 32 * 32 * 4
        );
        let stated = TINY.replace("dims = 16", "dims = 16\ninference_bytes = 5000");
        let m = Manifest::parse(&stated, "test").unwrap();
        assert_eq!(m.inference_bytes_per_image(), 5000);
    }

    #[test]
    fn rejects_bad_fields() {
        let cases = [
            ("dims = 16", "dims = 0", "dims 0"),
            ("crop = 32", "crop = 30", "crop 30"),
            (
                "file = \"tiny16.onnx\"",
                "file = \"../x.onnx\"",
                "plain file name",
            ),
            ("sha256 = \"24d5", "sha256 = \"ZZd5", "64 lowercase hex"),
            ("layout = \"NCHW\"", "layout = \"NHWC\"", "unknown variant"),
            (
                "std = [0.229, 0.224, 0.225]",
                "std = [0.229, 0.0, 0.225]",
                "positive",
            ),
            (
                "licence = ",
                "colour = \"red\"\nlicence = ",
                "unknown field",
            ),
            (
                "dims = 16",
                "dims = 16\ninference_bytes = 2000000000000",
                "at most 1 TiB",
            ),
            (
                "dims = 16",
                "dims = 16\ninference_bytes = -1",
                "invalid value",
            ),
        ];
        for (from, to, expect) in cases {
            let text = TINY.replacen(from, to, 1);
            assert_ne!(text, TINY, "test case did not change the text: {from}");
            let err = Manifest::parse(&text, "test").unwrap_err().to_string();
            assert!(err.contains(expect), "{to}: {err}");
            assert!(err.starts_with("invalid model manifest"), "{err}");
        }
    }
}

#[cfg(test)]
mod repository_manifests {
    use super::*;

    /// Every manifest shipped in models/ parses, validates and names itself after its file.
    #[test]
    fn shipped_manifests_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                let m = Manifest::find(&dir, &stem).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(m.file, format!("{stem}.onnx"));
                names.push(stem);
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "efficientnet_lite0",
                "efficientnet_lite0_int8",
                "efficientnet_lite1",
                "efficientnet_lite2",
                "resnet50",
                "resnet50_int8",
                "tiny16",
                "tiny2048"
            ]
        );
    }
}
