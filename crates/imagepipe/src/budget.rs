//! A byte semaphore: the memory that decodes take before they allocate and
//! give back when done, so that the bytes in flight stay under one limit
//! however many threads decode and however many images a batch holds.
//!
//! A request larger than the whole limit is refused at once (it could never
//! be granted); any other request waits until enough bytes are free. A
//! caller that holds bytes for a whole call (the tensors of a batch) takes
//! them with [`Budget::reserve`]: reserved bytes are never waited for, so a
//! request is refused when it exceeds what the reservations leave. The
//! waiter wakes every [`POLL`] to ask its caller whether to go on waiting,
//! so that a cancelled statement stops its threads, and the main thread of
//! a backend can answer interrupts while it waits.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a waiter sleeps before it asks whether to go on waiting.
pub const POLL: Duration = Duration::from_millis(20);

/// A memory limit shared by every decode of one backend.
#[derive(Debug)]
pub struct Budget {
    /// The limit and the bytes granted.
    state: Mutex<State>,
    /// Signalled whenever bytes are given back or the limit rises.
    freed: Condvar,
}

/// The mutable part of a [`Budget`].
#[derive(Debug, Clone, Copy)]
struct State {
    /// Most bytes granted at once.
    limit: u64,
    /// Bytes granted and not yet given back, reservations included.
    used: u64,
    /// Bytes held by reservations.
    reserved: u64,
}

/// Why a request for bytes was not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request is larger than the limit less the reservations.
    TooLarge {
        /// Bytes asked for.
        needed: u64,
        /// The limit less the reservations, at the time.
        limit: u64,
    },
    /// The caller stopped waiting.
    Cancelled,
}

/// Bytes granted by a [`Budget`], given back when dropped.
#[derive(Debug)]
#[must_use = "the bytes are given back as soon as the permit is dropped"]
pub struct Permit {
    /// The budget the bytes came from.
    budget: Arc<Budget>,
    /// Bytes held.
    bytes: u64,
    /// Whether they are a reservation.
    reserved: bool,
}

impl Budget {
    /// A budget of `limit` bytes, none in use.
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            state: Mutex::new(State {
                limit,
                used: 0,
                reserved: 0,
            }),
            freed: Condvar::new(),
        })
    }

    /// The state, even if a thread panicked while holding the lock (the
    /// counters are updated in single statements, so they stay consistent).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current limit in bytes.
    pub fn limit(&self) -> u64 {
        self.lock().limit
    }

    /// Bytes granted and not yet given back.
    pub fn in_use(&self) -> u64 {
        self.lock().used
    }

    /// Bytes held by reservations.
    pub fn reserved(&self) -> u64 {
        self.lock().reserved
    }

    /// Changes the limit; permits already granted stay valid (a lower limit
    /// only delays new requests until enough is given back).
    pub fn set_limit(&self, limit: u64) {
        let mut state = self.lock();
        if state.limit != limit {
            state.limit = limit;
            drop(state);
            self.freed.notify_all();
        }
    }

    /// Grants `bytes` if they are free now; `Ok(None)` if the caller
    /// would have to wait.
    pub fn try_acquire(self: &Arc<Self>, bytes: u64) -> Result<Option<Permit>, Refusal> {
        let mut state = self.lock();
        Self::check(&state, bytes)?;
        Ok(self.take(&mut state, bytes, false))
    }

    /// Grants `bytes`, waiting while they are not free. Between waits of
    /// [`POLL`] (and never while holding the lock) it calls `keep_waiting`;
    /// `false` gives up with [`Refusal::Cancelled`]. `keep_waiting` may also
    /// unwind (a Postgres ERROR raised by an interrupt check): nothing is
    /// held then.
    pub fn acquire(
        self: &Arc<Self>,
        bytes: u64,
        keep_waiting: impl FnMut() -> bool,
    ) -> Result<Permit, Refusal> {
        self.wait_for(bytes, false, keep_waiting)
    }

    /// Like [`Budget::acquire`], for bytes held through a whole call: while
    /// the permit lives, other requests are refused when they exceed the
    /// limit less the reservation, instead of waiting for it.
    pub fn reserve(
        self: &Arc<Self>,
        bytes: u64,
        keep_waiting: impl FnMut() -> bool,
    ) -> Result<Permit, Refusal> {
        self.wait_for(bytes, true, keep_waiting)
    }

    /// Waits for `bytes` (see [`Budget::acquire`]).
    fn wait_for(
        self: &Arc<Self>,
        bytes: u64,
        reserve: bool,
        mut keep_waiting: impl FnMut() -> bool,
    ) -> Result<Permit, Refusal> {
        loop {
            {
                let mut state = self.lock();
                Self::check(&state, bytes)?;
                if let Some(permit) = self.take(&mut state, bytes, reserve) {
                    return Ok(permit);
                }
                // Woken early by a release, or after POLL: either way the
                // lock is dropped before asking the caller.
                let _woken = self
                    .freed
                    .wait_timeout(state, POLL)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if !keep_waiting() {
                return Err(Refusal::Cancelled);
            }
        }
    }

    /// Refuses a request that no amount of waiting could grant.
    fn check(state: &State, bytes: u64) -> Result<(), Refusal> {
        let room = state.limit.saturating_sub(state.reserved);
        if bytes > room {
            return Err(Refusal::TooLarge {
                needed: bytes,
                limit: room,
            });
        }
        Ok(())
    }

    /// Takes `bytes` if they fit under the limit.
    fn take(self: &Arc<Self>, state: &mut State, bytes: u64, reserved: bool) -> Option<Permit> {
        if state.used.saturating_add(bytes) > state.limit {
            return None;
        }
        state.used += bytes;
        if reserved {
            state.reserved += bytes;
        }
        Some(Permit {
            budget: Arc::clone(self),
            bytes,
            reserved,
        })
    }

    /// Gives `bytes` back (`reserved`: of a reservation) and wakes the waiters.
    fn release(&self, bytes: u64, reserved: bool) {
        if bytes == 0 {
            return;
        }
        let mut state = self.lock();
        state.used = state.used.saturating_sub(bytes);
        if reserved {
            state.reserved = state.reserved.saturating_sub(bytes);
        }
        drop(state);
        self.freed.notify_all();
    }
}

impl Permit {
    /// Bytes this permit holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives back all but `bytes` (no-op if the permit holds no more).
    pub fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            self.budget.release(self.bytes - bytes, self.reserved);
            self.bytes = bytes;
        }
    }
}

impl Drop for Permit {
    /// Gives the bytes back.
    fn drop(&mut self) {
        self.budget.release(self.bytes, self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    /// Grants up to the limit, refuses beyond it, and frees on drop.
    #[test]
    fn grants_within_limit_and_frees_on_drop() {
        let b = Budget::new(100);
        let a = b.try_acquire(60).unwrap().unwrap();
        assert_eq!(b.in_use(), 60);
        assert!(b.try_acquire(41).unwrap().is_none());
        let c = b.try_acquire(40).unwrap().unwrap();
        assert_eq!(b.in_use(), 100);
        drop(a);
        assert_eq!(b.in_use(), 40);
        drop(c);
        assert_eq!(b.in_use(), 0);
        assert!(b.try_acquire(0).unwrap().is_some());
    }

    /// A request above the whole limit is refused without waiting.
    #[test]
    fn more_than_the_limit_is_refused_at_once() {
        let b = Budget::new(100);
        let _held = b.try_acquire(100).unwrap().unwrap();
        let start = Instant::now();
        let r = b.acquire(101, || panic!("must not wait"));
        assert_eq!(
            r.unwrap_err(),
            Refusal::TooLarge {
                needed: 101,
                limit: 100
            }
        );
        assert!(start.elapsed() < POLL);
    }

    /// A waiter blocks until another thread gives bytes back.
    #[test]
    fn waiter_blocks_until_release() {
        let b = Budget::new(100);
        let held = b.try_acquire(80).unwrap().unwrap();
        let (tx, rx) = mpsc::channel();
        let b2 = Arc::clone(&b);
        let waiter = thread::spawn(move || {
            let p = b2.acquire(50, || true).unwrap();
            tx.send(p.bytes()).unwrap();
            p
        });
        // Still blocked after several polls.
        assert!(rx.recv_timeout(POLL * 5).is_err());
        drop(held);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 50);
        let p = waiter.join().unwrap();
        assert_eq!(b.in_use(), 50);
        drop(p);
        assert_eq!(b.in_use(), 0);
    }

    /// Shrinking gives the difference back and wakes waiters.
    #[test]
    fn shrink_releases_the_difference() {
        let b = Budget::new(100);
        let mut p = b.try_acquire(90).unwrap().unwrap();
        let b2 = Arc::clone(&b);
        let waiter = thread::spawn(move || b2.acquire(70, || true).map(|p| p.bytes()));
        thread::sleep(POLL * 2);
        p.shrink_to(30);
        assert_eq!(p.bytes(), 30);
        assert_eq!(waiter.join().unwrap(), Ok(70));
        p.shrink_to(50); // growing is not shrinking: no-op
        assert_eq!(p.bytes(), 30);
        drop(p);
        assert_eq!(b.in_use(), 0);
    }

    /// A waiter told to stop gives up with `Cancelled` within a poll or two.
    #[test]
    fn cancelled_waiter_gives_up() {
        let b = Budget::new(100);
        let _held = b.try_acquire(100).unwrap().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (b2, stop2) = (Arc::clone(&b), Arc::clone(&stop));
        let waiter = thread::spawn(move || {
            let start = Instant::now();
            let r = b2.acquire(10, || !stop2.load(Ordering::SeqCst));
            (r.map(|p| p.bytes()), start.elapsed())
        });
        thread::sleep(POLL * 3);
        stop.store(true, Ordering::SeqCst);
        let (r, waited) = waiter.join().unwrap();
        assert_eq!(r, Err(Refusal::Cancelled));
        assert!(waited >= POLL * 3, "gave up after {waited:?}");
        assert_eq!(b.in_use(), 100);
    }

    /// Raising the limit wakes a waiter; a lower limit keeps permits valid.
    #[test]
    fn limit_changes() {
        let b = Budget::new(100);
        let held = b.try_acquire(100).unwrap().unwrap();
        let b2 = Arc::clone(&b);
        let waiter = thread::spawn(move || b2.acquire(50, || true).map(|p| p.bytes()));
        thread::sleep(POLL * 2);
        b.set_limit(150);
        assert_eq!(waiter.join().unwrap(), Ok(50));
        b.set_limit(10);
        assert_eq!(b.limit(), 10);
        assert_eq!(b.in_use(), 100);
        assert!(b.try_acquire(1).unwrap().is_none());
        drop(held);
        assert!(b.try_acquire(10).unwrap().is_some());
    }

    /// A reservation is never waited for: requests beyond what it leaves
    /// are refused, the others are granted or wait as usual.
    #[test]
    fn reservations_shrink_what_may_be_asked() {
        let b = Budget::new(100);
        let r = b.reserve(30, || true).unwrap();
        assert_eq!((b.in_use(), b.reserved()), (30, 30));
        assert_eq!(
            b.acquire(71, || panic!("must not wait")).unwrap_err(),
            Refusal::TooLarge {
                needed: 71,
                limit: 70
            }
        );
        let a = b.acquire(70, || true).unwrap();
        assert!(b.try_acquire(1).unwrap().is_none());
        drop(a);
        drop(r);
        assert_eq!((b.in_use(), b.reserved()), (0, 0));
        assert!(b.try_acquire(100).unwrap().is_some());
    }

    /// Many threads taking random amounts never hold more than the limit.
    #[test]
    fn concurrent_use_never_exceeds_the_limit() {
        const LIMIT: u64 = 1000;
        let b = Budget::new(LIMIT);
        let peak = Arc::new(AtomicU64::new(0));
        let live = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let (b, peak, live) = (Arc::clone(&b), Arc::clone(&peak), Arc::clone(&live));
                thread::spawn(move || {
                    let mut x = t * 7919 + 1;
                    for _ in 0..200 {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let want = 1 + (x >> 33) % LIMIT;
                        let p = b.acquire(want, || true).unwrap();
                        let now = live.fetch_add(want, Ordering::SeqCst) + want;
                        peak.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        live.fetch_sub(want, Ordering::SeqCst);
                        drop(p);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= LIMIT);
        assert!(peak.load(Ordering::SeqCst) > LIMIT / 2);
        assert_eq!(b.in_use(), 0);
    }
}
