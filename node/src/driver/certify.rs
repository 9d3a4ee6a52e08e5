//! Ledger certificates, the driver's side: after executing a height the validator signs the
//! checkpoint (chain id, height, block hash, state root, accumulator root and size) and sends its
//! vote to every validator; votes are tallied in [`VoteBook`]; a quorum matching our own
//! checkpoint is stored with the block (the store verifies it again first). A validator that
//! signed another checkpoint is reported loudly as non-determinism.
//!
//! Heights this node holds without a certificate (it restarted, caught up, or the votes were
//! lost) are repaired on the poll tick: for recent heights it signs and sends its vote again,
//! and for any height it asks peers for their stored certificate (`SyncRequest::
//! LedgerCertificates`), which is stored only if it verifies against the genesis validator set
//! and matches this node's own records.
//!
//! Safety: a validator signs only the checkpoint it computed from its own store — the one
//! execution of that height, which is deterministic — so it never signs two different
//! checkpoints for one height. Signing the same checkpoint again (after a restart) gives the
//! same signature (ed25519 is deterministic) and is harmless.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};
use ledger::storage::{CertificateStored, CommitInfo, StoreError};
use ledger::{Genesis, KeyPair};
use tracing::{debug, error, info, warn};

use super::votes::{Tally, VoteBook, PAST_WINDOW};
use super::wire::{self, SyncRequest, SyncResponse};
use super::{Driver, Fetched};
use crate::network::PeerId;

/// A height whose certificate has not formed this long after we voted gets our vote again.
const RESEND_AFTER: Duration = Duration::from_secs(5);
/// Votes are left this long to form a certificate before asking peers for theirs.
const FETCH_AFTER: Duration = Duration::from_secs(2);
/// Work per poll tick: heights seeded or re-voted, and heights scanned for a missing certificate.
const MAX_REVOTES_PER_TICK: usize = 16;
const MAX_SCAN_PER_TICK: u64 = 1_024;

/// The driver's certificate state.
pub struct CertifyState {
    book: VoteBook,
    /// The consensus key, when this node is a genesis validator (an observer signs nothing).
    signer: Option<KeyPair>,
    /// When we last sent our vote for a height not yet certified.
    voted_at: HashMap<u64, Instant>,
    /// Every height below this one has a certificate or no peer had one to give.
    cursor: u64,
    /// Peers asked, without success, for the certificate of `cursor`.
    misses: usize,
    fetch_in_flight: bool,
    next_peer: usize,
}

impl CertifyState {
    pub fn new(genesis: &Genesis, key: &KeyPair) -> Self {
        let validator = genesis.validator_index(&key.public()).is_some();
        CertifyState {
            book: VoteBook::new(),
            signer: validator.then(|| KeyPair::from_secret(key.secret_bytes())),
            voted_at: HashMap::new(),
            cursor: 1,
            misses: 0,
            fetch_in_flight: false,
            next_peer: 0,
        }
    }
}

impl Driver {
    /// Height `info.height` was just executed and stored: sign its checkpoint and tell the other
    /// validators (unless `announce` is false: catch-up of old heights, whose votes the others
    /// no longer collect; the poll tick fetches their certificates instead).
    pub(super) fn certify_executed(&mut self, info: &CommitInfo, announce: bool) {
        let checkpoint = LedgerCheckpoint {
            chain_id: self.genesis.chain_id.clone(),
            height: info.height,
            block_hash: info.hash,
            state_root: info.state_root,
            accumulator_root: info.accumulator_root,
            accumulator_size: info.accumulator_size,
        };
        self.register_ours(checkpoint, false, announce);
    }

    /// Our checkpoint for a height into the book, with our signed vote (sent to the others when
    /// `announce`).
    fn register_ours(&mut self, checkpoint: LedgerCheckpoint, certified: bool, announce: bool) {
        let height = checkpoint.height;
        let vote = self
            .certify
            .signer
            .as_ref()
            .map(|key| CheckpointVote::sign(key, &checkpoint));
        if let (Some(vote), true, false) = (&vote, announce, certified) {
            self.send_vote(&checkpoint, vote);
            self.certify.voted_at.insert(height, Instant::now());
        }
        let tally = self
            .certify
            .book
            .ours(&self.genesis, checkpoint, vote, certified);
        self.apply_tally(tally);
    }

    fn send_vote(&self, checkpoint: &LedgerCheckpoint, vote: &CheckpointVote) {
        let bytes = wire::encode_request(&SyncRequest::CheckpointVote {
            checkpoint: checkpoint.clone(),
            vote: vote.clone(),
        });
        let me = self.net.local_peer_id();
        for &peer in self.book.peers() {
            if peer == me {
                continue;
            }
            let response = self.net.request_sync(peer, bytes.clone());
            let height = checkpoint.height;
            tokio::spawn(async move {
                if let Err(e) = response.await {
                    debug!(%peer, height, error = %e, "checkpoint vote not delivered");
                }
            });
        }
    }

    /// A peer's vote (from the sync protocol). Bad votes are dropped with a debug log.
    pub(super) fn on_checkpoint_vote(
        &mut self,
        from: PeerId,
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    ) -> SyncResponse {
        let Some(sender) = self.book.key_of(&from) else {
            debug!(%from, "checkpoint vote from a non-validator peer dropped");
            return SyncResponse::VoteReceived;
        };
        let head = self.store.head().map_or(0, |h| h.height);
        let height = checkpoint.height;
        // A height we executed before a restart, or before votes for it arrived: our own
        // checkpoint comes from the store (and our vote with it, to help the sender's tally).
        if height <= head
            && height + PAST_WINDOW >= head
            && height > 0
            && !self.certify.book.has_ours(height)
        {
            self.seed_height(height);
        }
        match self
            .certify
            .book
            .peer(&self.genesis, &sender, checkpoint, vote, head)
        {
            Ok(tally) => self.apply_tally(tally),
            Err(e) => {
                debug!(%from, error = %e, "checkpoint vote dropped");
                self.status.update(|s| s.checkpoint_votes_rejected += 1);
            }
        }
        SyncResponse::VoteReceived
    }

    /// Registers our stored checkpoint for `height` (≤ head), voting if it is not certified.
    fn seed_height(&mut self, height: u64) {
        let checkpoint = match self.store.ledger_checkpoint(height) {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                warn!(height, error = %e, "cannot read our checkpoint");
                return;
            }
        };
        let certified = matches!(self.store.ledger_certificate(height), Ok(Some(_)));
        self.register_ours(checkpoint, certified, true);
    }

    /// Logs and counts divergences; stores a certificate that formed.
    fn apply_tally(&mut self, tally: Tally) {
        for d in &tally.divergences {
            error!(
                height = d.ours.height,
                validator = %d.validator,
                ours = ?d.ours,
                theirs = ?d.theirs,
                "NON-DETERMINISM: a validator signed another ledger checkpoint than ours"
            );
            let height = d.ours.height;
            let validator = d.validator.to_hex();
            self.status.update(|s| {
                s.checkpoint_divergences += 1;
                s.last_divergence = Some(crate::status::DivergenceNote { height, validator });
            });
        }
        if let Some(cert) = tally.certified {
            self.store_certificate(&cert, None);
        }
    }

    /// Stores a certificate (formed here, or fetched from `from`); the store verifies it.
    fn store_certificate(&mut self, cert: &LedgerCertificate, from: Option<PeerId>) {
        let height = cert.checkpoint.height;
        match self.store.put_ledger_certificate(cert, &self.genesis) {
            Ok(CertificateStored::New) => {
                self.certify.book.mark_certified(height);
                self.certify.voted_at.remove(&height);
                self.status.update(|s| {
                    s.ledger_certificates += 1;
                    s.certified_height = s.certified_height.max(height);
                });
                debug!(
                    height,
                    signers = cert.signatures.len(),
                    "ledger certificate stored"
                );
            }
            Ok(CertificateStored::AlreadyCertified) => {
                self.certify.book.mark_certified(height);
            }
            Err(StoreError::CertificateMismatch {
                ours, certified, ..
            }) => {
                // A quorum certified another ledger than ours at this height: this node (or the
                // quorum) executed differently.
                error!(height, ?ours, ?certified, peer = ?from, "NON-DETERMINISM: a quorum certified another ledger checkpoint than ours");
                self.status.update(|s| {
                    s.checkpoint_divergences += 1;
                    s.last_divergence = Some(crate::status::DivergenceNote {
                        height,
                        validator: "quorum".into(),
                    });
                });
            }
            Err(e) => match from {
                Some(peer) => {
                    warn!(%peer, height, error = %e, "ledger certificate from peer refused")
                }
                None => {
                    error!(height, error = %e, "ledger certificate formed from votes refused by the store")
                }
            },
        }
    }

    /// The certificates we hold from `from_height` on, for a peer's `LedgerCertificates`.
    pub(super) fn serve_certificates(&self, from_height: u64, max: u32) -> SyncResponse {
        let mut certs = Vec::new();
        let end = from_height.saturating_add(u64::from(max.min(wire::MAX_CERTIFICATES_PER_SYNC)));
        for height in from_height..end {
            match self.store.ledger_certificate(height) {
                Ok(Some(c)) => certs.push(c),
                Ok(None) => {}
                Err(e) => return SyncResponse::Unavailable(e.to_string()),
            }
        }
        SyncResponse::LedgerCertificates(certs)
    }

    /// Every poll tick: forget old heights, vote again where a recent certificate has not
    /// formed, and ask a peer for the first certificate we lack.
    pub(super) fn poll_certificates(&mut self) {
        let Some(head) = self.store.head().map(|h| h.height) else {
            return;
        };
        self.certify.book.prune(head);
        self.certify
            .voted_at
            .retain(|&h, _| h + PAST_WINDOW >= head);
        self.revote_recent(head);
        self.fetch_missing(head);
    }

    fn revote_recent(&mut self, head: u64) {
        let low = head.saturating_sub(PAST_WINDOW).max(1);
        let mut budget = MAX_REVOTES_PER_TICK;
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
                .is_none_or(|t| t.elapsed() >= RESEND_AFTER);
            if !due {
                continue;
            }
            if matches!(self.store.ledger_certificate(height), Ok(Some(_))) {
                // Stored by an earlier run: nothing to vote for.
                if !self.certify.book.has_ours(height) {
                    self.seed_height(height);
                }
                continue;
            }
            budget -= 1;
            if self.certify.book.has_ours(height) {
                // Re-send the vote we already hold (same checkpoint, same signature).
                if let (Some(key), Ok(Some(cp))) =
                    (&self.certify.signer, self.store.ledger_checkpoint(height))
                {
                    let vote = CheckpointVote::sign(key, &cp);
                    self.send_vote(&cp, &vote);
                    self.certify.voted_at.insert(height, Instant::now());
                }
            } else {
                self.seed_height(height);
            }
        }
    }

    fn fetch_missing(&mut self, head: u64) {
        if self.certify.fetch_in_flight {
            return;
        }
        let missing =
            match self
                .store
                .first_uncertified(self.certify.cursor, head, MAX_SCAN_PER_TICK)
            {
                Ok(m) => m,
                Err(e) => {
                    warn!(error = %e, "scanning for missing ledger certificates failed");
                    return;
                }
            };
        let Some(height) = missing else {
            self.certify.cursor = self
                .certify
                .cursor
                .saturating_add(MAX_SCAN_PER_TICK)
                .min(head + 1);
            self.certify.misses = 0;
            return;
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
            .is_some_and(|t| t.elapsed() < FETCH_AFTER)
        {
            return;
        }
        let peers: Vec<PeerId> = self
            .net
            .connected_peers()
            .into_iter()
            .filter(|p| self.book.key_of(p).is_some())
            .collect();
        if peers.is_empty() {
            return;
        }
        if self.certify.misses >= peers.len() {
            // Nobody has it (heights stored before certificates existed, or whose votes were
            // all lost outside the window): move on rather than ask forever.
            info!(
                height,
                "no peer holds a ledger certificate for this height; skipping it"
            );
            self.certify.cursor = height + 1;
            self.certify.misses = 0;
            return;
        }
        let peer = peers[self.certify.next_peer % peers.len()];
        self.certify.next_peer = self.certify.next_peer.wrapping_add(1);
        self.certify.fetch_in_flight = true;
        let request = wire::encode_request(&SyncRequest::LedgerCertificates {
            from_height: height,
            max: wire::MAX_CERTIFICATES_PER_SYNC,
        });
        let response = self.net.request_sync(peer, request);
        let tx = self.fetched_tx.clone();
        tokio::spawn(async move {
            let certs = match response.await {
                Err(e) => Err(e.to_string()),
                Ok(bytes) => match wire::decode_response(&bytes) {
                    Ok(SyncResponse::LedgerCertificates(certs)) => Ok(certs),
                    Ok(SyncResponse::Unavailable(reason)) => Err(reason),
                    Ok(_) => Err("unexpected answer to a certificate request".into()),
                    Err(e) => Err(e.to_string()),
                },
            };
            let _ = tx.send(Fetched::Certificates { peer, certs }).await;
        });
    }

    /// A peer's answer to our certificate request.
    pub(super) fn on_certificates(
        &mut self,
        peer: PeerId,
        certs: Result<Vec<LedgerCertificate>, String>,
    ) {
        self.certify.fetch_in_flight = false;
        let certs = match certs {
            Ok(c) => c,
            Err(reason) => {
                debug!(%peer, %reason, "ledger certificate request failed");
                self.certify.misses += 1;
                return;
            }
        };
        let cursor = self.certify.cursor;
        if !certs.iter().any(|c| c.checkpoint.height == cursor) {
            self.certify.misses += 1;
        }
        let head = self.store.head().map_or(0, |h| h.height);
        for cert in certs.iter().take(wire::MAX_CERTIFICATES_PER_SYNC as usize) {
            let height = cert.checkpoint.height;
            if height > head || matches!(self.store.ledger_certificate(height), Ok(Some(_))) {
                continue;
            }
            self.store_certificate(cert, Some(peer));
        }
    }
}
