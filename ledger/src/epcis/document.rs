//! Reading an EPCIS 2.0 JSON or JSON-LD document: a capture document (`EPCISDocument`, events in
//! `epcisBody.eventList`) or a query document (`EPCISQueryDocument`, events in
//! `epcisBody.queryResults.resultsBody.eventList`), with its `@context`. Every event is
//! checked on its own and a bad one is named by its index, so that a caller learns every problem
//! of a document at once.

use serde_json::Value;

use super::{EventHashId, HashError};
use crate::strict_json;
use crate::supply::json::JsonError;
use crate::supply::JsonValue;

/// Largest document text read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;
/// Most events one document may carry (each becomes one transaction).
pub const MAX_DOCUMENT_EVENTS: usize = 1_000;

/// A document that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("document of {len} bytes exceeds {max}")]
    TooLarge { len: usize, max: usize },
    #[error("document is not valid JSON: {0}")]
    Json(String),
    #[error("not an EPCIS 2.0 document: {reason}")]
    NotEpcis { reason: String },
    #[error("document has {count} events, at most {max} are captured at once")]
    TooManyEvents { count: usize, max: usize },
    #[error(
        "number {text} cannot be kept exactly by every JSON tool: use an integer of at most \
         2^53 - 1, or at most 15 significant digits between 1e-300 and 1e300 (or a string)"
    )]
    InexactNumber { text: String },
}

/// A document's events, each as written, with the document's `@context`.
#[derive(Clone, Debug, PartialEq)]
pub struct EpcisDocument {
    /// The document's `@context` (`None` if it has none).
    pub context: Option<Value>,
    pub events: Vec<Value>,
}

impl EpcisDocument {
    /// Parses a document (strictly: no member twice; see [`strict_json`]).
    pub fn parse(text: &str) -> Result<EpcisDocument, DocumentError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge {
                len: text.len(),
                max: MAX_DOCUMENT_BYTES,
            });
        }
        strict_json::check_no_duplicates(text).map_err(|e| DocumentError::Json(e.to_string()))?;
        // serde_json reads a number it cannot hold (`4555500000000000009957418362506517616`,
        // `0.1000000000000000000001`) as the nearest float, silently; the canonical value would
        // then carry a number its author never wrote. Its own reader sees the text and refuses.
        if let Err(JsonError::Number { text }) = JsonValue::parse(text) {
            return Err(DocumentError::InexactNumber { text });
        }
        let doc: Value =
            serde_json::from_str(text).map_err(|e| DocumentError::Json(e.to_string()))?;
        EpcisDocument::from_value(doc)
    }

    pub fn from_value(mut doc: Value) -> Result<EpcisDocument, DocumentError> {
        let not = |reason: &str| DocumentError::NotEpcis {
            reason: reason.to_string(),
        };
        let Value::Object(members) = &mut doc else {
            return Err(not("a document is a JSON object"));
        };
        let context = members.remove("@context");
        let kind = members
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| not("no \"type\""))?
            .to_string();
        let body = members
            .get_mut("epcisBody")
            .ok_or_else(|| not("no \"epcisBody\""))?;
        let list = match kind.as_str() {
            "EPCISDocument" => body.get_mut("eventList"),
            "EPCISQueryDocument" => body
                .get_mut("queryResults")
                .and_then(|q| q.get_mut("resultsBody"))
                .and_then(|r| r.get_mut("eventList")),
            other => {
                return Err(not(&format!(
                    "type {other:?}, expected \"EPCISDocument\" or \"EPCISQueryDocument\""
                )))
            }
        };
        let events = match list.map(Value::take) {
            Some(Value::Array(events)) => events,
            Some(_) => return Err(not("the event list is not an array")),
            None => return Err(not("no event list")),
        };
        if events.len() > MAX_DOCUMENT_EVENTS {
            return Err(DocumentError::TooManyEvents {
                count: events.len(),
                max: MAX_DOCUMENT_EVENTS,
            });
        }
        Ok(EpcisDocument { context, events })
    }
}

/// One event ready to be captured: its typed canonical value (what a transaction signs), the
/// document context's, and its hash ID, computed from the canonical value (so anyone holding the
/// transaction gets the same ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalEvent {
    pub context: JsonValue,
    pub event: JsonValue,
    pub hash_id: EventHashId,
}

/// Why one event of a document cannot be captured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("{0}")]
    Value(String),
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// The canonical value and hash ID of `event` under `context`.
pub fn canonical_event(
    context: Option<&Value>,
    event: &Value,
) -> Result<CanonicalEvent, EventError> {
    let canon = JsonValue::new(event).map_err(|e| EventError::Value(e.to_string()))?;
    let context_value = JsonValue::new(context.unwrap_or(&Value::Null))
        .map_err(|e| EventError::Value(format!("@context: {e}")))?;
    let hash_id = hash_of_canonical(&context_value, &canon)?;
    Ok(CanonicalEvent {
        context: context_value,
        event: canon,
        hash_id,
    })
}

/// The hash ID of an event held as canonical values (as a transaction carries it).
pub fn hash_of_canonical(context: &JsonValue, event: &JsonValue) -> Result<EventHashId, HashError> {
    let event: Value =
        serde_json::from_str(&event.to_json_text()).map_err(|e| HashError::NotAnEvent {
            reason: e.to_string(),
        })?;
    let context: Value =
        serde_json::from_str(&context.to_json_text()).map_err(|e| HashError::NotAnEvent {
            reason: e.to_string(),
        })?;
    let context = (!context.is_null()).then_some(&context);
    EventHashId::of(context, &event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document_with_value(number: &str) -> String {
        format!(
            r#"{{"type":"EPCISDocument","epcisBody":{{"eventList":[{{"type":"ObjectEvent",
            "eventTime":"2026-12-06T08:30:00.000Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE",
            "sensorElementList":[{{"sensorReport":[{{"type":"Mass","value":{number}}}]}}]}}]}}}}"#
        )
    }

    #[test]
    fn a_number_that_reading_would_change_is_refused_by_its_text() {
        for number in [
            "4555500000000000009957418362506517616",
            "0.1000000000000000000001",
            "1e400",
        ] {
            assert_eq!(
                EpcisDocument::parse(&document_with_value(number)),
                Err(DocumentError::InexactNumber {
                    text: number.to_string()
                }),
                "{number}"
            );
        }
    }

    #[test]
    fn numbers_every_tool_keeps_are_read_exactly() {
        for (number, canonical) in [
            ("1.602176634e-19", "1602176634e-28"),
            ("412.50", "412.5"),
            ("1.0", "1"),
        ] {
            let doc = EpcisDocument::parse(&document_with_value(number)).unwrap();
            let event = canonical_event(doc.context.as_ref(), &doc.events[0]).unwrap();
            let text = event.event.to_json_text();
            assert!(
                text.contains(&format!("\"value\":{canonical}")),
                "{number}: {text}"
            );
        }
    }
}
