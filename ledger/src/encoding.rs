//! The one canonical encoding (BCS) and the one way to hash or sign an object.
//!
//! Every byte string that is hashed or signed is `BCS((domain_tag, object))`: the tag is a BCS
//! string (ULEB128 length, then ASCII), so no two kinds of object can produce the same bytes, and
//! the whole thing is hashed with blake3. `docs/PROOFS.md` specifies this byte for byte.
//! No object may be hashed or signed through any other path: implement [`Canonical`] and call
//! [`digest`] or [`signing_bytes`].

use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// A hashed or signed kind of object, with its domain tag (e.g. `waybill/tx/v2`).
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
    // Room for a transaction or a receipt at once: grown from empty, the buffer was
    // reallocated five times for a 200-byte transaction.
    let mut out = Vec::with_capacity(INITIAL_CAPACITY);
    bcs::serialize_into(&mut out, value).expect("BCS serialisation of a Waybill type cannot fail");
    out
}

/// What [`to_canonical`] reserves before encoding.
const INITIAL_CAPACITY: usize = 256;
/// Largest scratch buffer [`digest`] keeps for the next call on its thread.
const MAX_KEPT_SCRATCH: usize = 64 << 10;

thread_local! {
    /// [`digest`]'s encoding buffer, reused: a validator hashes several small objects per
    /// transaction, and an allocation (with its regrowths) for each was a visible share of
    /// the hashing.
    static SCRATCH: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(INITIAL_CAPACITY));
}

/// Decodes canonical bytes, rejecting input larger than `max_len`, truncated input and trailing
/// bytes (BCS is strict about all three) with an error, never a panic. `T` may borrow from
/// `bytes` (a `&[u8]` field is a slice of them, not a copy).
pub fn from_canonical<'a, T: Deserialize<'a>>(
    what: &'static str,
    bytes: &'a [u8],
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
    SCRATCH.with(|cell| {
        // A `Serialize` that hashed something itself would find the buffer taken: it gets a
        // fresh one instead.
        let Ok(mut buf) = cell.try_borrow_mut() else {
            return Hash::blake3(&signing_bytes(value));
        };
        buf.clear();
        bcs::serialize_into(&mut *buf, &(T::DOMAIN, value))
            .expect("BCS serialisation of a Waybill type cannot fail");
        let hash = Hash::blake3(&buf);
        if buf.capacity() > MAX_KEPT_SCRATCH {
            *buf = Vec::with_capacity(INITIAL_CAPACITY);
        }
        hash
    })
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

    /// The reused buffer never leaks one value's bytes into the next digest: small after large,
    /// large enough to be dropped, and a value that takes a digest while being encoded.
    #[test]
    fn digest_is_blake3_of_the_signing_bytes_whatever_came_before() {
        #[derive(Serialize)]
        struct Big(Vec<u64>);
        impl Canonical for Big {
            const DOMAIN: &'static str = "waybill/test-big/v1";
        }
        /// Hashes `A` inside its own encoding.
        struct Nested(u64);
        impl Serialize for Nested {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                digest(&A(self.0)).serialize(s)
            }
        }
        impl Canonical for Nested {
            const DOMAIN: &'static str = "waybill/test-nested/v1";
        }
        let plain = |bytes: Vec<u8>| Hash::blake3(&bytes);
        let big = Big((0..20_000).collect());
        assert_eq!(digest(&big), plain(signing_bytes(&big)));
        assert_eq!(digest(&A(3)), plain(signing_bytes(&A(3))));
        assert_eq!(digest(&Big(vec![1])), plain(signing_bytes(&Big(vec![1]))));
        assert_eq!(digest(&Nested(9)), plain(signing_bytes(&Nested(9))));
        assert_eq!(digest(&A(3)), plain(signing_bytes(&A(3))));
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
