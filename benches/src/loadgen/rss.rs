//! Each validator's resident memory (`VmRSS` in `/proc/PID/status`) sampled over the run, so a
//! long run can show whether memory stays flat. Sampling reads one small file per node per
//! interval: no load worth counting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Resident set size in KiB, `None` if the process is gone or `/proc` is unreadable.
pub fn rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeMemory {
    pub name: String,
    pub pid: i32,
    pub start_mib: f64,
    pub peak_mib: f64,
    pub end_mib: f64,
    /// `(seconds since the clock started, MiB)`, every interval.
    pub samples: Series,
}

/// `(seconds since the clock started, MiB)` samples of one node.
type Series = Vec<(f64, f64)>;

pub struct Sampler {
    nodes: Vec<(String, i32)>,
    samples: Arc<Mutex<Vec<Series>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Samples `nodes` now and then every `interval` until [`Sampler::finish`].
    pub fn start(nodes: Vec<(String, i32)>, t0: Instant, interval: Duration) -> Sampler {
        let samples = Arc::new(Mutex::new(vec![Vec::new(); nodes.len()]));
        let (pids, shared) = (
            nodes.iter().map(|n| n.1).collect::<Vec<_>>(),
            samples.clone(),
        );
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                let t = t0.elapsed().as_secs_f64();
                let mut all = shared.lock().unwrap_or_else(|p| p.into_inner());
                for (k, pid) in pids.iter().enumerate() {
                    if let Some(kib) = rss_kib(*pid) {
                        all[k].push((t, kib as f64 / 1024.0));
                    }
                }
            }
        });
        Sampler {
            nodes,
            samples,
            task,
        }
    }

    pub fn finish(self) -> Vec<NodeMemory> {
        self.task.abort();
        let all = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        self.nodes
            .iter()
            .zip(all.iter())
            .map(|((name, pid), s)| NodeMemory {
                name: name.clone(),
                pid: *pid,
                start_mib: s.first().map_or(0.0, |x| x.1),
                peak_mib: s.iter().map(|x| x.1).fold(0.0, f64::max),
                end_mib: s.last().map_or(0.0, |x| x.1),
                samples: s.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_vm_rss() {
        let status = "Name:\twaybill\nVmPeak:\t  999 kB\nVmRSS:\t   123456 kB\nThreads:\t9\n";
        assert_eq!(super::parse_vm_rss(status), Some(123_456));
        assert_eq!(super::parse_vm_rss("Name:\tx\n"), None);
    }
}
