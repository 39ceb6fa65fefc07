//! The rows k-means trains on: a uniform sample of the table drawn in one
//! pass, in any order. Each row gets a seeded pseudo-random priority from
//! its identity (its heap TID) and the sample is the `capacity` rows of
//! lowest priority (bottom-k sampling), handed out in priority order: the
//! same table gives the same sample and the same index whatever order its
//! rows arrive in (a parallel scan's order varies from run to run).

use crate::rng::Rng;
use std::collections::BinaryHeap;

/// A sample of at most `capacity` rows of `dims` floats.
#[derive(Debug)]
pub struct Reservoir {
    dims: usize,
    capacity: usize,
    seed: u64,
    seen: u64,
    rows: Vec<f32>,
    /// (priority, slot in `rows`) of every held row, highest on top.
    held: BinaryHeap<(u64, usize)>,
}

impl Reservoir {
    /// An empty sample.
    pub fn new(dims: usize, capacity: usize, seed: u64) -> Reservoir {
        Reservoir {
            dims,
            capacity,
            seed,
            seen: 0,
            rows: Vec::new(),
            held: BinaryHeap::new(),
        }
    }

    /// Offers row `id` (`dims` floats; ids distinct): kept while its
    /// priority is among the `capacity` lowest offered.
    pub fn offer(&mut self, id: u64, row: &[f32]) {
        assert_eq!(row.len(), self.dims, "row of the wrong width");
        self.seen += 1;
        if self.capacity == 0 {
            return;
        }
        let priority = Rng::new(self.seed ^ id).next_u64();
        if self.held.len() < self.capacity {
            self.held.push((priority, self.held.len()));
            self.rows.extend_from_slice(row);
            return;
        }
        let mut top = self.held.peek_mut().expect("a full sample");
        if priority < top.0 {
            let slot = top.1;
            *top = (priority, slot);
            self.rows[slot * self.dims..(slot + 1) * self.dims].copy_from_slice(row);
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Rows offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample, rows of `dims` floats, lowest priority first.
    pub fn into_rows(self) -> Vec<f32> {
        let mut order = self.held.into_vec();
        order.sort_unstable();
        let mut out = Vec::with_capacity(self.rows.len());
        for (_, slot) in order {
            out.extend_from_slice(&self.rows[slot * self.dims..(slot + 1) * self.dims]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_capacity() {
        let mut r = Reservoir::new(2, 10, 1);
        for i in 0..5 {
            r.offer(i, &[i as f32, 0.0]);
        }
        assert_eq!(r.len(), 5);
        assert_eq!(r.seen(), 5);
        let mut firsts: Vec<f32> = r.into_rows().chunks(2).map(|c| c[0]).collect();
        firsts.sort_by(f32::total_cmp);
        assert_eq!(firsts, [0.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn uniform_reproducible_and_order_free() {
        let draw = |seed, reverse: bool| {
            let mut r = Reservoir::new(1, 1000, seed);
            let ids: Vec<u64> = if reverse {
                (0..100_000).rev().collect()
            } else {
                (0..100_000).collect()
            };
            for i in ids {
                r.offer(i, &[i as f32]);
            }
            r.into_rows()
        };
        let a = draw(7, false);
        assert_eq!(a, draw(7, false));
        assert_eq!(a, draw(7, true), "the arrival order changed the sample");
        assert_ne!(a, draw(8, false));
        assert_eq!(a.len(), 1000);
        // Each tenth of the input gets about a tenth of the sample.
        for part in 0..10 {
            let lo = part as f32 * 10_000.0;
            let n = a.iter().filter(|&&x| x >= lo && x < lo + 10_000.0).count();
            assert!((60..=140).contains(&n), "part {part}: {n}");
        }
    }
}
