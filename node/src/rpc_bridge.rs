//! `rpc::NodeApi` for the running node: maps the node's answers and errors to the RPC crate's
//! types. The JSON shapes and error codes themselves belong to `rpc`.

use std::net::SocketAddr;
use std::sync::Arc;

use ledger::proof::Proof;
use ledger::storage::StoreError;
use ledger::stored::StoredBlock;
use ledger::supply::history::{provenance, HistoryEntry, Provenance};
use ledger::supply::state::{self, OrgRecord};
use ledger::{Hash, PublicKey, SignedTransaction};
use rpc::{ApiError, NodeApi};

use crate::api::{reject_reason, NodeService, Submitted};
use crate::config::NodeConfig;
use crate::driver::Command;

/// The running JSON-RPC server.
pub struct RpcServer {
    pub addr: SocketAddr,
    handle: rpc::ServerHandle,
}

impl RpcServer {
    pub fn stop(&self) {
        let _ = self.handle.stop();
    }
}

pub async fn serve(config: &NodeConfig, service: Arc<NodeService>) -> Result<RpcServer, String> {
    let addr: SocketAddr = config
        .rpc
        .listen
        .parse()
        .map_err(|e| format!("rpc.listen {:?}: {e}", config.rpc.listen))?;
    let limits = rpc::RpcLimits {
        max_connections: config.rpc.max_connections,
        requests_per_second_per_client: config.rpc.requests_per_second_per_client,
        ..rpc::RpcLimits::default()
    };
    let access = rpc::RpcAccess {
        cors_origins: config.rpc.cors_origins.clone(),
        pages: config.rpc.explorer.then_some(crate::explorer::PAGES),
    };
    let (addr, handle) = rpc::serve(addr, service, limits, access)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        %addr,
        cors_origins = ?config.rpc.cors_origins,
        requests_per_second_per_client = config.rpc.requests_per_second_per_client,
        explorer = config.rpc.explorer,
        "json-rpc up"
    );
    Ok(RpcServer { addr, handle })
}

impl NodeService {
    fn committed_transaction(&self, hash: &Hash) -> Result<Option<rpc::TxInfo>, ApiError> {
        Ok(self
            .node
            .store
            .transaction(hash)
            .map_err(internal)?
            .map(|c| rpc::TxInfo {
                tx: c.tx,
                receipt: Some(c.receipt),
                height: Some(c.location.height),
                index_in_block: Some(c.location.index_in_block),
                ledger_index: Some(c.location.ledger_index),
                pending: false,
            }))
    }

    /// Asks the driver, which owns the mempool, for a pending transaction.
    async fn pending_transaction(&self, hash: Hash) -> Result<Option<SignedTransaction>, ApiError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let stopping = || ApiError::NotReady("node is stopping".into());
        self.node
            .commands
            .send(Command::PendingTransaction { hash, reply })
            .await
            .map_err(|_| stopping())?;
        rx.await.map_err(|_| stopping())
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A submission's hash, or why it was not admitted as the client sees it.
fn admitted_hash(submitted: Submitted) -> Result<Hash, ApiError> {
    match submitted {
        Submitted::Admitted(h) => Ok(h),
        Submitted::Rejected(e) => Err(ApiError::Rejected {
            reason: reject_reason(&e).to_string(),
            message: e.to_string(),
        }),
        Submitted::Unavailable => Err(ApiError::NotReady("node is stopping".into())),
    }
}

#[async_trait::async_trait]
impl NodeApi for NodeService {
    async fn submit(
        &self,
        tx: SignedTransaction,
        wait_ms: Option<u64>,
    ) -> Result<rpc::SubmitOutcome, ApiError> {
        let hash = admitted_hash(NodeService::submit(self, tx).await)?;
        let receipt = match wait_ms {
            Some(ms) => match self.wait_commit(hash, ms).await {
                Some(r) => Some(r),
                None => {
                    return Err(ApiError::Timeout {
                        tx_hash: hash,
                        waited_ms: ms,
                    })
                }
            },
            None => None,
        };
        Ok(rpc::SubmitOutcome::new(hash, receipt))
    }

    async fn submit_many(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<rpc::SubmitOutcome, ApiError>> {
        NodeService::submit_all(self, txs)
            .await
            .into_iter()
            .map(|s| admitted_hash(s).map(|hash| rpc::SubmitOutcome::new(hash, None)))
            .collect()
    }

    fn head(&self) -> Result<rpc::HeadInfo, ApiError> {
        let store = &self.node.store;
        let head = store
            .head()
            .ok_or_else(|| ApiError::NotReady("no genesis".into()))?;
        let size = store.accumulator_size();
        Ok(rpc::HeadInfo {
            chain_id: self.node.genesis.chain_id.clone(),
            genesis_hash: self.node.genesis.hash(),
            height: head.height,
            hash: head.hash,
            accumulator_size: size,
            accumulator_root: store.accumulator_root_at(size).map_err(internal)?,
            state_root: store.state_root(),
        })
    }

    fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, ApiError> {
        self.node.store.block_by_height(height).map_err(internal)
    }

    fn block_by_hash(&self, hash: Hash) -> Result<Option<StoredBlock>, ApiError> {
        self.node.store.block_by_hash(&hash).map_err(internal)
    }

    async fn transaction(&self, hash: Hash) -> Result<Option<rpc::TxInfo>, ApiError> {
        if let Some(info) = self.committed_transaction(&hash)? {
            return Ok(Some(info));
        }
        if let Some(tx) = self.pending_transaction(hash).await? {
            return Ok(Some(rpc::TxInfo {
                tx,
                receipt: None,
                height: None,
                index_in_block: None,
                ledger_index: None,
                pending: true,
            }));
        }
        // It may have committed (and left the mempool) between the two reads: the driver
        // stores a block before it drops the block's transactions from the mempool.
        self.committed_transaction(&hash)
    }

    fn status(&self) -> Result<rpc::NodeStatus, ApiError> {
        let s = self.node.status.snapshot();
        let peers = self.node.net.connected_peers();
        let names = crate::genesis_peers::names(&self.node.genesis);
        Ok(rpc::NodeStatus {
            name: self.node.name.clone(),
            validator_key: self.node.validator_key,
            peer_id: self.node.net.local_peer_id().to_string(),
            round: s.round,
            committed_height: s.committed_height,
            mempool_size: s.mempool_len as u64,
            peers: peers.iter().map(|p| p.to_string()).collect(),
            peer_names: peers
                .iter()
                .map(|p| names.get(p).cloned().unwrap_or_else(|| p.to_string()))
                .collect(),
            syncing: s.syncing,
            certified_height: s.certified_height,
            checkpoint_divergences: s.checkpoint_divergences,
            version: crate::version::LONG.to_string(),
            observer: s.observer,
            idle: s.idle,
        })
    }

    fn health(&self) -> rpc::Health {
        crate::health::health(&self.node)
    }

    /// The set the committed state names (governance changes it at epoch boundaries); the
    /// genesis set where the state has no record (a store written before governance).
    fn validators(&self) -> Result<Vec<rpc::ValidatorInfo>, ApiError> {
        let set = ledger::governance::read_validators(&*self.node.store)
            .map_err(internal)?
            .map_or_else(|| self.node.genesis.validators.clone(), |s| s.validators);
        Ok(set
            .iter()
            .map(|v| rpc::ValidatorInfo {
                name: v.name.clone(),
                consensus_key: v.consensus_key,
                peer_id: v.peer_id.clone(),
                power: v.power,
                organization: self.node.validator_organizations.get(&v.name).cloned(),
            })
            .collect())
    }

    fn next_sequence(&self, account: PublicKey) -> Result<u64, ApiError> {
        NodeService::next_sequence(self, &account).map_err(ApiError::Internal)
    }

    fn subscribe_blocks(&self) -> tokio::sync::broadcast::Receiver<rpc::BlockSummary> {
        let (tx, rx) = tokio::sync::broadcast::channel(256);
        let mut source = self.node.blocks.subscribe();
        tokio::spawn(async move {
            while let Ok(b) = source.recv().await {
                let summary = rpc::BlockSummary {
                    height: b.height,
                    hash: b.hash,
                    tx_count: b.tx_count,
                    timestamp_ms: b.timestamp_ms,
                    accumulator_size: b.accumulator_size,
                    accumulator_root: b.accumulator_root,
                    state_root: b.state_root,
                };
                if tx.send(summary).is_err() {
                    return;
                }
            }
        });
        rx
    }

    fn state_root(&self, height: Option<u64>) -> Result<Option<Hash>, ApiError> {
        let store = &self.node.store;
        match height {
            None => Ok(Some(store.state_root())),
            Some(h) => store.state_root_at(h).map_err(internal),
        }
    }

    fn item(&self, item_id: &str) -> Result<Option<rpc::ItemView>, ApiError> {
        let store = &*self.node.store;
        // Read the height first: a commit landing during the reads makes the answer newer than
        // `height`, never older.
        let height = store.head().map_or(0, |h| h.height);
        let Some(item) = state::read_item(store, item_id).map_err(internal)? else {
            return Ok(None);
        };
        let pending_transfer = state::read_transfer(store, item_id).map_err(internal)?;
        let mut documents = Vec::with_capacity(item.document_count as usize);
        for i in 0..item.document_count {
            if let Some(d) = state::read_document(store, item_id, i).map_err(internal)? {
                documents.push(d);
            }
        }
        Ok(Some(rpc::ItemView {
            height,
            item,
            pending_transfer,
            documents,
        }))
    }

    fn item_history(
        &self,
        item_id: &str,
        from: u64,
        limit: usize,
    ) -> Result<rpc::HistoryPage, ApiError> {
        let entries = self
            .node
            .store
            .item_history(item_id, from, limit)
            .map_err(internal)?;
        Ok(page(entries, limit))
    }

    fn provenance(&self, item_id: &str, max_nodes: usize) -> Result<Option<Provenance>, ApiError> {
        provenance(&*self.node.store, item_id, max_nodes).map_err(internal)
    }

    fn organization(&self, id: &str) -> Result<Option<OrgRecord>, ApiError> {
        state::read_org(&*self.node.store, id).map_err(internal)
    }

    fn organizations(&self) -> Result<Vec<OrgRecord>, ApiError> {
        let store = &*self.node.store;
        let keys = store
            .state_keys_with_prefix(state::ORG_PREFIX, rpc::MAX_ORGANIZATIONS)
            .map_err(internal)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let id = String::from_utf8_lossy(&key[state::ORG_PREFIX.len()..]);
            if let Some(org) = state::read_org(store, &id).map_err(internal)? {
                out.push(org);
            }
        }
        Ok(out)
    }

    fn organization_events(
        &self,
        id: &str,
        from: u64,
        limit: usize,
    ) -> Result<rpc::HistoryPage, ApiError> {
        let entries = self
            .node
            .store
            .organization_events(id, from, limit)
            .map_err(internal)?;
        Ok(page(entries, limit))
    }

    fn account(&self, key: PublicKey) -> Result<Option<rpc::AccountView>, ApiError> {
        let store = &*self.node.store;
        let Some(account) = state::read_account(store, &key).map_err(internal)? else {
            return Ok(None);
        };
        Ok(Some(rpc::AccountView {
            key,
            account,
            next_sequence: NodeService::next_sequence(self, &key).map_err(ApiError::Internal)?,
        }))
    }

    async fn capture_epcis(
        &self,
        txs: Vec<SignedTransaction>,
        wait_ms: Option<u64>,
    ) -> Result<rpc::CaptureOutcome, ApiError> {
        NodeService::capture_epcis(self, txs, wait_ms).await
    }

    fn epcis_event(
        &self,
        id: ledger::epcis::EventHashId,
    ) -> Result<Option<rpc::EpcisEventView>, ApiError> {
        NodeService::epcis_event(self, id)
    }

    fn query_epcis(
        &self,
        filter: ledger::epcis::query::QueryFilter,
        from: u64,
        limit: usize,
    ) -> Result<serde_json::Value, ApiError> {
        NodeService::query_epcis(self, filter, from, limit)
    }

    fn transaction_proof(&self, hash: Hash) -> Result<Option<Proof>, ApiError> {
        let p = self
            .node
            .store
            .transaction_proof(&hash)
            .map_err(proof_error)?;
        Ok(p.map(Proof::Transaction))
    }

    fn item_proof(&self, item_id: &str, height: Option<u64>) -> Result<Proof, ApiError> {
        let p = self
            .node
            .store
            .item_state_proof(item_id, height)
            .map_err(proof_error)?;
        Ok(Proof::ItemState(p))
    }

    fn item_history_proof(&self, item_id: &str) -> Result<Proof, ApiError> {
        let p = self
            .node
            .store
            .item_history_proof(item_id)
            .map_err(proof_error)?;
        Ok(Proof::History(p))
    }

    fn epoch_changes(&self, from_epoch: u64) -> Result<Vec<ledger::proof::EpochChange>, ApiError> {
        self.node
            .store
            .epoch_changes(from_epoch)
            .map_err(proof_error)
    }

    fn snapshot_base(
        &self,
        height: Option<u64>,
    ) -> Result<Option<ledger::state_sync::SnapshotBase>, ApiError> {
        let store = &self.node.store;
        let height = match height {
            Some(h) => h,
            None => match store.certificate_for(None) {
                Ok(c) => c.checkpoint.height,
                Err(StoreError::NotCertified { .. }) => return Ok(None),
                Err(e) => return Err(proof_error(e)),
            },
        };
        store.snapshot_base(height).map_err(proof_error)
    }

    fn state_chunk(&self, node: ledger::Hash) -> Result<ledger::state_sync::StateChunk, ApiError> {
        self.node.store.state_chunk(&node).map_err(proof_error)
    }

    fn consistency_proof(&self, from: u64, to: Option<u64>) -> Result<Proof, ApiError> {
        let p = self
            .node
            .store
            .ledger_consistency_proof(from, to)
            .map_err(proof_error)?;
        Ok(Proof::Consistency(p))
    }
}

/// A height without a certificate yet is "not ready" (the client retries); a request that can
/// never be answered is invalid; anything else is the store's problem.
fn proof_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotCertified { .. } => ApiError::NotReady(e.to_string()),
        // (A store synced from a certified state holds nothing below its base: asking it for
        // older records can never be answered by this node.)
        StoreError::HeightsOutOfOrder { .. }
        | StoreError::HistoryTooLong { .. }
        | StoreError::LedgerIndexBeforeBase { .. }
        | StoreError::HistoryBeforeBase { .. } => ApiError::InvalidParams(e.to_string()),
        other => internal(other),
    }
}

/// A full page may have a successor; a short one is the end (as of this query).
fn page(entries: Vec<HistoryEntry>, limit: usize) -> rpc::HistoryPage {
    let full = entries.len() >= limit.min(ledger::storage::MAX_HISTORY_PAGE);
    rpc::HistoryPage {
        next_from: entries.last().filter(|_| full).map(|e| e.ledger_index + 1),
        entries,
    }
}
