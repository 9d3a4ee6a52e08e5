//! The bytes validators exchange beyond the network's own framing: consensus messages and the
//! block-sync protocol, each a canonical (BCS) encoding decoded with a size limit.
//!
//! A proposal travels compact: transactions the replicas already hold are named by hash (see
//! [`TxRef`]), and a replica rebuilds the block from its mempool, or fetches it from the
//! proposer when something is missing. Everything else travels whole.

use consensus::{Block, ConsensusMsg, Proposal, TimeoutCert};
use ledger::encoding::{from_canonical, to_canonical, DecodeError};
use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};
use ledger::{BlockHeader, Hash, Signature, SignedTransaction};
use serde::{Deserialize, Serialize};

use crate::payload::TxBatch;

/// Largest consensus message (matches the network's limit).
pub const MAX_CONSENSUS_BYTES: usize = 4 << 20;
/// Largest sync response (matches the network's limit).
pub const MAX_SYNC_RESPONSE_BYTES: usize = 32 << 20;
/// Largest sync request (room for a `Transactions` request of [`MAX_TXS_PER_FETCH`]).
pub const MAX_SYNC_REQUEST_BYTES: usize = 8 << 10;
/// Most blocks served for one `Fetch` or `Committed` request.
pub const MAX_BLOCKS_PER_SYNC: u32 = 64;
/// Most ledger certificates served for one `LedgerCertificates` request.
pub const MAX_CERTIFICATES_PER_SYNC: u32 = 64;
/// Most transactions one `Transactions` request asks for. A compact proposal missing more than
/// this at its second look is fetched whole. Under load a replica's intake can lag by hundreds
/// of transactions, so a few dozen was too few (at 10,000 tx/s most fetches were still whole).
pub const MAX_TXS_PER_FETCH: usize = 2_048;

/// Largest quorum certificate: its vote data and a signature from every validator.
const MAX_QC_BYTES: usize = 128 + ledger::genesis::MAX_VALIDATORS * (2 + 64) + 8;
/// Largest timeout certificate: an entry for every validator and its high QC.
const MAX_TC_BYTES: usize = 64 + ledger::genesis::MAX_VALIDATORS * (2 + 8 + 64) + MAX_QC_BYTES;
/// Room for enum tags, the proposal's signature and length prefixes around a block.
const PROPOSAL_FRAMING: usize = 128;

// Every message that carries a block fits its own limit whenever the block is valid (the
// ledger's `check_block`): a whole proposal on the consensus protocol, a stored block in a sync
// answer (served with at least one block in the first half of the answer), a block in a
// consensus record.
const _: () = assert!(
    ledger::block::MAX_BLOCK_BYTES + MAX_TC_BYTES + PROPOSAL_FRAMING <= MAX_CONSENSUS_BYTES
);
const _: () = assert!(ledger::stored::MAX_STORED_BLOCK_BYTES <= MAX_SYNC_RESPONSE_BYTES / 2);
const _: () =
    assert!(ledger::block::MAX_BLOCK_BYTES <= ledger::store_api::MAX_CONSENSUS_RECORD_BYTES);
// A `Transactions` request for the most transactions fits the request limit (a tag, the block
// id, a length and two bytes an index); every place in a block fits an index; and the answer,
// some transactions of one valid block, fits the response limit.
const _: () = assert!(1 + 32 + 2 + 2 * MAX_TXS_PER_FETCH <= MAX_SYNC_REQUEST_BYTES);
const _: () = assert!(ledger::block::MAX_BLOCK_TXS <= u16::MAX as usize + 1);
const _: () = assert!(ledger::block::MAX_BLOCK_BYTES + 64 <= MAX_SYNC_RESPONSE_BYTES);

/// What travels on the consensus protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = ""))]
pub enum WireConsensus {
    /// Any consensus message, whole.
    Full(ConsensusMsg<TxBatch>),
    /// A proposal with its transactions named or carried ([`TxRef`]).
    Compact(CompactProposal),
    /// The sender's signature over the checkpoint it computed after executing a height (see
    /// `certify`). Not a consensus message (the core never sees it), but it goes to the same
    /// peers, once a height, as often as votes do. As a sync request each one opened a stream
    /// of its own and waited for an empty answer: three of every four messages a validator
    /// sent were these.
    CheckpointVote {
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    },
}

/// A proposal whose payload names, by hash, the transactions the receivers already hold. The
/// header (and so the block id, the tx root and the proposer's signature) is the proposal's own:
/// a replica that rebuilds the payload wrongly gets a block whose transactions do not match its
/// tx root, which its core refuses like any other bad proposal. The tx root covers transaction
/// hashes, which leave the signature out, so each name also pins its signature's bytes
/// ([`SignaturePin`]): otherwise a replica holding another valid signature of the same
/// transaction would store other bytes than the leader for the same block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactProposal {
    pub header: BlockHeader,
    pub txs: Vec<TxRef>,
    pub tc: Option<TimeoutCert>,
    pub signature: Signature,
}

/// One transaction of a compact proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxRef {
    /// The receivers got it by gossip from its origin, as the proposer did: its hash, and which
    /// of its signatures the block carries.
    Hash { tx: Hash, signature: SignaturePin },
    /// Carried whole: the proposer's own clients submitted it, and the others may not have it yet.
    Body(Box<SignedTransaction>),
}

impl TxRef {
    /// The name of `tx` in a compact proposal.
    pub fn named(tx: &SignedTransaction) -> Self {
        TxRef::Hash {
            tx: tx.hash(),
            signature: SignaturePin::of(&tx.signature),
        }
    }
}

/// Which signature bytes a transaction named by hash carries. A transaction's hash leaves its
/// signature out, and one transaction can have several valid signatures: its signer can sign
/// again with another nonce, and anyone can add a small-order point to a signature's R where
/// the verification rule is cofactored. 16 bytes of a domain-separated BLAKE3 keep even the
/// signer from finding two signatures with one pin (a birthday search of 2^64 hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignaturePin(pub [u8; SIGNATURE_PIN_LEN]);

pub const SIGNATURE_PIN_LEN: usize = 16;
const SIGNATURE_PIN_DOMAIN: &[u8] = b"waybill/signature-pin/v1";

impl SignaturePin {
    pub fn of(signature: &Signature) -> Self {
        let mut data = [0u8; SIGNATURE_PIN_DOMAIN.len() + ledger::crypto::SIGNATURE_LEN];
        data[..SIGNATURE_PIN_DOMAIN.len()].copy_from_slice(SIGNATURE_PIN_DOMAIN);
        data[SIGNATURE_PIN_DOMAIN.len()..].copy_from_slice(&signature.0);
        let mut pin = [0u8; SIGNATURE_PIN_LEN];
        pin.copy_from_slice(&Hash::blake3(&data).as_bytes()[..SIGNATURE_PIN_LEN]);
        SignaturePin(pin)
    }
}

impl CompactProposal {
    /// The proposal with each transaction named by hash where `others_hold` says so.
    pub fn of(
        proposal: &Proposal<TxBatch>,
        others_hold: impl Fn(&SignedTransaction) -> bool,
    ) -> Self {
        CompactProposal {
            header: proposal.block.header.clone(),
            txs: proposal
                .block
                .payload
                .txs
                .iter()
                .map(|t| {
                    if others_hold(t) {
                        TxRef::named(t)
                    } else {
                        TxRef::Body(Box::new(t.clone()))
                    }
                })
                .collect(),
            tc: proposal.tc.clone(),
            signature: proposal.signature,
        }
    }

    /// The whole proposal, with named transactions taken from `lookup`; `None` if any of them
    /// is unknown there, or known only with another signature.
    pub fn rebuild(
        &self,
        lookup: impl Fn(&Hash) -> Option<SignedTransaction>,
    ) -> Option<Proposal<TxBatch>> {
        let txs = self
            .txs
            .iter()
            .map(|r| match r {
                TxRef::Hash { tx, signature } => {
                    lookup(tx).filter(|t| SignaturePin::of(&t.signature) == *signature)
                }
                TxRef::Body(t) => Some(SignedTransaction::clone(t)),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(self.with_payload(TxBatch::new(txs)))
    }

    /// Whether `payload` (fetched from the proposer) is the one this proposal names: the same
    /// transactions with the same signatures. The tx root alone would accept other signatures.
    pub fn names(&self, payload: &TxBatch) -> bool {
        payload.txs.len() == self.txs.len()
            && self
                .txs
                .iter()
                .zip(payload.txs.iter())
                .all(|(r, t)| match r {
                    TxRef::Hash { tx, signature } => {
                        t.hash() == *tx && SignaturePin::of(&t.signature) == *signature
                    }
                    TxRef::Body(body) => **body == *t,
                })
    }

    /// The places of the transactions named by hash that `holds` (a hash and a signature pin)
    /// says are not here, in increasing order: what to ask the proposer for.
    pub fn missing(&self, holds: impl Fn(&Hash, &SignaturePin) -> bool) -> Vec<u16> {
        self.txs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                // Every place fits: a compact proposal has at most `MAX_BLOCK_TXS` (asserted
                // above); one with more is refused by the core whatever is fetched for it.
                TxRef::Hash { tx, signature } if !holds(tx, signature) => u16::try_from(i).ok(),
                _ => None,
            })
            .collect()
    }

    /// Whether `txs` (fetched from the proposer) are the transactions this proposal names by
    /// hash at places `indices`: the same hashes with the same signatures.
    pub fn names_at(&self, indices: &[u16], txs: &[SignedTransaction]) -> bool {
        indices.len() == txs.len()
            && indices
                .iter()
                .zip(txs)
                .all(|(&i, t)| match self.txs.get(usize::from(i)) {
                    Some(TxRef::Hash { tx, signature }) => {
                        t.hash() == *tx && SignaturePin::of(&t.signature) == *signature
                    }
                    _ => false,
                })
    }

    /// The proposal with `payload` as its transactions (fetched from the proposer and checked
    /// with [`CompactProposal::names`]).
    pub fn with_payload(&self, payload: TxBatch) -> Proposal<TxBatch> {
        Proposal {
            block: Block {
                header: self.header.clone(),
                payload,
            },
            tc: self.tc.clone(),
            signature: self.signature,
        }
    }

    /// The id of the proposed block.
    pub fn block_id(&self) -> Hash {
        self.header.hash()
    }
}

/// [`WireConsensus`] by reference: the same bytes, without copying a message to encode it.
#[derive(Serialize)]
enum WireConsensusRef<'a> {
    Full(&'a ConsensusMsg<TxBatch>),
    Compact(&'a CompactProposal),
    CheckpointVote {
        checkpoint: &'a LedgerCheckpoint,
        vote: &'a CheckpointVote,
    },
}

pub fn encode_consensus(msg: &ConsensusMsg<TxBatch>) -> Vec<u8> {
    to_canonical(&WireConsensusRef::Full(msg))
}

/// A proposal, compact (see [`CompactProposal::of`]).
pub fn encode_compact(proposal: &CompactProposal) -> Vec<u8> {
    to_canonical(&WireConsensusRef::Compact(proposal))
}

/// A checkpoint vote, for the consensus link.
pub fn encode_checkpoint_vote(checkpoint: &LedgerCheckpoint, vote: &CheckpointVote) -> Vec<u8> {
    to_canonical(&WireConsensusRef::CheckpointVote { checkpoint, vote })
}

pub fn decode_consensus(bytes: &[u8]) -> Result<WireConsensus, DecodeError> {
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
    /// The sender's signature over the checkpoint it computed after executing a height, as
    /// builds before `/waybill/consensus/5` sent it. Validators now send it on the consensus
    /// link ([`WireConsensus::CheckpointVote`]); it is still taken here, by the same rule, and
    /// keeps its place so that the variants after it keep their encoding.
    CheckpointVote {
        checkpoint: LedgerCheckpoint,
        vote: CheckpointVote,
    },
    /// The stored ledger certificates of heights `from_height..from_height + max` (those the
    /// peer has), for a node that restarted or caught up and missed the votes.
    LedgerCertificates { from_height: u64, max: u32 },
    /// Some transactions of block `block`, by their places in it (increasing, at most
    /// [`MAX_TXS_PER_FETCH`]): those of a compact proposal that were still missing from the
    /// asker's mempool at its second look. Asked of the proposer, which holds its own blocks.
    Transactions { block: Hash, indices: Vec<u16> },
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
    /// The transactions a `Transactions` request asked for, in its order; none if the block is
    /// not held.
    Transactions(Vec<SignedTransaction>),
}

impl SyncResponse {
    /// What kind of answer this is (for logs).
    pub fn kind(&self) -> &'static str {
        match self {
            SyncResponse::Blocks(_) => "blocks",
            SyncResponse::Head { .. } => "a head",
            SyncResponse::Committed(_) => "committed blocks",
            SyncResponse::Unavailable(_) => "unavailable",
            SyncResponse::VoteReceived => "a vote receipt",
            SyncResponse::LedgerCertificates(_) => "ledger certificates",
            SyncResponse::Transactions(_) => "transactions",
        }
    }
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
    use consensus::Payload;
    use ledger::tx::{Payload as TxPayload, Transaction};
    use ledger::KeyPair;

    fn tx(seq: u64) -> SignedTransaction {
        let k = KeyPair::from_secret([7; 32]);
        Transaction {
            chain_id: "c".into(),
            signer: k.public(),
            sequence: seq,
            payload: TxPayload::Memo { data: vec![1; 10] },
        }
        .sign(&k)
    }

    fn proposal(txs: Vec<SignedTransaction>) -> Proposal<TxBatch> {
        let payload = TxBatch::new(txs);
        let block = Block {
            header: BlockHeader {
                chain_id: "c".into(),
                height: 1,
                round: 1,
                parent: Hash::ZERO,
                tx_root: payload.digest(),
                proposer: KeyPair::from_secret([1; 32]).public(),
                timestamp_ms: 0,
                justify: vec![],
            },
            payload,
        };
        Proposal::sign(
            Hash([9; 32]),
            0,
            block,
            None,
            &KeyPair::from_secret([1; 32]),
        )
    }

    /// Transactions the others hold go as hashes, the rest whole; the receiver gets back the
    /// very proposal from its mempool, and nothing when one named transaction is unknown.
    #[test]
    fn a_compact_proposal_rebuilds_from_the_mempool_or_not_at_all() {
        let txs = vec![tx(0), tx(1), tx(2)];
        let p = proposal(txs.clone());
        let gossiped = [txs[0].hash(), txs[2].hash()];
        let compact = CompactProposal::of(&p, |t| gossiped.contains(&t.hash()));
        assert_eq!(
            compact.txs,
            vec![
                TxRef::named(&txs[0]),
                TxRef::Body(Box::new(txs[1].clone())),
                TxRef::named(&txs[2])
            ]
        );
        assert_eq!(compact.block_id(), p.block.id());
        let bytes = encode_compact(&compact);
        let whole = encode_consensus(&ConsensusMsg::Proposal(p.clone()));
        assert!(
            bytes.len() < whole.len(),
            "{} >= {}",
            bytes.len(),
            whole.len()
        );
        let Ok(WireConsensus::Compact(back)) = decode_consensus(&bytes) else {
            panic!("a compact proposal decodes as one");
        };
        assert_eq!(back, compact);
        let mempool = |h: &Hash| txs.iter().find(|t| t.hash() == *h).cloned();
        assert_eq!(back.rebuild(mempool), Some(p.clone()));
        let without_the_last = |h: &Hash| txs[..2].iter().find(|t| t.hash() == *h).cloned();
        assert_eq!(back.rebuild(without_the_last), None);
        assert!(back.names(&p.block.payload));
        assert_eq!(back.with_payload(p.block.payload.clone()), p);
        // Every other message travels whole, and decodes as it was.
        assert_eq!(
            decode_consensus(&whole),
            Ok(WireConsensus::Full(ConsensusMsg::Proposal(p)))
        );
    }

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
            SyncRequest::Transactions {
                block: Hash([4; 32]),
                indices: (0..MAX_TXS_PER_FETCH as u16).map(|i| i * 3).collect(),
            },
        ] {
            assert_eq!(decode_request(&encode_request(&req)).unwrap(), req);
        }
        assert!(decode_request(&[9, 9, 9]).is_err());
        // A vote with the longest chain id fits the request limit with room to spare.
        let key = ledger::KeyPair::from_secret([1; 32]);
        let checkpoint = largest_checkpoint();
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

    /// A checkpoint as large as one can be: the longest chain id.
    fn largest_checkpoint() -> LedgerCheckpoint {
        LedgerCheckpoint {
            chain_id: "c".repeat(ledger::tx::MAX_CHAIN_ID_LEN),
            height: u64::MAX,
            block_hash: Hash([1; 32]),
            state_root: Hash([2; 32]),
            accumulator_root: Hash([3; 32]),
            accumulator_size: u64::MAX,
        }
    }

    #[test]
    fn a_checkpoint_vote_rides_the_consensus_link() {
        let key = ledger::KeyPair::from_secret([2; 32]);
        let checkpoint = largest_checkpoint();
        let vote = CheckpointVote::sign(&key, &checkpoint);
        let bytes = encode_checkpoint_vote(&checkpoint, &vote);
        assert_eq!(
            decode_consensus(&bytes).unwrap(),
            WireConsensus::CheckpointVote { checkpoint, vote }
        );
        // A few hundred bytes, even with the longest chain id.
        assert!(bytes.len() < 1_024, "{}", bytes.len());
    }
}
