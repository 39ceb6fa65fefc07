//! A small cache of recently decoded values, keyed by identity and guarded by
//! a validity stamp.
//!
//! The SQL layer uses it for vectors stored out of line (TOAST): the key is the
//! TOAST pointer (toast relation, value id) and the stamp says under which
//! conditions the key still names the same bytes. An entry whose stamp differs
//! from the caller's is never returned, and the first such miss drops every
//! entry, since stamps only move forward. Replacement is first-in first-out: the
//! caller's pattern is "read a value, read it again a few values later".

use std::collections::VecDeque;
use std::rc::Rc;

/// One cached value with its key and the stamp it was stored under.
struct Entry<K, S, V: ?Sized> {
    key: K,
    stamp: S,
    value: Rc<V>,
    bytes: usize,
}

/// A first-in first-out cache of at most `capacity` values and `max_bytes` bytes.
pub struct RecentValues<K, S, V: ?Sized> {
    /// Oldest first.
    entries: VecDeque<Entry<K, S, V>>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
}

impl<K: PartialEq, S: PartialEq, V: ?Sized> RecentValues<K, S, V> {
    /// An empty cache (allocates nothing until the first insert).
    pub const fn new(capacity: usize, max_bytes: usize) -> Self {
        RecentValues {
            entries: VecDeque::new(),
            capacity,
            max_bytes,
            bytes: 0,
        }
    }

    /// The value stored under `key` with exactly `stamp`, if any.
    ///
    /// Finding an entry with another stamp means the stamps have moved on:
    /// every entry is dropped.
    pub fn get(&mut self, key: &K, stamp: &S) -> Option<Rc<V>> {
        let mut stale = false;
        for e in &self.entries {
            if e.stamp != *stamp {
                stale = true;
            } else if e.key == *key {
                return Some(e.value.clone());
            }
        }
        if stale {
            self.clear();
        }
        None
    }

    /// Stores `value` (of `bytes` bytes) under `key` and `stamp`, evicting the
    /// oldest entries as needed; a value larger than `max_bytes` is not kept.
    pub fn insert(&mut self, key: K, stamp: S, value: Rc<V>, bytes: usize) {
        if bytes > self.max_bytes || self.capacity == 0 {
            return;
        }
        if self.entries.iter().any(|e| e.stamp != stamp) {
            self.clear();
        }
        while self.entries.len() >= self.capacity || self.bytes + bytes > self.max_bytes {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        self.entries.push_back(Entry {
            key,
            stamp,
            value,
            bytes,
        });
    }

    /// Drops every entry and its memory.
    pub fn clear(&mut self) {
        self.entries = VecDeque::new();
        self.bytes = 0;
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held by the entries, as the callers declared them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Cache = RecentValues<u32, u32, [f32]>;

    fn val(x: f32, n: usize) -> Rc<[f32]> {
        Rc::from(vec![x; n])
    }

    #[test]
    fn hit_needs_key_and_stamp() {
        let mut c = Cache::new(4, 1 << 20);
        c.insert(1, 7, val(1.0, 4), 16);
        assert_eq!(c.get(&1, &7).unwrap()[0], 1.0);
        assert!(c.get(&2, &7).is_none());
        assert_eq!(c.len(), 1, "a miss under the same stamp keeps entries");
        assert!(c.get(&1, &8).is_none(), "another stamp never hits");
        assert!(c.is_empty(), "a newer stamp drops everything");
    }

    #[test]
    fn first_in_first_out_by_count() {
        let mut c = Cache::new(3, 1 << 20);
        for k in 0..5u32 {
            c.insert(k, 0, val(k as f32, 2), 8);
        }
        assert_eq!(c.len(), 3);
        assert!(c.get(&0, &0).is_none() && c.get(&1, &0).is_none());
        for k in 2..5u32 {
            assert_eq!(c.get(&k, &0).unwrap()[0], k as f32);
        }
        assert_eq!(c.bytes(), 24);
    }

    #[test]
    fn byte_budget_evicts_oldest_and_refuses_huge_values() {
        let mut c = Cache::new(8, 100);
        c.insert(1, 0, val(1.0, 1), 40);
        c.insert(2, 0, val(2.0, 1), 40);
        c.insert(3, 0, val(3.0, 1), 40);
        assert!(c.get(&1, &0).is_none(), "oldest evicted to fit");
        assert!(c.get(&2, &0).is_some() && c.get(&3, &0).is_some());
        assert_eq!(c.bytes(), 80);
        c.insert(4, 0, val(4.0, 1), 101);
        assert!(c.get(&4, &0).is_none(), "larger than the budget: not kept");
        assert_eq!(c.bytes(), 80);
        // After byte evictions the ring order still evicts the oldest first.
        c.insert(5, 0, val(5.0, 1), 40);
        assert!(c.get(&2, &0).is_none());
        assert!(c.get(&3, &0).is_some() && c.get(&5, &0).is_some());
    }

    #[test]
    fn insert_under_new_stamp_drops_old_entries() {
        let mut c = Cache::new(4, 1 << 20);
        c.insert(1, 0, val(1.0, 1), 4);
        c.insert(2, 1, val(2.0, 1), 4);
        assert_eq!(c.len(), 1);
        assert_eq!(c.bytes(), 4);
        assert!(c.get(&2, &1).is_some());
    }

    /// A long random workload agrees with a simple model of FIFO with budgets.
    #[test]
    fn matches_a_model_under_random_use() {
        let seed = 0x5eed_u64;
        println!("seed {seed}");
        let mut rng = seed;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (cap, budget) = (5usize, 200usize);
        let mut c = Cache::new(cap, budget);
        let mut model: Vec<(u32, usize)> = Vec::new(); // oldest first
        for _ in 0..20_000 {
            let key = (next() % 12) as u32;
            if next() % 2 == 0 {
                let got = c.get(&key, &0).map(|v| v[0] as u32);
                let want = model.iter().find(|e| e.0 == key).map(|e| e.0);
                assert_eq!(got, want);
            } else if !model.iter().any(|e| e.0 == key) {
                let bytes = 10 + (next() % 80) as usize;
                c.insert(key, 0, val(key as f32, 1), bytes);
                while !model.is_empty() && model.iter().map(|e| e.1).sum::<usize>() + bytes > budget
                {
                    model.remove(0);
                }
                if model.len() == cap {
                    model.remove(0);
                }
                model.push((key, bytes));
                assert_eq!(c.bytes(), model.iter().map(|e| e.1).sum::<usize>());
            }
        }
    }
}
