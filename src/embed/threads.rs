//! Threads that never run Postgres code: created with every signal blocked,
//! so signal handlers (which set Postgres' interrupt flags and latches) only
//! run on the backend's main thread.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Runs `f` with every signal blocked on this thread, so that any thread it
/// creates (rayon workers, ONNX Runtime's pool) inherits a full mask.
/// `f` must not raise a Postgres ERROR; a panic is carried through.
pub fn with_signals_blocked<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: sigset_t is plain data; sigfillset initialises it, and
    // pthread_sigmask only changes this thread's mask, restored below.
    let old = unsafe {
        let mut all: libc::sigset_t = core::mem::zeroed();
        let mut old: libc::sigset_t = core::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    };
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    // SAFETY: restores the mask saved above on this same thread.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, core::ptr::null_mut()) };
    result.unwrap_or_else(|p| panic::resume_unwind(p))
}

thread_local! {
    /// This backend's decode pool and the thread count it was built with.
    static POOL: RefCell<Option<(usize, Arc<ThreadPool>)>> = const { RefCell::new(None) };
}

/// The backend's decode pool with `threads` threads (0: one per core),
/// built on first use and rebuilt when the count changes.
pub fn decode_pool(threads: usize) -> Arc<ThreadPool> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    POOL.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some((n, pool)) = slot.as_ref() {
            if *n == threads {
                return pool.clone();
            }
        }
        let pool = with_signals_blocked(|| {
            ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("pgvision-decode-{i}"))
                .panic_handler(|_| {})
                .build()
        })
        .map(Arc::new)
        .unwrap_or_else(|e| {
            crate::error::raise(
                pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("cannot start image decoding threads: {e}"),
                None,
            )
        });
        *slot = Some((threads, pool.clone()));
        pool
    })
}
