//! The resumable layer-0 search.

use super::data::{build_sequential, clustered, recall, uniform};
use crate::{IterativeSearch, MemoryGraph, Metric};

/// 400 clustered 16-d nodes with every fifth one deleted.
fn graph_with_deletions() -> (MemoryGraph, Vec<Vec<f32>>) {
    println!("centres seed 31, data seed 32, query seed 33, build seed 34");
    let data = clustered(400, 16, 31, 32);
    let mut g = build_sequential(&data, Metric::L2, 6, 32, 34);
    for id in (0..g.len() as u32).step_by(5) {
        g.mark_deleted(id);
    }
    (g, clustered(10, 16, 31, 33))
}

#[test]
fn yields_every_live_node_once_in_order_and_never_a_deleted_one() {
    let (g, queries) = graph_with_deletions();
    let live = g.len() - g.len().div_ceil(5);
    let mut dropped = 0;
    for q in &queries {
        let mut it = IterativeSearch::new(&g, q, g.entry_point().unwrap(), 10, usize::MAX);
        let mut seen = vec![false; g.len()];
        let mut last = f32::NEG_INFINITY;
        let mut count = 0;
        while let Some(c) = it.next(&g) {
            assert!(c.id % 5 != 0, "deleted node {} yielded", c.id);
            assert!(!seen[c.id as usize], "node {} yielded twice", c.id);
            assert!(
                c.distance >= last,
                "out of order: {} after {last}",
                c.distance
            );
            assert_eq!(c.distance, crate::Graph::distance(&g, q, c.id));
            seen[c.id as usize] = true;
            last = c.distance;
            count += 1;
        }
        // A node reached only after a farther one was returned is dropped
        // (strict order); everything else alive must come out.
        assert_eq!(count + it.dropped(), live, "every live node eventually");
        dropped += it.dropped();
        assert_eq!(it.visited(), g.len(), "deleted nodes are traversed too");
    }
    let total = live * queries.len();
    println!("{dropped} of {total} results dropped as out of order (ef 10)");
    assert!(dropped * 100 <= total, "{dropped} of {total} dropped");
}

#[test]
fn first_results_match_knn_search() {
    let (g, queries) = graph_with_deletions();
    for q in &queries {
        let want = g.search(q, 10, 10);
        let mut it = IterativeSearch::new(&g, q, g.entry_point().unwrap(), 10, usize::MAX);
        let got: Vec<_> = (0..10).map_while(|_| it.next(&g)).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn single_pass_returns_exactly_search_layer_and_stops() {
    let (g, queries) = graph_with_deletions();
    for q in &queries {
        let want = g.search(q, 12, 12);
        let mut it =
            IterativeSearch::new(&g, q, g.entry_point().unwrap(), 12, usize::MAX).single_pass();
        let got: Vec<_> = std::iter::from_fn(|| it.next(&g)).collect();
        assert_eq!(got, want, "the ef nearest of one Algorithm 2, nothing more");
        let mut scratch = crate::SearchScratch::new();
        g.search_with(q, 12, 12, &mut scratch);
        assert_eq!(
            it.visited(),
            scratch.visited_count(),
            "no expansion past it"
        );
    }
}

#[test]
fn resumed_results_stay_accurate_on_a_larger_graph() {
    println!("data seed 35, query seed 36, build seed 37");
    let data = uniform(3000, 24, 35);
    let g = build_sequential(&data, Metric::L2, 8, 40, 37);
    let mut found = 0;
    let queries = uniform(20, 24, 36);
    for q in &queries {
        // ef 20, but 200 results pulled: nine resumptions past the first window.
        let mut it = IterativeSearch::new(&g, q, g.entry_point().unwrap(), 20, usize::MAX);
        let got: Vec<u32> = (0..200).map_while(|_| it.next(&g).map(|c| c.id)).collect();
        let truth = super::data::brute_force(&data, q, Metric::L2, 200, |_| true);
        found += truth.iter().filter(|t| got.contains(&t.id)).count();
    }
    let r = found as f64 / (200 * queries.len()) as f64;
    let plain = recall(&g, &data, &queries, 200, 200, |_| true);
    let narrow = recall(&g, &data, &queries, 20, 20, |_| true);
    println!(
        "recall@200 pulled through ef 20: {r:.4} (k=ef=200: {plain:.4}, k=ef=20: {narrow:.4})"
    );
    assert!(r >= 0.9, "{r}");
}

#[test]
fn max_visited_bounds_the_search() {
    let (g, queries) = graph_with_deletions();
    let mut it = IterativeSearch::new(&g, &queries[0], g.entry_point().unwrap(), 10, 50);
    let mut count = 0;
    while it.next(&g).is_some() {
        count += 1;
    }
    assert!(it.visited() <= 50, "{}", it.visited());
    assert!((1..=50).contains(&count), "{count}");
}

#[test]
fn memory_limit_bounds_the_search() {
    println!("centres seed 31, data seed 35, query seed 33, build seed 34");
    let g = build_sequential(&clustered(4_000, 16, 31, 35), Metric::L2, 6, 32, 34);
    let queries = clustered(1, 16, 31, 33);
    let ep = g.entry_point().unwrap();
    let drain = |mut it: IterativeSearch<u32>| {
        let (mut got, mut peak) = (Vec::new(), 0);
        while let Some(c) = it.next(&g) {
            got.push(c);
            peak = peak.max(it.memory_bytes());
        }
        (got, peak, it.visited())
    };
    let (all, unbounded_peak, all_visited) =
        drain(IterativeSearch::new(&g, &queries[0], ep, 10, usize::MAX));
    let limit = unbounded_peak / 4;
    let (some, peak, visited) =
        drain(IterativeSearch::new(&g, &queries[0], ep, 10, usize::MAX).memory_limit(limit));
    println!("unbounded: {} results, {all_visited} visited, {unbounded_peak} bytes; limit {limit}: {} results, {visited} visited, {peak} bytes", all.len(), some.len());
    assert!(visited < all_visited, "{visited} vs {all_visited}");
    assert!(!some.is_empty() && some.len() < all.len());
    assert!(some.windows(2).all(|p| p[0].distance <= p[1].distance));
    // It stops at the first expansion past the limit: within one batch of
    // growth (the sets double at most once more).
    assert!(peak <= 2 * limit + 4096, "{peak} > 2 * {limit}");
    // The nearest results are the unbounded search's.
    assert_eq!(some[..3], all[..3]);
}

#[test]
fn relaxed_search_returns_what_strict_drops() {
    let (g, queries) = graph_with_deletions();
    let ep = g.entry_point().unwrap();
    for q in &queries {
        let mut strict = IterativeSearch::new(&g, q, ep, 10, usize::MAX);
        let mut relaxed = IterativeSearch::new(&g, q, ep, 10, usize::MAX).relaxed();
        let (mut ns, mut nr) = (0, 0);
        while strict.next(&g).is_some() {
            ns += 1;
        }
        while relaxed.next(&g).is_some() {
            nr += 1;
        }
        assert_eq!(relaxed.dropped(), 0);
        assert_eq!(
            nr,
            ns + strict.dropped(),
            "relaxed returns every node strict returned or dropped"
        );
    }
}
