//! Text format tests: pgvector's accepted forms, its errors, and a fuzz loop.

use super::*;
use rand::{Rng, SeedableRng};

/// Parses without a typmod.
fn p(s: &str) -> Result<Vec<f32>, VectorError> {
    parse(s, -1)
}

#[test]
fn accepts_pgvector_forms() {
    assert_eq!(p("[1,2,3]").unwrap(), vec![1.0, 2.0, 3.0]);
    assert_eq!(
        p("  [ 1 , 2.5 ,\t-3e2 ]  ").unwrap(),
        vec![1.0, 2.5, -300.0]
    );
    assert_eq!(p("[+.5,5.,0x10,1e-50]").unwrap(), vec![0.5, 5.0, 16.0, 0.0]);
    assert_eq!(p("[0x1.8p1]").unwrap(), vec![3.0]);
    assert_eq!(p("[-0]").unwrap()[0].to_bits(), (-0.0f32).to_bits());
}

#[test]
fn rejects_like_pgvector() {
    let syntax = |s: &str| VectorError::InvalidSyntax {
        input: s.into(),
        detail: None,
    };
    assert_eq!(p("[1,2"), Err(syntax("[1,2")));
    assert_eq!(p("[1,,2]"), Err(syntax("[1,,2]")));
    assert_eq!(p("[1 2]"), Err(syntax("[1 2]")));
    assert_eq!(p("[a]"), Err(syntax("[a]")));
    assert_eq!(p("[1e]"), Err(syntax("[1e]")));
    assert_eq!(p("[1,]"), Err(syntax("[1,]")));
    assert_eq!(
        p("1,2"),
        Err(VectorError::InvalidSyntax {
            input: "1,2".into(),
            detail: Some("Vector contents must start with \"[\".")
        })
    );
    assert_eq!(
        p("[1]x"),
        Err(VectorError::InvalidSyntax {
            input: "[1]x".into(),
            detail: Some("Junk after closing right brace.")
        })
    );
    assert_eq!(p("[]"), Err(VectorError::TooFewDimensions));
    assert_eq!(p("[ ]"), Err(VectorError::TooFewDimensions));
    assert_eq!(p("[NaN]"), Err(VectorError::NaN));
    assert_eq!(p("[-inf]"), Err(VectorError::Infinite));
    assert_eq!(p("[Infinity]"), Err(VectorError::Infinite));
    assert_eq!(
        p("[1e39]"),
        Err(VectorError::OutOfRange {
            token: "1e39".into()
        })
    );
    assert_eq!(
        p("[-1e39]"),
        Err(VectorError::OutOfRange {
            token: "-1e39".into()
        })
    );
    assert_eq!(
        parse("[1,2]", 3),
        Err(VectorError::ExpectedDimensions {
            expected: 3,
            got: 2
        })
    );
    let big = format!("[{}]", vec!["1"; MAX_DIM + 1].join(","));
    assert_eq!(p(&big), Err(VectorError::TooManyDimensions));
    let max = format!("[{}]", vec!["1"; MAX_DIM].join(","));
    assert_eq!(p(&max).unwrap().len(), MAX_DIM);
}

#[test]
fn error_messages_are_pgvectors() {
    assert_eq!(
        p("[1,2").unwrap_err().to_string(),
        "invalid input syntax for type vector: \"[1,2\""
    );
    assert_eq!(
        parse("[1,2]", 3).unwrap_err().to_string(),
        "expected 3 dimensions, not 2"
    );
    assert_eq!(
        p("[1e39]").unwrap_err().to_string(),
        "\"1e39\" is out of range for type vector"
    );
    assert_eq!(
        p("[nan]").unwrap_err().to_string(),
        "NaN not allowed in vector"
    );
    assert_eq!(
        p("[inf]").unwrap_err().to_string(),
        "infinite value not allowed in vector"
    );
    assert_eq!(
        p("[]").unwrap_err().to_string(),
        "vector must have at least 1 dimension"
    );
}

#[test]
fn formats_like_float4out() {
    let f = |v: f32| {
        let mut s = String::new();
        format_f32(v, &mut s);
        s
    };
    assert_eq!(f(1.5), "1.5");
    assert_eq!(f(2.0), "2");
    assert_eq!(f(0.1), "0.1");
    assert_eq!(f(-0.0), "-0");
    assert_eq!(f(123456.0), "123456");
    assert_eq!(f(1234567.0), "1.234567e+06");
    assert_eq!(f(1e20), "1e+20");
    assert_eq!(f(0.0001), "0.0001");
    assert_eq!(f(0.00001), "1e-05");
    assert_eq!(f(1.0e-40), "1e-40");
    assert_eq!(f(f32::MAX), "3.4028235e+38");
    assert_eq!(format(&[1.5, 2.0, 3.0]), "[1.5,2,3]");
}

#[test]
fn format_round_trips_random_floats() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for _ in 0..100_000 {
        let v = f32::from_bits(rng.gen());
        if !v.is_finite() {
            continue;
        }
        let text = format(&[v]);
        let back = p(&text).unwrap();
        assert_eq!(back[0].to_bits(), v.to_bits(), "{text}");
    }
}

#[test]
fn fuzz_never_panics_or_hangs() {
    let seed = 0x5eed_u64;
    eprintln!("fuzz seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let alphabet = b"[]{},.+-eExXpP0123456789 \tinfatyINFNA()";
    let valid = ["[1,2,3]", "[1.5e3, -2, 0x1p4]", "[ inf ]", "[nan(123)]"];
    for round in 0..200_000 {
        let s: String = if round % 2 == 0 {
            let n = rng.gen_range(0..24);
            (0..n)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
                .collect()
        } else {
            let mut b = valid[round % valid.len()].as_bytes().to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=b.len());
                match rng.gen_range(0..3) {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 => b.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
                    _ if at < b.len() => b[at] = alphabet[rng.gen_range(0..alphabet.len())],
                    _ => {}
                }
            }
            String::from_utf8(b).expect("alphabet is ASCII")
        };
        if let Ok(v) = p(&s) {
            assert!(
                !v.is_empty() && v.iter().all(|x| x.is_finite()),
                "{s:?} gave {v:?}"
            );
            assert_eq!(p(&format(&v)).unwrap(), v, "{s:?} does not round-trip");
        }
    }
}

#[test]
// The literals are exact f32 values written out in full: the ties under test.
#[allow(clippy::excessive_precision)]
fn ties_format_to_the_even_digit_like_float4out() {
    let f = |v: f32| {
        let mut s = String::new();
        format_f32(v, &mut s);
        s
    };
    // 1.12890625 is exactly between 1.1289062 and 1.1289063
    assert_eq!(f(1.128_906_25), "1.1289062");
    assert_eq!(f(-1.128_906_25), "-1.1289062");
    assert_eq!(f(1.566_406_25), "1.5664062");
    assert_eq!(f(0.099_975_586), "0.099975586");
    assert_eq!(f(65504.0), "65504");
    // a shorter string exactly on the rounding boundary is not Ryu's
    assert_eq!(f(57_706_752.0), "5.7706752e+07");
}

/// The digits float4out prints for finite, non-zero `v`, found the slow way
/// (the previous implementation, kept as the oracle): ryu's shortest string,
/// unless it lies exactly on a rounding boundary (checked by printing both
/// float8 midpoints with all their digits), then the next longer string that
/// is not on one and reads back as `v`.
fn oracle_digits(v: f32) -> String {
    fn parts(text: &str) -> (String, i32) {
        let (m, e) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().unwrap()),
            None => (text, 0),
        };
        let (int, frac) = m.split_once('.').unwrap_or((m, ""));
        let all = format!("{int}{frac}");
        let lead = all.bytes().take_while(|&b| b == b'0').count();
        (
            all[lead..].trim_end_matches('0').to_owned(),
            e + int.len() as i32 - 1 - lead as i32,
        )
    }
    let v = v.abs();
    let mids = {
        let (x, up, down) = (
            f64::from(v),
            f64::from(f32::from_bits(v.to_bits() + 1)),
            f64::from(f32::from_bits(v.to_bits() - 1)),
        );
        [(x + up) / 2.0, (x + down) / 2.0]
    };
    let boundary = |d: &(String, i32)| {
        mids.iter()
            .filter(|m| m.is_finite())
            .any(|m| parts(&format!("{m:.200e}")) == *d)
    };
    let mut buf = ryu::Buffer::new();
    let short = parts(buf.format_finite(v));
    let mut best = short.clone();
    if boundary(&short) {
        for precision in short.0.len()..9 {
            let text = format!("{v:.precision$e}");
            let longer = parts(&text);
            if !boundary(&longer) && text.parse::<f32>().unwrap() == v {
                best = longer;
                break;
            }
        }
    }
    let (d, e) = best;
    format!("{d}e{e}")
}

#[test]
// 1.128_906_25 is an exact f32 tie written out in full.
#[allow(clippy::excessive_precision)]
fn format_digits_equal_the_slow_oracle() {
    // Random bit patterns (all exponents), the boundary cases the oracle
    // exists for (integers near 2^25..2^31, halves of ulps), and halfvec's
    // values (every f16 widened).
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut values: Vec<f32> = (0..300_000).map(|_| f32::from_bits(rng.gen())).collect();
    values.extend((0..100_000).map(|_| rng.gen_range(33_554_432u32..2_147_483_647) as f32));
    values.extend((0..=u16::MAX).map(|b| half::f16::from_bits(b).to_f32()));
    values.extend([
        57_706_752.0,
        1.128_906_25,
        65504.0,
        f32::MAX,
        f32::MIN_POSITIVE,
        1e-45,
    ]);
    for v in values.into_iter().filter(|v| v.is_finite() && *v != 0.0) {
        let mut s = String::new();
        format_f32(v, &mut s);
        let want = oracle_digits(v);
        let got = {
            let body = s.trim_start_matches('-');
            let (m, e) = match body.split_once('e') {
                Some((m, e)) => (m, e.parse::<i32>().unwrap()),
                None => (body, 0),
            };
            let (int, frac) = m.split_once('.').unwrap_or((m, ""));
            let all = format!("{int}{frac}");
            let lead = all.bytes().take_while(|&b| b == b'0').count();
            format!(
                "{}e{}",
                all[lead..].trim_end_matches('0'),
                e + int.len() as i32 - 1 - lead as i32
            )
        };
        assert_eq!(got, want, "{v:e} printed as {s}");
    }
}
