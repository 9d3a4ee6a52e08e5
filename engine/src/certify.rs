//! Ledger certificates: after executing a height the validator signs the checkpoint (chain id,
//! height, block hash, state root, accumulator root and size) and sends its vote to every
//! validator; votes are tallied in [`VoteBook`]; a quorum matching this node's own checkpoint is
//! stored with the block. A validator that signed another checkpoint is reported loudly as
//! non-determinism.
//!
//! Heights this node holds without a certificate (it restarted, caught up, or the votes were
//! lost) are repaired on the poll: for recent heights it signs and sends its vote again, and for
//! any height it asks peers for their stored certificate (`SyncRequest::LedgerCertificates`),
//! which is stored only if it verifies against the validator set of the height's epoch
//! ([`crate::epochs`]) and matches this node's own records.
//!
//! Safety: a validator signs only the checkpoint it computed from its own store (the one
//! execution of that height, which is deterministic), so it never signs two different
//! checkpoints for one height. Signing the same checkpoint again (after a restart) gives the
//! same signature (ed25519 is deterministic). The signature comes from the consensus core's
//! `SafetyRules`, the key's only holder, and not while the rollback guard's fence stands.

use std::borrow::Cow;

use std::collections::BTreeMap;

use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint, VerifiedCertificate};
use ledger::store_api::{CertificateStored, CommitInfo};
use tracing::{debug, error, info, warn};

use crate::node::{Asked, EngineError, Node};
use crate::offences::Offence;
use crate::status::DivergenceNote;
use crate::store::NodeStore;
use crate::votes::{Tally, VoteBook, VoteRejected, PAST_WINDOW};
use crate::wire::{self, SyncRequest, SyncResponse};
use crate::{Effect, Millis, Peer};

/// A height whose certificate has not formed this long after we voted gets our vote again.
const RESEND_AFTER_MS: Millis = 5_000;
/// Votes are left this long to form a certificate before asking peers for theirs.
const FETCH_AFTER_MS: Millis = 2_000;
/// Work per poll: heights seeded or re-voted, and heights scanned for a missing certificate.
const MAX_REVOTES_PER_POLL: usize = 16;
const MAX_SCAN_PER_POLL: u64 = 1_024;

/// The node's certificate state.
pub(crate) struct CertifyState {
    book: VoteBook,
    /// When we last sent our vote for a height not yet certified.
    voted_at: BTreeMap<u64, Millis>,
    /// Every height below this one has a certificate or no peer had one to give.
    cursor: u64,
    /// Peers asked, without success, for the certificate of `cursor`.
    misses: usize,
    fetch_in_flight: bool,
    next_peer: usize,
}

impl CertifyState {
    pub(crate) fn new() -> Self {
        CertifyState {
            book: VoteBook::new(),
            voted_at: BTreeMap::new(),
            cursor: 1,
            misses: 0,
            fetch_in_flight: false,
            next_peer: 0,
        }
    }
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Height `info.height` was just executed and stored: sign its checkpoint and tell the other
    /// validators (unless `announce` is false).
    pub(crate) fn certify_executed(
        &mut self,
        info: &CommitInfo,
        announce: bool,
    ) -> Result<(), EngineError<S::Error>> {
        let checkpoint = LedgerCheckpoint {
            chain_id: self.genesis.chain_id.clone(),
            height: info.height,
            block_hash: info.hash,
            state_root: info.state_root,
            accumulator_root: info.accumulator_root,
            accumulator_size: info.accumulator_size,
        };
        if self.is_observer() {
            // An observer has no vote to send; when it executed the height stands in for it, so
            // it asks for the certificate only once the validators have had time to form it
            // (asking at once, it would find none and skip the height for good).
            self.certify.voted_at.insert(info.height, self.now);
        }
        self.register_ours(checkpoint, false, announce)
    }

    /// This node's signature on a checkpoint, unless it is no validator of the height's epoch
    /// (an observer, a removed validator for later heights, a joining one for earlier ones) or
    /// the rollback guard's fence stands.
    fn sign(&self, checkpoint: &LedgerCheckpoint) -> Option<CheckpointVote> {
        let set = self.epochs.for_height(checkpoint.height)?;
        if set.validator_index(&self.core.author()).is_none() || self.fence.is_some() {
            return None;
        }
        Some(self.core.sign_checkpoint(checkpoint))
    }

    /// Our checkpoint for a height into the book, with our signed vote (sent to the others when
    /// `announce`).
    fn register_ours(
        &mut self,
        checkpoint: LedgerCheckpoint,
        certified: bool,
        announce: bool,
    ) -> Result<(), EngineError<S::Error>> {
        let height = checkpoint.height;
        let vote = self.sign(&checkpoint);
        if let (Some(vote), true, false) = (&vote, announce, certified) {
            self.send_vote(&checkpoint, vote);
            self.certify.voted_at.insert(height, self.now);
        }
        let Some(set) = self.epochs.for_height(height) else {
            return Ok(()); // a height of an epoch this node no longer knows the set of
        };
        let tally = self.certify.book.ours(&set, checkpoint, vote, certified);
        self.apply_tally(tally, None)
    }

    fn send_vote(&mut self, checkpoint: &LedgerCheckpoint, vote: &CheckpointVote) {
        let bytes = wire::encode_checkpoint_vote(checkpoint, vote);
        let me = self.core.author();
        let peers: Vec<P> = self
            .book
            .peers()
            .iter()
            .filter(|p| self.book.key_of(p) != Some(me))
            .copied()
            .collect();
        for to in peers {
            self.out.push(Effect::Send {
                to,
                bytes: bytes.clone(),
            });
        }
    }

    /// A peer's vote (from its consensus link, or the sync protocol of older builds). Bad votes
    /// are refused and marked against it.
    pub(crate) fn on_checkpoint_vote(
        &mut self,
        from: P,
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    ) -> Result<SyncResponse, EngineError<S::Error>> {
        let Some(mut sender) = self.book.key_of(&from) else {
            debug!(%from, "checkpoint vote from a non-validator peer dropped");
            return Ok(SyncResponse::VoteReceived);
        };
        if self.book.peer_of(&vote.validator) == Some(from) {
            // A validator that rotated its consensus key signs the old epoch's last heights
            // with its old key: the peer is the same, the key the one of the height's set.
            sender = vote.validator;
        }
        let head = self.store.head().map_or(0, |h| h.height);
        let height = checkpoint.height;
        // A height we executed before a restart, or before votes for it arrived: our own
        // checkpoint comes from the store (and our vote with it, to help the sender's tally).
        if height <= head
            && height + PAST_WINDOW >= head
            && height > 0
            && !self.certify.book.has_ours(height)
        {
            self.seed_height(height)?;
        }
        let Some(set) = self.epochs.for_height(height) else {
            debug!(%from, height, "checkpoint vote for a height of an unknown epoch dropped");
            return Ok(SyncResponse::VoteReceived);
        };
        let signed_by_a_member = set.validator_index(&vote.validator).is_some();
        match self
            .certify
            .book
            .peer(&set, &sender, checkpoint, vote, head)
        {
            Ok(tally) => self.apply_tally(tally, None)?,
            Err(e) => {
                self.status.checkpoint_votes_rejected += 1;
                match e {
                    // An honest validator far ahead or behind votes outside this node's window,
                    // and re-sends its vote while no certificate forms: refused, bounded, and
                    // not held against it.
                    VoteRejected::OutsideWindow { .. } | VoteRejected::Duplicate { .. } => {
                        debug!(%from, error = %e, "checkpoint vote not taken")
                    }
                    // Above our head the height's set is a guess (the current one): a block we
                    // have not executed yet may end the epoch, and a validator that joined
                    // there, or rotated its key there, votes for heights after it.
                    VoteRejected::NotAValidator { .. } | VoteRejected::SenderIsNotSigner { .. }
                        if height > head =>
                    {
                        debug!(%from, error = %e, "checkpoint vote not taken")
                    }
                    // Signed by a member of the height's set, with a valid key of that epoch,
                    // by a peer this node's book knows under another key: a validator that
                    // rotated its key and then left repairs the old heights it voted on with
                    // the key it held then, and the book no longer maps that key to it
                    // (release seeds 7,016,158 and 7,022,908). At worst it is someone's genuine
                    // vote passed on, which harms nothing: not taken, not held against it.
                    VoteRejected::SenderIsNotSigner { .. } if signed_by_a_member => {
                        debug!(%from, error = %e, "checkpoint vote not taken")
                    }
                    _ => self.offend(from, Offence::InvalidCheckpointVote, &e),
                }
            }
        }
        Ok(SyncResponse::VoteReceived)
    }

    /// Registers our stored checkpoint for `height` (≤ head), voting if it is not certified.
    fn seed_height(&mut self, height: u64) -> Result<(), EngineError<S::Error>> {
        let Some(checkpoint) = self
            .store
            .ledger_checkpoint(height)
            .map_err(EngineError::Store)?
        else {
            return Ok(());
        };
        let certified = self
            .store
            .ledger_certificate(height)
            .map_err(EngineError::Store)?
            .is_some();
        self.register_ours(checkpoint, certified, true)
    }

    /// Logs and counts divergences; stores a certificate that formed.
    fn apply_tally(&mut self, tally: Tally, from: Option<P>) -> Result<(), EngineError<S::Error>> {
        for d in &tally.divergences {
            error!(
                height = d.ours.height,
                validator = %d.validator,
                ours = ?d.ours,
                theirs = ?d.theirs,
                "NON-DETERMINISM: a validator signed another ledger checkpoint than ours"
            );
            self.status.checkpoint_divergences += 1;
            self.status.last_divergence = Some(DivergenceNote {
                height: d.ours.height,
                validator: d.validator.to_hex(),
            });
        }
        if let Some(cert) = tally.certified {
            self.store_verified(&cert, from)?;
        }
        Ok(())
    }

    /// Stores a certificate fetched from `peer` once it verifies against the set of its height's
    /// epoch and certifies this store's own checkpoint.
    fn store_fetched(
        &mut self,
        cert: LedgerCertificate,
        peer: P,
    ) -> Result<(), EngineError<S::Error>> {
        let height = cert.checkpoint.height;
        let Some(set) = self.epochs.for_height(height).map(Cow::into_owned) else {
            debug!(
                height,
                "certificate of a height of an unknown epoch dropped"
            );
            return Ok(());
        };
        match cert.verified(&set) {
            Ok(verified) => self.store_verified(&verified, Some(peer)),
            Err(e) => {
                self.offend(peer, Offence::BadSyncAnswer, &e);
                Ok(())
            }
        }
    }

    /// Stores a verified certificate (formed here from checked votes, or fetched from `from`)
    /// once it certifies this store's own checkpoint.
    fn store_verified(
        &mut self,
        verified: &VerifiedCertificate,
        from: Option<P>,
    ) -> Result<(), EngineError<S::Error>> {
        let cert = verified.certificate();
        let height = cert.checkpoint.height;
        let ours = self
            .store
            .ledger_checkpoint(height)
            .map_err(EngineError::Store)?;
        match ours {
            None => {
                debug!(
                    height,
                    "certificate for a height not executed here yet; dropped"
                );
                return Ok(());
            }
            Some(ours) if ours != cert.checkpoint => {
                // A quorum certified another ledger than ours at this height: this node (or the
                // quorum) executed differently.
                error!(height, ?ours, certified = ?cert.checkpoint, peer = ?from, "NON-DETERMINISM: a quorum certified another ledger checkpoint than ours");
                self.status.checkpoint_divergences += 1;
                self.status.last_divergence = Some(DivergenceNote {
                    height,
                    validator: "quorum".into(),
                });
                return Ok(());
            }
            Some(_) => {}
        }
        match self.store.put_ledger_certificate(verified) {
            Ok(CertificateStored::New) => {
                self.certify.book.mark_certified(height);
                self.certify.voted_at.remove(&height);
                self.status.ledger_certificates += 1;
                self.status.certified_height = self.status.certified_height.max(height);
                debug!(
                    height,
                    signers = cert.signatures.len(),
                    "ledger certificate stored"
                );
            }
            Ok(CertificateStored::AlreadyCertified) => self.certify.book.mark_certified(height),
            Err(e) => warn!(height, error = %e, "ledger certificate not stored"),
        }
        Ok(())
    }

    /// The certificates we hold from `from_height` on, for a peer's `LedgerCertificates`.
    pub(crate) fn serve_certificates(
        &self,
        from_height: u64,
        max: u32,
    ) -> Result<SyncResponse, EngineError<S::Error>> {
        let mut certs = Vec::new();
        let end = from_height.saturating_add(u64::from(max.min(wire::MAX_CERTIFICATES_PER_SYNC)));
        for height in from_height..end {
            if let Some(c) = self
                .store
                .ledger_certificate(height)
                .map_err(EngineError::Store)?
            {
                certs.push(c);
            }
        }
        Ok(SyncResponse::LedgerCertificates(certs))
    }

    /// Every poll: forget old heights, vote again where a recent certificate has not formed,
    /// and ask a peer for the first certificate we lack.
    pub(crate) fn poll_certificates(&mut self) -> Result<(), EngineError<S::Error>> {
        let Some(head) = self.store.head().map(|h| h.height) else {
            return Ok(());
        };
        self.certify.book.prune(head);
        self.certify
            .voted_at
            .retain(|&h, _| h + PAST_WINDOW >= head);
        self.revote_recent(head)?;
        self.fetch_missing(head)
    }

    fn revote_recent(&mut self, head: u64) -> Result<(), EngineError<S::Error>> {
        let low = head.saturating_sub(PAST_WINDOW).max(1);
        let mut budget = MAX_REVOTES_PER_POLL;
        for height in low..=head {
            if budget == 0 {
                break;
            }
            if self.certify.book.is_certified(height) {
                continue;
            }
            let due = self
                .certify
                .voted_at
                .get(&height)
                .is_none_or(|t| self.now.saturating_sub(*t) >= RESEND_AFTER_MS);
            if !due {
                continue;
            }
            if self
                .store
                .ledger_certificate(height)
                .map_err(EngineError::Store)?
                .is_some()
            {
                // Stored by an earlier run: nothing to vote for.
                if !self.certify.book.has_ours(height) {
                    self.seed_height(height)?;
                }
                continue;
            }
            budget -= 1;
            if self.certify.book.has_ours(height) {
                // Re-send the vote we already hold (same checkpoint, same signature).
                if let Some(cp) = self
                    .store
                    .ledger_checkpoint(height)
                    .map_err(EngineError::Store)?
                {
                    if let Some(vote) = self.sign(&cp) {
                        self.send_vote(&cp, &vote);
                        self.certify.voted_at.insert(height, self.now);
                    }
                }
            } else {
                self.seed_height(height)?;
            }
        }
        Ok(())
    }

    fn fetch_missing(&mut self, head: u64) -> Result<(), EngineError<S::Error>> {
        if self.certify.fetch_in_flight {
            return Ok(());
        }
        let missing = self
            .store
            .first_uncertified(self.certify.cursor, head, MAX_SCAN_PER_POLL)
            .map_err(EngineError::Store)?;
        let Some(height) = missing else {
            self.certify.cursor = self
                .certify
                .cursor
                .saturating_add(MAX_SCAN_PER_POLL)
                .min(head + 1);
            self.certify.misses = 0;
            return Ok(());
        };
        if height != self.certify.cursor {
            self.certify.cursor = height;
            self.certify.misses = 0;
        }
        // A fresh height: its votes are probably still arriving.
        if self
            .certify
            .voted_at
            .get(&height)
            .is_some_and(|t| self.now.saturating_sub(*t) < FETCH_AFTER_MS)
        {
            return Ok(());
        }
        let peers = self.connected.len();
        if peers == 0 {
            return Ok(());
        }
        if self.certify.misses >= peers {
            // Nobody has it (heights stored before certificates existed, or whose votes were
            // all lost outside the window): move on rather than ask forever.
            info!(
                height,
                "no peer holds a ledger certificate for this height; skipping it"
            );
            self.certify.cursor = height + 1;
            self.certify.misses = 0;
            return Ok(());
        }
        let Some(peer) = self.next_peer_to_ask(self.certify.next_peer) else {
            return Ok(());
        };
        self.certify.next_peer = self.certify.next_peer.wrapping_add(1);
        let request = wire::encode_request(&SyncRequest::LedgerCertificates {
            from_height: height,
            max: wire::MAX_CERTIFICATES_PER_SYNC,
        });
        self.certify.fetch_in_flight = self.request(peer, Asked::Certificates { peer }, request);
        Ok(())
    }

    /// A peer's answer to our certificate request (`None`: it failed).
    pub(crate) fn on_certificates(
        &mut self,
        peer: P,
        certs: Option<Vec<LedgerCertificate>>,
    ) -> Result<(), EngineError<S::Error>> {
        self.certify.fetch_in_flight = false;
        let Some(certs) = certs else {
            self.certify.misses += 1;
            return Ok(());
        };
        let cursor = self.certify.cursor;
        if !certs.iter().any(|c| c.checkpoint.height == cursor) {
            self.certify.misses += 1;
        }
        let head = self.store.head().map_or(0, |h| h.height);
        for cert in certs
            .into_iter()
            .take(wire::MAX_CERTIFICATES_PER_SYNC as usize)
        {
            let height = cert.checkpoint.height;
            if height > head
                || self
                    .store
                    .ledger_certificate(height)
                    .map_err(EngineError::Store)?
                    .is_some()
            {
                continue;
            }
            self.store_fetched(cert, peer)?;
        }
        Ok(())
    }
}
