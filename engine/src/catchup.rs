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
}

impl CatchupState {
    pub(crate) fn new(now: Millis) -> Self {
        CatchupState {
            in_flight: false,
            next_peer: 0,
            head_changed_at: now,
            last_head: 0,
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
        let stalled = self.now.saturating_sub(self.catchup.head_changed_at) >= CATCHUP_STALL_MS;
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
    /// ([`verify_committed`]) and executes and stores the proven prefix; returns the first and
    /// last height applied, if any. The one path by which blocks no local consensus step
    /// committed enter the store: validators' catch-up and observers' following.
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
        // fault: they start the answer, and are skipped.
        let held = (head.height + 1).saturating_sub(from_height);
        let records = records
            .get(usize::try_from(held).unwrap_or(usize::MAX)..)
            .unwrap_or_default();
        let validators = self.core.validators().clone();
        let proven = match verify_committed(
            &self.genesis.chain_id,
            &validators,
            self.genesis_block_id,
            head,
            records,
        ) {
            Ok(p) => p,
            Err(e) => {
                self.offend(peer, Offence::BadCatchup, &e);
                return Ok(None);
            }
        };
        let (Some(first), Some(last)) = (proven.first(), proven.last()) else {
            return Ok(None);
        };
        let (first, last) = (first.block.header.height, last.block.header.height);
        for stored in &proven {
            let info = self.apply_block(&stored.block, &stored.certificate, false)?;
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
        }
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
}

/// Decodes and checks `records` (canonical stored blocks, oldest first) against `head`; returns
/// the longest prefix that is proven committed: up to the last block whose certificate is a
/// quorum certificate committing that very block (the hash chain then proves every block before
/// it). Every certificate in that prefix is verified too, and must commit its own block or one
/// after it in the prefix (a batch of blocks committed together shares the last one's): a node
/// stores each block's certificate and serves it on, so none it keeps may be a peer's forgery.
pub fn verify_committed(
    chain_id: &str,
    validators: &ValidatorSet,
    genesis_block_id: Hash,
    head: Head,
    records: &[Vec<u8>],
) -> Result<Vec<StoredBlock>, CatchupError> {
    let mut blocks = Vec::with_capacity(records.len());
    let mut parent = head.hash;
    let mut proven = 0;
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
        let qc: QuorumCert = from_canonical(
            "commit certificate",
            &stored.certificate,
            MAX_CERTIFICATE_BYTES,
        )
        .map_err(|e| CatchupError::BadCertificate {
            height: h.height,
            reason: e.to_string(),
        })?;
        if qc.commits() == Some(id) {
            proven = index + 1;
        }
        parent = id;
        blocks.push((stored, id, qc));
    }
    if proven == 0 && !blocks.is_empty() {
        return Err(CatchupError::Uncertified);
    }
    blocks.truncate(proven);
    let mut verified = BTreeSet::new();
    for (i, (stored, _, qc)) in blocks.iter().enumerate() {
        let height = stored.block.header.height;
        let commits = qc.commits();
        if !blocks[i..].iter().any(|(_, id, _)| Some(*id) == commits) {
            return Err(CatchupError::CertificateElsewhere { height, commits });
        }
        if verified.insert(qc.hash()) {
            validators.verify_qc(qc, genesis_block_id).map_err(|e| {
                CatchupError::InvalidCertificate {
                    height,
                    reason: e.to_string(),
                }
            })?;
        }
    }
    Ok(blocks.into_iter().map(|(stored, _, _)| stored).collect())
}
