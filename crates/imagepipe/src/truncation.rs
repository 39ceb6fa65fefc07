//! Detection of truncated JPEG and WebP files.
//!
//! zune-jpeg and image-webp decode a truncated file "successfully", padding
//! the missing part with grey; the embedding of such an image is garbage
//! that nobody would notice. PIL (and so the Python reference) refuses
//! both: libjpeg reports a premature end of file, libwebp a short RIFF.
//! These checks walk only the container structure and never fail on
//! structure they do not understand: that is left to the decoder.
//! (PNG, GIF, BMP and TIFF decoders already fail on missing pixel data;
//! like PIL they accept a missing PNG `IEND` or GIF trailer.)

use image::ImageFormat;

use crate::Error;

/// Refuses a JPEG without its end-of-image marker or a WebP shorter than its
/// RIFF header says; other formats pass.
pub fn check_complete(bytes: &[u8], format: ImageFormat) -> Result<(), Error> {
    let complete = match format {
        ImageFormat::Jpeg => jpeg_complete(bytes),
        ImageFormat::WebP => webp_complete(bytes),
        _ => true,
    };
    if complete {
        Ok(())
    } else {
        Err(Error::Corrupt(format!(
            "{} data is truncated",
            format.extensions_str().first().copied().unwrap_or("image")
        )))
    }
}

/// Whether the marker structure of a JPEG reaches an EOI marker (or stops
/// making sense before the data runs out).
fn jpeg_complete(b: &[u8]) -> bool {
    let n = b.len();
    let mut i = 2; // past SOI
    while i < n {
        if b[i] != 0xff {
            return true; // not a marker where one belongs: the decoder decides
        }
        while i < n && b[i] == 0xff {
            i += 1; // fill bytes
        }
        let Some(&marker) = b.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xd9 => return true,            // EOI
            0x01 | 0xd0..=0xd8 => continue, // TEM, RSTn, SOI: no length
            _ => {}
        }
        let Some(len) = b
            .get(i..i + 2)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        if len < 2 {
            return true;
        }
        i += len;
        if i > n {
            return false;
        }
        if marker == 0xda {
            // SOS: skip entropy-coded data up to the next real marker.
            loop {
                let Some(off) = b[i..].iter().position(|&x| x == 0xff) else {
                    return false;
                };
                i += off;
                match b.get(i + 1) {
                    None => return false,
                    Some(0x00 | 0xd0..=0xd7) => i += 2, // stuffed byte or restart marker
                    Some(0xff) => i += 1,               // fill byte
                    Some(_) => break,                   // a marker: back to the outer loop
                }
            }
        }
    }
    false
}

/// Whether a WebP holds as many bytes as its RIFF header announces.
fn webp_complete(b: &[u8]) -> bool {
    match b.get(4..8) {
        Some(size) => {
            let size = u64::from(u32::from_le_bytes([size[0], size[1], size[2], size[3]]));
            8 + size <= b.len() as u64
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JPEG walk needs EOI and finds it past stuffed bytes and restarts.
    #[test]
    fn jpeg_markers() {
        let minimal = [
            0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff,
            0xff, 0xd9,
        ];
        assert!(jpeg_complete(&minimal));
        for cut in 2..minimal.len() {
            assert!(!jpeg_complete(&minimal[..cut]), "cut {cut}");
        }
        // Trailing bytes after EOI are fine; a segment running past the end is not.
        assert!(jpeg_complete(&[0xff, 0xd8, 0xff, 0xd9, 1, 2, 3]));
        assert!(!jpeg_complete(&[0xff, 0xd8, 0xff, 0xe1, 0x10, 0x00, 1, 2]));
    }

    /// A WebP shorter than its RIFF size is truncated.
    #[test]
    fn webp_riff_size() {
        let mut b = b"RIFF\x08\x00\x00\x00WEBPVP8 ".to_vec();
        assert!(webp_complete(&b[..16]));
        b[4] = 9;
        assert!(!webp_complete(&b));
        assert!(!webp_complete(b"RIFF"));
    }
}
