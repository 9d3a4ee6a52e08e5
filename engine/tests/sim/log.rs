//! `WAYBILL_WHOLE_LOG=1` prints what each honest and Byzantine instance receives and does, one
//! line each, for reading a failing seed's story (with `replay`).

use consensus::ConsensusMsg;
use waybill_engine::wire::{decode_consensus, WireConsensus};
use waybill_engine::{Effect, Event};

/// Whether to print; when so, the engine's own log lines (`RUST_LOG`, default debug) go to the
/// same output, each right after the event that caused it.
pub fn enabled() -> bool {
    let on = std::env::var_os("WAYBILL_WHOLE_LOG").is_some();
    if on {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "debug".into()),
            )
            .without_time()
            .with_test_writer()
            .try_init();
    }
    on
}

fn consensus(bytes: &[u8]) -> String {
    match decode_consensus(bytes) {
        Ok(WireConsensus::Full(msg)) => {
            let kind = match &msg {
                ConsensusMsg::Proposal(_) => "proposal",
                ConsensusMsg::Vote(_) => "vote",
                ConsensusMsg::Timeout(_) => "timeout",
                ConsensusMsg::SyncInfo(_) => "sync-info",
            };
            format!("{kind} r{}", msg.round())
        }
        Ok(WireConsensus::Compact(c)) => {
            let txs: Vec<String> = c
                .txs
                .iter()
                .map(|r| match r {
                    waybill_engine::wire::TxRef::Hash { tx, .. } => tx.to_hex()[..8].to_string(),
                    waybill_engine::wire::TxRef::Body(t) => format!("{}+", &t.hash().to_hex()[..8]),
                })
                .collect();
            format!(
                "compact proposal r{} h{} txs {txs:?}",
                c.header.round, c.header.height
            )
        }
        Ok(WireConsensus::CheckpointVote { checkpoint, .. }) => {
            format!("checkpoint vote h{}", checkpoint.height)
        }
        Err(_) => "undecodable".into(),
    }
}

pub fn event(now: u64, inst: usize, event: &Event<u32>) {
    let what = match event {
        Event::Consensus { from, bytes } => format!("<- {from}: {}", consensus(bytes)),
        Event::SyncRequest { from, .. } => format!("<- {from}: sync request"),
        Event::SyncResponse { id, result } => {
            format!(
                "<- answer {id:?}: {}",
                if result.is_ok() { "ok" } else { "failed" }
            )
        }
        Event::Wake => return,
        Event::TxAdmitted => return,
        Event::PeerConnected(p) => format!("connected {p}"),
        Event::PeerDisconnected(p) => format!("disconnected {p}"),
    };
    println!("t={now} [{inst}] {what}");
}

pub fn effects(now: u64, inst: usize, round: u64, effects: &[Effect<u32>]) {
    for e in effects {
        let what = match e {
            Effect::Send { to, bytes } => format!("-> {to}: {}", consensus(bytes)),
            Effect::Broadcast { bytes } => format!("-> all: {}", consensus(bytes)),
            Effect::Request { to, .. } => format!("-> {to}: request"),
            Effect::Reply { .. } => continue,
            Effect::Committed(c) => format!("committed {}", c.summary.height),
            Effect::Disconnect { peer, .. } => format!("refuses {peer}"),
            Effect::Gossip { txs } => format!("gossips {} pending transactions again", txs.len()),
            Effect::Members {
                validators,
                admitted,
            } => {
                format!("admits {admitted:?}, validators {validators:?}")
            }
        };
        println!("t={now} [{inst}] (round {round}) {what}");
    }
}

/// A client's submission or a gossiped transaction reaching an instance's mempool.
pub fn admission<E: std::fmt::Display>(
    now: u64,
    inst: usize,
    how: &str,
    tx: &ledger::SignedTransaction,
    result: &Result<ledger::Hash, E>,
) {
    let verdict = match result {
        Ok(_) => "admitted".to_string(),
        Err(e) => format!("refused: {e}"),
    };
    println!(
        "t={now} [{inst}] {how} tx {} seq {}: {verdict}",
        &tx.hash().to_hex()[..8],
        tx.tx.sequence
    );
}
