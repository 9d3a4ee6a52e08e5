//! Latency summaries by nearest rank over every committed transaction (no sampling, no
//! histogram buckets: a run has at most a few million values, sorting them takes a moment).

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Summarises `ns` (sorted in place).
pub fn latency(ns: &mut [u64]) -> Latency {
    if ns.is_empty() {
        return Latency::default();
    }
    ns.sort_unstable();
    let ms = |v: u64| v as f64 / 1e6;
    let rank = |p: f64| {
        // Nearest rank: the smallest value with at least p of the values at or below it.
        let r = (p * ns.len() as f64).ceil() as usize;
        ns[r.clamp(1, ns.len()) - 1]
    };
    Latency {
        count: ns.len(),
        p50_ms: ms(rank(0.50)),
        p90_ms: ms(rank(0.90)),
        p99_ms: ms(rank(0.99)),
        max_ms: ms(ns[ns.len() - 1]),
        mean_ms: ns.iter().map(|&v| v as f64).sum::<f64>() / ns.len() as f64 / 1e6,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().map(|ms| ms * 1_000_000).collect();
        let l = super::latency(&mut v);
        assert_eq!(
            (l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(l.count, 100);
        assert_eq!(super::latency(&mut []), super::Latency::default());
        let l = super::latency(&mut [7_000_000]);
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (7.0, 7.0, 7.0));
    }
}
