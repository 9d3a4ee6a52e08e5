//! Messages and certificates, with the exact bytes each signature covers.
//!
//! Every signed object implements [`Canonical`] with its own domain tag and names the chain (the
//! genesis hash), so a vote, timeout or proposal for one chain can never count on another and no
//! kind of object can be replayed as another.

use ledger::encoding::{digest, from_canonical, to_canonical, Canonical, DecodeError};
use ledger::{BlockHeader, Hash, KeyPair, PublicKey, Signature};
use serde::{Deserialize, Serialize};

use crate::payload::Payload;

/// A consensus round. Round 0 is the genesis block's.
pub type Round = u64;
/// Milliseconds on the driver's clock (the core only compares and adds them).
pub type Millis = u64;

/// Names one write the core asked for. Ids grow by one per write within one core instance;
/// the driver makes writes durable in issue order and reports each with `Input::Persisted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WriteId(pub u64);

/// A block: the ledger header (its hash is the block id) and the opaque payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Payload"))]
pub struct Block<P> {
    pub header: BlockHeader,
    pub payload: P,
}

impl<P: Payload> Block<P> {
    pub fn id(&self) -> Hash {
        self.header.hash()
    }
    pub fn round(&self) -> Round {
        self.header.round
    }
    pub fn height(&self) -> u64 {
        self.header.height
    }
    /// The QC this block extends, decoded from the header's `justify` bytes.
    pub fn qc(&self) -> Result<QuorumCert, DecodeError> {
        from_canonical(
            "quorum certificate",
            &self.header.justify,
            ledger::block::MAX_JUSTIFY_BYTES,
        )
    }
}

/// What a vote signs: the block, its round, its parent and the parent's round, on one chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VoteData {
    /// Genesis hash: names the chain (and its chain id) the vote is for.
    pub chain: Hash,
    /// The epoch whose validator set signs: a vote or certificate counts in its own epoch only.
    pub epoch: u64,
    pub block_id: Hash,
    pub round: Round,
    pub parent_id: Hash,
    pub parent_round: Round,
}

impl Canonical for VoteData {
    const DOMAIN: &'static str = "waybill/consensus/vote/v2";
}

/// A validator's vote. `author` is the consensus key that signed `data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub data: VoteData,
    pub author: PublicKey,
    pub signature: Signature,
}

impl Vote {
    pub fn new(data: VoteData, key: &KeyPair) -> Vote {
        Vote {
            signature: key.sign(&data),
            author: key.public(),
            data,
        }
    }
}

/// A quorum certificate: signatures of a quorum (by voting power) of distinct validators over one
/// [`VoteData`]. `signatures` is sorted by validator index (genesis order), no index twice.
/// The genesis QC is the only one with no signatures.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuorumCert {
    pub vote_data: VoteData,
    pub signatures: Vec<(u16, Signature)>,
}

impl Canonical for QuorumCert {
    const DOMAIN: &'static str = "waybill/consensus/qc/v2";
}

impl QuorumCert {
    pub fn round(&self) -> Round {
        self.vote_data.round
    }
    pub fn epoch(&self) -> u64 {
        self.vote_data.epoch
    }
    pub fn block_id(&self) -> Hash {
        self.vote_data.block_id
    }
    /// The block this QC proves committed by the two-chain rule: its parent, when the certified
    /// block's round directly follows the parent's.
    pub fn commits(&self) -> Option<Hash> {
        (self.vote_data.round == self.vote_data.parent_round.saturating_add(1)
            && !self.signatures.is_empty())
        .then_some(self.vote_data.parent_id)
    }
    /// Identity used for caching verification results.
    pub fn hash(&self) -> Hash {
        digest(self)
    }
    /// The canonical bytes stored in a block header's `justify`.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_canonical(self)
    }
}

/// What a timeout signs: "I will not vote in `round` any more, and the highest QC I hold is of
/// round `high_qc_round`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutData {
    pub chain: Hash,
    pub epoch: u64,
    pub round: Round,
    pub high_qc_round: Round,
}

impl Canonical for TimeoutData {
    const DOMAIN: &'static str = "waybill/consensus/timeout/v2";
}

/// A signed timeout with the sender's highest QC (whose round is `data.high_qc_round`) and, when
/// it entered `round` through a TC, that TC (unsigned here: a TC proves itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeout {
    pub data: TimeoutData,
    pub high_qc: QuorumCert,
    pub last_tc: Option<TimeoutCert>,
    pub author: PublicKey,
    pub signature: Signature,
}

impl Timeout {
    pub fn round(&self) -> Round {
        self.data.round
    }
}

/// A timeout certificate: a quorum of signed timeouts for one round. Each entry is
/// (validator index, that validator's high QC round, its signature over [`TimeoutData`]), sorted by
/// index; `high_qc` is the highest of those QCs (its round is the maximum entry round).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutCert {
    pub chain: Hash,
    pub epoch: u64,
    pub round: Round,
    pub entries: Vec<(u16, Round, Signature)>,
    pub high_qc: QuorumCert,
}

impl Canonical for TimeoutCert {
    const DOMAIN: &'static str = "waybill/consensus/tc/v2";
}

impl TimeoutCert {
    /// The highest QC round any signer reported: a block proposed on this TC must extend a QC at
    /// least this high.
    pub fn max_high_qc_round(&self) -> Round {
        self.entries.iter().map(|e| e.1).max().unwrap_or(0)
    }
}

/// What a proposer signs: the block id (which covers the whole header, payload digest and
/// justify QC included) and, if present, the TC that justifies the round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalData {
    pub chain: Hash,
    pub epoch: u64,
    pub block_id: Hash,
    pub round: Round,
    pub tc_round: Option<Round>,
}

impl Canonical for ProposalData {
    const DOMAIN: &'static str = "waybill/consensus/proposal/v2";
}

/// A leader's proposal: the block (header + payload) and, when the block does not directly follow
/// its QC's round, the TC of the previous round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Payload"))]
pub struct Proposal<P> {
    pub block: Block<P>,
    pub tc: Option<TimeoutCert>,
    pub signature: Signature,
}

impl<P: Payload> Proposal<P> {
    pub fn signed_data(
        chain: Hash,
        epoch: u64,
        block: &Block<P>,
        tc: &Option<TimeoutCert>,
    ) -> ProposalData {
        ProposalData {
            chain,
            epoch,
            block_id: block.id(),
            round: block.round(),
            tc_round: tc.as_ref().map(|t| t.round),
        }
    }
    /// Signs a proposal. Honest cores only sign through `SafetyRules`; this is public so that
    /// tests and the simulator's Byzantine leaders can build their own.
    pub fn sign(
        chain: Hash,
        epoch: u64,
        block: Block<P>,
        tc: Option<TimeoutCert>,
        key: &KeyPair,
    ) -> Self {
        let signature = key.sign(&Self::signed_data(chain, epoch, &block, &tc));
        Proposal {
            block,
            tc,
            signature,
        }
    }
    pub fn author(&self) -> PublicKey {
        self.block.header.proposer
    }
    pub fn round(&self) -> Round {
        self.block.round()
    }
}

/// A node's view of the chain, sent to a peer that is behind (it keeps timing out a round this
/// node has left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncInfo {
    pub high_qc: QuorumCert,
    pub high_tc: Option<TimeoutCert>,
}

/// Everything validators send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "P: Payload"))]
pub enum ConsensusMsg<P> {
    Proposal(Proposal<P>),
    Vote(Vote),
    Timeout(Timeout),
    SyncInfo(SyncInfo),
}

impl<P: Payload> ConsensusMsg<P> {
    /// The validator that signed the message; a SyncInfo carries only others' certificates.
    pub fn signer(&self) -> Option<PublicKey> {
        match self {
            ConsensusMsg::Proposal(p) => Some(p.author()),
            ConsensusMsg::Vote(v) => Some(v.author),
            ConsensusMsg::Timeout(t) => Some(t.author),
            ConsensusMsg::SyncInfo(_) => None,
        }
    }

    /// The epoch a message claims to belong to.
    pub fn epoch(&self) -> u64 {
        match self {
            ConsensusMsg::Proposal(p) => p.block.qc().map_or(u64::MAX, |qc| qc.epoch()),
            ConsensusMsg::Vote(v) => v.data.epoch,
            ConsensusMsg::Timeout(t) => t.data.epoch,
            ConsensusMsg::SyncInfo(s) => s.high_qc.epoch(),
        }
    }

    /// The round a message belongs to (for SyncInfo: the round it lets the receiver enter).
    pub fn round(&self) -> Round {
        match self {
            ConsensusMsg::Proposal(p) => p.round(),
            ConsensusMsg::Vote(v) => v.data.round,
            ConsensusMsg::Timeout(t) => t.round(),
            ConsensusMsg::SyncInfo(s) => {
                let qc = s.high_qc.round().saturating_add(1);
                s.high_tc
                    .as_ref()
                    .map_or(qc, |t| qc.max(t.round.saturating_add(1)))
            }
        }
    }
}
