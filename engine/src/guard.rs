//! The rollback guard: safety data that goes back in time is detected, and the node does not
//! sign anything it may have signed differently before.
//!
//! A validator that forgets a vote can vote twice. The store's own records cannot tell that they
//! went back in time: RocksDB's point-in-time recovery drops a damaged write-ahead-log tail and
//! opens cleanly, and an old copy of a data directory is self-consistent. So the engine keeps a
//! second record outside the store, the [`SafetyMark`]: the safety data (and the committed
//! height) written, durably, together with every consensus write that changes the safety data,
//! before any message that depends on it leaves the node. On start the two are compared
//! ([`check`]):
//!
//! - the mark ahead of the store's safety data: the store lost writes (a WAL tail, or an old copy
//!   of the store put back under a newer mark). The node takes the higher rounds, so it never
//!   votes or times out in a round it may have signed in, and it signs no ledger checkpoint until
//!   the network has passed those rounds (the core enters a round only on a certificate of the
//!   round before);
//! - the mark exactly one write ahead: the store and the mark are written at the same time (two
//!   fsyncs in parallel, not one after the other, which would sit in every round), so a crash
//!   while both were in flight can leave the mark's write durable and the store's not. The mark
//!   names the safety data it replaces ([`SafetyMark::replaces`]); when that is the store's, the
//!   node takes the mark's data as above, but it is no finding: nothing that depended on the
//!   write had left the node. (A disk that lost exactly that one write, after its vote left,
//!   looks the same; the node keeps its promises all the same, from the mark, only without the
//!   report.) For the same reason the mark's committed height is the one the store had made
//!   durable before the write, not the one the write makes durable;
//! - the store's committed head below the mark's height: the ledger went back (it is caught up
//!   again from peers; `waybill audit ledger` reports it);
//! - no mark, or an unreadable one: a first start after an upgrade, or a data directory restored
//!   without it. The store's safety data is all there is; the core still refuses any round a
//!   quorum certificate shows this node signed (the consensus crate's forgotten-vote check).
//!
//! Every finding is logged at error level and counted in the node's status and metrics.

use consensus::safety_upgrade::SafetyDataV2;
use consensus::{Round, SafetyData};
use ledger::encoding::{digest, from_canonical, to_canonical, Canonical};
use ledger::store_api::MAX_CONSENSUS_RECORD_BYTES;
use ledger::Hash;
use serde::{Deserialize, Serialize};

/// The safety data and committed height, as last made durable outside the store. It holds the
/// whole [`SafetyData`], the last vote and timeout included, so a node whose store lost them can
/// send the same vote or timeout again: a node that knew only the rounds could not time out in a
/// round it had timed out in, and with f such nodes a round could never end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyMark {
    pub safety: SafetyData,
    /// A committed height this node's store had made durable when the mark was written.
    pub committed_height: u64,
    /// [`safety_digest`] of the safety data the store held when this mark's write began: the
    /// store's write of `safety` ran beside the mark's. `None` in marks written alone (at start,
    /// by `waybill reset`) and by releases before the two were written in parallel.
    pub replaces: Option<Hash>,
}

impl Canonical for SafetyMark {
    const DOMAIN: &'static str = "waybill/safety-mark/v4";
}

/// The mark as releases before [`SafetyMark::replaces`] wrote it, read on upgrade.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyMarkV3 {
    pub safety: SafetyData,
    pub committed_height: u64,
}

impl Canonical for SafetyMarkV3 {
    const DOMAIN: &'static str = "waybill/safety-mark/v3";
}

impl From<SafetyMarkV3> for SafetyMark {
    fn from(old: SafetyMarkV3) -> SafetyMark {
        SafetyMark {
            safety: old.safety,
            committed_height: old.committed_height,
            replaces: None,
        }
    }
}

const SAFETY_DIGEST_DOMAIN: &str = "waybill/safety-data-digest/v1";

/// The digest a mark names the store's safety data by ([`SafetyMark::replaces`]).
pub fn safety_digest(data: &SafetyData) -> Hash {
    Hash::blake3(&to_canonical(&(SAFETY_DIGEST_DOMAIN, data)))
}

/// The mark as releases before `SafetyData::last_vote_entry` wrote it, read on upgrade.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyMarkV2 {
    pub safety: SafetyDataV2,
    pub committed_height: u64,
}

impl Canonical for SafetyMarkV2 {
    const DOMAIN: &'static str = "waybill/safety-mark/v2";
}

impl From<SafetyMarkV2> for SafetyMark {
    fn from(old: SafetyMarkV2) -> SafetyMark {
        SafetyMark {
            safety: old.safety.into(),
            committed_height: old.committed_height,
            replaces: None,
        }
    }
}

/// The most bytes a mark may take: the safety data is one consensus record (its last vote and
/// timeout with their certificates), plus the height, the digest it replaces (an option) and
/// its checksum.
pub const MAX_MARK_BYTES: usize = MAX_CONSENSUS_RECORD_BYTES + 8 + 33 + 32;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SafetyMarkError {
    #[error("safety mark of {len} bytes, expected {min} to {max}")]
    Length { len: usize, min: usize, max: usize },
    #[error("safety mark checksum {found} does not match its contents ({expected})")]
    Checksum { expected: Hash, found: Hash },
    #[error("safety mark does not decode: {reason}")]
    Decode { reason: String },
}

impl SafetyMark {
    /// The mark for safety data `data` with `committed_height` durable, written on its own.
    pub fn of(data: &SafetyData, committed_height: u64) -> SafetyMark {
        SafetyMark {
            safety: data.clone(),
            committed_height,
            replaces: None,
        }
    }

    /// The mark for safety data `data` whose store write runs beside it, over the store's
    /// `replaces` (see [`SafetyMark::replaces`]).
    pub fn replacing(data: &SafetyData, committed_height: u64, replaces: Hash) -> SafetyMark {
        SafetyMark {
            replaces: Some(replaces),
            ..SafetyMark::of(data, committed_height)
        }
    }

    /// The canonical bytes followed by their digest, so a damaged file is told apart from a mark.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = to_canonical(self);
        out.extend_from_slice(digest(self).as_bytes());
        assert!(
            out.len() <= MAX_MARK_BYTES,
            "safety mark of {} bytes",
            out.len()
        );
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<SafetyMark, SafetyMarkError> {
        // Anything shorter than a digest and a height cannot be a mark.
        const MIN: usize = 32 + 8;
        if !(MIN..=MAX_MARK_BYTES).contains(&bytes.len()) {
            return Err(SafetyMarkError::Length {
                len: bytes.len(),
                min: MIN,
                max: MAX_MARK_BYTES,
            });
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        let found = Hash(sum.try_into().expect("split at 32 bytes from the end"));
        let (mark, expected) =
            match from_canonical::<SafetyMark>("safety mark", body, MAX_MARK_BYTES) {
                Ok(mark) => {
                    let expected = digest(&mark);
                    (mark, expected)
                }
                // An older release's mark (an upgraded node): its own layout and checksum domain.
                Err(current) => {
                    if let Ok(old) =
                        from_canonical::<SafetyMarkV3>("safety mark", body, MAX_MARK_BYTES)
                    {
                        let expected = digest(&old);
                        (SafetyMark::from(old), expected)
                    } else if let Ok(old) =
                        from_canonical::<SafetyMarkV2>("safety mark", body, MAX_MARK_BYTES)
                    {
                        let expected = digest(&old);
                        (SafetyMark::from(old), expected)
                    } else {
                        return Err(SafetyMarkError::Decode {
                            reason: current.to_string(),
                        });
                    }
                }
            };
        if found != expected {
            return Err(SafetyMarkError::Checksum { expected, found });
        }
        Ok(mark)
    }

    /// Whether any round of `self` is above the matching round of `data`.
    fn ahead_of(&self, data: &SafetyData) -> bool {
        let m = &self.safety;
        if m.epoch != data.epoch {
            // Data of a later epoch are ahead whatever their rounds: entering it reset them.
            return m.epoch > data.epoch;
        }
        m.last_voted_round > data.last_voted_round
            || m.preferred_round > data.preferred_round
            || m.highest_timeout_round > data.highest_timeout_round
            || m.last_proposed_round > data.last_proposed_round
    }
}

/// `store` raised to `mark`: every round the higher of the two, and the last vote and timeout
/// of whichever signed the later one; the data of a later epoch, whole, when the epochs differ.
fn merge(store: SafetyData, mark: &SafetyData) -> SafetyData {
    if store.epoch != mark.epoch {
        return if mark.epoch > store.epoch {
            mark.clone()
        } else {
            store
        };
    }
    let later = |a: Option<u64>, b: Option<u64>| b > a;
    let vote_round = |d: &SafetyData| d.last_vote.as_ref().map(|v| v.data.round);
    let timeout_round = |d: &SafetyData| d.last_timeout.as_ref().map(|t| t.data.round);
    let take_vote = later(vote_round(&store), vote_round(mark));
    let take_timeout = later(timeout_round(&store), timeout_round(mark));
    SafetyData {
        last_voted_round: store.last_voted_round.max(mark.last_voted_round),
        preferred_round: store.preferred_round.max(mark.preferred_round),
        highest_timeout_round: store.highest_timeout_round.max(mark.highest_timeout_round),
        last_proposed_round: store.last_proposed_round.max(mark.last_proposed_round),
        last_vote: if take_vote {
            mark.last_vote.clone()
        } else {
            store.last_vote
        },
        last_vote_entry: if take_vote {
            mark.last_vote_entry.clone()
        } else {
            store.last_vote_entry
        },
        last_timeout: if take_timeout {
            mark.last_timeout.clone()
        } else {
            store.last_timeout
        },
        epoch: store.epoch,
        epoch_root: store.epoch_root,
        epoch_root_round: store.epoch_root_round,
        previous: store.previous.or_else(|| mark.previous.clone()),
        later: store.later.or_else(|| mark.later.clone()),
    }
}

/// What the store's side of the mark was found to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkState {
    Missing,
    Present(Box<SafetyMark>),
    Damaged(SafetyMarkError),
}

/// A reason to believe the node's records went back in time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rollback {
    #[error("the store's safety data (last voted round {store_round}) is behind the safety mark (last voted round {mark_round}): the store lost writes")]
    SafetyBehindMark {
        store_round: Round,
        mark_round: Round,
    },
    #[error("the store's committed head {head} is below height {mark_height}, which the safety mark records as reached: the ledger lost blocks")]
    LedgerBehindMark { head: u64, mark_height: u64 },
    #[error("the safety mark is unreadable ({0}); only the store's safety data is left")]
    MarkDamaged(SafetyMarkError),
    #[error("the store reported damage on open: {0}")]
    StoreRecovery(String),
}

/// What [`check`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The safety data to start from: the store's, raised to the mark's rounds.
    pub safety: SafetyData,
    /// The mark was one write ahead of the store, the write it names the store's data before:
    /// that write was in flight at a crash (no finding; `safety` is raised all the same).
    pub in_flight: bool,
    pub findings: Vec<Rollback>,
    /// Sign no ledger checkpoint until the core has entered a round above this one (the node
    /// may have signed in every round up to it).
    pub fence: Option<Round>,
}

/// Compares the store's safety data and head with the mark (see the module docs).
pub fn check(store: SafetyData, mark: &MarkState, head: u64) -> Checked {
    let mut findings = Vec::new();
    let mut in_flight = false;
    let mut safety = store;
    match mark {
        MarkState::Missing => {}
        MarkState::Damaged(e) => findings.push(Rollback::MarkDamaged(e.clone())),
        MarkState::Present(m) => {
            if m.ahead_of(&safety) {
                if m.replaces == Some(safety_digest(&safety)) {
                    in_flight = true;
                } else {
                    findings.push(Rollback::SafetyBehindMark {
                        store_round: safety.last_voted_round,
                        mark_round: m.safety.last_voted_round,
                    });
                }
                safety = merge(safety, &m.safety);
            }
            if head < m.committed_height {
                findings.push(Rollback::LedgerBehindMark {
                    head,
                    mark_height: m.committed_height,
                });
            }
        }
    }
    let fence = (!findings.is_empty()).then_some(safety.last_voted_round);
    Checked {
        safety,
        in_flight,
        findings,
        fence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(voted: Round, preferred: Round) -> SafetyData {
        SafetyData {
            last_voted_round: voted,
            preferred_round: preferred,
            highest_timeout_round: voted,
            last_proposed_round: 0,
            last_vote: None,
            last_timeout: None,
            ..SafetyData::default()
        }
    }

    /// A node upgraded from a release before `last_vote_entry` keeps its promises: its old
    /// mark reads, rounds and all, and a damaged one is still refused.
    #[test]
    fn an_older_releases_mark_reads_after_an_upgrade() {
        let old = SafetyMarkV2 {
            safety: SafetyDataV2 {
                last_voted_round: 33,
                preferred_round: 31,
                highest_timeout_round: 32,
                ..SafetyDataV2::default()
            },
            committed_height: 77,
        };
        let mut bytes = to_canonical(&old);
        bytes.extend_from_slice(digest(&old).as_bytes());
        let mark = SafetyMark::from_bytes(&bytes).expect("an old mark reads");
        assert_eq!(
            (
                mark.safety.last_voted_round,
                mark.safety.preferred_round,
                mark.safety.highest_timeout_round,
                mark.committed_height
            ),
            (33, 31, 32, 77)
        );
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(
            SafetyMark::from_bytes(&bytes),
            Err(SafetyMarkError::Checksum { .. })
        ));
    }

    #[test]
    fn a_mark_round_trips_and_any_damage_is_told_apart() {
        let mark = SafetyMark::of(&data(9, 7), 120);
        let bytes = mark.to_bytes();
        assert_eq!(SafetyMark::from_bytes(&bytes), Ok(mark));
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            assert!(SafetyMark::from_bytes(&flipped).is_err(), "byte {i}");
        }
        // A torn write: any shorter prefix is refused, and one too short to hold a digest is
        // told apart by its length.
        for len in 0..bytes.len() {
            assert!(
                SafetyMark::from_bytes(&bytes[..len]).is_err(),
                "prefix of {len}"
            );
        }
        assert!(matches!(
            SafetyMark::from_bytes(&bytes[..39]),
            Err(SafetyMarkError::Length { .. })
        ));
    }

    #[test]
    fn a_store_in_step_with_its_mark_starts_as_it_is() {
        let store = data(9, 7);
        let c = check(
            store.clone(),
            &MarkState::Present(Box::new(SafetyMark::of(&store, 50))),
            50,
        );
        assert_eq!(c.safety, store);
        assert!(c.findings.is_empty());
        assert_eq!(c.fence, None);
        // No mark at all (a first start after an upgrade): nothing to compare with.
        let c = check(store.clone(), &MarkState::Missing, 50);
        assert_eq!((c.safety, c.findings, c.fence), (store, vec![], None));
    }

    #[test]
    fn a_store_behind_its_mark_is_raised_to_it_and_fenced() {
        let c = check(
            data(3, 1),
            &MarkState::Present(Box::new(SafetyMark::of(&data(40, 38), 30))),
            12,
        );
        assert_eq!(c.safety.last_voted_round, 40);
        assert_eq!(c.safety.preferred_round, 38);
        assert_eq!(c.safety.highest_timeout_round, 40);
        assert_eq!(c.fence, Some(40));
        assert_eq!(
            c.findings,
            vec![
                Rollback::SafetyBehindMark {
                    store_round: 3,
                    mark_round: 40
                },
                Rollback::LedgerBehindMark {
                    head: 12,
                    mark_height: 30
                }
            ]
        );
    }

    /// The store's write and the mark's run in parallel: a crash can leave the mark's durable and
    /// the store's not. The node continues from the mark, and reports nothing: the vote or
    /// timeout that waited for the pair never left.
    #[test]
    fn a_mark_one_write_ahead_of_the_store_is_a_write_in_flight_not_a_rollback() {
        let store = data(3, 1);
        let mark = SafetyMark::replacing(&data(4, 3), 12, safety_digest(&store));
        let c = check(store.clone(), &MarkState::Present(Box::new(mark)), 12);
        assert!(c.in_flight);
        assert_eq!(c.findings, vec![]);
        assert_eq!(c.fence, None);
        assert_eq!(
            (c.safety.last_voted_round, c.safety.preferred_round),
            (4, 3)
        );
        // Two writes ahead: the write the mark names is not the store's, so the store lost one
        // it had made durable, and a message that depended on it may have left.
        let mark = SafetyMark::replacing(&data(5, 4), 12, safety_digest(&data(4, 3)));
        let c = check(store.clone(), &MarkState::Present(Box::new(mark)), 12);
        assert!(!c.in_flight);
        assert_eq!(
            c.findings,
            vec![Rollback::SafetyBehindMark {
                store_round: 3,
                mark_round: 5
            }]
        );
        assert_eq!(c.fence, Some(5));
        // A mark written alone names nothing: ahead of the store, it is a finding.
        let c = check(
            store.clone(),
            &MarkState::Present(Box::new(SafetyMark::of(&data(4, 3), 12))),
            12,
        );
        assert_eq!(c.findings.len(), 1);
        // The store's write done, the mark's lost (or both done): in step, nothing to say.
        let mark = SafetyMark::replacing(&store, 12, safety_digest(&data(2, 1)));
        let c = check(store.clone(), &MarkState::Present(Box::new(mark)), 12);
        assert_eq!((c.in_flight, c.findings, c.fence), (false, vec![], None));
        // A write in flight does not excuse a ledger that went back.
        let mark = SafetyMark::replacing(&data(4, 3), 20, safety_digest(&store));
        let c = check(store, &MarkState::Present(Box::new(mark)), 12);
        assert_eq!(
            c.findings,
            vec![Rollback::LedgerBehindMark {
                head: 12,
                mark_height: 20
            }]
        );
    }

    /// A node upgraded from the release before [`SafetyMark::replaces`] reads its mark.
    #[test]
    fn a_mark_without_what_it_replaces_reads_after_an_upgrade() {
        let old = SafetyMarkV3 {
            safety: data(21, 20),
            committed_height: 9,
        };
        let mut bytes = to_canonical(&old);
        bytes.extend_from_slice(digest(&old).as_bytes());
        assert_eq!(
            SafetyMark::from_bytes(&bytes),
            Ok(SafetyMark::of(&data(21, 20), 9))
        );
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(
            SafetyMark::from_bytes(&bytes),
            Err(SafetyMarkError::Checksum { .. })
        ));
        // And the new layout round-trips with what it replaces.
        let mark = SafetyMark::replacing(&data(21, 20), 9, safety_digest(&data(20, 19)));
        assert_eq!(SafetyMark::from_bytes(&mark.to_bytes()), Ok(mark));
    }

    #[test]
    fn a_damaged_mark_is_a_finding_and_fences_at_the_store_round() {
        let c = check(
            data(5, 4),
            &MarkState::Damaged(SafetyMarkError::Length {
                len: 3,
                min: 40,
                max: MAX_MARK_BYTES,
            }),
            2,
        );
        assert_eq!(c.safety.last_voted_round, 5);
        assert_eq!(c.fence, Some(5));
        assert_eq!(c.findings.len(), 1);
    }
}
