//! Hostile and unsupported input: every case must be the right `Err`,
//! quickly, without panicking or allocating for a lying header.

mod common;

use std::time::{Duration, Instant};

use common::{fixture, png_claiming, small, Rng, IMAGES};
use imagepipe::{decode, preprocess_bytes, Error, Limits};

/// Upper bound on the time any single hostile input may take (debug build).
const QUICK: Duration = Duration::from_secs(2);

/// Decodes with default limits, asserting it finishes within [`QUICK`].
fn decode_quick(bytes: &[u8]) -> Result<imagepipe::RgbImage, Error> {
    let start = Instant::now();
    let result = decode(bytes, &Limits::default());
    assert!(start.elapsed() < QUICK, "took {:?}", start.elapsed());
    result
}

/// No bytes at all is `Empty`, not a format error.
#[test]
fn empty_input() {
    assert_eq!(decode_quick(&[]), Err(Error::Empty));
    assert_eq!(
        preprocess_bytes(&[], &small(), &Limits::default()),
        Err(Error::Empty)
    );
}

/// Random bytes without a known magic number are an unsupported format.
#[test]
fn random_bytes_are_unsupported() {
    for seed in 0..2000u64 {
        let mut rng = Rng::new(seed);
        let len = 1 + rng.below(4096);
        let mut bytes = rng.bytes(len);
        // Keep the random data from starting with a real magic number by chance.
        if imagepipe::detect_format(&bytes).is_ok() {
            bytes[0] = b'#';
        }
        match decode_quick(&bytes) {
            Err(Error::UnsupportedFormat(_)) => {}
            other => panic!(
                "seed {seed}: expected unsupported format, got {:?}",
                other.map(|i| i.dimensions())
            ),
        }
    }
}

/// Random bodies behind real magic numbers reach the decoders and fail cleanly.
#[test]
fn random_bytes_behind_a_magic_number_fail_cleanly() {
    let magics: [&[u8]; 8] = [
        b"\x89PNG\r\n\x1a\n",
        &[0xff, 0xd8, 0xff],
        b"GIF89a",
        b"GIF87a",
        b"BM",
        b"II*\0",
        b"MM\0*",
        b"RIFF\x10\x00\x00\x00WEBPVP8 ",
    ];
    for seed in 0..500u64 {
        let mut rng = Rng::new(seed);
        let magic = magics[seed as usize % magics.len()];
        let mut bytes = magic.to_vec();
        let len = rng.below(2048);
        bytes.extend(rng.bytes(len));
        match decode_quick(&bytes) {
            Err(Error::Corrupt(_) | Error::TooLarge(_) | Error::UnsupportedFormat(_)) => {}
            // A random BMP or TIFF body can happen to be a valid tiny image.
            Ok(img) => {
                assert!(img.width() as u64 * img.height() as u64 <= Limits::default().max_pixels)
            }
            Err(e) => panic!("seed {seed}: unexpected error variant {e:?}"),
        }
    }
}

/// Files cut short anywhere in their pixel data are corrupt.
#[test]
fn truncated_files_are_corrupt() {
    let mut failures = Vec::new();
    // Bytes at the end that may go missing without losing a pixel: the IEND
    // chunk of a PNG, the trailer, block terminator and last LZW
    // sub-block of a GIF (here `01 01 00 3b`: a one-byte sub-block holding
    // only the end code; the gif crate accepts losing it, PIL does not),
    // row padding of a BMP. Everything before must be refused.
    let cases = [
        ("rgb.jpg", 0),
        ("rgb444.jpg", 0),
        ("exif_rot6.jpg", 0),
        ("lossless.webp", 0),
        ("lossy.webp", 0),
        ("rgb.tiff", 0),
        ("gray.png", 12),
        ("rgba.png", 12),
        ("rgb16.png", 12),
        ("rgb_bicubic.png", 12),
        ("palette.gif", 4),
        ("small.bmp", 2),
    ];
    for (name, optional_tail) in cases {
        let bytes = fixture(name);
        let data_end = bytes.len() - optional_tail;
        // Cut at many points, from just past the magic number to one byte short.
        let cuts = (1..20)
            .map(|i| 8 + (data_end - 9) * i / 20)
            .chain([data_end - 1]);
        for cut in cuts {
            match decode_quick(&bytes[..cut]) {
                Err(Error::Corrupt(_)) => {}
                other => failures.push(format!(
                    "{name} cut at {cut}/{}: {:?}",
                    bytes.len(),
                    other.map(|i| i.dimensions())
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A PNG header claiming 100000x100000 fails fast, before any allocation.
#[test]
fn png_claiming_100000_square_is_too_large_without_allocating() {
    let start = Instant::now();
    match decode(&png_claiming(100_000, 100_000), &Limits::default()) {
        Err(Error::TooLarge(msg)) => assert!(msg.contains("limit"), "{msg}"),
        other => panic!(
            "expected too large, got {:?}",
            other.map(|i| i.dimensions())
        ),
    }
    // A 30 GB buffer would take far longer than this even if it succeeded.
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "took {:?}",
        start.elapsed()
    );
}

/// Each field of `Limits` is enforced on its own.
#[test]
fn pixel_count_limit_applies_within_side_limits() {
    // 16000 x 16000 passes the per-side limit but not the pixel limit.
    assert!(matches!(
        decode_quick(&png_claiming(16_000, 16_000)),
        Err(Error::TooLarge(_))
    ));
    // A valid image above tight limits.
    let limits = Limits {
        max_width: 64,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&fixture("rgb.jpg"), &limits),
        Err(Error::TooLarge(_))
    ));
    let limits = Limits {
        max_pixels: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&fixture("gray.png"), &limits),
        Err(Error::TooLarge(_))
    ));
    let limits = Limits {
        max_alloc: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode(&fixture("rgba.png"), &limits),
        Err(Error::TooLarge(_))
    ));
}

/// A GIF's logical screen counts against the limits, not just its frame.
#[test]
fn gif_with_huge_logical_screen_is_too_large() {
    for (w, h) in [(65_535u16, 65_535u16), (16_000, 16_000), (65_535, 1)] {
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&w.to_le_bytes());
        gif.extend_from_slice(&h.to_le_bytes());
        gif.extend_from_slice(&[0x80, 0, 0]); // global colour table of 2 entries
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        // One 1x1 frame.
        gif.extend_from_slice(&[
            0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
        ]);
        match decode_quick(&gif) {
            Err(Error::TooLarge(_)) => {}
            other => panic!(
                "{w}x{h} screen: expected too large, got {:?}",
                other.map(|i| i.dimensions())
            ),
        }
    }
}

/// JPEG and BMP headers claiming huge sizes are refused as too large.
#[test]
fn jpeg_and_bmp_headers_claiming_huge_sizes_are_too_large() {
    // A real JPEG whose SOF0 is patched to claim 65000 x 65000.
    let mut jpeg = fixture("rgb.jpg");
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("baseline jpeg");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xfd, 0xe8, 0xfd, 0xe8]);
    match decode_quick(&jpeg) {
        Err(Error::TooLarge(_)) => {}
        other => panic!(
            "jpeg: expected too large, got {:?}",
            other.map(|i| i.dimensions())
        ),
    }
    // BITMAPINFOHEADER claiming 50000 x 50000 at 24 bits (above 65535 the
    // BMP decoder itself calls the header invalid: corrupt, not too large).
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&1000u32.to_le_bytes());
    bmp.extend_from_slice(&0u32.to_le_bytes());
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&50_000i32.to_le_bytes());
    bmp.extend_from_slice(&50_000i32.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    bmp.extend_from_slice(&[0; 64]);
    match decode_quick(&bmp) {
        Err(Error::TooLarge(_)) => {}
        other => panic!(
            "bmp: expected too large, got {:?}",
            other.map(|i| i.dimensions())
        ),
    }
}

/// PDF, SVG, ZIP and the image formats we do not accept are unsupported.
#[test]
fn other_formats_are_unsupported() {
    let inputs: [&[u8]; 9] = [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>",
        b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"P6\n2 2\n255\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        b"qoif\x00\x00\x00\x01\x00\x00\x00\x01\x03\x00",
        b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",
        b"hello, world",
    ];
    for bytes in inputs {
        match decode_quick(bytes) {
            Err(Error::UnsupportedFormat(_)) => {}
            other => panic!(
                "{:?}: expected unsupported, got {:?}",
                String::from_utf8_lossy(&bytes[..8]),
                other.map(|i| i.dimensions())
            ),
        }
    }
}

/// Messages follow pgvector's style.
#[test]
fn error_messages_are_lowercase_without_final_period() {
    let err = |r: Result<imagepipe::RgbImage, Error>| r.map(|i| i.dimensions()).unwrap_err();
    let mut errors = vec![
        err(decode_quick(&[])),
        err(decode_quick(b"%PDF-1.4")),
        err(decode_quick(&png_claiming(100_000, 100_000))),
        err(decode_quick(&png_claiming(16_000, 16_000))),
        imagepipe::Preprocess {
            input_size: 0,
            ..small()
        }
        .validate()
        .unwrap_err(),
    ];
    for name in IMAGES {
        let bytes = fixture(name);
        errors.push(err(decode_quick(&bytes[..bytes.len() / 2])));
    }
    for e in errors {
        let msg = e.to_string();
        let first = msg.chars().next().unwrap();
        assert!(!first.is_uppercase(), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
        println!("{msg}");
    }
}
