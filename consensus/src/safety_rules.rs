//! SafetyRules: the only holder of the consensus key inside the core, and the only place that
//! decides whether signing a vote, a timeout or a proposal is safe (two-chain HotStuff / Jolteon).
//!
//! Rules (r = the round being signed):
//! - vote for block B (QC `qc`, optional TC `tc` of round r-1): r > last_voted_round, and
//!   r == qc.round + 1, or r == tc.round + 1 and qc.round >= the highest QC round in the TC;
//!   then last_voted_round = r and preferred_round = max(preferred_round, qc.round).
//! - timeout of round r with high QC `hqc`: r >= last_voted_round, r > highest_timeout_round and
//!   hqc.round >= preferred_round; then last_voted_round = r (no vote in r afterwards).
//! - proposal of round r: r > last_proposed_round.
//!
//! Asked again for the round it last voted (or timed out) in, it returns the stored vote (timeout)
//! and never signs a new one.
//!
//! The data belong to one epoch: every signed object names it, so nothing signed in one epoch
//! counts in another, and entering a later epoch starts the data afresh (rounds keep counting,
//! so the new epoch's rounds all lie above the root block it starts from). Data of a *later*
//! epoch than the core's (a store that went back in time behind its safety mark) make
//! SafetyRules sign nothing until the node has caught up with that epoch. Every change returns the new [`SafetyData`], which must be durable
//! before the signed object leaves the node.

use ledger::proof::{CheckpointVote, LedgerCheckpoint};
use ledger::{Hash, KeyPair, PublicKey};
use serde::{Deserialize, Serialize};

use crate::payload::Payload;
use crate::reject::Reject;
use crate::types::{
    Block, Proposal, QuorumCert, Round, Timeout, TimeoutCert, TimeoutData, Vote, VoteData,
};

/// The durable state of SafetyRules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyData {
    /// Highest round this node voted or timed out in.
    pub last_voted_round: Round,
    /// Highest QC round among the blocks it voted for and the QCs it timed out with (the
    /// two-chain lock): its timeouts never report a lower high QC.
    pub preferred_round: Round,
    /// Highest round it signed a timeout for.
    pub highest_timeout_round: Round,
    /// Highest round it signed a proposal for.
    pub last_proposed_round: Round,
    pub last_vote: Option<Vote>,
    pub last_timeout: Option<Timeout>,
    /// The epoch these data are for.
    pub epoch: u64,
    /// The epoch's root block (the block that ended the epoch before; for epoch 0 unused, the
    /// genesis block is the root) and its round: a restart needs them to know the epoch's
    /// well-known root certificate.
    pub epoch_root: Hash,
    pub epoch_root_round: Round,
    /// The rounds of the epoch before, as they were when this node left it. A node whose store
    /// lost the block that ended that epoch (its safety mark kept these data) is back in it;
    /// it signs there again only above these rounds.
    pub previous: Option<EpochRounds>,
    /// While a node is back in the epoch before (see `previous`): the data of the epoch it had
    /// entered, taken up again when it re-enters that epoch.
    pub later: Option<Box<SafetyData>>,
    /// The certificates that let this node into the round of `last_vote`. A node whose store
    /// lost them with its tail (the voted block, its QC, the TC before it) would restart below
    /// the round it voted in, where it may neither vote (it voted above) nor time out with the
    /// high QC its preferred round demands; f+1 such nodes stopped a network in the whole-node
    /// simulator (seed 8478). Kept with the vote, they take the node back into that round.
    pub last_vote_entry: Option<RoundEntry>,
}

/// How a node entered the round it voted in: the voted block's QC, and the TC of the round
/// before when the block followed a timeout rather than its QC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundEntry {
    pub qc: QuorumCert,
    pub tc: Option<TimeoutCert>,
}

/// The rounds of one epoch's safety data, and its root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRounds {
    pub epoch: u64,
    pub last_voted_round: Round,
    pub preferred_round: Round,
    pub highest_timeout_round: Round,
    pub last_proposed_round: Round,
    pub epoch_root: Hash,
    pub epoch_root_round: Round,
}

impl SafetyData {
    /// Fresh data for entering `epoch` at root block `root` of round `root_round`.
    pub fn for_epoch(epoch: u64, root: Hash, root_round: Round) -> SafetyData {
        SafetyData {
            epoch,
            epoch_root: root,
            epoch_root_round: root_round,
            ..SafetyData::default()
        }
    }

    fn rounds(&self) -> EpochRounds {
        EpochRounds {
            epoch: self.epoch,
            last_voted_round: self.last_voted_round,
            preferred_round: self.preferred_round,
            highest_timeout_round: self.highest_timeout_round,
            last_proposed_round: self.last_proposed_round,
            epoch_root: self.epoch_root,
            epoch_root_round: self.epoch_root_round,
        }
    }

    /// The data a core of `epoch` signs with, given the durable `self`:
    /// - of `epoch`: themselves;
    /// - of an earlier epoch: entering `epoch`, the data kept from an earlier stay in it
    ///   (`later`, its `previous` raised to what was signed since) or `fresh`, remembering the
    ///   rounds of the epoch left when it is the one before;
    /// - of the epoch after `epoch`, whose `previous` rounds are `epoch`'s: back in `epoch` (the
    ///   store lost the block that ended it), above those rounds, keeping these data as `later`;
    /// - of any other later epoch: themselves (SafetyRules then signs nothing).
    pub fn for_core(mut self, epoch: u64, fresh: SafetyData) -> SafetyData {
        if self.epoch == epoch {
            return self;
        }
        if self.epoch < epoch {
            let rounds = self.rounds();
            if let Some(mut later) = self.later.take().filter(|l| l.epoch == epoch) {
                if later
                    .previous
                    .as_ref()
                    .is_some_and(|p| p.epoch == rounds.epoch)
                {
                    later.previous = Some(rounds);
                }
                return *later;
            }
            let mut fresh = fresh;
            if rounds.epoch + 1 == epoch {
                fresh.previous = Some(rounds);
            }
            return fresh;
        }
        match self.previous.clone() {
            Some(p) if p.epoch == epoch && self.epoch == epoch + 1 => SafetyData {
                last_voted_round: p.last_voted_round,
                preferred_round: p.preferred_round,
                highest_timeout_round: p.highest_timeout_round,
                last_proposed_round: p.last_proposed_round,
                epoch,
                epoch_root: p.epoch_root,
                epoch_root_round: p.epoch_root_round,
                later: Some(Box::new(self)),
                ..SafetyData::default()
            },
            _ => self,
        }
    }
}

/// Whether a signed object is new (its safety data must be persisted) or a re-send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signed<T> {
    New(T),
    Again(T),
}

pub struct SafetyRules {
    key: KeyPair,
    chain: Hash,
    /// The core's epoch. Signing is refused while `data.epoch` is above it.
    epoch: u64,
    data: SafetyData,
}

impl SafetyRules {
    /// SafetyRules for `epoch`, with the durable data turned into this epoch's
    /// ([`SafetyData::for_core`]), which the caller persists before signing anything when they
    /// changed.
    pub fn new(key: KeyPair, chain: Hash, epoch: u64, data: SafetyData, fresh: SafetyData) -> Self {
        let data = data.for_core(epoch, fresh);
        SafetyRules {
            key,
            chain,
            epoch,
            data,
        }
    }

    fn check_epoch(&self) -> Result<(), Reject> {
        if self.data.epoch == self.epoch {
            return Ok(());
        }
        Err(Reject::Unsafe {
            reason: format!(
                "safety data are of epoch {}, this core is in epoch {}: signing nothing until caught up",
                self.data.epoch, self.epoch
            ),
        })
    }

    pub fn author(&self) -> PublicKey {
        self.key.public()
    }

    pub fn data(&self) -> &SafetyData {
        &self.data
    }

    /// The key, for a core rebuilt from durable state (catch-up): it moves from the old
    /// SafetyRules to the new one and nobody else holds it.
    pub(crate) fn into_key(self) -> KeyPair {
        self.key
    }

    /// Signs a ledger checkpoint (the node's own execution of a height; see the node's
    /// certification). Deterministic: the same checkpoint always gets the same signature, so a
    /// re-sent vote after a restart is no equivocation. The caller decides when signing is
    /// allowed (never while the rollback guard fences it).
    pub fn sign_checkpoint(&self, checkpoint: &LedgerCheckpoint) -> CheckpointVote {
        CheckpointVote::sign(&self.key, checkpoint)
    }

    /// A verified certificate shows this node signed a vote in `round` for a block whose QC
    /// has round `qc_round`, or a timeout in `round` reporting `qc_round`, though its safety
    /// data remembers no such round: they went back in time. Raises them to what the
    /// certificate proves; returns whether anything changed (the caller persists it).
    pub fn observe_own_signature(&mut self, round: Round, qc_round: Round, timeout: bool) -> bool {
        let before = self.data.clone();
        self.data.last_voted_round = self.data.last_voted_round.max(round);
        self.data.preferred_round = self.data.preferred_round.max(qc_round);
        if timeout {
            self.data.highest_timeout_round = self.data.highest_timeout_round.max(round);
        }
        self.data != before
    }

    pub fn vote<P: Payload>(
        &mut self,
        block: &Block<P>,
        qc: &QuorumCert,
        tc: Option<&TimeoutCert>,
    ) -> Result<Signed<Vote>, Reject> {
        self.check_epoch()?;
        let round = block.round();
        let id = block.id();
        if let Some(v) = &self.data.last_vote {
            if v.data.round == round && v.data.block_id == id {
                return Ok(Signed::Again(v.clone()));
            }
        }
        if !cfg!(feature = "broken-safety") {
            if round <= self.data.last_voted_round {
                return Err(Reject::Unsafe {
                    reason: format!(
                        "round {round} is not above last voted round {}",
                        self.data.last_voted_round
                    ),
                });
            }
            let direct = round == qc.round().saturating_add(1);
            let via_tc = tc.is_some_and(|t| {
                round == t.round.saturating_add(1) && qc.round() >= t.max_high_qc_round()
            });
            if !direct && !via_tc {
                return Err(Reject::Unsafe {
                    reason: format!(
                        "round {round} neither follows its QC round {} nor a TC it respects",
                        qc.round()
                    ),
                });
            }
        }
        let vote = Vote::new(
            VoteData {
                chain: self.chain,
                epoch: self.epoch,
                block_id: id,
                round,
                parent_id: qc.block_id(),
                parent_round: qc.round(),
            },
            &self.key,
        );
        self.data.last_voted_round = self.data.last_voted_round.max(round);
        self.data.preferred_round = self.data.preferred_round.max(qc.round());
        self.data.last_vote = Some(vote.clone());
        let direct = round == qc.round().saturating_add(1);
        self.data.last_vote_entry = Some(RoundEntry {
            qc: qc.clone(),
            tc: tc.filter(|_| !direct).cloned(),
        });
        Ok(Signed::New(vote))
    }

    pub fn timeout(
        &mut self,
        round: Round,
        high_qc: &QuorumCert,
        last_tc: Option<&TimeoutCert>,
    ) -> Result<Signed<Timeout>, Reject> {
        self.check_epoch()?;
        if let Some(t) = &self.data.last_timeout {
            if t.data.round == round {
                return Ok(Signed::Again(t.clone()));
            }
        }
        if round < self.data.last_voted_round || round <= self.data.highest_timeout_round {
            return Err(Reject::Unsafe {
                reason: format!(
                    "timeout round {round} below last voted round {} or already timed out {}",
                    self.data.last_voted_round, self.data.highest_timeout_round
                ),
            });
        }
        if high_qc.round() < self.data.preferred_round || high_qc.round() >= round {
            return Err(Reject::Unsafe {
                reason: format!(
                    "high QC round {} below preferred round {} or not below {round}",
                    high_qc.round(),
                    self.data.preferred_round
                ),
            });
        }
        let data = TimeoutData {
            chain: self.chain,
            epoch: self.epoch,
            round,
            high_qc_round: high_qc.round(),
        };
        let timeout = Timeout {
            signature: self.key.sign(&data),
            data,
            high_qc: high_qc.clone(),
            last_tc: last_tc
                .filter(|t| t.round.saturating_add(1) == round)
                .cloned(),
            author: self.key.public(),
        };
        self.data.last_voted_round = round;
        self.data.highest_timeout_round = round;
        self.data.preferred_round = self.data.preferred_round.max(high_qc.round());
        self.data.last_timeout = Some(timeout.clone());
        Ok(Signed::New(timeout))
    }

    pub fn propose<P: Payload>(
        &mut self,
        block: Block<P>,
        tc: Option<TimeoutCert>,
    ) -> Result<Proposal<P>, Reject> {
        self.check_epoch()?;
        let round = block.round();
        if round <= self.data.last_proposed_round || block.header.proposer != self.key.public() {
            return Err(Reject::Unsafe {
                reason: format!(
                    "already proposed in round {} (asked for {round})",
                    self.data.last_proposed_round
                ),
            });
        }
        self.data.last_proposed_round = round;
        Ok(Proposal::sign(self.chain, self.epoch, block, tc, &self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(epoch: u64, voted: Round) -> SafetyData {
        SafetyData {
            last_voted_round: voted,
            preferred_round: voted.saturating_sub(1),
            highest_timeout_round: voted,
            last_proposed_round: voted,
            ..SafetyData::for_epoch(epoch, Hash([epoch as u8; 32]), 10 * epoch)
        }
    }

    /// Entering an epoch starts afresh and remembers the rounds left behind; a store that lost
    /// the epoch's end falls back into the epoch before above those rounds, and re-entering
    /// takes up the later epoch's data again, with the rounds signed meanwhile remembered.
    #[test]
    fn epochs_are_entered_fallen_back_into_and_re_entered_without_forgetting_a_round() {
        let old = data(3, 47);
        let fresh = SafetyData::for_epoch(4, Hash([9; 32]), 45);
        let mut entered = old.clone().for_core(4, fresh.clone());
        assert_eq!((entered.epoch, entered.last_voted_round), (4, 0));
        assert_eq!(
            entered.previous.as_ref().map(|p| p.last_voted_round),
            Some(47)
        );
        entered.last_voted_round = 52;

        // Back in epoch 3: its rounds, its root, the epoch 4 data kept.
        let mut back = entered.clone().for_core(3, SafetyData::default());
        assert_eq!((back.epoch, back.last_voted_round), (3, 47));
        assert_eq!(
            (back.epoch_root, back.epoch_root_round),
            (old.epoch_root, old.epoch_root_round)
        );
        assert_eq!(back.later.as_deref(), Some(&entered));
        back.last_voted_round = 49; // signed more in epoch 3

        // Re-entering epoch 4: its own data again, and epoch 3's rounds as they are now.
        let again = back.clone().for_core(4, fresh);
        assert_eq!((again.epoch, again.last_voted_round), (4, 52));
        assert_eq!(
            again.previous.as_ref().map(|p| p.last_voted_round),
            Some(49)
        );

        // Two epochs ahead, or ahead without the rounds of this one: kept, and nothing signs.
        let far = data(6, 3).for_core(4, SafetyData::default());
        assert_eq!(far.epoch, 6);
        let mut rules = SafetyRules::new(
            KeyPair::from_secret([1; 32]),
            Hash([0; 32]),
            4,
            data(6, 3),
            SafetyData::default(),
        );
        let qc = QuorumCert {
            vote_data: VoteData {
                chain: Hash([0; 32]),
                epoch: 4,
                block_id: Hash([1; 32]),
                round: 7,
                parent_id: Hash([2; 32]),
                parent_round: 6,
            },
            signatures: vec![],
        };
        assert!(matches!(
            rules.timeout(9, &qc, None),
            Err(Reject::Unsafe { .. })
        ));
    }
}
