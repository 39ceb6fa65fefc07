//! Single inserts into a graph a build left fully reachable (as `INSERT`s
//! into an on-page index): a back-link's shrink may drop a node's only
//! in-link (often a bridge the build's `connect` added), and with it the
//! node and whatever lies behind it. A store that
//! [`crate::GraphMut::keeps_reach`] must keep every node reachable.

use super::data::{build_sequential, very_sparse};
use super::store::VecStore;
use crate::{insert, InsertParams, LevelGenerator, Metric, SearchScratch, DEFAULT_MAX_LEVEL};
use crate::{Graph, MemoryGraph};

/// Nodes reachable at layer 0 from `ep` (breadth first).
fn reached(store: &VecStore, ep: u32) -> usize {
    let mut seen = vec![false; store.vectors.len()];
    let (mut queue, mut buf) = (vec![ep], Vec::new());
    seen[ep as usize] = true;
    while let Some(n) = queue.pop() {
        buf.clear();
        store.neighbours(n, 0, &mut buf);
        for &e in &buf {
            if !std::mem::replace(&mut seen[e as usize], true) {
                queue.push(e);
            }
        }
    }
    seen.iter().filter(|&&s| s).count()
}

/// Builds the first `built` rows of `data` (bridged: all reachable), copies
/// the graph into a [`VecStore`] without spare links, inserts the other rows
/// one at a time, and returns (reached at layer 0 after the build, after
/// the inserts, rows).
fn inserts_after_build(
    data: &[Vec<f32>],
    built: usize,
    metric: Metric,
    keep: bool,
) -> (usize, usize, usize) {
    let (m, efc, seed) = (8, 64, 5);
    let g: MemoryGraph = build_sequential(&data[..built], metric, m, efc, seed);
    let mut gen = LevelGenerator::new(m, DEFAULT_MAX_LEVEL, seed + 1);
    let levels: Vec<usize> = (0..data.len() as u32)
        .map(|id| {
            if (id as usize) < built {
                g.level(id)
            } else {
                gen.next_level()
            }
        })
        .collect();
    let mut store = VecStore::new(metric, m, data.to_vec(), levels.clone());
    store.keep_reach = keep;
    for id in 0..built as u32 {
        for lc in 0..=levels[id as usize] {
            *store.links[id as usize]
                .lock()
                .unwrap()
                .get_mut(lc)
                .unwrap() = g.neighbour_list(id, lc);
        }
    }
    let mut ep = g.entry_point();
    let before = reached(&store, ep.unwrap().0);
    let params = InsertParams {
        m,
        ef_construction: efc,
    };
    let mut scratch = SearchScratch::new();
    for id in built as u32..data.len() as u32 {
        let level = levels[id as usize];
        if insert(
            &store,
            id,
            &store.query(id),
            level,
            ep,
            params,
            &mut scratch,
        ) {
            ep = Some((id, level));
        }
    }
    (before, reached(&store, ep.unwrap().0), data.len())
}

#[test]
fn single_inserts_keep_every_node_reachable() {
    let mut lost_without = 0;
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::L1] {
        for seed in 1..=4 {
            let data = very_sparse(500, 32, seed);
            let (built, after, n) = inserts_after_build(&data, 400, metric, true);
            assert_eq!(
                built, 400,
                "{metric:?} seed {seed}: the build bridges to every row"
            );
            assert_eq!(
                after, n,
                "{metric:?} seed {seed}: {after} of {n} reachable after inserts"
            );
            let (_, after, n) = inserts_after_build(&data, 400, metric, false);
            println!("{metric:?} seed {seed}: without keeps_reach {after} of {n} reachable");
            lost_without += n - after;
        }
    }
    // The data does cut nodes off when the shrink may drop any link.
    assert!(
        lost_without > 0,
        "no node was ever cut off: the test shows nothing"
    );
}
