//! This backend's decoding memory: one budget of `pgvision.decode_memory_limit`
//! bytes shared by every decode of the backend (both forms of `image_embed`,
//! every decode thread, every chunk of a batch), and the ERRORs that name
//! the setting.
//!
//! Each image takes its estimated peak (from its header, before any pixel
//! buffer exists) from the budget and waits while it is used up, so
//! `pgvision.decode_threads` and `pgvision.embed_batch_size`, which any user
//! may set, change how fast a batch goes, never how much memory it holds.
//! A batch also reserves, for the whole call, its input tensors and ONNX
//! Runtime's working memory for one inference of a chunk (the manifest's
//! `inference_bytes` per image), and its chunks are made small enough for
//! both to fit a quarter of the limit; one image is a batch of one. ONNX Runtime's CPU arena
//! is off (`SessionOptions::cpu_arena`), so that memory is freed after each
//! run instead of staying with the session uncounted.

use std::cell::RefCell;
use std::sync::Arc;

use imagepipe::{Budget, Error as ImageError, Permit, Refusal};
use pgrx::PgSqlErrorCode;

use crate::error::{raise, raise_image, sqlstate};

/// Tensors of one image a batch holds at once: the chunk being decoded,
/// the chunk being inferred, and that chunk stacked into one batch tensor.
const TENSOR_COPIES: u64 = 3;

thread_local! {
    /// The backend's budget, made on first use. It outlives statements:
    /// a thread still finishing an image of a cancelled statement keeps
    /// its bytes counted against the next one.
    static BUDGET: RefCell<Option<Arc<Budget>>> = const { RefCell::new(None) };
}

/// The backend's budget, its limit set to `limit` bytes.
pub fn budget(limit: u64) -> Arc<Budget> {
    BUDGET.with(|cell| {
        let mut cell = cell.borrow_mut();
        let budget = cell.get_or_insert_with(|| Budget::new(limit));
        budget.set_limit(limit);
        Arc::clone(budget)
    })
}

/// Checks for interrupts (raising the ERROR of a cancel or a timeout);
/// true to go on waiting.
fn interrupts_checked() -> bool {
    pgrx::check_for_interrupts!();
    true
}

/// Bytes a batch holds per image of a chunk: its input tensor
/// ([`TENSOR_COPIES`] times) and ONNX Runtime's working memory for it.
pub fn batch_bytes_per_image(tensor: u64, inference: u64) -> u64 {
    TENSOR_COPIES * tensor + inference
}

/// Images per inference: `batch_size`, lowered so that what a batch holds
/// at once (`per_image` bytes an image, see [`batch_bytes_per_image`])
/// takes at most a quarter of `limit`; at least 1.
pub fn chunk_size(batch_size: usize, limit: u64, per_image: u64) -> usize {
    imagepipe::chunk_size(batch_size, limit / 4, per_image)
}

/// Reserves, for the whole call, what a batch run in chunks of `chunk`
/// images holds (`per_image` bytes each); ERROR 54000 when the limit cannot
/// hold it beside what other decodes of this backend hold.
pub fn reserve_batch(budget: &Arc<Budget>, chunk: usize, per_image: u64, model: &str) -> Permit {
    budget
        .reserve(chunk as u64 * per_image, interrupts_checked)
        .unwrap_or_else(|refusal| refuse_inference(budget, refusal, model))
}

/// Raises the ERROR for a refused request of a model's tensors and
/// inference memory.
fn refuse_inference(budget: &Budget, refusal: Refusal, model: &str) -> ! {
    match refusal {
        Refusal::TooLarge { needed, limit } => raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "pgvision.decode_memory_limit is too small for an inference of model \"{model}\": \
                 it needs {needed} bytes, {limit} are available"
            ),
            Some(&format!(
                "pgvision.decode_memory_limit is {}.",
                show_bytes(budget.limit())
            )),
        ),
        Refusal::Cancelled => raise_decode(ImageError::Cancelled, None),
    }
}

/// Raises an image error; an image over the budget is ERROR 54000 naming
/// `pgvision.decode_memory_limit` (with `detail` first, e.g. the array position).
pub fn raise_decode(e: ImageError, detail: Option<&str>) -> ! {
    match e {
        ImageError::OverBudget { needed, limit } => {
            let setting = crate::gucs::decode_memory_limit();
            let mut d = detail.map_or_else(String::new, |d| format!("{d} "));
            d.push_str(&format!(
                "pgvision.decode_memory_limit is {}",
                show_bytes(setting)
            ));
            if setting > limit {
                d.push_str(&format!(
                    ", of which {} bytes hold the input tensors and inference memory",
                    setting - limit
                ));
            }
            d.push('.');
            raise(
                sqlstate("54000"),
                format!(
                    "image too large: decoding it needs {needed} bytes of memory, \
                     more than the {limit} bytes pgvision.decode_memory_limit allows"
                ),
                Some(&d),
            )
        }
        ImageError::Cancelled => raise(
            PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "image decoding was cancelled",
            detail,
        ),
        e => raise_image(e, detail),
    }
}

/// A byte count the way Postgres shows a memory setting (`512MB`, `1536kB`).
fn show_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TB", 1 << 40),
        ("GB", 1 << 30),
        ("MB", 1 << 20),
        ("kB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}
