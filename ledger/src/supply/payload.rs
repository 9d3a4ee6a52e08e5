//! The supply-chain actions a transaction can carry (each is one [`crate::tx::Payload`] variant)
//! and their structural limits, checked with the envelope before execution
//! ([`crate::tx::SignedTransaction::check_limits`]) and again by execution (code
//! `invalid_payload`). Permissions and state-dependent rules are checked in [`super::exec`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::json::JsonValue;
use super::limits::*;
use crate::crypto::PublicKey;
use crate::hash::Hash;
use crate::tx::TxError;

/// Item properties: key -> JSON value.
pub type Properties = BTreeMap<String, JsonValue>;

/// Adds an account to an organization. Signer: an admin of `organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddAccount {
    pub organization: String,
    pub key: PublicKey,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Removes an account from an organization. Signer: an admin of `organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveAccount {
    pub organization: String,
    pub key: PublicKey,
}

/// Replaces an account's roles. Signer: an admin of `organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAccountRoles {
    pub organization: String,
    pub key: PublicKey,
    pub roles: Vec<String>,
}

/// Creates an item, owned and held by the signer's organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    pub item_id: String,
    pub item_type: String,
    #[serde(default)]
    pub properties: Properties,
    #[serde(default)]
    pub location: Option<String>,
}

/// One measurement, e.g. `{"kind": "temperature", "value": 4.5, "unit": "Cel"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub kind: String,
    pub value: JsonValue,
    #[serde(default)]
    pub unit: Option<String>,
}

/// Records where an item was and what was measured, at `time_ms` (client's clock, milliseconds
/// since the Unix epoch: the ledger has no clock of its own). Signer: the custodian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observe {
    pub item_id: String,
    pub time_ms: u64,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub readings: Vec<Reading>,
}

/// What a transfer hands over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Physical possession: the custodian proposes.
    Custody,
    /// Title: the owner proposes.
    Ownership,
}

impl TransferKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::Custody => "custody",
            TransferKind::Ownership => "ownership",
        }
    }
}

/// Offers custody or ownership of an item to another organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeTransfer {
    pub item_id: String,
    pub kind: TransferKind,
    pub to_organization: String,
}

/// Accepts, rejects or cancels the pending transfer of an item. `kind` must match the pending
/// proposal's kind, so that nobody consents to something other than what they meant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferResponse {
    pub item_id: String,
    pub kind: TransferKind,
}

/// Packs `children` into `container_id` (aggregate) or takes them out (disaggregate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packing {
    pub container_id: String,
    pub children: Vec<String>,
}

/// A new item produced by a transform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub item_id: String,
    pub item_type: String,
    #[serde(default)]
    pub properties: Properties,
}

/// Consumes `inputs` into new `outputs` (which record the inputs as `derived_from`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transform {
    pub inputs: Vec<String>,
    pub outputs: Vec<NewItem>,
    #[serde(default)]
    pub location: Option<String>,
}

/// Hash function of an attached document's digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    Sha256,
    Blake3,
}

/// Links a document (held off-ledger) to an item by its digest. Signer: owner or custodian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachDocument {
    pub item_id: String,
    pub hash_algorithm: HashAlgorithm,
    /// 32-byte digest of the document's bytes (64 hex digits in JSON).
    pub hash: Hash,
    pub uri: String,
    pub media_type: String,
}

/// Ends an item's life (destroyed, sold to a consumer, lost). Signer: the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decommission {
    pub item_id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

// ---- limits -------------------------------------------------------------------------------

fn shown(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Item ids: 1..=[`MAX_ITEM_ID_LEN`] bytes of `[A-Za-z0-9._:/#-]` (EPC URNs, GS1 Digital Link
/// paths and plain serials all fit).
pub fn check_item_id(field: &'static str, id: &str) -> Result<(), TxError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._:/#-".contains(c);
    if id.is_empty() || id.len() > MAX_ITEM_ID_LEN || !id.chars().all(ok) {
        return Err(TxError::BadIdentifier {
            field,
            value: shown(id),
            max: MAX_ITEM_ID_LEN,
        });
    }
    Ok(())
}

/// Organization ids, item types, roles, property keys and reading kinds: 1..=`max` bytes of
/// `[A-Za-z0-9._-]` (the genesis identifier rule).
pub fn check_name(field: &'static str, s: &str, max: usize) -> Result<(), TxError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if s.is_empty() || s.len() > max || !s.chars().all(ok) {
        return Err(TxError::BadIdentifier {
            field,
            value: shown(s),
            max,
        });
    }
    Ok(())
}

/// Free text (locations, reasons, units): at most `max` bytes, no control characters.
pub fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), TxError> {
    if s.len() > max {
        return Err(TxError::FieldTooLong {
            field,
            len: s.len(),
            max,
        });
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(TxError::BadText {
            field,
            reason: format!("control character U+{:04X}", c as u32),
        });
    }
    Ok(())
}

fn check_opt_text(field: &'static str, s: &Option<String>, max: usize) -> Result<(), TxError> {
    s.as_deref().map_or(Ok(()), |s| check_text(field, s, max))
}

fn check_count(field: &'static str, count: usize, min: usize, max: usize) -> Result<(), TxError> {
    if count < min || count > max {
        return Err(TxError::BadCount {
            field,
            count,
            min,
            max,
        });
    }
    Ok(())
}

pub fn check_json(field: &'static str, key: &str, v: &JsonValue) -> Result<(), TxError> {
    let len = v.encoded_len();
    if len > MAX_JSON_VALUE_BYTES {
        return Err(TxError::JsonTooLarge {
            field,
            key: shown(key),
            len,
            max: MAX_JSON_VALUE_BYTES,
        });
    }
    let depth = v.depth();
    if depth > MAX_JSON_DEPTH {
        return Err(TxError::JsonTooDeep {
            field,
            key: shown(key),
            depth,
            max: MAX_JSON_DEPTH,
        });
    }
    Ok(())
}

pub fn check_properties(props: &Properties) -> Result<(), TxError> {
    check_count("properties", props.len(), 0, MAX_PROPERTIES)?;
    for (k, v) in props {
        check_name("property key", k, MAX_PROPERTY_KEY_LEN)?;
        check_json("properties", k, v)?;
    }
    Ok(())
}

/// Roles: at most [`MAX_ROLES`], each a name, no repeats.
pub fn check_roles(roles: &[String]) -> Result<(), TxError> {
    check_count("roles", roles.len(), 0, MAX_ROLES)?;
    let mut seen = BTreeSet::new();
    for r in roles {
        check_name("role", r, MAX_NAME_LEN)?;
        if !seen.insert(r.as_str()) {
            return Err(TxError::Duplicate {
                field: "roles",
                value: shown(r),
            });
        }
    }
    Ok(())
}

fn check_ids<'a>(
    field: &'static str,
    ids: impl IntoIterator<Item = &'a String>,
    seen: &mut BTreeSet<&'a str>,
) -> Result<(), TxError> {
    for id in ids {
        check_item_id(field, id)?;
        if !seen.insert(id.as_str()) {
            return Err(TxError::Duplicate {
                field,
                value: shown(id),
            });
        }
    }
    Ok(())
}

impl AddAccount {
    pub fn check(&self) -> Result<(), TxError> {
        check_name("organization", &self.organization, MAX_NAME_LEN)?;
        check_roles(&self.roles)
    }
}

impl RemoveAccount {
    pub fn check(&self) -> Result<(), TxError> {
        check_name("organization", &self.organization, MAX_NAME_LEN)
    }
}

impl SetAccountRoles {
    pub fn check(&self) -> Result<(), TxError> {
        check_name("organization", &self.organization, MAX_NAME_LEN)?;
        check_roles(&self.roles)
    }
}

impl Commission {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)?;
        check_name("item_type", &self.item_type, MAX_NAME_LEN)?;
        check_properties(&self.properties)?;
        check_opt_text("location", &self.location, MAX_LOCATION_LEN)
    }
}

impl Observe {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)?;
        check_opt_text("location", &self.location, MAX_LOCATION_LEN)?;
        check_count("readings", self.readings.len(), 0, MAX_READINGS)?;
        for r in &self.readings {
            check_name("reading kind", &r.kind, MAX_NAME_LEN)?;
            check_json("readings", &r.kind, &r.value)?;
            check_opt_text("reading unit", &r.unit, MAX_UNIT_LEN)?;
        }
        Ok(())
    }
}

impl ProposeTransfer {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)?;
        check_name("to_organization", &self.to_organization, MAX_NAME_LEN)
    }
}

impl TransferResponse {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)
    }
}

impl Packing {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("container_id", &self.container_id)?;
        check_count("children", self.children.len(), 1, MAX_PACKING_CHILDREN)?;
        check_ids("children", &self.children, &mut BTreeSet::new())
    }
}

impl Transform {
    pub fn check(&self) -> Result<(), TxError> {
        check_count("inputs", self.inputs.len(), 1, MAX_TRANSFORM_INPUTS)?;
        check_count("outputs", self.outputs.len(), 1, MAX_TRANSFORM_OUTPUTS)?;
        // One set over inputs and outputs: an output may not reuse an input's id either.
        let mut seen = BTreeSet::new();
        check_ids("inputs", &self.inputs, &mut seen)?;
        check_ids(
            "outputs",
            self.outputs.iter().map(|o| &o.item_id),
            &mut seen,
        )?;
        for o in &self.outputs {
            check_name("item_type", &o.item_type, MAX_NAME_LEN)?;
            check_properties(&o.properties)?;
        }
        check_opt_text("location", &self.location, MAX_LOCATION_LEN)
    }
}

impl AttachDocument {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)?;
        if self.uri.is_empty() || self.uri.len() > MAX_URI_LEN {
            return Err(TxError::FieldTooLong {
                field: "uri",
                len: self.uri.len(),
                max: MAX_URI_LEN,
            });
        }
        if let Some(c) = self.uri.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(TxError::BadText {
                field: "uri",
                reason: format!("character {c:?} (a URI is printable ASCII, percent-encoded)"),
            });
        }
        check_media_type(&self.media_type)
    }
}

/// `type/subtype` with RFC 6838 name characters, at most [`MAX_MEDIA_TYPE_LEN`] bytes
/// (parameters such as `; charset=` are not accepted).
fn check_media_type(m: &str) -> Result<(), TxError> {
    let tok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    let ok = m.len() <= MAX_MEDIA_TYPE_LEN
        && m.split_once('/')
            .is_some_and(|(t, s)| tok(t) && tok(s) && !s.contains('/'));
    if !ok {
        return Err(TxError::BadText {
            field: "media_type",
            reason: format!(
                "{:?} is not type/subtype of at most {MAX_MEDIA_TYPE_LEN} bytes",
                shown(m)
            ),
        });
    }
    Ok(())
}

impl Decommission {
    pub fn check(&self) -> Result<(), TxError> {
        check_item_id("item_id", &self.item_id)?;
        check_opt_text("reason", &self.reason, MAX_REASON_LEN)
    }
}
