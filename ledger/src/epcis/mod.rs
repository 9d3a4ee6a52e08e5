//! GS1 EPCIS 2.0 on Waybill: reading EPCIS JSON/JSON-LD documents ([`document`]), the CBV 2.0
//! event hash ID that names an event whatever its syntax ([`EventHashId`], [`prehash`]), GS1
//! identifiers in canonical Digital Link form ([`gs1`]), and how each event maps onto Waybill's
//! supply-chain actions ([`capture`]). Pure: execution recomputes every hash and mapping.
//!
//! `docs/EPCIS.md` is the user's reference: the mapping table, what is unsupported and why.

pub mod capture;
pub mod document;
pub mod gs1;
pub mod prehash;
pub mod query;

pub mod values;
pub mod vocab;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use document::{DocumentError, EpcisDocument};

/// Why an event has no hash ID.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("not an EPCIS event: {reason}")]
    NotAnEvent { reason: String },
    #[error("timestamp {value:?}: {reason}")]
    Timestamp { value: String, reason: String },
    #[error("the event cannot be hashed: {reason}")]
    Unhashable { reason: String },
}

/// The CBV 2.0 EPCIS event hash ID: SHA-256 of the event's pre-hash string, written
/// `ni:///sha-256;<64 hex digits>?ver=CBV2.0` (RFC 6920).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventHashId(pub [u8; 32]);

const NI_PREFIX: &str = "ni:///sha-256;";
const NI_SUFFIX: &str = "?ver=CBV2.0";

impl EventHashId {
    /// The hash ID of `event` in a document with JSON-LD `context`.
    pub fn of(context: Option<&Value>, event: &Value) -> Result<EventHashId, HashError> {
        let pre = prehash::prehash(event, &prehash::Namespaces::of_context(context))?;
        Ok(EventHashId::of_prehash(&pre))
    }

    pub fn of_prehash(prehash: &str) -> EventHashId {
        EventHashId(Sha256::digest(prehash.as_bytes()).into())
    }
}

impl fmt::Display for EventHashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{NI_PREFIX}{}{NI_SUFFIX}", hex::encode(self.0))
    }
}

impl fmt::Debug for EventHashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A text that is not an event hash ID of this form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an event hash ID (ni:///sha-256;<64 lower-case hex digits>?ver=CBV2.0)")]
pub struct BadHashId {
    pub text: String,
}

impl FromStr for EventHashId {
    type Err = BadHashId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadHashId {
            text: s.chars().take(120).collect(),
        };
        let hex_part = s
            .strip_prefix(NI_PREFIX)
            .and_then(|r| r.strip_suffix(NI_SUFFIX))
            .ok_or_else(bad)?;
        if hex_part.len() != 64
            || !hex_part
                .bytes()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| bad())?;
        Ok(EventHashId(out))
    }
}

impl Serialize for EventHashId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for EventHashId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 32]>::deserialize(d).map(EventHashId)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ids_print_and_parse_in_ni_form() {
        let id = EventHashId::of_prehash("eventType=ObjectEvent");
        let text = id.to_string();
        assert!(text.starts_with("ni:///sha-256;") && text.ends_with("?ver=CBV2.0"));
        assert_eq!(text.parse::<EventHashId>().unwrap(), id);
        assert!(text.to_uppercase().parse::<EventHashId>().is_err());
        assert!("ni:///sha-256;00?ver=CBV2.0"
            .parse::<EventHashId>()
            .is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<EventHashId>(&json).unwrap(), id);
        let bytes = bcs::to_bytes(&id).unwrap();
        assert_eq!(bytes.len(), 32);
    }
}
