//! The JSON form of every signed or hashed object inside a proof: its exact canonical bytes
//! and a readable view of them, `{"bytes": "<hex>", "view": {...}}`.
//!
//! The bytes are what signatures and hashes cover; the view is for people and is derived from
//! them. A reader decodes the bytes, reads the view, and refuses the proof unless both are the
//! same object. So a JSON tool that re-saves a proof (reformatting, rewriting `412.50` as
//! `412.5`) changes nothing that is checked, and a view edited to mean something else is
//! refused. In canonical bytes (BCS) the object is itself, with nothing added.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{from_canonical, to_canonical};
use crate::tx::MAX_TX_BYTES;

/// Largest canonical object read from a proof: a signed transaction is the largest kind.
pub const MAX_ATTESTED_BYTES: usize = MAX_TX_BYTES;

#[derive(Serialize)]
struct Out<'a, T> {
    bytes: String,
    view: &'a T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct In<T> {
    bytes: String,
    view: T,
}

pub fn serialize<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        Out {
            bytes: hex::encode(to_canonical(value)),
            view: value,
        }
        .serialize(s)
    } else {
        value.serialize(s)
    }
}

pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: DeserializeOwned + PartialEq,
    D: Deserializer<'de>,
{
    if !d.is_human_readable() {
        return T::deserialize(d);
    }
    let In { bytes, view } = In::<T>::deserialize(d)?;
    let bytes = crate::decode_hex(&bytes).map_err(|e| D::Error::custom(format!("bytes: {e}")))?;
    let decoded: T = from_canonical("proof object", &bytes, MAX_ATTESTED_BYTES)
        .map_err(|e| D::Error::custom(format!("bytes: {e}")))?;
    if decoded != view {
        return Err(D::Error::custom(
            "view is not the object its bytes encode (a view must be derived from the bytes)",
        ));
    }
    Ok(decoded)
}

/// A [`super::LedgerCertificate`] in a proof: its checkpoint attested, its votes as they are.
/// JSON: `{"checkpoint": {"bytes": "<hex>", "view": {...}}, "signatures": [...]}`.
pub mod certificate {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::proof::certificate::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};

    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(with = "super")]
        checkpoint: &'a LedgerCheckpoint,
        signatures: &'a [CheckpointVote],
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct In {
        #[serde(with = "super")]
        checkpoint: LedgerCheckpoint,
        signatures: Vec<CheckpointVote>,
    }

    pub fn serialize<S: Serializer>(c: &LedgerCertificate, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            Out {
                checkpoint: &c.checkpoint,
                signatures: &c.signatures,
            }
            .serialize(s)
        } else {
            c.serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LedgerCertificate, D::Error> {
        if !d.is_human_readable() {
            return LedgerCertificate::deserialize(d);
        }
        let In {
            checkpoint,
            signatures,
        } = In::deserialize(d)?;
        Ok(LedgerCertificate {
            checkpoint,
            signatures,
        })
    }
}
