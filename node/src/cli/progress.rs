//! A one-line progress display for long commands (`waybill audit ledger`), drawn on stderr only
//! when stderr is a terminal: piped or captured output (scripts, CI, tests) gets none of it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const REDRAW_EVERY: Duration = Duration::from_millis(200);

pub struct ProgressLine {
    /// `None` when stderr is not a terminal: every call is then a no-op.
    out: Option<std::io::Stderr>,
    stage: &'static str,
    started: Instant,
    drawn: Option<Instant>,
}

impl ProgressLine {
    pub fn on_terminal() -> ProgressLine {
        let err = std::io::stderr();
        ProgressLine {
            out: err.is_terminal().then_some(err),
            stage: "",
            started: Instant::now(),
            drawn: None,
        }
    }

    /// `done` of `total` units of `stage` (a new stage restarts the rate and the estimate).
    pub fn update(&mut self, stage: &'static str, done: u64, total: u64) {
        let Some(out) = &self.out else { return };
        let now = Instant::now();
        if stage != self.stage {
            self.stage = stage;
            self.started = now;
            self.drawn = None;
        }
        if self
            .drawn
            .is_some_and(|at| now.duration_since(at) < REDRAW_EVERY)
            && done < total
        {
            return;
        }
        self.drawn = Some(now);
        let line = render(stage, done, total, now.duration_since(self.started));
        // A display only: a terminal that fails to take it changes nothing about the result.
        let mut out = out.lock();
        let _ = write!(out, "\r\x1b[2K{line}");
        let _ = out.flush();
    }

    /// Clears the line, so the results print on a clean one.
    pub fn finish(&mut self) {
        if let (Some(out), Some(_)) = (&self.out, self.drawn) {
            let mut out = out.lock();
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
        self.drawn = None;
    }
}

const BAR_WIDTH: u64 = 30;

/// `stage [#####.....] done/total (pct %), rate/s, ~eta left`.
fn render(stage: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let total = total.max(1);
    let done = done.min(total);
    let filled = done * BAR_WIDTH / total;
    let bar: String = (0..BAR_WIDTH)
        .map(|i| if i < filled { '#' } else { '.' })
        .collect();
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let eta = if rate > 0.0 {
        format!(", ~{:.0} s left", (total - done) as f64 / rate)
    } else {
        String::new()
    };
    format!(
        "{stage} [{bar}] {done}/{total} ({:.1} %), {rate:.0}/s{eta}",
        done as f64 * 100.0 / total as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_fraction_rate_and_estimate() {
        let line = render("re-executing", 250, 1000, Duration::from_secs(5));
        assert_eq!(
            line,
            format!(
                "re-executing [{}{}] 250/1000 (25.0 %), 50/s, ~15 s left",
                "#".repeat(7),
                ".".repeat(23)
            )
        );
        // Nothing done yet, and a stage with nothing to do, still render.
        assert!(render("x", 0, 10, Duration::ZERO).contains("0/10 (0.0 %)"));
        assert!(render("x", 0, 0, Duration::ZERO).contains("0/1"));
    }
}
