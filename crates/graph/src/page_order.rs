//! The order a built graph's nodes are laid out on pages.

use crate::{Graph, MemoryGraph};

/// Breadth-first over layer 0 from the entry point (then from every node
/// not reached yet, in id order), so a node's neighbours tend to share its
/// pages and a scan reads each page once for several of them. Every node
/// appears exactly once.
pub fn page_order(graph: &MemoryGraph) -> Vec<u32> {
    let n = graph.len();
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut buf = Vec::new();
    let starts = graph
        .entry_point()
        .map(|(ep, _)| ep)
        .into_iter()
        .chain(0..n as u32);
    for start in starts {
        if seen[start as usize] {
            continue;
        }
        seen[start as usize] = true;
        let mut head = order.len();
        order.push(start);
        while head < order.len() {
            let node = order[head];
            head += 1;
            buf.clear();
            Graph::neighbours(graph, node, 0, &mut buf);
            for &next in &buf {
                if !std::mem::replace(&mut seen[next as usize], true) {
                    order.push(next);
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;

    /// A graph of `n` 2-d points on a line, linked.
    fn line(n: usize) -> MemoryGraph {
        let g = MemoryGraph::new(2, Metric::L2, 4, 16, 7);
        let mut g = g;
        for i in 0..n {
            g.add(&[i as f32, 0.0]);
        }
        g.insert_range(0..n as u32);
        g
    }

    #[test]
    fn every_node_once_entry_point_first() {
        let g = line(300);
        let order = page_order(&g);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..300).collect::<Vec<u32>>());
        assert_eq!(order[0], g.entry_point().expect("built").0);
    }

    #[test]
    fn neighbours_follow_their_node_closely() {
        // Breadth-first: a node's layer-0 neighbours appear in the order no
        // later than the nodes discovered after it (they are queued when
        // it is expanded, or were earlier).
        let g = line(200);
        let order = page_order(&g);
        let mut pos = vec![0usize; order.len()];
        for (i, &n) in order.iter().enumerate() {
            pos[n as usize] = i;
        }
        let mut buf = Vec::new();
        let mut end = 1; // end of the queue after expanding order[i]
        for (i, &node) in order.iter().enumerate() {
            buf.clear();
            Graph::neighbours(&g, node, 0, &mut buf);
            end = end.max(i + 1);
            for &nb in &buf {
                end = end.max(pos[nb as usize] + 1);
                assert!(pos[nb as usize] < end);
            }
        }
        // and in a linked line graph, the whole graph is one component
        assert_eq!(end, order.len());
    }

    #[test]
    fn empty_and_unlinked_graphs() {
        let g = MemoryGraph::new(2, Metric::L2, 4, 16, 7);
        assert!(page_order(&g).is_empty());
        let mut g = MemoryGraph::new(2, Metric::L2, 4, 16, 7);
        for i in 0..5 {
            g.add(&[i as f32, 1.0]);
        }
        // added, never linked: no entry point, id order
        assert_eq!(page_order(&g), vec![0, 1, 2, 3, 4]);
    }
}
