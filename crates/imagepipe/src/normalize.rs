//! Pixel values to a normalised float tensor (torchvision's `ToTensor` +
//! `Normalize`).

use image::RgbImage;
use ndarray::Array3;

use crate::{ChannelOrder, Layout, Preprocess};

/// Converts an 8-bit RGB image into a `[3, h, w]` (NCHW) or `[h, w, 3]`
/// (NHWC) tensor of `(v / scale - mean[c]) / std[c]`.
///
/// The arithmetic is `f32` in the same order as torchvision (divide, then
/// subtract, then divide), so a given pixel gives bit-identical values.
pub fn normalize(img: &RgbImage, p: &Preprocess) -> Array3<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let div = p.value_scale.divisor();
    // Source channel (0 = R) for each tensor channel.
    let order = match p.channel_order {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    let value = |px: &[u8], c: usize| (f32::from(px[order[c]]) / div - p.mean[c]) / p.std[c];
    let raw = img.as_raw();
    match p.layout {
        Layout::Nchw => {
            let mut data = Vec::with_capacity(3 * h * w);
            for c in 0..3 {
                data.extend(raw.chunks_exact(3).map(|px| value(px, c)));
            }
            Array3::from_shape_vec((3, h, w), data).expect("buffer length is 3 * h * w")
        }
        Layout::Nhwc => {
            let data = raw
                .chunks_exact(3)
                .flat_map(|px| [value(px, 0), value(px, 1), value(px, 2)])
                .collect();
            Array3::from_shape_vec((h, w, 3), data).expect("buffer length is h * w * 3")
        }
    }
}
