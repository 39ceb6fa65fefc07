//! Many images at once: parallel decode and preprocessing, and stacking
//! the results into one batch tensor.
//!
//! The work runs on rayon's threads (the global pool, or whichever pool the
//! caller `install`s) and touches only the Rust-owned byte slices it is
//! given: callers inside Postgres copy each `bytea` out first.

use ndarray::{Array3, Array4, Axis};
use rayon::prelude::*;

use crate::{preprocess_bytes, Error, Layout, Limits, Preprocess};

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
