//! The one canonical encoding (BCS) and the one way to hash or sign an object.
//!
//! Every byte string that is hashed or signed is `BCS((domain_tag, object))`: the tag is a BCS
//! string (ULEB128 length, then ASCII), so no two kinds of object can produce the same bytes, and
//! the whole thing is hashed with blake3. `docs/PROOFS.md` specifies this byte for byte.
//! No object may be hashed or signed through any other path: implement [`Canonical`] and call
//! [`digest`] or [`signing_bytes`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::hash::Hash;

/// A hashed or signed kind of object, with its domain tag (e.g. `waybill/tx/v1`).
pub trait Canonical: Serialize {
    const DOMAIN: &'static str;
}

/// Why canonical bytes could not be decoded.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("{what}: input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{what}: malformed canonical bytes: {reason}")]
    Malformed { what: &'static str, reason: String },
}

/// Canonical bytes of a value. BCS serialisation of Waybill's own types cannot fail (no maps with
/// non-canonical keys, no unbounded recursion), so a failure is a programming error.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bcs::to_bytes(value).expect("BCS serialisation of a Waybill type cannot fail")
}

/// Decodes canonical bytes, rejecting input larger than `max_len`, truncated input and trailing
/// bytes (BCS is strict about all three) with an error, never a panic.
pub fn from_canonical<T: DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    max_len: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > max_len {
        return Err(DecodeError::TooLarge {
            what,
            len: bytes.len(),
            max: max_len,
        });
    }
    bcs::from_bytes(bytes).map_err(|e| DecodeError::Malformed {
        what,
        reason: e.to_string(),
    })
}

/// The bytes that are hashed or signed for `value`: `BCS((T::DOMAIN, value))`.
pub fn signing_bytes<T: Canonical>(value: &T) -> Vec<u8> {
    to_canonical(&(T::DOMAIN, value))
}

/// The identity of `value`: blake3 of its [`signing_bytes`].
pub fn digest<T: Canonical>(value: &T) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&signing_bytes(value));
    Hash(*hasher.finalize().as_bytes())
}

/// [`digest`] of a value from its canonical bytes (`to_canonical(value)`), which the caller
/// already holds: `BCS((domain, value))` is `BCS(domain)` followed by `BCS(value)`, so the value
/// need not be encoded a second time.
pub fn digest_encoded<T: Canonical>(encoded: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&to_canonical(T::DOMAIN));
    hasher.update(encoded);
    Hash(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct A(u64);
    impl Canonical for A {
        const DOMAIN: &'static str = "waybill/test-a/v1";
    }
    #[derive(Serialize)]
    struct B(u64);
    impl Canonical for B {
        const DOMAIN: &'static str = "waybill/test-b/v1";
    }

    #[test]
    fn digest_of_the_encoding_is_the_digest() {
        for v in [0, 7, u64::MAX] {
            assert_eq!(digest_encoded::<A>(&to_canonical(&A(v))), digest(&A(v)));
        }
    }

    #[test]
    fn domains_separate_equal_payloads() {
        assert_ne!(digest(&A(7)), digest(&B(7)));
        let bytes = signing_bytes(&A(7));
        assert_eq!(bytes[0] as usize, "waybill/test-a/v1".len());
        assert_eq!(&bytes[1..18], b"waybill/test-a/v1");
        assert_eq!(&bytes[18..], &7u64.to_le_bytes());
    }

    #[test]
    fn decode_rejects_bad_input() {
        let good = to_canonical(&A(5));
        assert_eq!(from_canonical::<A>("a", &good, 8).unwrap(), A(5));
        assert!(matches!(
            from_canonical::<A>("a", &good[..7], 8),
            Err(DecodeError::Malformed { .. })
        ));
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            from_canonical::<A>("a", &long, 100),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            from_canonical::<A>("a", &long, 8),
            Err(DecodeError::TooLarge { len: 9, max: 8, .. })
        ));
    }
}
