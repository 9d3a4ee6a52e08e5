//! [`Proof`]: the file format of `waybill audit verify --genesis FILE PROOF.json`, one JSON
//! object tagged by `"kind"`.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::genesis::Genesis;
use crate::strict_json::{self, StrictJsonError};

use super::consistency::LedgerConsistencyProof;
use super::epochs::{follow, EpochChange, EpochTrust};
use super::history::HistoryProof;
use super::report::VerifyError;
use super::report::VerifyReport;
use super::state::ItemStateProof;
use super::transaction::TransactionProof;

/// Largest proof file accepted, in bytes (a history of many large transactions fits).
pub const MAX_PROOF_JSON_BYTES: usize = 64 * 1024 * 1024;

/// Any proof. JSON: the variant's own object with `"kind"` added: `"transaction"`,
/// `"item_state"`, `"history"` or `"consistency"`.
///
/// Deserialisation is written by hand: serde's internally tagged enums buffer the object before
/// picking the variant, and a transaction's JSON values are `RawValue`s (kept byte-exact, as
/// their signatures need), which cannot be read back from that buffer: every proof holding a
/// transaction with a JSON property failed to parse.
// A proof is built or read one at a time (a file, an RPC answer), so the size of its largest
// variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Proof {
    Transaction(TransactionProof),
    ItemState(ItemStateProof),
    History(HistoryProof),
    Consistency(LedgerConsistencyProof),
}

/// Why a proof file could not be read (before any verification).
#[derive(Debug, thiserror::Error)]
pub enum ProofDecodeError {
    #[error("proof of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("proof is not a JSON object with a string member \"kind\"")]
    NoKind,
    #[error("proof kind {found:?} is none of transaction, item_state, history, consistency")]
    UnknownKind { found: String },
    #[error("proof is refused at {0}")]
    Invalid(#[from] StrictJsonError),
}

impl<'de> Deserialize<'de> for Proof {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The object's members as raw text: nothing is re-interpreted.
        let mut members = BTreeMap::<String, Box<RawValue>>::deserialize(d)?;
        let kind = members
            .remove("kind")
            .ok_or_else(|| D::Error::missing_field("kind"))?;
        let kind: String = serde_json::from_str(kind.get()).map_err(D::Error::custom)?;
        // The variant's own object: the same members without the tag.
        let body = serde_json::to_string(&members).map_err(D::Error::custom)?;
        let parsed = match kind.as_str() {
            "transaction" => serde_json::from_str(&body).map(Proof::Transaction),
            "item_state" => serde_json::from_str(&body).map(Proof::ItemState),
            "history" => serde_json::from_str(&body).map(Proof::History),
            "consistency" => serde_json::from_str(&body).map(Proof::Consistency),
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["transaction", "item_state", "history", "consistency"],
                ))
            }
        };
        parsed.map_err(D::Error::custom)
    }
}

impl Proof {
    /// The `"kind"` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Proof::Transaction(_) => "transaction",
            Proof::ItemState(_) => "item_state",
            Proof::History(_) => "history",
            Proof::Consistency(_) => "consistency",
        }
    }

    /// Parses a proof file strictly ([`crate::strict_json`]: no member twice, no unknown
    /// member, lower-case hex only, every error naming its JSON path), refusing oversized input
    /// before parsing.
    pub fn from_json(text: &str) -> Result<Proof, ProofDecodeError> {
        if text.len() > MAX_PROOF_JSON_BYTES {
            return Err(ProofDecodeError::TooLarge {
                len: text.len(),
                max: MAX_PROOF_JSON_BYTES,
            });
        }
        strict_json::check_no_duplicates(text)?;
        let mut members: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(text).map_err(|_| ProofDecodeError::NoKind)?;
        let kind: String = members
            .remove("kind")
            .and_then(|k| serde_json::from_str(k.get()).ok())
            .ok_or(ProofDecodeError::NoKind)?;
        // The variant's own object, the same members but the tag: paths in errors stay right.
        let body = serde_json::to_string(&members).map_err(|_| ProofDecodeError::NoKind)?;
        Ok(match kind.as_str() {
            "transaction" => Proof::Transaction(strict_json::from_str(&body)?),
            "item_state" => Proof::ItemState(strict_json::from_str(&body)?),
            "history" => Proof::History(strict_json::from_str(&body)?),
            "consistency" => Proof::Consistency(strict_json::from_str(&body)?),
            _ => return Err(ProofDecodeError::UnknownKind { found: kind }),
        })
    }

    /// Pretty JSON, as `waybill audit` writes proof files.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("proofs always serialise to JSON")
    }

    /// Verifies against the genesis file alone: every certificate must be signed by the
    /// genesis validators (epoch 0). The proof holds only if [`VerifyReport::is_ok`].
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        self.verify_in(&EpochTrust::genesis(genesis))
    }

    /// Verifies with the sets a chain of epoch changes proved from genesis (see
    /// [`super::epochs`]): each certificate against the set of its height's epoch.
    pub fn verify_in(&self, trust: &EpochTrust) -> VerifyReport {
        let view = |height: u64| &trust.for_height(height).view;
        match self {
            Proof::Transaction(p) => p.verify(view(p.certificate.checkpoint.height)),
            Proof::ItemState(p) => p.verify(view(p.certificate.checkpoint.height)),
            Proof::History(p) => p.verify(view(p.certificate.checkpoint.height)),
            Proof::Consistency(p) => p.verify_views(
                view(p.older.checkpoint.height),
                view(p.newer.checkpoint.height),
            ),
        }
    }
}

/// A proof file: the proof and, when its certificates are of a later epoch than genesis's,
/// the epoch changes since genesis that name their signers. JSON: the proof's object, with an
/// `"epoch_changes"` member (a list of [`EpochChange`]) when there are any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    pub proof: Proof,
    pub epoch_changes: Vec<EpochChange>,
}

impl ProofFile {
    /// Parses strictly, as [`Proof::from_json`]; `"epoch_changes"` is optional.
    pub fn from_json(text: &str) -> Result<ProofFile, ProofDecodeError> {
        if text.len() > MAX_PROOF_JSON_BYTES {
            return Err(ProofDecodeError::TooLarge {
                len: text.len(),
                max: MAX_PROOF_JSON_BYTES,
            });
        }
        strict_json::check_no_duplicates(text)?;
        let mut members: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(text).map_err(|_| ProofDecodeError::NoKind)?;
        let epoch_changes = match members.remove("epoch_changes") {
            Some(raw) => strict_json::from_str(raw.get())?,
            None => Vec::new(),
        };
        let rest = serde_json::to_string(&members).map_err(|_| ProofDecodeError::NoKind)?;
        Ok(ProofFile {
            proof: Proof::from_json(&rest)?,
            epoch_changes,
        })
    }

    /// Pretty JSON, as `waybill audit` writes proof files.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(&self.proof).expect("proofs serialise to JSON");
        if !self.epoch_changes.is_empty() {
            let changes =
                serde_json::to_value(&self.epoch_changes).expect("epoch changes serialise");
            if let Some(object) = value.as_object_mut() {
                object.insert("epoch_changes".into(), changes);
            }
        }
        serde_json::to_string_pretty(&value).expect("JSON values serialise")
    }

    /// Follows the epoch changes from genesis, then verifies the proof with the sets they
    /// prove. The report's last check, `epoch_changes`, names what the chain proved, or why it
    /// does not hold (the proof is then checked with the sets before the failing change).
    pub fn verify(&self, genesis: &Genesis) -> VerifyReport {
        let (trust, outcome) = match follow(genesis, &self.epoch_changes) {
            Ok(trust) => {
                let last = trust.last();
                let detail = format!(
                    "{} epoch changes followed from genesis: epoch {} ({} validators) certifies heights from {} on",
                    self.epoch_changes.len(),
                    last.set.epoch,
                    last.set.validators.len(),
                    last.first_height
                );
                (trust, Ok(detail))
            }
            Err(e) => (EpochTrust::genesis(genesis), Err(VerifyError::from(e))),
        };
        let mut report = self.proof.verify_in(&trust);
        report.record("epoch_changes", outcome);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        include_str!("../../../docs/proofs/transaction.json").to_string()
    }

    #[test]
    fn proofs_parse_alone_and_inside_a_document() {
        let text = example();
        let proof = Proof::from_json(&text).expect("parses");
        assert_eq!(proof.kind(), "transaction");
        assert_eq!(Proof::from_json(&proof.to_json()).unwrap(), proof);
        // As a JSON-RPC client receives it: a member of a larger object.
        #[derive(Deserialize)]
        struct Response {
            result: Proof,
        }
        let response: Response =
            serde_json::from_str(&format!(r#"{{"jsonrpc":"2.0","id":1,"result":{text}}}"#))
                .expect("parses inside a response");
        assert_eq!(response.result, proof);
    }

    #[test]
    fn unknown_or_missing_kinds_and_non_objects_are_refused() {
        let text = example();
        let other = text.replacen(r#""kind": "transaction""#, r#""kind": "nonsense""#, 1);
        assert_ne!(text, other);
        assert!(Proof::from_json(&other).is_err());
        let missing = text.replacen(r#""kind": "transaction","#, "", 1);
        assert_ne!(text, missing);
        assert!(Proof::from_json(&missing).is_err());
        assert!(Proof::from_json("[]").is_err());
        assert!(Proof::from_json("").is_err());
    }
}
