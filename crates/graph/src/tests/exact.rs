//! Cases where HNSW must agree with brute force exactly.

use super::data::{brute_force, build_sequential, uniform};
use crate::{select_neighbours, Candidate, MemoryGraph, Metric};

#[test]
fn tiny_graph_with_ef_at_least_n_is_exact() {
    println!("data seed 21, query seed 22");
    let data = uniform(60, 8, 21);
    let queries = uniform(30, 8, 22);
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
        let g = build_sequential(&data, metric, 4, 16, 23);
        for q in &queries {
            // Exact over the f16 copies the graph holds (the executor's
            // recheck makes the final order exact in float4).
            let prepared = metric.prepare(q).expect("a non-zero query");
            let mut want: Vec<_> = (0..g.len() as u32)
                .map(|i| Candidate::new(crate::Graph::distance(&g, &prepared, i), i))
                .collect();
            want.sort_unstable();
            let got = g.search(q, 60, 60);
            assert_eq!(got, want, "{metric:?}: every node, in exact order");
            // And the same nodes as float4 brute force, up to f16 rounding.
            let f32_ids: Vec<_> = brute_force(&data, q, metric, 5, |_| true)
                .iter()
                .map(|c| c.id)
                .collect();
            let hits = got[..5].iter().filter(|c| f32_ids.contains(&c.id)).count();
            assert!(hits >= 4, "{metric:?}: top 5 {hits}/5 against float4");
        }
    }
}

#[test]
fn empty_and_single_node_graphs() {
    let mut g = MemoryGraph::new(3, Metric::L2, 4, 8, 1);
    assert!(g.search(&[0.0, 0.0, 0.0], 5, 10).is_empty());
    assert_eq!(g.entry_point(), None);
    let id = g.add(&[1.0, 2.0, 3.0]);
    g.insert_range(0..1);
    assert_eq!(g.entry_point(), Some((id, g.level(id))));
    let got = g.search(&[1.0, 2.0, 2.0], 5, 10);
    assert_eq!(got, vec![Candidate::new(1.0, id)]);
}

#[test]
fn duplicates_up_to_mmax0_are_all_found() {
    // Identical vectors tie at distance 0 in every heuristic decision, so
    // only about Mmax0 = 2m of them stay reachable; the index merges
    // exact duplicates into one element (pgvector's heap TID list). Up to
    // that many, all must be found.
    let mut g = MemoryGraph::new(2, Metric::L2, 4, 16, 3);
    for _ in 0..8 {
        g.add(&[0.5, 0.5]);
    }
    for i in 0..20 {
        g.add(&[3.0 + i as f32, 3.0]);
    }
    let n = g.len() as u32;
    g.insert_range(0..n);
    let got = g.search(&[0.5, 0.5], 8, 40);
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|c| c.distance == 0.0 && c.id < 8), "{got:?}");
}

#[test]
fn metric_signs() {
    let (a, b) = ([1.0f32, 0.0], [2.0f32, 0.0]);
    assert_eq!(Metric::L2.distance(&a, &b), 1.0);
    assert_eq!(Metric::InnerProduct.distance(&a, &b), -2.0);
    assert_eq!(Metric::L1.distance(&[1.0, -2.0], &[4.0, 2.0]), 7.0);
    assert!(Metric::Cosine.distance(&a, &b).abs() < 1e-6);
    assert!((Metric::Cosine.distance(&a, &[0.0, 1.0]) - 1.0).abs() < 1e-6);
    assert_eq!(Metric::Cosine.distance(&a, &[0.0, 0.0]), f32::INFINITY);
}

#[test]
fn heuristic_prefers_diverse_neighbours_then_fills_with_pruned() {
    // Base at the origin; 1 and 2 are close together on one side, 3 is on
    // the other side. Nearest-first would pick {1, 2}; the heuristic picks
    // {1, 3} and only then fills with 2.
    let mut g = MemoryGraph::new(1, Metric::L2, 4, 8, 1);
    for x in [0.0, 1.0, 1.1, -1.5] {
        g.add(&[x]);
    }
    let cands: Vec<_> = [1u32, 2, 3]
        .iter()
        .map(|&i| Candidate::new(Metric::L2.distance(&[0.0], &g.vector(i)), i))
        .collect();
    let mut sorted = cands.clone();
    sorted.sort_unstable();
    let mut out = Vec::new();
    select_neighbours(&g, &sorted, 2, &mut out);
    assert_eq!(out.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 3]);
    select_neighbours(&g, &sorted, 3, &mut out);
    assert_eq!(out.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[test]
fn bit_strings_under_hamming_and_jaccard_are_found_in_exact_order() {
    // 0/1 vectors (bit strings as an index reads them): the graph's build
    // and search, through prepared Jaccard queries, give the exact order.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bit = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        f32::from(!state.is_multiple_of(3))
    };
    let data: Vec<Vec<f32>> = (0..80).map(|_| (0..40).map(|_| bit()).collect()).collect();
    let queries: Vec<Vec<f32>> = (0..20).map(|_| (0..40).map(|_| bit()).collect()).collect();
    for metric in [Metric::L1, Metric::Jaccard] {
        let g = build_sequential(&data, metric, 8, 32, 31);
        assert_eq!(
            g.search(&queries[0], 80, 80).len(),
            80,
            "{metric:?}: every node reachable"
        );
        for q in &queries {
            let mut want: Vec<f32> = data.iter().map(|x| metric.distance(q, x)).collect();
            want.sort_by(f32::total_cmp);
            let got: Vec<f32> = g.search(q, 20, 80).iter().map(|c| c.distance).collect();
            assert_eq!(got, want[..20], "{metric:?}");
        }
    }
}

#[test]
fn selection_over_8_bit_copies_matches_the_pair_distances() {
    // Above WITHIN_CHUNK dimensions an 8-bit graph decodes each candidate
    // once and measures it against the kept nodes' codes: the choice must
    // be the heuristic's over `distance_between`, written out here.
    println!("data seed 31, 600 x 512");
    let data = uniform(600, 512, 31);
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        let mut g = MemoryGraph::new_sq8(512, metric, 8, 32, 1);
        for v in &data {
            g.add_sq8(&distance::sq8::Sq8Vector::encode(v));
        }
        assert!(crate::GraphMut::decodes_pairs(&g));
        for base in 0..20u32 {
            let q = crate::GraphMut::query_of(&g, base);
            let mut sorted: Vec<_> = (20..g.len() as u32)
                .map(|i| Candidate::new(crate::Graph::distance(&g, &q, i), i))
                .collect();
            sorted.sort_unstable();
            sorted.truncate(64);
            let mut want: Vec<Candidate<u32>> = Vec::new();
            let mut pruned = Vec::new();
            for &e in &sorted {
                if want.len() == 16 {
                    break;
                }
                let between =
                    |r: &Candidate<u32>| crate::GraphMut::distance_between(&g, e.id, r.id);
                if want.iter().all(|r| e.distance < between(r)) {
                    want.push(e);
                } else {
                    pruned.push(e);
                }
            }
            let room = 16 - want.len();
            want.extend(pruned.into_iter().take(room));
            let mut got = Vec::new();
            select_neighbours(&g, &sorted, 16, &mut got);
            assert_eq!(got, want, "{metric:?}, base {base}");
            assert!(got.len() == 16);
        }
    }
}

#[test]
fn packed_8_bit_queries_measure_what_decoded_ones_do() {
    // A node's own query in a wide 8-bit graph is its packed codes, whose
    // distances come from integer sums (`distance::sq8_pairs`); they must
    // be the f32 kernels' distances from the decoded copy, up to rounding.
    println!("data seed 41, 60 x 700");
    let data = uniform(60, 700, 41);
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        let mut g = MemoryGraph::new_sq8(700, metric, 8, 32, 1);
        for v in &data {
            g.add_sq8(&distance::sq8::Sq8Vector::encode(v));
        }
        for a in 0..10u32 {
            let q = crate::GraphMut::query_of(&g, a);
            let mut decoded = g.sq8_vector(a).decode();
            metric.prepare_in_place(&mut decoded);
            for b in 0..g.len() as u32 {
                let x = g.sq8_vector(b);
                let want = metric.to_sq8_within(
                    &decoded,
                    &x.codes,
                    (x.scale, x.offset),
                    x.norm,
                    f32::INFINITY,
                );
                let got = crate::Graph::distance(&g, &q, b);
                let between = crate::GraphMut::distance_between(&g, a, b);
                assert_eq!(got, between, "{metric:?} {a} {b}");
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{metric:?} {a} {b}: {got} vs {want}"
                );
            }
        }
    }
}
