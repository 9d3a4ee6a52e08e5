//! Shared setup for the benchmarks in `benches/`: deterministic keys and signed transactions, a
//! transaction-batch payload for the consensus core (the node's own `TxBatch`, which lives in the
//! binary crate), a 4-validator consensus scenario, and a chain of realistic blocks for the store.
//!
//! Everything here is deterministic (keys come from fixed secrets), so two runs measure the same
//! work. Nothing here is timed: the benches time only the call they are named after.

pub mod loadgen;

use std::path::Path;
use std::time::Duration;

use consensus::{AcceptAll, Action, ConsensusMsg, Core, Input, Proposal, QuorumCert, Vote};
use ledger::block::{Block, BlockHeader};
use ledger::execute::execute_block;
use ledger::merkle::tx_root;
use ledger::proof::{CheckpointVote, LedgerCertificate};
use ledger::receipt::Receipt;
use ledger::storage::{CommitInfo, Store, StoreError};
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{Genesis, Hash, KeyPair, SignedTransaction};
use serde::{Deserialize, Serialize};

/// How long each benchmark measures, after [`WARM_UP`]; short, so the whole set runs in minutes.
pub const MEASUREMENT: Duration = Duration::from_secs(3);
pub const WARM_UP: Duration = Duration::from_secs(1);
/// Criterion samples per benchmark (its minimum is 10).
pub const SAMPLES: usize = 20;

pub const CHAIN_ID: &str = "waybill-bench";
/// Bytes of memo in every benchmark transaction: with the envelope (chain id, signer, sequence,
/// signature) a signed transaction is [`SIGNED_TX_BYTES`] in canonical encoding, about the size
/// of a small supply-chain event.
pub const MEMO_BYTES: usize = 100;
pub const SIGNED_TX_BYTES: usize = 220;
/// Distinct signing accounts the transactions rotate through.
pub const ACCOUNTS: usize = 64;

/// A deterministic key: `tag` separates families (validators, accounts, ...), `i` the member.
pub fn key(tag: u8, i: u32) -> KeyPair {
    let mut secret = [tag; 32];
    secret[..4].copy_from_slice(&i.to_le_bytes());
    KeyPair::from_secret(secret)
}

/// The `ACCOUNTS` client accounts.
pub fn accounts() -> Vec<KeyPair> {
    (0..ACCOUNTS as u32).map(|i| key(0xA0, i)).collect()
}

/// An unsigned memo transaction of `MEMO_BYTES` bytes whose content depends on `nonce`.
pub fn memo(signer: &KeyPair, sequence: u64, nonce: u64) -> Transaction {
    let mut data = vec![0u8; MEMO_BYTES];
    data[..8].copy_from_slice(&nonce.to_le_bytes());
    Transaction {
        chain_id: CHAIN_ID.into(),
        signer: signer.public(),
        sequence,
        payload: TxPayload::Memo { data },
    }
}

/// `n` signed transactions, round-robin over `accounts`, each carrying its account's next
/// sequence number from `next_sequence` (which is advanced). `nonce` makes the memos unique.
pub fn signed_txs(
    accounts: &[KeyPair],
    next_sequence: &mut [u64],
    n: usize,
    nonce: u64,
) -> Vec<SignedTransaction> {
    (0..n)
        .map(|i| {
            let a = i % accounts.len();
            let seq = next_sequence[a];
            next_sequence[a] += 1;
            memo(&accounts[a], seq, nonce.wrapping_mul(1 << 20) + i as u64).sign(&accounts[a])
        })
        .collect()
}

/// `n` signed transactions from fresh sequence numbers (for signature benchmarks).
pub fn sample_txs(n: usize) -> Vec<SignedTransaction> {
    let accounts = accounts();
    let mut seqs = vec![0; accounts.len()];
    signed_txs(&accounts, &mut seqs, n, 0)
}

// ---- consensus ---------------------------------------------------------------------------

/// The 4 validators' consensus keys (equal power, quorum 3).
pub fn validator_keys() -> Vec<KeyPair> {
    (0..4).map(|i| key(0xC0, i)).collect()
}

/// The benches' chain: [`validator_keys`] as its validators, no organizations or accounts (memos
/// are open to any signer).
pub fn bench_genesis() -> Genesis {
    let keys: Vec<_> = validator_keys()
        .iter()
        .enumerate()
        .map(|(i, k)| (k.public(), key(0xD0, i as u32).public()))
        .collect();
    let genesis = Genesis::of_validators(CHAIN_ID, &keys);
    genesis.validate().expect("bench genesis is valid");
    genesis
}

/// What the node's blocks carry (a copy of `waybill_node::payload::TxBatch`, which lives in the
/// binary crate): signed transactions whose digest is the ledger's `tx_root`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBatch {
    pub txs: Vec<SignedTransaction>,
}

impl consensus::Payload for TxBatch {
    fn digest(&self) -> Hash {
        tx_root(&self.txs.iter().map(|t| t.hash()).collect::<Vec<_>>())
    }
    fn empty() -> Self {
        TxBatch::default()
    }
}

/// The core as the benches run it. The payload validator accepts everything: in the node the
/// transactions of a proposal were already verified when they arrived by gossip (the verified
/// cache), and signature verification has benchmarks of its own.
pub type BenchCore = Core<TxBatch, AcceptAll>;

/// A 4-validator network (equal power, quorum 3) and the messages of its first two rounds, all
/// really signed. Leaders are round-robin: validator 1 leads round 1, validator 2 round 2.
pub struct ConsensusScenario {
    pub genesis: Genesis,
    pub keys: Vec<KeyPair>,
    /// Round 1, by validator 1, on the genesis QC (which has no signatures).
    pub proposal1: Proposal<TxBatch>,
    /// Votes for `proposal1` by validators 0 and 1 (sent to validator 2, the next leader).
    pub votes1: Vec<(usize, Vote)>,
    /// The payload validator 2 proposes in round 2.
    pub payload2: TxBatch,
    /// Round 2, by validator 2, carrying the QC of round 1 (three signatures).
    pub proposal2: Proposal<TxBatch>,
}

impl ConsensusScenario {
    /// Both proposals carry `txs_per_block` transactions.
    pub fn new(txs_per_block: usize) -> Self {
        let keys = validator_keys();
        let genesis = bench_genesis();
        let accounts = accounts();
        let mut seqs = vec![0; accounts.len()];
        let payload1 = TxBatch {
            txs: signed_txs(&accounts, &mut seqs, txs_per_block, 1),
        };
        let payload2 = TxBatch {
            txs: signed_txs(&accounts, &mut seqs, txs_per_block, 2),
        };
        let mut s = ConsensusScenario {
            genesis,
            keys,
            proposal1: proposal_placeholder(),
            votes1: vec![],
            payload2,
            proposal2: proposal_placeholder(),
        };

        let (mut leader1, _) = s.core(1);
        let acts = leader1.handle(
            1,
            Input::PayloadReady {
                round: 1,
                payload: payload1,
            },
        );
        s.proposal1 = proposal_of(&acts).expect("validator 1 proposes round 1");
        let v1 = vote_of(&acts).expect("validator 1 votes for its own proposal");
        let (mut replica0, _) = s.core(0);
        let v0 = vote_of(&replica0.handle(2, s.message(1, proposal1_msg(&s))))
            .expect("validator 0 votes for round 1");
        s.votes1 = vec![(1, v1), (0, v0)];

        let (mut leader2, acts) = s.leader_round(2);
        assert!(
            acts.iter()
                .any(|a| matches!(a, Action::RequestPayload { round: 2, .. })),
            "validator 2 forms the QC of round 1 and asks for a payload: {acts:?}"
        );
        let acts = leader2.handle(
            4,
            Input::PayloadReady {
                round: 2,
                payload: s.payload2.clone(),
            },
        );
        s.proposal2 = proposal_of(&acts).expect("validator 2 proposes round 2");
        assert_eq!(
            s.proposal2.block.qc().expect("QC decodes").signatures.len(),
            3
        );
        s
    }

    /// A fresh core of validator `i` at genesis.
    pub fn core(&self, i: usize) -> (BenchCore, Vec<Action<TxBatch>>) {
        Core::new(&self.genesis, self.keys[i].clone(), AcceptAll, 0)
    }

    pub fn message(&self, from: usize, msg: ConsensusMsg<TxBatch>) -> Input<TxBatch> {
        Input::Message {
            from: self.keys[from].public(),
            msg,
        }
    }

    /// Validator 2's part of round 1, from a fresh core: the proposal (it votes for it itself),
    /// then the votes of 1 and 0, which complete the QC, enter round 2 and ask for a payload.
    /// Returns the core and the last input's actions. (Benchmarked by `consensus/leader_*`.)
    pub fn leader_round(&self, now: u64) -> (BenchCore, Vec<Action<TxBatch>>) {
        let (mut core, _) = self.core(2);
        core.handle(now, self.message(1, proposal1_msg(self)));
        let mut last = vec![];
        for (from, vote) in &self.votes1 {
            last = core.handle(now, self.message(*from, ConsensusMsg::Vote(vote.clone())));
        }
        (core, last)
    }
}

fn proposal1_msg(s: &ConsensusScenario) -> ConsensusMsg<TxBatch> {
    ConsensusMsg::Proposal(s.proposal1.clone())
}

fn proposal_placeholder() -> Proposal<TxBatch> {
    let k = key(0xFF, 0);
    let block = consensus::Block {
        header: BlockHeader {
            chain_id: CHAIN_ID.into(),
            height: 0,
            round: 0,
            parent: Hash::ZERO,
            tx_root: Hash::ZERO,
            proposer: k.public(),
            timestamp_ms: 0,
            justify: vec![],
        },
        payload: TxBatch::default(),
    };
    Proposal::sign(Hash::ZERO, 0, block, None, &k)
}

/// The proposal among `actions`, if any.
pub fn proposal_of(actions: &[Action<TxBatch>]) -> Option<Proposal<TxBatch>> {
    actions.iter().find_map(|a| match a {
        Action::Broadcast {
            msg: ConsensusMsg::Proposal(p),
            ..
        } => Some(p.clone()),
        _ => None,
    })
}

/// The vote among `actions`, if any.
pub fn vote_of(actions: &[Action<TxBatch>]) -> Option<Vote> {
    actions.iter().find_map(|a| match a {
        Action::Send {
            msg: ConsensusMsg::Vote(v),
            ..
        } => Some(v.clone()),
        _ => None,
    })
}

// ---- storage -----------------------------------------------------------------------------

/// A store and the state needed to make the next block on top of it: blocks of real signed
/// memo transactions from [`ACCOUNTS`] accounts with valid sequence numbers, executed like the
/// node executes them, each with a certificate the size of a real 3-of-4 QC.
pub struct StoreChain {
    pub store: Store,
    accounts: Vec<KeyPair>,
    next_sequence: Vec<u64>,
    validators: Vec<KeyPair>,
    nonce: u64,
}

/// Everything one commit writes, prepared in advance so that the benchmark times the commit only.
pub struct PreparedBlock {
    pub block: Block,
    pub certificate: Vec<u8>,
    pub receipts: Vec<Receipt>,
    pub delta: ledger::execute::StateDelta,
}

impl StoreChain {
    /// Opens (creating) a store at `path` and commits the genesis block.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_as(
            path,
            Hash::blake3(b"waybill-bench genesis"),
            &ledger::execute::StateDelta::new(),
        )
    }

    /// [`StoreChain::open`] for the chain of [`bench_genesis`]: its hash and initial state, so
    /// that `waybill audit ledger` can audit the store against that genesis file.
    pub fn open_for(path: &Path, genesis: &Genesis) -> Result<Self, StoreError> {
        Self::open_as(
            path,
            genesis.hash(),
            &ledger::supply::genesis_state(genesis),
        )
    }

    fn open_as(
        path: &Path,
        genesis_hash: Hash,
        genesis_state: &ledger::execute::StateDelta,
    ) -> Result<Self, StoreError> {
        let store = Store::open(path)?;
        let validators = validator_keys();
        let genesis = Block {
            header: BlockHeader {
                chain_id: CHAIN_ID.into(),
                height: 0,
                round: 0,
                parent: Hash::ZERO,
                tx_root: tx_root(&[]),
                proposer: ledger::PublicKey([0; 32]),
                timestamp_ms: 0,
                justify: vec![],
            },
            txs: vec![],
        };
        store.init_genesis_with_state(genesis_hash, &genesis, genesis_state)?;
        let accounts = accounts();
        Ok(StoreChain {
            store,
            next_sequence: vec![0; accounts.len()],
            accounts,
            validators,
            nonce: 0,
        })
    }

    /// The next block with `n` transactions, executed against the store (receipts and state
    /// changes), with a 3-signature QC as both its `justify` and its commit certificate.
    pub fn prepare(&mut self, n: usize) -> Result<PreparedBlock, ledger::execute::ExecError> {
        let head = self.store.head().expect("the store holds genesis");
        self.nonce += 1;
        let txs = signed_txs(&self.accounts, &mut self.next_sequence, n, self.nonce);
        let qc = self.qc(head.hash, head.height).to_bytes();
        let height = head.height + 1;
        let block = Block {
            header: BlockHeader {
                chain_id: CHAIN_ID.into(),
                height,
                round: height,
                parent: head.hash,
                tx_root: tx_root(&txs.iter().map(|t| t.hash()).collect::<Vec<_>>()),
                proposer: self.validators[(height % 4) as usize].public(),
                timestamp_ms: 1_767_225_600_000 + height,
                justify: qc.clone(),
            },
            txs,
        };
        let execution = execute_block(CHAIN_ID, &block.txs, &self.store)?;
        assert!(
            execution
                .statuses
                .iter()
                .all(|s| *s == ledger::receipt::ExecStatus::Success),
            "every benchmark transaction executes successfully"
        );
        let receipts = execution.receipts(&block, self.store.accumulator_size());
        Ok(PreparedBlock {
            block,
            certificate: qc,
            receipts,
            delta: execution.delta,
        })
    }

    /// Commits a prepared block as the node does: block, indexes, receipts, accumulator nodes and
    /// state in one fsynced batch.
    pub fn commit(&self, p: &PreparedBlock) -> Result<CommitInfo, StoreError> {
        self.store
            .commit_block_with_state(&p.block, &p.certificate, &p.receipts, &p.delta)
    }

    /// Stores a ledger certificate for `height` signed by validators 0..3, as a node does once
    /// a quorum has signed the height's checkpoint (verified against `genesis` first).
    pub fn certify(&self, genesis: &Genesis, height: u64) -> Result<(), StoreError> {
        let checkpoint = self
            .store
            .ledger_checkpoint(height)?
            .expect("a committed height has a checkpoint");
        let cert = LedgerCertificate {
            signatures: self
                .validators
                .iter()
                .take(3)
                .map(|k| CheckpointVote::sign(k, &checkpoint))
                .collect(),
            checkpoint,
        };
        let cert = cert
            .verified(genesis)
            .expect("validators 0..3 of the generated genesis are a quorum");
        self.store.put_ledger_certificate(&cert)?;
        Ok(())
    }

    /// A QC by validators 0..3 on `block_id` (the sizes are what matter to the store).
    fn qc(&self, block_id: Hash, round: u64) -> QuorumCert {
        let vote_data = consensus::VoteData {
            chain: Hash::blake3(b"waybill-bench genesis"),
            epoch: 0,
            block_id,
            round: round.max(1),
            parent_id: Hash::ZERO,
            parent_round: round.saturating_sub(1),
        };
        QuorumCert {
            signatures: self
                .validators
                .iter()
                .take(3)
                .enumerate()
                .map(|(i, k)| (i as u16, k.sign(&vote_data)))
                .collect(),
            vote_data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_transactions_have_the_documented_size_and_verify() {
        let txs = sample_txs(3);
        assert_eq!(txs[0].to_bytes().len(), SIGNED_TX_BYTES);
        assert!(ledger::tx::verify_transactions(CHAIN_ID, &txs)
            .iter()
            .all(Result::is_ok));
    }

    #[test]
    fn consensus_scenario_runs_two_rounds() {
        let s = ConsensusScenario::new(3);
        assert_eq!(s.proposal2.block.payload.txs.len(), 3);
        assert_eq!(s.proposal2.block.header.parent, s.proposal1.block.id());
    }

    #[test]
    fn store_chain_commits_executed_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = StoreChain::open(dir.path()).unwrap();
        for n in [1, 70] {
            let p = chain.prepare(n).unwrap();
            chain.commit(&p).unwrap();
        }
        assert_eq!(chain.store.head().unwrap().height, 2);
        assert_eq!(chain.store.accumulator_size(), 71);
    }
}
