//! Construction parameters shared by insert, repair and the stores.

/// Largest neighbour count of a node at layer `lc`: `Mmax0 = 2 * m` at
/// layer 0, `Mmax = m` above (the paper's recommendation, pgvector's
/// layout).
#[inline]
pub fn max_connections(m: usize, lc: usize) -> usize {
    if lc == 0 {
        2 * m
    } else {
        m
    }
}

/// The index options an insert runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsertParams {
    /// `M`: neighbours per node at layers above 0 (twice that at layer 0).
    pub m: usize,
    /// `efConstruction`: size of the dynamic candidate list `W` while inserting.
    pub ef_construction: usize,
}
