//! A peer's bad input is a rejected input and a mark against that peer, never a fatal error.
//!
//! Every offence is counted by peer and kind (the node's status and metrics show the counts),
//! logged once per peer and kind (at warn level, with the first instance's details; a flood does
//! not flood the log), and adds to the peer's score. The score drains with time; a peer whose
//! score passes [`REFUSE_SCORE`] is disconnected and its input ignored for [`REFUSE_FOR`]. It
//! stays on the allow-list, so an honest peer that had a bad moment comes back.
//!
//! Weights: what an honest peer can send by accident (a stale or duplicate message, an answer
//! that lost a race) is not an offence at all; what only a faulty or dishonest peer sends (bytes
//! that do not decode, a bad signature, an equivocation, a claim a certificate contradicts)
//! weighs [`SERIOUS`]; the rest weighs 1.

use std::collections::BTreeMap;
use std::fmt::Display;

use tracing::warn;

use crate::{Millis, Peer};

/// Score at which a peer is refused.
pub const REFUSE_SCORE: u64 = 100;
/// How long a refused peer stays refused.
pub const REFUSE_FOR: Millis = 30_000;
/// The score drains by one point per this many milliseconds.
const DRAIN_MS_PER_POINT: Millis = 100;
/// Weight of an offence only a faulty or dishonest peer commits.
pub const SERIOUS: u64 = 10;

/// What a peer did wrong. The label is the metrics' `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offence {
    /// Consensus-protocol bytes that do not decode.
    UndecodableConsensus,
    /// A consensus message the core refused as invalid: bad signature, wrong author, another
    /// chain, a malformed certificate or block, an invalid payload, the wrong leader.
    InvalidConsensus,
    /// Two different signed messages for one round.
    Equivocation,
    /// Fetched blocks that do not form the chain asked for.
    BadBlockFetch,
    /// A compact proposal naming transactions nobody here holds, whose block the proposer then
    /// did not serve.
    UnservedProposal,
    /// Sync-protocol request bytes that do not decode.
    UndecodableSyncRequest,
    /// Sync-protocol answer bytes that do not decode, or an answer of another kind than asked.
    BadSyncAnswer,
    /// Committed blocks for catch-up that do not continue the chain or carry no valid proof.
    BadCatchup,
    /// A claim about the ledger that the quorum-signed record contradicts (an accumulator root
    /// other than the one executing the certified block gives).
    FalseClaim,
    /// A checkpoint vote with a bad signature, another chain, a signer that is not the sender
    /// or not a validator.
    InvalidCheckpointVote,
}

impl Offence {
    pub fn label(self) -> &'static str {
        match self {
            Offence::UndecodableConsensus => "undecodable_consensus",
            Offence::InvalidConsensus => "invalid_consensus",
            Offence::Equivocation => "equivocation",
            Offence::BadBlockFetch => "bad_block_fetch",
            Offence::UnservedProposal => "unserved_proposal",
            Offence::UndecodableSyncRequest => "undecodable_sync_request",
            Offence::BadSyncAnswer => "bad_sync_answer",
            Offence::BadCatchup => "bad_catchup",
            Offence::FalseClaim => "false_claim",
            Offence::InvalidCheckpointVote => "invalid_checkpoint_vote",
        }
    }

    fn weight(self) -> u64 {
        match self {
            Offence::UnservedProposal => 1,
            _ => SERIOUS,
        }
    }
}

struct Score {
    points: u64,
    at: Millis,
}

/// Offences by peer (bounded by the allow-list: only authenticated peers offend).
pub struct Offences<P> {
    counts: BTreeMap<(P, Offence), u64>,
    scores: BTreeMap<P, Score>,
    refused: BTreeMap<P, Millis>,
}

impl<P> Default for Offences<P> {
    fn default() -> Self {
        Offences {
            counts: BTreeMap::new(),
            scores: BTreeMap::new(),
            refused: BTreeMap::new(),
        }
    }
}

/// What recording an offence led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Noted,
    /// The peer's score passed the threshold: refuse it until then.
    Refuse {
        until: Millis,
    },
}

impl<P: Peer> Offences<P> {
    /// Counts `offence` against `peer` at `now`; logs it if it is the first of its kind.
    pub fn record(
        &mut self,
        peer: P,
        offence: Offence,
        detail: &dyn Display,
        now: Millis,
    ) -> Verdict {
        let count = self.counts.entry((peer, offence)).or_insert(0);
        *count += 1;
        if *count == 1 {
            warn!(%peer, kind = offence.label(), %detail, "peer misbehaved (logged once per peer and kind; counted in metrics)");
        }
        let score = self
            .scores
            .entry(peer)
            .or_insert(Score { points: 0, at: now });
        let drained = now.saturating_sub(score.at) / DRAIN_MS_PER_POINT;
        score.points = score.points.saturating_sub(drained) + offence.weight();
        score.at = now;
        if score.points >= REFUSE_SCORE {
            score.points = 0;
            let until = now.saturating_add(REFUSE_FOR);
            self.refused.insert(peer, until);
            warn!(%peer, until_ms = until, "peer refused for its offences; it stays on the allow-list");
            return Verdict::Refuse { until };
        }
        Verdict::Noted
    }

    /// Whether `peer`'s input is being ignored at `now`.
    pub fn is_refused(&self, peer: &P, now: Millis) -> bool {
        self.refused.get(peer).is_some_and(|until| now < *until)
    }

    /// The count of one kind against one peer.
    pub fn count(&self, peer: &P, offence: Offence) -> u64 {
        self.counts.get(&(*peer, offence)).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serious_offences_refuse_a_peer_for_a_while_and_the_score_drains() {
        let mut o = Offences::<u32>::default();
        let mut now = 0;
        for _ in 0..(REFUSE_SCORE / SERIOUS - 1) {
            assert_eq!(
                o.record(7, Offence::InvalidConsensus, &"x", now),
                Verdict::Noted
            );
        }
        assert!(!o.is_refused(&7, now));
        let v = o.record(7, Offence::InvalidConsensus, &"x", now);
        assert_eq!(v, Verdict::Refuse { until: REFUSE_FOR });
        assert!(o.is_refused(&7, now));
        assert!(!o.is_refused(&8, now), "only the offender");
        now += REFUSE_FOR;
        assert!(!o.is_refused(&7, now), "back after the pause");
        assert_eq!(
            o.count(&7, Offence::InvalidConsensus),
            REFUSE_SCORE / SERIOUS
        );
        // Slow enough to drain: never refused.
        for _ in 0..1_000 {
            now += SERIOUS * DRAIN_MS_PER_POINT;
            assert_eq!(o.record(7, Offence::FalseClaim, &"y", now), Verdict::Noted);
        }
    }
}
