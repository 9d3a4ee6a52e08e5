//! [`HistoryProof`]: events of one item, each a committed transaction with its receipt and
//! inclusion proof, all against one certified ledger.

use serde::{Deserialize, Serialize};

use crate::accumulator::InclusionProof;
use crate::genesis::Genesis;
use crate::receipt::{ExecStatus, Receipt};
use crate::supply::ItemRole;
use crate::tx::{Payload, SignedTransaction};

use super::certificate::LedgerCertificate;
use super::checks;
use super::report::{VerifyError, VerifyReport};

/// Most entries one history proof may carry (a bound on work for untrusted input).
pub const MAX_HISTORY_ENTRIES: usize = 10_000;

/// One event of an item's history: the transaction, its receipt and the inclusion proof of
/// their leaf at `ledger_index`, against the enclosing proof's certificate.
///
/// JSON: `{"transaction": {...}, "receipt": {...}, "ledger_index": 5, "inclusion_proof": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProofEntry {
    pub transaction: SignedTransaction,
    pub receipt: Receipt,
    pub ledger_index: u64,
    pub inclusion_proof: InclusionProof,
}

/// Events of `item_id` in strictly increasing ledger order.
///
/// What it shows: each entry is a committed, successful, correctly signed transaction of this
/// chain that names the item. What it does **not** show: that the list is complete. No certified
/// root commits to an item's events, so a node can leave events out; the verifier says so in
/// the `entries` check. (Closing this needs the item's state record to commit to its event
/// count or an event hash chain, a change of the state machine.) Each entry's transaction succeeded
/// and names the item in its payload (subject, container, child, input or output). Events in
/// which the item only moved as the contents of a transferred container do not name it and
/// cannot be shown from the transaction: they belong to the container's history.
///
/// JSON: `{"certificate": {...}, "item_id": "pallet-1", "entries": [{...}, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProof {
    pub certificate: LedgerCertificate,
    pub item_id: String,
    pub entries: Vec<HistoryProofEntry>,
}

impl HistoryProof {
    /// Every check, in order: the certificate, the entries' count and order, each entry's
    /// binding, item and Merkle path, then each transaction's signature.
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let mut report = VerifyReport::new("history");
        checks::certificate(&mut report, "certificate", &self.certificate, genesis);
        let count = self.entries.len();
        let count_ok = match count {
            0 => Err(VerifyError::NoEntries),
            n if n > MAX_HISTORY_ENTRIES => Err(VerifyError::TooManyEntries {
                count: n,
                max: MAX_HISTORY_ENTRIES,
            }),
            n => Ok(format!(
                "{n} entries for item {:?}; each is checked below, that no other event exists is not shown (no certified root commits to an item's events)",
                self.item_id
            )),
        };
        let bounded = count_ok.is_ok();
        report.record("entries", count_ok);
        if !bounded {
            // Too many entries is refused without doing the work; none is nothing to check.
            return report;
        }
        report.record("entries.order", self.order());
        let checkpoint = &self.certificate.checkpoint;
        for (i, e) in self.entries.iter().enumerate() {
            let prefix = format!("entry[{i}].");
            checks::inclusion(
                &mut report,
                &prefix,
                &e.transaction,
                &e.receipt,
                e.ledger_index,
                &e.inclusion_proof,
                checkpoint,
            );
            report.record(format!("{prefix}receipt.status"), e.succeeded());
            report.record(format!("{prefix}item"), e.names(&self.item_id));
        }
        for (i, e) in self.entries.iter().enumerate() {
            checks::signature(
                &mut report,
                &format!("entry[{i}]."),
                &e.transaction,
                genesis,
            );
        }
        report
    }

    /// Strictly increasing ledger indexes: no entry twice, none out of place.
    fn order(&self) -> Result<String, VerifyError> {
        for pair in self.entries.windows(2) {
            let (previous, found) = (pair[0].ledger_index, pair[1].ledger_index);
            if found <= previous {
                return Err(VerifyError::EntriesOutOfOrder { previous, found });
            }
        }
        Ok("ledger indexes strictly increase".into())
    }
}

impl HistoryProofEntry {
    /// Only successful transactions are events (a failed one changed nothing).
    fn succeeded(&self) -> Result<String, VerifyError> {
        match &self.receipt.status {
            ExecStatus::Success => Ok("success".into()),
            ExecStatus::Failed { code, .. } => Err(VerifyError::FailedTransaction {
                ledger_index: self.ledger_index,
                code: code.clone(),
            }),
        }
    }

    /// The transaction's payload names `item_id` (else it is another item's event).
    fn names(&self, item_id: &str) -> Result<String, VerifyError> {
        let payload = &self.transaction.tx.payload;
        let roles: Vec<&str> = items_named(payload)
            .into_iter()
            .filter(|(id, _)| *id == item_id)
            .map(|(_, role)| role_name(role))
            .collect();
        if roles.is_empty() {
            return Err(VerifyError::ItemNotNamed {
                item_id: item_id.to_string(),
                ledger_index: self.ledger_index,
                payload_kind: payload.kind(),
            });
        }
        Ok(format!(
            "{} names item {item_id:?} as {}",
            payload.kind(),
            roles.join(", ")
        ))
    }
}

/// The items a payload names, with the role each plays, in payload order: the subject of
/// commission, observe, the transfer actions, attach_document and decommission; the container
/// and children of aggregate and disaggregate; the inputs and outputs of transform. Account
/// actions and memos name none. (The contents of a transferred container move too, but the
/// payload does not name them.)
pub fn items_named(payload: &Payload) -> Vec<(&str, ItemRole)> {
    match payload {
        Payload::Memo { .. }
        | Payload::AddAccount(_)
        | Payload::RemoveAccount(_)
        | Payload::SetAccountRoles(_) => vec![],
        Payload::Commission(a) => vec![(a.item_id.as_str(), ItemRole::Subject)],
        Payload::Observe(a) => vec![(a.item_id.as_str(), ItemRole::Subject)],
        Payload::ProposeTransfer(a) => vec![(a.item_id.as_str(), ItemRole::Subject)],
        Payload::AcceptTransfer(a) | Payload::RejectTransfer(a) | Payload::CancelTransfer(a) => {
            vec![(a.item_id.as_str(), ItemRole::Subject)]
        }
        Payload::Aggregate(a) | Payload::Disaggregate(a) => {
            std::iter::once((a.container_id.as_str(), ItemRole::Container))
                .chain(a.children.iter().map(|c| (c.as_str(), ItemRole::Child)))
                .collect()
        }
        Payload::Transform(a) => a
            .inputs
            .iter()
            .map(|i| (i.as_str(), ItemRole::Input))
            .chain(
                a.outputs
                    .iter()
                    .map(|o| (o.item_id.as_str(), ItemRole::Output)),
            )
            .collect(),
        Payload::AttachDocument(a) => vec![(a.item_id.as_str(), ItemRole::Subject)],
        Payload::Decommission(a) => vec![(a.item_id.as_str(), ItemRole::Subject)],
    }
}

fn role_name(role: ItemRole) -> &'static str {
    match role {
        ItemRole::Subject => "subject",
        ItemRole::Container => "container",
        ItemRole::Child => "child",
        ItemRole::Contents => "contents",
        ItemRole::Input => "input",
        ItemRole::Output => "output",
    }
}
