//! sparsevec tests: pgvector's accepted forms and errors (words and
//! SQLSTATEs), round trips, distances against the dense definitions, the
//! btree order, and fuzz loops over the text and binary parsers.

use super::*;
use rand::{Rng, SeedableRng};

/// Parses without a typmod.
fn p(s: &str) -> Result<SparseVec> {
    parse(s, -1)
}

/// A sparse vector from 0-based (index, value) pairs.
fn sv(dim: i32, pairs: &[(i32, f32)]) -> SparseVec {
    SparseVec {
        dim,
        indices: pairs.iter().map(|&(i, _)| i).collect(),
        values: pairs.iter().map(|&(_, x)| x).collect(),
    }
}

/// The error's message, detail and SQLSTATE.
fn err<T: std::fmt::Debug>(r: Result<T>) -> (String, Option<&'static str>, SqlState) {
    let e = r.expect_err("an error");
    (e.to_string(), e.detail(), e.sqlstate())
}

#[test]
fn accepts_pgvector_forms() {
    assert_eq!(p("{1:1.5,3:2}/5").unwrap(), sv(5, &[(0, 1.5), (2, 2.0)]));
    assert_eq!(
        p("  { 3 : 2 , 1:1.5 }  /  5  ").unwrap(),
        sv(5, &[(0, 1.5), (2, 2.0)])
    );
    assert_eq!(p("{}/1").unwrap(), sv(1, &[]));
    assert_eq!(p("{ }/3").unwrap(), sv(3, &[]));
    // zeros (and negative zero) are dropped
    assert_eq!(p("{1:0,2:-0,3:4}/3").unwrap(), sv(3, &[(2, 4.0)]));
    assert_eq!(
        p("{+1:+.5,2:0x10}/2").unwrap(),
        sv(2, &[(0, 0.5), (1, 16.0)])
    );
    assert_eq!(p("{1:1e-40}/1").unwrap().values[0], 1e-40f32);
    assert_eq!(p("{1:1}/1000000000").unwrap().dim, 1_000_000_000);
}

#[test]
fn rejects_like_pgvector() {
    use SqlState::*;
    let syntax = |s: &str, d| {
        (
            format!("invalid input syntax for type sparsevec: \"{s}\""),
            d,
            InvalidTextRepresentation,
        )
    };
    for s in [
        "{1:1",
        "{1:}/1",
        "{:1}/1",
        "{1 1}/1",
        "{a:1}/1",
        "{1:a}/1",
        "{1:1,}/1",
        "{1:1}/",
        "{1:1}/a",
        "{",
        "{1:1,,2:1}/2",
    ] {
        assert_eq!(err(p(s)), syntax(s, None), "{s}");
    }
    let start = Some("Vector contents must start with \"{\".");
    assert_eq!(err(p("[1]")), syntax("[1]", start));
    assert_eq!(err(p("")), syntax("", start));
    assert_eq!(
        err(p("{1:1}")),
        syntax("{1:1}", Some("Unexpected end of input."))
    );
    assert_eq!(
        err(p("{1:1}/1 x")),
        syntax("{1:1}/1 x", Some("Junk after closing."))
    );
    assert_eq!(
        err(p("{1:1}/1/")),
        syntax("{1:1}/1/", Some("Junk after closing."))
    );
    let data = |m: &str| (m.to_owned(), None, DataException);
    assert_eq!(err(p("{1:NaN}/1")), data("NaN not allowed in sparsevec"));
    assert_eq!(
        err(p("{1:-inf}/1")),
        data("infinite value not allowed in sparsevec")
    );
    assert_eq!(
        err(p("{1:1e39}/1")),
        (
            "\"1e39\" is out of range for type sparsevec".into(),
            None,
            NumericValueOutOfRange
        )
    );
    assert_eq!(
        err(p("{1:-1e-50}/1")),
        (
            "\"-1e-50\" is out of range for type sparsevec".into(),
            None,
            NumericValueOutOfRange
        )
    );
    assert_eq!(err(p("{0:1}/1")), data("sparsevec index out of bounds"));
    assert_eq!(err(p("{2:1}/1")), data("sparsevec index out of bounds"));
    assert_eq!(
        err(p("{-2147483648:1}/1")),
        data("sparsevec index out of bounds")
    );
    assert_eq!(
        err(p("{99999999999:1}/1")),
        data("sparsevec index out of bounds")
    );
    assert_eq!(
        err(p("{1:1,1:2}/2")),
        data("sparsevec indices must not contain duplicates")
    );
    // a zero's index is never checked (it is not stored)
    assert_eq!(p("{0:0}/1").unwrap(), sv(1, &[]));
    assert_eq!(
        err(p("{}/0")),
        data("sparsevec must have at least 1 dimension")
    );
    assert_eq!(
        err(p("{}/-99999999999")),
        data("sparsevec must have at least 1 dimension")
    );
    assert_eq!(
        err(p("{}/1000000001")),
        (
            "sparsevec cannot have more than 1000000000 dimensions".into(),
            None,
            ProgramLimitExceeded
        )
    );
    assert_eq!(
        err(parse("{1:1}/3", 2)),
        data("expected 2 dimensions, not 3")
    );
    let many = format!("{{{}}}/20000", vec!["1:0"; 16_001].join(","));
    assert_eq!(
        err(p(&many)),
        (
            "sparsevec cannot have more than 16000 non-zero elements".into(),
            None,
            ProgramLimitExceeded
        )
    );
    let most: Vec<String> = (1..=16_000).map(|i| format!("{i}:1")).collect();
    assert_eq!(
        p(&format!("{{{}}}/16000", most.join(",")))
            .unwrap()
            .indices
            .len(),
        16_000
    );
}

#[test]
fn formats_like_pgvector() {
    assert_eq!(
        format(sv(5, &[(0, 1.5), (2, 2.0)]).as_ref()),
        "{1:1.5,3:2}/5"
    );
    assert_eq!(format(sv(3, &[]).as_ref()), "{}/3");
    assert_eq!(
        format(sv(2, &[(1, 1e-7), (0, 1.5e6)]).as_ref()),
        "{2:1e-07,1:1.5e+06}/2"
    );
}

#[test]
fn binary_round_trip_and_errors() {
    use SqlState::*;
    let v = sv(10, &[(0, 1.5), (9, -2.0)]);
    let bytes = encode(v.as_ref());
    assert_eq!(bytes.len(), 12 + 16);
    assert_eq!(decode(&bytes, -1).unwrap(), (v.clone(), bytes.len()));
    assert_eq!(decode(&bytes, 10).unwrap().0, v);
    let mut extra = bytes.clone();
    extra.push(7);
    assert_eq!(decode(&extra, -1).unwrap().1, bytes.len());
    let frame = |d: i32, n: i32, u: i32, idx: &[i32], vals: &[f32]| {
        let mut b = Vec::new();
        for x in [d, n, u].iter().chain(idx) {
            b.extend_from_slice(&x.to_be_bytes());
        }
        for x in vals {
            b.extend_from_slice(&x.to_be_bytes());
        }
        b
    };
    let e = |b: Vec<u8>| err(decode(&b, -1));
    let data = |m: &str| (m.to_owned(), None, DataException);
    assert_eq!(
        e(frame(0, 0, 0, &[], &[])),
        data("sparsevec must have at least 1 dimension")
    );
    assert_eq!(
        e(frame(1_000_000_001, 0, 0, &[], &[])).2,
        ProgramLimitExceeded
    );
    assert_eq!(
        e(frame(3, -1, 0, &[], &[])),
        data("sparsevec cannot have negative number of elements")
    );
    assert_eq!(
        e(frame(30000, 16001, 0, &[], &[])),
        (
            "sparsevec cannot have more than 16000 non-zero elements".into(),
            None,
            ProgramLimitExceeded
        )
    );
    assert_eq!(
        e(frame(2, 3, 0, &[], &[])),
        (
            "sparsevec cannot have more elements than dimensions".into(),
            None,
            ProgramLimitExceeded
        )
    );
    assert_eq!(
        err(decode(&frame(3, 0, 0, &[], &[]), 2)),
        data("expected 2 dimensions, not 3")
    );
    assert_eq!(
        e(frame(3, 0, 5, &[], &[])),
        data("expected unused to be 0, not 5")
    );
    assert_eq!(
        e(frame(3, 2, 0, &[2, 1], &[1.0, 1.0])),
        data("sparsevec indices must be in ascending order")
    );
    assert_eq!(
        e(frame(3, 2, 0, &[1, 1], &[1.0, 1.0])),
        data("sparsevec indices must not contain duplicates")
    );
    assert_eq!(
        e(frame(3, 1, 0, &[3], &[1.0])),
        data("sparsevec index out of bounds")
    );
    assert_eq!(
        e(frame(3, 1, 0, &[-1], &[1.0])),
        data("sparsevec index out of bounds")
    );
    assert_eq!(
        e(frame(3, 1, 0, &[0], &[0.0])),
        data("binary representation of sparsevec cannot contain zero values")
    );
    assert_eq!(
        e(frame(3, 1, 0, &[0], &[f32::NAN])),
        data("NaN not allowed in sparsevec")
    );
    assert_eq!(
        e(frame(3, 1, 0, &[0], &[f32::INFINITY])),
        data("infinite value not allowed in sparsevec")
    );
    assert_eq!(
        e(frame(3, 2, 0, &[0], &[])),
        (
            "insufficient data left in message".into(),
            None,
            ProtocolViolation
        )
    );
    assert_eq!(e(vec![0, 0, 0]).2, ProtocolViolation);
}

#[test]
fn typmods() {
    assert_eq!(typmod(&[Some("5")]), Ok(5));
    assert_eq!(typmod(&[Some("1000000000")]), Ok(1_000_000_000));
    let e = |l: &[Option<&str>]| err(typmod(l));
    assert_eq!(
        e(&[Some("1000000001")]),
        (
            "dimensions for type sparsevec cannot exceed 1000000000".into(),
            None,
            SqlState::InvalidParameterValue
        )
    );
    assert_eq!(
        e(&[Some("0")]),
        (
            "dimensions for type sparsevec must be at least 1".into(),
            None,
            SqlState::InvalidParameterValue
        )
    );
    assert_eq!(e(&[Some("1"), Some("2")]).0, "invalid type modifier");
    assert_eq!(e(&[Some("x")]).2, SqlState::InvalidTextRepresentation);
}

#[test]
fn dense_conversions() {
    let v = from_dense(&[0.0, 1.5, 0.0, -2.0], -1).unwrap();
    assert_eq!(v, sv(4, &[(1, 1.5), (3, -2.0)]));
    assert_eq!(to_dense(v.as_ref()), vec![0.0, 1.5, 0.0, -2.0]);
    assert_eq!(
        err(from_dense(&[1.0, 2.0], 3)).0,
        "expected 3 dimensions, not 2"
    );
    assert_eq!(
        err(from_dense(&[], -1)).0,
        "sparsevec must have at least 1 dimension"
    );
    assert_eq!(
        err(from_dense(&vec![1.0; 16_001], -1)).0,
        "sparsevec cannot have more than 16000 non-zero elements"
    );
}

/// The dense L2 squared distance, float4 accumulation in index order.
fn dense_l2sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .filter(|(x, y)| **x != 0.0 || **y != 0.0)
        .fold(0f32, |s, (x, y)| s + (x - y) * (x - y))
}

/// A random sparse vector of `dim` dimensions, about `density` filled.
fn random(rng: &mut impl Rng, dim: i32, density: f64) -> SparseVec {
    let dense: Vec<f32> = (0..dim)
        .map(|_| {
            if rng.gen_bool(density) {
                rng.gen_range(-4i32..=4) as f32 * 0.5
            } else {
                0.0
            }
        })
        .collect();
    from_dense(&dense, -1).unwrap()
}

#[test]
fn distances_match_dense() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20);
    for _ in 0..500 {
        let dim = rng.gen_range(1..40);
        let (a, b) = (random(&mut rng, dim, 0.3), random(&mut rng, dim, 0.3));
        let (da, db) = (to_dense(a.as_ref()), to_dense(b.as_ref()));
        let (a, b) = (a.as_ref(), b.as_ref());
        assert_eq!(l2_squared_distance(a, b), f64::from(dense_l2sq(&da, &db)));
        assert_eq!(l2_distance(a, b), l2_squared_distance(a, b).sqrt());
        let ip: f32 = da.iter().zip(&db).map(|(x, y)| x * y).sum();
        assert_eq!(inner_product(a, b), f64::from(ip));
        assert_eq!(negative_inner_product(a, b), -f64::from(ip));
        let l1: f32 = da
            .iter()
            .zip(&db)
            .filter(|(x, y)| **x != 0.0 || **y != 0.0)
            .map(|(x, y)| (x - y).abs())
            .sum();
        assert_eq!(l1_distance(a, b), f64::from(l1));
        let c = cosine_distance(a, b);
        if a.values.is_empty() || b.values.is_empty() {
            assert!(c.is_nan());
        } else {
            assert!((0.0..=2.0).contains(&c), "{c}");
        }
        let norm = da.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        assert_eq!(l2_norm(a), norm);
        // the btree order is the dense lexicographic order
        let dense_order = da
            .iter()
            .zip(&db)
            .find_map(|(x, y)| (x != y).then(|| x.partial_cmp(y).unwrap()))
            .unwrap_or(Ordering::Equal);
        assert_eq!(cmp(a, b), dense_order);
        assert_eq!(cmp(b, a), dense_order.reverse());
    }
    let (x, y) = (sv(3, &[(0, 1.0)]), sv(3, &[(0, -1.0)]));
    assert_eq!(cosine_distance(x.as_ref(), y.as_ref()), 2.0);
    assert_eq!(
        err(same_dims(sv(3, &[]).as_ref(), sv(4, &[]).as_ref())),
        (
            "different sparsevec dimensions 3 and 4".into(),
            None,
            SqlState::DataException
        )
    );
}

#[test]
fn order_over_different_dimensions() {
    let c = |a: SparseVec, b: SparseVec| cmp(a.as_ref(), b.as_ref());
    // shorter prefix-equal vectors first
    assert_eq!(c(sv(2, &[(0, 1.0)]), sv(3, &[(0, 1.0)])), Ordering::Less);
    // values before dimensions
    assert_eq!(c(sv(5, &[(0, 1.0)]), sv(2, &[(0, 2.0)])), Ordering::Less);
    // a non-zero past the other's dimensions does not count
    assert_eq!(c(sv(5, &[(4, -1.0)]), sv(2, &[])), Ordering::Greater);
    assert_eq!(c(sv(3, &[(1, -1.0)]), sv(3, &[])), Ordering::Less);
    assert_eq!(c(sv(3, &[(1, 1.0)]), sv(3, &[(1, 1.0)])), Ordering::Equal);
}

#[test]
fn normalizes() {
    let v = l2_normalize(sv(3, &[(0, 3.0), (2, 4.0)]).as_ref()).unwrap();
    assert_eq!(v, sv(3, &[(0, 0.6), (2, 0.8)]));
    assert_eq!(l2_normalize(sv(3, &[]).as_ref()).unwrap(), sv(3, &[]));
    assert!(l2_norm(sv(3, &[]).as_ref()).is_sign_positive());
    // an element that underflows next to a huge one is dropped
    let v = l2_normalize(sv(3, &[(0, 3e38), (1, 1e-45)]).as_ref()).unwrap();
    assert_eq!(v, sv(3, &[(0, 1.0)]));
}

#[test]
fn fuzz_text_parser() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2020);
    let alphabet: &[&str] = &[
        "{",
        "}",
        "/",
        ":",
        ",",
        " ",
        "1",
        "2",
        "0",
        "9",
        "-",
        "+",
        ".",
        "e",
        "x",
        "inf",
        "nan",
        "1e39",
        "1e-50",
        "\t",
        "a",
        "99999999999",
        "3",
        "{1:1}/3",
    ];
    for _ in 0..50_000 {
        let n = rng.gen_range(0..14);
        let s: String = (0..n)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        match p(&s) {
            Ok(v) => {
                // anything accepted is valid and prints back to itself
                assert!(v.dim >= 1);
                for k in 0..v.indices.len() {
                    index(&v.indices, k, i64::from(v.dim)).unwrap();
                    element(v.values[k]).unwrap();
                    assert_ne!(v.values[k], 0.0);
                }
                let text = format(v.as_ref());
                assert_eq!(p(&text).unwrap(), v, "{s} -> {text}");
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn fuzz_random_vectors_round_trip() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..2_000 {
        let dim = rng.gen_range(1..200);
        let density = rng.gen_range(0.0..1.0);
        let mut v = random(&mut rng, dim, density);
        for x in &mut v.values {
            *x =
                f32::from_bits(rng.gen::<u32>() & 0x7f7f_ffff) * if rng.gen() { 1.0 } else { -1.0 };
            if *x == 0.0 {
                *x = 1.0;
            }
        }
        assert_eq!(p(&format(v.as_ref())).unwrap(), v);
        let b = encode(v.as_ref());
        assert_eq!(decode(&b, dim).unwrap(), (v.clone(), b.len()));
        assert_eq!(from_dense(&to_dense(v.as_ref()), -1).unwrap(), v);
    }
}

#[test]
fn fuzz_binary_parser() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let good = encode(sv(6, &[(1, 1.0), (4, -3.5)]).as_ref());
    for _ in 0..50_000 {
        let mut b = if rng.gen_bool(0.5) {
            good.clone()
        } else {
            (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect()
        };
        for _ in 0..rng.gen_range(0..4) {
            if !b.is_empty() {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
        }
        if rng.gen_bool(0.2) {
            b.truncate(rng.gen_range(0..=b.len()));
        }
        if let Ok((v, used)) = decode(&b, -1) {
            assert!(used <= b.len());
            assert_eq!(encode(v.as_ref()), b[..used].to_vec());
            assert_eq!(p(&format(v.as_ref())).unwrap(), v);
        }
    }
}
