//! Seed inputs for every target, built from real encodings: transactions of every payload kind
//! signed by real keys, consensus messages and certificates signed by the fuzz chain's
//! validators, the example proofs and genesis files of `docs/` and `genesis/`, a consensus
//! program that reaches commits, a timeout certificate and a restart. `examples/seeds.rs` writes
//! them to `corpus/<target>/`; the fuzzer grows from there.

use consensus::{
    genesis_block, Block, ConsensusMsg, Payload as _, Proposal, QuorumCert, SyncInfo, Timeout,
    TimeoutCert, TimeoutData, Vote, VoteData,
};
use ledger::block::{Block as LedgerBlock, BlockHeader};
use ledger::encoding::to_canonical;
use ledger::proof::{CheckpointVote, LedgerCertificate, LedgerCheckpoint};
use ledger::receipt::{ExecStatus, Receipt};
use ledger::stored::{receipt_to_bytes, StoredBlock};
use ledger::tx::{Payload as TxPayload, Transaction};
use ledger::{Hash, SignedTransaction};

use crate::fixtures::{self, CHAIN_ID};
use crate::payload::Txs;
use crate::targets::consensus_core::{Op, Program};

/// One JSON payload of every kind (`ledger::tx::Payload`'s variants, in order).
const PAYLOADS: &[&str] = &[
    r#"{"memo":{"data":"00ff10"}}"#,
    r#"{"add_account":{"organization":"acme","key":"KEY","roles":["shipper"]}}"#,
    r#"{"remove_account":{"organization":"acme","key":"KEY"}}"#,
    r#"{"set_account_roles":{"organization":"acme","key":"KEY","roles":["receiver","auditor"]}}"#,
    r#"{"commission":{"item_id":"crate-9","item_type":"crate","properties":{"origin":"NZ","temp":{"max":4.50,"unit":"Cel"},"tags":["a","\u00e9\n"]},"location":"dock-2"}}"#,
    r#"{"observe":{"item_id":"crate-9","time_ms":1700000000000,"location":null,"readings":[{"kind":"temperature","value":4.50,"unit":"Cel"},{"kind":"ok","value":true}]}}"#,
    r#"{"propose_transfer":{"item_id":"crate-9","kind":"custody","to_organization":"haulers"}}"#,
    r#"{"accept_transfer":{"item_id":"crate-9","kind":"custody"}}"#,
    r#"{"reject_transfer":{"item_id":"crate-9","kind":"ownership"}}"#,
    r#"{"cancel_transfer":{"item_id":"crate-9","kind":"custody"}}"#,
    r#"{"aggregate":{"container_id":"pallet-1","children":["crate-9","crate-10"]}}"#,
    r#"{"disaggregate":{"container_id":"pallet-1","children":["crate-10"]}}"#,
    r#"{"transform":{"inputs":["crate-9"],"outputs":[{"item_id":"juice-1","item_type":"juice","properties":{"brix":12.5e0}}],"location":"plant"}}"#,
    r#"{"attach_document":{"item_id":"crate-9","hash_algorithm":"sha256","hash":"HASH","uri":"https://example.com/cert.pdf","media_type":"application/pdf"}}"#,
    r#"{"decommission":{"item_id":"juice-1","reason":"sold"}}"#,
];

/// A transaction of every payload kind, signed, on `chain`.
pub fn transactions(chain: &str) -> Vec<SignedTransaction> {
    let key = fixtures::account(0);
    let other = fixtures::account(1).public().to_hex();
    PAYLOADS
        .iter()
        .enumerate()
        .map(|(i, json)| {
            let json = json
                .replace("KEY", &other)
                .replace("HASH", &Hash::blake3(b"document").to_string());
            let payload: TxPayload = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("seed payload {i} parses: {e}"));
            Transaction {
                chain_id: chain.into(),
                signer: key.public(),
                sequence: i as u64,
                payload,
            }
            .sign(key)
        })
        .collect()
}

fn signed_tx() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = transactions(CHAIN_ID)
        .iter()
        .map(|t| t.to_bytes())
        .collect();
    // The small-order forgery batch verification once accepted.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let forged = SignedTransaction::new(
        Transaction {
            chain_id: CHAIN_ID.into(),
            signer: ledger::PublicKey(identity),
            sequence: 0,
            payload: TxPayload::Memo { data: vec![] },
        },
        ledger::Signature(sig),
    );
    seeds.push(forged.to_bytes());
    seeds
}

fn signed_tx_json() -> Vec<Vec<u8>> {
    transactions(CHAIN_ID)
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let text = if i % 2 == 0 {
                serde_json::to_string_pretty(t)
            } else {
                serde_json::to_string(t)
            };
            text.expect("serialises").into_bytes()
        })
        .collect()
}

fn json_value() -> Vec<Vec<u8>> {
    [
        r#"{"b":1,"a":[true,false,null],"c":{"z":"\u00e9\ud83d\ude00","y":-0.0e+10}}"#,
        r#" [ 1 , 2.50 , -3E-2 , "\"\\\/\b\f\n\r\t\u0001" ] "#,
        r#"{"a":1,"a":2}"#,
        r#"12345678901234567890123456789e999"#,
        r#""\ud800""#,
        r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
        r#"{"\u0061":"x","b":{}}"#,
        r#"01"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// The fuzz chain's genesis block and QC, and a block of `payload` on top of `qc` in `round`.
fn block_on(qc: &QuorumCert, height: u64, round: u64, payload: Txs) -> Block<Txs> {
    Block {
        header: BlockHeader {
            chain_id: CHAIN_ID.into(),
            height,
            round,
            parent: qc.block_id(),
            tx_root: payload.digest(),
            proposer: fixtures::public((round % fixtures::N as u64) as usize),
            timestamp_ms: round * 1_000,
            justify: qc.to_bytes(),
        },
        payload,
    }
}

fn vote_data(block: &Block<Txs>) -> VoteData {
    VoteData {
        epoch: 0,
        chain: fixtures::genesis().hash(),
        block_id: block.id(),
        round: block.round(),
        parent_id: block.header.parent,
        parent_round: block.qc().map_or(0, |q| q.round()),
    }
}

fn qc_of(block: &Block<Txs>, signers: &[usize]) -> QuorumCert {
    let data = vote_data(block);
    QuorumCert {
        signatures: signers
            .iter()
            .map(|&i| (i as u16, fixtures::key(i).sign(&data)))
            .collect(),
        vote_data: data,
    }
}

/// Real consensus messages: proposals (one carrying a TC), a vote, a timeout, sync info.
pub fn consensus_messages() -> Vec<ConsensusMsg<Txs>> {
    let genesis = fixtures::genesis();
    let chain = genesis.hash();
    let gblock = genesis_block::<Txs>(genesis);
    let gqc = consensus::ValidatorSet::from_genesis(genesis).genesis_qc(gblock.id());
    let txs = transactions(CHAIN_ID);
    let b1 = block_on(
        &gqc,
        1,
        1,
        Txs {
            txs: txs[..2].to_vec(),
        },
    );
    let qc1 = qc_of(&b1, &[0, 1, 2]);
    let b2 = block_on(
        &qc1,
        2,
        2,
        Txs {
            txs: txs[2..3].to_vec(),
        },
    );
    let tdata = TimeoutData {
        epoch: 0,
        chain,
        round: 3,
        high_qc_round: 1,
    };
    let tc3 = TimeoutCert {
        chain,
        epoch: 0,
        round: 3,
        entries: (0..3)
            .map(|i| (i as u16, 1, fixtures::key(i).sign(&tdata)))
            .collect(),
        high_qc: qc1.clone(),
    };
    let b4 = block_on(&qc1, 2, 4, Txs::default());
    vec![
        ConsensusMsg::Proposal(Proposal::sign(chain, 0, b1.clone(), None, fixtures::key(1))),
        ConsensusMsg::Proposal(Proposal::sign(chain, 0, b2.clone(), None, fixtures::key(2))),
        ConsensusMsg::Proposal(Proposal::sign(
            chain,
            0,
            b4,
            Some(tc3.clone()),
            fixtures::key(0),
        )),
        ConsensusMsg::Vote(Vote::new(vote_data(&b2), fixtures::key(3))),
        ConsensusMsg::Timeout(Timeout {
            signature: fixtures::key(2).sign(&tdata),
            data: tdata,
            high_qc: qc1.clone(),
            last_tc: None,
            author: fixtures::public(2),
        }),
        ConsensusMsg::SyncInfo(SyncInfo {
            high_qc: qc1,
            high_tc: Some(tc3),
        }),
    ]
}

fn consensus_msg() -> Vec<Vec<u8>> {
    consensus_messages().iter().map(to_canonical).collect()
}

/// Programs for the core: an honest run to commits with a restart, the node leading a round,
/// and raw messages from every kind of sender.
fn consensus_core() -> Vec<Vec<u8>> {
    use Op::*;
    // Arguments, in the order `Harness` reads them. A proposal: round (2 = the core's round),
    // QC index, TC choice (1 = none), payload bits, author choice (0 = the leader), mutation
    // (0 = none), sender choice (0 = the author); then every op's time step.
    let propose = |qc: u8, txs: u8| [2, qc, 1, txs, 0, 0, 0, 10];
    let persist_all = [3, 10];
    // A QC: block index, signer bits (all four), sender.
    let qc = |block: u8| [block, 0x0f, 1, 10];
    let mut honest = Program::new(0);
    honest
        .op(Propose, &propose(0, 0b0111))
        .op(Persist, &persist_all)
        .op(Qc, &qc(1))
        .op(Propose, &propose(1, 0b1000))
        .op(Persist, &persist_all)
        .op(Qc, &qc(2))
        .op(Propose, &propose(2, 0))
        .op(Persist, &persist_all)
        .op(Qc, &qc(3))
        // Round 4 is validator 0's: it asked for a payload; answer, then sync its proposal.
        .op(Payload, &[0, 0b0011, 10])
        .op(Persist, &persist_all)
        .op(Crash, &[])
        .op(Timer, &[0, 10])
        .op(Persist, &persist_all);
    let mut timeouts = Program::new(1);
    timeouts
        .op(Timer, &[0, 10])
        .op(Persist, &persist_all)
        // Timeouts of the current round from validators 0, 2, 3 (genesis QC, no TC).
        .op(Timeout, &[2, 0, 1, 0, 0, 10])
        .op(Timeout, &[2, 0, 1, 2, 0, 10])
        .op(Timeout, &[2, 0, 1, 3, 0, 10])
        // A TC for the next round, then a fetch of known blocks.
        .op(Tc, &[3, 0, 0, 0x0b, 9, 2, 10])
        .op(Fetched, &[0, 3, 0, 1, 10])
        .op(Mutate, &[0, 5, 0, 7, 1, 10]);
    let mut raw = Program::new(2);
    for (i, m) in consensus_messages().iter().enumerate() {
        raw.raw((i % (fixtures::N + 1)) as u8, &to_canonical(m));
        raw.0.u8(10);
    }
    vec![honest.bytes(), timeouts.bytes(), raw.bytes()]
}

fn proof() -> Vec<Vec<u8>> {
    fixtures::PROOF_EXAMPLES
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

fn genesis() -> Vec<Vec<u8>> {
    vec![
        fixtures::PROOF_GENESIS_TOML.as_bytes().to_vec(),
        include_str!("../../genesis/example.toml")
            .as_bytes()
            .to_vec(),
        fixtures::genesis().to_toml().into_bytes(),
    ]
}

fn key_file() -> Vec<Vec<u8>> {
    vec![
        ledger::keyfile::key_file_text("consensus", fixtures::key(0)).into_bytes(),
        ledger::keyfile::key_file_text("account", fixtures::account(1)).into_bytes(),
    ]
}

fn rpc_params() -> Vec<Vec<u8>> {
    use rpc::METHODS;
    let txs = transactions(CHAIN_ID);
    let tx_json = serde_json::to_string(&txs[4]).expect("serialises");
    let hex0 = format!("0x{}", hex::encode(txs[0].to_bytes()));
    let hex1 = hex::encode(txs[1].to_bytes());
    let hash = txs[0].hash().to_string();
    let key = fixtures::account(0).public().to_hex();
    let params_for = |method: &str| -> String {
        match method {
            "waybill_submitTransaction" => format!("[{tx_json}, 100]"),
            "waybill_submitRawTransaction" => format!("[\"{hex0}\"]"),
            "waybill_submitRawTransactions" => format!("[[\"{hex0}\", \"{hex1}\", \"zz\"]]"),
            "waybill_getBlockByHeight" | "waybill_getBlockTxHashes" => "[3]".into(),
            "waybill_getBlockByHash" | "waybill_getTransaction" | "waybill_getTransactionProof" => {
                format!("[\"{hash}\"]")
            }
            "waybill_nextSequence" | "waybill_getAccount" => format!("[\"{key}\"]"),
            "waybill_getStateRoot" => "[null]".into(),
            "waybill_getItem" | "waybill_getItemHistoryProof" | "waybill_subscribeItem" => {
                "[\"crate-9\"]".into()
            }
            "waybill_getItemHistory" | "waybill_getOrganizationEvents" => {
                "[\"crate-9\", 5, 0]".into()
            }
            "waybill_getProvenance" => "[\"crate-9\", 100000]".into(),
            "waybill_getOrganization" => "[\"acme\"]".into(),
            "waybill_getItemProof" => "[\"crate-9\", 7]".into(),
            "waybill_getConsistencyProof" => "[1, 9]".into(),
            "waybill_unsubscribeBlocks" | "waybill_unsubscribeItem" => "[\"1\"]".into(),
            _ => "[]".into(),
        }
    };
    let mut seeds: Vec<Vec<u8>> = METHODS
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| {
            let mut s = vec![i as u8];
            s.extend_from_slice(params_for(name).as_bytes());
            s
        })
        .collect();
    let mut whole = vec![0xff];
    whole.extend_from_slice(
        br#"{"jsonrpc":"2.0","id":"x","method":"waybill_getItemHistory","params":["a",null,2000]}"#,
    );
    seeds.push(whole);
    seeds
}

fn stored_block() -> Vec<Vec<u8>> {
    let txs = transactions(CHAIN_ID);
    let msgs = consensus_messages();
    let ConsensusMsg::Proposal(p) = &msgs[1] else {
        unreachable!("the second seed message is a proposal")
    };
    let block = LedgerBlock {
        header: p.block.header.clone(),
        txs: p.block.payload.txs.clone(),
    };
    let ConsensusMsg::SyncInfo(s) = &msgs[5] else {
        unreachable!("the last seed message is sync info")
    };
    let stored = StoredBlock {
        block: block.clone(),
        certificate: s.high_qc.to_bytes(),
        accumulator_size_after: 3,
        accumulator_root_after: Hash::blake3(b"root"),
    };
    let receipts = [
        Receipt {
            tx_hash: txs[0].hash(),
            height: 2,
            index_in_block: 0,
            ledger_index: 2,
            status: ExecStatus::Success,
        },
        Receipt {
            tx_hash: txs[1].hash(),
            height: 2,
            index_in_block: 1,
            ledger_index: 3,
            status: ExecStatus::Failed {
                code: "bad_sequence".into(),
                message: "expected 4, found 9".into(),
            },
        },
    ];
    let tagged = |tag: u8, bytes: Vec<u8>| {
        let mut v = vec![tag];
        v.extend(bytes);
        v
    };
    let mut seeds = vec![tagged(0, stored.to_bytes()), tagged(1, block.to_bytes())];
    seeds.extend(receipts.iter().map(|r| tagged(2, receipt_to_bytes(r))));
    seeds
}

/// State-sync answers for the fixed tree of the `state_sync` target: its whole state (canonical
/// and JSON), its root's children, "unavailable", and a base built from a stored-block seed.
fn state_sync() -> Vec<Vec<u8>> {
    use crate::targets::state_sync::{fixture_entries, fixture_tree};
    use ledger::smt::{self, Node, NodeStore};
    use ledger::state_sync::{SnapshotBase, StateChunk};
    let mut entries = fixture_entries();
    entries.sort_by_key(|e| smt::key_hash(&e.key));
    let (nodes, root) = fixture_tree();
    let Ok(Some(Node::Internal { left, right })) = nodes.get(&root) else {
        unreachable!("five leaves make an internal root")
    };
    let chunks = [
        StateChunk::Leaves(entries),
        StateChunk::Split { left, right },
        StateChunk::Unavailable,
    ];
    let mut out = Vec::new();
    for chunk in &chunks {
        out.push([&[0u8][..], &chunk.to_bytes()].concat());
        out.push([&[1u8][..], serde_json::to_string(chunk).unwrap().as_bytes()].concat());
    }
    let mut stored =
        StoredBlock::from_bytes(&stored_block()[0][1..]).expect("the stored-block seed");
    // A frontier that folds to the root the block records: the base verifies.
    let frontier = ledger::accumulator::Frontier {
        size: stored.accumulator_size_after,
        hashes: (0..stored.accumulator_size_after.count_ones())
            .map(|i| Hash::blake3(&[i as u8]))
            .collect(),
    };
    stored.accumulator_root_after = frontier
        .root(&ledger::merkle::Blake3Hasher)
        .expect("the right length");
    let checkpoint = LedgerCheckpoint {
        chain_id: CHAIN_ID.into(),
        height: stored.block.header.height,
        block_hash: stored.block.hash(),
        state_root: root,
        accumulator_root: stored.accumulator_root_after,
        accumulator_size: stored.accumulator_size_after,
    };
    let base = SnapshotBase {
        certificate: LedgerCertificate {
            signatures: vec![],
            checkpoint,
        },
        frontier,
        block: stored,
    };
    out.push([&[2u8][..], serde_json::to_string(&base).unwrap().as_bytes()].concat());
    out
}

fn ledger_cert() -> Vec<Vec<u8>> {
    let checkpoint = LedgerCheckpoint {
        chain_id: CHAIN_ID.into(),
        height: 7,
        block_hash: Hash::blake3(b"block"),
        state_root: Hash::blake3(b"state"),
        accumulator_root: Hash::blake3(b"acc"),
        accumulator_size: 12,
    };
    let cert = LedgerCertificate {
        signatures: [2, 0, 3]
            .iter()
            .map(|&i| CheckpointVote::sign(fixtures::key(i), &checkpoint))
            .collect(),
        checkpoint: checkpoint.clone(),
    };
    let tagged = |tag: u8, bytes: Vec<u8>| {
        let mut v = vec![tag];
        v.extend(bytes);
        v
    };
    let mut seeds = vec![
        tagged(0, to_canonical(&cert)),
        tagged(1, serde_json::to_vec(&cert).expect("serialises")),
        tagged(
            2,
            to_canonical(&(
                &checkpoint,
                &CheckpointVote::sign(fixtures::key(1), &checkpoint),
            )),
        ),
    ];
    // The certificate of the example transaction proof, on the proof chain.
    // Read through the proof parser: a proof file carries the certificate's bytes and its view.
    let proof_cert: LedgerCertificate = match ledger::proof::Proof::from_json(
        fixtures::PROOF_EXAMPLES[0],
    )
    .expect("example proof")
    {
        ledger::proof::Proof::Transaction(p) => p.certificate,
        ledger::proof::Proof::ItemState(p) => p.certificate,
        ledger::proof::Proof::History(p) => p.certificate,
        ledger::proof::Proof::Consistency(_) => {
            panic!("the first example proof carries a certificate")
        }
    };
    seeds.push(tagged(0, to_canonical(&proof_cert)));
    seeds.push(tagged(
        1,
        serde_json::to_vec_pretty(&proof_cert).expect("serialises"),
    ));
    seeds
}

/// Programs for the execution target (see `targets::execute` for the byte layout): a story
/// through every action, and the same actions by signers without the rights.
pub fn execute_programs() -> Vec<Vec<u8>> {
    // Item indexes: i0 0, i1 1, p0 4, j0 6. Signers: 0 acme admin, 1 acme operator, 2 haulers
    // admin, 3 haulers auditor, 4 a stranger. Each entry is one transaction (op, signer, payload)
    // or the end of a block (0).
    let commission = |item: u8| vec![1, 1, 4, item, 0, 1, 2, 2, 1, 0];
    let end = vec![0u8];
    let story: Vec<Vec<u8>> = vec![
        commission(0),
        commission(1),
        commission(4),
        vec![1, 1, 10, 4, 2, 0, 1], // aggregate p0 <- i0, i1
        end.clone(),
        vec![1, 1, 5, 4, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0], // observe p0
        vec![1, 1, 6, 4, 0, 1], // propose custody of p0 to haulers
        end.clone(),
        vec![1, 2, 7, 4, 0],     // haulers accept custody
        vec![1, 1, 13, 4, 0, 9], // acme attaches a document (owner)
        end.clone(),
        vec![1, 2, 6, 4, 0, 0], // custody back to acme
        end.clone(),
        vec![1, 1, 7, 4, 0],              // acme accepts
        vec![1, 1, 11, 4, 1, 0],          // disaggregate i0 from p0
        vec![1, 1, 12, 1, 0, 1, 6, 0, 0], // transform i0 -> j0
        end.clone(),
        vec![1, 1, 14, 6, 0],      // decommission j0
        vec![1, 0, 1, 0, 4, 1, 0], // acme's admin adds the stranger as operator
        end.clone(),
        vec![1, 4, 4, 7, 0, 0, 0],    // the stranger commissions j1
        vec![1, 0, 3, 1, 3, 2, 1, 2], // set the auditor's roles (not acme's: fails)
        vec![1, 0, 2, 0, 4],          // remove the stranger again
        vec![15, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0], // a memo with a far sequence number
        vec![0xf0, 1, 0, 0, 0],       // another chain's memo
    ];
    // The same actions by the auditor (who may do nothing) and the stranger (who is nobody).
    let by = |who: u8| -> Vec<u8> {
        story
            .iter()
            .flat_map(|tx| {
                let mut tx = tx.clone();
                if tx.len() > 1 {
                    tx[1] = who;
                }
                tx
            })
            .collect()
    };
    vec![story.concat(), by(3), by(4)]
}

/// Programs for the engines' world (see `targets::engine_node` for the layout: each step is a
/// node byte, an operation byte and its arguments): an honest run with transactions, and one
/// where the hostile validator replays, mutates, asks and answers, and nodes restart.
pub fn engine_programs() -> Vec<Vec<u8>> {
    let deliver = |i: u8| vec![i, 0, 7];
    let tick = |ms: u16| vec![0, 5, ms as u8, (ms >> 8) as u8];
    let submit = |i: u8, account: u8, len: u8| vec![i, 9, account, 1, 0xab, len, 1, 1];
    let mut honest = vec![submit(0, 0, 8), submit(1, 1, 40)];
    for round in 0..40u8 {
        honest.push(deliver(round % 3));
        honest.push(deliver(round % 3));
        honest.push(tick(150));
        if round % 10 == 5 {
            honest.push(submit(round % 3, round % 4, round));
        }
    }
    let mut hostile = vec![submit(2, 3, 3)];
    for round in 0..30u8 {
        hostile.push(deliver(round % 3));
        hostile.push(tick(200));
        let i = round % 3;
        hostile.push(match round % 7 {
            0 => vec![i, 6, 1, 0, round], // replay what it saw
            1 => vec![i, 6, 1, 1, round, 1, 0x10, 0, 0x80, 0x30, 0, 4], // mutate it
            2 => vec![i, 7, 1, round % 5, round / 7, 8, 0, 1], // a sync request
            3 => vec![i, 8, 0, 0, 0, 0, 0x20, 0, 0x40], // pass an answer on, mutated
            4 => vec![i, 8, 0, 1, 2, round, 0], // answer with a head
            5 => vec![i, 6, 1, 2, 4, 0, 1, 2, 3, 4], // garbage
            _ => vec![i, 10, 1, 0],       // disconnect a peer
        });
        if round % 10 == 9 {
            hostile.push(vec![round % 3, 11, 1]); // crash and restart
        }
    }
    vec![honest.concat(), hostile.concat()]
}

/// The wire target's seeds: every kind of message the engines of an honest and a hostile run
/// exchanged, and the consensus messages of the other targets (a whole message is tag 0).
fn engine_wire() -> Vec<Vec<u8>> {
    let tagged = |tag: u8, bytes: &[u8]| [&[tag][..], bytes].concat();
    let mut seeds: Vec<Vec<u8>> = consensus_msg()
        .iter()
        .map(|b| tagged(0, &[&[0u8][..], b].concat()))
        .collect();
    for program in engine_programs() {
        let world = crate::targets::engine_node::play(&program, true);
        let t = world.transcript.expect("recorded");
        seeds.extend(t.consensus.iter().take(12).map(|b| tagged(0, b)));
        seeds.extend(t.requests.iter().take(8).map(|b| tagged(1, b)));
        seeds.extend(t.responses.iter().take(8).map(|b| tagged(2, b)));
    }
    seeds
}

/// The farm-to-shelf corpus and a few of GS1's test documents.
fn epcis_document() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ledger/tests/epcis");
    let mut out = Vec::new();
    for sub in ["corpus", "reference"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("{sub}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonld"))
            .collect();
        files.sort();
        out.extend(files.iter().map(|p| std::fs::read(p).unwrap()));
    }
    out
}

/// Gossip batches as validators publish them: the seed transactions in batches of one, a few and
/// all, an empty batch, and one with an element that is not a transaction.
fn gossip_batch() -> Vec<Vec<u8>> {
    use engine::gossip_batch::encode_batch;
    let txs: Vec<Vec<u8>> = transactions(CHAIN_ID)
        .iter()
        .map(|t| t.to_bytes())
        .collect();
    let mut seeds = vec![encode_batch(&[]), encode_batch(&txs)];
    seeds.extend(
        txs.iter()
            .take(3)
            .map(|t| encode_batch(std::slice::from_ref(t))),
    );
    seeds.push(encode_batch(&txs[..4.min(txs.len())]));
    seeds.push(encode_batch(&[
        txs[0].clone(),
        vec![0xff; 9],
        txs[1].clone(),
    ]));
    seeds
}

/// Node config files as `waybill testnet` and `waybill init` write them, one with every section
/// and key, environment overrides, and a few a node refuses.
fn node_config() -> Vec<Vec<u8>> {
    const MINIMAL: &str = "[node]\nname = \"validator-0\"\ndata_dir = \"data\"\ngenesis = \"../genesis.toml\"\nconsensus_key = \"consensus.key\"\nnetwork_key = \"network.key\"\n\n[network]\nlisten = \"/ip4/127.0.0.1/tcp/26600\"\n\n[rpc]\nlisten = \"127.0.0.1:26601\"\n";
    const FULL: &str = "[node]\nname = \"shipper\"\ndata_dir = \"/var/lib/waybill\"\ngenesis = \"genesis.toml\"\nconsensus_key = \"keys/consensus.key\"\nnetwork_key = \"keys/network.key\"\n\n[network]\nlisten = \"/ip4/0.0.0.0/tcp/26600\"\npeers = [\"/ip4/10.0.0.2/tcp/26600/p2p/12D3KooWGzBz7ez5tCG5cFFBLMmvFVxgpo3gzf7HmU9SAmjNqzTL\", \"/dns4/retailer.example/tcp/26600/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq\"]\nobservers = [\"12D3KooWGzBz7ez5tCG5cFFBLMmvFVxgpo3gzf7HmU9SAmjNqzTL\"]\n\n[rpc]\nlisten = \"0.0.0.0:8545\"\ncors_origins = [\"*\"]\nmax_connections = 64\nrequests_per_second_per_client = 0\nexplorer = false\n\n[metrics]\nlisten = \"127.0.0.1:9100\"\n\n[mempool]\ncapacity = 1000\nper_account = 10\nsequence_window = 100\n\n[log]\nformat = \"json\"\nlevel = \"waybill=debug,libp2p=warn\"\nprogress_secs = 0\n";
    let env = |pairs: &str, file: &str| format!("{pairs}\n---\n{file}").into_bytes();
    vec![
        MINIMAL.as_bytes().to_vec(),
        FULL.as_bytes().to_vec(),
        env(
            "WAYBILL_RPC_LISTEN=127.0.0.1:9000\nWAYBILL_MEMPOOL_CAPACITY=7",
            MINIMAL,
        ),
        env(
            "WAYBILL_LOG_LEVEL=\"debug\"\nWAYBILL_NETWORK_PEERS=[]",
            FULL,
        ),
        MINIMAL.replace("127.0.0.1:26601", "localhost").into_bytes(),
        FULL.replace("capacity = 1000", "capacity = 0").into_bytes(),
        MINIMAL.replace("[rpc]", "[rpc]\nunknown = 1").into_bytes(),
    ]
}

/// Every target's seeds.
pub fn all() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    vec![
        ("signed_tx", signed_tx()),
        ("signed_tx_json", signed_tx_json()),
        ("json_value", json_value()),
        ("consensus_msg", consensus_msg()),
        ("consensus_core", consensus_core()),
        ("proof", proof()),
        ("genesis", genesis()),
        ("key_file", key_file()),
        ("rpc_params", rpc_params()),
        ("stored_block", stored_block()),
        ("ledger_cert", ledger_cert()),
        ("execute", execute_programs()),
        ("engine_wire", engine_wire()),
        ("engine_node", engine_programs()),
        ("epcis_document", epcis_document()),
        ("state_sync", state_sync()),
        ("gossip_batch", gossip_batch()),
        ("node_config", node_config()),
    ]
}
