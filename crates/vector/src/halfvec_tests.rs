//! halfvec tests: pgvector's accepted forms and errors (words and
//! SQLSTATEs), exact round trips over every finite f16, and fuzz loops.

use super::*;
use rand::{Rng, SeedableRng};

/// Parses without a typmod.
fn p(s: &str) -> Result<Vec<f16>> {
    parse(s, -1)
}

/// f16s of `xs`.
fn h(xs: &[f32]) -> Vec<f16> {
    xs.iter().map(|&x| f16::from_f32(x)).collect()
}

/// The error's message, detail and SQLSTATE.
fn err<T: std::fmt::Debug>(r: Result<T>) -> (String, Option<&'static str>, SqlState) {
    let e = r.expect_err("an error");
    (e.to_string(), e.detail(), e.sqlstate())
}

#[test]
fn accepts_pgvector_forms() {
    assert_eq!(p("[1,2,3]").unwrap(), h(&[1.0, 2.0, 3.0]));
    assert_eq!(
        p("  [ 1 , 2.5 ,\t-3e2 ]  ").unwrap(),
        h(&[1.0, 2.5, -300.0])
    );
    assert_eq!(p("[+.5,5.,0x10,1e-50]").unwrap(), h(&[0.5, 5.0, 16.0, 0.0]));
    assert_eq!(p("[-0]").unwrap()[0].to_bits(), 0x8000);
    // the largest finite f16, and values that round down to it
    assert_eq!(
        p("[65504,65519.99,-65519]").unwrap(),
        h(&[65504.0, 65504.0, -65504.0])
    );
    // below the smallest subnormal: zero, as a float4 underflow is
    assert_eq!(p("[1e-8]").unwrap()[0].to_bits(), 0);
    assert_eq!(p("[6e-8]").unwrap()[0].to_bits(), 1); // the smallest subnormal
                                                      // rounding is to nearest f16 of the float4 strtof read
    assert_eq!(p("[0.1]").unwrap()[0].to_bits(), 0x2e66);
}

#[test]
fn rejects_like_pgvector() {
    use SqlState::*;
    let syntax = |s: &str| {
        (
            format!("invalid input syntax for type halfvec: \"{s}\""),
            None,
            InvalidTextRepresentation,
        )
    };
    for s in ["[1,2", "[1,,2]", "[1 2]", "[a]", "[", "[1,]"] {
        assert_eq!(err(p(s)), syntax(s), "{s}");
    }
    assert_eq!(
        err(p("1,2]")),
        (
            "invalid input syntax for type halfvec: \"1,2]\"".into(),
            Some("Vector contents must start with \"[\"."),
            InvalidTextRepresentation
        )
    );
    assert_eq!(
        err(p("[1] x")),
        (
            "invalid input syntax for type halfvec: \"[1] x\"".into(),
            Some("Junk after closing right brace."),
            InvalidTextRepresentation
        )
    );
    let out = |t: &str| {
        (
            format!("\"{t}\" is out of range for type halfvec"),
            None,
            NumericValueOutOfRange,
        )
    };
    assert_eq!(err(p("[65520]")), out("65520"));
    assert_eq!(err(p("[1, -1e5]")), out("-1e5"));
    assert_eq!(err(p("[1e39]")), out("1e39")); // past float4 already
    assert_eq!(err(p("[0x1p16]")), out("0x1p16"));
    assert_eq!(
        err(p("[nan]")),
        ("NaN not allowed in halfvec".into(), None, DataException)
    );
    assert_eq!(
        err(p("[-Infinity]")),
        (
            "infinite value not allowed in halfvec".into(),
            None,
            DataException
        )
    );
    assert_eq!(
        err(p("[ ]")),
        (
            "halfvec must have at least 1 dimension".into(),
            None,
            DataException
        )
    );
    let many = format!("[{}]", vec!["1"; MAX_DIM + 1].join(","));
    assert_eq!(
        err(p(&many)),
        (
            "halfvec cannot have more than 16000 dimensions".into(),
            None,
            ProgramLimitExceeded
        )
    );
    assert_eq!(
        p(&format!("[{}]", vec!["1"; MAX_DIM].join(",")))
            .unwrap()
            .len(),
        MAX_DIM
    );
    assert_eq!(
        err(parse("[1,2]", 3)),
        ("expected 3 dimensions, not 2".into(), None, DataException)
    );
    assert_eq!(parse("[1,2,3]", 3).unwrap().len(), 3);
}

#[test]
fn out_of_range_conversion_words_the_float4() {
    assert_eq!(from_f32(65504.0).unwrap().to_f32(), 65504.0);
    let e = from_f32(70000.5).unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"70000.5\" is out of range for type halfvec"
    );
    assert_eq!(e.sqlstate(), SqlState::NumericValueOutOfRange);
    // infinities and NaN are left to `element`
    assert!(from_f32(f32::INFINITY).unwrap().is_infinite());
    assert!(from_f32(f32::NAN).unwrap().is_nan());
    assert!(element(f16::INFINITY).is_err() && element(f16::NAN).is_err());
}

#[test]
fn formats_the_float4_of_each_f16() {
    assert_eq!(format(&h(&[1.0, 2.5, -3.0])), "[1,2.5,-3]");
    assert_eq!(format(&h(&[0.1])), "[0.099975586]");
    assert_eq!(
        format(&h(&[65504.0, -0.0, 1e-7])),
        "[65504,-0,1.1920929e-07]"
    );
}

#[test]
fn every_finite_f16_round_trips_through_text_and_binary() {
    let all: Vec<f16> = (0..=u16::MAX)
        .map(f16::from_bits)
        .filter(|x| x.is_finite())
        .collect();
    assert_eq!(all.len(), 65536 - 2048); // the top exponent holds +-inf and NaNs
    for chunk in all.chunks(MAX_DIM) {
        let back = p(&format(chunk)).unwrap();
        let bits = |v: &[f16]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(chunk));
        let (decoded, used) = decode(&encode(chunk), -1).unwrap();
        assert_eq!(used, 4 + 2 * chunk.len());
        assert_eq!(bits(&decoded), bits(chunk));
    }
}

#[test]
fn binary_errors_like_pgvector() {
    use SqlState::*;
    let e = |b: &[u8]| err(decode(b, -1));
    assert_eq!(
        e(&[0]),
        (
            "insufficient data left in message".into(),
            None,
            ProtocolViolation
        )
    );
    assert_eq!(
        e(&[0, 0, 0, 0]),
        (
            "halfvec must have at least 1 dimension".into(),
            None,
            DataException
        )
    );
    // the count is an int16: 0xffff is -1, too few
    assert_eq!(
        e(&[0xff, 0xff, 0, 0]),
        (
            "halfvec must have at least 1 dimension".into(),
            None,
            DataException
        )
    );
    assert_eq!(
        e(&[0x3e, 0x81, 0, 0]),
        (
            "halfvec cannot have more than 16000 dimensions".into(),
            None,
            ProgramLimitExceeded
        )
    );
    assert_eq!(
        e(&[0, 1, 0xff, 0xff, 0, 0]),
        (
            "expected unused to be 0, not -1".into(),
            None,
            DataException
        )
    );
    assert_eq!(
        e(&[0, 2, 0, 0, 0x3c, 0]),
        (
            "insufficient data left in message".into(),
            None,
            ProtocolViolation
        )
    );
    assert_eq!(
        e(&[0, 1, 0, 0, 0x7e, 0]),
        ("NaN not allowed in halfvec".into(), None, DataException)
    );
    assert_eq!(
        e(&[0, 1, 0, 0, 0xfc, 0]),
        (
            "infinite value not allowed in halfvec".into(),
            None,
            DataException
        )
    );
    assert_eq!(
        err(decode(&encode(&h(&[1.0, 2.0])), 3)),
        ("expected 3 dimensions, not 2".into(), None, DataException)
    );
    // trailing bytes are the caller's
    assert_eq!(
        decode(&[0, 1, 0, 0, 0x3c, 0, 9], -1).unwrap(),
        (h(&[1.0]), 6)
    );
}

#[test]
fn typmods_like_pgvector() {
    use SqlState::*;
    assert_eq!(typmod(&[Some("3")]).unwrap(), 3);
    assert_eq!(typmod(&[Some(" 16000 ")]).unwrap(), 16000);
    assert_eq!(
        err(typmod(&[])),
        ("invalid type modifier".into(), None, InvalidParameterValue)
    );
    assert_eq!(
        err(typmod(&[Some("1"), Some("2")])),
        ("invalid type modifier".into(), None, InvalidParameterValue)
    );
    assert_eq!(
        err(typmod(&[Some("0")])),
        (
            "dimensions for type halfvec must be at least 1".into(),
            None,
            InvalidParameterValue
        )
    );
    assert_eq!(
        err(typmod(&[Some("-5")])),
        (
            "dimensions for type halfvec must be at least 1".into(),
            None,
            InvalidParameterValue
        )
    );
    assert_eq!(
        err(typmod(&[Some("16001")])),
        (
            "dimensions for type halfvec cannot exceed 16000".into(),
            None,
            InvalidParameterValue
        )
    );
    assert_eq!(
        err(typmod(&[Some("1.5")])),
        (
            "invalid input syntax for type integer: \"1.5\"".into(),
            None,
            InvalidTextRepresentation
        )
    );
    assert_eq!(
        err(typmod(&[Some("99999999999")])),
        (
            "value \"99999999999\" is out of range for type integer".into(),
            None,
            NumericValueOutOfRange
        )
    );
}

#[test]
fn fuzz_text_never_panics_and_accepted_values_round_trip() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let alphabet: &[u8] = b"[]0123456789.,eE+-xXpP infaINFnN\t()";
    let mut accepted = 0;
    for _ in 0..200_000 {
        let len = rng.gen_range(0..24);
        let mut s: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        if rng.gen_bool(0.7) {
            s.insert(0, b'[');
            s.push(b']');
        }
        let s = String::from_utf8(s).expect("ASCII");
        match p(&s) {
            Ok(v) => {
                accepted += 1;
                assert!(v.iter().all(|x| x.is_finite()), "{s}");
                let again = p(&format(&v)).expect("formatted values parse");
                assert_eq!(again, v, "{s}");
            }
            Err(e) => {
                // a message that names the type, never a panic
                assert!(!e.to_string().is_empty());
                assert!(!matches!(e.0, VectorError::ExpectedDimensions { .. }));
            }
        }
    }
    assert!(
        accepted > 1000,
        "the fuzzer reaches valid literals ({accepted})"
    );
}

#[test]
fn fuzz_binary_never_panics_and_accepted_values_round_trip() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut accepted = 0;
    for _ in 0..200_000 {
        let n: u16 = *[0u16, 1, 2, 3, 5, 16000, 16001, 0x7fff, 0x8000, 0xffff]
            .get(rng.gen_range(0..12))
            .unwrap_or(&rng.gen());
        let mut b = n.to_be_bytes().to_vec();
        b.extend_from_slice(&if rng.gen_bool(0.9) { [0, 0] } else { rng.gen() });
        let body = rng.gen_range(0..12);
        b.extend((0..body).map(|_| rng.gen::<u8>()));
        b.truncate(rng.gen_range(0..=b.len()));
        let typmod = if rng.gen_bool(0.8) {
            -1
        } else {
            rng.gen_range(1..6)
        };
        if let Ok((v, used)) = decode(&b, typmod) {
            accepted += 1;
            assert_eq!(encode(&v), b[..used].to_vec());
            assert!(typmod == -1 || v.len() == typmod as usize);
        }
    }
    assert!(
        accepted > 1000,
        "the fuzzer reaches valid values ({accepted})"
    );
}

#[test]
fn arrays_round_then_check_like_pgvector() {
    assert_eq!(from_floats(&[1.0, 0.1]).unwrap(), h(&[1.0, 0.1]));
    assert_eq!(from_floats(&[1e-8]).unwrap(), h(&[0.0]));
    let (m, _, state) = err(from_floats(&[f32::NAN, 65520.0]));
    assert_eq!(m, "\"65520\" is out of range for type halfvec");
    assert_eq!(state, SqlState::NumericValueOutOfRange);
    assert_eq!(
        err(from_floats(&[1.0, f32::NAN])).0,
        "NaN not allowed in halfvec"
    );
    assert_eq!(
        err(from_floats(&[f32::NEG_INFINITY])).0,
        "infinite value not allowed in halfvec"
    );
}

#[test]
fn avg_elements_round_and_check() {
    assert_eq!(avg_element(2.5).unwrap(), f16::from_f32(2.5));
    assert_eq!(
        err(avg_element(70000.0)).0,
        "\"70000\" is out of range for type halfvec"
    );
    assert_eq!(
        err(avg_element(1e300)).0,
        "infinite value not allowed in halfvec"
    );
    assert_eq!(err(avg_element(f64::NAN)).0, "NaN not allowed in halfvec");
}

#[test]
fn narrow_equals_element_by_element_rounding() {
    let mut x = 0x1234_5678u32;
    let mut values: Vec<f32> = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            f32::from_bits(x)
        })
        .filter(|v| v.is_finite() && v.abs() < 65504.0)
        .collect();
    values.extend([
        0.0, -0.0, 1e-8, -6.1e-5, 65504.0, 65519.99, 5.96e-8, 2.98e-8,
    ]);
    let one_by_one: Vec<f16> = values.iter().map(|&v| from_f32(v).unwrap()).collect();
    let narrowed = narrow(&values).unwrap();
    assert_eq!(bits(&narrowed), bits(&one_by_one));
    let (m, _, _) = err(narrow(&[1.0, 65520.0, 1e6]));
    assert!(m.contains("65520"), "{m}");
}

#[test]
fn last_narrowed_answers_as_narrow_and_tells_values_apart_by_bits() {
    let mut memo = LastNarrowed::new();
    let a: Vec<f32> = (0..300).map(|i| i as f32 * 0.37 - 50.0).collect();
    assert_eq!(bits(memo.narrow(&a).unwrap()), bits(&narrow(&a).unwrap()));
    // again: from the memo, the same halves
    assert_eq!(bits(memo.narrow(&a).unwrap()), bits(&narrow(&a).unwrap()));
    // -0.0 equals 0.0 as a float but narrows to another half
    let mut b = a.clone();
    b[299] = 0.0;
    let mut c = b.clone();
    c[299] = -0.0;
    assert_eq!(memo.narrow(&b).unwrap()[299].to_bits(), 0x0000);
    assert_eq!(memo.narrow(&c).unwrap()[299].to_bits(), 0x8000);
    // a shorter prefix is other values
    assert_eq!(memo.narrow(&a[..10]).unwrap().len(), 10);
    // an overflow is an error every time, and forgets the last values
    assert!(memo.narrow(&[1.0, 1e6]).is_err());
    assert!(memo.narrow(&[1.0, 1e6]).is_err());
    assert_eq!(bits(memo.narrow(&a).unwrap()), bits(&narrow(&a).unwrap()));
}
