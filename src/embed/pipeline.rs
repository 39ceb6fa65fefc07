//! Images to vectors: many in chunks with the decoding of the next chunk
//! (rayon threads) overlapping the inference of this one (main thread); one
//! image as a batch of one, so that its decode too runs off the main thread
//! while that answers interrupts.
//!
//! Every byte a worker thread reads is first copied into Rust memory on the
//! main thread; vectors are palloc'd on the main thread after inference.
//! Decodes take their memory from the backend's budget (see `memory`);
//! the main thread waits for them answering interrupts, and an ERROR or a
//! cancel stops the images still queued.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};

use imagepipe::{Array3, Cancel, Error as ImageError, POLL};
use pgrx::PgSqlErrorCode;

use super::config::Config;
use super::memory::{self, raise_decode};
use super::session::{self, Loaded};
use crate::error::{raise, raise_embedder};
use crate::threads;
use crate::vector::Vector;

/// Embeds one encoded image with model `model`: decoded on the backend's
/// decode pool within its memory budget while this thread answers cancel
/// and statement_timeout (a decode of a large image takes seconds).
pub fn embed_one(bytes: &[u8], model: &str) -> Vector {
    embed_images(&[Some(bytes)], model, false)
        .pop()
        .flatten()
        .unwrap_or_else(|| {
            raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "image_embed produced no vector",
                None,
            )
        })
}

/// Embeds every non-NULL image of `images` (NULL stays NULL) with model
/// `model`, in chunks of at most `config.batch_size` images per inference,
/// every decode within the backend's memory budget.
pub fn embed_many(images: &[Option<&[u8]>], model: &str) -> Vec<Option<Vector>> {
    embed_images(images, model, true)
}

/// Decoded tensors of one chunk, or `Err` when the decode job died.
type Decoded = Result<Vec<Result<Array3<f32>, ImageError>>, ()>;

/// Sets a cancel flag when dropped: leaving `embed_many` by an ERROR (or a
/// cancel) tells the decode jobs still queued to skip their images.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    /// Stops the queued work.
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The work of [`embed_many`]; an image's ERROR names its array position
/// when `name_elements`.
fn embed_images(images: &[Option<&[u8]>], model: &str, name_elements: bool) -> Vec<Option<Vector>> {
    let config = Config::current();
    let present: Vec<usize> = (0..images.len()).filter(|&i| images[i].is_some()).collect();
    let mut out: Vec<Option<Vector>> = (0..images.len()).map(|_| None).collect();
    if present.is_empty() {
        return out;
    }
    let pool = threads::pool(threads::Purpose::Decode, config.decode_threads);
    let budget = memory::budget(config.decode_memory_limit);
    session::with_model(model, &config, |loaded| {
        let per_image = memory::batch_bytes_per_image(
            imagepipe::tensor_bytes(&loaded.preprocess),
            loaded.model.manifest().inference_bytes_per_image(),
        );
        let batch_size = config.batch_size.min(present.len());
        let chunk_size = memory::chunk_size(batch_size, budget.limit(), per_image);
        let _held = memory::reserve_batch(&budget, chunk_size, per_image, model);
        let chunks: Vec<&[usize]> = present.chunks(chunk_size).collect();
        let preprocess = loaded.preprocess.clone();
        let stop = CancelOnDrop(Cancel::new());
        // Copies a chunk's bytes out of Postgres memory and decodes them on the pool.
        let spawn = |chunk: &[usize]| -> mpsc::Receiver<Decoded> {
            let owned: Vec<Vec<u8>> = chunk
                .iter()
                .map(|&i| images[i].expect("present").to_vec())
                .collect();
            let (p, limits) = (preprocess.clone(), config.limits);
            let (budget, cancel) = (budget.clone(), stop.0.clone());
            let (tx, rx) = mpsc::sync_channel(1);
            pool.spawn(move || {
                let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                let decoded = panic::catch_unwind(AssertUnwindSafe(|| {
                    imagepipe::preprocess_batch_within(&refs, &p, &limits, &budget, &cancel)
                }));
                let _ = tx.send(decoded.map_err(|_| ()));
            });
            rx
        };
        let mut pending = Some(spawn(chunks[0]));
        for (k, chunk) in chunks.iter().enumerate() {
            let decoded = pending.take().and_then(|rx| wait(&rx));
            if let Some(next) = chunks.get(k + 1) {
                pending = Some(spawn(next));
            }
            let tensors = match decoded {
                Some(Ok(tensors)) => tensors,
                _ => raise(
                    PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    "image decoding thread failed",
                    None,
                ),
            };
            let vectors = infer(loaded, tensors, chunk, name_elements);
            for (&i, v) in chunk.iter().zip(&vectors) {
                out[i] = Some(to_vector(v));
            }
            pgrx::check_for_interrupts!();
        }
    });
    out
}

/// Waits for a decode job's result, answering cancel and statement_timeout
/// meanwhile; `None` when the job is gone without sending.
fn wait(rx: &mpsc::Receiver<Decoded>) -> Option<Decoded> {
    loop {
        match rx.recv_timeout(POLL) {
            Ok(decoded) => return Some(decoded),
            Err(RecvTimeoutError::Timeout) => {
                pgrx::check_for_interrupts!();
            }
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// Runs one inference over a chunk's tensors; the first failed image is an
/// ERROR, naming its (1-based) array position when `name_elements`.
fn infer(
    loaded: &mut Loaded,
    tensors: Vec<Result<Array3<f32>, ImageError>>,
    chunk: &[usize],
    name_elements: bool,
) -> Vec<Vec<f32>> {
    for (r, &i) in tensors.iter().zip(chunk) {
        if let Err(e) = r {
            let element = format!("Array element {}.", i + 1);
            raise_decode(e.clone(), name_elements.then_some(element.as_str()));
        }
    }
    let batch =
        imagepipe::stack_ok(&tensors, &loaded.preprocess).unwrap_or_else(|e| raise_decode(e, None));
    // The stacked copy replaces the per-image tensors during inference.
    drop(tensors);
    loaded
        .model
        .embed(batch.tensor.view())
        .unwrap_or_else(|e| raise_embedder(e))
}

/// A model output row as a `vector`, refusing NaN and infinities.
fn to_vector(values: &[f32]) -> Vector {
    if !values.iter().all(|v| v.is_finite()) {
        raise(
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            "model output contains non-finite values",
            None,
        );
    }
    Vector::from_slice(values)
}
