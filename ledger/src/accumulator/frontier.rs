//! The frontier of an accumulator: the roots of the perfect subtrees that the binary digits of
//! its size split it into, largest (leftmost) first. They are all a tree needs to go on: the
//! root of any later size, and every node appending creates, depend on the old leaves only
//! through them. So a store that starts from a certified state (state sync) installs the
//! frontier of the certified size instead of every old leaf, and checks it against the
//! certificate's accumulator root: a frontier that folds to the certified root is, by collision
//! resistance, the true one.
//!
//! What such a store cannot do is prove an old leaf (an inclusion or consistency proof reaching
//! below the frontier needs nodes it never had); it says so with
//! [`super::AccumulatorError::MissingNode`].

use serde::{Deserialize, Serialize};

use crate::hash::Hash;
use crate::merkle::TreeHasher;

use super::{AccumulatorError, NodePos, NodeReader, MAX_TREE_SIZE};

/// The frontier of the first `size` leaves, as it travels: one hash per set bit of `size`, for
/// the positions [`frontier_positions`] gives, in that order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontier {
    pub size: u64,
    pub hashes: Vec<Hash>,
}

/// Why a frontier does not stand for the tree it claims.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FrontierError {
    #[error("a frontier of size {size} has {expected} hashes, this one has {found}")]
    WrongLength {
        size: u64,
        expected: usize,
        found: usize,
    },
    #[error("size {size} exceeds the maximum of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error(
        "the frontier of size {size} folds to root {computed}, the certified root is {certified}"
    )]
    RootMismatch {
        size: u64,
        computed: Hash,
        certified: Hash,
    },
}

/// The perfect subtrees of `[0, size)`, largest first: for each set bit `2^level` of `size`,
/// from the highest, the node at that level starting where the previous one ended.
pub fn frontier_positions(size: u64) -> Vec<NodePos> {
    let mut positions = Vec::with_capacity(size.count_ones() as usize);
    let mut start = 0u64;
    for level in (0..64u8).rev() {
        let width = 1u64 << level;
        if size & width != 0 {
            positions.push(NodePos::new(level, start >> level));
            start += width;
        }
    }
    positions
}

impl Frontier {
    /// Reads the frontier of the first `size` leaves from `reader`.
    pub fn read<R: NodeReader + ?Sized>(
        reader: &R,
        size: u64,
    ) -> Result<Frontier, AccumulatorError> {
        if size > MAX_TREE_SIZE {
            return Err(AccumulatorError::SizeTooLarge {
                size,
                max: MAX_TREE_SIZE,
            });
        }
        let hashes = frontier_positions(size)
            .into_iter()
            .map(|pos| reader.frozen_node(pos))
            .collect::<Result<_, _>>()?;
        Ok(Frontier { size, hashes })
    }

    /// The root these hashes fold to (RFC 9162 MTH of the `size` leaves), folded right to left;
    /// the empty tree's root for size 0.
    pub fn root<H: TreeHasher>(&self, hasher: &H) -> Result<Hash, FrontierError> {
        if self.size > MAX_TREE_SIZE {
            return Err(FrontierError::SizeTooLarge {
                size: self.size,
                max: MAX_TREE_SIZE,
            });
        }
        let expected = self.size.count_ones() as usize;
        if self.hashes.len() != expected {
            return Err(FrontierError::WrongLength {
                size: self.size,
                expected,
                found: self.hashes.len(),
            });
        }
        let mut peaks = self.hashes.iter().rev();
        let Some(last) = peaks.next() else {
            return Ok(hasher.empty_root());
        };
        Ok(peaks.fold(*last, |acc, left| hasher.hash_children(left, &acc)))
    }

    /// Checks that the frontier folds to `certified`, and returns the nodes to install. The root
    /// does not bind the size (another size with as many set bits folds the same hashes alike):
    /// the caller takes the size from the certificate too.
    pub fn verify<H: TreeHasher>(
        &self,
        hasher: &H,
        certified: &Hash,
    ) -> Result<Vec<(NodePos, Hash)>, FrontierError> {
        let computed = self.root(hasher)?;
        if computed != *certified {
            return Err(FrontierError::RootMismatch {
                size: self.size,
                computed,
                certified: *certified,
            });
        }
        Ok(frontier_positions(self.size)
            .into_iter()
            .zip(self.hashes.iter().copied())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accumulator::{append, root_at, MemoryNodes};
    use crate::merkle::Blake3Hasher;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| Hash::blake3(&i.to_be_bytes())).collect()
    }

    fn tree(n: u64) -> MemoryNodes {
        let mut nodes = MemoryNodes::new();
        let created = append(&Blake3Hasher, &nodes, 0, &leaves(n)).unwrap();
        nodes.insert_all(&created).unwrap();
        nodes
    }

    #[test]
    fn positions_follow_the_binary_digits_of_the_size() {
        assert!(frontier_positions(0).is_empty());
        assert_eq!(frontier_positions(1), vec![NodePos::new(0, 0)]);
        assert_eq!(
            frontier_positions(13),
            vec![NodePos::new(3, 0), NodePos::new(2, 2), NodePos::new(0, 12)]
        );
        assert_eq!(frontier_positions(MAX_TREE_SIZE), vec![NodePos::new(63, 0)]);
    }

    /// For every size up to 70, a tree grown on a frontier alone (no old leaf) reaches the same
    /// roots, and creates the same nodes, as the whole tree.
    #[test]
    fn a_tree_grown_from_its_frontier_matches_the_whole_tree() {
        let all = leaves(100);
        let whole = tree(100);
        for size in 0..70u64 {
            let frontier = Frontier::read(&whole, size).unwrap();
            let certified = root_at(&Blake3Hasher, &whole, size).unwrap();
            let installed = frontier.verify(&Blake3Hasher, &certified).unwrap();
            let mut grown = MemoryNodes::new();
            grown.insert_all(&installed).unwrap();
            let created = append(&Blake3Hasher, &grown, size, &all[size as usize..100]).unwrap();
            grown.insert_all(&created).unwrap();
            for later in size.max(1)..=100 {
                assert_eq!(
                    root_at(&Blake3Hasher, &grown, later).unwrap(),
                    root_at(&Blake3Hasher, &whole, later).unwrap(),
                    "size {size}, later {later}"
                );
            }
        }
    }

    #[test]
    fn a_frontier_that_is_not_the_certified_one_is_refused() {
        let whole = tree(13);
        let certified = root_at(&Blake3Hasher, &whole, 13).unwrap();
        let good = Frontier::read(&whole, 13).unwrap();
        let mut altered = good.clone();
        altered.hashes[1] = Hash::blake3(b"forged");
        assert!(matches!(
            altered.verify(&Blake3Hasher, &certified),
            Err(FrontierError::RootMismatch { size: 13, .. })
        ));
        let mut short = good.clone();
        short.hashes.pop();
        assert_eq!(
            short.verify(&Blake3Hasher, &certified),
            Err(FrontierError::WrongLength {
                size: 13,
                expected: 3,
                found: 2
            })
        );
        // The root does not bind the size: 14 has as many set bits as 13, and the same hashes
        // fold alike. So the size must come from the certificate (`SnapshotBase::verify`).
        let mut resized = good;
        resized.size = 14;
        assert!(resized.verify(&Blake3Hasher, &certified).is_ok());
        resized.size = 12;
        assert!(matches!(
            resized.verify(&Blake3Hasher, &certified),
            Err(FrontierError::WrongLength { .. })
        ));
        let oversized = Frontier {
            size: u64::MAX,
            hashes: vec![],
        };
        assert!(matches!(
            oversized.root(&Blake3Hasher),
            Err(FrontierError::SizeTooLarge { .. })
        ));
    }

    #[test]
    fn an_old_leaf_cannot_be_proven_from_a_frontier() {
        let whole = tree(13);
        let certified = root_at(&Blake3Hasher, &whole, 13).unwrap();
        let mut grown = MemoryNodes::new();
        grown
            .insert_all(
                &Frontier::read(&whole, 13)
                    .unwrap()
                    .verify(&Blake3Hasher, &certified)
                    .unwrap(),
            )
            .unwrap();
        assert!(matches!(
            crate::accumulator::inclusion_proof(&Blake3Hasher, &grown, 3, 13),
            Err(AccumulatorError::MissingNode { .. })
        ));
    }
}
