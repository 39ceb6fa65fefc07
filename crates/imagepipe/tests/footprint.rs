//! The memory estimate against reality: real files of every format are
//! decoded and preprocessed under a counting allocator, and the peak heap
//! bytes must never exceed the estimate made from the header, nor fall far
//! below it (an estimate that is always huge would refuse good images).
//!
//! This file is its own test binary because it installs a global allocator.
//! The counters are per thread, so tests running side by side do not mix.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;

use common::{fixture, imagenet, small, IMAGES};
use image::codecs::{bmp, gif, jpeg, tiff, webp};
use image::{ExtendedColorType, ImageEncoder};
use imagepipe::{open, preprocess_bytes, Limits, Preprocess};

/// The system allocator, counting this thread's live and peak bytes.
struct Counting;

thread_local! {
    /// Bytes allocated and not freed by this thread.
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// Highest `LIVE` since the last reset.
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's live bytes and raises the peak.
fn count(delta: i64) {
    let live = LIVE.with(|l| {
        let v = l.get() + delta;
        l.set(v);
        v
    });
    PEAK.with(|p| p.set(p.get().max(live)));
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are const-initialised thread locals without destructors, so
// touching them never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to System.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to System.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to System.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as i64 - layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on to System.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as i64));
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap bytes this thread allocates while running `f`, beyond what it
/// held before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let peak = PEAK.with(Cell::get) - start;
    (out, peak.max(0) as u64)
}

/// Estimated and measured peak of preprocessing `bytes` with `p`.
fn estimate_and_peak(bytes: &[u8], p: &Preprocess) -> (u64, u64) {
    let limits = Limits::default();
    let estimate = open(bytes, &limits)
        .expect("header reads")
        .footprint()
        .peak_bytes(p);
    let (tensor, peak) = peak_of(|| preprocess_bytes(bytes, p, &limits));
    tensor.expect("decodes");
    (estimate, peak)
}

/// A smooth, noisy test picture of `channels` samples a pixel.
fn samples(w: u32, h: u32, channels: u32) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..w * h * channels)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let px = i / channels;
            let (col, row) = (px % w, px / w);
            ((col * 255 / w + row * 128 / h + (i % channels) * 40) as u8)
                .wrapping_add((x % 8) as u8)
        })
        .collect()
}

/// `samples` widened to 16 bits (big-endian, as PNG stores them).
fn samples16(w: u32, h: u32, channels: u32) -> Vec<u8> {
    samples(w, h, channels)
        .into_iter()
        .flat_map(|v| [v, v ^ 0x5a])
        .collect()
}

/// Checks one file: never above the estimate, and at most `ratio` times
/// (plus 1 MiB) the measured peak.
fn check(name: &str, bytes: &[u8], p: &Preprocess, ratio: f64) {
    let (estimate, peak) = estimate_and_peak(bytes, p);
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "{name}: measured {:.2} MiB, estimated {:.2} MiB ({:.2}x)",
        mib(peak),
        mib(estimate),
        estimate as f64 / peak as f64
    );
    assert!(
        peak <= estimate,
        "{name}: measured {peak} bytes, above the estimate of {estimate}"
    );
    assert!(
        (estimate as f64) <= peak as f64 * ratio + 1048576.0,
        "{name}: estimate {estimate} is more than {ratio}x the measured {peak}"
    );
}

/// PNG in every colour type and depth (interlaced files differ only by a
/// row buffer; their decoding is tested in `png_rows`).
#[test]
fn png_estimates_hold() {
    let (w, h) = (1200, 900);
    let cases = [
        (png::ColorType::Grayscale, png::BitDepth::Eight, 1),
        (png::ColorType::Grayscale, png::BitDepth::Sixteen, 1),
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Sixteen, 2),
        (png::ColorType::Rgb, png::BitDepth::Eight, 3),
        (png::ColorType::Rgb, png::BitDepth::Sixteen, 3),
        (png::ColorType::Rgba, png::BitDepth::Eight, 4),
        (png::ColorType::Rgba, png::BitDepth::Sixteen, 4),
    ];
    for (color, depth, channels) in cases {
        let data = if depth == png::BitDepth::Sixteen {
            samples16(w, h, channels)
        } else {
            samples(w, h, channels)
        };
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        enc.write_header().unwrap().write_image_data(&data).unwrap();
        check(&format!("png {color:?} {depth:?}"), &out, &imagenet(), 1.25);
    }
}

/// JPEG (baseline colour and grey), GIF, BMP, TIFF (8 and 16 bits) and
/// lossless WebP, through the `image` crate's decoders.
#[test]
fn other_format_estimates_hold() {
    let (w, h) = (1200, 900);
    let rgb = samples(w, h, 3);
    let rgba = samples(w, h, 4);
    let gray = samples(w, h, 1);
    let rgba16: Vec<u8> = samples16(w, h, 4)
        .chunks_exact(2)
        .flat_map(|c| u16::from_be_bytes([c[0], c[1]]).to_ne_bytes())
        .collect();
    let mut files: Vec<(&str, Vec<u8>, f64)> = Vec::new();
    let mut out = Vec::new();
    jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
        .unwrap();
    files.push(("jpeg rgb", std::mem::take(&mut out), 1.25));
    jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&gray, w, h, ExtendedColorType::L8)
        .unwrap();
    files.push(("jpeg gray", std::mem::take(&mut out), 1.25));
    gif::GifEncoder::new(&mut out)
        .encode(&rgba, w, h, ExtendedColorType::Rgba8)
        .unwrap();
    files.push(("gif", std::mem::take(&mut out), 1.25));
    bmp::BmpEncoder::new(&mut out)
        .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
        .unwrap();
    files.push(("bmp", std::mem::take(&mut out), 1.25));
    let mut cur = Cursor::new(Vec::new());
    tiff::TiffEncoder::new(&mut cur)
        .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
        .unwrap();
    files.push(("tiff rgb8", cur.into_inner(), 2.0));
    let mut cur = Cursor::new(Vec::new());
    tiff::TiffEncoder::new(&mut cur)
        .write_image(&rgba16, w, h, ExtendedColorType::Rgba16)
        .unwrap();
    files.push(("tiff rgba16", cur.into_inner(), 2.0));
    webp::WebPEncoder::new_lossless(&mut out)
        .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
        .unwrap();
    files.push(("webp lossless rgb", std::mem::take(&mut out), 1.25));
    webp::WebPEncoder::new_lossless(&mut out)
        .write_image(&rgba, w, h, ExtendedColorType::Rgba8)
        .unwrap();
    files.push(("webp lossless rgba", std::mem::take(&mut out), 1.6));
    for (name, bytes, ratio) in &files {
        check(name, bytes, &imagenet(), *ratio);
    }
}

/// Progressive JPEGs keep every coefficient (4:4:4: 6 bytes a pixel, 4:2:0:
/// 3) beside the RGB image. The two 1200 x 900 gradients were written by
/// Pillow: `Image.fromarray(a).save(f, quality=60, progressive=True,
/// subsampling=0 or 2)` with `a[y, x] = (255 x / w, 255 y / h, mean of both)`.
#[test]
fn progressive_jpeg_estimates_hold() {
    for name in ["progressive444.jpg", "progressive420.jpg"] {
        let bytes = fixture(name);
        let frame = imagepipe::peek::jpeg_frame(&bytes).expect("a frame header");
        assert!(frame.progressive, "{name}");
        check(name, &bytes, &imagenet(), 1.25);
    }
}

/// Every checked-in fixture (lossy WebP, 4:4:4 JPEG, an EXIF rotation...)
/// stays within its estimate, with both transforms.
#[test]
fn fixture_estimates_hold() {
    for name in IMAGES {
        let bytes = fixture(name);
        for p in [imagenet(), small()] {
            let (estimate, peak) = estimate_and_peak(&bytes, &p);
            assert!(
                peak <= estimate,
                "{name}: measured {peak} bytes, above the estimate of {estimate}"
            );
        }
    }
}

/// The 8192 x 8192 16-bit RGBA PNG of the issue (constant colour, half a
/// megabyte compressed): decoding it costs the 8-bit RGB image, not the
/// 512 MiB 16-bit buffer on top.
#[test]
fn sixteen_bit_bomb_costs_only_its_rgb_image() {
    let (w, h) = (8192u32, 8192u32);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Sixteen);
    enc.set_compression(png::Compression::Fast);
    {
        let mut writer = enc.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = [0x12u8, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xff, 0xff].repeat(w as usize);
        for _ in 0..h {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    assert!(out.len() < 4 << 20, "{} bytes", out.len());
    let (estimate, peak) = estimate_and_peak(&out, &imagenet());
    let rgb = u64::from(w * h) * 3;
    println!("8192x8192 rgba16 png: measured {peak}, estimated {estimate}, rgb {rgb}");
    assert!(peak <= estimate);
    assert!(peak < rgb + (16 << 20), "measured {peak}");
    // The 16-bit buffer alone would be 512 MiB.
    assert!(estimate < rgb + (16 << 20), "estimated {estimate}");
}
