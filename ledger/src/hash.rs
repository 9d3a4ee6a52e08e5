//! The one 32-byte digest type. Shown as lower-case hex in text and JSON, raw bytes in canonical
//! (BCS) encoding, so a hash costs 32 bytes inside anything that is itself hashed or signed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The hasher of in-memory maps and sets on the hot path (the mempool, the verified-signature
/// cache, a block's commit), whose keys are digests and public keys. std's SipHash was a few
/// percent of a validator's CPU under load; foldhash is several times faster and, seeded at
/// random per process, still keeps an outsider from choosing keys that collide.
pub type FastHashState = foldhash::fast::RandomState;
pub type FastHashMap<K, V> = std::collections::HashMap<K, V, FastHashState>;
pub type FastHashSet<K> = std::collections::HashSet<K, FastHashState>;

/// Length in bytes of every digest in Waybill.
pub const HASH_LEN: usize = 32;

/// A blake3 (or, in RFC 6962 tests, SHA-256) digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

/// A string that is not 64 hex digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid hash {input:?}: expected {expected} lower-case hex digits")]
pub struct ParseHashError {
    pub input: String,
    pub expected: usize,
}

impl Hash {
    pub const ZERO: Hash = Hash([0; HASH_LEN]);

    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Self, ParseHashError> {
        let err = || ParseHashError {
            input: s.chars().take(80).collect(),
            expected: HASH_LEN * 2,
        };
        let bytes = crate::encoding_helpers::decode_hex(s).map_err(|_| err())?;
        let arr: [u8; HASH_LEN] = bytes.try_into().map_err(|_| err())?;
        Ok(Hash(arr))
    }

    /// Plain blake3 of `data`, with no domain tag. Only the Merkle tree's RFC 9162 shape uses this
    /// directly (its 0x00/0x01 prefixes are its domain separation); everything else goes through
    /// [`crate::encoding::digest`].
    pub fn blake3(data: &[u8]) -> Hash {
        Hash(*blake3::hash(data).as_bytes())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(b: [u8; HASH_LEN]) -> Self {
        Hash(b)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            // A fixed-size array: BCS writes exactly 32 bytes, no length prefix.
            hex_array::serde_big_array_shim::Wrap(&self.0).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Hash::from_hex(&s).map_err(serde::de::Error::custom)
        } else {
            Ok(Hash(hex_array::serde_big_array_shim::read(d)?))
        }
    }
}

/// Serde helpers for fixed-size byte arrays that should be hex in JSON/TOML and raw in BCS.
pub(crate) mod hex_array {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(v))
        } else {
            serde::Serialize::serialize(&serde_big_array_shim::Wrap(v), s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            let bytes =
                crate::encoding_helpers::decode_hex(&s).map_err(serde::de::Error::custom)?;
            let len = bytes.len();
            bytes.try_into().map_err(|_| {
                serde::de::Error::custom(format!(
                    "expected {N} bytes ({} hex digits), got {len} bytes",
                    2 * N
                ))
            })
        } else {
            serde_big_array_shim::read(d)
        }
    }

    /// serde implements arrays only up to 32 elements; signatures are 64 bytes. Encode any `[u8; N]`
    /// as exactly N raw bytes in BCS (a tuple: no length prefix).
    ///
    /// Byte by byte, serde makes one call per byte, which was the largest single cost of encoding
    /// and decoding a transaction. When N is a multiple of 8 the bytes go as a tuple of N/8
    /// little-endian `u64`s instead: BCS writes a `u64` as its 8 little-endian bytes and a tuple
    /// as its elements back to back, so the output is byte for byte the same, in an eighth of the
    /// calls. BCS is the only binary format these types are encoded in (see `encoding`); the
    /// tests below pin the bytes.
    pub(crate) mod serde_big_array_shim {
        use serde::de::{Error, SeqAccess, Visitor};
        use serde::ser::SerializeTuple;
        use serde::{Deserializer, Serialize, Serializer};
        use std::fmt;

        pub struct Wrap<'a, const N: usize>(pub &'a [u8; N]);

        impl<const N: usize> Serialize for Wrap<'_, N> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if N.is_multiple_of(8) {
                    let mut t = s.serialize_tuple(N / 8)?;
                    for word in self.0.chunks_exact(8) {
                        let word: [u8; 8] = word.try_into().expect("chunks of 8");
                        t.serialize_element(&u64::from_le_bytes(word))?;
                    }
                    t.end()
                } else {
                    let mut t = s.serialize_tuple(N)?;
                    for b in self.0 {
                        t.serialize_element(b)?;
                    }
                    t.end()
                }
            }
        }

        pub fn read<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
            struct Words<const N: usize>;
            impl<'de, const N: usize> Visitor<'de> for Words<N> {
                type Value = [u8; N];
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    write!(f, "{N} bytes")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
                    let mut out = [0u8; N];
                    for (i, slot) in out.chunks_exact_mut(8).enumerate() {
                        let word: u64 = seq
                            .next_element()?
                            .ok_or_else(|| A::Error::invalid_length(8 * i, &self))?;
                        slot.copy_from_slice(&word.to_le_bytes());
                    }
                    Ok(out)
                }
            }
            struct Bytes<const N: usize>;
            impl<'de, const N: usize> Visitor<'de> for Bytes<N> {
                type Value = [u8; N];
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    write!(f, "{N} bytes")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
                    let mut out = [0u8; N];
                    for (i, slot) in out.iter_mut().enumerate() {
                        *slot = seq
                            .next_element()?
                            .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                    }
                    Ok(out)
                }
            }
            if N.is_multiple_of(8) {
                d.deserialize_tuple(N / 8, Words::<N>)
            } else {
                d.deserialize_tuple(N, Bytes::<N>)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let h = Hash::blake3(b"waybill");
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash::from_hex("abc").is_err());
        assert!(Hash::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{h}\""));
        assert_eq!(bcs::to_bytes(&h).unwrap(), h.0.to_vec());
    }

    /// The word-wise shim writes and reads exactly the bytes, in order, as BCS does for a byte
    /// tuple; a truncated input is an error, not a short array.
    #[test]
    fn fixed_arrays_are_their_raw_bytes_in_bcs() {
        use super::hex_array::serde_big_array_shim::{read, Wrap};
        fn check<const N: usize>() {
            let bytes: [u8; N] = std::array::from_fn(|i| (i * 37 + 11) as u8);
            let encoded = bcs::to_bytes(&Wrap(&bytes)).unwrap();
            assert_eq!(encoded, bytes.to_vec(), "{N} bytes");
            let back: [u8; N] = bcs::from_bytes_seed(Shim::<N>, &encoded).unwrap();
            assert_eq!(back, bytes);
            assert!(bcs::from_bytes_seed(Shim::<N>, &encoded[..N - 1]).is_err());
        }
        struct Shim<const N: usize>;
        impl<'de, const N: usize> serde::de::DeserializeSeed<'de> for Shim<N> {
            type Value = [u8; N];
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<[u8; N], D::Error> {
                read(d)
            }
        }
        check::<32>();
        check::<64>();
        check::<5>();
        let h = Hash(std::array::from_fn(|i| i as u8));
        let encoded = bcs::to_bytes(&h).unwrap();
        assert_eq!(encoded, h.0.to_vec());
        assert_eq!(bcs::from_bytes::<Hash>(&encoded).unwrap(), h);
    }
}
