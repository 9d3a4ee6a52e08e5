//! The node's EPCIS 2.0 methods (docs/EPCIS.md): capturing a document's events with a verdict
//! per event, finding an event by its hash ID, and querying captured events as EPCIS query
//! documents. Every rule is the ledger's (`ledger::epcis`, execution); this is reading the
//! store and the mempool's answers.

use std::time::{Duration, Instant};

use ledger::epcis::capture::{EpcisCapture, Plan, PlanError};
use ledger::epcis::query::{query_document, QueryFilter, StoredEvent};
use ledger::epcis::EventHashId;
use ledger::execute::{execute_block, next_sequence, sequence_key, Overlay, StateDelta};
use ledger::receipt::ExecStatus;
use ledger::storage::Store;
use ledger::supply::codes;
use ledger::supply::state::read_epcis;
use ledger::tx::{Payload, TxError};
use ledger::{Hash, SignedTransaction};
use rpc::{ApiError, CaptureOutcome, EpcisEventView, EpcisStatus, EpcisVerdict};

use crate::api::{reject_reason, NodeService, Submitted, MAX_WAIT_MS};

/// Most candidate events one query page looks at (a selective filter over a long ledger
/// answers a short page with `waybill:nextFrom` rather than scanning it all).
const MAX_QUERY_SCAN: usize = 10_000;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The stable code of a check a capture fails before submission.
fn envelope_code(e: &TxError) -> &'static str {
    match e {
        TxError::WrongChain { .. } => "wrong_chain",
        TxError::Signature(_) => "bad_signature",
        _ => codes::INVALID_PAYLOAD,
    }
}

fn plan_code(e: &PlanError) -> &'static str {
    match e {
        PlanError::Invalid(_) => codes::INVALID_EPCIS_EVENT,
        PlanError::Unsupported(_) => codes::UNSUPPORTED_EPCIS_EVENT,
        PlanError::UnknownParty(_) => codes::UNKNOWN_PARTY,
    }
}

fn capture_of(tx: &SignedTransaction) -> Option<&EpcisCapture> {
    match &tx.tx.payload {
        Payload::CaptureEpcis(c) => Some(c),
        _ => None,
    }
}

fn outcome(events: Vec<EpcisVerdict>) -> CaptureOutcome {
    let captured = events
        .iter()
        .filter(|v| v.status == EpcisStatus::Committed)
        .count();
    CaptureOutcome {
        complete: captured == events.len(),
        captured,
        events,
    }
}

impl NodeService {
    pub async fn capture_epcis(
        &self,
        txs: Vec<SignedTransaction>,
        wait_ms: Option<u64>,
    ) -> Result<CaptureOutcome, ApiError> {
        let chain_id = self.node.genesis.chain_id.clone();
        let mut verdicts: Vec<EpcisVerdict> = txs
            .iter()
            .enumerate()
            .map(|(index, t)| EpcisVerdict {
                index,
                hash_id: None,
                tx_hash: t.hash(),
                status: EpcisStatus::NotSubmitted,
                code: None,
                message: None,
                ledger_index: None,
            })
            .collect();
        let refuse = |v: &mut EpcisVerdict, code: &str, message: String| {
            v.status = EpcisStatus::Refused;
            v.code = Some(code.to_string());
            v.message = Some(message);
        };
        let any_refused =
            |verdicts: &[EpcisVerdict]| verdicts.iter().any(|v| v.status == EpcisStatus::Refused);
        // Each event on its own: a capture, signed for this chain, readable as EPCIS.
        for (tx, v) in txs.iter().zip(verdicts.iter_mut()) {
            let Some(capture) = capture_of(tx) else {
                refuse(
                    v,
                    codes::INVALID_PAYLOAD,
                    format!("a {} transaction, not capture_epcis", tx.tx.payload.kind()),
                );
                continue;
            };
            if let Err(e) = tx.verify(&chain_id) {
                refuse(v, envelope_code(&e), e.to_string());
                continue;
            }
            match capture.plan() {
                Ok(plan) => v.hash_id = Some(plan.hash_id),
                Err(e) => refuse(v, plan_code(&e), e.to_string()),
            }
        }
        // All of them together, as execution would apply them now: a dry run on the head state.
        // An account with transactions still pending in the mempool starts at this document's
        // first sequence number (the pending ones' effects are not seen).
        if !any_refused(&verdicts) {
            let store: &Store = &self.node.store;
            let mut delta = StateDelta::new();
            let mut seen = std::collections::BTreeSet::new();
            for tx in &txs {
                // Each signer's first transaction here is where its sequence starts.
                if !seen.insert(tx.tx.signer) {
                    continue;
                }
                let committed = next_sequence(store, &tx.tx.signer).map_err(internal)?;
                if tx.tx.sequence > committed {
                    delta.insert(
                        sequence_key(&tx.tx.signer),
                        Some(tx.tx.sequence.to_be_bytes().to_vec()),
                    );
                }
            }
            let view = Overlay::new(store, &delta);
            let run = execute_block(&chain_id, &txs, &view).map_err(internal)?;
            for (status, v) in run.statuses.iter().zip(verdicts.iter_mut()) {
                if let ExecStatus::Failed { code, message } = status {
                    refuse(v, code, format!("dry run on the current state: {message}"));
                }
            }
        }
        if any_refused(&verdicts) {
            return Ok(outcome(verdicts));
        }
        let answers = self.submit_all(txs).await;
        for (answer, v) in answers.into_iter().zip(verdicts.iter_mut()) {
            match answer {
                Submitted::Admitted(_) => v.status = EpcisStatus::Pending,
                Submitted::Rejected(e) => {
                    v.status = EpcisStatus::Rejected;
                    v.code = Some(reject_reason(&e).to_string());
                    v.message = Some(e.to_string());
                }
                Submitted::Unavailable => {
                    v.status = EpcisStatus::Rejected;
                    v.code = Some("unavailable".into());
                    v.message = Some("the node is stopping".into());
                }
            }
        }
        if let Some(ms) = wait_ms {
            let deadline = Instant::now() + Duration::from_millis(ms.min(MAX_WAIT_MS));
            for v in verdicts
                .iter_mut()
                .filter(|v| v.status == EpcisStatus::Pending)
            {
                let left = deadline.saturating_duration_since(Instant::now());
                let Some(receipt) = self.wait_commit(v.tx_hash, left.as_millis() as u64).await
                else {
                    continue;
                };
                v.ledger_index = Some(receipt.ledger_index);
                match receipt.status {
                    ExecStatus::Success => v.status = EpcisStatus::Committed,
                    ExecStatus::Failed { code, message } => {
                        v.status = EpcisStatus::Failed;
                        v.code = Some(code);
                        v.message = Some(message);
                    }
                }
            }
        }
        Ok(outcome(verdicts))
    }

    /// The captured event of the committed transaction `tx_hash`, if it is one.
    fn stored_event(&self, tx_hash: &Hash) -> Result<Option<(StoredEvent, Plan)>, ApiError> {
        let store = &self.node.store;
        let Some(committed) = store.transaction(tx_hash).map_err(internal)? else {
            return Ok(None);
        };
        let Some(capture) = capture_of(&committed.tx) else {
            return Ok(None);
        };
        if committed.receipt.status != ExecStatus::Success {
            return Ok(None);
        }
        let plan = capture
            .plan()
            .map_err(|e| internal(format!("committed event {tx_hash} no longer reads: {e}")))?;
        let record = read_epcis(&**store, &plan.hash_id).map_err(internal)?;
        let block = store
            .block_by_height(committed.location.height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {} missing", committed.location.height)))?;
        let parse = |v: &ledger::supply::JsonValue| {
            serde_json::from_str(&v.to_json_text()).map_err(internal)
        };
        let event = StoredEvent {
            ledger_index: committed.location.ledger_index,
            height: committed.location.height,
            tx_hash: *tx_hash,
            block_time_ms: block.block.header.timestamp_ms,
            hash_id: plan.hash_id,
            organization: record
                .as_ref()
                .map(|r| r.organization.clone())
                .unwrap_or_default(),
            declared_erroneous: if plan.error_declaration {
                None
            } else {
                record.as_ref().and_then(|r| r.declared_erroneous)
            },
            error_declaration: plan.error_declaration,
            context: parse(&capture.context)?,
            event: parse(&capture.event)?,
        };
        Ok(Some((event, plan)))
    }

    pub fn epcis_event(&self, id: EventHashId) -> Result<Option<EpcisEventView>, ApiError> {
        let Some(record) = read_epcis(&*self.node.store, &id).map_err(internal)? else {
            return Ok(None);
        };
        let Some((event, _)) = self.stored_event(&record.tx_hash)? else {
            return Err(internal(format!(
                "event {id} is recorded as captured by {}, which is no capture",
                record.tx_hash
            )));
        };
        Ok(Some(EpcisEventView {
            hash_id: id,
            ledger_index: event.ledger_index,
            height: event.height,
            document: query_document(std::slice::from_ref(&event), None, now_ms()),
            record,
        }))
    }

    pub fn query_epcis(
        &self,
        filter: QueryFilter,
        from: u64,
        limit: usize,
    ) -> Result<serde_json::Value, ApiError> {
        let matcher = filter
            .matcher()
            .map_err(|e| ApiError::InvalidParams(format!("filter: {e}")))?;
        let store = &self.node.store;
        let mut found = Vec::new();
        let mut scanned = 0usize;
        let mut cursor = from;
        let mut more = false;
        'scan: loop {
            // Candidates in ledger order: the item's history when an item is asked for, every
            // captured event otherwise.
            let batch: Vec<(u64, Option<Hash>)> = match &matcher.item {
                Some(item) => store
                    .item_history(item, cursor, 1_000)
                    .map_err(internal)?
                    .into_iter()
                    .map(|e| (e.ledger_index, Some(e.tx_hash)))
                    .collect(),
                None => store
                    .epcis_events(cursor, 1_000)
                    .map_err(internal)?
                    .into_iter()
                    .map(|(i, _)| (i, None))
                    .collect(),
            };
            if batch.is_empty() {
                break;
            }
            for (ledger_index, tx_hash) in batch {
                if found.len() >= limit || scanned >= MAX_QUERY_SCAN {
                    // This candidate is where the next page starts.
                    more = true;
                    cursor = ledger_index;
                    break 'scan;
                }
                scanned += 1;
                cursor = ledger_index + 1;
                let tx_hash = match tx_hash {
                    Some(h) => h,
                    None => match store.receipt(ledger_index).map_err(internal)? {
                        Some(r) => r.tx_hash,
                        None => continue,
                    },
                };
                if let Some((event, plan)) = self.stored_event(&tx_hash)? {
                    if matcher.matches(&plan, &event.organization) {
                        found.push(event);
                    }
                }
            }
        }
        Ok(query_document(&found, more.then_some(cursor), now_ms()))
    }
}

fn now_ms() -> u64 {
    crate::driver::now_ms()
}
