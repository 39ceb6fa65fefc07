//! Very sparse vectors (1-5 non-zeros of 32 dimensions): many exact
//! ties and orthogonal pairs, and many rows nobody's near neighbour
//! (outliers, small norms under inner product). Every node must stay
//! reachable: before builds bridged to them ([`crate::MemoryGraph::connect`])
//! 1-9 of 400 rows were lost at any ef_search.

use super::data::{build_sequential, very_sparse};
use crate::Metric;

/// Rows a full search (k = ef = 1000) finds from each row's own query.
fn reachable(metric: Metric, seed: u64) -> (usize, usize) {
    let data = very_sparse(400, 32, seed);
    let g = build_sequential(&data, metric, 8, 64, seed);
    let found = g.search(&data[0], 1000, 1000).len();
    (found, g.len())
}

#[test]
fn every_very_sparse_row_is_reachable() {
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
        for seed in 1..=8 {
            let (found, n) = reachable(metric, seed);
            assert_eq!(found, n, "{metric:?} seed {seed}: {found} of {n} reachable");
        }
    }
}

/// A sparse graph over `data` (dense rows, stored by their non-zeros),
/// linked one node at a time, lists shrunk and bridged as a build does.
fn build_sparse(data: &[Vec<f32>], metric: Metric, seed: u64) -> crate::MemoryGraph {
    let mut g = crate::MemoryGraph::new_sparse(data[0].len(), metric, 8, 64, seed);
    for v in data {
        let (idx, val) = sparse_of(v);
        g.add_sparse(&idx, &val, 16);
    }
    let mut scratch = crate::SearchScratch::new();
    for id in 0..g.len() as u32 {
        g.insert(id, &mut scratch);
    }
    g.shrink_lists();
    g.connect(&mut || ());
    g
}

/// The non-zeros of `v`: (indices, values).
fn sparse_of(v: &[f32]) -> (Vec<u32>, Vec<f32>) {
    v.iter()
        .enumerate()
        .filter(|p| *p.1 != 0.0)
        .map(|(i, &x)| (i as u32, x))
        .unzip()
}

#[test]
fn sparse_copies_reach_every_row_and_find_the_exact_neighbours() {
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
        let data = very_sparse(400, 32, 11);
        let g = build_sparse(&data, metric, 11);
        let mut q = Vec::new();
        let (idx, val) = sparse_of(&data[0]);
        distance::sparse::pack(&idx, &val, &mut q);
        assert_eq!(g.search(&q, 1000, 1000).len(), 400, "{metric:?}");
        // recall@10 against brute force over the dense rows; ties are
        // counted by distance, not by id
        let (mut hit, mut total) = (0, 0);
        for row in data.iter().step_by(20) {
            let (idx, val) = sparse_of(row);
            distance::sparse::pack(&idx, &val, &mut q);
            let got = g.search(&q, 10, 100);
            let truth = super::data::brute_force(&data, row, metric, 10, |_| true);
            let worst = truth.last().unwrap().distance;
            let within = |d: f32| d <= worst + 1e-5 * worst.abs().max(1.0);
            hit += got.iter().filter(|c| within(c.distance)).count();
            total += truth.len();
        }
        assert!(hit * 100 >= total * 97, "{metric:?}: {hit} of {total}");
    }
}
