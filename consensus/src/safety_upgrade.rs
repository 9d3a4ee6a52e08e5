//! Safety data as an older release wrote them, read on upgrade.
//!
//! A validator's safety data outlive its binary: the store and the safety mark hold them across
//! an upgrade, and a node that cannot read them cannot start (or, worse, would be started with
//! `--forget-safety-data`). Each layout change keeps the layout before it here, with the one
//! conversion; [`SafetyData::decode`] tries the current layout first. The layouts cannot be
//! confused: BCS refuses trailing bytes and truncated input, and each layout adds a field.

use ledger::encoding::{from_canonical, DecodeError};
use ledger::Hash;
use serde::{Deserialize, Serialize};

use crate::safety_rules::{EpochRounds, SafetyData};
use crate::types::{Round, Timeout, Vote};

/// The layout before `last_vote_entry` (safety mark `waybill/safety-mark/v2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyDataV2 {
    pub last_voted_round: Round,
    pub preferred_round: Round,
    pub highest_timeout_round: Round,
    pub last_proposed_round: Round,
    pub last_vote: Option<Vote>,
    pub last_timeout: Option<Timeout>,
    pub epoch: u64,
    pub epoch_root: Hash,
    pub epoch_root_round: Round,
    pub previous: Option<EpochRounds>,
    pub later: Option<Box<SafetyDataV2>>,
}

impl From<SafetyDataV2> for SafetyData {
    /// Every round and signed object kept; the last vote's entering certificates are unknown
    /// (the node restarts in the round it can prove, as that release did, and its next vote
    /// records them).
    fn from(old: SafetyDataV2) -> SafetyData {
        SafetyData {
            last_voted_round: old.last_voted_round,
            preferred_round: old.preferred_round,
            highest_timeout_round: old.highest_timeout_round,
            last_proposed_round: old.last_proposed_round,
            last_vote: old.last_vote,
            last_timeout: old.last_timeout,
            epoch: old.epoch,
            epoch_root: old.epoch_root,
            epoch_root_round: old.epoch_root_round,
            previous: old.previous,
            later: old.later.map(|l| Box::new(SafetyData::from(*l))),
            last_vote_entry: None,
        }
    }
}

impl SafetyData {
    /// Safety data in the current layout, or in the one before it (an upgraded node's store).
    /// The error is the current layout's.
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<SafetyData, DecodeError> {
        from_canonical::<SafetyData>("safety data", bytes, max_len).or_else(|current| {
            from_canonical::<SafetyDataV2>("safety data", bytes, max_len)
                .map(SafetyData::from)
                .map_err(|_| current)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{QuorumCert, VoteData};
    use crate::RoundEntry;
    use ledger::encoding::to_canonical;

    fn old() -> SafetyDataV2 {
        SafetyDataV2 {
            last_voted_round: 41,
            preferred_round: 39,
            highest_timeout_round: 40,
            last_proposed_round: 38,
            epoch: 2,
            epoch_root: Hash([7; 32]),
            epoch_root_round: 30,
            previous: Some(EpochRounds {
                epoch: 1,
                last_voted_round: 29,
                ..EpochRounds::default()
            }),
            later: Some(Box::new(SafetyDataV2 {
                epoch: 3,
                last_voted_round: 55,
                ..SafetyDataV2::default()
            })),
            ..SafetyDataV2::default()
        }
    }

    #[test]
    fn an_older_releases_safety_data_decode_with_every_round() {
        let data = SafetyData::decode(&to_canonical(&old()), 1 << 20).expect("v2 decodes");
        assert_eq!(
            (
                data.last_voted_round,
                data.preferred_round,
                data.highest_timeout_round,
                data.last_proposed_round,
                data.epoch,
                data.epoch_root_round,
            ),
            (41, 39, 40, 38, 2, 30)
        );
        assert_eq!(data.previous.as_ref().map(|p| p.last_voted_round), Some(29));
        assert_eq!(
            data.later.as_ref().map(|l| (l.epoch, l.last_voted_round)),
            Some((3, 55))
        );
        assert_eq!(data.last_vote_entry, None);
    }

    #[test]
    fn current_data_decode_as_themselves_and_garbage_is_refused() {
        let mut data = SafetyData::from(old());
        data.last_vote_entry = Some(RoundEntry {
            qc: QuorumCert {
                vote_data: VoteData {
                    chain: Hash([1; 32]),
                    epoch: 2,
                    block_id: Hash([2; 32]),
                    round: 40,
                    parent_id: Hash([3; 32]),
                    parent_round: 39,
                },
                signatures: vec![],
            },
            tc: None,
        });
        assert_eq!(
            SafetyData::decode(&to_canonical(&data), 1 << 20),
            Ok(data.clone())
        );
        let mut bytes = to_canonical(&data);
        bytes.push(0);
        assert!(SafetyData::decode(&bytes, 1 << 20).is_err());
        assert!(SafetyData::decode(&[1, 2, 3], 1 << 20).is_err());
    }
}
