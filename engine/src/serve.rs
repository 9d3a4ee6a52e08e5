//! Answering peers' sync requests: the core's block fetches from the block tree or the store,
//! committed heads, committed block ranges with their certificates (for catch-up), checkpoint
//! votes and stored ledger certificates. Answers are bounded in count and bytes.

use std::borrow::Cow;

use consensus::Block;
use ledger::SignedTransaction;

use crate::node::{EngineError, Node, ReplyId};
use crate::offences::Offence;
use crate::payload::{from_ledger_block, TxBatch};
use crate::store::NodeStore;
use crate::wire::{self, SyncRequest, SyncResponse};
use crate::{Effect, Peer};

impl<P: Peer, S: NodeStore> Node<P, S> {
    pub(crate) fn serve(
        &mut self,
        from: P,
        bytes: &[u8],
        reply: ReplyId,
    ) -> Result<(), EngineError<S::Error>> {
        if self.offences.is_refused(&from, self.now) {
            return Ok(());
        }
        let response = match wire::decode_request(bytes) {
            Err(e) => {
                self.offend(from, Offence::UndecodableSyncRequest, &e);
                SyncResponse::Unavailable(e.to_string())
            }
            Ok(SyncRequest::Head) => match self.store.head() {
                Some(h) => SyncResponse::Head {
                    height: h.height,
                    hash: h.hash,
                },
                None => SyncResponse::Unavailable("no head".into()),
            },
            Ok(SyncRequest::Fetch { id, count }) => {
                SyncResponse::Blocks(self.blocks_from(id, count.min(wire::MAX_BLOCKS_PER_SYNC))?)
            }
            Ok(SyncRequest::Committed {
                from_height,
                max_blocks,
            }) => self.committed_range(from_height, max_blocks.min(wire::MAX_BLOCKS_PER_SYNC))?,
            Ok(SyncRequest::CheckpointVote { checkpoint, vote }) => {
                self.on_checkpoint_vote(from, checkpoint, vote)?
            }
            Ok(SyncRequest::LedgerCertificates { from_height, max }) => {
                self.serve_certificates(from_height, max)?
            }
            Ok(SyncRequest::Transactions { block, indices }) => {
                self.transactions_of(block, &indices)?
            }
        };
        self.out.push(Effect::Reply {
            to: reply,
            bytes: wire::encode_response(&response),
        });
        Ok(())
    }

    /// Block `id` and its ancestors, newest first, from the core's tree and then the store.
    fn blocks_from(
        &self,
        id: ledger::Hash,
        count: u32,
    ) -> Result<Vec<Block<TxBatch>>, EngineError<S::Error>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut next = id;
        while out.len() < count as usize {
            let Some(block) = self.held_block(&next)?.map(Cow::into_owned) else {
                break;
            };
            bytes += block
                .payload
                .txs
                .iter()
                .map(SignedTransaction::encoded_len)
                .sum::<usize>()
                + 512;
            if bytes > wire::MAX_SYNC_RESPONSE_BYTES / 2 && !out.is_empty() {
                break;
            }
            let at_genesis = block.height() == 0;
            next = block.header.parent;
            out.push(block);
            if at_genesis {
                break;
            }
        }
        Ok(out)
    }

    /// Block `id` from the core's tree, this node's own proposals (both borrowed), or the store.
    fn held_block(
        &self,
        id: &ledger::Hash,
    ) -> Result<Option<Cow<'_, Block<TxBatch>>>, EngineError<S::Error>> {
        let own = || self.own_proposals.iter().find(|b| b.id() == *id);
        if let Some(b) = self.core.block(id).or_else(own) {
            return Ok(Some(Cow::Borrowed(b)));
        }
        let stored = match self.store.block_height(id).map_err(EngineError::Store)? {
            Some(h) => self.store.block_by_height(h).map_err(EngineError::Store)?,
            None => None,
        };
        Ok(stored.map(|s| Cow::Owned(from_ledger_block(s.block))))
    }

    /// The transactions at `indices` of block `id`, for a replica rebuilding its compact
    /// proposal: only what it lacks, not the whole block. None if the block is not held, or
    /// if the request is not one an honest replica makes (too many, or a place past the end).
    fn transactions_of(
        &self,
        id: ledger::Hash,
        indices: &[u16],
    ) -> Result<SyncResponse, EngineError<S::Error>> {
        if indices.len() > wire::MAX_TXS_PER_FETCH {
            return Ok(SyncResponse::Unavailable(format!(
                "{} transactions asked for, at most {}",
                indices.len(),
                wire::MAX_TXS_PER_FETCH
            )));
        }
        let Some(block) = self.held_block(&id)? else {
            return Ok(SyncResponse::Transactions(Vec::new()));
        };
        let txs = &block.payload.txs;
        match indices
            .iter()
            .map(|&i| txs.get(usize::from(i)).cloned())
            .collect::<Option<Vec<_>>>()
        {
            Some(found) => Ok(SyncResponse::Transactions(found)),
            None => Ok(SyncResponse::Unavailable(format!(
                "block {id} has {} transactions",
                txs.len()
            ))),
        }
    }

    fn committed_range(
        &self,
        from_height: u64,
        max_blocks: u32,
    ) -> Result<SyncResponse, EngineError<S::Error>> {
        let head = self.store.head().map_or(0, |h| h.height);
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let mut height = from_height.max(1);
        while height <= head && records.len() < max_blocks as usize {
            let Some(b) = self.store.block_bytes(height).map_err(EngineError::Store)? else {
                break;
            };
            bytes += b.len();
            if bytes > wire::MAX_SYNC_RESPONSE_BYTES / 2 && !records.is_empty() {
                break;
            }
            records.push(b);
            height += 1;
        }
        Ok(SyncResponse::Committed(records))
    }
}
