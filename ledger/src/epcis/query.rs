//! EPCIS 2.0 queries over captured events: the filter a query applies ([`QueryFilter`]) and the
//! EPCIS query document it answers with ([`query_document`]), JSON-LD, one page at a time.
//!
//! Each event is returned exactly as it was captured, plus `eventID` (its hash ID, if it had no
//! ID of its own) and `recordTime` (the time of the block that committed it): the hash leaves
//! both out, so anyone can recompute every event's hash ID from the answer. What Waybill knows
//! about each event (its ledger position, its transaction, who captured it, whether it was
//! declared erroneous) is in `resultsBody`'s `waybill:records`, one per event in the same order;
//! a record's `txHash` is what `waybill_getTransactionProof` and `waybill audit fetch tx` prove.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::capture::{EventType, Plan};
use super::values::format_utc_ms;
use super::{gs1, vocab, EventHashId};
use crate::hash::Hash;

/// The JSON-LD context of GS1's EPCIS 2.0 standard.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// The prefix of Waybill's own members in query documents.
pub const WAYBILL_PREFIX: &str = "waybill";
pub const WAYBILL_NAMESPACE: &str = "urn:waybill:epcis:";

/// What an EPCIS query selects. Every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryFilter {
    /// Events that name this item (an EPC URI, a class or a Digital Link URI).
    #[serde(default)]
    pub item: Option<String>,
    /// `eventTime` at or after this (ISO 8601 with offset).
    #[serde(default, rename = "GE_eventTime")]
    pub ge_event_time: Option<String>,
    /// `eventTime` before this.
    #[serde(default, rename = "LT_eventTime")]
    pub lt_event_time: Option<String>,
    /// `bizStep`, as a bare CBV term or any URI.
    #[serde(default, rename = "EQ_bizStep")]
    pub biz_step: Option<String>,
    /// `bizLocation` or, without one, `readPoint`.
    #[serde(default, rename = "EQ_location")]
    pub location: Option<String>,
    /// The capturing organization (a Waybill organization id).
    #[serde(default, rename = "EQ_organization")]
    pub organization: Option<String>,
    /// Only events of this type.
    #[serde(default, rename = "eventType")]
    pub event_type: Option<String>,
}

/// Why a filter cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FilterError {
    pub field: &'static str,
    pub reason: String,
}

/// A filter with its values in the forms events are compared in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    pub item: Option<String>,
    pub ge_ms: Option<i64>,
    pub lt_ms: Option<i64>,
    pub biz_step: Option<String>,
    pub location: Option<String>,
    pub organization: Option<String>,
    pub event_type: Option<EventType>,
}

impl QueryFilter {
    pub fn matcher(&self) -> Result<Matcher, FilterError> {
        let time = |field, v: &Option<String>| {
            v.as_deref()
                .map(|t| {
                    super::values::parse_timestamp_ms(t).map_err(|e| FilterError {
                        field,
                        reason: e.to_string(),
                    })
                })
                .transpose()
        };
        let event_type = match self.event_type.as_deref() {
            None => None,
            Some("ObjectEvent") => Some(EventType::ObjectEvent),
            Some("AggregationEvent") => Some(EventType::AggregationEvent),
            Some("TransformationEvent") => Some(EventType::TransformationEvent),
            Some("TransactionEvent") => Some(EventType::TransactionEvent),
            Some("AssociationEvent") => Some(EventType::AssociationEvent),
            Some(other) => {
                return Err(FilterError {
                    field: "eventType",
                    reason: format!("{other:?} is not an EPCIS 2.0 event type"),
                })
            }
        };
        Ok(Matcher {
            item: self
                .item
                .as_deref()
                .map(|i| gs1::canonical_dl(i).unwrap_or_else(|| i.to_string())),
            ge_ms: time("GE_eventTime", &self.ge_event_time)?,
            lt_ms: time("LT_eventTime", &self.lt_event_time)?,
            biz_step: self.biz_step.as_deref().map(|s| {
                vocab::BIZ_STEP
                    .bare(s)
                    .map(str::to_string)
                    .unwrap_or_else(|| s.to_string())
            }),
            location: self
                .location
                .as_deref()
                .map(|l| gs1::canonical_dl(l).unwrap_or_else(|| l.to_string())),
            organization: self.organization.clone(),
            event_type,
        })
    }
}

impl Matcher {
    /// Whether an event, read as `plan` and captured by `organization`, is selected.
    pub fn matches(&self, plan: &Plan, organization: &str) -> bool {
        self.item
            .as_ref()
            .is_none_or(|i| plan.effect.items().iter().any(|x| x == i))
            && self.ge_ms.is_none_or(|t| plan.event_time_ms >= t)
            && self.lt_ms.is_none_or(|t| plan.event_time_ms < t)
            && self
                .biz_step
                .as_ref()
                .is_none_or(|s| plan.biz_step.as_ref() == Some(s))
            && self
                .location
                .as_ref()
                .is_none_or(|l| plan.location.as_ref() == Some(l))
            && self
                .organization
                .as_deref()
                .is_none_or(|o| o == organization)
            && self.event_type.is_none_or(|t| t == plan.event_type)
    }
}

/// A captured event as the ledger holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub ledger_index: u64,
    pub height: u64,
    pub tx_hash: Hash,
    /// The committing block's timestamp (milliseconds since the Unix epoch).
    pub block_time_ms: u64,
    pub hash_id: EventHashId,
    pub organization: String,
    /// Set when the event is an error declaration, or was declared erroneous: the declaration's
    /// transaction.
    pub declared_erroneous: Option<Hash>,
    pub error_declaration: bool,
    /// The capturing document's `@context` (null if none).
    pub context: Value,
    pub event: Value,
}

/// What Waybill knows about one returned event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecordView {
    pub hash_id: EventHashId,
    pub ledger_index: u64,
    pub height: u64,
    pub tx_hash: Hash,
    pub captured_by: String,
    /// True for an error declaration.
    pub error_declaration: bool,
    /// The transaction of the error declaration that named this event, if any.
    pub declared_erroneous_by: Option<Hash>,
}

/// The EPCIS 2.0 query document (`EPCISQueryDocument`) of one page of events. `next` is the
/// ledger index to ask from for the next page (`None` on the last page).
pub fn query_document(events: &[StoredEvent], next: Option<u64>, creation_ms: u64) -> Value {
    // One document-level context: GS1's, Waybill's prefix and every event's own prefixes; an
    // event whose prefix means something else than an earlier event's carries its own context.
    let mut prefixes: Map<String, Value> = Map::new();
    prefixes.insert(WAYBILL_PREFIX.into(), json!(WAYBILL_NAMESPACE));
    let mut list = Vec::with_capacity(events.len());
    let mut records = Vec::with_capacity(events.len());
    for e in events {
        let own = context_prefixes(&e.context);
        let conflict = own
            .iter()
            .any(|(k, v)| prefixes.get(k).is_some_and(|p| p != v));
        let mut event = e.event.clone();
        if let Value::Object(m) = &mut event {
            if conflict {
                m.insert("@context".into(), e.context.clone());
            } else {
                for (k, v) in own {
                    prefixes.insert(k, v);
                }
            }
            m.entry("eventID")
                .or_insert_with(|| json!(e.hash_id.to_string()));
            m.insert(
                "recordTime".into(),
                json!(format_utc_ms(e.block_time_ms as i64)),
            );
        }
        list.push(event);
        records.push(
            serde_json::to_value(EventRecordView {
                hash_id: e.hash_id,
                ledger_index: e.ledger_index,
                height: e.height,
                tx_hash: e.tx_hash,
                captured_by: e.organization.clone(),
                error_declaration: e.error_declaration,
                declared_erroneous_by: e.declared_erroneous,
            })
            .unwrap_or(Value::Null),
        );
    }
    let mut results = json!({ "eventList": list });
    results[format!("{WAYBILL_PREFIX}:records")] = Value::Array(records);
    if let Some(n) = next {
        results[format!("{WAYBILL_PREFIX}:nextFrom")] = json!(n);
    }
    json!({
        "@context": [EPCIS_CONTEXT, Value::Object(prefixes)],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": format_utc_ms(creation_ms as i64),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": results,
            }
        }
    })
}

/// The prefix definitions (string members of objects) of a JSON-LD context.
fn context_prefixes(context: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut add = |o: &Map<String, Value>| {
        for (k, v) in o {
            if v.is_string() && !k.starts_with('@') {
                out.push((k.clone(), v.clone()));
            }
        }
    };
    match context {
        Value::Object(o) => add(o),
        Value::Array(items) => {
            for i in items {
                if let Value::Object(o) = i {
                    add(o);
                }
            }
        }
        _ => {}
    }
    out
}
