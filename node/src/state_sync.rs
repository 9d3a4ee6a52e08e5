//! `waybill state-sync`: fills an empty store from a certified state that other nodes serve
//! over JSON-RPC, so a node joining a long chain (an observer, a new validator) does not execute
//! every block since genesis. `waybill run` then catches up from the synced height as usual.
//!
//! The nodes asked are not trusted (`ledger::state_sync` says how each answer is checked): the
//! only authority is the genesis file. From it the chain of epoch changes the nodes serve is
//! followed (each change signed by the set before it), the certificate of the height synced to
//! is checked against the set of its epoch, and the state, block and accumulator frontier are
//! checked against that certificate. A node that answers wrongly is named in the error, or
//! (with several `--from`) dropped while the others finish the sync.

use std::collections::BTreeMap;
use std::time::Instant;

use ledger::proof::{follow, CertificateError, EpochChange, EpochError};
use ledger::state_sync::{BaseError, ChunkFault, StateSync, SyncStep, VerifiedBase};
use ledger::storage::{Store, StoreError};
use ledger::{Genesis, Hash};
use tokio::task::JoinSet;

/// Why a sync stopped. Each names the node (its URL) whose answer was at fault, where one was.
#[derive(Debug, thiserror::Error)]
pub enum StateSyncError {
    #[error("the store already holds blocks up to height {head}: state sync fills an empty data directory (move the ledger aside, or `waybill reset`, first)")]
    NotEmpty { head: u64 },
    #[error("{url}: {method} failed: {source}")]
    Rpc {
        url: String,
        method: &'static str,
        #[source]
        source: rpc::ClientError,
    },
    #[error("{url}: the chain of epoch changes it serves does not follow from the genesis file: {source}")]
    EpochChain {
        url: String,
        #[source]
        source: Box<EpochError>,
    },
    #[error("{url}: has no certified height to sync to yet (try again once the network has certified one)")]
    NothingCertified { url: String },
    #[error("{url}: the certificate of height {height} is not signed by the epoch {epoch} validator set: {source}")]
    Certificate {
        url: String,
        height: u64,
        epoch: u64,
        #[source]
        source: CertificateError,
    },
    #[error("{url}: the block or accumulator frontier it sent for height {height} is not the certified one: {source}")]
    Base {
        url: String,
        height: u64,
        #[source]
        source: Box<BaseError>,
    },
    #[error("{url}: the commit certificate it sent with block {height} does not prove that block committed: {reason}")]
    CommitCertificate {
        url: String,
        height: u64,
        reason: String,
    },
    #[error("{url}: its answer for state-tree node {node} is wrong: {source}")]
    Chunk {
        url: String,
        node: Hash,
        #[source]
        source: Box<ChunkFault>,
    },
    #[error("no node asked has state-tree node {node} any more (they moved on and pruned it?): sync again")]
    Unavailable { node: Hash },
    #[error("every node asked answered wrongly; the last: {last}")]
    NoHonestSource { last: Box<StateSyncError> },
    #[error("the store: {0}")]
    Store(#[from] StoreError),
}

/// What a finished sync installed.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncReport {
    pub height: u64,
    pub block_hash: Hash,
    pub state_root: Hash,
    pub epoch: u64,
    pub entries: u64,
    pub answers: u64,
    pub seconds: f64,
}

/// Syncs `store` (empty) to the latest height `sources[0]` has certified, fetching the state
/// from every source in turn. `progress` hears the entries kept so far.
pub async fn sync_from(
    sources: &[String],
    genesis: &Genesis,
    store: &Store,
    mut progress: impl FnMut(u64),
) -> Result<SyncReport, StateSyncError> {
    let started = Instant::now();
    if let Some(head) = store.head() {
        return Err(StateSyncError::NotEmpty { head: head.height });
    }
    assert!(!sources.is_empty(), "state sync needs a node to ask");
    let clients: Vec<(String, rpc::Client)> = sources
        .iter()
        .map(|url| {
            rpc::Client::new(url)
                .map(|c| (url.clone(), c))
                .map_err(|source| StateSyncError::Rpc {
                    url: url.clone(),
                    method: "connect",
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    let (url, client) = &clients[0];
    let (base, changes) = certified_base(url, client, genesis).await?;
    let checkpoint = base.certificate.checkpoint.clone();

    store.begin_state_sync()?;
    let entries = walk_state(&clients, store, checkpoint.state_root, &mut progress).await?;
    let info = store.install_snapshot(genesis.hash(), &base, &changes)?;
    let answers = entries.1;
    Ok(SyncReport {
        height: info.height,
        block_hash: info.hash,
        state_root: info.state_root,
        epoch: changes.len() as u64,
        entries: entries.0,
        answers,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The latest certified height `url` serves, checked from the genesis file: its epoch chain,
/// its certificate, its block and frontier. Returns the base with the epoch changes up to it.
async fn certified_base(
    url: &str,
    client: &rpc::Client,
    genesis: &Genesis,
) -> Result<(VerifiedBase, Vec<EpochChange>), StateSyncError> {
    let rpc_err = |method: &'static str| {
        move |source| StateSyncError::Rpc {
            url: url.to_string(),
            method,
            source,
        }
    };
    let changes = client
        .epoch_changes(0)
        .await
        .map_err(rpc_err("waybill_getEpochChanges"))?;
    let trust = follow(genesis, &changes).map_err(|source| StateSyncError::EpochChain {
        url: url.to_string(),
        source: Box::new(source),
    })?;
    let base = client
        .snapshot_base(None)
        .await
        .map_err(rpc_err("waybill_getSnapshotBase"))?
        .ok_or_else(|| StateSyncError::NothingCertified {
            url: url.to_string(),
        })?;
    let height = base.certificate.checkpoint.height;
    let epoch = trust.for_height(height);
    base.certificate
        .verify(&epoch.view)
        .map_err(|source| StateSyncError::Certificate {
            url: url.to_string(),
            height,
            epoch: epoch.set.epoch,
            source,
        })?;
    check_commit_certificate(url, genesis, &epoch.set, &base)?;
    let verified = base.verify().map_err(|source| StateSyncError::Base {
        url: url.to_string(),
        height,
        source: Box::new(source),
    })?;
    // The changes the base's state has already applied: the synced store keeps them, since it
    // holds no state roots to find them in.
    let before: Vec<EpochChange> = changes
        .into_iter()
        .filter(|c| c.certificate.checkpoint.height <= height)
        .collect();
    Ok((verified, before))
}

/// The base block's commit certificate (what this node serves with the block to peers that
/// catch up from it) must prove the block committed, signed by a quorum of its epoch's set: the
/// ledger certificate covers the block, not these bytes.
fn check_commit_certificate(
    url: &str,
    genesis: &Genesis,
    set: &ledger::governance::EpochSet,
    base: &ledger::state_sync::SnapshotBase,
) -> Result<(), StateSyncError> {
    let height = base.block.block.header.height;
    let fail = |reason: String| StateSyncError::CommitCertificate {
        url: url.to_string(),
        height,
        reason,
    };
    let block_hash = base.block.block.hash();
    let (qc, later) = engine::catchup::decode_certificate(&base.block.certificate)
        .map_err(|e| fail(e.to_string()))?;
    if !engine::catchup::commits_through(&qc, block_hash, &later) {
        return Err(fail("it commits another block".into()));
    }
    if qc.signatures.is_empty() {
        return Err(fail("it carries no signature".into()));
    }
    consensus::ValidatorSet::for_epoch(genesis, set, 0)
        .verify_qc(&qc, block_hash)
        .map_err(|e| fail(e.to_string()))
}

/// Fetches every leaf under `root` into the store's staging area, up to [`MAX_IN_FLIGHT`]
/// requests at once spread over the sources. A source whose answer is wrong is dropped.
/// Returns (entries, answers).
async fn walk_state(
    clients: &[(String, rpc::Client)],
    store: &Store,
    root: Hash,
    progress: &mut impl FnMut(u64),
) -> Result<(u64, u64), StateSyncError> {
    let mut walk = StateSync::new(root);
    let mut honest: Vec<usize> = (0..clients.len()).collect();
    // How many times in a row each node came back unavailable from every source.
    let mut unavailable: BTreeMap<Hash, usize> = BTreeMap::new();
    let mut next_source = 0usize;
    let mut tasks = JoinSet::new();
    loop {
        while let Some(request) = walk.next_request() {
            let source = honest[next_source % honest.len()];
            next_source += 1;
            let client = clients[source].1.clone();
            tasks.spawn(async move {
                let answer = client.state_chunk(request.node).await;
                (source, request.node, answer)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (source, node, answer) = joined.expect("a state-chunk request task does not panic");
        let url = &clients[source].0;
        let chunk = match answer {
            Ok(chunk) => chunk,
            Err(source_err) => {
                walk.on_lost(&node);
                drop_source(
                    &mut honest,
                    source,
                    StateSyncError::Rpc {
                        url: url.clone(),
                        method: "waybill_getStateChunk",
                        source: source_err,
                    },
                )?;
                continue;
            }
        };
        match walk.on_chunk(&node, chunk) {
            Ok(SyncStep::Entries(entries)) => {
                store.stage_state(&entries)?;
                unavailable.remove(&node);
                progress(walk.progress().0);
            }
            Ok(SyncStep::Split) => {
                unavailable.remove(&node);
            }
            Ok(SyncStep::Unavailable) => {
                let misses = unavailable.entry(node).or_default();
                *misses += 1;
                if *misses >= honest.len() * 2 {
                    return Err(StateSyncError::Unavailable { node });
                }
            }
            Err(fault) => drop_source(
                &mut honest,
                source,
                StateSyncError::Chunk {
                    url: url.clone(),
                    node,
                    source: Box::new(fault),
                },
            )?,
        }
    }
    debug_assert!(walk.is_complete());
    Ok(walk.progress())
}

/// Stops asking `source`; the error when it was the last one left.
fn drop_source(
    honest: &mut Vec<usize>,
    source: usize,
    error: StateSyncError,
) -> Result<(), StateSyncError> {
    tracing::warn!(%error, "state sync: no longer asking this node");
    honest.retain(|&s| s != source);
    if honest.is_empty() {
        return Err(StateSyncError::NoHonestSource {
            last: Box::new(error),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consensus::types::{QuorumCert, VoteData};
    use ledger::accumulator::Frontier;
    use ledger::crypto::KeyPair;
    use ledger::governance::EpochSet;
    use ledger::proof::{LedgerCertificate, LedgerCheckpoint};
    use ledger::state_sync::SnapshotBase;
    use ledger::stored::StoredBlock;
    use ledger::{Block, BlockHeader};

    fn key(i: u8) -> KeyPair {
        KeyPair::from_secret([i + 1; 32])
    }

    fn genesis() -> Genesis {
        let keys: Vec<_> = (0..4)
            .map(|i| (key(i).public(), key(i + 10).public()))
            .collect();
        Genesis::of_validators("sync-test", &keys)
    }

    /// A base at height 5 whose commit certificate is `certificate` (the rest is not looked at).
    fn base(certificate: Vec<u8>) -> SnapshotBase {
        let header = BlockHeader {
            chain_id: "sync-test".into(),
            height: 5,
            round: 7,
            parent: Hash([1; 32]),
            tx_root: Hash([2; 32]),
            proposer: key(0).public(),
            timestamp_ms: 0,
            justify: vec![],
        };
        let block = Block {
            header,
            txs: vec![],
        };
        SnapshotBase {
            certificate: LedgerCertificate {
                checkpoint: LedgerCheckpoint {
                    chain_id: "sync-test".into(),
                    height: 5,
                    block_hash: block.hash(),
                    state_root: Hash::ZERO,
                    accumulator_root: Hash::ZERO,
                    accumulator_size: 0,
                },
                signatures: vec![],
            },
            block: StoredBlock {
                block,
                certificate,
                accumulator_size_after: 0,
                accumulator_root_after: Hash::ZERO,
            },
            frontier: Frontier {
                size: 0,
                hashes: vec![],
            },
        }
    }

    /// A two-chain commit of `committed` (round 7): a QC on its child of round 8, signed by
    /// `signers`.
    fn commit_qc(g: &Genesis, committed: Hash, signers: &[u8]) -> QuorumCert {
        let vote_data = VoteData {
            chain: g.hash(),
            epoch: 0,
            block_id: Hash([9; 32]),
            round: 8,
            parent_id: committed,
            parent_round: 7,
        };
        QuorumCert {
            signatures: signers
                .iter()
                .map(|&i| (u16::from(i), key(i).sign(&vote_data)))
                .collect(),
            vote_data,
        }
    }

    fn check(g: &Genesis, base: &SnapshotBase) -> Result<(), StateSyncError> {
        check_commit_certificate("http://peer", g, &EpochSet::genesis(g), base)
    }

    #[test]
    fn a_base_block_needs_a_quorum_signed_commit_of_itself() {
        let g = genesis();
        let hash = base(vec![]).block.block.hash();
        let honest = base(commit_qc(&g, hash, &[0, 1, 2]).to_bytes());
        check(&g, &honest).expect("a quorum's commit of the base block");

        let refused = |certificate: Vec<u8>| {
            let err = check(&g, &base(certificate)).expect_err("must be refused");
            assert!(
                matches!(err, StateSyncError::CommitCertificate { height: 5, .. }),
                "{err}"
            );
            err.to_string()
        };
        // Another block's commit.
        refused(commit_qc(&g, Hash([3; 32]), &[0, 1, 2]).to_bytes());
        // Below the quorum.
        refused(commit_qc(&g, hash, &[0, 1]).to_bytes());
        // Signed by someone outside the set (validator index 7 of 4).
        let mut outsider = commit_qc(&g, hash, &[0, 1, 2]);
        outsider.signatures[2].0 = 7;
        refused(outsider.to_bytes());
        // A forged signature: validator 2's place, validator 3's key.
        let mut forged = commit_qc(&g, hash, &[0, 1, 2]);
        forged.signatures[2].1 = key(3).sign(&forged.vote_data);
        refused(forged.to_bytes());
        // Signed for another chain (another genesis).
        let mut other = g.clone();
        other.chain_id = "another".into();
        refused(commit_qc(&other, hash, &[0, 1, 2]).to_bytes());
        // No signature at all, and bytes that are no certificate.
        refused(commit_qc(&g, hash, &[]).to_bytes());
        refused(vec![0xff; 40]);
    }
}
