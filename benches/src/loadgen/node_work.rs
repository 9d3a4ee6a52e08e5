//! What the validators did for the run's transactions, read from their metrics endpoints once
//! the drain is over (the network is fresh, so each counter covers exactly this run):
//!
//! - signature checks per committed transaction per validator, by the path that brought the
//!   transaction. The signature bound assumes each validator checks each transaction once, so
//!   the sum says whether a validator does more than that;
//! - compact proposals, and how many of them needed a second look at the mempool, a fetch of
//!   their missing transactions from the proposer (and how many transactions), or a fetch of
//!   the whole block.

use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A metrics endpoint answers within this long, or that validator is left out.
const SCRAPE_WITHIN: Duration = Duration::from_secs(5);
/// Most bytes read from one endpoint: the page is a few KiB.
const MAX_PAGE: u64 = 1 << 20;

/// Signature checks per committed transaction, averaged over the validators read.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ChecksPerTx {
    pub submission: f64,
    pub gossip: f64,
    pub proposal: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeWork {
    /// Validators whose endpoint answered.
    pub validators_read: usize,
    pub signature_checks_per_tx: ChecksPerTx,
    /// Summed over the validators read.
    pub compact_proposals: u64,
    pub compact_second_looks: u64,
    pub compact_fetches: u64,
    pub compact_tx_fetches: u64,
    pub compact_fetched_txs: u64,
}

/// One validator's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub submission: u64,
    pub gossip: u64,
    pub proposal: u64,
    pub compact_proposals: u64,
    pub compact_second_looks: u64,
    pub compact_fetches: u64,
    pub compact_tx_fetches: u64,
    pub compact_fetched_txs: u64,
}

/// Reads every endpoint in `metrics` (`host:port`) and averages over those that answered;
/// `None` when none did or nothing committed.
pub async fn read(metrics: &[String], committed: u64) -> Option<NodeWork> {
    let mut all = Vec::new();
    for addr in metrics {
        if let Ok(Ok(page)) = tokio::time::timeout(SCRAPE_WITHIN, scrape(addr)).await {
            if let Some(counters) = parse(&page) {
                all.push(counters);
            }
        }
    }
    summarise(&all, committed)
}

pub fn summarise(all: &[Counters], committed: u64) -> Option<NodeWork> {
    if all.is_empty() || committed == 0 {
        return None;
    }
    let per = |f: fn(&Counters) -> u64| {
        all.iter().map(f).sum::<u64>() as f64 / (all.len() as f64 * committed as f64)
    };
    let submission = per(|c| c.submission);
    let gossip = per(|c| c.gossip);
    let proposal = per(|c| c.proposal);
    Some(NodeWork {
        validators_read: all.len(),
        signature_checks_per_tx: ChecksPerTx {
            submission,
            gossip,
            proposal,
            total: submission + gossip + proposal,
        },
        compact_proposals: all.iter().map(|c| c.compact_proposals).sum(),
        compact_second_looks: all.iter().map(|c| c.compact_second_looks).sum(),
        compact_fetches: all.iter().map(|c| c.compact_fetches).sum(),
        compact_tx_fetches: all.iter().map(|c| c.compact_tx_fetches).sum(),
        compact_fetched_txs: all.iter().map(|c| c.compact_fetched_txs).sum(),
    })
}

async fn scrape(addr: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nConnection: close\r\n\r\n")
        .await?;
    let mut bytes = Vec::new();
    stream.take(MAX_PAGE).read_to_end(&mut bytes).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The counters from a metrics page; `None` if it has no signature-check counter at all (a node
/// too old to count them).
pub fn parse(page: &str) -> Option<Counters> {
    let checks = |via: &str| {
        value(
            page,
            &format!("waybill_signature_checks_total{{via=\"{via}\"}}"),
        )
    };
    Some(Counters {
        submission: checks("submission")?,
        gossip: checks("gossip")?,
        proposal: checks("proposal")?,
        compact_proposals: value(page, "waybill_compact_proposals_total").unwrap_or(0),
        compact_second_looks: value(page, "waybill_compact_proposal_second_looks_total")
            .unwrap_or(0),
        compact_fetches: value(page, "waybill_compact_proposal_fetches_total").unwrap_or(0),
        compact_tx_fetches: value(page, "waybill_compact_proposal_tx_fetches_total").unwrap_or(0),
        compact_fetched_txs: value(page, "waybill_compact_proposal_fetched_txs_total").unwrap_or(0),
    })
}

/// The value on the line that is exactly `series` followed by a space.
fn value(page: &str, series: &str) -> Option<u64> {
    page.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "\
# HELP waybill_signature_checks Transaction signatures checked.
# TYPE waybill_signature_checks counter
waybill_signature_checks_total{via=\"submission\"} 250
waybill_signature_checks_total{via=\"gossip\"} 750
waybill_signature_checks_total{via=\"proposal\"} 20
waybill_compact_proposals_total 9
waybill_compact_proposal_second_looks_total 3
waybill_compact_proposal_fetches_total 1
waybill_compact_proposal_tx_fetches_total 2
waybill_compact_proposal_fetched_txs_total 7
";

    #[test]
    fn a_page_gives_each_counter() {
        assert_eq!(
            parse(PAGE),
            Some(Counters {
                submission: 250,
                gossip: 750,
                proposal: 20,
                compact_proposals: 9,
                compact_second_looks: 3,
                compact_fetches: 1,
                compact_tx_fetches: 2,
                compact_fetched_txs: 7,
            })
        );
    }

    #[test]
    fn a_page_without_the_counters_gives_none() {
        assert_eq!(parse("waybill_round 3\n"), None);
        // A longer name that starts like one is another series.
        assert_eq!(
            value(
                "waybill_compact_proposals_total_x 4\n",
                "waybill_compact_proposals_total"
            ),
            None
        );
    }

    #[test]
    fn checks_are_per_committed_transaction_per_validator() {
        let one = parse(PAGE).unwrap();
        let work = summarise(&[one, one], 1_000).unwrap();
        assert_eq!(work.validators_read, 2);
        assert_eq!(work.signature_checks_per_tx.submission, 0.25);
        assert_eq!(work.signature_checks_per_tx.total, 1.02);
        assert_eq!(work.compact_fetches, 2);
        assert_eq!((work.compact_tx_fetches, work.compact_fetched_txs), (4, 14));
        assert_eq!(summarise(&[one], 0), None);
        assert_eq!(summarise(&[], 1_000), None);
    }
}
