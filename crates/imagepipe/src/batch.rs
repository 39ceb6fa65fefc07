//! Many images at once: parallel decode and preprocessing, and stacking
//! the results into one batch tensor.
//!
//! The work runs on rayon's threads (the global pool, or whichever pool the
//! caller `install`s) and touches only the Rust-owned byte slices it is
//! given: callers inside Postgres copy each `bytea` out first.

use std::sync::Arc;

use ndarray::{Array3, Array4, Axis};
use rayon::prelude::*;

use crate::{
    preprocess_admitted, preprocess_bytes, Budget, Cancel, Error, Layout, Limits, Preprocess,
    Refusal,
};

/// Decodes and preprocesses every input in parallel; result `i` belongs to
/// `inputs[i]`, so one bad image does not fail the others.
pub fn preprocess_batch(
    inputs: &[&[u8]],
    p: &Preprocess,
    limits: &Limits,
) -> Vec<Result<Array3<f32>, Error>> {
    inputs
        .par_iter()
        .map(|bytes| preprocess_bytes(bytes, p, limits))
        .collect()
}

/// [`preprocess_batch`] within a memory budget: before decoding, each image
/// takes its estimated peak bytes from `budget`, waiting while they are
/// not free, and gives them back once its tensor is made, so the decodes in
/// flight never hold more than the budget however many threads run them.
///
/// An image whose peak exceeds what the budget can ever grant fails with
/// [`Error::OverBudget`]. Once `cancel` is set, images not yet started (or
/// still waiting for memory) fail with [`Error::Cancelled`].
pub fn preprocess_batch_within(
    inputs: &[&[u8]],
    p: &Preprocess,
    limits: &Limits,
    budget: &Arc<Budget>,
    cancel: &Cancel,
) -> Vec<Result<Array3<f32>, Error>> {
    inputs
        .par_iter()
        .map(|bytes| {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let admit = |needed| {
                budget
                    .acquire(needed, || !cancel.is_cancelled())
                    .map_err(Error::from)
            };
            preprocess_admitted(bytes, p, limits, admit).map(|(tensor, _permit)| tensor)
        })
        .collect()
}

impl From<Refusal> for Error {
    /// A refused request: over budget, or cancelled while waiting.
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::TooLarge { needed, limit } => Error::OverBudget { needed, limit },
            Refusal::Cancelled => Error::Cancelled,
        }
    }
}

/// The most images, up to `batch_size` and at least 1, whose `per_image`
/// bytes each fit in `room` bytes: the chunk size that keeps a batch's
/// tensors within a share of a memory budget.
pub fn chunk_size(batch_size: usize, room: u64, per_image: u64) -> usize {
    let fits = room / per_image.max(1);
    batch_size
        .min(usize::try_from(fits).unwrap_or(usize::MAX))
        .max(1)
}

/// The successful rows of a batch stacked into one tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[n, 3, s, s]` (NCHW) or `[n, s, s, 3]` (NHWC), one row per `Ok` input.
    pub tensor: Array4<f32>,
    /// `rows[j]` is the index in the input of the tensor's row `j`.
    pub rows: Vec<usize>,
}

/// Stacks the `Ok` tensors of `results` into one batch, remembering which
/// input each row came from; errors are skipped (the caller reports them).
pub fn stack_ok(results: &[Result<Array3<f32>, Error>], p: &Preprocess) -> Result<Batch, Error> {
    let (rows, tensors): (Vec<usize>, Vec<&Array3<f32>>) = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().ok().map(|t| (i, t)))
        .unzip();
    let tensor = stack_refs(&tensors, p)?;
    Ok(Batch { tensor, rows })
}

/// Stacks per-image tensors of the shape `p` produces into one batch tensor
/// (an empty slice gives a batch of zero rows).
pub fn stack(tensors: &[Array3<f32>], p: &Preprocess) -> Result<Array4<f32>, Error> {
    let refs: Vec<&Array3<f32>> = tensors.iter().collect();
    stack_refs(&refs, p)
}

/// [`stack`] over borrowed tensors.
fn stack_refs(tensors: &[&Array3<f32>], p: &Preprocess) -> Result<Array4<f32>, Error> {
    let shape = p.image_shape();
    let mut batch = Array4::<f32>::zeros((tensors.len(), shape[0], shape[1], shape[2]));
    for (mut row, t) in batch.axis_iter_mut(Axis(0)).zip(tensors) {
        if t.shape() != shape {
            let layout = match p.layout {
                Layout::Nchw => "nchw",
                Layout::Nhwc => "nhwc",
            };
            return Err(Error::InvalidParameters(format!(
                "tensor of shape {:?} does not fit a {layout} batch of {:?}",
                t.shape(),
                shape
            )));
        }
        row.assign(t);
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks shrink to what fits, never below one image.
    #[test]
    fn chunk_sizes() {
        let t = 3 * 3 * 224 * 224 * 4;
        assert_eq!(chunk_size(4, 128 << 20, t), 4);
        assert_eq!(chunk_size(1024, 128 << 20, t), 74);
        assert_eq!(chunk_size(1024, 1 << 18, t), 1);
        assert_eq!(chunk_size(7, u64::MAX, 0), 7);
    }
}
