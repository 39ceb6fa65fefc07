//! Deterministic test data, brute-force ground truth and recall.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Candidate, MemoryGraph, Metric};

/// Held by the tests that keep both cores busy for a while, one at a time:
/// the comparison of parallel against sequential builds depends on
/// scheduling, and its margin does not allow a second heavy test beside it.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// `n` vectors uniform in [-1, 1)^dim.
pub fn uniform(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

/// One standard normal sample (Box-Muller).
fn gaussian(rng: &mut StdRng) -> f32 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// `n` vectors from a mixture of 64 gaussians: centres N(0, 1)^dim,
/// points centre + N(0, 0.25^2)^dim. Uses the seed for centres and points,
/// so queries drawn with another seed come from other clusters: the
/// caller passes `centres_seed` to share them.
pub fn clustered(n: usize, dim: usize, centres_seed: u64, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(centres_seed);
    let centres: Vec<Vec<f32>> = (0..64)
        .map(|_| (0..dim).map(|_| gaussian(&mut rng)).collect())
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let c = &centres[rng.gen_range(0..centres.len())];
            c.iter().map(|&x| x + 0.25 * gaussian(&mut rng)).collect()
        })
        .collect()
}

/// `n` vectors from `clusters` tight, far-apart gaussians (centres
/// N(0, 1)^dim, points centre + N(0, `spread`^2)^dim), each with the index
/// of its cluster; the centres come from `centres_seed`, the points from
/// `seed`.
pub fn labelled_clusters(
    n: usize,
    dim: usize,
    clusters: usize,
    spread: f32,
    centres_seed: u64,
    seed: u64,
) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(centres_seed);
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..dim).map(|_| gaussian(&mut rng)).collect())
        .collect();
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let c = rng.gen_range(0..clusters);
            let v = centres[c]
                .iter()
                .map(|&x| x + spread * gaussian(&mut rng))
                .collect();
            (v, c)
        })
        .unzip()
}

/// `n` vectors of `dim` dimensions with 1 to 5 non-zeros in [0.1, 1):
/// many rows nobody's near neighbour, reachable through bridges.
pub fn very_sparse(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut v = vec![0f32; dim];
            for _ in 0..rng.gen_range(1..=5) {
                v[rng.gen_range(0..dim)] = rng.gen_range(0.1..1.0);
            }
            v
        })
        .collect()
}

/// The `k` nearest ids to `query` among the nodes `live` accepts, exactly.
pub fn brute_force(
    data: &[Vec<f32>],
    query: &[f32],
    metric: Metric,
    k: usize,
    live: impl Fn(u32) -> bool,
) -> Vec<Candidate<u32>> {
    let mut all: Vec<_> = (0..data.len() as u32)
        .filter(|&i| live(i))
        .map(|i| Candidate::new(metric.distance(query, &data[i as usize]), i))
        .collect();
    all.sort_unstable();
    all.truncate(k);
    all
}

/// Mean recall@k of `g.search(q, k, ef)` over `queries` among live nodes.
pub fn recall(
    g: &MemoryGraph,
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    k: usize,
    ef: usize,
    live: impl Fn(u32) -> bool + Copy,
) -> f64 {
    let mut found = 0usize;
    let mut total = 0usize;
    for q in queries {
        let truth = brute_force(data, q, g.metric(), k, live);
        let got: Vec<u32> = g.search(q, k, ef).iter().map(|c| c.id).collect();
        found += truth.iter().filter(|t| got.contains(&t.id)).count();
        total += truth.len();
    }
    found as f64 / total as f64
}

/// A graph over `data` linked concurrently in chunks of 1,000, as the index build does.
pub fn build_parallel(
    data: &[Vec<f32>],
    metric: Metric,
    m: usize,
    efc: usize,
    seed: u64,
) -> MemoryGraph {
    let mut g = MemoryGraph::new(data[0].len(), metric, m, efc, seed);
    for v in data {
        g.add(v);
    }
    let n = g.len() as u32;
    for start in (0..n).step_by(1000) {
        g.insert_range(start..(start + 1000).min(n));
    }
    g.shrink_lists();
    g.connect(&mut || ());
    g
}

/// A graph over `data` linked one node at a time in id order (deterministic).
pub fn build_sequential(
    data: &[Vec<f32>],
    metric: Metric,
    m: usize,
    efc: usize,
    seed: u64,
) -> MemoryGraph {
    let mut g = MemoryGraph::new(data[0].len(), metric, m, efc, seed);
    for v in data {
        g.add(v);
    }
    let mut scratch = crate::SearchScratch::new();
    for id in 0..g.len() as u32 {
        g.insert(id, &mut scratch);
    }
    g.shrink_lists();
    g.connect(&mut || ());
    g
}
