//! The heap TIDs of the nodes an index build holds in memory.

use pageformat::HeapTid;
use rustc_hash::FxHashMap;

/// Per node its heap TIDs: one inline (8 bytes), and the rare nodes that
/// merged several rows with identical copies in a side map.
#[derive(Default)]
pub struct NodeTids {
    first: Vec<HeapTid>,
    more: FxHashMap<u32, Vec<HeapTid>>,
    more_bytes: usize,
}

impl NodeTids {
    /// Adds the next node, of row `tid`.
    pub fn push(&mut self, tid: HeapTid) {
        if self.first.len() == self.first.capacity() {
            self.first.reserve_exact((self.first.len() / 8).max(1024));
        }
        self.first.push(tid);
    }

    /// The TIDs of `node`.
    pub fn of(&self, node: u32) -> &[HeapTid] {
        match self.more.get(&node) {
            Some(all) => all,
            None => std::slice::from_ref(&self.first[node as usize]),
        }
    }

    /// Adds row `tid` to `node`.
    pub fn add(&mut self, node: u32, tid: HeapTid) {
        let first = self.first[node as usize];
        let all = self.more.entry(node).or_insert_with(|| vec![first]);
        let before = all.capacity();
        all.push(tid);
        self.more_bytes += (all.capacity() - before) * std::mem::size_of::<HeapTid>();
    }

    /// Heap bytes held (arrays by capacity, the side map by its buckets).
    pub fn bytes(&self) -> usize {
        let bucket = std::mem::size_of::<(u32, Vec<HeapTid>)>() + 1;
        self.first.capacity() * std::mem::size_of::<HeapTid>()
            + self.more.capacity() * bucket * 8 / 7
            + self.more_bytes
    }
}
