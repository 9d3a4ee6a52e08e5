//! Fetching blocks this node lacks and accepting fetched chains.

use super::*;

impl<P: Payload, V: PayloadValidator<P>> Core<P, V> {
    /// Asks `from` for block `id` and its ancestors down to the committed root, at most
    /// `above_root` blocks (see [`Fetch`]).
    pub(super) fn fetch(&mut self, id: Hash, from: PublicKey, above_root: u64) {
        if self.fetching.contains_key(&id) {
            return;
        }
        if self.fetching.len() >= MAX_FETCHES {
            self.reject(
                Some(from),
                Reject::BufferFull {
                    what: "block fetches",
                },
            );
            return;
        }
        let fetch = Fetch::new(above_root);
        self.fetching.insert(id, fetch);
        self.out.push(Action::FetchBlocks {
            id,
            count: fetch.count,
            from,
        });
    }

    // ---- sync ----------------------------------------------------------------------------

    pub(super) fn on_fetched(&mut self, from: PublicKey, mut blocks: Vec<Block<P>>) {
        if let Err(reason) = self.check_fetched(from, &blocks) {
            return self.reject(Some(from), reason);
        }
        // Only the checked part matters: what lies below a block this node holds is ignored.
        blocks.truncate(self.unknown_prefix(&blocks));
        // blocks[0] was asked for; each next one is the previous one's parent.
        if let Some(first) = blocks.first() {
            self.fetching.remove(&first.id());
        }
        let root_height = self.tree.root().height();
        let mut chain: Vec<Block<P>> = blocks
            .into_iter()
            .filter(|b| b.height() > root_height && !self.tree.contains(&b.id()))
            .collect();
        chain.reverse(); // oldest first
        let Some(oldest) = chain.first() else { return };
        let oldest_parent = oldest.header.parent;
        let oldest_height = oldest.height();
        for b in &chain {
            let _ = self.fetching.remove(&b.id());
        }
        if self.tree.contains(&oldest_parent) {
            for b in chain {
                if self.tree.contains(&b.header.parent) {
                    self.insert_block(b, true);
                }
            }
            return;
        }
        if oldest_height <= root_height.saturating_add(1) {
            return self.reject(
                Some(from),
                Reject::ConflictsWithCommitted { id: oldest_parent },
            );
        }
        // Keep them and fetch further back.
        if self.stash_len + chain.len() > MAX_STASH {
            return self.reject(
                Some(from),
                Reject::BufferFull {
                    what: "fetched blocks",
                },
            );
        }
        self.stash_len += chain.len();
        let mut parent = oldest_parent;
        for b in chain {
            let id = b.id();
            self.stash.entry(parent).or_default().push(b);
            parent = id;
        }
        // `oldest_height > root_height + 1` (checked above): the parent is above the root.
        self.fetch(oldest_parent, from, oldest_height - 1 - root_height);
    }

    pub(super) fn check_fetched(
        &mut self,
        _from: PublicKey,
        blocks: &[Block<P>],
    ) -> Result<(), Reject> {
        let first = blocks.first().ok_or(Reject::BadFetch {
            reason: "no blocks".into(),
        })?;
        if blocks.len() > FETCH_COUNT as usize {
            return Err(Reject::BadFetch {
                reason: "more blocks than asked for".into(),
            });
        }
        if !self.fetching.contains_key(&first.id()) {
            return Err(Reject::NotFetching { id: first.id() });
        }
        // A peer answers with ancestors down to wherever its store ends, which can reach the
        // genesis block (which no proposal may be). Blocks from the first one this node
        // already holds (or that is at or below its committed root) are not checked, and
        // `on_fetched` drops them.
        let unknown = self.unknown_prefix(blocks);
        for (i, b) in blocks.iter().take(unknown).enumerate() {
            let qc = self.check_block_shape(b).map_err(|e| Reject::BadFetch {
                reason: e.to_string(),
            })?;
            if let Some(next) = blocks.get(i + 1) {
                if next.id() != b.header.parent {
                    return Err(Reject::BadFetch {
                        reason: "not a parent chain".into(),
                    });
                }
            }
            self.verify_qc(&qc)?;
        }
        Ok(())
    }

    /// How many of `blocks` (newest first) come before the first one at or below the committed
    /// root or already in the tree.
    fn unknown_prefix(&self, blocks: &[Block<P>]) -> usize {
        let root_height = self.tree.root().height();
        blocks
            .iter()
            .position(|b| b.height() <= root_height || self.tree.contains(&b.id()))
            .unwrap_or(blocks.len())
    }
}
