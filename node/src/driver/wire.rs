//! The bytes validators exchange beyond the network's own framing: consensus messages and the
//! block-sync protocol, each a canonical (BCS) encoding decoded with a size limit.

use consensus::{Block, ConsensusMsg};
use ledger::encoding::{from_canonical, to_canonical, DecodeError};
use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};
use ledger::Hash;
use serde::{Deserialize, Serialize};

use crate::payload::TxBatch;

/// Largest consensus message (matches the network's limit).
pub const MAX_CONSENSUS_BYTES: usize = 4 << 20;
/// Largest sync response (matches the network's limit).
pub const MAX_SYNC_RESPONSE_BYTES: usize = 32 << 20;
/// Largest sync request.
pub const MAX_SYNC_REQUEST_BYTES: usize = 1024;
/// Most blocks served for one `Fetch` or `Committed` request.
pub const MAX_BLOCKS_PER_SYNC: u32 = 64;
/// Most ledger certificates served for one `LedgerCertificates` request.
pub const MAX_CERTIFICATES_PER_SYNC: u32 = 64;

pub fn encode_consensus(msg: &ConsensusMsg<TxBatch>) -> Vec<u8> {
    to_canonical(msg)
}

pub fn decode_consensus(bytes: &[u8]) -> Result<ConsensusMsg<TxBatch>, DecodeError> {
    from_canonical("consensus message", bytes, MAX_CONSENSUS_BYTES)
}

/// A question one validator asks another over `/waybill/sync/1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncRequest {
    /// The consensus core's fetch: block `id` and up to `count - 1` ancestors, newest first.
    Fetch { id: Hash, count: u32 },
    /// The peer's committed head.
    Head,
    /// Committed blocks from `from_height` on (with their certificates), oldest first.
    Committed { from_height: u64, max_blocks: u32 },
    /// The sender's signature over the checkpoint it computed after executing a height. Sent to
    /// every validator on this request-response protocol rather than the consensus one: it is
    /// not a consensus message (the core never sees it), it is small (far below
    /// `MAX_SYNC_REQUEST_BYTES`), and the answer is a plain acknowledgement.
    CheckpointVote {
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    },
    /// The stored ledger certificates of heights `from_height..from_height + max` (those the
    /// peer has), for a node that restarted or caught up and missed the votes.
    LedgerCertificates { from_height: u64, max: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = ""))]
pub enum SyncResponse {
    Blocks(Vec<Block<TxBatch>>),
    Head {
        height: u64,
        hash: Hash,
    },
    /// Canonical [`ledger::stored::StoredBlock`] bytes, oldest first.
    Committed(Vec<Vec<u8>>),
    /// The peer could not answer (the reason is for logs).
    Unavailable(String),
    /// A checkpoint vote was received (not necessarily counted: that is the receiver's business).
    VoteReceived,
    /// Ledger certificates, by increasing height; each names its own height.
    LedgerCertificates(Vec<LedgerCertificate>),
}

pub fn encode_request(req: &SyncRequest) -> Vec<u8> {
    to_canonical(req)
}

pub fn decode_request(bytes: &[u8]) -> Result<SyncRequest, DecodeError> {
    from_canonical("sync request", bytes, MAX_SYNC_REQUEST_BYTES)
}

pub fn encode_response(resp: &SyncResponse) -> Vec<u8> {
    to_canonical(resp)
}

pub fn decode_response(bytes: &[u8]) -> Result<SyncResponse, DecodeError> {
    from_canonical("sync response", bytes, MAX_SYNC_RESPONSE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_junk_is_an_error() {
        for req in [
            SyncRequest::Head,
            SyncRequest::Fetch {
                id: Hash([3; 32]),
                count: 4,
            },
            SyncRequest::Committed {
                from_height: 9,
                max_blocks: 64,
            },
            SyncRequest::LedgerCertificates {
                from_height: 3,
                max: 64,
            },
        ] {
            assert_eq!(decode_request(&encode_request(&req)).unwrap(), req);
        }
        assert!(decode_request(&[9, 9, 9]).is_err());
        // A vote with the longest chain id fits the request limit with room to spare.
        let key = ledger::KeyPair::from_secret([1; 32]);
        let checkpoint = LedgerCheckpoint {
            chain_id: "c".repeat(ledger::tx::MAX_CHAIN_ID_LEN),
            height: u64::MAX,
            block_hash: Hash([1; 32]),
            state_root: Hash([2; 32]),
            accumulator_root: Hash([3; 32]),
            accumulator_size: u64::MAX,
        };
        let vote = SyncRequest::CheckpointVote {
            vote: CheckpointVote::sign(&key, &checkpoint),
            checkpoint,
        };
        let bytes = encode_request(&vote);
        assert!(bytes.len() < MAX_SYNC_REQUEST_BYTES / 2, "{}", bytes.len());
        assert_eq!(decode_request(&bytes).unwrap(), vote);
        assert!(decode_response(&[]).is_err());
        assert!(decode_consensus(&[0xff; 10]).is_err());
    }
}
