//! Grouping files into batches for the batch form of image_embed, bounded by
//! count and by bytes so one statement never carries too much.

/// Collects items into batches of at most `max_items` items and `max_bytes`
/// bytes; an item larger than `max_bytes` travels alone.
pub struct Batcher<T> {
    max_items: usize,
    max_bytes: usize,
    items: Vec<T>,
    bytes: usize,
}

impl<T> Batcher<T> {
    /// A batcher with the given bounds (each at least 1).
    pub fn new(max_items: usize, max_bytes: usize) -> Self {
        Batcher {
            max_items: max_items.max(1),
            max_bytes: max_bytes.max(1),
            items: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds an item of `size` bytes; returns a full batch when one is ready.
    pub fn push(&mut self, item: T, size: usize) -> Option<Vec<T>> {
        let ready = if !self.items.is_empty() && self.bytes + size > self.max_bytes {
            Some(self.take())
        } else {
            None
        };
        self.items.push(item);
        self.bytes += size;
        if ready.is_some() {
            return ready;
        }
        if self.items.len() >= self.max_items || self.bytes >= self.max_bytes {
            return Some(self.take());
        }
        None
    }

    /// The last, partial batch, if any items are left.
    pub fn finish(&mut self) -> Option<Vec<T>> {
        (!self.items.is_empty()).then(|| self.take())
    }

    /// Empties the current batch.
    fn take(&mut self) -> Vec<T> {
        self.bytes = 0;
        std::mem::take(&mut self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a batcher over (item, size) pairs and returns the batches.
    fn run(max_items: usize, max_bytes: usize, sizes: &[usize]) -> Vec<Vec<usize>> {
        let mut b = Batcher::new(max_items, max_bytes);
        let mut out = Vec::new();
        for (i, &s) in sizes.iter().enumerate() {
            out.extend(b.push(i, s));
        }
        out.extend(b.finish());
        out
    }

    #[test]
    fn by_count() {
        assert_eq!(
            run(2, 1000, &[1, 1, 1, 1, 1]),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
        assert_eq!(run(3, 1000, &[]), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn by_bytes() {
        assert_eq!(run(10, 10, &[4, 4, 4, 4]), vec![vec![0, 1], vec![2, 3]]);
        // an oversized item travels alone, and flushes what came before it
        assert_eq!(run(10, 10, &[3, 50, 3]), vec![vec![0], vec![1], vec![2]]);
        assert_eq!(run(10, 10, &[10, 1]), vec![vec![0], vec![1]]);
    }

    #[test]
    fn every_item_exactly_once_in_order() {
        let sizes: Vec<usize> = (0..500).map(|i| (i * 7919) % 13 + 1).collect();
        let batches = run(7, 20, &sizes);
        let flat: Vec<usize> = batches.iter().flatten().copied().collect();
        assert_eq!(flat, (0..500).collect::<Vec<_>>());
        for b in &batches {
            assert!(b.len() <= 7);
            let bytes: usize = b.iter().map(|&i| sizes[i]).sum();
            assert!(b.len() == 1 || bytes <= 20);
        }
    }
}
