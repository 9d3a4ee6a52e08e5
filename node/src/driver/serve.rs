//! Answering peers' sync requests: the core's block fetches from the block tree or the store,
//! committed heads, and committed block ranges with their certificates (for catch-up). Answers
//! are bounded in count and bytes.

use consensus::Block;
use ledger::SignedTransaction;
use tokio::sync::oneshot;
use tracing::debug;

use super::wire::{self, SyncRequest, SyncResponse};
use super::Driver;
use crate::network::PeerId;
use crate::payload::{from_ledger_block, TxBatch};

impl Driver {
    pub(super) fn serve_sync(
        &mut self,
        from: PeerId,
        bytes: &[u8],
        reply: oneshot::Sender<Vec<u8>>,
    ) {
        let response = match wire::decode_request(bytes) {
            Err(e) => {
                debug!(%from, error = %e, "undecodable sync request");
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
                SyncResponse::Blocks(self.blocks_from(id, count.min(wire::MAX_BLOCKS_PER_SYNC)))
            }
            Ok(SyncRequest::Committed {
                from_height,
                max_blocks,
            }) => self.committed_range(from_height, max_blocks.min(wire::MAX_BLOCKS_PER_SYNC)),
            Ok(SyncRequest::CheckpointVote { checkpoint, vote }) => {
                self.on_checkpoint_vote(from, checkpoint, vote)
            }
            Ok(SyncRequest::LedgerCertificates { from_height, max }) => {
                self.serve_certificates(from_height, max)
            }
        };
        let _ = reply.send(wire::encode_response(&response));
    }

    /// Block `id` and its ancestors, newest first, from the core's tree and then the store.
    fn blocks_from(&self, id: ledger::Hash, count: u32) -> Vec<Block<TxBatch>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut next = id;
        while out.len() < count as usize {
            let block = match self.core.block(&next) {
                Some(b) => b.clone(),
                None => match self
                    .store
                    .block_height(&next)
                    .ok()
                    .flatten()
                    .and_then(|h| self.store.block_by_height(h).ok().flatten())
                {
                    Some(stored) => from_ledger_block(stored.block),
                    None => break,
                },
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
        out
    }

    fn committed_range(&self, from_height: u64, max_blocks: u32) -> SyncResponse {
        let head = self.store.head().map_or(0, |h| h.height);
        let mut records = Vec::new();
        let mut bytes = 0usize;
        let mut height = from_height.max(1);
        while height <= head && records.len() < max_blocks as usize {
            match self.store.block_bytes(height) {
                Ok(Some(b)) => {
                    bytes += b.len();
                    if bytes > wire::MAX_SYNC_RESPONSE_BYTES / 2 && !records.is_empty() {
                        break;
                    }
                    records.push(b);
                }
                Ok(None) => break,
                Err(e) => return SyncResponse::Unavailable(e.to_string()),
            }
            height += 1;
        }
        SyncResponse::Committed(records)
    }
}
