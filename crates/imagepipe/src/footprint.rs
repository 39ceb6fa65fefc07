//! What decoding and preprocessing one image costs in memory, estimated
//! from its header before any pixel buffer exists.
//!
//! The pipeline goes through phases, each holding a different set of
//! buffers; the peak is the largest phase:
//!
//! 1. decode: the decoder's working memory ([`Footprint::scratch`]: a copy
//!    of the input, JPEG coefficients, WebP planes, PNG row buffers...) and
//!    the pixel buffer it fills, either the 8-bit RGB result itself (rows
//!    converted as they are decoded) or a buffer at the native sample
//!    format (16-bit, alpha, grey, float);
//! 2. convert: the native buffer and the RGB result;
//! 3. orient: two RGB buffers when the EXIF orientation turns the image by
//!    90 degrees (flips and half turns are done in place);
//! 4. preprocess: the RGB image, the resize's weights and intermediate
//!    rows (only the crop's), the crop, and the float tensor.
//!
//! The estimate errs high: the tests in `tests/footprint.rs` decode real
//! files under a counting allocator and check that it is never below the
//! measured peak and not far above it.

use crate::geometry::resized_size;
use crate::peek::{GifFrame, JpegFrame, WebpKind};
use crate::{Interpolation, Preprocess};

/// Allowance for the small allocations no formula follows: Huffman and LZW
/// tables, palettes, metadata, the vectors of one row.
pub const SLACK: u64 = 256 * 1024;

/// How the decoder produces pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    /// Each row is converted to 8-bit RGB as it is decoded, straight into
    /// the result (PNG): no image-sized buffer at the native format.
    Streamed,
    /// The decoder fills a whole buffer of this many bytes per pixel; it is
    /// converted to 8-bit RGB afterwards unless it already is (3).
    Native(u8),
}

/// The facts from an image's header that decide its memory cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Width as stored (before the EXIF orientation).
    pub width: u32,
    /// Height as stored.
    pub height: u32,
    /// How the pixels are produced.
    pub pixels: Pixels,
    /// The decoder's working memory beside the pixel buffer, in bytes.
    pub scratch: u64,
    /// Whether the EXIF orientation swaps width and height (a second RGB
    /// buffer while rotating).
    pub transposed: bool,
}

impl Footprint {
    /// Bytes of the 8-bit RGB image.
    pub fn rgb_bytes(&self) -> u64 {
        pixels(self.width, self.height) * 3
    }

    /// Peak bytes of decoding this image and preprocessing it with `p`
    /// (see the module documentation for the phases).
    pub fn peak_bytes(&self, p: &Preprocess) -> u64 {
        let (w, h) = (self.width, self.height);
        let rgb = self.rgb_bytes();
        let (decode, convert) = match self.pixels {
            Pixels::Streamed => (self.scratch.saturating_add(rgb), 0),
            Pixels::Native(bpp) => {
                let native = pixels(w, h).saturating_mul(u64::from(bpp));
                let convert = if bpp == 3 {
                    0
                } else {
                    native.saturating_add(rgb)
                };
                (self.scratch.saturating_add(native), convert)
            }
        };
        let orient = if self.transposed {
            rgb.saturating_mul(2)
        } else {
            0
        };
        let (ow, oh) = if self.transposed { (h, w) } else { (w, h) };
        let preprocess = rgb.saturating_add(resize_bytes(ow, oh, p));
        decode
            .max(convert)
            .max(orient)
            .max(preprocess)
            .saturating_add(SLACK)
    }
}

/// `w * h` as `u64`.
fn pixels(w: u32, h: u32) -> u64 {
    u64::from(w) * u64::from(h)
}

/// Bytes of one image's float tensor (`3 * s * s` values of 4 bytes).
pub fn tensor_bytes(p: &Preprocess) -> u64 {
    let s = u64::from(p.input_size);
    3 * s * s * 4
}

/// Bytes the resize and normalisation of a `w` x `h` RGB image hold at
/// once, beside the image: filter weights of both axes, the horizontal
/// pass's rows (those the crop reads), the crop and the tensor.
pub fn resize_bytes(w: u32, h: u32, p: &Preprocess) -> u64 {
    let crop = u64::from(p.input_size);
    let (out_w, out_h) = resized_size(w.max(1), h.max(1), p.resize_shorter);
    let support = match p.interpolation {
        Interpolation::Bilinear => 1.0,
        Interpolation::Bicubic => 2.0,
    };
    // Per axis: the filter's support in input pixels and its weights.
    let axis = |input: u32, output: u64| -> (f64, u64) {
        let scale = f64::from(input) / output.max(1) as f64;
        let radius = support * scale.max(1.0);
        let ksize = radius.ceil() as u64 * 2 + 1;
        // i32 weights and a (usize, usize) bound per output pixel, f64 scratch.
        (scale, crop * (ksize * 4 + 16) + ksize * 8)
    };
    let (_, weights_x) = axis(w, out_w);
    let (scale_y, weights_y) = axis(h, out_h);
    // Input rows under the crop's output rows, plus the filter's reach.
    let radius_y = support * scale_y.max(1.0);
    let rows = ((crop as f64 * scale_y + 2.0 * radius_y).ceil() as u64 + 2).min(u64::from(h));
    let temp = rows * crop * 3;
    weights_x + weights_y + temp + crop * crop * 3 + tensor_bytes(p)
}

/// Working memory of the PNG row decoder: a few raw rows of inflated,
/// not yet unfiltered data (`raw_row` bytes each, with its filter byte),
/// the previous row, the output row and the inflater's window and tables.
pub fn png_scratch(raw_row: u64) -> u64 {
    raw_row.saturating_mul(8) + 512 * 1024
}

/// Working memory of the JPEG decoder: its copy of the input, then either
/// one row of MCUs (a baseline, interleaved file) or every coefficient of
/// every component (progressive or non-interleaved). Unknown frames are
/// assumed progressive with four full-resolution components.
pub fn jpeg_scratch(frame: Option<JpegFrame>, w: u32, h: u32, input: u64) -> u64 {
    let f = frame.unwrap_or(JpegFrame {
        progressive: true,
        components: 4,
        sampling: [(1, 1); 4],
        first_scan_components: 4,
    });
    let comps = &f.sampling[..usize::from(f.components.clamp(1, 4))];
    let hmax = u64::from(comps.iter().map(|s| s.0).max().unwrap_or(1));
    let vmax = u64::from(comps.iter().map(|s| s.1).max().unwrap_or(1));
    let mcu_x = u64::from(w).div_ceil(8 * hmax);
    let mcu_y = u64::from(h).div_ceil(8 * vmax);
    // i16 coefficients: 64 per block, h * v blocks per component and MCU.
    let per_mcu: u64 = comps
        .iter()
        .map(|&(hs, vs)| 128 * u64::from(hs) * u64::from(vs))
        .sum();
    let coefficients = if f.progressive || f.first_scan_components < f.components {
        per_mcu * mcu_x * mcu_y
    } else {
        // A row of MCUs, its upsampling rows and the colour conversion's.
        4 * per_mcu * mcu_x
    };
    input.saturating_add(coefficients)
}

/// Working memory of the WebP decoder beside its output: the lossy YUV
/// planes (1.5 bytes a pixel, padded to macroblocks), the lossless ARGB
/// frame (4), an alpha plane (1), and for an animation a canvas (4) and a
/// frame (4). Unknown kinds are assumed animated.
pub fn webp_scratch(kind: Option<WebpKind>, w: u32, h: u32) -> u64 {
    let px = pixels(w, h);
    let planes = pixels(w.div_ceil(16) * 16, h.div_ceil(16) * 16) * 3 / 2;
    match kind {
        Some(WebpKind::Lossy) => planes,
        Some(WebpKind::Lossless) => px * 4,
        Some(WebpKind::Extended {
            animated: false, ..
        }) => (px * 4).max(planes + px),
        Some(WebpKind::Extended { animated: true, .. }) | None => {
            px * 8 + (px * 4).max(planes + px)
        }
    }
}

/// Working memory of the GIF decoder: nothing when the first frame covers
/// whole rows of the logical screen (it is decoded in place), else a
/// buffer for the frame. An unknown frame is assumed as large as the screen.
pub fn gif_scratch(frame: Option<GifFrame>, w: u32, h: u32) -> u64 {
    match frame {
        Some(f)
            if f.left == 0
                && u32::from(f.width) == w
                && u32::from(f.top) + u32::from(f.height) <= h =>
        {
            0
        }
        Some(f) => pixels(u32::from(f.width), u32::from(f.height)) * 4,
        None => pixels(w, h) * 4,
    }
}

/// Working memory of the TIFF decoder: the whole image at its stored sample
/// format (`bits` per pixel), copied into the output afterwards, and the
/// strips or tiles being decompressed (JPEG or WebP ones are decoded whole;
/// counted as large as the image again, which errs high for the usual small
/// strips).
pub fn tiff_scratch(w: u32, h: u32, bits: u16) -> u64 {
    (u64::from(w) * u64::from(bits))
        .div_ceil(8)
        .saturating_mul(u64::from(h))
        .saturating_mul(2)
}

/// Working memory of the BMP decoder: a row or two.
pub fn bmp_scratch(w: u32) -> u64 {
    u64::from(w) * 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChannelOrder, Layout, ValueScale};

    /// The ImageNet transform (resize 256, crop 224).
    fn imagenet() -> Preprocess {
        Preprocess {
            input_size: 224,
            resize_shorter: 256,
            interpolation: Interpolation::Bilinear,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            channel_order: ChannelOrder::Rgb,
            layout: Layout::Nchw,
            value_scale: ValueScale::Unit,
        }
    }

    /// The 8192 x 8192 16-bit RGBA PNG: streamed, it costs the RGB image
    /// and little more; through a native buffer it would cost 8 + 3 bytes a
    /// pixel.
    #[test]
    fn sixteen_bit_png_streamed_vs_native() {
        let p = imagenet();
        let streamed = Footprint {
            width: 8192,
            height: 8192,
            pixels: Pixels::Streamed,
            scratch: png_scratch(8192 * 8 + 1),
            transposed: false,
        };
        let rgb = 8192 * 8192 * 3;
        let peak = streamed.peak_bytes(&p);
        assert!(peak > rgb && peak < rgb + 16 * 1024 * 1024, "{peak}");
        let native = Footprint {
            pixels: Pixels::Native(8),
            scratch: 0,
            ..streamed
        };
        assert!(native.peak_bytes(&p) >= 8192 * 8192 * 11);
    }

    /// Already-RGB buffers cost no conversion; a 90-degree turn costs a
    /// second RGB image and swaps the axes the resize sees.
    #[test]
    fn conversion_and_orientation_phases() {
        let p = imagenet();
        let f = Footprint {
            width: 4000,
            height: 3000,
            pixels: Pixels::Native(3),
            scratch: 0,
            transposed: false,
        };
        let rgb = 4000 * 3000 * 3;
        let plain = f.peak_bytes(&p);
        assert_eq!(plain, rgb + resize_bytes(4000, 3000, &p) + SLACK);
        let gray = Footprint {
            pixels: Pixels::Native(1),
            ..f
        };
        assert_eq!(gray.peak_bytes(&p), 4000 * 3000 * 4 + SLACK);
        let turned = Footprint {
            transposed: true,
            ..f
        };
        assert_eq!(turned.peak_bytes(&p), 2 * rgb + SLACK);
    }

    /// The resize holds only the crop's rows, its weights, the crop and the
    /// tensor; the tensor is 3 * s * s floats.
    #[test]
    fn resize_is_bounded_by_the_crop() {
        let p = imagenet();
        assert_eq!(tensor_bytes(&p), 3 * 224 * 224 * 4);
        let r = resize_bytes(8192, 8192, &p);
        // 8192 -> 256 reads about 224 * 32 rows of 224 pixels.
        assert!(r > 224 * 32 * 224 * 3 && r < 8 << 20, "{r}");
        // A 1 x 16384 image reads at most its 16384 rows.
        let tall = resize_bytes(1, 16384, &p);
        assert!(tall <= 16384 * 224 * 3 + (2 << 20), "{tall}");
    }

    /// JPEG coefficients: a progressive 4:2:0 file keeps 1.5 blocks of
    /// 128 bytes per 64 pixels; a baseline file one row of MCUs.
    #[test]
    fn jpeg_coefficients() {
        let f = JpegFrame {
            progressive: true,
            components: 3,
            sampling: [(2, 2), (1, 1), (1, 1), (1, 1)],
            first_scan_components: 3,
        };
        assert_eq!(jpeg_scratch(Some(f), 1600, 1600, 0), 1600 * 1600 * 3);
        let baseline = JpegFrame {
            progressive: false,
            ..f
        };
        assert_eq!(
            jpeg_scratch(Some(baseline), 1600, 1600, 7),
            4 * 768 * 100 + 7
        );
        // Unknown: four full components, 8 bytes a pixel.
        assert_eq!(jpeg_scratch(None, 800, 800, 0), 800 * 800 * 8);
    }
}
