//! [`HistoryProof`]: every event of one item, each a committed transaction with its receipt
//! and inclusion proof, and the item's certified state value, whose history head fixes how many
//! events there are and which, all against one certified ledger.

use serde::{Deserialize, Serialize};

use crate::accumulator::InclusionProof;
use crate::genesis::Genesis;
use crate::receipt::{ExecStatus, Receipt};
use crate::smt::SmtProof;
use crate::supply::state::item_key;
use crate::supply::{HistoryHead, ItemRole};
use crate::tx::{Payload, SignedTransaction};

use super::certificate::LedgerCertificate;
use super::checks;
use super::report::{VerifyError, VerifyReport};

/// Most entries one history proof may carry (a bound on work for untrusted input). A proof
/// always carries an item's *whole* history as of its certificate (the chain is checked from
/// its start), so an item with more events than this cannot be proven in one proof.
pub const MAX_HISTORY_ENTRIES: usize = 10_000;

/// One event of an item's history: the transaction, its receipt and the inclusion proof of
/// their leaf at `ledger_index`, against the enclosing proof's certificate.
///
/// JSON: `{"transaction": {...}, "receipt": {...}, "ledger_index": 5, "inclusion_proof": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProofEntry {
    #[serde(with = "super::attested")]
    pub transaction: SignedTransaction,
    #[serde(with = "super::attested")]
    pub receipt: Receipt,
    pub ledger_index: u64,
    pub inclusion_proof: InclusionProof,
}

/// The item's state value (`item/<id>`) at the certificate's height, or `None` for an item that
/// does not exist, with its sparse Merkle tree proof to the certified state root.
///
/// JSON: `{"value": "<hex>" | null, "smt_proof": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryItemState {
    #[serde(with = "crate::encoding_helpers::opt_hex_bytes")]
    pub value: Option<Vec<u8>>,
    pub smt_proof: SmtProof,
}

/// The whole history of `item_id` as of the certificate's height, in strictly increasing
/// ledger order.
///
/// What it shows: each entry is a committed, successful, correctly signed transaction of this
/// chain about the item, and the entries are *all* of the item's events, in order. The item's
/// certified state value ends with its [`HistoryHead`] (the number of events and a hash chain
/// over their transaction hashes, kept by execution); the verifier recomputes the chain over the
/// entries and requires both to equal the certified head, so an event left out, added, repeated,
/// reordered or replaced fails. An item that does not exist (absence proven under the certified
/// root; items are never deleted) has no events, and its proof has no entries.
///
/// Events are the item's entries in the history index: every successful transaction whose event
/// lists the item, in any role. That includes accepted transfers of a container the item was
/// inside at any depth (role `contents`): such a transaction does not name the item in its
/// payload, and only the certified chain shows that it is the item's event.
///
/// JSON: `{"certificate": {...}, "item_id": "pallet-1", "item_state": {...}, "entries": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryProof {
    #[serde(with = "super::attested::certificate")]
    pub certificate: LedgerCertificate,
    pub item_id: String,
    pub item_state: HistoryItemState,
    pub entries: Vec<HistoryProofEntry>,
}

impl HistoryProof {
    /// Every check, in order: the certificate, the entries' count and order, the item's state
    /// value and its Merkle path, each entry's binding, item and Merkle path, the history's
    /// length and chain against the certified head, then each transaction's signature.
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let mut report = VerifyReport::new("history");
        checks::certificate(&mut report, "certificate", &self.certificate, genesis);
        let count = self.entries.len();
        let count_ok = if count > MAX_HISTORY_ENTRIES {
            Err(VerifyError::TooManyEntries {
                count,
                max: MAX_HISTORY_ENTRIES,
            })
        } else {
            Ok(format!(
                "{count} entries for item {:?}, checked below against its certified history head",
                self.item_id
            ))
        };
        let bounded = count_ok.is_ok();
        report.record("entries", count_ok);
        if !bounded {
            // Too many entries is refused without doing the work.
            return report;
        }
        report.record("entries.order", self.order());
        // The head the item's value certifies (absent item: the empty history); without a
        // decodable value there is none, and the two history checks below fail.
        let (value_check, certified) = match self.certified_head() {
            Ok(Some(h)) => (
                Ok(format!(
                    "item {:?} has {} events with history digest {}",
                    self.item_id, h.len, h.digest
                )),
                Some(h),
            ),
            Ok(None) => (
                Ok(format!(
                    "claims item {:?} is absent, so it has no events",
                    self.item_id
                )),
                Some(HistoryHead::EMPTY),
            ),
            Err(e) => (Err(e), None),
        };
        report.record("item_state.value", value_check);
        report.record("item_state.smt_proof", self.state_path());
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
        let (len, chain) = match &certified {
            Some(h) => (self.length_agrees(h), self.chain_agrees(h)),
            None => (Err(self.no_head()), Err(self.no_head())),
        };
        report.record("history_len", len);
        report.record("history_digest", chain);
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

    /// The history head the item's state value certifies (`None`: the item is absent). Only
    /// the value's bytes are read here; that they are under the certified root is
    /// `item_state.smt_proof`.
    pub fn certified_head(&self) -> Result<Option<HistoryHead>, VerifyError> {
        let Some(bytes) = &self.item_state.value else {
            return Ok(None);
        };
        Ok(Some(
            super::state::decode_item_state(&self.item_id, bytes)?.history,
        ))
    }

    /// Whether the entries are the history the item's state value certifies (same count, same
    /// chain), for builders that must not hand out a proof that cannot verify; `Err` says how
    /// they differ. The value's Merkle path is not checked here.
    pub fn history_matches(&self) -> Result<(), String> {
        let certified = self
            .certified_head()
            .map_err(|e| e.to_string())?
            .unwrap_or(HistoryHead::EMPTY);
        let found = self.entries_head();
        if found != Some(certified) {
            return Err(format!(
                "{} events chaining to {}, the state certifies {} events chaining to {}",
                self.entries.len(),
                found.map_or_else(|| "(overflow)".to_string(), |h| h.digest.to_hex()),
                certified.len,
                certified.digest
            ));
        }
        Ok(())
    }

    /// The head the entries chain to, from the empty history, over their transactions' hashes.
    pub fn entries_head(&self) -> Option<HistoryHead> {
        let hashes: Vec<_> = self.entries.iter().map(|e| e.transaction.hash()).collect();
        HistoryHead::of(&hashes)
    }

    /// Presence of the value (or absence) under the item's key, derived here from `item_id`,
    /// against the certified state root.
    fn state_path(&self) -> Result<String, VerifyError> {
        let root = &self.certificate.checkpoint.state_root;
        let key = item_key(&self.item_id);
        match &self.item_state.value {
            Some(value) => self
                .item_state
                .smt_proof
                .verify_presence(root, &key, value)
                .map(|()| {
                    format!(
                        "item {:?} holds this value under state root {root}",
                        self.item_id
                    )
                }),
            None => self
                .item_state
                .smt_proof
                .verify_absence(root, &key)
                .map(|()| format!("item {:?} is absent under state root {root}", self.item_id)),
        }
        .map_err(VerifyError::from)
    }

    fn length_agrees(&self, certified: &HistoryHead) -> Result<String, VerifyError> {
        let entries = self.entries.len() as u64;
        if entries == certified.len {
            Ok(format!(
                "{entries} entries, as many events as the certified state counts"
            ))
        } else {
            Err(VerifyError::HistoryLengthMismatch {
                item_id: self.item_id.clone(),
                entries,
                certified: certified.len,
            })
        }
    }

    fn chain_agrees(&self, certified: &HistoryHead) -> Result<String, VerifyError> {
        match self.entries_head() {
            Some(h) if h.digest == certified.digest => Ok(format!(
                "the entries' transactions chain to the certified history digest {}",
                certified.digest
            )),
            found => Err(VerifyError::HistoryDigestMismatch {
                item_id: self.item_id.clone(),
                computed: found.map_or(certified.digest, |h| h.digest),
                certified: certified.digest,
            }),
        }
    }

    fn no_head(&self) -> VerifyError {
        VerifyError::NoCertifiedHistory {
            item_id: self.item_id.clone(),
        }
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

    /// The transaction's payload names `item_id`, or is an accepted transfer (which moves the
    /// contents of the transferred item without naming them); else it is no event of the item.
    /// For the latter, that the item was inside is shown only by the certified chain
    /// (`history_digest`), which every proof must also pass.
    fn names(&self, item_id: &str) -> Result<String, VerifyError> {
        let payload = &self.transaction.tx.payload;
        let roles: Vec<&str> = items_named(payload)
            .into_iter()
            .filter(|(id, _)| *id == item_id)
            .map(|(_, role)| role_name(role))
            .collect();
        if roles.is_empty() {
            if let Payload::AcceptTransfer(a) = payload {
                return Ok(format!(
                    "accept_transfer of {:?}: item {item_id:?} moved with it as contents (shown by the certified history chain, not by the payload)",
                    a.item_id
                ));
            }
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
/// payload does not name them: see [`HistoryProof`].)
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
        Payload::ProposeChange(_) | Payload::ApproveChange(_) => vec![],
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
