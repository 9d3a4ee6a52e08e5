//! From every transaction's fate to the report: counts, latencies, throughput in the steady
//! window, and warnings for anything that makes the figures less than they seem.

use super::bound::Bound;
use super::commits::{self, CommitStats};
use super::report::{Report, RunConfig, StageLatencies};
use super::rss::NodeMemory;
use super::stats;
use super::submit::StreamReport;
use super::track::{Fate, Tracker};

/// Every transaction's fate into the report's counts, latencies and throughput.
pub fn summarise(
    config: RunConfig,
    bound: Bound,
    tracker: &Tracker,
    commits: CommitStats,
    streams: Vec<StreamReport>,
    memory: Vec<NodeMemory>,
) -> Report {
    let mut latencies = Vec::new();
    let mut commit_at = Vec::new();
    let (mut answered, mut proposed, mut after_proposal) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sent, mut timed_out) = (0u64, 0u64);
    for i in 0..tracker.len() {
        match tracker.fate(i) {
            Fate::NotSent => continue,
            Fate::Committed { latency_ns, at_ns } => {
                latencies.push(latency_ns);
                commit_at.push(at_ns);
                if let Some(st) = tracker.stages(i) {
                    answered.extend(st.answered_ns);
                    proposed.extend(st.proposed_ns);
                    after_proposal.extend(st.committed_after_proposal_ns);
                }
            }
            Fate::Rejected(_) => {}
            Fate::TimedOut => timed_out += 1,
        }
        sent += 1;
    }
    let committed = latencies.len() as u64;
    let (w0, w1) = (config.warmup_s * 1e9, config.duration_s * 1e9);
    let in_window = commit_at
        .iter()
        .filter(|&&t| (t as f64) >= w0 && (t as f64) < w1)
        .count();
    let committed_tx_per_s = in_window as f64 / (config.duration_s - config.warmup_s);
    let last = commit_at.iter().copied().max().unwrap_or(0) as f64 / 1e9;
    let overall_tx_per_s = if last > 0.0 {
        committed as f64 / last
    } else {
        0.0
    };
    let mut warnings = Vec::new();
    for s in &streams {
        if config.rate_tx_per_s.is_some() && s.max_lag_ms > 100.0 {
            warnings.push(format!(
                "{} fell behind schedule by up to {:.0} ms (all {} batch calls in flight): \
                 the offered rate was not fully delivered",
                s.url, s.max_lag_ms, config.in_flight_per_validator
            ));
        }
        if s.exhausted {
            warnings.push(format!(
                "{} ran out of presigned transactions before the duration ended; pass a larger --count",
                s.url
            ));
        }
        if s.failed_batches > 0 {
            warnings.push(format!(
                "{}: {} batch calls got no answer",
                s.url, s.failed_batches
            ));
        }
    }
    if commits.approximated_blocks > 0 {
        warnings.push(format!(
            "{} blocks were not announced by any subscription; their commit time is a later block's",
            commits.approximated_blocks
        ));
    }
    if commits.fetch_failures > 0 {
        warnings.push(format!(
            "{} committed blocks could not be fetched; their transactions count as timed out",
            commits.fetch_failures
        ));
    }
    let fraction_of_bound = committed_tx_per_s / bound.bound_tx_per_s.max(1e-9);
    Report {
        config,
        bound,
        sent,
        committed,
        rejected: tracker.rejection_counts(),
        timed_out,
        committed_tx_per_s,
        overall_tx_per_s,
        fraction_of_bound,
        latency: stats::latency(&mut latencies),
        stages: StageLatencies {
            answered: stats::latency(&mut answered),
            proposed: stats::latency(&mut proposed),
            committed_after_proposal: stats::latency(&mut after_proposal),
        },
        committed_per_second: commits::per_second(commit_at.into_iter()),
        commits,
        streams,
        memory,
        cpu: None,
        node_work: None,
        warnings,
    }
}
