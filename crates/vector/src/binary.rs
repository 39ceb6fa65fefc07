//! pgvector's binary wire format, used by COPY BINARY and binary-mode clients:
//! big-endian int16 dim, int16 unused (0), then dim big-endian float4.

use crate::{check, VectorError};

/// Decodes a binary vector from `buf`, returning the values and bytes read.
///
/// Trailing bytes are left to the caller (Postgres reports them as
/// "incorrect binary data format"), exactly like pgvector's `vector_recv`.
pub fn decode(buf: &[u8], typmod: i32) -> Result<(Vec<f32>, usize), VectorError> {
    let u16_at = |i: usize| -> Result<u16, VectorError> {
        buf.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(VectorError::InsufficientData)
    };
    // Both fields are signed int16 on the wire, as pgvector reads them:
    // 0xffff is -1 dimensions ("at least 1"), not 65535 ("more than 16000").
    let dim = u16_at(0)? as i16;
    let unused = u16_at(2)? as i16;
    let dim = usize::try_from(dim).map_err(|_| VectorError::TooFewDimensions)?;
    check::dim(dim)?;
    check::expected_dim(typmod, dim)?;
    if unused != 0 {
        return Err(VectorError::UnusedNotZero {
            unused: i32::from(unused),
        });
    }
    let body = buf
        .get(4..4 + 4 * dim)
        .ok_or(VectorError::InsufficientData)?;
    let values = body
        .chunks_exact(4)
        .map(|c| check::element(f32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect::<Result<Vec<f32>, _>>()?;
    Ok((values, 4 + 4 * dim))
}

/// Encodes `values` in the binary wire format.
pub fn encode(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * values.len());
    out.extend_from_slice(&(values.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn round_trip() {
        let v = vec![1.0, -2.5, 3.25e10];
        let bytes = encode(&v);
        assert_eq!(&bytes[..4], &[0, 3, 0, 0]);
        assert_eq!(decode(&bytes, -1).unwrap(), (v, 16));
    }

    #[test]
    fn refuses_bad_headers_and_values() {
        assert_eq!(decode(&[0], -1), Err(VectorError::InsufficientData));
        assert_eq!(
            decode(&[0, 0, 0, 0], -1),
            Err(VectorError::TooFewDimensions)
        );
        assert_eq!(
            decode(&[0, 1, 0, 1, 0, 0, 0, 0], -1),
            Err(VectorError::UnusedNotZero { unused: 1 })
        );
        assert_eq!(
            decode(&[0, 2, 0, 0, 0, 0, 0, 0], -1),
            Err(VectorError::InsufficientData)
        );
        assert_eq!(
            decode(&[0xff, 0xff, 0, 0], -1),
            Err(VectorError::TooFewDimensions)
        );
        assert_eq!(
            decode(&[0x3e, 0x81, 0, 0], -1),
            Err(VectorError::TooManyDimensions)
        );
        assert_eq!(
            decode(&[0, 1, 0xff, 0xff, 0, 0, 0, 0], -1),
            Err(VectorError::UnusedNotZero { unused: -1 })
        );
        assert_eq!(
            VectorError::UnusedNotZero { unused: 1 }.sqlstate(),
            crate::SqlState::DataException
        );
        assert_eq!(
            decode(&encode(&[1.0, 2.0]), 3),
            Err(VectorError::ExpectedDimensions {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(decode(&encode(&[f32::NAN]), -1), Err(VectorError::NaN));
        assert_eq!(
            decode(&encode(&[f32::NEG_INFINITY]), -1),
            Err(VectorError::Infinite)
        );
    }

    #[test]
    fn fuzz_arbitrary_bytes() {
        let seed = 7u64;
        eprintln!("fuzz seed {seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..100_000 {
            let n = rng.gen_range(0..40);
            let mut b: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            if n >= 4 && rng.gen_bool(0.5) {
                b[0] = 0;
                b[1] = rng.gen_range(0..10);
                b[2] = 0;
                b[3] = 0;
            }
            if let Ok((v, used)) = decode(&b, -1) {
                assert!(used <= b.len());
                assert_eq!(encode(&v), b[..used].to_vec());
            }
        }
    }
}
