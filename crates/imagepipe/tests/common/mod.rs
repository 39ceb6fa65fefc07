//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use imagepipe::Preprocess;

/// Path of a checked-in fixture.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Bytes of a checked-in fixture.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// Names of every checked-in fixture image.
pub const IMAGES: [&str; 12] = [
    "rgb.jpg",
    "rgb444.jpg",
    "exif_rot6.jpg",
    "gray.png",
    "rgba.png",
    "palette.gif",
    "rgb16.png",
    "rgb_bicubic.png",
    "lossless.webp",
    "lossy.webp",
    "small.bmp",
    "rgb.tiff",
];

/// The ImageNet transform as a model manifest would state it.
pub fn imagenet() -> Preprocess {
    serde_json::from_str(
        r#"{"input_size": 224, "resize_shorter": 256, "interpolation": "bilinear",
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}"#,
    )
    .unwrap()
}

/// The small transform the fixtures use (resize 56, crop 48).
pub fn small() -> Preprocess {
    Preprocess {
        input_size: 48,
        resize_shorter: 56,
        ..imagenet()
    }
}

/// A tiny deterministic PRNG (xorshift64*), so tests need no extra crate
/// and print a seed that reproduces a failure.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (zero is remapped).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// CRC-32 (IEEE), for hand-made PNG chunks.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One PNG chunk with its length and CRC.
pub fn png_chunk(tag: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(tag);
    out.extend_from_slice(body);
    let mut crc_input = tag.to_vec();
    crc_input.extend_from_slice(body);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    out
}

/// A PNG signature and a valid IHDR claiming `w` x `h` 8-bit RGB, followed
/// by a tiny IDAT and IEND: a header that lies about the image size.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}
