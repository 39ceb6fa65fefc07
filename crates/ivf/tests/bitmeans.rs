//! k-means on packed bits (`Assignment::Hamming`): the clusters of noisy
//! copies of a few bit strings are found, centres are bit strings (the
//! majority of their rows), training is reproducible across thread counts,
//! and an inverted file on the centres finds the Hamming neighbours.

use std::sync::atomic::AtomicBool;

use ivf::layout::Element;
use ivf::{nearest_centre, nearest_centres, train, Assignment, Params};

/// A deterministic xorshift stream.
struct Stream(u64);

impl Stream {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// `per` noisy copies (each bit flipped with probability `noise`) of each
/// of `bases`, interleaved, as 0/1 floats; returned packed (rows of
/// `Element::Bits.width(bits)` floats) and as 0/1 floats.
fn noisy_copies(bases: &[Vec<f32>], per: usize, noise: f64, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut g = Stream(seed);
    let (mut packed, mut plain) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for _ in 0..per {
        for b in bases {
            let row: Vec<f32> = b
                .iter()
                .map(|&x| if g.chance(noise) { 1.0 - x } else { x })
                .collect();
            packed.extend_from_slice(Element::Bits.prepare(&row, &mut out));
            plain.extend_from_slice(&row);
        }
    }
    (packed, plain)
}

/// `n` random bit strings of `bits` bits as 0/1 floats.
fn bases(n: usize, bits: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut g = Stream(seed);
    (0..n)
        .map(|_| (0..bits).map(|_| (g.next() >> 63) as f32).collect())
        .collect()
}

/// Parameters for `k` centres under Hamming distance.
fn params(k: usize) -> Params {
    Params {
        k,
        iterations: 20,
        seed: 7,
        spherical: false,
        assignment: Assignment::Hamming,
    }
}

/// Hamming distance of two 0/1 float rows.
fn hamming(a: &[f32], b: &[f32]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

#[test]
fn finds_the_clusters_of_noisy_copies() {
    let bits = 1000;
    let truth = bases(8, bits, 3);
    let (data, _) = noisy_copies(&truth, 60, 0.1, 5);
    let width = Element::Bits.width(bits);
    // More lists than clusters, as an index has: every cluster gets one.
    let centres = train(&data, width, &params(16), &AtomicBool::new(false)).unwrap();
    assert_eq!(centres.len(), 16 * width);
    let mut out = Vec::new();
    for base in &truth {
        let packed = Element::Bits.prepare(base, &mut out).to_vec();
        let (c, d) = nearest_centre(&centres, width, &packed, Assignment::Hamming);
        // The majority of 30-60 copies with 10% noise is the base, give or
        // take a few bits (random bit strings are ~500 bits apart).
        assert!(d <= 10.0, "a base is {d} bits from its centre {c}");
    }
}

#[test]
fn same_centres_whatever_the_thread_count() {
    let bits = 200;
    let (data, _) = noisy_copies(&bases(10, bits, 11), 50, 0.25, 13);
    let width = Element::Bits.width(bits);
    let on = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train(&data, width, &params(13), &AtomicBool::new(false)).unwrap())
    };
    let one = on(1);
    for threads in [2, 5] {
        let other = on(threads);
        assert!(
            one.iter()
                .zip(&other)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{threads} threads differ"
        );
    }
}

#[test]
fn an_inverted_file_on_bit_centres_finds_the_neighbours() {
    let bits = 512;
    let (data, plain) = noisy_copies(&bases(20, bits, 17), 40, 0.2, 19);
    let width = Element::Bits.width(bits);
    let lists = 20;
    let centres = train(&data, width, &params(lists), &AtomicBool::new(false)).unwrap();
    let n = data.len() / width;
    let list_of: Vec<usize> = data
        .chunks_exact(width)
        .map(|r| nearest_centre(&centres, width, r, Assignment::Hamming).0)
        .collect();
    // Queries: fresh noisy copies; recall@10 of the 2 nearest lists against
    // the exact Hamming neighbours.
    let (queries, qplain) = noisy_copies(&bases(20, bits, 17), 2, 0.2, 23);
    let (mut found, mut wanted) = (0usize, 0usize);
    for (q, qp) in queries.chunks_exact(width).zip(qplain.chunks_exact(bits)) {
        let mut exact: Vec<(usize, usize)> = (0..n)
            .map(|i| (hamming(&plain[i * bits..(i + 1) * bits], qp), i))
            .collect();
        exact.sort();
        let open: Vec<usize> = nearest_centres(&centres, width, q, Assignment::Hamming, 2)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        for &(_, i) in &exact[..10] {
            wanted += 1;
            found += usize::from(open.contains(&list_of[i]));
        }
    }
    let recall = found as f64 / wanted as f64;
    assert!(recall >= 0.95, "recall {recall}");
}
