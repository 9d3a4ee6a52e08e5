//! A one-line progress report every `log.progress_secs`: committed height and transactions with
//! their rates since the last report, connected peers by name, round, mempool and catch-up. An
//! operator tailing a log (or a journal) sees at a glance whether the node moves and with whom.

use std::time::{Duration, Instant};

use tracing::info;

use crate::run::NodeHandles;

/// What is compared between two reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since some fixed instant.
    pub at_secs: f64,
    pub height: u64,
    pub txs: u64,
}

/// One report's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub height: u64,
    pub blocks_per_sec: f64,
    pub txs: u64,
    pub txs_per_sec: f64,
    /// `3/3 processor,shipper,retailer`: connected out of the other validators, then names.
    pub peers: String,
}

/// The report for `now`, with rates since `before`.
pub fn report(before: &Sample, now: &Sample, peers: &[String], other_validators: usize) -> Report {
    let secs = (now.at_secs - before.at_secs).max(f64::EPSILON);
    let rate = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / secs;
    let mut names = peers.to_vec();
    names.sort();
    Report {
        height: now.height,
        blocks_per_sec: round1(rate(before.height, now.height)),
        txs: now.txs,
        txs_per_sec: round1(rate(before.txs, now.txs)),
        peers: format!("{}/{} {}", peers.len(), other_validators, names.join(","))
            .trim_end()
            .to_string(),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn sample(node: &NodeHandles, start: Instant) -> Sample {
    Sample {
        at_secs: start.elapsed().as_secs_f64(),
        height: node.status.snapshot().committed_height,
        txs: node.store.accumulator_size(),
    }
}

/// Logs a report every `every` until the runtime stops; nothing when `every` is zero.
pub async fn run(node: NodeHandles, every: Duration) {
    if every.is_zero() {
        return;
    }
    let names = crate::genesis_peers::names(&node.genesis);
    let me = node.net.local_peer_id();
    let others = names.keys().filter(|p| **p != me).count();
    let start = Instant::now();
    let mut before = sample(&node, start);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let now = sample(&node, start);
        let peers: Vec<String> = node
            .net
            .connected_peers()
            .iter()
            .map(|p| names.get(p).cloned().unwrap_or_else(|| p.to_string()))
            .collect();
        let r = report(&before, &now, &peers, others);
        let s = node.status.snapshot();
        info!(
            height = r.height,
            blocks_per_sec = r.blocks_per_sec,
            txs = r.txs,
            txs_per_sec = r.txs_per_sec,
            peers = %r.peers,
            round = s.round,
            mempool = s.mempool_len,
            syncing = s.syncing,
            "progress"
        );
        before = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_since_the_last_report() {
        let a = Sample {
            at_secs: 10.0,
            height: 100,
            txs: 1_000,
        };
        let b = Sample {
            at_secs: 20.0,
            height: 125,
            txs: 1_333,
        };
        let peers = vec!["shipper".to_string(), "processor".to_string()];
        let r = report(&a, &b, &peers, 3);
        assert_eq!(
            r,
            Report {
                height: 125,
                blocks_per_sec: 2.5,
                txs: 1_333,
                txs_per_sec: 33.3,
                peers: "2/3 processor,shipper".into(),
            }
        );
        // A store that went back (a reset) shows 0, not a huge rate.
        let r = report(&b, &a, &[], 3);
        assert_eq!((r.blocks_per_sec, r.txs_per_sec), (0.0, 0.0));
        assert_eq!(r.peers, "0/3");
    }
}
