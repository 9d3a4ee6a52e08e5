//! Frozen nodes numbered in the order they freeze (post-order): a node's number is how many
//! nodes froze before it. Appending a leaf freezes the leaf, then each perfect subtree it
//! completes, so the nodes of every new block get numbers above every older node's.
//!
//! The store keys frozen nodes by this number: each commit only ever appends to the key space,
//! and RocksDB moves its files down the levels without rewriting them. Keyed by (level, index),
//! every new file overlapped every level's range, and each compaction rewrote about half of the
//! family (BENCHMARKS.md, twenty-fourth pass).
//!
//! Numbers for a tree of 4 leaves:
//!
//! ```text
//!         6
//!     2       5
//!   0   1   3   4
//! ```

use super::{NodePos, MAX_TREE_SIZE};

/// How many frozen nodes a tree of `size` leaves has: every leaf, and every inner node that
/// roots a perfect subtree. They are exactly the nodes numbered `0..frozen_count(size)`.
pub fn frozen_count(size: u64) -> u64 {
    assert!(size <= MAX_TREE_SIZE, "tree size {size} beyond the maximum");
    // 2 * size - popcount(size), without 2 * size overflowing at the maximum size.
    size + (size - u64::from(size.count_ones()))
}

impl NodePos {
    /// This node's number in freezing order. Panics for a node beyond the maximum tree (more
    /// than 2^63 leaves), which no accumulator holds.
    pub fn post_order(self) -> u64 {
        self.checked_post_order()
            .unwrap_or_else(|| panic!("node {self:?} lies beyond the maximum tree"))
    }

    /// This node's number in freezing order; `None` beyond the maximum tree.
    pub fn checked_post_order(self) -> Option<u64> {
        // The node freezes right after its last leaf, `last`; before that leaf froze the
        // `frozen_count(last)` nodes of the first `last` leaves, then the leaf itself and the
        // `level - 1` subtrees below this node that the leaf completes.
        let leaves = (self.index.checked_add(1)?)
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
            .filter(|&n| n <= MAX_TREE_SIZE)?;
        Some(frozen_count(leaves - 1) + u64::from(self.level))
    }

    /// The node numbered `number` in freezing order: the inverse of [`NodePos::post_order`].
    /// `None` for `u64::MAX`, the one number no node of the maximum tree has.
    pub fn from_post_order(number: u64) -> Option<NodePos> {
        if number == u64::MAX {
            return None;
        }
        // The first 2^63 leaves make a perfect tree of 2^64 - 1 nodes, numbered 0..=2^64 - 2.
        // Walk down from its root: a tree of height h is its left subtree, its right subtree
        // (2^h - 1 nodes each), then its root. `rest` is always below the current tree's node
        // count, so at height 0 (subtrees of 0 nodes) it is 0, the root.
        let mut height: u8 = 63;
        let mut first_leaf: u64 = 0;
        let mut rest = number;
        loop {
            let subtree_nodes = (1u64 << height) - 1;
            if rest == 2 * subtree_nodes {
                return Some(NodePos::new(height, first_leaf >> height));
            }
            if rest >= subtree_nodes {
                rest -= subtree_nodes;
                first_leaf += 1u64 << (height - 1);
            }
            height -= 1;
        }
    }
}

/// The nodes that freeze while a tree grows from `from` to `size` leaves, in freezing order
/// (numbers `frozen_count(from)..frozen_count(size)`).
pub fn frozen_since(from: u64, size: u64) -> impl Iterator<Item = NodePos> {
    assert!(
        from <= size && size <= MAX_TREE_SIZE,
        "sizes {from}..{size}"
    );
    (from..size).flat_map(|leaf| {
        // The leaf completes one perfect subtree per trailing one bit of its index.
        let completed = (leaf + 1).trailing_zeros() as u8;
        (0..=completed).map(move |level| NodePos::new(level, ((leaf + 1) >> level) - 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accumulator::{append, MemoryNodes, NodeReader};
    use crate::hash::Hash;
    use crate::merkle::Blake3Hasher;

    #[test]
    fn numbers_of_a_four_leaf_tree() {
        let order: Vec<_> = frozen_since(0, 4).collect();
        assert_eq!(
            order,
            [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
                .map(|(l, i)| NodePos::new(l, i))
        );
        for (number, pos) in order.iter().enumerate() {
            assert_eq!(pos.post_order(), number as u64, "{pos:?}");
            assert_eq!(NodePos::from_post_order(number as u64), Some(*pos));
        }
        assert_eq!(frozen_count(4), 7);
        assert_eq!(frozen_count(0), 0);
        assert_eq!(frozen_count(5), 8);
    }

    #[test]
    fn every_size_numbers_its_nodes_consecutively_and_round_trips() {
        let mut next = 0u64;
        for size in 1..=2048u64 {
            for pos in frozen_since(size - 1, size) {
                assert_eq!(pos.post_order(), next, "{pos:?} at size {size}");
                assert_eq!(NodePos::from_post_order(next), Some(pos));
                next += 1;
            }
            assert_eq!(next, frozen_count(size));
        }
    }

    #[test]
    fn the_largest_numbers_round_trip() {
        let root = NodePos::new(63, 0);
        assert_eq!(root.post_order(), u64::MAX - 1);
        assert_eq!(NodePos::from_post_order(u64::MAX - 1), Some(root));
        assert_eq!(NodePos::from_post_order(u64::MAX), None);
        assert_eq!(frozen_count(MAX_TREE_SIZE), u64::MAX);
        let last_leaf = NodePos::leaf(MAX_TREE_SIZE - 1);
        assert_eq!(last_leaf.post_order(), frozen_count(MAX_TREE_SIZE - 1));
        assert_eq!(
            NodePos::from_post_order(last_leaf.post_order()),
            Some(last_leaf)
        );
        let high = NodePos::new(40, (1 << 23) - 1);
        assert_eq!(NodePos::from_post_order(high.post_order()), Some(high));
    }

    #[test]
    #[should_panic(expected = "beyond the maximum tree")]
    fn a_node_beyond_the_maximum_tree_has_no_number() {
        NodePos::new(1, 1 << 62).post_order();
    }

    #[test]
    fn nodes_beyond_the_maximum_tree_are_refused_without_a_panic() {
        assert_eq!(NodePos::new(64, 0).checked_post_order(), None);
        assert_eq!(NodePos::new(0, u64::MAX).checked_post_order(), None);
        assert_eq!(NodePos::new(1, 1 << 62).checked_post_order(), None);
        assert_eq!(
            NodePos::new(1, (1 << 62) - 1).checked_post_order(),
            Some(u64::MAX - 63)
        );
    }

    /// What `append` freezes is what `frozen_since` names, in the same order: the store writes
    /// `append`'s nodes under these numbers, so every block's keys land after every older key.
    #[test]
    fn append_freezes_exactly_the_numbered_nodes_in_order() {
        let mut nodes = MemoryNodes::new();
        let mut size = 0u64;
        for block in 0..40u64 {
            let leaves: Vec<Hash> = (0..block % 7)
                .map(|i| Hash::blake3(&(block * 10 + i).to_be_bytes()))
                .collect();
            let appended = append(&Blake3Hasher, &nodes, size, &leaves).unwrap();
            let new_size = size + leaves.len() as u64;
            let written: Vec<NodePos> = appended.iter().map(|(p, _)| *p).collect();
            assert_eq!(written, frozen_since(size, new_size).collect::<Vec<_>>());
            let numbers: Vec<u64> = written.iter().map(|p| p.post_order()).collect();
            assert_eq!(
                numbers,
                (frozen_count(size)..frozen_count(new_size)).collect::<Vec<_>>(),
                "block {block}"
            );
            nodes.insert_all(&appended).unwrap();
            size = new_size;
        }
        for pos in frozen_since(0, size) {
            nodes.frozen_node(pos).unwrap();
        }
        assert_eq!(nodes.len() as u64, frozen_count(size));
    }
}
