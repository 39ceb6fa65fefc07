//! Vacuum repair after deleting 20% of the nodes.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::data::{build_parallel, build_sequential, clustered, heavy, recall, uniform};
use crate::{Graph, Metric};

#[test]
fn repair_after_deleting_a_fifth_keeps_recall_and_drops_every_dead_link() {
    let _quiet = heavy();
    println!("centres seed 41, data seed 42, query seed 43, build seed 44, delete seed 45");
    let data = clustered(10_000, 128, 41, 42);
    let queries = clustered(200, 128, 41, 43);
    let mut g = build_parallel(&data, Metric::L2, 16, 64, 44);
    let mut ids: Vec<u32> = (0..g.len() as u32).collect();
    ids.shuffle(&mut StdRng::seed_from_u64(45));
    let (ep, _) = g.entry_point().unwrap();
    let mut dead = vec![false; g.len()];
    for &id in ids.iter().take(g.len() / 5).chain([&ep]) {
        g.mark_deleted(id);
        dead[id as usize] = true;
    }
    let before = recall(&g, &data, &queries, 10, 40, |i| !dead[i as usize]);
    g.repair();
    let after = recall(&g, &data, &queries, 10, 40, |i| !dead[i as usize]);
    println!("recall@10 on live nodes: before repair {before:.4}, after {after:.4}");
    let (new_ep, level) = g.entry_point().unwrap();
    assert!(!dead[new_ep as usize], "entry point still deleted");
    assert_eq!(level, g.level(new_ep));
    for id in (0..g.len() as u32).filter(|&i| !dead[i as usize]) {
        for lc in 0..=g.level(id) {
            let list = g.neighbour_list(id, lc);
            assert!(
                list.iter().all(|&n| !dead[n as usize]),
                "{id} -> deleted at {lc}"
            );
        }
    }
    assert!(after >= 0.95, "recall after repair {after}");
}

#[test]
fn deleted_entry_point_is_replaced_by_a_highest_level_live_node() {
    println!("data seed 46, build seed 47");
    let data = uniform(500, 8, 46);
    let mut g = build_sequential(&data, Metric::L2, 4, 16, 47);
    // Delete every node at the top two levels that exist.
    let (_, top) = g.entry_point().unwrap();
    assert!(top >= 2, "seed gives a graph too flat for this test");
    let doomed: Vec<u32> = (0..g.len() as u32)
        .filter(|&i| g.level(i) + 1 >= top)
        .collect();
    for &id in &doomed {
        g.mark_deleted(id);
    }
    g.repair();
    let (ep, level) = g.entry_point().unwrap();
    assert!(!g.is_deleted(ep));
    let best = (0..g.len() as u32)
        .filter(|&i| !g.is_deleted(i))
        .map(|i| g.level(i))
        .max()
        .unwrap();
    assert_eq!(level, best, "a live node of the highest remaining level");
    // Live nodes stay reachable (a node whose every in-link came from a
    // deleted node can be orphaned, as in plain HNSW: allow 1%).
    let mut it = crate::IterativeSearch::new(&g, &data[0], (ep, level), 10, usize::MAX);
    let mut count = 0;
    while it.next(&g).is_some() {
        count += 1;
    }
    let live = g.len() - doomed.len();
    println!(
        "{count} of {live} live nodes reachable after deleting {}",
        doomed.len()
    );
    assert!(count * 100 >= live * 99, "{count} of {live}");
}
