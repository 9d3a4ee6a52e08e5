//! RFC 9162-shaped Merkle trees with a pluggable hash: leaf = H(0x00 || data),
//! node = H(0x01 || left || right). blake3 in Waybill; SHA-256 to check against the published
//! RFC 6962 test vectors.

use crate::hash::Hash;

/// The hash a tree is built with. Implementations must be pure functions of their input.
pub trait TreeHasher: Clone + Send + Sync + 'static {
    fn hash(&self, data: &[&[u8]]) -> Hash;

    /// The root of the empty tree: H() with no prefix, as RFC 9162 defines it.
    fn empty_root(&self) -> Hash {
        self.hash(&[])
    }

    fn hash_leaf(&self, data: &[u8]) -> Hash {
        self.hash(&[&[0x00], data])
    }

    fn hash_children(&self, left: &Hash, right: &Hash) -> Hash {
        self.hash(&[&[0x01], left.as_bytes(), right.as_bytes()])
    }
}

/// blake3: the hash of every tree in Waybill.
#[derive(Clone, Copy, Debug, Default)]
pub struct Blake3Hasher;

impl TreeHasher for Blake3Hasher {
    fn hash(&self, data: &[&[u8]]) -> Hash {
        let mut h = blake3::Hasher::new();
        for d in data {
            h.update(d);
        }
        Hash(*h.finalize().as_bytes())
    }
}

/// SHA-256: only for checking the tree shape against RFC 6962 test vectors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sha256Hasher;

impl TreeHasher for Sha256Hasher {
    fn hash(&self, data: &[&[u8]]) -> Hash {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for d in data {
            h.update(d);
        }
        Hash(h.finalize().into())
    }
}

/// Root of the tree whose leaves have the given leaf hashes (already `hash_leaf`ed), in order.
/// The largest power of two strictly below n goes left, as RFC 9162 section 2.1.1 specifies.
pub fn root_from_leaf_hashes<H: TreeHasher>(hasher: &H, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => hasher.empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            let l = root_from_leaf_hashes(hasher, &leaves[..k]);
            let r = root_from_leaf_hashes(hasher, &leaves[k..]);
            hasher.hash_children(&l, &r)
        }
    }
}

/// The largest power of two strictly less than `n` (n >= 2).
pub fn largest_power_of_two_below(n: u64) -> u64 {
    assert!(n >= 2, "split point of a tree of {n} leaves");
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle root of a block's transactions: leaves are the transactions' hashes, in block order.
pub fn tx_root(tx_hashes: &[Hash]) -> Hash {
    let h = Blake3Hasher;
    let leaves: Vec<Hash> = tx_hashes
        .iter()
        .map(|t| h.hash_leaf(t.as_bytes()))
        .collect();
    root_from_leaf_hashes(&h, &leaves)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points() {
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(3), 2);
        assert_eq!(largest_power_of_two_below(4), 2);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(1 << 40), 1 << 39);
    }

    #[test]
    fn sha256_empty_root_matches_rfc6962() {
        assert_eq!(
            Sha256Hasher.empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
