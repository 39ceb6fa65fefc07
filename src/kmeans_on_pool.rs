//! k-means (`ivf::train`) on a build's rayon pool, while the backend's
//! main thread waits and answers interrupts: on an ERROR (a cancel, say) a
//! drop guard raises the cancel flag and the threads stop within a chunk
//! of work. The threads own their data and never touch Postgres. Used by
//! the ivfflat build (its lists) and a partitioned hnsw build (its parts).

use crate::error::raise;
use pgrx::PgSqlErrorCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Raises the cancel flag when dropped (also when an ERROR unwinds).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    /// Tells the training threads to stop.
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Trains `params.k` centres on `sample` (rows of `dims` floats) on `pool`
/// and returns them; an ERROR if the query is cancelled or training fails.
pub fn train(
    pool: &rayon::ThreadPool,
    sample: Vec<f32>,
    dims: usize,
    params: ivf::Params,
) -> Vec<f32> {
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = CancelOnDrop(cancel.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    pool.spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ivf::train(&sample, dims, &params, &cancel)
        }));
        let _ = tx.send(result);
    });
    let result = loop {
        match rx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(r) => break r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                pgrx::check_for_interrupts!();
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                "k-means thread vanished",
                None,
            ),
        }
    };
    drop(guard);
    match result {
        Ok(Ok(centres)) => centres,
        Ok(Err(ivf::Cancelled)) => {
            pgrx::check_for_interrupts!();
            raise(
                PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                "k-means was cancelled",
                None,
            )
        }
        Err(_) => raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "k-means failed",
            None,
        ),
    }
}
