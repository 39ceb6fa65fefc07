//! Untrusted bytes to an 8-bit RGB image, the way PIL's
//! `Image.open` + `ImageOps.exif_transpose` + `convert("RGB")` sees them.
//!
//! Conversion to RGB follows `convert("RGB")`:
//!
//! - grayscale is replicated into the three channels;
//! - alpha is dropped, not composited (a transparent pixel keeps its
//!   colour, as in PIL);
//! - palette images (PNG, GIF) are expanded through the palette;
//! - 16-bit samples keep their high byte, as PIL does for 16-bit RGB PNGs.
//!   For 16-bit grayscale PIL clamps values above 255 to white, which turns
//!   most such images white; we keep the high byte there too, deliberately.
//! - float samples (TIFF) are clamped to 0..1 and scaled to 0..255.
//!
//! Everything that can go wrong with hostile input is an [`Error`]: limits
//! are given to the decoder before it reads the header, the pixel count and
//! buffer size are checked before the buffer is allocated, truncated JPEG
//! and WebP files are refused (their decoders would pad them), and a panic
//! inside a third-party decoder is caught and reported as corrupt data.
//!
//! Decoding is two steps, so that a caller can reserve memory in between:
//! [`open`] reads the header and says what decoding will cost
//! ([`Opened::footprint`]); [`Opened::decode`] allocates and decodes. PNG
//! files are decoded row by row straight into 8-bit RGB (see `png_rows`),
//! never through a 16-bit or alpha buffer; the other formats go through
//! the `image` crate's decoder at their native sample format.

use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Rgb, RgbImage};

use crate::footprint::{self, Footprint, Pixels};
use crate::png_rows::{self, PngRows};
use crate::truncation::check_complete;
use crate::{peek, Error, Limits};

/// Formats accepted by [`decode`]; anything else is refused from its magic bytes.
const ACCEPTED: [ImageFormat; 6] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Gif,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
];

/// An image whose header has been read and checked against the limits.
pub struct Opened<'a> {
    /// What decoding it costs.
    footprint: Footprint,
    /// The orientation to apply after decoding.
    orientation: Orientation,
    /// The decoder, positioned at the pixel data.
    source: Source<'a>,
}

/// The decoder an [`Opened`] image uses.
enum Source<'a> {
    /// PNG rows straight to RGB.
    Png(Box<PngRows<'a>>),
    /// Any other format, through the `image` crate.
    Other(Box<dyn ImageDecoder + 'a>),
}

/// Decodes JPEG, PNG, WebP, GIF (first frame), BMP or TIFF bytes into 8-bit
/// RGB, applying the EXIF orientation, within `limits`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<RgbImage, Error> {
    open(bytes, limits)?.decode()
}

/// Reads the header of `bytes` and checks it against `limits`, without
/// allocating the pixel buffer.
pub fn open<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Opened<'a>, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let format = detect_format(bytes)?;
    check_complete(bytes, format)?;
    // Decoders are third-party code parsing hostile input: a panic there
    // must not unwind into the caller (a Postgres backend or a rayon pool).
    guarded(|| open_as(bytes, format, limits))
}

impl Opened<'_> {
    /// What decoding and preprocessing this image costs (see [`Footprint`]).
    pub fn footprint(&self) -> &Footprint {
        &self.footprint
    }

    /// Decodes the pixels into 8-bit RGB and applies the orientation.
    pub fn decode(self) -> Result<RgbImage, Error> {
        let Opened {
            orientation,
            source,
            ..
        } = self;
        guarded(move || {
            let rgb = match source {
                Source::Png(rows) => rows.decode()?,
                Source::Other(decoder) => {
                    to_rgb8(DynamicImage::from_decoder(decoder).map_err(Error::from_image)?)
                }
            };
            if orientation == Orientation::NoTransforms {
                return Ok(rgb);
            }
            let mut img = DynamicImage::ImageRgb8(rgb);
            img.apply_orientation(orientation);
            Ok(img.into_rgb8())
        })
    }
}

/// Runs `f`, turning a panic into a corrupt-data error.
fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::Corrupt(String::from(
            "decoder failed on malformed data",
        )))
    })
}

/// Recognises the format from the leading magic bytes, refusing any but
/// JPEG, PNG, WebP, GIF, BMP and TIFF.
pub fn detect_format(bytes: &[u8]) -> Result<ImageFormat, Error> {
    match image::guess_format(bytes) {
        Ok(format) if ACCEPTED.contains(&format) => Ok(format),
        Ok(format) => Err(Error::UnsupportedFormat(format!(
            "{} images are not accepted",
            format.extensions_str().first().copied().unwrap_or("these")
        ))),
        Err(_) => Err(Error::UnsupportedFormat(String::from(
            "data is not a jpeg, png, webp, gif, bmp or tiff image",
        ))),
    }
}

/// Whether an orientation turns the image by 90 degrees (swapping its sides).
pub(crate) fn transposes(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Reads the header of `bytes` known to be `format`.
fn open_as<'a>(bytes: &'a [u8], format: ImageFormat, limits: &Limits) -> Result<Opened<'a>, Error> {
    if format == ImageFormat::Png {
        let (rows, footprint, orientation) = png_rows::open(bytes, limits)?;
        check_size(footprint.width, footprint.height, rows.rgb_bytes(), limits)?;
        return Ok(Opened {
            footprint,
            orientation,
            source: Source::Png(Box::new(rows)),
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.to_image_limits());
    let mut decoder = reader.into_decoder().map_err(Error::from_image)?;
    let (w, h) = decoder.dimensions();
    check_size(w, h, decoder.total_bytes(), limits)?;
    // A malformed EXIF block should not lose the picture: PIL ignores it too.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let input = bytes.len() as u64;
    let scratch = match format {
        ImageFormat::Jpeg => footprint::jpeg_scratch(peek::jpeg_frame(bytes), w, h, input),
        ImageFormat::WebP => footprint::webp_scratch(peek::webp_kind(bytes), w, h),
        ImageFormat::Gif => footprint::gif_scratch(peek::gif_frame(bytes), w, h),
        ImageFormat::Tiff => {
            footprint::tiff_scratch(w, h, decoder.original_color_type().bits_per_pixel())
        }
        _ => footprint::bmp_scratch(w),
    };
    let footprint = Footprint {
        width: w,
        height: h,
        pixels: Pixels::Native(decoder.color_type().bytes_per_pixel()),
        scratch,
        transposed: transposes(orientation),
    };
    Ok(Opened {
        footprint,
        orientation,
        source: Source::Other(Box::new(decoder)),
    })
}

/// Refuses an image whose header announces more pixels, or a pixel buffer
/// of more bytes, than `limits` allow, before the buffer is allocated.
fn check_size(w: u32, h: u32, bytes: u64, limits: &Limits) -> Result<(), Error> {
    if w == 0 || h == 0 {
        return Err(Error::Corrupt(format!("image has no pixels ({w}x{h})")));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(Error::TooLarge(format!(
            "{w}x{h} is {pixels} pixels, more than the limit of {}",
            limits.max_pixels
        )));
    }
    if bytes > limits.max_alloc {
        return Err(Error::TooLarge(format!(
            "decoding needs {bytes} bytes, more than the limit of {}",
            limits.max_alloc
        )));
    }
    Ok(())
}

/// Converts any decoded image to 8-bit RGB the way PIL's `convert("RGB")`
/// does (see the module documentation for 16-bit and float samples).
pub(crate) fn to_rgb8(img: DynamicImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let high = |v: u16| (v >> 8) as u8;
    match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        DynamicImage::ImageLuma16(g) => RgbImage::from_fn(w, h, |x, y| {
            let v = high(g.get_pixel(x, y).0[0]);
            Rgb([v, v, v])
        }),
        DynamicImage::ImageLumaA16(g) => RgbImage::from_fn(w, h, |x, y| {
            let v = high(g.get_pixel(x, y).0[0]);
            Rgb([v, v, v])
        }),
        DynamicImage::ImageRgb16(c) => RgbImage::from_fn(w, h, |x, y| {
            let [r, g, b] = c.get_pixel(x, y).0;
            Rgb([high(r), high(g), high(b)])
        }),
        DynamicImage::ImageRgba16(c) => RgbImage::from_fn(w, h, |x, y| {
            let [r, g, b, _] = c.get_pixel(x, y).0;
            Rgb([high(r), high(g), high(b)])
        }),
        // 8-bit gray (replicated), gray+alpha and RGBA (alpha dropped), and
        // float: the image crate's conversion is PIL's for these.
        other => other.into_rgb8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, LumaA, Rgba};

    /// 16-bit samples keep their high byte.
    #[test]
    fn sixteen_bit_keeps_high_byte() {
        let g: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(3, 1, |x, _| Luma([[0, 0x80ff, 0xffff][x as usize]]));
        let rgb = to_rgb8(DynamicImage::ImageLuma16(g));
        assert_eq!(rgb.as_raw(), &[0, 0, 0, 0x80, 0x80, 0x80, 0xff, 0xff, 0xff]);
        let c: ImageBuffer<Rgba<u16>, Vec<u16>> =
            ImageBuffer::from_pixel(1, 1, Rgba([0x1234, 0xabcd, 0x00ff, 0]));
        assert_eq!(
            to_rgb8(DynamicImage::ImageRgba16(c)).as_raw(),
            &[0x12, 0xab, 0x00]
        );
    }

    /// Alpha is dropped like PIL's convert("RGB"), not composited.
    #[test]
    fn alpha_is_dropped_not_composited() {
        let c: ImageBuffer<Rgba<u8>, Vec<u8>> =
            ImageBuffer::from_pixel(1, 1, Rgba([200, 100, 50, 0]));
        assert_eq!(
            to_rgb8(DynamicImage::ImageRgba8(c)).as_raw(),
            &[200, 100, 50]
        );
        let g: ImageBuffer<LumaA<u8>, Vec<u8>> = ImageBuffer::from_pixel(1, 1, LumaA([77, 10]));
        assert_eq!(
            to_rgb8(DynamicImage::ImageLumaA8(g)).as_raw(),
            &[77, 77, 77]
        );
    }
}
