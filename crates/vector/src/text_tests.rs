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
