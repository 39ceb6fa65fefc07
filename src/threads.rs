//! Threads that never run Postgres code: created with every signal blocked,
//! so signal handlers (which set Postgres' interrupt flags and latches, and
//! manage its timeouts) only run on the backend's main thread. A signal
//! sent to the process goes to any thread that does not block it: a pool
//! started with the backend's own mask could run `StatementCancelHandler`
//! or the `SIGALRM` handler of `statement_timeout` beside the main thread.
//!
//! Every rayon pool of the extension comes from here (the index build's,
//! the image decoder's); rayon's global pool is never used.

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

/// What a pool is for: each has its own threads, named after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Image decoding for `image_embed(bytea[])`.
    Decode,
    /// Linking the in-memory graph of an hnsw index build.
    IndexBuild,
}

impl Purpose {
    /// The thread name prefix (Linux keeps 15 bytes of a thread's name, so
    /// `pgv-build-0` shows whole in `/proc` and `top -H`) and what the
    /// error message says the threads do.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Purpose::Decode => ("pgv-decode", "image decoding"),
            Purpose::IndexBuild => ("pgv-build", "index build"),
        }
    }
}

thread_local! {
    /// This backend's pools, with the thread count each was built with.
    static POOLS: RefCell<Vec<(Purpose, usize, Arc<ThreadPool>)>> = const { RefCell::new(Vec::new()) };
}

/// The cores this process may run on (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The backend's pool for `purpose` with `threads` threads (0: one per
/// core), built on first use and rebuilt when the count changes. Call it
/// on the backend's main thread (it raises an ERROR when threads cannot
/// be started).
pub fn pool(purpose: Purpose, threads: usize) -> Arc<ThreadPool> {
    let threads = if threads == 0 { cores() } else { threads };
    POOLS.with(|cell| {
        let mut pools = cell.borrow_mut();
        if let Some(at) = pools.iter().position(|(p, _, _)| *p == purpose) {
            if pools[at].1 == threads {
                return pools[at].2.clone();
            }
            pools.swap_remove(at);
        }
        let (name, what) = purpose.describe();
        let pool = with_signals_blocked(|| {
            ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(move |i| format!("{name}-{i}"))
                .panic_handler(|_| {})
                .build()
        })
        .map(Arc::new)
        .unwrap_or_else(|e| {
            crate::error::raise(
                pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("cannot start {what} threads: {e}"),
                None,
            )
        });
        pools.push((purpose, threads, pool.clone()));
        pool
    })
}
