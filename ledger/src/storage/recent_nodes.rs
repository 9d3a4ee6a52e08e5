//! State-tree nodes kept in memory: the ones commits wrote and the ones the tree's updates read
//! back from RocksDB. The next block's update walks down from the newest root. The nodes near
//! the top of every path are the ones the previous block just wrote, and under a light load
//! (a few transactions a block) most of the rest are nodes an earlier update read: reading them
//! back from RocksDB (a memtable search and a decode per node) was half of the tree update's
//! time under a heavy load, and a tenth of a validator's CPU at 1,000 tx/s when only the last
//! two commits' nodes were kept.
//!
//! Nodes are content-addressed and never change, so a remembered node is always right; the
//! cache only decides what is in memory. Only a node whose hash was checked gets in. Two
//! generations of at most [`NODES_PER_GENERATION`] bound it: when the newest is full it becomes
//! the older one, and the older one is dropped.

use std::collections::HashMap;

use crate::hash::Hash;
use crate::smt::Node;

/// Most nodes in one generation (about 130 bytes each with the map's overhead, so two
/// generations stay under 20 MB). A 4,000-transaction block touching 4,000 fresh keys writes
/// about 50,000; the whole tree of a thousand accounts is about 2,000.
pub const NODES_PER_GENERATION: usize = 65_536;

#[derive(Default)]
pub(super) struct RecentNodes {
    newest: HashMap<Hash, Node>,
    older: HashMap<Hash, Node>,
}

impl RecentNodes {
    pub(super) fn get(&self, hash: &Hash) -> Option<Node> {
        self.newest
            .get(hash)
            .or_else(|| self.older.get(hash))
            .copied()
    }

    /// Remembers what a commit wrote, once it is durable, in the order written. The tree's
    /// update writes children before parents, so a commit larger than a generation leaves the
    /// upper levels, which every later path crosses, in the newest one.
    pub(super) fn remember(&mut self, written: &[(Hash, Node)]) {
        for (hash, node) in written {
            self.insert(*hash, *node);
        }
    }

    /// Remembers a node read from storage. The caller has checked that `node` hashes to `hash`:
    /// a damaged node must not be served later as one already checked.
    pub(super) fn remember_read(&mut self, hash: Hash, node: &Node) {
        debug_assert_eq!(node.hash(), hash, "an unchecked node offered to the cache");
        self.insert(hash, *node);
    }

    fn insert(&mut self, hash: Hash, node: Node) {
        if self.newest.len() >= NODES_PER_GENERATION && !self.newest.contains_key(&hash) {
            // The older generation goes; its map's room is reused for the next one.
            std::mem::swap(&mut self.newest, &mut self.older);
            self.newest.clear();
        }
        self.newest.insert(hash, node);
        debug_assert!(self.newest.len() <= NODES_PER_GENERATION);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.newest.len() + self.older.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smt::SmtLeaf;

    fn node(i: u8) -> (Hash, Node) {
        let n = Node::Leaf(SmtLeaf::new(Hash([i; 32]), Hash([i; 32])));
        (n.hash(), n)
    }

    /// Under a light load a path's lower nodes were last touched many commits ago: they stay
    /// until two generations' worth of other nodes came in, however many commits that took.
    #[test]
    fn a_node_outlives_many_small_commits() {
        let mut recent = RecentNodes::default();
        let (a, b) = (node(1), node(2));
        recent.remember(&[a]);
        for i in 10..40 {
            recent.remember(&[node(i)]);
        }
        recent.remember_read(b.0, &b.1);
        assert_eq!(recent.get(&a.0), Some(a.1), "thirty commits later");
        assert_eq!(recent.get(&b.0), Some(b.1), "read back from storage");
    }

    #[test]
    fn a_full_generation_drops_the_older_and_keeps_the_last_written() {
        let mut recent = RecentNodes::default();
        let many: Vec<(Hash, Node)> = (0..2 * NODES_PER_GENERATION + 2)
            .map(|i| {
                let n = Node::Internal {
                    left: Hash::blake3(&i.to_le_bytes()),
                    right: Hash::ZERO,
                };
                (n.hash(), n)
            })
            .collect();
        recent.remember(&many);
        assert!(recent.len() <= 2 * NODES_PER_GENERATION, "{}", recent.len());
        assert_eq!(
            recent.get(&many[0].0),
            None,
            "first written, two generations ago"
        );
        let kept = [NODES_PER_GENERATION, many.len() - 1];
        for i in kept {
            assert_eq!(recent.get(&many[i].0), Some(many[i].1), "node {i}");
        }
        // Writing a node the newest generation holds again does not start a new one.
        let before = recent.len();
        recent.remember(&many[many.len() - 2..]);
        assert_eq!(recent.len(), before);
    }
}
