//! Nanoseconds per distance at 128, 960 and 2048 dimensions, SIMD vs scalar.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};

/// Benchmarks each kernel family at the dimensions the issue asks about.
fn kernels(c: &mut Criterion) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    println!("dispatched kernels: {}", distance::kernel_name());
    for dim in [128usize, 960, 2048] {
        let a: Vec<f32> = (0..dim).map(|_| rng.gen()).collect();
        let b: Vec<f32> = (0..dim).map(|_| rng.gen()).collect();
        let mut g = c.benchmark_group(format!("dim{dim}"));
        g.bench_function("l2_squared/dispatch", |x| {
            x.iter(|| distance::l2_squared(black_box(&a), black_box(&b)))
        });
        g.bench_function("l2_squared/scalar", |x| {
            x.iter(|| distance::scalar::l2_squared(black_box(&a), black_box(&b)))
        });
        g.bench_function("inner_product/dispatch", |x| {
            x.iter(|| distance::inner_product(black_box(&a), black_box(&b)))
        });
        g.bench_function("inner_product/scalar", |x| {
            x.iter(|| distance::scalar::inner_product(black_box(&a), black_box(&b)))
        });
        g.bench_function("cosine/dispatch", |x| {
            x.iter(|| distance::cosine_distance(black_box(&a), black_box(&b)))
        });
        g.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
