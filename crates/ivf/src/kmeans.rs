//! k-means for the coarse quantiser: k-means++ seeding, then Lloyd
//! iterations, then rounds that split the largest lists and give the
//! smallest lists' centres to the halves ([`balance`]), then a few more
//! Lloyd iterations, on rayon's current pool.
//!
//! Reproducible: the same data, parameters and seed give bit-identical
//! centres whatever the number of threads. Every sum whose order could
//! depend on scheduling is taken in a fixed order: the seeding's running
//! totals over fixed chunks in chunk order, and each centre's running sum
//! ([`crate::centre_sums`]: after the first pass only the rows that moved
//! are added and taken away) in row order, one task per centre.
//!
//! Lloyd iterations under L2 skip most distances by the triangle
//! inequality: Elkan's bounds (one a row and centre, [`crate::elkan`])
//! where they fit, else Hamerly's (one a row, [`crate::hamerly`]). The
//! answers are those of the full search ([`Pruning::None`]).
//!
//! Threads never block: they look at the `cancel` flag between chunks, so a
//! caller that waits for [`train`] on another thread (answering its own
//! interrupts meanwhile) stops it within one chunk of work.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::centre_sums::CentreSums;
use crate::rng::Rng;

/// Rows per unit of parallel work (and per cancel check).
pub(crate) const CHUNK: usize = 1024;
/// The k-means++ seeding draws from about this many rows a centre ...
const SEED_ROWS_PER_CENTRE: usize = 32;
/// ... and at least this many (all of them when there are fewer).
const MIN_SEED_ROWS: usize = 2048;
/// Lloyd iterations stop once at most one row in this many moved.
const CONVERGED: usize = 1000;

/// How a row is given to a centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// The centre at the smallest Euclidean distance.
    L2,
    /// The centre with the largest inner product.
    InnerProduct,
    /// Packed bits (f32s whose bit patterns are the words' bytes, see
    /// `layout::Element::Bits`): the centre at the smallest Hamming
    /// distance, centres the majority bit of their rows
    /// ([`crate::bitmeans`]).
    Hamming,
}

impl Assignment {
    /// The quantity minimised: squared L2, or the negative inner product.
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Assignment::L2 => distance::l2_squared(a, b),
            Assignment::InnerProduct => distance::negative_inner_product(a, b),
            Assignment::Hamming => crate::bitmeans::hamming(a, b) as f32,
        }
    }

    /// The distance k-means++ seeding weights rows by: squared L2 (on
    /// unit rows for inner product), or Hamming distance, which for bits
    /// is the squared L2 distance of the 0/1 vectors.
    fn seeding(self) -> Assignment {
        match self {
            Assignment::L2 | Assignment::InnerProduct => Assignment::L2,
            Assignment::Hamming => Assignment::Hamming,
        }
    }
}

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Number of centres (lists), at least 1.
    pub k: usize,
    /// Most Lloyd iterations after the seeding; fewer once at most one row
    /// in a thousand moves.
    pub iterations: usize,
    /// Seed of the k-means++ draws.
    pub seed: u64,
    /// Spherical k-means (cosine): rows are normalised before training
    /// (rows of zero norm are left out) and centres after each update.
    pub spherical: bool,
    /// How rows are given to centres.
    pub assignment: Assignment,
}

/// How Lloyd passes skip distances; all give the full search's centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pruning {
    /// Every row measured against every centre in every pass.
    None,
    /// Hamerly's bounds ([`crate::hamerly`]): one float a row.
    Hamerly,
    /// Elkan's bounds ([`crate::elkan`]): one float a row and centre.
    Elkan,
    /// Elkan's where they fit ([`crate::elkan::ELKAN_BOUNDS`]), else
    /// Hamerly's; none for assignments other than L2.
    Auto,
}

impl Pruning {
    /// The pruning `n` rows and `k` centres under `how` get.
    fn resolve(self, n: usize, k: usize, how: Assignment) -> Pruning {
        match self {
            _ if how != Assignment::L2 => Pruning::None,
            Pruning::Auto if crate::elkan::fits(n, k) => Pruning::Elkan,
            Pruning::Auto => Pruning::Hamerly,
            Pruning::Elkan if !crate::elkan::fits(n, k) => Pruning::Hamerly,
            other => other,
        }
    }
}

/// The caller set the cancel flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// Bytes [`train`] allocates for `rows` rows of `dim` dimensions and `k`
/// centres (beside the data the caller holds), for memory accounting.
pub fn memory_bytes(rows: usize, dim: usize, k: usize, spherical: bool) -> u64 {
    let (rows, dim, k) = (rows as u64, dim as u64, k as u64);
    let copy = if spherical { rows * dim * 4 } else { 0 };
    // Centres twice (old and new), per-row distance, label, member index
    // and bound, per-centre member offsets, a few f64 rows per thread, and
    // Elkan's bounds where [`train`] uses them.
    let elkan = if crate::elkan::fits(rows as usize, k as usize) {
        crate::elkan::memory_bytes(rows as usize, k as usize)
    } else {
        0
    };
    let sums = CentreSums::memory_bytes(rows as usize, k as usize, dim as usize);
    copy + 2 * k * dim * 4 + rows * 16 + k * 8 + 64 * dim * 8 + elkan + sums
}

/// Trains `params.k` centres on `data` (rows of `dim` floats, all finite),
/// returned as `k * dim` floats. With no usable row, the centres are seeded
/// random vectors; with fewer distinct rows than `k`, some centres repeat.
pub fn train(
    data: &[f32],
    dim: usize,
    params: &Params,
    cancel: &AtomicBool,
) -> Result<Vec<f32>, Cancelled> {
    train_with(data, dim, params, cancel, Pruning::Auto)
}

/// [`train`] with the given pruning ([`Pruning::None`]: every row measured
/// against every centre in each pass, the reference the bounds must match).
pub fn train_with(
    data: &[f32],
    dim: usize,
    params: &Params,
    cancel: &AtomicBool,
    pruning: Pruning,
) -> Result<Vec<f32>, Cancelled> {
    assert!(
        dim > 0 && data.len().is_multiple_of(dim),
        "data is not whole rows"
    );
    assert!(params.k > 0, "k must be at least 1");
    let normalised;
    let rows: &[f32] = if params.spherical {
        normalised = normalised_rows(data, dim);
        &normalised
    } else {
        data
    };
    let n = rows.len() / dim;
    let mut rng = Rng::new(params.seed);
    if n == 0 {
        return Ok(random_centres(params.k, dim, params.spherical, &mut rng));
    }
    let centres = seed_plus_plus(rows, dim, params.k, params.assignment, &mut rng, cancel)?;
    let mut state = Lloyd::new(n, params.k, pruning.resolve(n, params.k, params.assignment));
    let centres = state.run(rows, dim, centres, params, params.iterations, cancel)?;
    // Bits are left as they are: a 2-means of majority bits splits a
    // cluster of noisy copies badly (recall fell from 1.0 to 0.6 at 2 of 8
    // lists in tests/server/test_ivfflat.py).
    if params.k < 2 || params.assignment == Assignment::Hamming {
        return Ok(centres);
    }
    let centres = balance(rows, dim, centres, params, (&mut state, &mut rng), cancel)?;
    state.run(rows, dim, centres, params, FINAL_ITERATIONS, cancel)
}

/// Rounds of [`balance`] at most.
const BALANCE_ROUNDS: usize = 10;
/// A list is split while it holds at least this many times the rows of the
/// smallest list.
const UNEVEN: usize = 2;
/// Lists split in one round of [`balance`]: one per this many lists (at
/// least one).
const LISTS_PER_SPLIT: usize = 10;
/// Lloyd iterations of the 2-means that splits a list.
const SPLIT_ITERATIONS: usize = 5;
/// Lloyd iterations after the last round of [`balance`].
const FINAL_ITERATIONS: usize = 5;

/// Evens out the lists' sizes: in each round (after one assignment and
/// update) the largest lists, one per [`LISTS_PER_SPLIT`], are each split
/// in two by a 2-means on their rows, the halves taking the places of the
/// list and of one of the smallest lists (whose rows go to their next
/// nearest centres in the next pass), while the list holds at least
/// [`UNEVEN`] times the smallest one's rows. A query at one probe scans
/// about sum(n_i^2)/N rows (n_i the list sizes, N the rows): on clustered
/// data plain k-means often gives one centre to a large cluster and
/// several to small ones, and scans up to twice the rows of even lists
/// for the same recall.
fn balance(
    rows: &[f32],
    dim: usize,
    mut centres: Vec<f32>,
    params: &Params,
    (state, rng): (&mut Lloyd, &mut Rng),
    cancel: &AtomicBool,
) -> Result<Vec<f32>, Cancelled> {
    let k = params.k;
    for _ in 0..BALANCE_ROUNDS {
        state.assign(rows, dim, &centres, params.assignment, cancel)?;
        let mut counts = vec![0usize; k];
        for &l in &state.labels {
            counts[l as usize] += 1;
        }
        // Lists by size, ties by number.
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
        let splits = (k / LISTS_PER_SPLIT).max(1);
        let pairs: Vec<(usize, usize)> = order[..splits]
            .iter()
            .zip(order.iter().rev())
            .filter(|&(&big, &small)| big != small && counts[big] >= UNEVEN * counts[small].max(1))
            .map(|(&big, &small)| (big, small))
            .collect();
        if pairs.is_empty() {
            break;
        }
        let old = centres;
        centres = state.update(rows, dim, &old, params, cancel)?;
        for &(big, small) in &pairs {
            let members: Vec<f32> = state
                .labels
                .iter()
                .enumerate()
                .filter(|&(_, &l)| l as usize == big)
                .flat_map(|(i, _)| rows[i * dim..(i + 1) * dim].iter().copied())
                .collect();
            let halves = Params {
                k: 2,
                iterations: SPLIT_ITERATIONS,
                seed: rng.next_u64(),
                ..params.clone()
            };
            let two = split(&members, dim, &halves, state.pruning, cancel)?;
            centres[small * dim..(small + 1) * dim].copy_from_slice(&two[..dim]);
            centres[big * dim..(big + 1) * dim].copy_from_slice(&two[dim..]);
        }
        // The split lists' centres jumped: the next pass measures them for
        // every row, and bounds the others by their shifts.
        if state.pruning != Pruning::None {
            state.moves = Some(Moves::new(&old, &centres, dim, &pairs, state.pruning));
        }
    }
    Ok(centres)
}

/// Two centres for the rows of one list (k-means++ and Lloyd, no
/// balancing; the rows are unit length already when spherical), with the
/// `pruning` of the whole sample's passes.
fn split(
    members: &[f32],
    dim: usize,
    params: &Params,
    pruning: Pruning,
    cancel: &AtomicBool,
) -> Result<Vec<f32>, Cancelled> {
    let n = members.len() / dim;
    let mut rng = Rng::new(params.seed);
    let centres = seed_plus_plus(members, dim, params.k, params.assignment, &mut rng, cancel)?;
    let mut state = Lloyd::new(n, params.k, pruning.resolve(n, params.k, params.assignment));
    state.run(members, dim, centres, params, params.iterations, cancel)
}

/// The per-row state of Lloyd iterations: labels, distances to their
/// centres, the bounds of the `pruning` and the last moves.
struct Lloyd {
    labels: Vec<u32>,
    dists: Vec<f32>,
    /// Whether `dists` holds every row's distance to its centre (Elkan's
    /// passes leave the distances of rows they did not measure stale).
    dists_exact: bool,
    /// Lower bounds: one a row (Hamerly) or one a row and centre (Elkan).
    lower: Vec<f32>,
    /// Elkan's upper bounds, one a row.
    upper: Vec<f32>,
    /// None, Hamerly or Elkan (resolved).
    pruning: Pruning,
    moves: Option<Moves>,
    /// The centres' running sums (not for Hamming: majority bits).
    sums: Option<CentreSums>,
}

impl Lloyd {
    /// Fresh state for `n` rows and `k` centres (no labels yet).
    fn new(n: usize, k: usize, pruning: Pruning) -> Lloyd {
        let (lower, upper) = match pruning {
            Pruning::Hamerly => (n, 0),
            Pruning::Elkan => (n * k, n),
            Pruning::None | Pruning::Auto => (0, 0),
        };
        Lloyd {
            labels: vec![u32::MAX; n],
            dists: vec![0f32; n],
            dists_exact: true,
            lower: vec![0f32; lower],
            upper: vec![0f32; upper],
            pruning,
            moves: None,
            sums: None,
        }
    }

    /// Gives each row its nearest centre; returns how many rows moved.
    fn assign(
        &mut self,
        rows: &[f32],
        dim: usize,
        centres: &[f32],
        how: Assignment,
        cancel: &AtomicBool,
    ) -> Result<usize, Cancelled> {
        match self.pruning {
            Pruning::Hamerly => crate::hamerly::assign(
                rows,
                dim,
                centres,
                self.moves.as_ref(),
                (&mut self.labels, &mut self.dists, &mut self.lower),
                cancel,
            ),
            Pruning::Elkan => {
                let (moved, exact) = crate::elkan::assign(
                    rows,
                    dim,
                    centres,
                    self.moves.as_ref(),
                    (
                        &mut self.labels,
                        &mut self.dists,
                        &mut self.upper,
                        &mut self.lower,
                    ),
                    cancel,
                )?;
                self.dists_exact = exact;
                Ok(moved)
            }
            Pruning::None | Pruning::Auto => assign(
                rows,
                dim,
                centres,
                how,
                &mut self.labels,
                &mut self.dists,
                cancel,
            ),
        }
    }

    /// New centres for the current labels ([`update`]), measuring the
    /// stale distances first where a centre is left empty (it takes the
    /// rows farthest from their centres).
    fn update(
        &mut self,
        rows: &[f32],
        dim: usize,
        centres: &[f32],
        params: &Params,
        cancel: &AtomicBool,
    ) -> Result<Vec<f32>, Cancelled> {
        if !self.dists_exact {
            let mut used = vec![false; centres.len() / dim];
            self.labels.iter().for_each(|&l| used[l as usize] = true);
            if used.contains(&false) {
                crate::elkan::measure_own(rows, dim, centres, &self.labels, &mut self.dists);
                self.dists_exact = true;
            }
        }
        if params.assignment != Assignment::Hamming {
            let (n, k) = (self.labels.len(), centres.len() / dim);
            self.sums
                .get_or_insert_with(|| CentreSums::new(n, k, dim))
                .follow(rows, &self.labels, cancel)?;
        }
        update(
            rows,
            dim,
            centres,
            (&self.labels, &self.dists),
            (params.spherical, self.sums.as_ref()),
            cancel,
        )
    }

    /// Up to `iterations` Lloyd iterations from `centres`, fewer once at
    /// most one row in [`CONVERGED`] moves.
    fn run(
        &mut self,
        rows: &[f32],
        dim: usize,
        mut centres: Vec<f32>,
        params: &Params,
        iterations: usize,
        cancel: &AtomicBool,
    ) -> Result<Vec<f32>, Cancelled> {
        let n = self.labels.len();
        for _ in 0..iterations {
            let moved = self.assign(rows, dim, &centres, params.assignment, cancel)?;
            // Converged: one row in a thousand or fewer changed centre
            // (the last moves barely shift the centres; each pass costs a
            // full assignment of the sample).
            if moved * CONVERGED <= n {
                break;
            }
            let new = self.update(rows, dim, &centres, params, cancel)?;
            if self.pruning != Pruning::None {
                self.moves = Some(Moves::new(&centres, &new, dim, &[], self.pruning));
            }
            centres = new;
        }
        Ok(centres)
    }
}

/// Relative margin the bounds keep for rounding in the distance kernels.
pub(crate) const MARGIN: f32 = 1e-4;

/// How the centres moved in the last update, for the bounded passes.
pub(crate) struct Moves {
    /// The largest shift (L2 distance of a centre from its old place) and
    /// its centre, and the second largest, among the centres not in
    /// `measured` (Hamerly).
    pub(crate) max: (f32, usize, f32),
    /// Centres every row measures instead of bounding them by their shift:
    /// those [`balance`] replaced and, for Hamerly, as many of the ones
    /// that moved most then.
    pub(crate) measured: Vec<usize>,
    /// Half the distance from each (new) centre to its nearest other one
    /// (Hamerly; Elkan measures its own table).
    pub(crate) half_gap: Vec<f32>,
    /// Each centre's shift, replaced ones included (Elkan).
    pub(crate) shift: Vec<f32>,
}

impl Moves {
    /// The moves from `old` to `new` centres, where each `(big, small)` of
    /// `splits` had the list `big` split into halves now in both places;
    /// for Hamerly those and as many others that moved most (ties: the
    /// lower) are measured.
    fn new(
        old: &[f32],
        new: &[f32],
        dim: usize,
        splits: &[(usize, usize)],
        pruning: Pruning,
    ) -> Moves {
        let replaced: Vec<usize> = splits.iter().flat_map(|&(b, s)| [b, s]).collect();
        let extra = if pruning == Pruning::Hamerly {
            replaced.len()
        } else {
            0
        };
        let shift: Vec<f32> = old
            .chunks_exact(dim)
            .zip(new.chunks_exact(dim))
            .map(|(a, b)| distance::l2_squared(a, b).sqrt())
            .collect();
        let mut is_measured = vec![false; shift.len()];
        replaced.iter().for_each(|&c| is_measured[c] = true);
        let mut rest: Vec<usize> = (0..shift.len()).filter(|&c| !is_measured[c]).collect();
        rest.sort_by(|&a, &b| shift[b].total_cmp(&shift[a]).then(a.cmp(&b)));
        let mut measured = replaced;
        measured.extend(rest.iter().take(extra));
        measured.iter().for_each(|&c| is_measured[c] = true);
        let mut max = (0f32, usize::MAX, 0f32);
        for (c, &d) in shift.iter().enumerate() {
            if is_measured[c] {
                continue;
            }
            if d > max.0 {
                max = (d, c, max.0);
            } else if d > max.2 {
                max.2 = d;
            }
        }
        if pruning == Pruning::Elkan {
            // A replaced centre is a centre that moved far: its bounds
            // shrink by the jump like any other's.
            return Moves {
                max,
                measured,
                half_gap: Vec::new(),
                shift,
            };
        }
        let k = shift.len();
        let half_gap = (0..k)
            .into_par_iter()
            .map(|a| {
                let ca = &new[a * dim..(a + 1) * dim];
                let nearest = (0..k)
                    .filter(|&c| c != a)
                    .map(|c| distance::l2_squared(ca, &new[c * dim..(c + 1) * dim]))
                    .fold(f32::INFINITY, f32::min);
                0.5 * nearest.sqrt()
            })
            .collect();
        Moves {
            max,
            measured,
            half_gap,
            shift,
        }
    }

    /// The largest shift of a centre other than `a`.
    pub(crate) fn others(&self, a: usize) -> f32 {
        if a == self.max.1 {
            self.max.2
        } else {
            self.max.0
        }
    }
}

/// Centres for a sample of at most `k` rows, where k-means has nothing to
/// do: the rows themselves (unit length and zero rows left out when
/// `spherical`), then seeded random vectors as [`train`] makes them for no
/// rows. Needs no memory beyond the `k * dim` floats it returns.
pub fn quick_centres(data: &[f32], dim: usize, k: usize, spherical: bool, seed: u64) -> Vec<f32> {
    assert!(
        dim > 0 && data.len().is_multiple_of(dim),
        "data is not whole rows"
    );
    let mut out = if spherical {
        normalised_rows(data, dim)
    } else {
        data.to_vec()
    };
    out.truncate(k * dim);
    let missing = k - out.len() / dim;
    out.extend(random_centres(missing, dim, spherical, &mut Rng::new(seed)));
    out
}

/// The rows of non-zero norm, scaled to unit length.
fn normalised_rows(data: &[f32], dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len());
    for row in data.chunks_exact(dim) {
        let norm = distance::norm(row);
        if norm > 0.0 && norm.is_finite() {
            out.extend(row.iter().map(|&x| (f64::from(x) / norm) as f32));
        }
    }
    out
}

/// `k` seeded random vectors, uniform in [-1, 1) per dimension (unit
/// length when `spherical`).
fn random_centres(k: usize, dim: usize, spherical: bool, rng: &mut Rng) -> Vec<f32> {
    let mut out: Vec<f32> = (0..k * dim)
        .map(|_| (rng.unit() * 2.0 - 1.0) as f32)
        .collect();
    if spherical {
        for c in out.chunks_exact_mut(dim) {
            normalise(c);
        }
    }
    out
}

/// Scales `v` to unit length; false (and `v` unchanged) at zero norm.
fn normalise(v: &mut [f32]) -> bool {
    let norm = distance::norm(v);
    if !(norm > 0.0 && norm.is_finite()) {
        return false;
    }
    for x in v.iter_mut() {
        *x = (f64::from(*x) / norm) as f32;
    }
    true
}

/// Gives a row centre `c`; 1 if that moved it, else 0.
pub(crate) fn set_label(label: &mut u32, c: usize) -> usize {
    let moved = *label != c as u32;
    *label = c as u32;
    usize::from(moved)
}

/// Returns `Err(Cancelled)` once the flag is set.
pub(crate) fn check(cancel: &AtomicBool) -> Result<(), Cancelled> {
    if cancel.load(Ordering::Relaxed) {
        Err(Cancelled)
    } else {
        Ok(())
    }
}

/// k-means++ (Arthur & Vassilvitskii) on evenly spaced rows of a large
/// sample (see [`SEED_ROWS_PER_CENTRE`]): each centre drawn with probability
/// proportional to a row's squared distance to the nearest centre so far.
fn seed_plus_plus(
    rows: &[f32],
    dim: usize,
    k: usize,
    how: Assignment,
    rng: &mut Rng,
    cancel: &AtomicBool,
) -> Result<Vec<f32>, Cancelled> {
    // Seeding draws from every `step`-th row: each draw passes over all
    // candidates, and k passes over a large sample are memory-bound
    // (80 MB at 10,000 x 2,048); the Lloyd passes then use every row.
    let step = (rows.len() / dim / (k * SEED_ROWS_PER_CENTRE).max(MIN_SEED_ROWS)).max(1);
    let n = (rows.len() / dim).div_ceil(step);
    let row = |i: usize| &rows[i * step * dim..(i * step + 1) * dim];
    let mut centres = Vec::with_capacity(k * dim);
    let mut best = vec![f32::INFINITY; n];
    let mut pick = rng.below(n);
    for c in 0..k {
        centres.extend_from_slice(row(pick));
        if c + 1 == k {
            break;
        }
        let centre = &centres[c * dim..];
        // New nearest distances, and each chunk's total, in chunk order.
        let totals: Vec<f64> = best
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(j, chunk)| {
                if cancel.load(Ordering::Relaxed) {
                    return 0.0;
                }
                let mut total = 0f64;
                for (t, b) in chunk.iter_mut().enumerate() {
                    let d = how.seeding().distance(row(j * CHUNK + t), centre);
                    if d < *b {
                        *b = d;
                    }
                    total += f64::from(*b);
                }
                total
            })
            .collect();
        check(cancel)?;
        let sum: f64 = totals.iter().sum();
        pick = if sum > 0.0 && sum.is_finite() {
            draw(&best, &totals, rng.unit() * sum)
        } else {
            // Every row sits on a centre already: repeat one.
            rng.below(n)
        };
    }
    Ok(centres)
}

/// The row at which the running total of `weights` passes `target`, found
/// through the per-chunk `totals` first.
fn draw(weights: &[f32], totals: &[f64], mut target: f64) -> usize {
    let mut chunk = totals.len() - 1;
    for (j, &t) in totals.iter().enumerate() {
        if target < t {
            chunk = j;
            break;
        }
        target -= t;
    }
    let start = chunk * CHUNK;
    let end = (start + CHUNK).min(weights.len());
    let mut last_positive = None;
    for (i, &w) in weights[start..end].iter().enumerate() {
        if w > 0.0 {
            last_positive = Some(start + i);
            if target < f64::from(w) {
                return start + i;
            }
            target -= f64::from(w);
        }
    }
    // Rounding left a sliver past the end: the chunk's last weighted row.
    last_positive.unwrap_or(start)
}

/// Gives each row its nearest centre (ties: the lower centre), recording
/// its distance; returns how many rows changed centre.
fn assign(
    rows: &[f32],
    dim: usize,
    centres: &[f32],
    how: Assignment,
    labels: &mut [u32],
    dists: &mut [f32],
    cancel: &AtomicBool,
) -> Result<usize, Cancelled> {
    let moved: usize = labels
        .par_chunks_mut(CHUNK)
        .zip(dists.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(j, (labels, dists))| {
            if cancel.load(Ordering::Relaxed) {
                return 0;
            }
            let mut moved = 0;
            for (t, (label, dist)) in labels.iter_mut().zip(dists.iter_mut()).enumerate() {
                let i = j * CHUNK + t;
                let (c, d) = crate::nearest::nearest_centre(
                    centres,
                    dim,
                    &rows[i * dim..(i + 1) * dim],
                    how,
                );
                moved += set_label(label, c);
                *dist = d;
            }
            moved
        })
        .sum();
    check(cancel)?;
    Ok(moved)
}

/// New centres: each the mean of its rows (from `sums`, brought up to
/// `labels` by the caller), or for [`Assignment::Hamming`] (no `sums`) the
/// majority bits of its rows; an empty centre takes the row farthest from
/// its own centre among those not yet taken, so no list stays empty while
/// rows remain.
fn update(
    rows: &[f32],
    dim: usize,
    old: &[f32],
    (labels, dists): (&[u32], &[f32]),
    (spherical, sums): (bool, Option<&CentreSums>),
    cancel: &AtomicBool,
) -> Result<Vec<f32>, Cancelled> {
    let k = old.len() / dim;
    let n = labels.len();
    let mut centres = vec![0f32; k * dim];
    let filled: Vec<bool> = match sums {
        Some(sums) => centres
            .par_chunks_mut(dim)
            .enumerate()
            .map(|(c, centre)| {
                if !sums.mean(c, centre) {
                    return false;
                }
                if spherical && !normalise(centre) {
                    centre.copy_from_slice(&old[c * dim..(c + 1) * dim]);
                }
                true
            })
            .collect(),
        None => {
            // Members of each centre, in row order (a counting sort).
            let mut start = vec![0usize; k + 1];
            for &l in labels {
                start[l as usize + 1] += 1;
            }
            for c in 0..k {
                start[c + 1] += start[c];
            }
            let mut fill = start.clone();
            let mut members = vec![0u32; n];
            for (i, &l) in labels.iter().enumerate() {
                members[fill[l as usize]] = i as u32;
                fill[l as usize] += 1;
            }
            centres
                .par_chunks_mut(dim)
                .enumerate()
                .map(|(c, centre)| {
                    let mine = &members[start[c]..start[c + 1]];
                    if mine.is_empty() || cancel.load(Ordering::Relaxed) {
                        return false;
                    }
                    crate::bitmeans::majority(rows, dim, mine, centre);
                    true
                })
                .collect()
        }
    };
    check(cancel)?;
    let empty: Vec<usize> = (0..k).filter(|&c| !filled[c]).collect();
    if !empty.is_empty() {
        // Farthest rows first; ties by row number.
        let mut far: Vec<usize> = (0..n).collect();
        far.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
        for (&c, &i) in empty.iter().zip(far.iter().cycle()) {
            centres[c * dim..(c + 1) * dim].copy_from_slice(&rows[i * dim..(i + 1) * dim]);
        }
    }
    Ok(centres)
}
