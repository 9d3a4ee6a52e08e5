//! Serde adapters: byte strings are hex in JSON/TOML and length-prefixed raw bytes in BCS; and
//! the one strict hex decoder every text form goes through.

/// Why a text is not strict hex.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum HexError {
    #[error("hex has an odd number of digits ({len})")]
    OddLength { len: usize },
    #[error(
        "hex must be lower-case digits 0-9a-f with no 0x prefix; found {found:?} at offset {at}"
    )]
    BadDigit { found: char, at: usize },
}

/// Decodes hex written the one accepted way: lower-case `0-9a-f`, two digits a byte, no `0x`
/// prefix, no whitespace. Every text form (JSON, TOML, RPC parameters, key files) uses it, so
/// that one byte string has one text (issue 21: upper-case and `0x` were accepted).
pub fn decode_hex(s: &str) -> Result<Vec<u8>, HexError> {
    if let Some((at, found)) = s
        .char_indices()
        .find(|(_, c)| !matches!(c, '0'..='9' | 'a'..='f'))
    {
        return Err(HexError::BadDigit { found, at });
    }
    if !s.len().is_multiple_of(2) {
        return Err(HexError::OddLength { len: s.len() });
    }
    hex::decode(s).map_err(|_| HexError::OddLength { len: s.len() })
}

pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            super::decode_hex(&s).map_err(serde::de::Error::custom)
        } else {
            Ok(serde_bytes_vec(d)?)
        }
    }

    fn serde_bytes_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// [`hex_bytes`] for an optional byte string (`null` when absent).
pub mod opt_hex_bytes {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wrap(#[serde(with = "super::hex_bytes")] Vec<u8>);

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(|b| Wrap(b.clone())).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}
