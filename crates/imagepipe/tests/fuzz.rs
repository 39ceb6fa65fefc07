//! Random mutations of valid files: decoding and preprocessing must never
//! panic (not even inside a decoder, where `decode` would catch it), never
//! hang, and any error must be one of the decoding variants.
//!
//! This file is its own test binary because it installs a panic hook that
//! counts panics process-wide.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{fixture, imagenet, small, Rng, IMAGES};
use imagepipe::{decode, preprocess, Error, Limits};

/// Mutations per fixture image.
const ROUNDS: u64 = 400;

/// Panics seen anywhere in this process, caught or not.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Applies one to four random mutations to `data`.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            data.push(rng.next_u64() as u8);
        }
        let at = rng.below(data.len());
        match rng.below(7) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = rng.next_u64() as u8,
            2 => {
                let n = (1 + rng.below(16)).min(data.len() - at);
                let noise = rng.bytes(n);
                data[at..at + n].copy_from_slice(&noise);
            }
            3 => {
                let n = 1 + rng.below(16);
                let noise = rng.bytes(n);
                data.splice(at..at, noise);
            }
            4 => {
                let n = (1 + rng.below(64)).min(data.len() - at);
                data.drain(at..at + n);
            }
            5 => data.truncate(at.max(1)),
            _ => {
                // Interesting values where headers keep sizes and counts.
                let v = [0x00, 0xff, 0x7f, 0x80, 0x01][rng.below(5)];
                data[at] = v;
            }
        }
    }
}

/// Thousands of mutated fixtures: no panic, no hang, only decoding errors.
#[test]
fn mutated_files_never_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    // Tighter than the defaults so that a mutated header cannot make the
    // test slow; the limits themselves are tested in hostile.rs.
    let limits = Limits {
        max_width: 4096,
        max_height: 4096,
        max_pixels: 1 << 22,
        max_alloc: 64 << 20,
    };
    let (mut ok, mut failed) = (0usize, 0usize);
    for (n, name) in IMAGES.iter().enumerate() {
        let original = fixture(name);
        for round in 0..ROUNDS {
            let seed = n as u64 * 1_000_000 + round;
            let mut rng = Rng::new(seed);
            let mut data = original.clone();
            mutate(&mut rng, &mut data);
            let start = Instant::now();
            match decode(&data, &limits) {
                Ok(img) => {
                    ok += 1;
                    for p in [small(), imagenet()] {
                        assert_eq!(preprocess(&img, &p).unwrap().shape()[0], 3);
                    }
                }
                Err(
                    Error::Empty
                    | Error::UnsupportedFormat(_)
                    | Error::Corrupt(_)
                    | Error::TooLarge(_),
                ) => failed += 1,
                Err(e) => panic!("{name} seed {seed}: unexpected variant {e:?}"),
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{name} seed {seed}: took {:?}",
                start.elapsed()
            );
            assert_eq!(
                PANICS.load(Ordering::SeqCst),
                0,
                "{name} seed {seed}: a decoder panicked"
            );
        }
    }
    println!("{ok} mutated files decoded, {failed} refused");
    assert!(failed > 0 && ok > 0);
}
