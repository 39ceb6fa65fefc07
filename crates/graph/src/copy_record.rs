//! A row of a partitioned build as it waits in a temporary file: its heap
//! TIDs and its stored copy, in records of one fixed size.
//!
//! Design note. A build that links its graph in parts keeps every row's
//! copy (the f16 or 8-bit copy its element will store, exactly) outside
//! memory, and reads them back once per part. Records of one size let a
//! row whose copy equals an earlier one's join that record in place (a
//! seek, not a search): its TIDs are part of the record, up to
//! [`RECORD_TIDS`], as an element holds them.

use distance::half::HalfVector;
use distance::sq8::Sq8Vector;

/// Heap TIDs a record holds (an element's limit).
pub const RECORD_TIDS: usize = 9;
/// Bytes of the TID part: a count, then `(block u32, offset u16)` each.
const TID_BYTES: usize = 1 + RECORD_TIDS * 6;

/// A stored copy, as the element will hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredCopy {
    /// An 8-bit copy ([`Sq8Vector`]).
    Sq8(Sq8Vector),
    /// An f16 (or packed bits) copy ([`HalfVector`]).
    Half(HalfVector),
}

impl StoredCopy {
    /// The floats the copy holds (in the index's dimension order).
    pub fn decode(&self) -> Vec<f32> {
        match self {
            StoredCopy::Sq8(v) => v.decode(),
            StoredCopy::Half(v) => v.decode(),
        }
    }
}

/// Which copies the records of a build hold, and how many dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordShape {
    /// 8-bit copies rather than f16 ones.
    pub sq8: bool,
    /// Codes a copy has.
    pub dims: usize,
}

impl RecordShape {
    /// Bytes of one record.
    pub fn bytes(self) -> usize {
        TID_BYTES
            + if self.sq8 {
                16 + self.dims
            } else {
                12 + 2 * self.dims
            }
    }

    /// A record of `tids` (1..=[`RECORD_TIDS`]) and `copy`, appended to `out`.
    pub fn write(self, tids: &[(u32, u16)], copy: &StoredCopy, out: &mut Vec<u8>) {
        assert!((1..=RECORD_TIDS).contains(&tids.len()), "1..=9 heap TIDs");
        let start = out.len();
        out.push(tids.len() as u8);
        for i in 0..RECORD_TIDS {
            let (block, offset) = tids.get(i).copied().unwrap_or((0, 0));
            out.extend_from_slice(&block.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
        }
        match copy {
            StoredCopy::Sq8(v) => {
                assert!(
                    self.sq8 && v.codes.len() == self.dims,
                    "an 8-bit copy of the shape"
                );
                for f in [v.scale, v.offset, v.err, v.norm] {
                    out.extend_from_slice(&f.to_le_bytes());
                }
                out.extend_from_slice(&v.codes);
            }
            StoredCopy::Half(v) => {
                assert!(
                    !self.sq8 && v.codes.len() == self.dims,
                    "an f16 copy of the shape"
                );
                for f in [v.scale, v.err, v.norm] {
                    out.extend_from_slice(&f.to_le_bytes());
                }
                out.extend(v.codes.iter().flat_map(|c| c.to_le_bytes()));
            }
        }
        debug_assert_eq!(out.len() - start, self.bytes());
    }

    /// The heap TIDs of `record` (one record's bytes).
    pub fn tids(self, record: &[u8]) -> Vec<(u32, u16)> {
        let n = (record[0] as usize).min(RECORD_TIDS);
        (0..n)
            .map(|i| {
                let at = 1 + 6 * i;
                (
                    u32_at(record, at),
                    u16::from_le_bytes([record[at + 4], record[at + 5]]),
                )
            })
            .collect()
    }

    /// `record` with `tid` added, or `None` when it holds
    /// [`RECORD_TIDS`] already.
    pub fn with_tid(self, record: &[u8], tid: (u32, u16)) -> Option<Vec<u8>> {
        let n = record[0] as usize;
        if n >= RECORD_TIDS {
            return None;
        }
        let mut out = record.to_vec();
        out[0] = n as u8 + 1;
        let at = 1 + 6 * n;
        out[at..at + 4].copy_from_slice(&tid.0.to_le_bytes());
        out[at + 4..at + 6].copy_from_slice(&tid.1.to_le_bytes());
        Some(out)
    }

    /// The copy of `record`.
    pub fn copy(self, record: &[u8]) -> StoredCopy {
        let b = &record[TID_BYTES..self.bytes()];
        if self.sq8 {
            StoredCopy::Sq8(Sq8Vector {
                scale: f32_at(b, 0),
                offset: f32_at(b, 4),
                err: f32_at(b, 8),
                norm: f32_at(b, 12),
                codes: b[16..].to_vec(),
            })
        } else {
            StoredCopy::Half(HalfVector {
                scale: f32_at(b, 0),
                err: f32_at(b, 4),
                norm: f32_at(b, 8),
                codes: b[12..]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            })
        }
    }
}

/// The little-endian u32 at `at`.
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The little-endian f32 at `at`.
fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(b, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_give_back_what_was_written() {
        let v = [0.5f32, -1.25, 3.0, 0.0, 7.5];
        for copy in [
            StoredCopy::Sq8(Sq8Vector::encode(&v)),
            StoredCopy::Half(HalfVector::encode(&v)),
        ] {
            let shape = RecordShape {
                sq8: matches!(copy, StoredCopy::Sq8(_)),
                dims: 5,
            };
            let mut bytes = vec![7u8; 3]; // records follow one another
            shape.write(&[(12, 3), (u32::MAX - 2, 291)], &copy, &mut bytes);
            let record = &bytes[3..];
            assert_eq!(record.len(), shape.bytes());
            assert_eq!(shape.copy(record), copy);
            assert_eq!(shape.tids(record), vec![(12, 3), (u32::MAX - 2, 291)]);
            let mut grown = record.to_vec();
            for i in 2..RECORD_TIDS {
                grown = shape.with_tid(&grown, (i as u32, i as u16)).expect("room");
            }
            assert_eq!(shape.tids(&grown).len(), RECORD_TIDS);
            assert_eq!(shape.tids(&grown)[RECORD_TIDS - 1], (8, 8));
            assert!(shape.with_tid(&grown, (1, 1)).is_none());
            assert_eq!(shape.copy(&grown), copy);
        }
    }
}
