//! Header facts the memory estimate needs and the decoders do not expose:
//! how a JPEG's coefficients are laid out, which kind of WebP a file is,
//! and where a GIF's first frame lies. Each reader walks only the container
//! structure and returns `None` on anything it does not understand; the
//! estimate then assumes the worst case.

/// A JPEG frame header (SOF) and its first scan (SOS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegFrame {
    /// Progressive (SOF2, SOF6, SOF10, SOF14): every coefficient is kept.
    pub progressive: bool,
    /// Components of the frame (1 to 4).
    pub components: u8,
    /// Horizontal and vertical sampling factors of each component.
    pub sampling: [(u8, u8); 4],
    /// Components of the first scan: fewer than the frame's means a
    /// non-interleaved baseline file, whose coefficients are all kept too.
    pub first_scan_components: u8,
}

/// Which decoder a WebP file takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebpKind {
    /// Simple lossy (`VP8 `).
    Lossy,
    /// Simple lossless (`VP8L`).
    Lossless,
    /// Extended (`VP8X`), with its alpha and animation flags.
    Extended {
        /// The file has an alpha channel.
        alpha: bool,
        /// The file is animated (the first frame is composed on a canvas).
        animated: bool,
    },
}

/// Size and position of a GIF's first frame on its logical screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GifFrame {
    /// Left edge.
    pub left: u16,
    /// Top edge.
    pub top: u16,
    /// Width.
    pub width: u16,
    /// Height.
    pub height: u16,
}

/// Reads the SOF and first SOS headers of a JPEG.
pub fn jpeg_frame(b: &[u8]) -> Option<JpegFrame> {
    let mut frame: Option<JpegFrame> = None;
    let mut i = 2; // past SOI
    loop {
        // A marker: 0xff, fill bytes, then the code.
        if *b.get(i)? != 0xff {
            return None;
        }
        while *b.get(i)? == 0xff {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        if matches!(marker, 0x01 | 0xd0..=0xd8) {
            continue; // no length
        }
        if marker == 0xd9 {
            return None; // EOI before a scan
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        let body = b.get(i + 2..i + len)?;
        match marker {
            // SOF0-3, 5-7, 9-11, 13-15 (0xc4 DHT, 0xc8 JPG, 0xcc DAC are not frames).
            0xc0..=0xcf if !matches!(marker, 0xc4 | 0xc8 | 0xcc) => {
                let n = *body.get(5)?;
                if !(1..=4).contains(&n) {
                    return None;
                }
                let mut sampling = [(1, 1); 4];
                for (c, s) in sampling.iter_mut().enumerate().take(usize::from(n)) {
                    let hv = *body.get(6 + 3 * c + 1)?;
                    *s = ((hv >> 4).max(1), (hv & 0x0f).max(1));
                }
                frame = Some(JpegFrame {
                    progressive: matches!(marker, 0xc2 | 0xc6 | 0xca | 0xce),
                    components: n,
                    sampling,
                    first_scan_components: n,
                });
            }
            0xda => {
                let mut f = frame?;
                f.first_scan_components = *body.first()?;
                return Some(f);
            }
            _ => {}
        }
        i += len;
    }
}

/// Reads the kind of a WebP from its first chunk.
pub fn webp_kind(b: &[u8]) -> Option<WebpKind> {
    match b.get(12..16)? {
        b"VP8 " => Some(WebpKind::Lossy),
        b"VP8L" => Some(WebpKind::Lossless),
        b"VP8X" => {
            let flags = *b.get(20)?;
            Some(WebpKind::Extended {
                alpha: flags & 0x10 != 0,
                animated: flags & 0x02 != 0,
            })
        }
        _ => None,
    }
}

/// Finds the image descriptor of a GIF's first frame.
pub fn gif_frame(b: &[u8]) -> Option<GifFrame> {
    let flags = *b.get(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 0x07) + 1); // global colour table
    }
    loop {
        match *b.get(i)? {
            0x2c => {
                let d = b.get(i + 1..i + 9)?;
                let le = |k: usize| u16::from_le_bytes([d[k], d[k + 1]]);
                return Some(GifFrame {
                    left: le(0),
                    top: le(2),
                    width: le(4),
                    height: le(6),
                });
            }
            0x21 => {
                // Extension: label, then sub-blocks up to a zero length.
                i += 2;
                loop {
                    let n = usize::from(*b.get(i)?);
                    i += 1 + n;
                    if n == 0 {
                        break;
                    }
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A baseline JPEG header with 4:2:0 sampling, then a progressive one
    /// and a non-interleaved first scan.
    #[test]
    fn jpeg_frames() {
        let sof = |code: u8| {
            vec![
                0xff, code, 0x00, 0x11, 8, 0, 16, 0, 16, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
            ]
        };
        let sos = |n: u8| {
            let mut s = vec![0xff, 0xda, 0x00, 6 + 2 * n, n];
            for c in 0..n {
                s.extend([c + 1, 0]);
            }
            s.extend([0, 63, 0]);
            s
        };
        let file = |code: u8, n: u8| {
            let mut f = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 1, 2];
            f.extend(sof(code));
            f.extend([0xff, 0xc4, 0x00, 0x03, 0]); // a DHT between
            f.extend(sos(n));
            f
        };
        let f = jpeg_frame(&file(0xc0, 3)).unwrap();
        assert_eq!(
            f,
            JpegFrame {
                progressive: false,
                components: 3,
                sampling: [(2, 2), (1, 1), (1, 1), (1, 1)],
                first_scan_components: 3,
            }
        );
        assert!(jpeg_frame(&file(0xc2, 3)).unwrap().progressive);
        assert_eq!(jpeg_frame(&file(0xc0, 1)).unwrap().first_scan_components, 1);
        // Cut anywhere, it is unknown rather than wrong.
        let whole = file(0xc0, 3);
        for cut in 0..whole.len() - 1 {
            assert_eq!(jpeg_frame(&whole[..cut]), None, "cut {cut}");
        }
    }

    /// WebP kinds from the first chunk's tag and the VP8X flags.
    #[test]
    fn webp_kinds() {
        let file = |tag: &[u8; 4], flags: u8| {
            let mut f = b"RIFF\0\0\0\0WEBP".to_vec();
            f.extend(tag);
            f.extend([0, 0, 0, 0, flags]);
            f
        };
        assert_eq!(webp_kind(&file(b"VP8 ", 0)), Some(WebpKind::Lossy));
        assert_eq!(webp_kind(&file(b"VP8L", 0)), Some(WebpKind::Lossless));
        assert_eq!(
            webp_kind(&file(b"VP8X", 0x12)),
            Some(WebpKind::Extended {
                alpha: true,
                animated: true
            })
        );
        assert_eq!(webp_kind(&file(b"ALPH", 0)), None);
    }

    /// The first frame is found past the colour table and extensions.
    #[test]
    fn gif_first_frame() {
        let mut f = b"GIF89a\x10\x00\x10\x00\x81\x00\x00".to_vec();
        f.extend([0u8; 12]); // 4-entry global colour table
        f.extend([0x21, 0xf9, 4, 0, 0, 0, 0, 0]); // graphic control extension
        f.extend([0x2c, 1, 0, 2, 0, 3, 0, 4, 0, 0]);
        assert_eq!(
            gif_frame(&f),
            Some(GifFrame {
                left: 1,
                top: 2,
                width: 3,
                height: 4
            })
        );
        assert_eq!(gif_frame(&f[..30]), None);
    }
}
