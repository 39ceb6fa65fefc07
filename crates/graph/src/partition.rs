//! Where the rows of a partitioned build go.
//!
//! Design note. A build whose graph does not fit its memory links it in
//! parts: the rows are split by k-means centres into partitions that
//! each fit, every partition is linked in memory, and each row keeps the
//! layer-0 list its *home* partition gave it. So that links cross the
//! partitions' borders, a row also joins one more partition as a *guest*
//! (its next nearest centre with room): there it is a neighbour others
//! may link to, but its own list there is dropped. [`Placement`] gives
//! each row its home and then its guest partition, never past a
//! partition's capacity (a row whose nearest partition is full goes to the
//! nearest one with room; homes are all placed before the first guest),
//! so every partition's graph fits the memory it was sized for, whatever
//! the data's clusters.

/// No guest partition.
pub const NO_PARTITION: u16 = u16::MAX;

/// Partitions needed for `places` rows (homes and guests) when one
/// partition holds `capacity`, with a quarter of each partition spare for
/// uneven clusters; at least 2, at most `u16::MAX - 1` (the caller checks
/// that `capacity` is not tiny).
pub fn partitions_for(places: usize, capacity: usize) -> usize {
    let usable = (capacity * 3 / 4).max(1);
    places.div_ceil(usable).clamp(2, NO_PARTITION as usize - 1)
}

/// Rows placed in each partition so far, and their cap.
#[derive(Debug, Clone)]
pub struct Placement {
    counts: Vec<u32>,
    homes: Vec<u32>,
    cap: u32,
}

impl Placement {
    /// `k` empty partitions of at most `cap` rows (home and guest rows).
    pub fn new(k: usize, cap: usize) -> Self {
        assert!(k > 0 && k < NO_PARTITION as usize, "1..65535 partitions");
        Placement {
            counts: vec![0; k],
            homes: vec![0; k],
            cap: u32::try_from(cap).expect("capacity fits u32"),
        }
    }

    /// Gives a row whose partitions `ranked` come nearest first (every
    /// partition once) its home: the first with room. Place every row's
    /// home before any guest, so guests never crowd a row out of home.
    ///
    /// # Panics
    /// When every partition is full: the caller sizes them for all rows.
    pub fn place_home(&mut self, ranked: &[usize]) -> u16 {
        let home = ranked
            .iter()
            .copied()
            .find(|&p| self.counts[p] < self.cap)
            .expect("a partition with room");
        self.counts[home] += 1;
        self.homes[home] += 1;
        home as u16
    }

    /// Gives the row at home in `home` its guest partition: the first of
    /// `ranked` after its home with room, [`NO_PARTITION`] when none has.
    pub fn place_guest(&mut self, ranked: &[usize], home: u16) -> u16 {
        let guest = ranked
            .iter()
            .copied()
            .find(|&p| p != home as usize && self.counts[p] < self.cap);
        if let Some(g) = guest {
            self.counts[g] += 1;
        }
        guest.map_or(NO_PARTITION, |g| g as u16)
    }

    /// Rows (home and guest) placed in partition `p`.
    pub fn count(&self, p: usize) -> usize {
        self.counts[p] as usize
    }

    /// Rows whose home is partition `p`.
    pub fn homes(&self, p: usize) -> usize {
        self.homes[p] as usize
    }

    /// Number of partitions.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are no partitions (never: `new` needs one).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// A row's layer-0 list from its lists in several graphs (its home
/// part's first, then its guest part's and, for a row of the upper
/// layers, that graph's; each in the order its graph kept them: the
/// heuristic's picks first): taken in turn from each, without repeats, at
/// most `max`. The home list alone knows only its part and the guests
/// there; the others add the row's neighbours across borders.
pub fn merge_lists(lists: &[&[u32]], max: usize) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(max);
    let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    for i in 0..longest {
        for list in lists {
            let Some(&id) = list.get(i) else {
                continue;
            };
            if out.len() == max {
                return out;
            }
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_lists_take_from_every_list_in_turn() {
        assert_eq!(
            merge_lists(&[&[1, 2, 3, 4], &[9, 2, 8]], 5),
            vec![1, 9, 2, 3, 8]
        );
        assert_eq!(merge_lists(&[&[1, 2], &[]], 4), vec![1, 2]);
        assert_eq!(merge_lists(&[&[], &[7, 7, 6]], 4), vec![7, 6]);
        assert_eq!(
            merge_lists(&[&[1, 2, 3], &[4, 5, 6]], 6),
            vec![1, 4, 2, 5, 3, 6]
        );
        assert_eq!(
            merge_lists(&[&[1, 2], &[3], &[5, 6, 7]], 5),
            vec![1, 3, 5, 2, 6]
        );
        assert!(merge_lists(&[], 3).is_empty());
    }

    #[test]
    fn rows_go_to_their_nearest_partitions_while_they_have_room() {
        let mut p = Placement::new(4, 2);
        let rows = [[2, 0, 1, 3], [2, 1, 0, 3], [2, 0, 1, 3], [1, 2, 0, 3]];
        let homes: Vec<u16> = rows.iter().map(|r| p.place_home(r)).collect();
        // Partition 2 is full after two homes: the next nearest with room.
        assert_eq!(homes, vec![2, 2, 0, 1]);
        let guests: Vec<u16> = rows
            .iter()
            .zip(&homes)
            .map(|(r, &h)| p.place_guest(r, h))
            .collect();
        // Row 0's next nearest (0) has room; row 1's (1) too; row 2's
        // next after its home 0 with room is 1 (2 is full) -- then 1 is
        // full, and row 3 takes the last room, in 3.
        assert_eq!(guests, vec![0, 1, 3, 3]);
        assert_eq!(
            (p.count(0), p.count(1), p.count(2), p.count(3)),
            (2, 2, 2, 2)
        );
        assert_eq!(
            (p.homes(0), p.homes(1), p.homes(2), p.homes(3)),
            (1, 1, 2, 0)
        );
        // Everything is full now: no guest.
        assert_eq!(p.place_guest(&[0, 1, 2, 3], 0), NO_PARTITION);
    }

    #[test]
    fn enough_partitions_hold_every_row_twice() {
        for (rows, cap) in [(100_000, 57_000), (10, 4), (1_000_000, 30_000), (3, 1000)] {
            let k = partitions_for(2 * rows, cap);
            assert!(k >= 2);
            assert!(
                k * cap >= 2 * rows,
                "{rows} rows, cap {cap}: {k} partitions"
            );
            // Whatever the ranking, every row finds a home.
            let mut p = Placement::new(k, cap);
            let n = rows.min(20_000);
            let ranked = |r: usize| -> Vec<usize> { (0..k).map(|i| (r + i) % k).collect() };
            let homes: Vec<u16> = (0..n).map(|r| p.place_home(&ranked(r))).collect();
            for (r, &h) in homes.iter().enumerate() {
                p.place_guest(&ranked(r), h);
            }
            assert!((0..k).all(|i| p.count(i) <= cap));
        }
    }

    #[test]
    #[should_panic(expected = "a partition with room")]
    fn a_full_placement_refuses_more_rows() {
        let mut p = Placement::new(1, 1);
        p.place_home(&[0]);
        p.place_home(&[0]);
    }
}
