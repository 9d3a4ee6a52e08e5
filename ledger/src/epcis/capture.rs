//! How one EPCIS 2.0 event maps onto Waybill's supply-chain actions ([`Effect`]): the signed
//! payload that carries it ([`EpcisCapture`]) and the pure reading of the event into a [`Plan`],
//! which execution then applies under the ledger's usual permissions
//! (`ledger::supply::exec`). `docs/EPCIS.md` has the table.
//!
//! Items are named by their canonical GS1 Digital Link URI (`urn:epc:id:sgtin:...` and
//! `https://example.com/01/.../21/...` are one item, `https://id.gs1.org/01/.../21/...`);
//! identifiers outside GS1's schemes are taken as written. A quantity element names a lot or a
//! class (`urn:epc:class:lgtin:...`) and is an item too; its quantity stays in the event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::hash_of_canonical;
use super::values::{parse_timestamp_ms, strip};
use super::vocab::{self, Vocabulary};
use super::{gs1, EventHashId};
use crate::supply::limits::{MAX_ITEM_ID_LEN, MAX_LOCATION_LEN, MAX_NAME_LEN};
use crate::supply::payload::{check_item_id, check_name, check_text};
use crate::supply::{JsonValue, TransferKind};
use crate::tx::TxError;

/// Canonical bytes of an event and its context, together.
pub const MAX_EPCIS_EVENT_BYTES: usize = 32 * 1024;
/// Nesting of arrays and objects in an event or context.
pub const MAX_EPCIS_DEPTH: usize = 16;
/// Party ids a capture may resolve to organizations.
pub const MAX_PARTIES: usize = 8;
/// Items (EPCs, quantity classes, parent) one event may name.
pub const MAX_EVENT_ITEMS: usize = 128;

/// Captures one EPCIS 2.0 event, signed by an operator of the capturing organization.
///
/// `parties` is the capturer's reading of GS1 party identifiers (`urn:epc:id:pgln:...`, as the
/// event writes them in `destinationList`) as Waybill organizations: the ledger knows
/// organizations by their genesis ids, not by GS1 keys, so the member who offers a transfer
/// names its recipient, as `propose_transfer` does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpcisCapture {
    /// The document's JSON-LD `@context` (null if it had none): its namespace prefixes name the
    /// event's extensions in the hash.
    pub context: JsonValue,
    /// The event as the document has it (any member order; values typed, see SIGNING.md).
    pub event: JsonValue,
    #[serde(default)]
    pub parties: BTreeMap<String, String>,
}

impl EpcisCapture {
    /// Structural limits (the event's meaning is checked by [`plan`], in execution).
    pub fn check(&self) -> Result<(), TxError> {
        let len = self.context.encoded_len() + self.event.encoded_len();
        if len > MAX_EPCIS_EVENT_BYTES {
            return Err(TxError::JsonTooLarge {
                field: "epcis",
                key: "event".into(),
                len,
                max: MAX_EPCIS_EVENT_BYTES,
            });
        }
        for (key, v) in [("context", &self.context), ("event", &self.event)] {
            if v.depth() > MAX_EPCIS_DEPTH {
                return Err(TxError::JsonTooDeep {
                    field: "epcis",
                    key: key.into(),
                    depth: v.depth(),
                    max: MAX_EPCIS_DEPTH,
                });
            }
        }
        if self.parties.len() > MAX_PARTIES {
            return Err(TxError::BadCount {
                field: "parties",
                count: self.parties.len(),
                min: 0,
                max: MAX_PARTIES,
            });
        }
        for (party, org) in &self.parties {
            check_text("party", party, MAX_LOCATION_LEN)?;
            check_name("organization", org, MAX_NAME_LEN)?;
        }
        Ok(())
    }

    /// The event's hash ID and what it does on the ledger.
    pub fn plan(&self) -> Result<Plan, PlanError> {
        let hash_id = hash_of_canonical(&self.context, &self.event)
            .map_err(|e| PlanError::Invalid(e.to_string()))?;
        let event: Value = serde_json::from_str(&self.event.to_json_text())
            .map_err(|e| PlanError::Invalid(e.to_string()))?;
        plan(&event, hash_id, &self.parties)
    }
}

/// The five EPCIS event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    ObjectEvent,
    AggregationEvent,
    TransformationEvent,
    TransactionEvent,
    AssociationEvent,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ObjectEvent => "ObjectEvent",
            EventType::AggregationEvent => "AggregationEvent",
            EventType::TransformationEvent => "TransformationEvent",
            EventType::TransactionEvent => "TransactionEvent",
            EventType::AssociationEvent => "AssociationEvent",
        }
    }
}

/// An event's `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Add,
    Observe,
    Delete,
}

/// A new item an event creates, with the kind of GS1 key naming it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewItem {
    pub id: String,
    pub item_type: String,
}

/// What an event does to Waybill's items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// ObjectEvent ADD: the items are commissioned by the capturer.
    Commission(Vec<NewItem>),
    /// ObjectEvent OBSERVE, AggregationEvent OBSERVE: the custodian records where they are
    /// (with sensor data: a sensor report).
    Observe { items: Vec<String>, sensor: bool },
    /// ObjectEvent OBSERVE `shipping` with a possessing party destination; TransactionEvent
    /// ADD with an owning party destination other than the capturer: a transfer is offered.
    ProposeTransfer {
        items: Vec<String>,
        kind: TransferKind,
        to: String,
    },
    /// ObjectEvent OBSERVE `receiving`/`accepting`; TransactionEvent ADD by the recipient of
    /// pending ownership transfers: the transfers are accepted.
    AcceptTransfer {
        items: Vec<String>,
        kind: TransferKind,
    },
    /// ObjectEvent DELETE: the owner ends the items' life.
    Decommission { items: Vec<String>, reason: String },
    /// AggregationEvent ADD: the children are packed into the parent (which is commissioned
    /// first if the ledger does not know it: SSCCs are born by packing).
    Aggregate {
        parent: NewItem,
        children: Vec<String>,
    },
    /// AggregationEvent DELETE: the children (all of them if none is named) are unpacked.
    Disaggregate {
        parent: String,
        children: Vec<String>,
    },
    /// TransformationEvent: inputs consumed, outputs created.
    Transform {
        inputs: Vec<String>,
        outputs: Vec<NewItem>,
    },
    /// AssociationEvent: the association is recorded on the items the ledger knows.
    Associate { items: Vec<String> },
    /// TransactionEvent that moves nothing (OBSERVE, DELETE, ADD without a transfer): the
    /// business transaction is recorded on the items, by their owner or custodian.
    BusinessTransaction { items: Vec<String>, delete: bool },
}

impl Effect {
    /// Every item the effect names, in order (repeats possible).
    pub fn items(&self) -> Vec<String> {
        match self {
            Effect::Commission(items) => items.iter().map(|i| i.id.clone()).collect(),
            Effect::Observe { items, .. }
            | Effect::ProposeTransfer { items, .. }
            | Effect::AcceptTransfer { items, .. }
            | Effect::Decommission { items, .. }
            | Effect::Associate { items }
            | Effect::BusinessTransaction { items, .. } => items.clone(),
            Effect::Aggregate { parent, children } => std::iter::once(parent.id.clone())
                .chain(children.iter().cloned())
                .collect(),
            Effect::Disaggregate { parent, children } => std::iter::once(parent.clone())
                .chain(children.iter().cloned())
                .collect(),
            Effect::Transform { inputs, outputs } => inputs
                .iter()
                .cloned()
                .chain(outputs.iter().map(|o| o.id.clone()))
                .collect(),
        }
    }
}

/// An event read for capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub hash_id: EventHashId,
    pub event_type: EventType,
    pub action: Option<Action>,
    /// The bare CBV term (`shipping`) or the URI as written.
    pub biz_step: Option<String>,
    pub event_time_ms: i64,
    /// `bizLocation` if there is one, else `readPoint`, in canonical form.
    pub location: Option<String>,
    /// `Some` for an error declaration: the event it declares erroneous has the same hash ID.
    pub error_declaration: bool,
    pub effect: Effect,
}

/// Why an event cannot be captured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The event breaks EPCIS 2.0 or a Waybill limit.
    #[error("{0}")]
    Invalid(String),
    /// A valid event Waybill does not capture (docs/EPCIS.md says why).
    #[error("{0}")]
    Unsupported(String),
    /// A transfer's recipient party is not named in `parties`.
    #[error("{0}")]
    UnknownParty(String),
}

fn invalid(msg: impl Into<String>) -> PlanError {
    PlanError::Invalid(msg.into())
}

fn str_field<'a>(event: &'a Value, name: &str) -> Result<Option<&'a str>, PlanError> {
    match event.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{name} must be a string"))),
    }
}

/// A GS1 identifier in canonical Digital Link form, any other as written; checked as an item id.
pub fn item_id(field: &str, raw: &str) -> Result<String, PlanError> {
    let raw = strip(raw);
    let id = gs1::canonical_dl(raw).unwrap_or_else(|| raw.to_string());
    check_item_id("item_id", &id).map_err(|_| {
        invalid(format!(
            "{field} {raw:?}: Waybill item ids are 1..={MAX_ITEM_ID_LEN} bytes of [A-Za-z0-9._:/#-] \
             (a GS1 identifier in canonical Digital Link form, or another URI of those characters)"
        ))
    })?;
    Ok(id)
}

/// The Waybill item type of an identifier, from its GS1 key.
pub fn item_type(id: &str) -> &'static str {
    let Some(path) = id.strip_prefix("https://id.gs1.org/") else {
        return "epcis_object";
    };
    let ai = path.split('/').next().unwrap_or("");
    match ai {
        "00" => "logistic_unit",
        "01" if path.contains("/21/") || path.contains("/235/") => "trade_item",
        "01" if path.contains("/10/") => "trade_item_lot",
        "01" => "trade_item_class",
        "8006" => "trade_item_piece",
        "8003" => "returnable_asset",
        "8004" => "individual_asset",
        "253" => "document",
        "255" => "coupon",
        "401" => "consignment",
        "402" => "shipment",
        "414" => "location",
        "8010" => "component",
        "8017" | "8018" => "service_relation",
        _ => "epcis_object",
    }
}

/// The items of an identifier list (`epcList`, `childEPCs`, ...), in order, no repeats.
fn id_list(event: &Value, name: &str, out: &mut Vec<String>) -> Result<(), PlanError> {
    match event.get(name) {
        None => Ok(()),
        Some(Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                let Value::String(s) = v else {
                    return Err(invalid(format!("{name}[{i}] must be a string")));
                };
                push_unique(out, item_id(&format!("{name}[{i}]"), s)?);
            }
            Ok(())
        }
        Some(_) => Err(invalid(format!("{name} must be an array"))),
    }
}

/// The classes of a quantity list, as items.
fn quantity_list(event: &Value, name: &str, out: &mut Vec<String>) -> Result<(), PlanError> {
    match event.get(name) {
        None => Ok(()),
        Some(Value::Array(items)) => {
            for (i, q) in items.iter().enumerate() {
                let Some(Value::String(class)) = q.get("epcClass") else {
                    return Err(invalid(format!("{name}[{i}].epcClass must be a string")));
                };
                match q.get("quantity") {
                    None | Some(Value::Number(_)) => {}
                    Some(_) => {
                        return Err(invalid(format!("{name}[{i}].quantity must be a number")))
                    }
                }
                push_unique(out, item_id(&format!("{name}[{i}].epcClass"), class)?);
            }
            Ok(())
        }
        Some(_) => Err(invalid(format!("{name} must be an array"))),
    }
}

fn push_unique(out: &mut Vec<String>, id: String) {
    if !out.contains(&id) {
        out.push(id);
    }
}

fn new_items(ids: Vec<String>) -> Vec<NewItem> {
    ids.into_iter()
        .map(|id| NewItem {
            item_type: item_type(&id).to_string(),
            id,
        })
        .collect()
}

/// A vocabulary value as its bare term when it is one (`shipping`, `https://ref.gs1.org/cbv/
/// BizStep-shipping`, `urn:epcglobal:cbv:bizstep:shipping`, `cbv:BizStep-shipping`), else as
/// written.
fn bare_term(v: &str, vocabulary: Vocabulary, urn_prefix: &str) -> String {
    let v = strip(v);
    if vocabulary.terms.binary_search(&v).is_ok() {
        return v.to_string();
    }
    if let Some(t) = vocabulary.bare(v) {
        return t.to_string();
    }
    if let Some(t) = v.strip_prefix(urn_prefix) {
        if vocabulary.terms.binary_search(&t).is_ok() {
            return t.to_string();
        }
    }
    let cbv_curie = vocabulary
        .prefix
        .replace("https://ref.gs1.org/cbv/", "cbv:");
    if let Some(t) = v.strip_prefix(cbv_curie.as_str()) {
        if vocabulary.terms.binary_search(&t).is_ok() {
            return t.to_string();
        }
    }
    v.to_string()
}

/// The first `destinationList` entry of the given type, resolved through `parties`.
fn destination(
    event: &Value,
    party_type: &str,
    parties: &BTreeMap<String, String>,
) -> Result<Option<String>, PlanError> {
    let Some(list) = event.get("destinationList") else {
        return Ok(None);
    };
    let Value::Array(entries) = list else {
        return Err(invalid("destinationList must be an array"));
    };
    for (i, entry) in entries.iter().enumerate() {
        let (Some(Value::String(t)), Some(Value::String(d))) =
            (entry.get("type"), entry.get("destination"))
        else {
            return Err(invalid(format!(
                "destinationList[{i}] needs string members type and destination"
            )));
        };
        if bare_term(t, vocab::SOURCE_DESTINATION_TYPE, "urn:epcglobal:cbv:sdt:") != party_type {
            continue;
        }
        let d = strip(d);
        let canonical = gs1::canonical_dl(d);
        let org = parties.get(d).or_else(|| {
            canonical
                .as_ref()
                .and_then(|c| {
                    parties
                        .iter()
                        .find(|(k, _)| gs1::canonical_dl(k).as_ref() == Some(c))
                })
                .map(|(_, v)| v)
        });
        return match org {
            Some(org) => Ok(Some(org.clone())),
            None => Err(PlanError::UnknownParty(format!(
                "destinationList[{i}]: {party_type} {d:?} is not named in the capture's parties \
                 (GS1 party id -> Waybill organization)"
            ))),
        };
    }
    Ok(None)
}

fn location(event: &Value) -> Result<Option<String>, PlanError> {
    for field in ["bizLocation", "readPoint"] {
        match event.get(field) {
            None => {}
            Some(v) => {
                let Some(Value::String(id)) = v.get("id") else {
                    return Err(invalid(format!("{field}.id must be a string")));
                };
                let id = strip(id);
                let canonical = gs1::canonical_dl(id).unwrap_or_else(|| id.to_string());
                check_text("location", &canonical, MAX_LOCATION_LEN)
                    .map_err(|e| invalid(format!("{field}.id: {e}")))?;
                return Ok(Some(canonical));
            }
        }
    }
    Ok(None)
}

/// Reads `event` (a JSON-LD event object, values as the document has them) for capture.
pub fn plan(
    event: &Value,
    hash_id: EventHashId,
    parties: &BTreeMap<String, String>,
) -> Result<Plan, PlanError> {
    if !event.is_object() {
        return Err(invalid("an event is a JSON object"));
    }
    let event_type = match str_field(event, "type")? {
        Some("ObjectEvent") => EventType::ObjectEvent,
        Some("AggregationEvent") => EventType::AggregationEvent,
        Some("TransformationEvent") => EventType::TransformationEvent,
        Some("TransactionEvent") => EventType::TransactionEvent,
        Some("AssociationEvent") => EventType::AssociationEvent,
        Some(other) => {
            return Err(PlanError::Unsupported(format!(
                "event type {other:?} is not one of EPCIS 2.0's five"
            )))
        }
        None => return Err(invalid("an event needs a type")),
    };
    let time = str_field(event, "eventTime")?.ok_or_else(|| invalid("eventTime is required"))?;
    let event_time_ms =
        parse_timestamp_ms(strip(time)).map_err(|e| invalid(format!("eventTime: {e}")))?;
    match str_field(event, "eventTimeZoneOffset")? {
        Some(_) => {}
        None => return Err(invalid("eventTimeZoneOffset is required")),
    }
    let action = match str_field(event, "action")? {
        Some("ADD") => Some(Action::Add),
        Some("OBSERVE") => Some(Action::Observe),
        Some("DELETE") => Some(Action::Delete),
        Some(other) => {
            return Err(invalid(format!(
                "action {other:?} is not ADD, OBSERVE or DELETE"
            )))
        }
        None if event_type == EventType::TransformationEvent => None,
        None => return Err(invalid(format!("{} needs an action", event_type.as_str()))),
    };
    let biz_step = str_field(event, "bizStep")?
        .map(|s| bare_term(s, vocab::BIZ_STEP, "urn:epcglobal:cbv:bizstep:"));
    let location = location(event)?;
    let error_declaration = match event.get("errorDeclaration") {
        None => false,
        Some(Value::Object(d)) => {
            match d.get("declarationTime") {
                Some(Value::String(t)) => {
                    parse_timestamp_ms(strip(t))
                        .map_err(|e| invalid(format!("errorDeclaration.declarationTime: {e}")))?;
                }
                _ => return Err(invalid("errorDeclaration.declarationTime is required")),
            }
            true
        }
        Some(_) => return Err(invalid("errorDeclaration must be an object")),
    };
    let step = biz_step.as_deref();
    let mut ids = Vec::new();
    let effect = match event_type {
        EventType::ObjectEvent => {
            id_list(event, "epcList", &mut ids)?;
            quantity_list(event, "quantityList", &mut ids)?;
            if ids.is_empty() {
                return Err(invalid(
                    "an ObjectEvent names objects in epcList or quantityList",
                ));
            }
            match action {
                Some(Action::Add) => Effect::Commission(new_items(ids)),
                Some(Action::Delete) => Effect::Decommission {
                    items: ids,
                    reason: step.unwrap_or("deleted").to_string(),
                },
                _ => match step {
                    Some("shipping") => match destination(event, "possessing_party", parties)? {
                        Some(to) => Effect::ProposeTransfer {
                            items: ids,
                            kind: TransferKind::Custody,
                            to,
                        },
                        None => Effect::Observe {
                            items: ids,
                            sensor: event.get("sensorElementList").is_some(),
                        },
                    },
                    Some("receiving" | "accepting") => Effect::AcceptTransfer {
                        items: ids,
                        kind: TransferKind::Custody,
                    },
                    _ => Effect::Observe {
                        items: ids,
                        sensor: event.get("sensorElementList").is_some(),
                    },
                },
            }
        }
        EventType::AggregationEvent => {
            let parent = str_field(event, "parentID")?
                .ok_or_else(|| invalid("an AggregationEvent needs a parentID"))?;
            let parent = item_id("parentID", parent)?;
            id_list(event, "childEPCs", &mut ids)?;
            quantity_list(event, "childQuantityList", &mut ids)?;
            match action {
                Some(Action::Add) => {
                    if ids.is_empty() {
                        return Err(invalid("an AggregationEvent ADD names its children"));
                    }
                    Effect::Aggregate {
                        parent: NewItem {
                            item_type: item_type(&parent).to_string(),
                            id: parent,
                        },
                        children: ids,
                    }
                }
                Some(Action::Delete) => Effect::Disaggregate {
                    parent,
                    children: ids,
                },
                _ => Effect::Observe {
                    items: vec![parent],
                    sensor: event.get("sensorElementList").is_some(),
                },
            }
        }
        EventType::TransformationEvent => {
            let mut outputs = Vec::new();
            id_list(event, "inputEPCList", &mut ids)?;
            quantity_list(event, "inputQuantityList", &mut ids)?;
            id_list(event, "outputEPCList", &mut outputs)?;
            quantity_list(event, "outputQuantityList", &mut outputs)?;
            if ids.is_empty() || outputs.is_empty() {
                return Err(PlanError::Unsupported(
                    "a TransformationEvent with only inputs or only outputs (one transformation \
                     split across events by transformationID) is not captured: Waybill's \
                     transform consumes its inputs and creates its outputs at once"
                        .into(),
                ));
            }
            Effect::Transform {
                inputs: ids,
                outputs: new_items(outputs),
            }
        }
        EventType::TransactionEvent => {
            if !event.get("bizTransactionList").is_some_and(Value::is_array) {
                return Err(invalid("a TransactionEvent needs a bizTransactionList"));
            }
            if let Some(parent) = str_field(event, "parentID")? {
                ids.push(item_id("parentID", parent)?);
            }
            id_list(event, "epcList", &mut ids)?;
            quantity_list(event, "quantityList", &mut ids)?;
            if ids.is_empty() {
                return Err(invalid("a TransactionEvent names objects"));
            }
            match action {
                Some(Action::Add) => match destination(event, "owning_party", parties)? {
                    Some(to) => Effect::ProposeTransfer {
                        items: ids,
                        kind: TransferKind::Ownership,
                        to,
                    },
                    None => Effect::BusinessTransaction {
                        items: ids,
                        delete: false,
                    },
                },
                Some(Action::Delete) => Effect::BusinessTransaction {
                    items: ids,
                    delete: true,
                },
                _ => Effect::BusinessTransaction {
                    items: ids,
                    delete: false,
                },
            }
        }
        EventType::AssociationEvent => {
            let parent = str_field(event, "parentID")?
                .ok_or_else(|| invalid("an AssociationEvent needs a parentID"))?;
            ids.push(item_id("parentID", parent)?);
            id_list(event, "childEPCs", &mut ids)?;
            quantity_list(event, "childQuantityList", &mut ids)?;
            Effect::Associate { items: ids }
        }
    };
    let count = effect.items().len();
    if count > MAX_EVENT_ITEMS {
        return Err(invalid(format!(
            "the event names {count} items, at most {MAX_EVENT_ITEMS} are captured in one event"
        )));
    }
    Ok(Plan {
        hash_id,
        event_type,
        action,
        biz_step,
        event_time_ms,
        location,
        error_declaration,
        effect,
    })
}
