//! The state-tree nodes the last two commits wrote, kept in memory. The next block's update
//! walks down from the newest root, and the nodes near the top of every path it takes are the
//! ones the previous block just wrote: reading them back from RocksDB (a memtable search and a
//! decode per node) was half of the tree update's time under load.
//!
//! Nodes are content-addressed and never change, so a remembered node is always right; the
//! cache only decides what is in memory. Two generations bound it: each commit's nodes replace
//! the older generation.

use std::collections::HashMap;

use crate::hash::Hash;
use crate::smt::Node;

/// Most nodes remembered from one commit (about 130 bytes each with the map's overhead). A
/// 4,000-transaction block touching 4,000 fresh keys writes about 50,000.
pub const MAX_RECENT_NODES: usize = 65_536;

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

    /// Remembers what a commit wrote, once it is durable. Beyond the limit, the nodes written
    /// last are kept: the tree's update writes children before parents, so those are the upper
    /// levels, which every later path crosses.
    pub(super) fn remember(&mut self, written: &[(Hash, Node)]) {
        let skip = written.len().saturating_sub(MAX_RECENT_NODES);
        let mut generation = std::mem::take(&mut self.older);
        generation.clear();
        generation.extend(written[skip..].iter().copied());
        self.older = std::mem::replace(&mut self.newest, generation);
        debug_assert!(self.newest.len() <= MAX_RECENT_NODES);
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

    #[test]
    fn keeps_two_commits_and_the_last_written_nodes_of_a_large_one() {
        let mut recent = RecentNodes::default();
        let (a, b, c) = (node(1), node(2), node(3));
        recent.remember(&[a]);
        recent.remember(&[b]);
        assert_eq!(recent.get(&a.0), Some(a.1));
        assert_eq!(recent.get(&b.0), Some(b.1));
        recent.remember(&[c]);
        assert_eq!(recent.get(&a.0), None, "three commits ago");
        assert_eq!(recent.get(&c.0), Some(c.1));

        let many: Vec<(Hash, Node)> = (0..MAX_RECENT_NODES + 2)
            .map(|i| {
                let n = Node::Internal {
                    left: Hash::blake3(&i.to_le_bytes()),
                    right: Hash::ZERO,
                };
                (n.hash(), n)
            })
            .collect();
        recent.remember(&many);
        assert_eq!(
            recent.get(&many[0].0),
            None,
            "first written, beyond the limit"
        );
        assert_eq!(
            recent.get(&many[many.len() - 1].0),
            Some(many[many.len() - 1].1)
        );
    }
}
