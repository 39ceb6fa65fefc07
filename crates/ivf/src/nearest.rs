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
