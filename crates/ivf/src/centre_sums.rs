//! Running sums of each centre's rows for the Lloyd updates of
//! [`crate::kmeans`]: after the first pass only the rows that changed
//! centre are subtracted from their old centre's sum and added to their
//! new one's, so an update late in training, when few rows move, costs
//! those rows rather than a pass over the whole sample.
//!
//! Reproducible: each centre's sum is kept by one task that applies its
//! rows' moves in row order, so the sums (and the centres) are the same
//! whatever the number of threads, and the same for every
//! [`crate::Pruning`], whose passes give the same labels.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::kmeans::{check, Cancelled};

/// Per-centre sums (f64) and counts of the rows labelled with it.
pub(crate) struct CentreSums {
    dim: usize,
    /// Centre `c`'s sum at `[c * dim, (c + 1) * dim)`.
    sums: Vec<f64>,
    counts: Vec<u64>,
    /// The label each row has in the sums (`u32::MAX`: in none yet).
    held: Vec<u32>,
}

impl CentreSums {
    /// Empty sums for `n` rows and `k` centres of `dim` floats.
    pub(crate) fn new(n: usize, k: usize, dim: usize) -> CentreSums {
        CentreSums {
            dim,
            sums: vec![0f64; k * dim],
            counts: vec![0u64; k],
            held: vec![u32::MAX; n],
        }
    }

    /// Bytes of the sums for `n` rows and `k` centres of `dim` floats.
    pub(crate) fn memory_bytes(n: usize, k: usize, dim: usize) -> u64 {
        (k * dim * 8 + k * 8 + n * 4) as u64
    }

    /// Brings the sums to `labels` (one centre a row, below `k`).
    pub(crate) fn follow(
        &mut self,
        rows: &[f32],
        labels: &[u32],
        cancel: &AtomicBool,
    ) -> Result<(), Cancelled> {
        let dim = self.dim;
        let k = self.counts.len();
        // The rows each centre gains or loses, in row order.
        let mut moves: Vec<Vec<u32>> = vec![Vec::new(); k];
        for (i, (&now, &was)) in labels.iter().zip(&self.held).enumerate() {
            if now != was {
                if was != u32::MAX {
                    moves[was as usize].push(i as u32);
                }
                moves[now as usize].push(i as u32);
            }
        }
        let held = &self.held;
        self.sums
            .par_chunks_mut(dim)
            .zip(self.counts.par_iter_mut())
            .zip(moves.par_iter())
            .enumerate()
            .for_each(|(c, ((sum, count), rows_moved))| {
                if rows_moved.is_empty() || cancel.load(Ordering::Relaxed) {
                    return;
                }
                for &i in rows_moved {
                    let i = i as usize;
                    let row = &rows[i * dim..(i + 1) * dim];
                    if held[i] == c as u32 {
                        for (s, &x) in sum.iter_mut().zip(row) {
                            *s -= f64::from(x);
                        }
                        *count -= 1;
                    } else {
                        for (s, &x) in sum.iter_mut().zip(row) {
                            *s += f64::from(x);
                        }
                        *count += 1;
                    }
                }
            });
        check(cancel)?;
        self.held.copy_from_slice(labels);
        Ok(())
    }

    /// Centre `c`'s mean into `centre`; false (and `centre` untouched)
    /// when it has no rows.
    pub(crate) fn mean(&self, c: usize, centre: &mut [f32]) -> bool {
        let count = self.counts[c];
        if count == 0 {
            return false;
        }
        let sum = &self.sums[c * self.dim..(c + 1) * self.dim];
        for (x, s) in centre.iter_mut().zip(sum) {
            *x = (s / count as f64) as f32;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each centre's mean, summed afresh.
    fn fresh(rows: &[f32], dim: usize, labels: &[u32], k: usize) -> Vec<Option<Vec<f32>>> {
        (0..k)
            .map(|c| {
                let mine: Vec<usize> = (0..labels.len())
                    .filter(|&i| labels[i] == c as u32)
                    .collect();
                (!mine.is_empty()).then(|| {
                    (0..dim)
                        .map(|d| {
                            let s: f64 = mine.iter().map(|&i| f64::from(rows[i * dim + d])).sum();
                            (s / mine.len() as f64) as f32
                        })
                        .collect()
                })
            })
            .collect()
    }

    #[test]
    fn follows_labels_to_the_fresh_means() {
        let (n, k, dim) = (500usize, 7usize, 5usize);
        let mut x = 88172645463325252u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let rows: Vec<f32> = (0..n * dim)
            .map(|_| (next() % 2000) as f32 / 100.0 - 10.0)
            .collect();
        let mut sums = CentreSums::new(n, k, dim);
        let mut labels: Vec<u32> = (0..n).map(|_| (next() % k as u64) as u32).collect();
        let cancel = AtomicBool::new(false);
        for round in 0..6 {
            // Fewer rows move each round; centre 6 empties in round 3.
            for l in labels.iter_mut() {
                if next() % (round + 2) == 0 {
                    *l = (next() % k as u64) as u32;
                }
                if round >= 3 && *l == 6 {
                    *l = 0;
                }
            }
            sums.follow(&rows, &labels, &cancel).unwrap();
            for (c, want) in fresh(&rows, dim, &labels, k).into_iter().enumerate() {
                let mut got = vec![f32::NAN; dim];
                match want {
                    None => assert!(!sums.mean(c, &mut got), "centre {c} has no rows"),
                    Some(want) => {
                        assert!(sums.mean(c, &mut got));
                        for (g, w) in got.iter().zip(&want) {
                            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{g} vs {w}");
                        }
                    }
                }
            }
        }
    }
}
