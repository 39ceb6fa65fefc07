//! The upper-layer copy: its descent ends where the store's own does.

use super::data::{build_sequential, clustered, labelled_clusters};
use crate::{
    entry_points, IterativeSearch, MemoryGraph, Metric, SearchScratch, UpperLayers, UPPER_EF,
};

/// Copies every node above layer 0 of `g` (or only those `keep` accepts).
fn copy_upper(g: &MemoryGraph, keep: impl Fn(u32) -> bool) -> UpperLayers<u32> {
    let mut upper = UpperLayers::new(g.metric(), g.dim());
    for id in 0..g.len() as u32 {
        let level = g.level(id);
        if level == 0 || !keep(id) {
            continue;
        }
        let h = g.half_vector(id);
        let lists = (1..=level).map(|lc| g.neighbour_list(id, lc)).collect();
        upper.add(id, level, &h.codes, h.scale, h.norm, lists);
    }
    upper.finish();
    upper
}

#[test]
fn descent_on_the_copy_matches_the_store() {
    println!("centres seed 41, data seed 42, query seed 43, build seed 44");
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct, Metric::L1] {
        let data = clustered(4_000, 32, 41, 42);
        let queries = clustered(60, 32, 41, 43);
        let g = build_sequential(&data, metric, 8, 32, 44);
        let upper = copy_upper(&g, |_| true);
        let ep = g.entry_point().expect("a built graph");
        let above = (0..g.len() as u32).filter(|&i| g.level(i) > 0).count();
        assert_eq!(upper.len(), above);
        assert!(above > 0 && above < g.len() / 4, "{above} upper nodes");
        for q in &queries {
            let q = metric.prepare(q).expect("non-zero query");
            let mut want = Vec::new();
            entry_points(&g, &q, ep, &mut SearchScratch::new(), &mut want);
            let got = upper.entry_points(&q, ep).expect("ep is copied");
            assert_eq!(got, want, "{metric:?}");
            assert!(!got.is_empty() && got.len() <= UPPER_EF);
            // A search started there is the search started at the top.
            let mut a = IterativeSearch::new(&g, &q, ep, 20, usize::MAX);
            let mut b = IterativeSearch::from_entries(&g, &q, &got, 20, usize::MAX);
            for _ in 0..20 {
                assert_eq!(a.next(&g), b.next(&g));
            }
        }
    }
}

#[test]
fn a_partial_copy_still_ends_on_a_copied_node() {
    let data = clustered(4_000, 32, 41, 42);
    let g = build_sequential(&data, Metric::L2, 8, 32, 44);
    let ep = g.entry_point().expect("a built graph");
    // Drop every third upper node except the entry point: their links go.
    let upper = copy_upper(&g, |id| id == ep.0 || id % 3 != 0);
    assert!(!upper.contains(
        (0..g.len() as u32)
            .find(|&i| g.level(i) > 0 && i % 3 == 0 && i != ep.0)
            .unwrap()
    ));
    for q in &clustered(30, 32, 41, 45) {
        for c in upper.entry_points(q, ep).expect("ep is copied") {
            assert!(
                upper.contains(c.id),
                "ended on {} which is not copied",
                c.id
            );
            assert_eq!(
                c.distance,
                Metric::L2.to_half(q, g.codes(c.id), g.half_vector(c.id).scale, 0.0)
            );
        }
    }
    let empty: UpperLayers<u32> = UpperLayers::new(Metric::L2, 32);
    assert!(empty.is_empty());
    assert_eq!(empty.entry_points(&data[0], ep), None);
}

#[test]
fn deleted_upper_nodes_do_not_move_the_entry_points() {
    // The copy knows nothing of deletions; the pages do. Both must seed
    // layer 0 alike, or a scan would answer differently with the copy.
    println!("centres seed 41, data seed 42, query seed 46, build seed 44");
    let data = clustered(4_000, 32, 41, 42);
    let mut g = build_sequential(&data, Metric::L2, 8, 32, 44);
    let upper = copy_upper(&g, |_| true);
    let ep = g.entry_point().expect("a built graph");
    let queries = clustered(40, 32, 41, 46);
    let before: Vec<_> = queries
        .iter()
        .map(|q| upper.entry_points(q, ep).expect("ep is copied"))
        .collect();
    let deleted = (0..g.len() as u32)
        .filter(|&i| g.level(i) > 0 && i % 2 == 0)
        .collect::<Vec<_>>();
    assert!(!deleted.is_empty());
    for &id in &deleted {
        g.mark_deleted(id);
    }
    let mut met_deleted = 0;
    for (q, want) in queries.iter().zip(&before) {
        let mut got = Vec::new();
        entry_points(&g, q, ep, &mut SearchScratch::new(), &mut got);
        assert_eq!(&got, want);
        met_deleted += got.iter().filter(|c| deleted.contains(&c.id)).count();
    }
    assert!(met_deleted > 0, "no deleted node among the entry points");
}

#[test]
fn a_copy_of_8_bit_elements_measures_them_as_the_pages_do() {
    // An index of 8-bit copies keeps its upper nodes' 8-bit codes: the
    // entry points found on the copy come with the distances the pages'
    // 8-bit copies give.
    use distance::sq8::Sq8Vector;
    let data = clustered(2_000, 32, 41, 42);
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct, Metric::L1] {
        let g = build_sequential(&data, metric, 8, 32, 44);
        let mut upper = UpperLayers::new(metric, g.dim());
        let mut copies = std::collections::HashMap::new();
        for id in 0..g.len() as u32 {
            let level = g.level(id);
            if level == 0 {
                continue;
            }
            let s = Sq8Vector::from_half(&g.half_vector(id));
            let lists = (1..=level).map(|lc| g.neighbour_list(id, lc)).collect();
            upper.add_sq8(id, level, &s.codes, (s.scale, s.offset), s.norm, lists);
            copies.insert(id, s);
        }
        upper.finish();
        let ep = g.entry_point().expect("a built graph");
        for q in &clustered(20, 32, 41, 46) {
            let q = metric.prepare(q).expect("non-zero query");
            let got = upper.entry_points(&q, ep).expect("ep is copied");
            assert!(!got.is_empty());
            for c in got {
                let s = &copies[&c.id];
                let want =
                    metric.to_sq8_within(&q, &s.codes, (s.scale, s.offset), s.norm, f32::INFINITY);
                assert_eq!(c.distance, want, "{metric:?}");
            }
        }
    }
}

#[test]
fn descent_on_a_copy_of_packed_bits_matches_the_store() {
    // A packed-bit index copies its upper nodes' words as "codes": the
    // descent on the copy ends where the one on the store does.
    use rand::{Rng, SeedableRng};
    let bits = 300;
    let mut rng = rand::rngs::StdRng::seed_from_u64(47);
    let centres: Vec<Vec<bool>> = (0..8)
        .map(|_| (0..bits).map(|_| rng.gen_bool(0.3)).collect())
        .collect();
    let mut draw = |n: usize| -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                centres[i % 8]
                    .iter()
                    .map(|&b| f32::from(u8::from(b ^ rng.gen_bool(0.1))))
                    .collect()
            })
            .collect()
    };
    let (data, queries) = (draw(3_000), draw(30));
    for metric in [Metric::L1.packed(), Metric::Jaccard.packed()] {
        let dim = 4 * distance::packed::words(bits);
        let mut g = MemoryGraph::new(dim, metric, 8, 32, 44);
        for v in &data {
            g.add(v);
        }
        let mut scratch = SearchScratch::new();
        for id in 0..g.len() as u32 {
            g.insert(id, &mut scratch);
        }
        let upper = copy_upper(&g, |_| true);
        let ep = g.entry_point().expect("a built graph");
        assert!(!upper.is_empty());
        for q in &queries {
            let q = metric.prepare(q).expect("a packed query");
            let mut want = Vec::new();
            entry_points(&g, &q, ep, &mut SearchScratch::new(), &mut want);
            let got = upper.entry_points(&q, ep).expect("ep is copied");
            assert_eq!(got, want, "{metric:?}");
        }
    }
}

/// `n` sparse rows of 10-40 non-zeros among `dim` terms, low terms far
/// more common (SPLADE-like): (indices ascending, values).
fn term_rows(n: usize, dim: u32, seed: u64) -> Vec<(Vec<u32>, Vec<f32>)> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let nnz = rng.gen_range(10..=40);
            let mut idx: Vec<u32> = (0..nnz)
                .map(|_| (rng.gen_range(0f64..1.0).powi(3) * dim as f64) as u32)
                .collect();
            idx.sort_unstable();
            idx.dedup();
            let val = idx.iter().map(|_| rng.gen_range(0.05f32..2.0)).collect();
            (idx, val)
        })
        .collect()
}

#[test]
fn descent_on_a_copy_of_sparse_elements_matches_the_store() {
    println!("data seed 51, query seed 52, build seed 53");
    let rows = term_rows(3_000, 2_000, 51);
    let queries = term_rows(40, 2_000, 52);
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct, Metric::L1] {
        let mut g = MemoryGraph::new_sparse(2_000, metric, 8, 32, 53);
        for (idx, val) in &rows {
            g.add_sparse(idx, val, 16);
        }
        let mut scratch = SearchScratch::new();
        for id in 0..g.len() as u32 {
            g.insert(id, &mut scratch);
        }
        g.shrink_lists();
        let mut upper = UpperLayers::new(metric, 2_000);
        let mut bytes = Vec::new();
        for id in 0..g.len() as u32 {
            let level = g.level(id);
            if level > 0 {
                let (idx, val) = &rows[id as usize];
                bytes.clear();
                distance::sparse::encode(idx, val, &mut bytes);
                let lists = (1..=level).map(|lc| g.neighbour_list(id, lc)).collect();
                let norm = g.sparse_copy(id).1;
                upper.add_sparse(id, level, &bytes, idx.len(), norm, lists);
            }
        }
        upper.finish();
        assert!(upper.len() > 100, "{} upper nodes", upper.len());
        let ep = g.entry_point().expect("a built graph");
        for (idx, val) in &queries {
            let mut q = Vec::new();
            distance::sparse::pack(idx, val, &mut q);
            assert!(metric.prepare_sparse_in_place(&mut q));
            let mut want = Vec::new();
            entry_points(&g, &q, ep, &mut SearchScratch::new(), &mut want);
            let got = upper.entry_points(&q, ep).expect("ep is copied");
            assert!(!got.is_empty());
            assert_eq!(got, want, "{metric:?}");
        }
    }
}

#[test]
fn searches_enter_layer_0_in_the_query_s_cluster() {
    // 200 tight clusters far apart (centres ~8 apart, points ~0.85 from
    // their centre): each cluster's lower layers link mostly within it,
    // so a walk down the upper layers can end in a wrong cluster that a
    // layer-0 search at a small ef_search does not leave. With the paper's
    // greedy walk (ef 1) above layer 1, 43 of these 300 queries did.
    println!("200 clusters: centres seed 51, data seed 52, query seed 53, build seed 54");
    let (data, labels) = labelled_clusters(20_000, 32, 200, 0.15, 51, 52);
    let (queries, query_labels) = labelled_clusters(300, 32, 200, 0.15, 51, 53);
    let g = build_sequential(&data, Metric::L2, 6, 32, 54);
    let ep = g.entry_point().expect("a built graph");
    assert!(ep.1 >= 3, "levels up to {}", ep.1);
    let mut scratch = SearchScratch::new();
    let mut eps = Vec::new();
    let mut wrong = 0;
    for (q, &label) in queries.iter().zip(&query_labels) {
        entry_points(&g, q, ep, &mut scratch, &mut eps);
        wrong += usize::from(labels[eps[0].id as usize] != label);
    }
    println!("entered layer 0 in a wrong cluster: {wrong} of 300");
    assert!(
        wrong <= 12,
        "{wrong} of 300 queries entered a wrong cluster"
    );
}
