//! Bare inference rate: images/s of one model at one batch size, no image decoding.
//!
//! The "bare library" baseline for the SQL-level benchmark: what ONNX Runtime
//! alone does with the session options the extension uses.
//!
//!     cargo run --release -p pgvision-embedder --example bare_infer -- \
//!         [--model efficientnet_lite0] [--batch 1] [--threads 1] [--seconds 5] [--device cpu] [--arena on|off]
//!
//! Environment: PGVISION_ORT_LIB, PGVISION_MODELS_DIR (defaults under .pgvision/).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use embedder::{Device, Manifest, Model, Runtime, SessionOptions};

/// Command line settings.
struct Args {
    model: String,
    batch: usize,
    threads: usize,
    seconds: f64,
    device: Device,
    arena: bool,
}

/// Parse `--key value` pairs.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: "efficientnet_lite0".into(),
        batch: 1,
        threads: 1,
        seconds: 5.0,
        device: Device::Cpu,
        arena: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(key) = it.next() {
        let value = it.next().ok_or_else(|| format!("{key} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{key} {value}: {e}");
        match key.as_str() {
            "--model" => args.model = value,
            "--batch" => args.batch = value.parse().map_err(|e| bad(&e))?,
            "--threads" => args.threads = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| bad(&e))?,
            "--device" => args.device = value.parse().map_err(|e: String| bad(&e))?,
            "--arena" => args.arena = value == "on",
            _ => return Err(format!("unknown option {key}")),
        }
    }
    Ok(args)
}

/// The repository's `.pgvision/` folder.
fn state_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.pgvision")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let lib = std::env::var_os("PGVISION_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| state_dir().join("lib").join(embedder::ORT_LIB_NAME));
    let models = std::env::var_os("PGVISION_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| state_dir().join("models"));
    let runtime = Runtime::init(lib.canonicalize().unwrap_or(lib))?;
    let manifest = Manifest::find(&models, &args.model)?;
    let options = SessionOptions {
        device: args.device,
        cpu_arena: args.arena,
        ..SessionOptions::default()
    }
    .with_threads(args.threads);

    let t = Instant::now();
    let mut model = Model::load(&runtime, manifest, &models, &options)?;
    let load = t.elapsed();
    println!("{}", model.runtime_info());
    println!("after load: {}", memory_status());
    println!(
        "session load (sha256 check included): {:.0} ms",
        load.as_secs_f64() * 1e3
    );

    let [c, h, w] = model.manifest().image_shape();
    let input = ndarray::Array4::<f32>::from_shape_fn((args.batch, c, h, w), |(n, c, y, x)| {
        ((n * 7 + c * 13 + y * 3 + x) % 17) as f32 / 8.0 - 1.0
    });
    let warmup = Instant::now();
    model.embed(input.view())?; // first run allocates and plans
    println!("first run: {:.1} ms", warmup.elapsed().as_secs_f64() * 1e3);

    let budget = Duration::from_secs_f64(args.seconds);
    let (mut runs, mut latencies) = (0usize, Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget || runs < 3 {
        let t = Instant::now();
        let out = model.embed(input.view())?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(out.len(), args.batch);
        runs += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "model {} batch {} threads {}: {runs} runs in {elapsed:.1} s, {:.1} ms/run (p50 {:.1}, p95 {:.1}), {:.1} images/s",
        args.model,
        args.batch,
        args.threads,
        elapsed * 1e3 / runs as f64,
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100],
        (runs * args.batch) as f64 / elapsed
    );
    println!("process memory: {}", memory_status());
    Ok(())
}

/// The process's resident and peak resident memory, from /proc (Linux).
fn memory_status() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}
