//! Round timeouts: the base timeout grows by `timeout_backoff_percent` for every round since the
//! last one entered through a QC (consecutive failed rounds), capped; it resets on progress.

use ledger::genesis::ConsensusParams;

use crate::types::{Millis, Round};

#[derive(Clone, Debug)]
pub struct Pacemaker {
    base: Millis,
    max: Millis,
    backoff_percent: u64,
}

impl Pacemaker {
    pub fn new(params: &ConsensusParams) -> Self {
        Pacemaker {
            base: params.round_timeout_ms.max(1),
            max: params
                .max_round_timeout_ms
                .max(params.round_timeout_ms)
                .max(1),
            backoff_percent: u64::from(params.timeout_backoff_percent.max(100)),
        }
    }

    /// Timeout of `round` when the highest QC is of round `high_qc_round`:
    /// base * backoff^(round - high_qc_round - 1), capped at max.
    pub fn timeout(&self, round: Round, high_qc_round: Round) -> Millis {
        let failed = round.saturating_sub(high_qc_round.saturating_add(1));
        let mut t = self.base;
        for _ in 0..failed {
            t = t.saturating_mul(self.backoff_percent) / 100;
            if t >= self.max {
                return self.max;
            }
        }
        t.min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_resets() {
        let p = Pacemaker::new(&ConsensusParams {
            round_timeout_ms: 1000,
            max_round_timeout_ms: 3000,
            timeout_backoff_percent: 150,
            max_block_txs: 1,
        });
        assert_eq!(p.timeout(5, 4), 1000);
        assert_eq!(p.timeout(6, 4), 1500);
        assert_eq!(p.timeout(7, 4), 2250);
        assert_eq!(p.timeout(8, 4), 3000);
        assert_eq!(p.timeout(u64::MAX, 0), 3000);
        assert_eq!(p.timeout(9, 8), 1000);
    }
}
