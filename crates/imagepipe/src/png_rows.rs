//! PNG straight to 8-bit RGB, row by row.
//!
//! The `image` crate decodes a PNG into a buffer at the file's own sample
//! format (8 bytes a pixel for 16-bit RGBA) before `convert("RGB")` makes a
//! second, 3-byte one. Here the `png` crate's transformations do the work
//! per row: `EXPAND` (palette to RGB, low bit depths to 8 bits, `tRNS` to
//! an alpha channel, exactly as the `image` crate asks for) and `STRIP_16`
//! (keep the high byte of 16-bit samples, which is what the conversion did
//! anyway); each row is then turned into RGB (grey replicated, alpha
//! dropped) directly in the result. Interlaced files are placed pass by
//! pass with the `png` crate's Adam7 expansion.

use std::io::Cursor;

use image::metadata::Orientation;
use image::RgbImage;
use png::{ColorType, Decoder, InterlaceInfo, Reader, Transformations};

use crate::footprint::{png_scratch, Footprint, Pixels};
use crate::{Error, Limits};

/// A PNG whose header has been read, ready to decode.
pub(crate) struct PngRows<'a> {
    /// The reader, positioned at the first row.
    reader: Reader<Cursor<&'a [u8]>>,
    /// Image width.
    width: u32,
    /// Image height.
    height: u32,
}

/// Reads the header of PNG `bytes` (up to the image data) within `limits`:
/// the rows decoder, its footprint and the EXIF orientation.
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(PngRows<'a>, Footprint, Orientation), Error> {
    let max_bytes = usize::try_from(limits.max_alloc).unwrap_or(usize::MAX);
    let mut decoder =
        Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: max_bytes });
    // Text and ICC chunks play no part in the pixels; not inflating them
    // spares memory (zTXt and iCCP are compressed).
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let info = decoder.read_header_info().map_err(from_png)?;
    let (width, height) = (info.width, info.height);
    limits
        .to_image_limits()
        .check_dimensions(width, height)
        .map_err(Error::from_image)?;
    let raw_row = info.raw_row_length() as u64;
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let reader = decoder.read_info().map_err(from_png)?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_ref()
        .and_then(|chunk| Orientation::from_exif_chunk(chunk))
        .unwrap_or(Orientation::NoTransforms);
    let footprint = Footprint {
        width,
        height,
        pixels: Pixels::Streamed,
        scratch: png_scratch(raw_row),
        transposed: crate::decode::transposes(orientation),
    };
    let rows = PngRows {
        reader,
        width,
        height,
    };
    Ok((rows, footprint, orientation))
}

impl PngRows<'_> {
    /// Bytes of the RGB result (checked against the limits before decoding).
    pub(crate) fn rgb_bytes(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * 3
    }

    /// Decodes every row into an 8-bit RGB image.
    pub(crate) fn decode(mut self) -> Result<RgbImage, Error> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (color, depth) = self.reader.output_color_type();
        if depth != png::BitDepth::Eight {
            return Err(Error::Corrupt(format!(
                "png rows decode to {} bits, not 8",
                depth as u8
            )));
        }
        let channels = match color {
            ColorType::Grayscale => 1,
            ColorType::GrayscaleAlpha => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
            ColorType::Indexed => {
                return Err(Error::Corrupt(String::from("png palette was not expanded")))
            }
        };
        let stride = w * 3;
        let mut rgb = vec![0u8; stride * h];
        // One pass row in RGB, for interlaced files.
        let mut pass_row: Vec<u8> = Vec::new();
        let mut y = 0;
        while let Some(row) = self.reader.next_interlaced_row().map_err(from_png)? {
            let data = row.data();
            match row.interlace() {
                InterlaceInfo::Null(_) => {
                    let out = rgb
                        .get_mut(y * stride..(y + 1) * stride)
                        .ok_or_else(|| Error::Corrupt(String::from("png has too many rows")))?;
                    to_rgb(data, channels, out);
                    y += 1;
                }
                InterlaceInfo::Adam7(pass) => {
                    let samples = data.len() / channels;
                    pass_row.resize(samples * 3, 0);
                    to_rgb(data, channels, &mut pass_row);
                    png::expand_interlaced_row(&mut rgb, stride, &pass_row, pass, 24);
                }
            }
        }
        RgbImage::from_raw(self.width, self.height, rgb)
            .ok_or_else(|| Error::Corrupt(String::from("png buffer size mismatch")))
    }
}

/// Converts one row of 8-bit grey, grey+alpha, RGB or RGBA samples to RGB:
/// grey replicated, alpha dropped (PIL's `convert("RGB")`).
fn to_rgb(row: &[u8], channels: usize, out: &mut [u8]) {
    match channels {
        1 => {
            for (px, &v) in out.chunks_exact_mut(3).zip(row) {
                px.fill(v);
            }
        }
        2 => {
            for (px, ga) in out.chunks_exact_mut(3).zip(row.chunks_exact(2)) {
                px.fill(ga[0]);
            }
        }
        3 => out.copy_from_slice(&row[..out.len()]),
        _ => {
            for (px, rgba) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
                px.copy_from_slice(&rgba[..3]);
            }
        }
    }
}

/// A `png` error as the `image` crate reports it, so messages stay the same.
fn from_png(err: png::DecodingError) -> Error {
    use image::error::{
        DecodingError, ImageFormatHint, LimitError, LimitErrorKind, ParameterError,
        ParameterErrorKind,
    };
    use image::{ImageError, ImageFormat};
    let err = match err {
        png::DecodingError::IoError(e) => ImageError::IoError(e),
        e @ png::DecodingError::Format(_) => ImageError::Decoding(DecodingError::new(
            ImageFormatHint::Exact(ImageFormat::Png),
            e,
        )),
        e @ png::DecodingError::Parameter(_) => ImageError::Parameter(ParameterError::from_kind(
            ParameterErrorKind::Generic(e.to_string()),
        )),
        png::DecodingError::LimitsExceeded => {
            ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory))
        }
    };
    Error::from_image(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, to_rgb8};

    /// Grey is replicated, alpha dropped, RGB copied.
    #[test]
    fn rows_to_rgb() {
        let mut out = [0u8; 6];
        to_rgb(&[7, 9], 1, &mut out);
        assert_eq!(out, [7, 7, 7, 9, 9, 9]);
        to_rgb(&[7, 0, 9, 255], 2, &mut out);
        assert_eq!(out, [7, 7, 7, 9, 9, 9]);
        to_rgb(&[1, 2, 3, 4, 5, 6], 3, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
        to_rgb(&[1, 2, 3, 0, 4, 5, 6, 0], 4, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
    }

    /// CRC-32 of a PNG chunk (bitwise, no table: tests only).
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    fn zlib_stored(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            let len = block.len() as u16;
            out.push(u8::from(i + 1 == blocks.len()));
            out.extend(len.to_le_bytes());
            out.extend((!len).to_le_bytes());
            out.extend(*block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &x in data {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        out.extend(((b << 16) | a).to_be_bytes());
        out
    }

    /// Adam7 passes: first column and row, column and row steps.
    const PASSES: [(usize, usize, usize, usize); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];

    /// An extra chunk before IDAT: its tag and body.
    type Chunk = (&'static [u8; 4], Vec<u8>);

    /// The layout of a test PNG's pixels.
    struct Spec {
        /// IHDR colour type.
        color: u8,
        /// IHDR bit depth (8 or 16).
        depth: u8,
        /// Bytes a pixel, as stored.
        bpp: usize,
        /// Chunks between IHDR and IDAT.
        extra: Vec<Chunk>,
    }

    /// A `w` x `h` PNG of `pixels` (laid out as `spec` says, in PNG byte
    /// order), optionally Adam7-interlaced.
    fn png_file(w: usize, h: usize, spec: &Spec, pixels: &[u8], interlaced: bool) -> Vec<u8> {
        let bpp = spec.bpp;
        let mut raw = Vec::new();
        let passes: &[(usize, usize, usize, usize)] =
            if interlaced { &PASSES } else { &[(0, 0, 1, 1)] };
        for &(x0, y0, dx, dy) in passes {
            if x0 >= w || y0 >= h {
                continue; // an empty pass has no rows
            }
            for y in (y0..h).step_by(dy) {
                raw.push(0); // filter: none
                for x in (x0..w).step_by(dx) {
                    raw.extend(&pixels[(y * w + x) * bpp..(y * w + x + 1) * bpp]);
                }
            }
        }
        let chunk = |out: &mut Vec<u8>, tag: &[u8; 4], body: &[u8]| {
            out.extend((body.len() as u32).to_be_bytes());
            let mut tagged = tag.to_vec();
            tagged.extend(body);
            out.extend(&tagged);
            out.extend(crc32(&tagged).to_be_bytes());
        };
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = (w as u32).to_be_bytes().to_vec();
        ihdr.extend((h as u32).to_be_bytes());
        ihdr.extend([spec.depth, spec.color, 0, 0, u8::from(interlaced)]);
        chunk(&mut out, b"IHDR", &ihdr);
        for (tag, body) in &spec.extra {
            chunk(&mut out, tag, body);
        }
        chunk(&mut out, b"IDAT", &zlib_stored(&raw));
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// Deterministic noise.
    fn noise(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 7) as u8
            })
            .collect()
    }

    /// The conversion before row decoding: the `image` crate's PNG decoder
    /// at the native format, then `to_rgb8`.
    fn reference(bytes: &[u8]) -> RgbImage {
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png).unwrap();
        to_rgb8(img)
    }

    /// Every colour type at 8 and 16 bits, palettes with and without
    /// transparency, grey with a transparent colour, plain and interlaced,
    /// at sizes that leave Adam7 passes empty or ragged: the row decoder
    /// gives exactly what the 16-bit decode and conversion gave.
    #[test]
    fn equals_the_native_decode_and_conversion() {
        let palette: Vec<u8> = noise(256 * 3, 9);
        let spec = |color, depth, bpp, extra: Vec<Chunk>| Spec {
            color,
            depth,
            bpp,
            extra,
        };
        let cases = [
            spec(0, 8, 1, vec![]),
            spec(0, 16, 2, vec![]),
            spec(0, 16, 2, vec![(b"tRNS", vec![0x12, 0x34])]),
            spec(4, 8, 2, vec![]),
            spec(4, 16, 4, vec![]),
            spec(2, 8, 3, vec![]),
            spec(2, 16, 6, vec![]),
            spec(2, 16, 6, vec![(b"tRNS", vec![0, 1, 0, 2, 0, 3])]),
            spec(6, 8, 4, vec![]),
            spec(6, 16, 8, vec![]),
            spec(3, 8, 1, vec![(b"PLTE", palette.clone())]),
            spec(
                3,
                8,
                1,
                vec![(b"PLTE", palette.clone()), (b"tRNS", noise(100, 3))],
            ),
        ];
        for (w, h) in [(1, 1), (3, 2), (13, 11), (64, 9)] {
            for (n, s) in cases.iter().enumerate() {
                let pixels = noise(w * h * s.bpp, (n * 100 + w) as u32);
                for interlaced in [false, true] {
                    let bytes = png_file(w, h, s, &pixels, interlaced);
                    let ours = decode(&bytes, &Limits::default()).unwrap();
                    assert_eq!(
                        ours,
                        reference(&bytes),
                        "type {} depth {} {w}x{h} interlaced {interlaced}",
                        s.color,
                        s.depth
                    );
                }
            }
        }
    }

    /// Bit depths below 8 (grey and palette) expand as before.
    #[test]
    fn low_bit_depths_equal_the_native_decode() {
        let palette = noise(16 * 3, 5);
        for depth in [png::BitDepth::One, png::BitDepth::Two, png::BitDepth::Four] {
            for color in [png::ColorType::Grayscale, png::ColorType::Indexed] {
                let (w, h) = (19, 7);
                let row_bytes = (w * depth as usize).div_ceil(8);
                let mut bytes = Vec::new();
                let mut enc = png::Encoder::new(&mut bytes, w as u32, h as u32);
                enc.set_color(color);
                enc.set_depth(depth);
                if color == png::ColorType::Indexed {
                    enc.set_palette(palette.clone());
                }
                let mut writer = enc.write_header().unwrap();
                writer
                    .write_image_data(&noise(row_bytes * h, depth as u32))
                    .unwrap();
                drop(writer);
                let ours = decode(&bytes, &Limits::default()).unwrap();
                assert_eq!(ours, reference(&bytes), "{color:?} {depth:?}");
            }
        }
    }

    /// 16-bit samples keep their high byte through the row decoder too.
    #[test]
    fn sixteen_bit_rows_keep_the_high_byte() {
        let pixel = [0x12, 0x34, 0xab, 0xcd, 0x00, 0xff, 0x80, 0x00];
        for interlaced in [false, true] {
            let spec = Spec {
                color: 6,
                depth: 16,
                bpp: 8,
                extra: vec![],
            };
            let bytes = png_file(2, 2, &spec, &pixel.repeat(4), interlaced);
            let img = decode(&bytes, &Limits::default()).unwrap();
            assert_eq!(img.as_raw(), &[0x12, 0xab, 0x00].repeat(4));
        }
    }

    /// An EXIF orientation in an eXIf chunk is applied, as before.
    #[test]
    fn exif_orientation_is_applied() {
        // Little-endian TIFF header, one IFD entry: Orientation (0x0112) = 6.
        let exif = vec![
            b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let pixels = noise(3 * 2 * 3, 77);
        let spec = Spec {
            color: 2,
            depth: 8,
            bpp: 3,
            extra: vec![(b"eXIf", exif)],
        };
        let bytes = png_file(3, 2, &spec, &pixels, false);
        let (_, footprint, orientation) = open(&bytes, &Limits::default()).unwrap();
        assert_eq!(orientation, Orientation::Rotate90);
        assert!(footprint.transposed);
        let ours = decode(&bytes, &Limits::default()).unwrap();
        assert_eq!(ours.dimensions(), (2, 3));
        let mut expect = image::DynamicImage::ImageRgb8(reference(&bytes));
        expect.apply_orientation(Orientation::Rotate90);
        assert_eq!(ours, expect.into_rgb8());
    }
}
