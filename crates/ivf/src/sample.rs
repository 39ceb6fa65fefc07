//! The rows k-means trains on: a uniform sample of the table, drawn in one
//! pass with a seeded reservoir (Algorithm R), so the same table read in
//! the same order gives the same sample and the same index.

use crate::rng::Rng;

/// A reservoir of at most `capacity` rows of `dims` floats.
#[derive(Debug)]
pub struct Reservoir {
    dims: usize,
    capacity: usize,
    seen: u64,
    rows: Vec<f32>,
    rng: Rng,
}

impl Reservoir {
    /// An empty reservoir.
    pub fn new(dims: usize, capacity: usize, seed: u64) -> Reservoir {
        Reservoir {
            dims,
            capacity,
            seen: 0,
            rows: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    /// Offers one row (of `dims` floats): kept with probability
    /// `capacity / rows offered so far`.
    pub fn offer(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.dims, "row of the wrong width");
        self.seen += 1;
        if self.len() < self.capacity {
            self.rows.extend_from_slice(row);
            return;
        }
        let j = self.rng.below(self.seen.min(usize::MAX as u64) as usize);
        if j < self.capacity {
            self.rows[j * self.dims..(j + 1) * self.dims].copy_from_slice(row);
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len() / self.dims.max(1)
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample, rows of `dims` floats.
    pub fn into_rows(self) -> Vec<f32> {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_capacity() {
        let mut r = Reservoir::new(2, 10, 1);
        for i in 0..5 {
            r.offer(&[i as f32, 0.0]);
        }
        assert_eq!(r.len(), 5);
        assert_eq!(r.seen(), 5);
        assert_eq!(r.into_rows()[8], 4.0);
    }

    #[test]
    fn uniform_and_reproducible() {
        let draw = |seed| {
            let mut r = Reservoir::new(1, 1000, seed);
            for i in 0..100_000 {
                r.offer(&[i as f32]);
            }
            r.into_rows()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        assert_eq!(a.len(), 1000);
        // Each tenth of the input gets about a tenth of the sample.
        for part in 0..10 {
            let lo = part as f32 * 10_000.0;
            let n = a.iter().filter(|&&x| x >= lo && x < lo + 10_000.0).count();
            assert!((60..=140).contains(&n), "part {part}: {n}");
        }
    }
}
