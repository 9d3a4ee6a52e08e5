//! The supply-chain records in state, their keys and their encodings.
//!
//! | key                                   | value                 |
//! |---------------------------------------|-----------------------|
//! | `org/` + organization id (UTF-8)      | [`OrgRecord`]         |
//! | `acct/` + public key (32 raw bytes)   | [`AccountRecord`]     |
//! | `item/` + item id (UTF-8)             | [`ItemState`]: [`ItemRecord`] then [`HistoryHead`] |
//! | `xfer/` + item id (UTF-8)             | [`PendingTransfer`]   |
//! | `doc/` + item id + `0x00` + u32 BE n  | [`DocumentRecord`]    |
//! | `epcis/` + event hash ID (32 bytes)   | [`EpcisRecord`]       |
//!
//! (`seq/` + public key, a u64 BE, is the envelope's sequence number: [`crate::execute`].)
//! Values are plain canonical BCS of the record (no domain tag). Each record type also has a
//! [`Canonical`] domain, for anyone who hashes or signs a record on its own. Item and
//! organization ids never contain `0x00`, so `doc/<id>\0` is an exact prefix of one item's
//! documents.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::json::JsonValue;
use super::payload::{HashAlgorithm, TransferKind};
use crate::crypto::PublicKey;
use crate::encoding::{digest, from_canonical, to_canonical, Canonical};
use crate::execute::{ExecError, StateDelta, StateReader, MAX_STATE_VALUE_BYTES};
use crate::hash::Hash;

pub const ORG_PREFIX: &[u8] = b"org/";
pub const ACCOUNT_PREFIX: &[u8] = b"acct/";
pub const ITEM_PREFIX: &[u8] = b"item/";
pub const TRANSFER_PREFIX: &[u8] = b"xfer/";
pub const DOCUMENT_PREFIX: &[u8] = b"doc/";
pub const EPCIS_PREFIX: &[u8] = b"epcis/";

fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(rest);
    k
}

pub fn org_key(id: &str) -> Vec<u8> {
    key(ORG_PREFIX, id.as_bytes())
}

pub fn account_key(k: &PublicKey) -> Vec<u8> {
    key(ACCOUNT_PREFIX, &k.0)
}

pub fn item_key(id: &str) -> Vec<u8> {
    key(ITEM_PREFIX, id.as_bytes())
}

pub fn transfer_key(item_id: &str) -> Vec<u8> {
    key(TRANSFER_PREFIX, item_id.as_bytes())
}

/// Prefix of every document key of one item.
pub fn document_prefix(item_id: &str) -> Vec<u8> {
    let mut k = key(DOCUMENT_PREFIX, item_id.as_bytes());
    k.push(0);
    k
}

pub fn document_key(item_id: &str, index: u32) -> Vec<u8> {
    let mut k = document_prefix(item_id);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The state key of a captured EPCIS event, by its hash ID.
pub fn epcis_key(id: &crate::epcis::EventHashId) -> Vec<u8> {
    key(EPCIS_PREFIX, &id.0)
}

/// A captured EPCIS event, found by its CBV 2.0 hash ID. In the certified state, so that an
/// auditor can be shown which transaction captured an event and whether it was declared
/// erroneous, or that no event with that ID was ever captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisRecord {
    /// The transaction that captured it (its proof carries the event itself).
    pub tx_hash: Hash,
    /// The capturing organization.
    pub organization: String,
    /// The error declaration's transaction, once the capturer declared the event erroneous.
    /// The event stays in the ledger as it was: history is never edited.
    pub declared_erroneous: Option<Hash>,
}

impl Canonical for EpcisRecord {
    const DOMAIN: &'static str = "waybill/epcis-record/v1";
}

pub fn read_epcis(
    state: &dyn StateReader,
    id: &crate::epcis::EventHashId,
) -> Result<Option<EpcisRecord>, ExecError> {
    read(state, "epcis event", &epcis_key(id))
}

/// A consortium member, from genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub id: String,
    pub name: String,
    /// Genesis admin keys: always admins of this organization, never removable.
    pub admins: Vec<PublicKey>,
}

impl Canonical for OrgRecord {
    const DOMAIN: &'static str = "waybill/org/v1";
}

/// A key that acts for one organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub key: PublicKey,
    pub organization: String,
    /// Sorted, no repeats. See the role table in [`super`].
    pub roles: Vec<String>,
}

impl Canonical for AccountRecord {
    const DOMAIN: &'static str = "waybill/account/v1";
}

impl AccountRecord {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// In use: every action applies.
    Active,
    /// Used up as an input of a transform; `transformed_into` names the outputs.
    Consumed,
    /// Ended by its owner.
    Decommissioned,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Consumed => "consumed",
            ItemStatus::Decommissioned => "decommissioned",
        }
    }
}

/// An item's current state. History is in the ledger's events; provenance links are here
/// (`derived_from`/`transformed_into` forever, `parent`/`children` while packed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: String,
    pub item_type: String,
    /// Organization holding title.
    pub owner: String,
    /// Organization holding the item physically.
    pub custodian: String,
    pub status: ItemStatus,
    pub properties: BTreeMap<String, JsonValue>,
    /// Last known location (commission, observe or transform).
    pub location: Option<String>,
    /// `time_ms` of the latest observation, if any.
    pub last_observed_ms: Option<u64>,
    /// The container this item is packed in.
    pub parent: Option<String>,
    /// Items packed directly in this one, in packing order.
    pub children: Vec<String>,
    /// Number of items inside this one at any depth.
    pub contents_count: u32,
    /// Inputs of the transform that created this item.
    pub derived_from: Vec<String>,
    /// Outputs of the transform that consumed this item.
    pub transformed_into: Vec<String>,
    /// Number of attached documents (`doc/` keys 0..n).
    pub document_count: u32,
    /// Why the owner decommissioned it.
    pub decommission_reason: Option<String>,
}

impl Canonical for ItemRecord {
    const DOMAIN: &'static str = "waybill/item/v1";
}

/// The commitment of an item's state value to the item's whole history: how many events
/// touched it and the hash chain over them, in ledger order. It sits in the certified state
/// tree with the record, so a history proof can show that no event was left out, added,
/// reordered or replaced (see `crate::proof::history` and docs/PROOFS.md).
///
/// An item's events are exactly its entries in the item-history index: every successful
/// transaction whose [`super::events::EventRecord`] lists the item, in any role, including
/// [`super::events::ItemRole::Contents`] (an accepted transfer of a container moves custody or
/// title of what is inside it, and that is part of the inner item's story). Execution advances
/// the chain from [`super::events::EventRecord::item_ids`], the same list the index is written
/// from, so the two agree by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryHead {
    /// Number of events that touched the item.
    pub len: u64,
    /// `digest_0` is 32 zero bytes; `digest_n = digest(HistoryLink {digest_{n-1}, tx_hash_n})`.
    pub digest: Hash,
}

impl HistoryHead {
    /// Before the first event (an item never exists in this state: its creation is an event).
    pub const EMPTY: HistoryHead = HistoryHead {
        len: 0,
        digest: Hash::ZERO,
    };

    /// The head after one more event, the successful transaction `tx_hash`; `None` only if the
    /// count would overflow a u64 (unreachable: it would take 2^64 transactions).
    pub fn then(&self, tx_hash: &Hash) -> Option<HistoryHead> {
        Some(HistoryHead {
            len: self.len.checked_add(1)?,
            digest: digest(&HistoryLink {
                previous: self.digest,
                tx_hash: *tx_hash,
            }),
        })
    }

    /// The head of a history made of `tx_hashes`, oldest first.
    pub fn of<'a>(tx_hashes: impl IntoIterator<Item = &'a Hash>) -> Option<HistoryHead> {
        tx_hashes
            .into_iter()
            .try_fold(HistoryHead::EMPTY, |head, h| head.then(h))
    }
}

/// One link of an item's history chain: tag `waybill/item-history/v1`, the previous digest,
/// the event's transaction hash. The transaction hash alone identifies the event: an event is a
/// *successful* transaction, and a signer's sequence number lets each signed transaction
/// succeed at most once, so no two events anywhere share a hash; its position in the ledger is
/// shown by its inclusion proof, its position among the item's events by the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLink {
    pub previous: Hash,
    pub tx_hash: Hash,
}

impl Canonical for HistoryLink {
    const DOMAIN: &'static str = "waybill/item-history/v1";
}

/// The value stored under `item/<id>`: BCS of the record's fields, then the history head's
/// (`len` u64, `digest` 32 bytes). [`ItemRecord`] alone stays the item's state as clients see
/// it; this is what the state tree certifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub record: ItemRecord,
    pub history: HistoryHead,
}

/// [`ItemState`] by reference, for writing without cloning the record (BCS of a reference is
/// BCS of the value, so the bytes are the same).
#[derive(Serialize)]
pub(crate) struct ItemStateRef<'a> {
    pub record: &'a ItemRecord,
    pub history: &'a HistoryHead,
}

/// A proposed transfer waiting for the recipient (at most one per item).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTransfer {
    pub item_id: String,
    pub kind: TransferKind,
    /// The proposing organization (the custodian or owner when it proposed).
    pub from_organization: String,
    pub to_organization: String,
    /// The account that proposed.
    pub proposer: PublicKey,
    /// Hash of the proposing transaction.
    pub proposal_tx: Hash,
}

impl Canonical for PendingTransfer {
    const DOMAIN: &'static str = "waybill/transfer/v1";
}

/// A document linked to an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub item_id: String,
    pub index: u32,
    pub hash_algorithm: HashAlgorithm,
    pub hash: Hash,
    pub uri: String,
    pub media_type: String,
    /// The organization that attached it.
    pub attached_by: String,
    /// Hash of the attaching transaction.
    pub attach_tx: Hash,
}

impl Canonical for DocumentRecord {
    const DOMAIN: &'static str = "waybill/document/v1";
}

/// Reads a record, turning undecodable bytes into [`ExecError::Corrupt`].
pub fn read<T: DeserializeOwned>(
    state: &dyn StateReader,
    what: &'static str,
    key: &[u8],
) -> Result<Option<T>, ExecError> {
    match state.get(key)? {
        None => Ok(None),
        Some(bytes) => from_canonical(what, &bytes, MAX_STATE_VALUE_BYTES)
            .map(Some)
            .map_err(|e| ExecError::Corrupt {
                key: String::from_utf8_lossy(key).into_owned(),
                reason: e.to_string(),
            }),
    }
}

pub fn read_org(state: &dyn StateReader, id: &str) -> Result<Option<OrgRecord>, ExecError> {
    read(state, "organization", &org_key(id))
}

pub fn read_account(
    state: &dyn StateReader,
    k: &PublicKey,
) -> Result<Option<AccountRecord>, ExecError> {
    read(state, "account", &account_key(k))
}

/// The item's record as clients see it (without its history head).
pub fn read_item(state: &dyn StateReader, id: &str) -> Result<Option<ItemRecord>, ExecError> {
    Ok(read_item_state(state, id)?.map(|s| s.record))
}

/// The whole value under `item/<id>`: the record and its history head.
pub fn read_item_state(state: &dyn StateReader, id: &str) -> Result<Option<ItemState>, ExecError> {
    read(state, "item", &item_key(id))
}

pub fn read_transfer(
    state: &dyn StateReader,
    item_id: &str,
) -> Result<Option<PendingTransfer>, ExecError> {
    read(state, "pending transfer", &transfer_key(item_id))
}

pub fn read_document(
    state: &dyn StateReader,
    item_id: &str,
    index: u32,
) -> Result<Option<DocumentRecord>, ExecError> {
    read(state, "document", &document_key(item_id, index))
}

/// One transaction's pending writes over the state as of the transaction before it. Dropped
/// without effect if the transaction fails.
pub(crate) struct TxState<'a> {
    base: &'a dyn StateReader,
    pub(crate) writes: StateDelta,
}

impl<'a> TxState<'a> {
    pub(crate) fn new(base: &'a dyn StateReader) -> Self {
        TxState {
            base,
            writes: StateDelta::new(),
        }
    }

    /// Stages `value` at `key`; `Err(len)` if its encoding exceeds [`MAX_STATE_VALUE_BYTES`].
    pub(crate) fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), usize> {
        let bytes = to_canonical(value);
        if bytes.len() > MAX_STATE_VALUE_BYTES {
            return Err(bytes.len());
        }
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    pub(crate) fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
}

impl StateReader for TxState<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ExecError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
}
