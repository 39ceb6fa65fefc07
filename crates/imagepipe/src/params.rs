//! Preprocessing parameters, read from a model's manifest.
//!
//! Nothing model-specific is a constant in code: the ImageNet numbers
//! (256 -> 224, mean 0.485/0.456/0.406, std 0.229/0.224/0.225) live in the
//! manifest that ships with the model.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Largest accepted `input_size` and `resize_shorter`; far above any CNN
/// input, it only keeps a broken manifest from asking for absurd buffers.
const MAX_SIDE: u32 = 8192;

/// How a model wants its input tensor made (torchvision's
/// `Resize(resize_shorter) + CenterCrop(input_size) + ToTensor + Normalize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocess {
    /// Side of the square center crop fed to the model (e.g. 224).
    pub input_size: u32,
    /// The shorter image side is resized to this first (e.g. 256); the
    /// longer side keeps the aspect ratio, truncated as torchvision does.
    pub resize_shorter: u32,
    /// Resampling filter of the resize.
    pub interpolation: Interpolation,
    /// Per-channel mean subtracted after value scaling, in `channel_order`.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by after the mean.
    pub std: [f32; 3],
    /// Order of the colour channels in the tensor.
    #[serde(default)]
    pub channel_order: ChannelOrder,
    /// Memory layout of the tensor.
    #[serde(default)]
    pub layout: Layout,
    /// Range pixel values are scaled to before normalisation.
    #[serde(default)]
    pub value_scale: ValueScale,
}

/// Resampling filter, antialiased when downscaling exactly like PIL's
/// `Image.resize` (which torchvision uses for PIL images).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Triangle filter, support 1 (PIL `BILINEAR`, torchvision's default).
    Bilinear,
    /// Keys cubic with a = -0.5, support 2 (PIL `BICUBIC`).
    Bicubic,
}

/// Order of colour channels in the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    /// Red, green, blue (torchvision models).
    #[default]
    Rgb,
    /// Blue, green, red (Caffe-era models).
    Bgr,
}

/// Memory layout of a batch tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Batch, channel, height, width (PyTorch / most ONNX exports).
    #[default]
    Nchw,
    /// Batch, height, width, channel (TensorFlow exports).
    Nhwc,
}

/// Range of pixel values before mean/std normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueScale {
    /// 0..1: the 8-bit value divided by 255 (torchvision's `ToTensor`).
    #[default]
    Unit,
    /// 0..255: the 8-bit value as is.
    Byte,
}

impl ValueScale {
    /// The number an 8-bit value is divided by.
    pub(crate) fn divisor(self) -> f32 {
        match self {
            ValueScale::Unit => 255.0,
            ValueScale::Byte => 1.0,
        }
    }
}

impl Preprocess {
    /// Checks the parameters once, when a manifest is loaded.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::InvalidParameters(msg));
        if self.input_size == 0 || self.input_size > MAX_SIDE {
            return bad(format!(
                "input_size must be between 1 and {MAX_SIDE}, not {}",
                self.input_size
            ));
        }
        if self.resize_shorter < self.input_size || self.resize_shorter > MAX_SIDE {
            return bad(format!(
                "resize_shorter must be between input_size ({}) and {MAX_SIDE}, not {}",
                self.input_size, self.resize_shorter
            ));
        }
        if !self.mean.iter().all(|m| m.is_finite()) {
            return bad(String::from("mean must be finite"));
        }
        if !self.std.iter().all(|s| s.is_finite() && *s != 0.0) {
            return bad(String::from("std must be finite and nonzero"));
        }
        Ok(())
    }

    /// Shape of one image's tensor: `[3, s, s]` for NCHW, `[s, s, 3]` for NHWC.
    pub fn image_shape(&self) -> [usize; 3] {
        let s = self.input_size as usize;
        match self.layout {
            Layout::Nchw => [3, s, s],
            Layout::Nhwc => [s, s, 3],
        }
    }
}
