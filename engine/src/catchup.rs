//! Catch-up: a node behind its peers fetches committed blocks and applies them.
//!
//! Every poll the node asks one connected validator (round-robin) for its committed head. A
//! peer [`CATCHUP_LAG`] blocks ahead, or ahead at all once the node's own head has not moved for
//! [`CATCHUP_STALL_MS`], is asked for the blocks after the node's head. A peer is not trusted:
//! the blocks must continue this node's chain link by link, and a run is accepted only up to a
//! block whose stored certificate is a valid quorum certificate (against the genesis validator
//! set) proving that very block committed; the hash chain then proves every block before it.
//! What the peer says about them beyond that (the accumulator root after each) no quorum
//! signed: the node's own execution of the certified blocks decides, and a peer whose claim
//! differs is marked for it. Then the node rebuilds its core on the new head.

use std::collections::BTreeSet;

use consensus::{QuorumCert, ValidatorSet};
use ledger::encoding::from_canonical;
use ledger::store_api::Head;
use ledger::stored::{StoredBlock, MAX_CERTIFICATE_BYTES};
use ledger::Hash;
use tracing::{debug, info};

use crate::node::{Asked, EngineError, Node};
use crate::offences::Offence;
use crate::store::NodeStore;
use crate::wire::{self, SyncRequest};
use crate::{Millis, Peer};

/// A peer this many blocks ahead makes the node catch up at once...
pub const CATCHUP_LAG: u64 = 4;
/// ...and one any number ahead does, once the node's own head has not moved for this long.
pub const CATCHUP_STALL_MS: Millis = 3_000;

/// Where catch-up stands.
pub(crate) struct CatchupState {
    /// A head or blocks request is out to this peer.
    in_flight: bool,
    next_peer: usize,
    head_changed_at: Millis,
    last_head: u64,
    /// A peer showed a later epoch: catch up from any peer ahead at all, without waiting for
    /// the stall (this node's epoch has ended and its peers have moved on).
    behind_epoch: bool,
}

impl CatchupState {
    pub(crate) fn new(now: Millis) -> Self {
        CatchupState {
            in_flight: false,
            next_peer: 0,
            head_changed_at: now,
            last_head: 0,
            behind_epoch: false,
        }
    }

    pub(crate) fn in_flight(&self) -> bool {
        self.in_flight
    }
}

impl<P: Peer, S: NodeStore> Node<P, S> {
    /// Every poll: note whether the head moved, and ask the next connected validator for its
    /// head.
    pub(crate) fn poll_catchup(&mut self) {
        let ours = self.store.head().map_or(0, |h| h.height);
        if ours != self.catchup.last_head {
            self.catchup.last_head = ours;
            self.catchup.head_changed_at = self.now;
            self.catchup.behind_epoch = false;
        }
        if self.catchup.in_flight {
            return;
        }
        let Some(peer) = self.next_peer_to_ask(self.catchup.next_peer) else {
            return;
        };
        self.catchup.next_peer = self.catchup.next_peer.wrapping_add(1);
        self.catchup.in_flight = self.request(
            peer,
            Asked::Head { peer },
            wire::encode_request(&SyncRequest::Head),
        );
    }

    /// The `turn`-th connected, unrefused validator peer (round-robin).
    pub(crate) fn next_peer_to_ask(&self, turn: usize) -> Option<P> {
        let candidates: Vec<P> = self
            .connected
            .iter()
            .filter(|p| !self.offences.is_refused(p, self.now))
            .copied()
            .collect();
        (!candidates.is_empty()).then(|| candidates[turn % candidates.len()])
    }

    /// A peer's committed height: fetch what we lack, or settle.
    pub(crate) fn on_peer_head(&mut self, peer: P, height: u64) {
        let ours = self.store.head().map_or(0, |h| h.height);
        let stalled = self.now.saturating_sub(self.catchup.head_changed_at) >= CATCHUP_STALL_MS
            || self.catchup.behind_epoch;
        if height >= ours.saturating_add(CATCHUP_LAG) || (height > ours && stalled) {
            info!(%peer, ours, theirs = height, "behind a peer; fetching committed blocks");
            let request = SyncRequest::Committed {
                from_height: ours + 1,
                max_blocks: wire::MAX_BLOCKS_PER_SYNC,
            };
            if self.request(
                peer,
                Asked::Committed {
                    peer,
                    from_height: ours + 1,
                },
                wire::encode_request(&request),
            ) {
                return;
            }
        }
        self.catchup.in_flight = false;
    }

    /// A validator sent a message of a later epoch than this node's: it asks a peer for its head
    /// now, and catches up from one ahead at all.
    pub(crate) fn later_epoch_seen(&mut self) {
        if !self.catchup.behind_epoch {
            info!(
                epoch = self.core.epoch(),
                "a peer is in a later epoch; catching up"
            );
        }
        self.catchup.behind_epoch = true;
        self.poll_catchup();
    }

    /// A catch-up request got no usable answer.
    pub(crate) fn catchup_failed(&mut self) {
        self.catchup.in_flight = false;
    }

    /// Applies the proven prefix of committed blocks a peer sent, then rebuilds the core on the
    /// new head. A peer that sends junk is marked and ignored.
    pub(crate) fn apply_catchup(
        &mut self,
        peer: P,
        from_height: u64,
        records: &[Vec<u8>],
    ) -> Result<(), EngineError<S::Error>> {
        self.catchup.in_flight = false;
        let Some((first, last)) = self.apply_committed_run(peer, from_height, records)? else {
            return Ok(());
        };
        info!(%peer, first, last, "caught up");
        debug!("rebuilding the consensus core on the new head");
        self.rebuild_core()
    }

    /// Checks committed blocks a peer sent for the heights from `from_height` on
    /// ([`verify_committed`]) and executes and stores the proven prefix, up to a block that ends
    /// the epoch (the next set checks what follows, on the next request); returns the first and
    /// last height applied, if any. The one path by which blocks no local consensus step
    /// committed enter the store: validators' catch-up and observers' following. The caller
    /// rebuilds the core on the new head.
    pub(crate) fn apply_committed_run(
        &mut self,
        peer: P,
        from_height: u64,
        records: &[Vec<u8>],
    ) -> Result<Option<(u64, u64)>, EngineError<S::Error>> {
        let Some(head) = self.store.head() else {
            return Ok(None);
        };
        // Blocks this node committed itself while the answer travelled are not the peer's
        // fault: they start the answer. They are not applied again, but they are read: each must
        // be the block this node holds, and a certificate of the current epoch must verify.
        let held = usize::try_from((head.height + 1).saturating_sub(from_height))
            .unwrap_or(usize::MAX)
            .min(records.len());
        let (held_records, records) = records.split_at(held);
        let validators = self.core.validators().clone();
        let ours = |height: u64| -> Result<Option<Hash>, S::Error> {
            Ok(self.store.block_by_height(height)?.map(|b| b.block.hash()))
        };
        match verify_held(
            &validators,
            self.core.epoch_root(),
            from_height,
            held_records,
            ours,
        ) {
            Ok(()) => {}
            Err(HeldError::Store(e)) => return Err(EngineError::Store(e)),
            Err(HeldError::Peer(e)) => {
                self.offend(peer, Offence::BadCatchup, &e);
                return Ok(None);
            }
        }
        let proven = match verify_committed(
            &self.genesis.chain_id,
            &validators,
            self.core.epoch_root(),
            head,
            records,
        ) {
            Ok(p) => p,
            Err(e) => {
                self.offend(peer, Offence::BadCatchup, &e);
                return Ok(None);
            }
        };
        let Some(first) = proven.first() else {
            return Ok(None);
        };
        let first = first.block.header.height;
        let mut last = first;
        for stored in &proven {
            let info = self.apply_block(&stored.block, &stored.certificate, false)?;
            last = stored.block.header.height;
            if let Some(info) = info {
                if info.accumulator_root != stored.accumulator_root_after {
                    // The block is certified; the root the peer claims for it is not. Executing
                    // the certified block decides, and the peer's claim is false. (Were this
                    // node the one executing wrongly, the quorum's ledger certificate for the
                    // height would say so: certification reports it loudly.)
                    self.offend(
                        peer,
                        Offence::FalseClaim,
                        &format_args!(
                            "height {}: claimed accumulator root {}, executing the certified block gives {}",
                            info.height, stored.accumulator_root_after, info.accumulator_root
                        ),
                    );
                }
            }
            if self.epoch_ended {
                // Blocks after the one that ended the epoch are checked with the next set, on
                // the next request.
                break;
            }
        }
        self.epoch_ended = false;
        self.store
            .prune_consensus_blocks(last)
            .map_err(EngineError::Store)?;
        Ok(Some((first, last)))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatchupError {
    #[error("block {index} of the response does not decode: {reason}")]
    Decode { index: usize, reason: String },
    #[error("block at height {height}: expected height {expected}")]
    WrongHeight { height: u64, expected: u64 },
    #[error("block {height}: parent {found}, expected {expected}")]
    WrongParent {
        height: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("block {height} is for chain {found:?}, not {expected:?}")]
    WrongChain {
        height: u64,
        expected: String,
        found: String,
    },
    #[error("block {height}: certificate does not decode: {reason}")]
    BadCertificate { height: u64, reason: String },
    #[error("block {height}: certificate is invalid: {reason}")]
    InvalidCertificate { height: u64, reason: String },
    #[error("block {height}: its certificate commits {commits:?}, not this block or a later one of the response")]
    CertificateElsewhere { height: u64, commits: Option<Hash> },
    #[error("no block in the response carries a certificate that commits it")]
    Uncertified,
    #[error("block at height {height} is {theirs}, but this node committed {ours} there")]
    Contradicts {
        height: u64,
        ours: Hash,
        theirs: Hash,
    },
}

/// Why [`verify_held`] refused: the peer's records, or this node's own store.
#[derive(Debug)]
pub enum HeldError<E> {
    Peer(CatchupError),
    Store(E),
}

/// Checks the records of an answer for heights from `from_height` that this node committed
/// while the answer travelled (`ours` gives the hash of its block at a height). Each must be
/// that very block, and a certificate of this set's epoch must be a valid quorum certificate:
/// a peer that is honest holds the same committed chain and only quorums' certificates, so
/// anything else is a lie (a different block under a valid certificate would be a fork). A
/// certificate of another epoch is left unchecked: the block's hash already matches a block
/// this node committed, and nothing of the record is stored.
pub fn verify_held<E>(
    validators: &ValidatorSet,
    root_id: Hash,
    from_height: u64,
    records: &[Vec<u8>],
    ours: impl Fn(u64) -> Result<Option<Hash>, E>,
) -> Result<(), HeldError<E>> {
    for (index, (height, bytes)) in (from_height..).zip(records).enumerate() {
        let stored = StoredBlock::from_bytes(bytes).map_err(|e| {
            HeldError::Peer(CatchupError::Decode {
                index,
                reason: e.to_string(),
            })
        })?;
        let theirs = stored.block.hash();
        if stored.block.header.height != height {
            return Err(HeldError::Peer(CatchupError::WrongHeight {
                height: stored.block.header.height,
                expected: height,
            }));
        }
        let Some(ours) = ours(height).map_err(HeldError::Store)? else {
            // Below this node's pruned or missing range: nothing to compare with.
            continue;
        };
        if theirs != ours {
            return Err(HeldError::Peer(CatchupError::Contradicts {
                height,
                ours,
                theirs,
            }));
        }
        let (qc, _) = decode_certificate(&stored.certificate).map_err(|e| {
            HeldError::Peer(CatchupError::BadCertificate {
                height,
                reason: e.to_string(),
            })
        })?;
        if qc.epoch() == validators.epoch {
            validators.verify_qc(&qc, root_id).map_err(|e| {
                HeldError::Peer(CatchupError::InvalidCertificate {
                    height,
                    reason: e.to_string(),
                })
            })?;
        }
    }
    Ok(())
}

/// Decodes and checks `records` (canonical stored blocks, oldest first) against `head`; returns
/// the longest prefix that is proven committed: up to the last block whose certificate is a
/// quorum certificate (of this set's epoch) committing that very block, the hash chain proving
/// every block before it. Every certificate in that prefix is verified too, and must commit its
/// own block or one after it: in the prefix, or past a block of the prefix that ended the epoch
/// and keeps the headers up to it (a batch of blocks committed together shares the last one's
/// certificate), or one the answer does not hold; one committing an earlier block of the run
/// (or the head) is refused. A node stores each block's certificate and serves it on, so none
/// it keeps may be a peer's forgery.
pub fn verify_committed(
    chain_id: &str,
    validators: &ValidatorSet,
    root_id: Hash,
    head: Head,
    records: &[Vec<u8>],
) -> Result<Vec<StoredBlock>, CatchupError> {
    let mut blocks = Vec::with_capacity(records.len());
    // Each block's id and certificate, for the check of the proven prefix.
    let mut certified = Vec::with_capacity(records.len());
    let mut verified = BTreeSet::new();
    let mut parent = head.hash;
    let mut proven = 0;
    let mut honest_short = false;
    for (expected, (index, bytes)) in (head.height + 1..).zip(records.iter().enumerate()) {
        let stored = StoredBlock::from_bytes(bytes).map_err(|e| CatchupError::Decode {
            index,
            reason: e.to_string(),
        })?;
        let h = &stored.block.header;
        if h.height != expected {
            return Err(CatchupError::WrongHeight {
                height: h.height,
                expected,
            });
        }
        if h.parent != parent {
            return Err(CatchupError::WrongParent {
                height: h.height,
                expected: parent,
                found: h.parent,
            });
        }
        if h.chain_id != chain_id {
            return Err(CatchupError::WrongChain {
                height: h.height,
                expected: chain_id.into(),
                found: h.chain_id.clone(),
            });
        }
        let id = stored.block.hash();
        let (qc, later) =
            decode_certificate(&stored.certificate).map_err(|e| CatchupError::BadCertificate {
                height: h.height,
                reason: e.to_string(),
            })?;
        if qc.epoch() != validators.epoch {
            // Certified by another epoch's set: the blocks before are what this set proves,
            // and the node learns the next set by executing them.
            break;
        }
        if commits_through(&qc, id, &later) {
            validators
                .verify_qc(&qc, root_id)
                .map_err(|e| CatchupError::InvalidCertificate {
                    height: h.height,
                    reason: e.to_string(),
                })?;
            verified.insert(qc.hash());
            proven = index + 1;
        } else if index + 1 == records.len() && validators.verify_qc(&qc, root_id).is_ok() {
            // The peer's last block was committed in a run whose later blocks it no longer
            // holds (a store that lost its log's tail keeps the run's certificate with it): a
            // valid certificate of a descendant, which proves nothing here but is no lie.
            honest_short = true;
        }
        parent = id;
        blocks.push(stored);
        certified.push((id, qc, later));
    }
    if proven == 0 && !blocks.is_empty() && !honest_short {
        return Err(CatchupError::Uncertified);
    }
    blocks.truncate(proven);
    certified.truncate(proven);
    for (i, (_, qc, _)) in certified.iter().enumerate() {
        let height = blocks[i].block.header.height;
        let commits = qc.commits();
        // Its own block, a later one of the run, or one past a later block that ended the
        // epoch (that block keeps the headers up to it; the run's earlier blocks keep the bare
        // certificate of the whole committed batch).
        let ahead = certified[i..]
            .iter()
            .any(|(b, _, l)| commits_through(qc, *b, l));
        // A certificate committing a block this run does not hold (the peer's batch went past
        // what it answered, or past the epoch's end) cannot be placed here; it is kept if it is
        // a quorum's of this epoch. One committing this block's ancestor proves nothing of it.
        let behind = commits == Some(head.hash)
            || certified[..i].iter().any(|(b, _, _)| Some(*b) == commits);
        if !ahead && (behind || commits.is_none()) {
            return Err(CatchupError::CertificateElsewhere { height, commits });
        }
        if verified.insert(qc.hash()) {
            validators
                .verify_qc(qc, root_id)
                .map_err(|e| CatchupError::InvalidCertificate {
                    height,
                    reason: e.to_string(),
                })?;
        }
    }
    Ok(blocks)
}

/// A stored block's certificate: a QC that commits the block, or, for a block that ended its
/// epoch in the middle of a committed run, that run's QC followed by the headers from the
/// block's child to the block the QC commits (BCS of the pair: the QC's bytes, then the list's).
pub fn decode_certificate(
    bytes: &[u8],
) -> Result<(QuorumCert, Vec<ledger::BlockHeader>), ledger::encoding::DecodeError> {
    match from_canonical::<QuorumCert>("commit certificate", bytes, MAX_CERTIFICATE_BYTES) {
        Ok(qc) => Ok((qc, vec![])),
        Err(_) => from_canonical(
            "commit certificate with headers",
            bytes,
            MAX_CERTIFICATE_BYTES,
        ),
    }
}

/// Whether `qc` proves block `id` committed: it commits `id` itself, or the last of `later`,
/// which runs from a child of `id` down the parent links.
pub fn commits_through(qc: &QuorumCert, id: Hash, later: &[ledger::BlockHeader]) -> bool {
    let mut parent = id;
    for h in later {
        if h.parent != parent {
            return false;
        }
        parent = h.hash();
    }
    qc.commits() == Some(parent)
}
