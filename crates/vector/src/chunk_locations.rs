//! Where the chunks of recently read out-of-line (TOAST) values lie, so a
//! later read of the same value can fetch them by tuple id instead of
//! descending the TOAST index again.
//!
//! A location is only a hint: the SQL layer fetches each remembered tuple and
//! accepts it only if it is visible under Postgres' TOAST snapshot, belongs to
//! the same value (chunk id) and is the expected chunk (sequence number and
//! size, [`crate::toast_chunks::ChunkPlan`]); any doubt drops the entry and
//! reads the value through the index. Entries also name the relation file
//! they were read from, so a rewritten relation (TRUNCATE, VACUUM FULL,
//! CLUSTER) misses at once.
//!
//! The table is set-associative with a fixed number of entries: memory is
//! bounded and allocated once; a new entry replaces the least recently used
//! one of its set.

/// A heap tuple id: (block number, line pointer offset).
pub type Tid = (u32, u16);

/// Most chunks a remembered value may have (a 16 kB value in 8 kB blocks).
pub const MAX_CHUNKS: usize = 8;
/// Entries per set.
const WAYS: usize = 4;

/// Identity of a value: (TOAST relation OID, value OID).
pub type ValueKey = (u32, u32);

/// The chunk locations of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locations {
    /// The relation file (relfilenode) the chunks were read from.
    pub file: u32,
    len: u8,
    tids: [Tid; MAX_CHUNKS],
}

impl Locations {
    /// Locations of chunks 0, 1, ... at `tids` in relation file `file`, or
    /// None when there are more than [`MAX_CHUNKS`] or none.
    pub fn new(file: u32, tids: &[Tid]) -> Option<Self> {
        if tids.is_empty() || tids.len() > MAX_CHUNKS {
            return None;
        }
        let mut all = [(0, 0); MAX_CHUNKS];
        all[..tids.len()].copy_from_slice(tids);
        Some(Locations {
            file,
            len: tids.len() as u8,
            tids: all,
        })
    }

    /// The tuple ids, chunk 0 first.
    pub fn tids(&self) -> &[Tid] {
        &self.tids[..self.len as usize]
    }
}

/// One slot of the table.
#[derive(Clone, Copy)]
struct Slot {
    key: ValueKey,
    used: u64,
    at: Locations,
}

/// A bounded cache of chunk locations by value.
pub struct ChunkLocations {
    slots: Vec<Option<Slot>>,
    clock: u64,
}

impl ChunkLocations {
    /// An empty cache; its table is allocated by the first insert.
    pub const fn new() -> Self {
        ChunkLocations {
            slots: Vec::new(),
            clock: 0,
        }
    }

    /// Entries the cache holds at most once allocated.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The set of `key` in a table of `sets` sets (a power of two).
    fn set_of(key: ValueKey, sets: usize) -> usize {
        let h = (u64::from(key.0) << 32 | u64::from(key.1)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 32) as usize & (sets - 1)
    }

    /// The slots of `key`'s set.
    fn set_mut(&mut self, key: ValueKey) -> &mut [Option<Slot>] {
        let sets = self.slots.len() / WAYS;
        let s = Self::set_of(key, sets) * WAYS;
        &mut self.slots[s..s + WAYS]
    }

    /// The locations remembered for `key`, if any.
    pub fn get(&mut self, key: ValueKey) -> Option<Locations> {
        if self.slots.is_empty() {
            return None;
        }
        self.clock += 1;
        let now = self.clock;
        self.set_mut(key)
            .iter_mut()
            .flatten()
            .find(|s| s.key == key)
            .map(|s| {
                s.used = now;
                s.at
            })
    }

    /// Remembers `at` for `key`, replacing its earlier entry or the least
    /// recently used one of its set.
    /// The first insert sizes the table: `entries` rounded up to a power of
    /// two sets of [`WAYS`] entries (at least one set).
    pub fn insert(&mut self, key: ValueKey, at: Locations, entries: usize) {
        if self.slots.is_empty() {
            let sets = entries.div_ceil(WAYS).max(1).next_power_of_two();
            self.slots = vec![None; sets * WAYS];
        }
        self.clock += 1;
        let slot = Slot {
            key,
            used: self.clock,
            at,
        };
        let set = self.set_mut(key);
        let victim = set
            .iter()
            .position(|s| s.is_some_and(|s| s.key == key))
            .or_else(|| set.iter().position(Option::is_none))
            .unwrap_or_else(|| {
                (0..WAYS)
                    .min_by_key(|&i| set[i].map_or(0, |s| s.used))
                    .unwrap_or(0)
            });
        set[victim] = Some(slot);
    }

    /// Forgets `key` (its locations proved wrong).
    pub fn remove(&mut self, key: ValueKey) {
        if self.slots.is_empty() {
            return;
        }
        for s in self.set_mut(key) {
            if s.is_some_and(|s| s.key == key) {
                *s = None;
            }
        }
    }
}

impl Default for ChunkLocations {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a fetched chunk tuple is the one a remembered location promised:
/// it belongs to value `valueid` (its `chunk_id`) and was visible. The
/// sequence number and size are [`crate::toast_chunks::ChunkPlan`]'s to check.
pub fn same_value(visible: bool, chunk_id: u32, valueid: u32) -> bool {
    visible && chunk_id == valueid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: u32, n: usize) -> Locations {
        let tids: Vec<Tid> = (0..n)
            .map(|i| (file * 10 + i as u32, i as u16 + 1))
            .collect();
        Locations::new(file, &tids).unwrap()
    }

    #[test]
    fn locations_bounds() {
        assert!(Locations::new(1, &[]).is_none());
        assert!(Locations::new(1, &[(0, 1); MAX_CHUNKS + 1]).is_none());
        let l = Locations::new(7, &[(3, 1), (3, 2), (4, 1)]).unwrap();
        assert_eq!(l.tids(), &[(3, 1), (3, 2), (4, 1)]);
        assert_eq!(l.file, 7);
    }

    #[test]
    fn get_returns_what_was_inserted_and_remove_forgets() {
        let mut c = ChunkLocations::new();
        assert_eq!(c.get((1, 2)), None);
        c.insert((1, 2), at(5, 3), 64);
        c.insert((1, 3), at(6, 2), 64);
        assert_eq!(c.get((1, 2)), Some(at(5, 3)));
        assert_eq!(c.get((1, 3)), Some(at(6, 2)));
        assert_eq!(c.get((2, 2)), None);
        c.insert((1, 2), at(9, 1), 64);
        assert_eq!(c.get((1, 2)), Some(at(9, 1)));
        c.remove((1, 2));
        assert_eq!(c.get((1, 2)), None);
        assert_eq!(c.get((1, 3)), Some(at(6, 2)));
    }

    #[test]
    fn bounded_and_keeps_recently_used() {
        let mut c = ChunkLocations::new();
        c.insert((0, 0), at(1, 1), 100);
        assert_eq!(c.capacity(), 128);
        // A hot key read between every insert survives a stream of others.
        for v in 1..10_000u32 {
            c.insert((0, v), at(v, 1), 100);
            assert_eq!(c.get((0, 0)), Some(at(1, 1)), "evicted at {v}");
        }
        assert_eq!(c.capacity(), 128);
        let kept = (1..10_000u32).filter(|&v| c.get((0, v)).is_some()).count();
        assert!(kept <= 127 && kept > 64, "{kept}");
        // The latest inserts are all there.
        assert!((9_990..10_000u32).all(|v| c.get((0, v)) == Some(at(v, 1))));
    }

    #[test]
    fn same_value_needs_visibility_and_id() {
        assert!(same_value(true, 5, 5));
        assert!(!same_value(false, 5, 5));
        assert!(!same_value(true, 4, 5));
    }
}
