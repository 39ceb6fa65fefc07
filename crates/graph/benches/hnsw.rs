//! Build time and queries per second for 10,000 x 128-d uniform vectors
//! (m = 16, ef_construction = 64, ef_search = 40).

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use graph::{MemoryGraph, Metric, SearchScratch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 10_000;
const DIM: usize = 128;

/// `n` uniform vectors in [-1, 1)^dim.
fn random_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

/// Builds the graph in parallel chunks, as the index build does.
fn build(data: &[Vec<f32>]) -> MemoryGraph {
    let mut g = MemoryGraph::new(DIM, Metric::L2, 16, 64, 42);
    for v in data {
        g.add(v);
    }
    let n = g.len() as u32;
    for start in (0..n).step_by(1000) {
        g.insert_range(start..(start + 1000).min(n));
    }
    g.shrink_lists();
    g
}

/// Times one build and the search throughput, then hands search to criterion.
fn bench(c: &mut Criterion) {
    let data = random_vectors(N, DIM, 1);
    let queries = random_vectors(1000, DIM, 2);
    let t = Instant::now();
    let g = build(&data);
    println!(
        "build {N} x {DIM}: {:.2?} ({} bytes)",
        t.elapsed(),
        g.estimated_bytes()
    );
    let mut scratch = SearchScratch::new();
    let t = Instant::now();
    for q in &queries {
        std::hint::black_box(g.search_with(q, 10, 40, &mut scratch));
    }
    let qps = queries.len() as f64 / t.elapsed().as_secs_f64();
    println!("search k=10 ef=40: {qps:.0} queries/s (one thread)");
    let mut i = 0;
    c.bench_function("search 10k x 128 k=10 ef=40", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            g.search_with(&queries[i], 10, 40, &mut scratch)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
