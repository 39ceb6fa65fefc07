//! Hamerly's bounds for the Lloyd passes of [`crate::kmeans`] under L2:
//! each row keeps one lower bound on its distance to every centre but its
//! own, lowered by the largest shift of another centre after each update;
//! a row whose exact distance to its own centre stays below that bound (or
//! below half the gap from its centre to the nearest other one), with a
//! margin for rounding, provably keeps its centre and is not measured
//! against the others. Centres in [`Moves::measured`] (those a balancing
//! round replaced, and as many of those that moved most) are measured by
//! every row instead of bounded. One float a row, for any number of
//! centres; [`crate::elkan`] skips more where its bound per row and centre
//! fits.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::kmeans::{check, set_label, Cancelled, Moves, CHUNK, MARGIN};

/// The nearest centre to `x` (ties: the lower), its squared distance and
/// the squared distance to the second nearest (infinite with one centre).
fn nearest_two(centres: &[f32], dim: usize, x: &[f32]) -> (usize, f32, f32) {
    let mut best = (0, f32::INFINITY, f32::INFINITY);
    for (c, centre) in centres.chunks_exact(dim).enumerate() {
        let d = distance::l2_squared(x, centre);
        if d < best.1 {
            best = (c, d, best.1);
        } else if d < best.2 {
            best.2 = d;
        }
    }
    best
}

/// [`crate::kmeans`]'s assignment under L2 with Hamerly's bounds (see the
/// module note):
/// `moves` is None for the first pass (every row measured against every
/// centre); `state` is the labels, distances and lower bounds.
pub(crate) fn assign(
    rows: &[f32],
    dim: usize,
    centres: &[f32],
    moves: Option<&Moves>,
    state: (&mut [u32], &mut [f32], &mut [f32]),
    cancel: &AtomicBool,
) -> Result<usize, Cancelled> {
    let (labels, dists, lower) = state;
    let moved: usize = labels
        .par_chunks_mut(CHUNK)
        .zip(dists.par_chunks_mut(CHUNK))
        .zip(lower.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(j, ((labels, dists), lower))| {
            if cancel.load(Ordering::Relaxed) {
                return 0;
            }
            let mut moved = 0;
            for (t, ((label, dist), low)) in labels
                .iter_mut()
                .zip(dists.iter_mut())
                .zip(lower.iter_mut())
                .enumerate()
            {
                let i = j * CHUNK + t;
                let x = &rows[i * dim..(i + 1) * dim];
                if let (Some(m), true) = (moves, *label != u32::MAX) {
                    let a = *label as usize;
                    let bound =
                        m.measured
                            .iter()
                            .filter(|&&j| j != a)
                            .fold(*low - m.others(a), |b, &j| {
                                let d = distance::l2_squared(x, &centres[j * dim..(j + 1) * dim]);
                                b.min(d.sqrt() * (1.0 - MARGIN))
                            });
                    let own = distance::l2_squared(x, &centres[a * dim..(a + 1) * dim]);
                    if own.sqrt() * (1.0 + MARGIN) < bound.max(m.half_gap[a]) {
                        *low = bound;
                        *dist = own;
                        continue;
                    }
                }
                let (c, d, second) = nearest_two(centres, dim, x);
                moved += set_label(label, c);
                *dist = d;
                *low = second.sqrt() * (1.0 - MARGIN);
            }
            moved
        })
        .sum();
    check(cancel)?;
    Ok(moved)
}
