//! A model manifest's preprocessing keys in the form the image pipeline takes.

use embedder::Manifest;
use imagepipe::{ChannelOrder, Interpolation, Layout, Preprocess, ValueScale};

/// The `imagepipe` parameters a manifest describes, or why it cannot be run.
pub fn from_manifest(m: &Manifest) -> Result<Preprocess, String> {
    let interpolation = match m.interpolation {
        embedder::Interpolation::Bilinear => Interpolation::Bilinear,
        embedder::Interpolation::Bicubic => Interpolation::Bicubic,
        embedder::Interpolation::Nearest => {
            return Err(format!(
                "model \"{}\": interpolation \"nearest\" is not supported by the image pipeline",
                m.name
            ))
        }
    };
    let layout = match m.layout {
        embedder::Layout::Nchw => Layout::Nchw,
    };
    let p = Preprocess {
        input_size: m.input_size,
        resize_shorter: m.resize,
        interpolation,
        mean: m.mean,
        std: m.std,
        channel_order: ChannelOrder::Rgb,
        layout,
        value_scale: ValueScale::Unit,
    };
    p.validate()
        .map_err(|e| format!("model \"{}\": {e}", m.name))?;
    Ok(p)
}
