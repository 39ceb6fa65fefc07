//! Random level assignment: `l = floor(-ln(unif(0..1)) * mL)`, `mL = 1/ln(M)`.
//!
//! A small SplitMix64 generator is owned by each build so that a seed
//! gives the same levels on every platform and every version of this
//! crate; there is no global RNG.

/// Draws node levels from the exponentially decaying distribution of the paper.
#[derive(Clone, Debug)]
pub struct LevelGenerator {
    state: u64,
    ml: f64,
    max_level: usize,
}

impl LevelGenerator {
    /// A generator for `m` (mL = 1/ln(m)), capping levels at `max_level`.
    pub fn new(m: usize, max_level: usize, seed: u64) -> Self {
        assert!(m >= 2, "m must be at least 2");
        LevelGenerator {
            state: seed,
            ml: 1.0 / (m as f64).ln(),
            max_level,
        }
    }

    /// The same generator with levels capped at `max_level` instead.
    pub fn with_max_level(mut self, max_level: usize) -> Self {
        self.max_level = max_level;
        self
    }

    /// The highest level it draws.
    pub fn max_level(&self) -> usize {
        self.max_level
    }

    /// The normalisation factor mL.
    pub fn ml(&self) -> f64 {
        self.ml
    }

    /// Level of the next inserted element.
    pub fn next_level(&mut self) -> usize {
        // 53 random bits -> uniform in (0, 1]; never 0, so ln is finite.
        let unit = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let level = (-unit.ln() * self.ml).floor() as usize;
        level.min(self.max_level)
    }

    /// SplitMix64 step.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
