//! CPU time the validators spent over the run's steady window (`/proc/PID/stat`), per committed
//! transaction. Throughput over the bound depends on how much of the machine the validators got
//! and on how fast the machine verified while the bound was measured, and both move between
//! runs; the CPU a validator spends per transaction, next to what one signature check costs,
//! is the steadier figure to compare builds by.

use std::time::Instant;

use serde::Serialize;

/// Seconds of CPU (user and system, all threads) the process has used, `None` if it is gone.
pub fn cpu_seconds(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = parse_cpu_ticks(&stat)?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks as f64 / per_second as f64)
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Every validator's CPU seconds at one moment.
pub struct CpuMark {
    at: Instant,
    seconds: Vec<Option<f64>>,
}

impl CpuMark {
    pub fn now(pids: &[i32]) -> CpuMark {
        CpuMark {
            at: Instant::now(),
            seconds: pids.iter().map(|&p| cpu_seconds(p)).collect(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ValidatorCpu {
    /// The window the CPU was measured over (the load's steady window).
    pub window_s: f64,
    /// CPU seconds per second of all validators together, over the window.
    pub cores_used: f64,
    /// One validator's CPU per committed transaction, over the window (mean of validators).
    pub us_per_tx: f64,
    /// One signature check at the bound's rate on one core.
    pub us_per_verification: f64,
    /// `us_per_verification / us_per_tx`: the share of a validator's CPU that is the one
    /// signature check every validator must make; the rest is everything else it does.
    pub verification_share: f64,
}

/// CPU between two marks over `committed` transactions, `None` when a validator could not be
/// read at either mark (it stopped, or `/proc` is not there).
pub fn between(
    start: &CpuMark,
    end: &CpuMark,
    committed: f64,
    verify_rate_per_core: f64,
) -> Option<ValidatorCpu> {
    let window_s = end.at.duration_since(start.at).as_secs_f64();
    let validators = start.seconds.len();
    if validators == 0 || window_s <= 0.0 || committed <= 0.0 || verify_rate_per_core <= 0.0 {
        return None;
    }
    let mut total = 0.0;
    for (a, b) in start.seconds.iter().zip(&end.seconds) {
        total += (*b)? - (*a)?;
    }
    let us_per_tx = total / committed / validators as f64 * 1e6;
    let us_per_verification = 1e6 / verify_rate_per_core;
    Some(ValidatorCpu {
        window_s,
        cores_used: total / window_s,
        us_per_tx,
        us_per_verification,
        verification_share: us_per_verification / us_per_tx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_counted_after_the_command_name() {
        let stat =
            "4242 (waybill (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 9 0 77 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1234 + 56));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        assert_eq!(parse_cpu_ticks("1 (a) S 1 2"), None);
    }

    #[test]
    fn this_process_uses_some_cpu() {
        let pid = std::process::id() as i32;
        let before = cpu_seconds(pid).expect("own /proc/PID/stat");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(pid).unwrap() >= before);
    }

    #[test]
    fn shares_are_per_validator_and_per_transaction() {
        let t = Instant::now();
        let start = CpuMark {
            at: t,
            seconds: vec![Some(1.0), Some(2.0)],
        };
        let end = CpuMark {
            at: t + std::time::Duration::from_secs(10),
            seconds: vec![Some(10.0), Some(11.0)],
        };
        // 18 CPU seconds over 10 s for 100,000 transactions by 2 validators: 90 us each; a
        // signature check at 50,000 a second is 20 us of it.
        let cpu = between(&start, &end, 100_000.0, 50_000.0).unwrap();
        assert!((cpu.cores_used - 1.8).abs() < 1e-9);
        assert!((cpu.us_per_tx - 90.0).abs() < 1e-9);
        assert!((cpu.us_per_verification - 20.0).abs() < 1e-9);
        assert!((cpu.verification_share - 20.0 / 90.0).abs() < 1e-9);
        let gone = CpuMark {
            at: end.at,
            seconds: vec![Some(10.0), None],
        };
        assert!(between(&start, &gone, 100_000.0, 50_000.0).is_none());
    }
}
