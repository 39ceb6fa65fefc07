//! This backend's decoding memory: one budget of `pgvision.decode_memory_limit`
//! bytes shared by every decode of the backend (both forms of `image_embed`,
//! every decode thread, every chunk of a batch), and the ERRORs that name
//! the setting.
//!
//! Each image takes its estimated peak (from its header, before any pixel
//! buffer exists) from the budget and waits while it is used up, so
//! `pgvision.decode_threads` and `pgvision.embed_batch_size`, which any user
//! may set, change how fast a batch goes, never how much memory it holds.
//! A batch also reserves its input tensors for the whole call, and its
//! chunks are made small enough for them to fit a quarter of the limit.

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

/// Takes `bytes` from `budget` on the backend's main thread, answering
/// cancel and statement_timeout while it waits.
pub fn acquire_here(budget: &Arc<Budget>, bytes: u64) -> Result<Permit, ImageError> {
    budget
        .acquire(bytes, interrupts_checked)
        .map_err(ImageError::from)
}

/// Checks for interrupts (raising the ERROR of a cancel or a timeout);
/// true to go on waiting.
fn interrupts_checked() -> bool {
    pgrx::check_for_interrupts!();
    true
}

/// Images per inference: `batch_size`, lowered so that the tensors a batch
/// holds at once (`tensor` bytes an image, [`TENSOR_COPIES`] times) take at
/// most a quarter of `limit`; at least 1.
pub fn chunk_size(batch_size: usize, limit: u64, tensor: u64) -> usize {
    imagepipe::chunk_size(batch_size, limit / 4, TENSOR_COPIES * tensor)
}

/// Reserves, for the whole call, the tensors of a batch run in chunks of
/// `chunk` images of `tensor` bytes; ERROR 54000 when the limit cannot
/// hold them beside what other decodes of this backend hold.
pub fn reserve_tensors(budget: &Arc<Budget>, chunk: usize, tensor: u64, model: &str) -> Permit {
    let bytes = TENSOR_COPIES * chunk as u64 * tensor;
    budget
        .reserve(bytes, interrupts_checked)
        .unwrap_or_else(|refusal| match refusal {
            Refusal::TooLarge { needed, limit } => raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "pgvision.decode_memory_limit is too small for the input tensors of model \"{model}\": \
                     a batch needs {needed} bytes, {limit} are available"
                ),
                Some(&format!(
                    "pgvision.decode_memory_limit is {}.",
                    show_bytes(budget.limit())
                )),
            ),
            Refusal::Cancelled => raise_decode(ImageError::Cancelled, None),
        })
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
                    ", of which {} bytes hold the batch's tensors",
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
