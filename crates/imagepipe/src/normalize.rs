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
    // Each tensor channel's value of every byte, computed once: the same
    // f32 operations per value, so a lookup gives the same bits.
    let table: [[f32; 256]; 3] = std::array::from_fn(|c| {
        std::array::from_fn(|v| (f32::from(v as u8) / div - p.mean[c]) / p.std[c])
    });
    let value = |px: &[u8], c: usize| table[c][usize::from(px[order[c]])];
    let raw = img.as_raw();
    match p.layout {
        Layout::Nchw => {
            let mut data = vec![0f32; 3 * h * w];
            for (c, plane) in data.chunks_exact_mut(h * w).enumerate() {
                let (lut, src) = (&table[c], order[c]);
                for (d, px) in plane.iter_mut().zip(raw.chunks_exact(3)) {
                    *d = lut[usize::from(px[src])];
                }
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
