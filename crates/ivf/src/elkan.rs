//! Elkan's bounds for the Lloyd passes of [`crate::kmeans`] under L2
//! (Elkan, "Using the triangle inequality to accelerate k-means", 2003).
//!
//! Each row keeps an upper bound on its distance to its own centre and a
//! lower bound on its distance to every centre; after an update the upper
//! bound grows by its centre's shift and each lower bound shrinks by that
//! centre's own shift (to zero for a centre a balancing round replaced).
//! A row whose upper bound is under half the gap from its centre to the
//! nearest other one keeps its centre unmeasured. Otherwise a centre is
//! measured only when neither its lower bound nor half its gap from the
//! row's best centre so far rules it out, and the row's own centre is
//! measured (tightening the upper bound) before the first such centre.
//! Where centres move little, most rows measure nothing or one centre,
//! where Hamerly's single bound ([`crate::hamerly`]) measures the own
//! centre of every row and all the others of many.
//!
//! Bounds keep a margin for the kernels' rounding and a centre is skipped
//! only when strictly farther, so the labels are the full search's, tie
//! for tie. The price is `rows x centres` floats: used where they fit
//! [`ELKAN_BOUNDS`].

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::kmeans::{check, set_label, Cancelled, Moves, CHUNK, MARGIN};
use crate::nearest::{gap_table, PRUNED_MAX_CENTRES};

/// Most bounds (rows x centres) Elkan's passes keep: 16 MiB of floats.
pub const ELKAN_BOUNDS: usize = 1 << 22;

/// Whether `n` rows and `k` centres get Elkan's bounds.
pub fn fits(n: usize, k: usize) -> bool {
    k <= PRUNED_MAX_CENTRES && n.saturating_mul(k) <= ELKAN_BOUNDS
}

/// Bytes of Elkan's state for `n` rows and `k` centres (bounds, upper
/// bounds, the centre-to-centre table).
pub fn memory_bytes(n: usize, k: usize) -> u64 {
    let (n, k) = (n as u64, k as u64);
    n * k * 4 + n * 4 + k * k * 4
}

/// One pass: gives each row its nearest centre, as the full search would.
/// `moves` is None for the first pass (every row measured against every
/// centre); `state` is the labels, distances to the centres (exact only
/// for rows whose centre was measured), upper bounds and `n x k` lower
/// bounds. Returns how many rows changed centre and whether every row's
/// distance was measured.
pub(crate) fn assign(
    rows: &[f32],
    dim: usize,
    centres: &[f32],
    moves: Option<&Moves>,
    state: (&mut [u32], &mut [f32], &mut [f32], &mut [f32]),
    cancel: &AtomicBool,
) -> Result<(usize, bool), Cancelled> {
    let (labels, dists, upper, lower) = state;
    let k = centres.len() / dim;
    // Half of each centre-to-centre gap (already shrunk by its margin).
    let half: Vec<f32> = gap_table(centres, dim).iter().map(|g| 0.5 * g).collect();
    // Half the gap from each centre to its nearest other one.
    let alone: Vec<f32> = (0..k)
        .map(|a| {
            (0..k)
                .filter(|&c| c != a)
                .map(|c| half[a * k + c])
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    let centre = |c: usize| &centres[c * dim..(c + 1) * dim];
    let (moved, exact) = labels
        .par_chunks_mut(CHUNK)
        .zip(dists.par_chunks_mut(CHUNK))
        .zip(upper.par_chunks_mut(CHUNK))
        .zip(lower.par_chunks_mut(CHUNK * k))
        .enumerate()
        .map(|(j, (((labels, dists), upper), lower))| {
            if cancel.load(Ordering::Relaxed) {
                return (0, true);
            }
            let mut moved = 0;
            let mut exact = true;
            for (t, ((label, dist), up)) in labels
                .iter_mut()
                .zip(dists.iter_mut())
                .zip(upper.iter_mut())
                .enumerate()
            {
                let x = &rows[(j * CHUNK + t) * dim..(j * CHUNK + t + 1) * dim];
                let low = &mut lower[t * k..(t + 1) * k];
                let best = match moves.filter(|_| *label != u32::MAX) {
                    None => {
                        let (best, d) = measure_all(x, dim, centres, low);
                        *up = d.sqrt() * (1.0 + MARGIN);
                        *dist = d;
                        best
                    }
                    Some(m) => {
                        for (l, &s) in low.iter_mut().zip(&m.shift) {
                            *l = (*l - s).max(0.0);
                        }
                        let mut best = *label as usize;
                        let mut u = *up + m.shift[best];
                        let mut best_d = f32::NAN;
                        if u >= alone[best] {
                            for c in 0..k {
                                if c == best || u < low[c] || u < half[best * k + c] {
                                    continue;
                                }
                                if best_d.is_nan() {
                                    // Tighten: the own centre, measured.
                                    best_d = distance::l2_squared(x, centre(best));
                                    u = best_d.sqrt() * (1.0 + MARGIN);
                                    low[best] = best_d.sqrt() * (1.0 - MARGIN);
                                    if u < low[c] || u < half[best * k + c] {
                                        continue;
                                    }
                                }
                                let d = distance::l2_squared(x, centre(c));
                                low[c] = d.sqrt() * (1.0 - MARGIN);
                                if d < best_d || (d == best_d && c < best) {
                                    best = c;
                                    best_d = d;
                                    u = d.sqrt() * (1.0 + MARGIN);
                                }
                            }
                        }
                        *up = u;
                        if best_d.is_nan() {
                            exact = false;
                        } else {
                            *dist = best_d;
                        }
                        best
                    }
                };
                moved += set_label(label, best);
            }
            (moved, exact)
        })
        .reduce(|| (0, true), |a, b| (a.0 + b.0, a.1 && b.1));
    check(cancel)?;
    Ok((moved, exact))
}

/// Measures `x` against every centre, setting its lower bounds; returns
/// the nearest (ties: the lower) and its squared distance.
fn measure_all(x: &[f32], dim: usize, centres: &[f32], low: &mut [f32]) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (c, (centre, l)) in centres.chunks_exact(dim).zip(low.iter_mut()).enumerate() {
        let d = distance::l2_squared(x, centre);
        *l = d.sqrt() * (1.0 - MARGIN);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// The labels' distances to their centres, measured again (for an update
/// that needs them all after passes that left some stale).
pub(crate) fn measure_own(
    rows: &[f32],
    dim: usize,
    centres: &[f32],
    labels: &[u32],
    dists: &mut [f32],
) {
    dists
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(j, dists)| {
            for (t, d) in dists.iter_mut().enumerate() {
                let i = j * CHUNK + t;
                let c = labels[i] as usize;
                *d = distance::l2_squared(
                    &rows[i * dim..(i + 1) * dim],
                    &centres[c * dim..(c + 1) * dim],
                );
            }
        });
}
