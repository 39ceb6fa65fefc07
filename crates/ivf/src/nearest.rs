//! The centres nearest a vector: where an insert goes (one) and which lists
//! a search scans (`probes` of them).

use crate::kmeans::Assignment;

/// The nearest of `centres` (rows of `dim` floats) to `v` and its distance
/// as [`Assignment::distance`] measures it; ties go to the lower centre.
pub fn nearest_centre(centres: &[f32], dim: usize, v: &[f32], how: Assignment) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (c, centre) in centres.chunks_exact(dim).enumerate() {
        let d = how.distance(v, centre);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// The nearest centre of many rows under L2, skipping the centres the
/// triangle inequality rules out: with `b` the best centre so far, a centre
/// `c` with `|b - c| >= 2 |v - b|` is no nearer than `b` (Elkan's lemma),
/// so it is not measured. Each centre's others are kept sorted by their
/// distance from it, so a row walks out from its best centre so far and
/// stops at the first centre past that reach (starting over from a new
/// best). The answer is [`nearest_centre`]'s, tie for tie: a centre is
/// skipped only when it is strictly farther, beyond a margin for the
/// kernels' rounding, so every tie is measured and the lowest one kept.
pub struct PrunedNearest<'a> {
    centres: &'a [f32],
    dim: usize,
    /// `gaps[b * k + c]`: `|b - c|` shrunk by the rounding margin.
    gaps: Vec<f32>,
    /// `sorted[b * (k - 1)..][..k - 1]`: the centres other than `b`,
    /// nearest `b` first.
    sorted: Vec<u16>,
}

/// Relative margin the skipping keeps for rounding in the distance kernels
/// (their squared distances are within far less of the exact ones).
const PRUNE_MARGIN: f32 = 1e-3;

/// Most centres [`PrunedNearest`] takes (its table has one entry a pair).
pub const PRUNED_MAX_CENTRES: usize = 1024;

impl<'a> PrunedNearest<'a> {
    /// The table of centre-to-centre distances for `centres` (rows of
    /// `dim` floats) under `how`; None unless `how` is L2 and there are at
    /// most [`PRUNED_MAX_CENTRES`] centres.
    pub fn new(centres: &'a [f32], dim: usize, how: Assignment) -> Option<Self> {
        let k = centres.len() / dim.max(1);
        if how != Assignment::L2 || k > PRUNED_MAX_CENTRES || k == 0 || dim == 0 {
            return None;
        }
        let gaps = gap_table(centres, dim);
        let mut sorted = Vec::with_capacity(k * k.saturating_sub(1));
        for b in 0..k {
            let start = sorted.len();
            sorted.extend((0..k as u16).filter(|&c| c as usize != b));
            sorted[start..].sort_by(|&x, &y| {
                gaps[b * k + x as usize]
                    .total_cmp(&gaps[b * k + y as usize])
                    .then(x.cmp(&y))
            });
        }
        Some(PrunedNearest {
            centres,
            dim,
            gaps,
            sorted,
        })
    }

    /// [`nearest_centre`] of `v` under L2.
    pub fn nearest(&self, v: &[f32]) -> (usize, f32) {
        let k = self.centres.len() / self.dim;
        let centre = |c: usize| &self.centres[c * self.dim..(c + 1) * self.dim];
        let mut measured = [0u64; PRUNED_MAX_CENTRES / 64];
        let mut best = (0, distance::l2_squared(v, centre(0)));
        measured[0] = 1;
        'walk: loop {
            // twice |v - best| grown by the margin: a centre at least this
            // far from `best` is farther from `v` than `best`
            let reach = 2.0 * best.1.sqrt() * (1.0 + PRUNE_MARGIN);
            let b = best.0;
            for &c in &self.sorted[b * (k - 1)..(b + 1) * (k - 1)] {
                let c = c as usize;
                if self.gaps[b * k + c] >= reach {
                    break;
                }
                if measured[c / 64] & (1 << (c % 64)) != 0 {
                    continue;
                }
                measured[c / 64] |= 1 << (c % 64);
                let d = distance::l2_squared(v, centre(c));
                if d < best.1 || (d == best.1 && c < best.0) {
                    best = (c, d);
                    continue 'walk;
                }
            }
            return best;
        }
    }
}

/// The `k x k` table of centre-to-centre distances of `centres` (rows of
/// `dim` floats): `|b - c|` shrunk by the rounding margin at `b * k + c`.
pub(crate) fn gap_table(centres: &[f32], dim: usize) -> Vec<f32> {
    let k = centres.len() / dim;
    let mut gaps = vec![0f32; k * k];
    for b in 0..k {
        for c in 0..b {
            let d = distance::l2_squared(
                &centres[b * dim..(b + 1) * dim],
                &centres[c * dim..(c + 1) * dim],
            )
            .sqrt()
                * (1.0 - PRUNE_MARGIN);
            gaps[b * k + c] = d;
            gaps[c * k + b] = d;
        }
    }
    gaps
}

/// The `probes` centres nearest `v`, nearest first (ties: lower centre
/// first), each with its distance.
pub fn nearest_centres(
    centres: &[f32],
    dim: usize,
    v: &[f32],
    how: Assignment,
    probes: usize,
) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = centres
        .chunks_exact(dim)
        .enumerate()
        .map(|(c, centre)| (c, how.distance(v, centre)))
        .collect();
    let by_distance = |a: &(usize, f32), b: &(usize, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    let probes = probes.min(all.len());
    if probes == 0 {
        return Vec::new();
    }
    if probes < all.len() {
        all.select_nth_unstable_by(probes - 1, by_distance);
        all.truncate(probes);
    }
    all.sort_by(by_distance);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows around a few clusters, and some far from all of them.
    fn rows(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 10_000) as f32 / 10_000.0 - 0.5
        };
        (0..n * dim)
            .map(|i| ((i / dim) % 7) as f32 * 0.3 * (i % 3) as f32 + next() * 0.2)
            .collect()
    }

    #[test]
    fn pruned_nearest_is_nearest_centre() {
        for (dim, k) in [(1usize, 3usize), (8, 17), (128, 100), (37, 250)] {
            let centres = rows(k, dim, 7 + dim as u64);
            let pruned = PrunedNearest::new(&centres, dim, Assignment::L2).expect("L2");
            // and duplicated centres: ties go to the lower one
            let mut twice = centres.clone();
            twice.extend_from_slice(&centres);
            let pruned_twice = PrunedNearest::new(&twice, dim, Assignment::L2).expect("L2");
            for v in rows(2000, dim, 99 + k as u64).chunks_exact(dim) {
                let want = nearest_centre(&centres, dim, v, Assignment::L2);
                assert_eq!(pruned.nearest(v), want, "{dim}-d, {k} centres");
                assert_eq!(pruned_twice.nearest(v), want, "{dim}-d, ties");
            }
            for v in centres.chunks_exact(dim) {
                assert_eq!(
                    pruned.nearest(v),
                    nearest_centre(&centres, dim, v, Assignment::L2)
                );
            }
        }
        // A tie met from its higher centre first: 3 (one step out from 0)
        // then 1, both 1 away from the row.
        let line = [10.0, -1.0, 100.0, 1.0];
        let walk = PrunedNearest::new(&line, 1, Assignment::L2).expect("L2");
        assert_eq!(walk.nearest(&[0.0]), (1, 1.0));
        assert!(PrunedNearest::new(&[], 2, Assignment::L2).is_none());
        assert!(PrunedNearest::new(&[0.0; 8], 2, Assignment::InnerProduct).is_none());
        let many = vec![0.0; (PRUNED_MAX_CENTRES + 1) * 2];
        assert!(PrunedNearest::new(&many, 2, Assignment::L2).is_none());
    }
}
