//! PIL-compatible antialiased resampling, computed only inside the crop.
//!
//! This is a transcription of Pillow's `Resample.c` for 8-bit images, the
//! code torchvision's `Resize` runs on PIL images:
//!
//! - per output pixel, a filter window centred at `(x + 0.5) * scale` whose
//!   support is widened by the downscale factor (the antialiasing), weights
//!   computed in `f64`, normalised to sum 1, then rounded to fixed point
//!   with 22 fractional bits;
//! - a horizontal pass first, rounded and clamped to `u8`, then a vertical
//!   pass over that intermediate, rounded and clamped again.
//!
//! Reproducing the fixed point and the intermediate rounding makes the
//! output bit-identical to Pillow's, not just close.
//!
//! Each output pixel depends only on its own filter window, so resizing
//! and then cropping equals computing just the crop's rows and columns of
//! the resized image. That is what [`resize_crop`] does: the full resized
//! image is never materialised, which bounds time and memory by the crop
//! even when a hostile 1 x 16384 image "resizes" to 256 x 4194304.

use image::RgbImage;

use crate::geometry::{crop_offset, resized_size};
use crate::Interpolation;

/// Fractional bits of the fixed-point weights (Pillow's `PRECISION_BITS`).
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Resizes the shorter side of `img` to `shorter` and returns the centred
/// `crop` x `crop` window, as torchvision's `Resize` + `CenterCrop` on PIL.
///
/// The caller guarantees a non-empty image and `shorter >= crop`.
pub fn resize_crop(
    img: &RgbImage,
    shorter: u32,
    crop: u32,
    interpolation: Interpolation,
) -> RgbImage {
    let (w, h) = img.dimensions();
    debug_assert!(w > 0 && h > 0 && shorter >= crop);
    let (out_w, out_h) = resized_size(w, h, shorter);
    let crop64 = u64::from(crop);
    let x0 = crop_offset(out_w, crop64);
    let y0 = crop_offset(out_h, crop64);
    let filter = Filter::new(interpolation);
    let horiz = Coeffs::new(w, out_w, x0, crop, filter);
    let vert = Coeffs::new(h, out_h, y0, crop, filter);

    // Input rows the crop's output rows read; only those get a horizontal pass.
    let row_first = vert.bounds.first().map_or(0, |b| b.0);
    let row_last = vert.bounds.last().map_or(0, |b| b.0 + b.1);
    let temp = horizontal(img, &horiz, row_first, row_last);
    vertical(&temp, crop as usize, &vert, row_first, crop)
}

/// A resampling filter: its kernel and support radius at scale 1.
#[derive(Clone, Copy)]
struct Filter {
    /// Kernel function.
    kernel: fn(f64) -> f64,
    /// Radius of the kernel's nonzero part.
    support: f64,
}

impl Filter {
    /// The filter Pillow uses for `interpolation`.
    fn new(interpolation: Interpolation) -> Self {
        match interpolation {
            Interpolation::Bilinear => Filter {
                kernel: bilinear,
                support: 1.0,
            },
            Interpolation::Bicubic => Filter {
                kernel: bicubic,
                support: 2.0,
            },
        }
    }
}

/// Triangle kernel (Pillow's `bilinear_filter`).
fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Keys cubic kernel with a = -0.5 (Pillow's `bicubic_filter`).
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Fixed-point filter weights for a window of output pixels along one axis.
struct Coeffs {
    /// Per output pixel: first input index and number of inputs read.
    bounds: Vec<(usize, usize)>,
    /// `ksize` weights per output pixel, the first `bounds[i].1` meaningful.
    weights: Vec<i32>,
    /// Stride of `weights`.
    ksize: usize,
}

impl Coeffs {
    /// Weights for output pixels `start..start + len` of an `in_size` ->
    /// `out_size` resize (Pillow's `precompute_coeffs` and
    /// `normalize_coeffs_8bpc`, restricted to a window).
    fn new(in_size: u32, out_size: u64, start: u64, len: u32, filter: Filter) -> Self {
        let scale = f64::from(in_size) / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = filter.support * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let ss = 1.0 / filterscale;
        let len = len as usize;
        let mut bounds = Vec::with_capacity(len);
        let mut weights = vec![0i32; len * ksize];
        let mut k = vec![0f64; ksize];
        for (i, row) in weights.chunks_exact_mut(ksize).enumerate() {
            let xx = start + i as u64;
            let center = (xx as f64 + 0.5) * scale;
            // `as` truncates toward zero, like C's (int) cast.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(i64::from(in_size));
            let n = (xmax - xmin).max(0) as usize;
            let mut ww = 0.0;
            for (x, kx) in k[..n].iter_mut().enumerate() {
                let w = (filter.kernel)(((x as i64 + xmin) as f64 - center + 0.5) * ss);
                *kx = w;
                ww += w;
            }
            for (kx, out) in k[..n].iter().zip(row.iter_mut()) {
                let kn = if ww != 0.0 { kx / ww } else { *kx };
                let fixed = kn * f64::from(1u32 << PRECISION_BITS);
                *out = if kn < 0.0 {
                    (-0.5 + fixed) as i32
                } else {
                    (0.5 + fixed) as i32
                };
            }
            bounds.push((xmin as usize, n));
        }
        Coeffs {
            bounds,
            weights,
            ksize,
        }
    }

    /// Weights and first input index of output pixel `i`.
    fn window(&self, i: usize) -> (usize, &[i32]) {
        let (first, n) = self.bounds[i];
        (first, &self.weights[i * self.ksize..i * self.ksize + n])
    }
}

/// Rounds a fixed-point accumulator to `u8` (Pillow's `clip8`).
///
/// Accumulators are `i32`, as Pillow's: a sum of at most 255 times the
/// weights' absolute sum (below 1.3 for both kernels) times 2^22, plus the
/// rounding half, stays below 2^31.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The rounding half every accumulator starts from.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Horizontal pass over input rows `row_first..row_last`: an interleaved
/// RGB buffer of `(row_last - row_first)` rows by `horiz.bounds.len()` columns.
fn horizontal(img: &RgbImage, horiz: &Coeffs, row_first: usize, row_last: usize) -> Vec<u8> {
    let in_w = img.width() as usize;
    let out_w = horiz.bounds.len();
    let src = img.as_raw();
    let mut temp = vec![0u8; (row_last - row_first) * out_w * 3];
    for (y, out_row) in (row_first..row_last).zip(temp.chunks_exact_mut(out_w * 3)) {
        let in_row = &src[y * in_w * 3..(y + 1) * in_w * 3];
        for (xx, out_px) in out_row.chunks_exact_mut(3).enumerate() {
            let (first, k) = horiz.window(xx);
            let taps = &in_row[first * 3..(first + k.len()) * 3];
            let (mut r, mut g, mut b) = (HALF, HALF, HALF);
            for (px, &kx) in taps.chunks_exact(3).zip(k) {
                r += i32::from(px[0]) * kx;
                g += i32::from(px[1]) * kx;
                b += i32::from(px[2]) * kx;
            }
            out_px[0] = clip8(r);
            out_px[1] = clip8(g);
            out_px[2] = clip8(b);
        }
    }
    temp
}

/// Vertical pass over the horizontal pass's output (`width` columns, rows
/// starting at input row `row_first`), producing the `width` x `out_h` crop:
/// each output row sums whole input rows, weight by weight, in one row of
/// accumulators (the same sums as Pillow's, in an order that vectorises).
fn vertical(temp: &[u8], width: usize, vert: &Coeffs, row_first: usize, out_h: u32) -> RgbImage {
    let stride = width * 3;
    let mut out = RgbImage::new(width as u32, out_h);
    let mut acc = vec![0i32; stride];
    for (yy, out_row) in out.chunks_exact_mut(stride).enumerate() {
        let (first, k) = vert.window(yy);
        let first = first - row_first;
        acc.fill(HALF);
        for (j, &ky) in k.iter().enumerate() {
            let row = &temp[(first + j) * stride..(first + j + 1) * stride];
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += i32::from(v) * ky;
            }
        }
        for (o, &a) in out_row.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resampling to the same size copies pixels exactly.
    #[test]
    fn same_size_is_identity() {
        let img = RgbImage::from_fn(9, 7, |x, y| {
            image::Rgb([x as u8 * 20, y as u8 * 30, (x * y) as u8])
        });
        for interp in [Interpolation::Bilinear, Interpolation::Bicubic] {
            let out = resize_crop(&img, 7, 7, interp);
            // 9x7 -> shorter 7 keeps 9x7; the 7x7 crop starts at column 1.
            let expect = image::imageops::crop_imm(&img, 1, 0, 7, 7).to_image();
            assert_eq!(out, expect);
        }
    }

    /// Normalised weights keep a flat image flat, up and down.
    #[test]
    fn constant_image_stays_constant() {
        let img = RgbImage::from_pixel(300, 170, image::Rgb([13, 200, 255]));
        for interp in [Interpolation::Bilinear, Interpolation::Bicubic] {
            let out = resize_crop(&img, 40, 32, interp);
            assert_eq!(out.dimensions(), (32, 32));
            assert!(out.pixels().all(|p| p.0 == [13, 200, 255]));
        }
    }

    /// Only the crop is computed, even for a 1 x 16384 image.
    #[test]
    fn extreme_aspect_ratio_is_cheap() {
        // 1 x 16384 resizes to 256 x 4194304 virtually; only 224 x 224 is computed.
        let img = RgbImage::from_fn(1, 16384, |_, y| image::Rgb([(y % 256) as u8, 0, 255]));
        let start = std::time::Instant::now();
        let out = resize_crop(&img, 256, 224, Interpolation::Bilinear);
        assert_eq!(out.dimensions(), (224, 224));
        assert!(start.elapsed().as_secs() < 5);
    }
}
