//! The blocks this node holds above its committed root: every block's parent is in the tree, and
//! everything not descending from the committed root is pruned on each commit.

use std::collections::HashMap;

use ledger::Hash;

use crate::payload::Payload;
use crate::reject::Reject;
use crate::types::Block;

/// Most uncommitted blocks kept (a Byzantine leader can propose at most one block per round it
/// leads, and rounds only advance on certificates, so honest operation stays far below this).
pub const MAX_TREE_BLOCKS: usize = 4_096;

pub struct BlockTree<P> {
    blocks: HashMap<Hash, Block<P>>,
    root: Hash,
}

impl<P: Payload> BlockTree<P> {
    /// A tree whose committed root is `root`.
    pub fn new(root: Block<P>) -> Self {
        let id = root.id();
        BlockTree {
            blocks: HashMap::from([(id, root)]),
            root: id,
        }
    }

    pub fn root(&self) -> &Block<P> {
        &self.blocks[&self.root]
    }
    pub fn root_id(&self) -> Hash {
        self.root
    }
    pub fn contains(&self, id: &Hash) -> bool {
        self.blocks.contains_key(id)
    }
    pub fn get(&self, id: &Hash) -> Option<&Block<P>> {
        self.blocks.get(id)
    }
    pub fn len(&self) -> usize {
        self.blocks.len()
    }
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Every block above the committed root with its id, in no particular order.
    pub fn uncommitted(&self) -> impl Iterator<Item = (&Hash, &Block<P>)> + '_ {
        self.blocks.iter().filter(move |(id, _)| **id != self.root)
    }

    /// Adds a block whose parent is in the tree. Returns false if it was already there.
    pub fn insert(&mut self, block: Block<P>) -> Result<bool, Reject> {
        let id = block.id();
        if self.blocks.contains_key(&id) {
            return Ok(false);
        }
        let parent = self
            .blocks
            .get(&block.header.parent)
            .ok_or_else(|| Reject::BadBlock {
                reason: "parent not in tree".into(),
            })?;
        if block.height() != parent.height().saturating_add(1) || block.round() <= parent.round() {
            return Err(Reject::BadBlock {
                reason: format!(
                    "height {} / round {} do not follow parent height {} / round {}",
                    block.height(),
                    block.round(),
                    parent.height(),
                    parent.round()
                ),
            });
        }
        if self.blocks.len() >= MAX_TREE_BLOCKS {
            return Err(Reject::BufferFull { what: "block tree" });
        }
        self.blocks.insert(id, block);
        Ok(true)
    }

    /// Uncommitted ancestors of `id` (inclusive), newest first, ending just above the root.
    /// `None` if `id` is not in the tree.
    pub fn uncommitted_path(&self, id: &Hash) -> Option<Vec<Hash>> {
        let mut out = Vec::new();
        let mut cur = *id;
        while cur != self.root {
            let b = self.blocks.get(&cur)?;
            out.push(cur);
            cur = b.header.parent;
        }
        Some(out)
    }

    /// Commits `id` and every uncommitted ancestor; returns them oldest first and prunes every
    /// block that does not descend from the new root. `Ok(vec![])` if `id` is already committed
    /// (at or below the root) on this chain.
    pub fn commit(&mut self, id: &Hash) -> Result<Vec<Block<P>>, Reject> {
        if *id == self.root {
            return Ok(vec![]);
        }
        let Some(path) = self.uncommitted_path(id) else {
            return Err(Reject::ConflictsWithCommitted { id: *id });
        };
        let blocks: Vec<Block<P>> = path.iter().rev().map(|h| self.blocks[h].clone()).collect();
        self.root = *id;
        self.prune();
        Ok(blocks)
    }

    fn prune(&mut self) {
        let root_height = self.root().height();
        let mut keep: HashMap<Hash, bool> = HashMap::from([(self.root, true)]);
        let ids: Vec<Hash> = self.blocks.keys().copied().collect();
        for id in ids {
            let mut chain = Vec::new();
            let mut cur = id;
            let verdict = loop {
                if let Some(v) = keep.get(&cur) {
                    break *v;
                }
                match self.blocks.get(&cur) {
                    Some(b) if b.height() > root_height => {
                        chain.push(cur);
                        cur = b.header.parent;
                    }
                    _ => break false,
                }
            };
            for c in chain {
                keep.insert(c, verdict);
            }
            keep.entry(id).or_insert(verdict);
        }
        self.blocks
            .retain(|id, _| keep.get(id).copied().unwrap_or(false));
    }
}
