//! `supply::JsonValue`, the hand-written parser that canonicalises the JSON values inside
//! transactions (item properties, readings), which signatures and hashes cover.
//!
//! - it accepts exactly what serde_json accepts as JSON text, except for its own stricter rules
//!   (a member name twice, nesting deeper than its limit, a `\u` escape of half a surrogate
//!   pair, which no Rust string can hold);
//!   and numbers that some JSON tool would not keep exactly (`JsonError::Number`);
//! - canonicalisation is idempotent, and the canonical text is JSON;
//! - its BCS form decodes back to it.

use ledger::encoding::{from_canonical, to_canonical};
use ledger::supply::json::{JsonError, PARSE_DEPTH_LIMIT};
use ledger::supply::JsonValue;
use serde_json::value::RawValue;

use super::text;

/// Refusals that are JsonValue's own rules rather than JSON's.
const STRICTER: &[&str] = &["member name repeated", "nested too deep", "lone surrogate"];

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let ours = JsonValue::parse(text);
    let serde_ok = serde_json::from_str::<Box<RawValue>>(text).is_ok();
    let v = match ours {
        Ok(v) => v,
        Err(JsonError::Invalid { reason, .. }) => {
            assert!(
                !serde_ok || STRICTER.contains(&reason),
                "serde_json accepts what JsonValue refuses ({reason}): {text:?}"
            );
            return;
        }
        // Typed values refuse numbers a JSON tool could change: a rule of their own.
        Err(JsonError::Number { .. }) => return,
        Err(e) => panic!("parse returns only Invalid or Number, got {e}"),
    };
    assert!(
        serde_ok,
        "JsonValue accepts what is not JSON: {text:?} -> {v}"
    );
    let canonical = v.to_json_text();
    assert_eq!(JsonValue::parse(&canonical).as_ref(), Ok(&v), "idempotent");
    assert!(v.depth() <= PARSE_DEPTH_LIMIT);
    assert!(
        serde_json::from_str::<serde_json::Value>(&canonical).is_ok(),
        "canonical text is not JSON: {text:?} -> {canonical}"
    );
    let bytes = to_canonical(&v);
    let back: JsonValue = from_canonical("json value", &bytes, usize::MAX).expect("own BCS");
    assert_eq!(back, v);
}
