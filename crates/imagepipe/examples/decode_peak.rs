//! Peak memory of decoding one image file: `cargo run --release -p
//! pgvision-imagepipe --example decode_peak -- FILE`.
//!
//! Prints the heap peak (a counting allocator) and the process's VmHWM
//! around a decode + preprocess for a 224 x 224 model, and the estimate
//! made from the header.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use imagepipe::{ChannelOrder, Interpolation, Layout, Limits, Preprocess, ValueScale};

/// The system allocator, counting live and peak bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to System.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: the caller's contract is passed on to System.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// `VmHWM` of this process in bytes, from /proc/self/status.
fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Decodes and preprocesses the file named on the command line.
fn main() {
    let path = std::env::args().nth(1).expect("usage: decode_peak FILE");
    let bytes = std::fs::read(&path).expect("readable file");
    let p = Preprocess {
        input_size: 224,
        resize_shorter: 256,
        interpolation: Interpolation::Bilinear,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        channel_order: ChannelOrder::Rgb,
        layout: Layout::Nchw,
        value_scale: ValueScale::Unit,
    };
    let estimate = imagepipe::open(&bytes, &Limits::default())
        .expect("header reads")
        .footprint()
        .peak_bytes(&p);
    let hwm_before = vm_hwm();
    let live_before = LIVE.load(Ordering::Relaxed);
    PEAK.store(live_before, Ordering::Relaxed);
    let start = std::time::Instant::now();
    let tensor = imagepipe::preprocess_bytes(&bytes, &p, &Limits::default()).expect("decodes");
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - live_before;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "{path}: {} bytes encoded, tensor {:?}, {elapsed:.2?}",
        bytes.len(),
        tensor.shape()
    );
    println!(
        "heap peak during decode+preprocess: {:.1} MiB (estimate {:.1} MiB)",
        mib(peak as u64),
        mib(estimate)
    );
    println!(
        "VmHWM: {:.1} MiB before, {:.1} MiB after (+{:.1} MiB)",
        mib(hwm_before),
        mib(vm_hwm()),
        mib(vm_hwm() - hwm_before)
    );
}
