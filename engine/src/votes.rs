//! The tally of checkpoint votes: per height, this node's own checkpoint and at most one vote
//! per validator; a quorum of votes matching our checkpoint is a ledger certificate. Pure (no
//! store, no network), so the bounds and the divergence rule are tested here directly.
//!
//! Bounds: only heights in `head - PAST_WINDOW ..= head + FUTURE_WINDOW` are kept (so at most
//! `(PAST_WINDOW + FUTURE_WINDOW + 1) * validators` votes), one vote per validator per height;
//! anything else is refused with a typed reason for the caller to log.

use std::collections::{BTreeMap, BTreeSet};

use ledger::proof::{CheckedVote, CheckpointVote, LedgerCheckpoint, VerifiedCertificate};
use ledger::{Genesis, PublicKey};

/// Heights at or below the head kept for votes (late votes still count, and still reveal
/// divergence).
pub const PAST_WINDOW: u64 = 64;
/// Heights above the head whose votes are buffered until this node has executed them.
pub const FUTURE_WINDOW: u64 = 16;

/// Why a vote was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VoteRejected {
    #[error("vote for chain {found:?}, this node runs {expected:?}")]
    WrongChain { expected: String, found: String },
    #[error("vote for height {height} is outside the window {low}..={high}")]
    OutsideWindow { height: u64, low: u64, high: u64 },
    #[error("vote signed by {signer} arrived from validator {sender}")]
    SenderIsNotSigner { signer: String, sender: String },
    #[error("signer {signer} is not a validator of the height's epoch")]
    NotAValidator { signer: String },
    #[error("vote of {signer} for height {height} has a bad signature")]
    BadSignature { signer: String, height: u64 },
    #[error("validator {signer} already voted for height {height}")]
    Duplicate { signer: String, height: u64 },
}

/// A validator signed another checkpoint than ours for a height: non-determinism (or a
/// Byzantine validator). Reported once per validator and height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub validator: PublicKey,
    pub ours: LedgerCheckpoint,
    pub theirs: LedgerCheckpoint,
}

/// What taking a vote (ours or a peer's) led to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// A quorum matched our checkpoint: the certificate, not yet stored. Its signatures were
    /// checked as votes; they are not checked again.
    pub certified: Option<VerifiedCertificate>,
    pub divergences: Vec<Divergence>,
}

#[derive(Default)]
struct HeightVotes {
    /// What this node computed for the height, once it has executed it.
    ours: Option<LedgerCheckpoint>,
    /// A certificate for the height exists (formed here or stored): later votes only serve to
    /// detect divergence.
    certified: bool,
    /// By validator key: the checkpoint the validator signed and its checked signature. Before
    /// `ours` is known every verified vote waits here; after, only matching ones stay. Keys, not
    /// indices: around an epoch boundary a node may learn only later which epoch's set
    /// certifies a height, and the quorum is counted with that set when it is known.
    votes: BTreeMap<PublicKey, CheckedVote>,
    /// Validators that voted for another checkpoint than ours (reported, never counted).
    diverged: BTreeSet<PublicKey>,
}

pub struct VoteBook {
    heights: BTreeMap<u64, HeightVotes>,
}

impl VoteBook {
    pub fn new() -> Self {
        VoteBook {
            heights: BTreeMap::new(),
        }
    }

    /// Whether `height` has our checkpoint (we executed it and registered it).
    pub fn has_ours(&self, height: u64) -> bool {
        self.heights.get(&height).is_some_and(|h| h.ours.is_some())
    }

    pub fn is_certified(&self, height: u64) -> bool {
        self.heights.get(&height).is_some_and(|h| h.certified)
    }

    /// Heights held, for tests of the bound.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heights.len()
    }

    /// Votes held in all, for tests of the bound.
    #[cfg(test)]
    fn vote_count(&self) -> usize {
        self.heights.values().map(|h| h.votes.len()).sum()
    }

    /// Forgets heights that fell out of the window below `head`.
    pub fn prune(&mut self, head: u64) {
        let low = head.saturating_sub(PAST_WINDOW);
        self.heights = self.heights.split_off(&low);
    }

    /// Registers our checkpoint for a height we executed (and our vote, when we are a
    /// validator), or a height that is already certified (`certified`): buffered votes that
    /// differ are reported, matching ones count.
    pub fn ours(
        &mut self,
        genesis: &Genesis,
        checkpoint: LedgerCheckpoint,
        own_vote: Option<CheckpointVote>,
        certified: bool,
    ) -> Tally {
        let height = checkpoint.height;
        let entry = self.heights.entry(height).or_default();
        entry.certified |= certified;
        let mut tally = Tally::default();
        if entry.ours.is_none() {
            // Sort the buffered votes: the ones for another checkpoint are divergence.
            let buffered = std::mem::take(&mut entry.votes);
            for (key, vote) in buffered {
                if *vote.checkpoint() == checkpoint {
                    entry.votes.insert(key, vote);
                } else if entry.diverged.insert(key) {
                    tally.divergences.push(Divergence {
                        validator: vote.vote().validator,
                        ours: checkpoint.clone(),
                        theirs: vote.checkpoint().clone(),
                    });
                }
            }
            entry.ours = Some(checkpoint.clone());
        }
        if let Some(vote) = own_vote {
            if genesis.validator_index(&vote.validator).is_some()
                && !entry.votes.contains_key(&vote.validator)
            {
                // Our own signature, checked like any other: one check per height, and the
                // certificate it joins is then checked by its rules alone.
                match CheckedVote::check(checkpoint, vote) {
                    Ok(checked) => {
                        entry.votes.insert(checked.vote().validator, checked);
                    }
                    Err(e) => debug_assert!(false, "our own checkpoint vote does not verify: {e}"),
                }
            }
        }
        tally.certified = Self::check_quorum(genesis, entry);
        tally
    }

    /// Takes a peer's vote after checking it: chain, window, sender = signer, a genesis
    /// validator, its signature, one per validator and height. `sender` is the validator the
    /// network authenticated; `head` our committed height.
    pub fn peer(
        &mut self,
        genesis: &Genesis,
        sender: &PublicKey,
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
        head: u64,
    ) -> Result<Tally, VoteRejected> {
        let height = checkpoint.height;
        if checkpoint.chain_id != genesis.chain_id {
            return Err(VoteRejected::WrongChain {
                expected: genesis.chain_id.clone(),
                found: checkpoint.chain_id,
            });
        }
        let (low, high) = (
            head.saturating_sub(PAST_WINDOW).max(1),
            head.saturating_add(FUTURE_WINDOW),
        );
        if height < low || height > high {
            return Err(VoteRejected::OutsideWindow { height, low, high });
        }
        if vote.validator != *sender {
            return Err(VoteRejected::SenderIsNotSigner {
                signer: vote.validator.to_hex(),
                sender: sender.to_hex(),
            });
        }
        if genesis.validator_index(&vote.validator).is_none() {
            return Err(VoteRejected::NotAValidator {
                signer: vote.validator.to_hex(),
            });
        }
        let index = vote.validator;
        if self
            .heights
            .get(&height)
            .is_some_and(|h| h.votes.contains_key(&index) || h.diverged.contains(&index))
        {
            return Err(VoteRejected::Duplicate {
                signer: vote.validator.to_hex(),
                height,
            });
        }
        // A vote on the checkpoint we computed, for a height already certified, can change
        // nothing, so its signature is not checked: with four validators that is one check
        // of three per height, and these checks were 4 to 6 % of a validator's CPU at 1,000
        // tx/s. A vote on another checkpoint still is checked, to report the divergence.
        if self
            .heights
            .get(&height)
            .is_some_and(|h| h.certified && h.ours.as_ref() == Some(&checkpoint))
        {
            return Ok(Tally::default());
        }
        // Checked last: the cheap refusals above cost no signature verification.
        let signer = vote.validator;
        let checked =
            CheckedVote::check(checkpoint, vote).map_err(|_| VoteRejected::BadSignature {
                signer: signer.to_hex(),
                height,
            })?;
        let entry = self.heights.entry(height).or_default();
        let mut tally = Tally::default();
        match &entry.ours {
            Some(ours) if ours != checked.checkpoint() => {
                entry.diverged.insert(index);
                tally.divergences.push(Divergence {
                    validator: signer,
                    ours: ours.clone(),
                    theirs: checked.checkpoint().clone(),
                });
            }
            _ => {
                entry.votes.insert(index, checked);
                tally.certified = Self::check_quorum(genesis, entry);
            }
        }
        Ok(tally)
    }

    /// Marks a height certified (a certificate was fetched and stored).
    pub fn mark_certified(&mut self, height: u64) {
        if let Some(h) = self.heights.get_mut(&height) {
            h.certified = true;
        }
    }

    /// A certificate from the votes matching our checkpoint, once their power reaches the
    /// quorum (once per height).
    fn check_quorum(genesis: &Genesis, entry: &mut HeightVotes) -> Option<VerifiedCertificate> {
        let ours = entry.ours.as_ref()?;
        if entry.certified {
            return None;
        }
        // Votes of validators outside the height's set (kept while the set was a guess) do not
        // count; every kept vote matches `ours` (see `ours` and `peer`).
        let members = entry
            .votes
            .iter()
            .filter(|(key, _)| genesis.validator_index(key).is_some())
            .map(|(_, vote)| vote);
        let cert = VerifiedCertificate::from_checked_votes(ours, members, genesis).ok()?;
        entry.certified = true;
        Some(cert)
    }
}

impl Default for VoteBook {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::{Hash, KeyPair};

    fn key(i: u8) -> KeyPair {
        KeyPair::from_secret([i + 1; 32])
    }

    fn genesis() -> Genesis {
        let keys: Vec<_> = (0..4)
            .map(|i| (key(i).public(), key(i + 10).public()))
            .collect();
        Genesis::of_validators("votes", &keys)
    }

    fn checkpoint(height: u64, root: u8) -> LedgerCheckpoint {
        LedgerCheckpoint {
            chain_id: "votes".into(),
            height,
            block_hash: Hash([height as u8; 32]),
            state_root: Hash([root; 32]),
            accumulator_root: Hash([3; 32]),
            accumulator_size: height * 2,
        }
    }

    fn vote(i: u8, cp: &LedgerCheckpoint) -> CheckpointVote {
        CheckpointVote::sign(&key(i), cp)
    }

    #[test]
    fn a_quorum_of_matching_votes_certifies_once_and_the_certificate_verifies() {
        let g = genesis();
        let mut book = VoteBook::new();
        let cp = checkpoint(5, 1);
        // Two peers' votes arrive before we executed height 5: buffered.
        for i in [1, 2] {
            let t = book
                .peer(&g, &key(i).public(), cp.clone(), vote(i, &cp), 4)
                .unwrap();
            assert_eq!(t, Tally::default());
        }
        let t = book.ours(&g, cp.clone(), Some(vote(0, &cp)), false);
        let cert = t.certified.expect("quorum of 3");
        assert_eq!(cert.certificate().verify(&g), Ok(3));
        assert!(book.is_certified(5));
        // The fourth vote counts no more, so it is not even checked: a forged one changes
        // nothing either.
        let t = book
            .peer(&g, &key(3).public(), cp.clone(), vote(3, &cp), 5)
            .unwrap();
        assert_eq!(t, Tally::default());
        let mut forged = vote(3, &cp);
        forged.signature.0[0] ^= 1;
        let t = book.peer(&g, &key(3).public(), cp.clone(), forged, 5);
        assert_eq!(t, Ok(Tally::default()));
    }

    /// After the certificate, a vote on another checkpoint is still checked: a forged one is
    /// refused, a genuine one reported as a divergence.
    #[test]
    fn a_certified_height_still_checks_votes_on_another_checkpoint() {
        let g = genesis();
        let mut book = VoteBook::new();
        let ours = checkpoint(5, 1);
        book.ours(&g, ours.clone(), Some(vote(0, &ours)), false);
        for i in [1, 2] {
            book.peer(&g, &key(i).public(), ours.clone(), vote(i, &ours), 5)
                .unwrap();
        }
        assert!(book.is_certified(5));
        let theirs = checkpoint(5, 2);
        let mut forged = vote(3, &theirs);
        forged.signature.0[0] ^= 1;
        assert!(matches!(
            book.peer(&g, &key(3).public(), theirs.clone(), forged, 5),
            Err(VoteRejected::BadSignature { .. })
        ));
        let t = book
            .peer(&g, &key(3).public(), theirs.clone(), vote(3, &theirs), 5)
            .unwrap();
        assert_eq!(t.divergences.len(), 1);
        assert_eq!(t.divergences[0].theirs, theirs);
    }

    #[test]
    fn a_different_checkpoint_is_divergence_reported_once_and_never_counted() {
        let g = genesis();
        let mut book = VoteBook::new();
        let ours = checkpoint(5, 1);
        let theirs = checkpoint(5, 2);
        // Buffered before we executed, then found out.
        book.peer(&g, &key(1).public(), theirs.clone(), vote(1, &theirs), 4)
            .unwrap();
        let t = book.ours(&g, ours.clone(), Some(vote(0, &ours)), false);
        assert_eq!(t.divergences.len(), 1);
        assert_eq!(t.divergences[0].theirs, theirs);
        assert_eq!(t.divergences[0].ours, ours);
        // After we executed: at once. A second vote from the same validator is refused.
        let t = book
            .peer(&g, &key(2).public(), theirs.clone(), vote(2, &theirs), 5)
            .unwrap();
        assert_eq!(t.divergences.len(), 1);
        assert!(matches!(
            book.peer(&g, &key(2).public(), ours.clone(), vote(2, &ours), 5),
            Err(VoteRejected::Duplicate { .. })
        ));
        // Only ours and one more match: no certificate from diverging votes.
        let t = book
            .peer(&g, &key(3).public(), ours.clone(), vote(3, &ours), 5)
            .unwrap();
        assert_eq!(t.certified, None);
    }

    #[test]
    fn bad_votes_are_refused_and_the_book_stays_bounded() {
        let g = genesis();
        let mut book = VoteBook::new();
        let cp = checkpoint(5, 1);
        let v1 = key(1).public();
        let mut other_chain = cp.clone();
        other_chain.chain_id = "x".into();
        assert!(matches!(
            book.peer(&g, &v1, other_chain.clone(), vote(1, &other_chain), 5),
            Err(VoteRejected::WrongChain { .. })
        ));
        assert!(matches!(
            book.peer(&g, &v1, cp.clone(), vote(2, &cp), 5),
            Err(VoteRejected::SenderIsNotSigner { .. })
        ));
        let outsider = KeyPair::from_secret([77; 32]);
        assert!(matches!(
            book.peer(
                &g,
                &outsider.public(),
                cp.clone(),
                CheckpointVote::sign(&outsider, &cp),
                5
            ),
            Err(VoteRejected::NotAValidator { .. })
        ));
        let mut forged = vote(1, &cp);
        forged.signature.0[0] ^= 1;
        assert!(matches!(
            book.peer(&g, &v1, cp.clone(), forged, 5),
            Err(VoteRejected::BadSignature { .. })
        ));
        let far = checkpoint(5 + FUTURE_WINDOW + 1, 1);
        assert!(matches!(
            book.peer(&g, &v1, far.clone(), vote(1, &far), 5),
            Err(VoteRejected::OutsideWindow { .. })
        ));
        let old = checkpoint(100, 1);
        assert!(matches!(
            book.peer(&g, &v1, old.clone(), vote(1, &old), 100 + PAST_WINDOW + 1),
            Err(VoteRejected::OutsideWindow { .. })
        ));

        // A flood of valid votes over every height in the window holds at most one per
        // validator per height, and pruning drops what fell behind.
        let head = 1_000;
        for h in head - PAST_WINDOW..=head + FUTURE_WINDOW {
            for i in 1..4u8 {
                let cp = checkpoint(h, 1);
                let _ = book.peer(&g, &key(i).public(), cp.clone(), vote(i, &cp), head);
                let _ = book.peer(&g, &key(i).public(), cp.clone(), vote(i, &cp), head);
            }
        }
        let heights = (PAST_WINDOW + FUTURE_WINDOW + 1) as usize;
        assert!(book.vote_count() <= heights * 3);
        book.prune(head + PAST_WINDOW);
        assert_eq!(book.len(), 1 + FUTURE_WINDOW as usize);
    }
}
