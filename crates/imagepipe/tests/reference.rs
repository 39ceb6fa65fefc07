//! The Rust pipeline against tensors computed with PIL the way torchvision
//! does it (fixtures/make_fixtures.py; the outputs are checked in).

use std::path::PathBuf;

use imagepipe::{preprocess_bytes, Limits, Preprocess};
use serde::Deserialize;

/// Tolerance for lossless formats (PNG, GIF, BMP, TIFF, lossless WebP).
///
/// Decoded pixels are identical to PIL's and the resize reproduces
/// Pillow's fixed-point arithmetic, so the tensors are bit-identical; the
/// tolerance only leaves room for float rounding, never for a one-level
/// pixel difference (1/255/0.229 = 0.017).
const LOSSLESS_TOLERANCE: f32 = 1e-6;

/// Tolerance for lossy formats (JPEG, lossy WebP): three 8-bit levels in
/// the channel with the smallest std (3 / 255 / 0.224 = 0.0525).
///
/// zune-jpeg is not libjpeg-turbo: its IDCT rounding and its chroma
/// upsampling of 4:2:0 files differ slightly, so decoded pixels differ by
/// a level or two. Measured against Pillow 13 / libjpeg-turbo 3.2: max
/// 0.035 (two levels) with 4:2:0, 0.0175 (one level) with 4:4:4; lossy
/// WebP through image-webp is bit-identical to libwebp.
const LOSSY_TOLERANCE: f32 = 3.0 / 255.0 / 0.224;

/// Mean absolute error allowed for lossy formats: a third of the max, so a
/// systematic error (a wrong upsampling filter, a colour-matrix mistake)
/// fails even where every single value stays under the max.
const LOSSY_MEAN_TOLERANCE: f32 = 1.0 / 255.0 / 0.224;

/// index.json, as written by make_fixtures.py.
#[derive(Deserialize)]
struct Index {
    fixtures: Vec<Fixture>,
}

/// One fixture entry of index.json.
#[derive(Deserialize)]
struct Fixture {
    file: String,
    expected: String,
    shape: Vec<usize>,
    lossy: bool,
    params: Preprocess,
}

/// Directory of the fixtures.
fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads a little-endian f32 file.
fn read_f32(path: &PathBuf) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Every fixture matches its PIL tensor within the stated tolerance.
#[test]
fn matches_pil_reference() {
    let index: Index =
        serde_json::from_str(&std::fs::read_to_string(dir().join("index.json")).unwrap()).unwrap();
    assert!(index.fixtures.len() >= 10);
    let mut failures = Vec::new();
    for fx in &index.fixtures {
        let bytes = std::fs::read(dir().join(&fx.file)).unwrap();
        let expected = read_f32(&dir().join(&fx.expected));
        let got = preprocess_bytes(&bytes, &fx.params, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", fx.file));
        assert_eq!(got.shape(), fx.shape.as_slice(), "{}", fx.file);
        let got: Vec<f32> = got.iter().copied().collect();
        assert_eq!(got.len(), expected.len());
        let diffs: Vec<f32> = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .collect();
        let max = diffs.iter().copied().fold(0f32, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        let differing = diffs.iter().filter(|d| **d > 1e-6).count();
        let tol = if fx.lossy {
            LOSSY_TOLERANCE
        } else {
            LOSSLESS_TOLERANCE
        };
        println!("{:16} max abs err {max:.6} mean {mean:.6} values differing {differing}/{} (tolerance {tol})", fx.file, diffs.len());
        if max > tol {
            failures.push(format!("{}: max abs error {max} > {tol}", fx.file));
        }
        if fx.lossy && mean > LOSSY_MEAN_TOLERANCE {
            failures.push(format!(
                "{}: mean abs error {mean} > {LOSSY_MEAN_TOLERANCE}",
                fx.file
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
