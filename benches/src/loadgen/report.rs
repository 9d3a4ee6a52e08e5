//! The run's one table, and the same figures as JSON (`--json FILE`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::bound::Bound;
use super::commits::CommitStats;
use super::cpu::ValidatorCpu;
use super::node_work::NodeWork;
use super::rss::NodeMemory;
use super::stats::Latency;
use super::submit::StreamReport;

#[derive(Clone, Debug, Serialize)]
pub struct RunConfig {
    pub validators: usize,
    /// Offered transactions per second, `None` for as fast as possible.
    pub rate_tx_per_s: Option<f64>,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub drain_s: f64,
    pub accounts: usize,
    pub batch: usize,
    /// The method transactions were submitted with.
    pub submission: String,
    pub in_flight_per_validator: usize,
    /// With `--rate max`: the bound on sent, uncommitted transactions.
    pub max_pending: Option<u64>,
    pub presigned: usize,
    pub network: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub config: RunConfig,
    pub bound: Bound,
    pub sent: u64,
    pub committed: u64,
    pub rejected: BTreeMap<String, u64>,
    pub timed_out: u64,
    /// Commits in the steady window `[warmup, duration]`, per second.
    pub committed_tx_per_s: f64,
    /// All commits over first send to last commit.
    pub overall_tx_per_s: f64,
    pub fraction_of_bound: f64,
    /// Submit (batch call sent) to first commit notification of its block.
    pub latency: Latency,
    /// The same path in stages, over the committed transactions with both stamps of a stage.
    pub stages: StageLatencies,
    pub commits: CommitStats,
    pub streams: Vec<StreamReport>,
    pub memory: Vec<NodeMemory>,
    /// The validators' CPU over the steady window (`None` when it could not be read).
    pub cpu: Option<ValidatorCpu>,
    /// The validators' own counters over the run (`None` without their metrics endpoints).
    pub node_work: Option<NodeWork>,
    /// Committed transactions per second since the clock started.
    pub committed_per_second: Vec<u64>,
    pub warnings: Vec<String>,
}

/// Where submit-to-commit goes. The first two are measured from the send; the last from the
/// proposal, so `proposed` + `committed_after_proposal` is about the whole (per transaction, not
/// per percentile).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StageLatencies {
    /// Send to the node's answer: RPC, signature check, admission.
    pub answered: Latency,
    /// Send to the leader's proposal of the block holding it (the header's timestamp): gossip to
    /// the leader and waiting for a proposal.
    pub proposed: Latency,
    /// Proposal to the first commit notification: the rounds that certify and commit the block,
    /// execution, the store's write, the notification.
    pub committed_after_proposal: Latency,
}

fn n(v: f64) -> String {
    // Thousands separators: the table is read by people comparing 10,000 with 1,000.
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (k, c) in s.chars().enumerate() {
        if k > 0 && (s.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    pub fn table(&self) -> String {
        let c = &self.config;
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
        row(
            "offered load",
            match c.rate_tx_per_s {
                Some(r) => format!("{} tx/s for {} s", n(r), c.duration_s),
                None => format!(
                    "as fast as possible for {} s, at most {} uncommitted",
                    c.duration_s,
                    n(c.max_pending.unwrap_or(0) as f64)
                ),
            },
        );
        row(
            "network",
            format!(
                "{} validators ({}), {} accounts, batches of {} ({}), {} in flight per validator",
                c.validators,
                c.network,
                c.accounts,
                c.batch,
                c.submission,
                c.in_flight_per_validator
            ),
        );
        let lag = self
            .streams
            .iter()
            .map(|s| s.max_lag_ms)
            .fold(0.0, f64::max);
        row(
            "sent",
            match c.rate_tx_per_s {
                Some(_) => format!(
                    "{} of {} presigned; at most {lag:.0} ms behind schedule",
                    n(self.sent as f64),
                    n(c.presigned as f64)
                ),
                None => format!(
                    "{} of {} presigned",
                    n(self.sent as f64),
                    n(c.presigned as f64)
                ),
            },
        );
        let pct = |v: u64| 100.0 * v as f64 / (self.sent.max(1)) as f64;
        row(
            "committed",
            format!(
                "{} ({:.2} %)",
                n(self.committed as f64),
                pct(self.committed)
            ),
        );
        let rejected: u64 = self.rejected.values().sum();
        row(
            "rejected",
            if rejected == 0 {
                "0".into()
            } else {
                let reasons: Vec<String> = self
                    .rejected
                    .iter()
                    .map(|(r, k)| format!("{r}: {}", n(*k as f64)))
                    .collect();
                format!("{} ({})", n(rejected as f64), reasons.join(", "))
            },
        );
        row(
            "timed out",
            format!(
                "{} (not committed {} s after the load)",
                n(self.timed_out as f64),
                c.drain_s
            ),
        );
        row(
            "committed throughput",
            format!(
                "{} tx/s in [{} s, {} s]; {} tx/s first send to last commit",
                n(self.committed_tx_per_s),
                c.warmup_s,
                c.duration_s,
                n(self.overall_tx_per_s)
            ),
        );
        let b = &self.bound;
        row(
            "signature bound",
            format!(
                "{} tx/s = {} verifications/s on {} cores / {} validators{}",
                n(b.bound_tx_per_s),
                n(b.verify_rate_all_cores),
                b.cores,
                b.validators,
                match b.measurements_tx_per_s.as_slice() {
                    [before, after] => format!(
                        " (the higher of {} before the load and {} after)",
                        n(*before),
                        n(*after)
                    ),
                    _ => String::new(),
                }
            ),
        );
        row(
            "throughput / bound",
            format!("{:.3}", self.fraction_of_bound),
        );
        if let Some(cpu) = &self.cpu {
            row(
                "validator CPU",
                format!(
                    "{:.2} of {} cores; {:.1} us per committed transaction per validator, \
                     of which one signature check is {:.1} us ({:.2})",
                    cpu.cores_used,
                    self.bound.cores,
                    cpu.us_per_tx,
                    cpu.us_per_verification,
                    cpu.verification_share
                ),
            );
        }
        if let Some(w) = &self.node_work {
            let c = &w.signature_checks_per_tx;
            row(
                "signature checks",
                format!(
                    "{:.3} per committed transaction per validator (submission {:.3}, gossip {:.3}, \
                     proposal {:.3}; {} validators read)",
                    c.total, c.submission, c.gossip, c.proposal, w.validators_read
                ),
            );
            row(
                "compact proposals",
                format!(
                    "{} received, {} looked at again, {} completed by fetching {} transactions, \
                     {} fetched whole (all validators)",
                    n(w.compact_proposals as f64),
                    n(w.compact_second_looks as f64),
                    n(w.compact_tx_fetches as f64),
                    n(w.compact_fetched_txs as f64),
                    n(w.compact_fetches as f64)
                ),
            );
        }
        let l = &self.latency;
        row(
            "submit-to-commit",
            format!(
                "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (mean {:.0} ms, n = {})",
                l.p50_ms,
                l.p90_ms,
                l.p99_ms,
                l.max_ms,
                l.mean_ms,
                n(l.count as f64)
            ),
        );
        let stage = |l: &Latency| {
            format!(
                "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms (mean {:.1} ms)",
                l.p50_ms, l.p90_ms, l.p99_ms, l.mean_ms
            )
        };
        row("  sent to answered", stage(&self.stages.answered));
        row("  sent to proposed", stage(&self.stages.proposed));
        row(
            "  proposed to committed",
            stage(&self.stages.committed_after_proposal),
        );
        let cs = &self.commits;
        row(
            "blocks",
            format!(
                "{} committed, {} with transactions, largest {} tx; {} foreign tx",
                cs.blocks, cs.non_empty_blocks, cs.max_block_txs, cs.foreign_txs
            ),
        );
        for m in &self.memory {
            row(
                &format!("RSS {}", m.name),
                format!(
                    "start {:.0} MiB, peak {:.0} MiB, end {:.0} MiB",
                    m.start_mib, m.peak_mib, m.end_mib
                ),
            );
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            let _ = writeln!(out, "{k:width$}  {v}");
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::n(0.0), "0");
        assert_eq!(super::n(999.4), "999");
        assert_eq!(super::n(1000.0), "1,000");
        assert_eq!(super::n(1234567.0), "1,234,567");
    }
}
