//! `supply::JsonValue`, the hand-written parser that canonicalises the JSON values inside
//! transactions (item properties, readings), which signatures and hashes cover.
//!
//! - it accepts exactly what serde_json accepts as JSON text, except for its own stricter rules
//!   (a member name twice, nesting deeper than its limit, a `\u` escape of half a surrogate
//!   pair, which no Rust string can hold);
//! - canonicalisation is idempotent, and the canonical text is accepted as canonical;
//! - the canonical text means the same JSON value as the input (compared as serde_json values
//!   where both parse);
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
        Err(e) => panic!("parse returns only Invalid, got {e}"),
    };
    assert!(
        serde_ok,
        "JsonValue accepts what is not JSON: {text:?} -> {v}"
    );
    let canonical = v.as_str();
    assert_eq!(JsonValue::parse(canonical).as_ref(), Ok(&v), "idempotent");
    assert_eq!(JsonValue::from_canonical_text(canonical).as_ref(), Ok(&v));
    assert!(v.depth() <= PARSE_DEPTH_LIMIT);
    if let (Ok(a), Ok(b)) = (
        serde_json::from_str::<serde_json::Value>(text),
        serde_json::from_str::<serde_json::Value>(canonical),
    ) {
        assert_eq!(
            a, b,
            "canonical text means another value: {text:?} -> {canonical}"
        );
    }
    let bytes = to_canonical(&v);
    let back: JsonValue = from_canonical("json value", &bytes, usize::MAX).expect("own BCS");
    assert_eq!(back, v);
}
