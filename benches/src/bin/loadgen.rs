//! `loadgen`: offers a fixed (or unbounded) rate of presigned transactions to a local network of
//! real `waybill` validators over JSON-RPC and reports committed throughput, submit-to-commit
//! latency, each validator's memory and the machine's signature-verification bound, measured in
//! the same run. See BENCHMARKS.md ("Cluster throughput") for the commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use waybill_benches::loadgen::bound::{self, Bound};
use waybill_benches::loadgen::commits::Watcher;
use waybill_benches::loadgen::cpu::{self, CpuMark};
use waybill_benches::loadgen::network::{self, Network};
use waybill_benches::loadgen::node_work;
use waybill_benches::loadgen::presign::{presign, Workload};
use waybill_benches::loadgen::report::RunConfig;
use waybill_benches::loadgen::rss::Sampler;
use waybill_benches::loadgen::submit::{self, Plan, Rate};
use waybill_benches::loadgen::track::Tracker;
use waybill_benches::loadgen::{summary, LoadgenError};

/// Transactions the signature bound is measured over (the first of the run's own).
const BOUND_SAMPLE: usize = 8192;
/// In `--rate max` runs without `--count`, presign this many times what the bound allows over
/// the duration: the cluster cannot commit faster than the bound, so the streams never run dry.
const MAX_HEADROOM: f64 = 1.3;
/// The clock starts this long after the run is ready, once subscriptions are up.
const START_LEAD: Duration = Duration::from_secs(1);

#[derive(Parser, Debug)]
#[command(about = "Load generator for a local network of waybill validators")]
struct Args {
    /// Transactions per second offered over all validators, or `max`.
    #[arg(long, default_value = "10000", value_parser = parse_rate)]
    rate: Rate,
    /// Seconds of load.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Seconds at the start left out of the committed-throughput window (default: a tenth of
    /// the duration, at most 5).
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds to wait after the load for the last transactions to commit; what has not
    /// committed by then is reported as timed out.
    #[arg(long, default_value_t = 30.0)]
    drain: f64,
    /// Distinct signing accounts.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Transactions per submission call (at most 1000, or 100 with --one-call-per-tx; fixed
    /// rates send smaller batches every 10 ms when the rate is low).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Submit each transaction as its own `waybill_submitRawTransaction` call, in JSON-RPC
    /// batches, instead of one `waybill_submitRawTransactions` call per batch.
    #[arg(long)]
    one_call_per_tx: bool,
    /// Batch calls in flight per validator.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// With `--rate max`: most transactions sent and not yet committed, over all validators;
    /// senders wait above it (saturation with a bounded queue, not a flood of the mempools).
    #[arg(long, default_value_t = 20_000)]
    max_pending: u64,
    /// Transactions to presign for `--rate max` (default: 1.3 x bound x duration).
    #[arg(long)]
    count: Option<usize>,
    /// Validators of the network the run starts.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Genesis round timeout of the started network, in ms (1000 is `waybill localnet`'s).
    #[arg(long, default_value_t = 1000)]
    round_timeout_ms: u64,
    /// The release `waybill` binary (default: `waybill` next to this executable).
    #[arg(long)]
    waybill: Option<PathBuf>,
    /// Directory for the started network (default: a new one under the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Leave the network's directory (logs, data) behind.
    #[arg(long)]
    keep: bool,
    /// Attach to running nodes instead of starting a network (comma-separated JSON-RPC URLs).
    #[arg(long, value_delimiter = ',')]
    rpc: Vec<String>,
    /// With --rpc: the nodes' process ids, same order, for memory sampling.
    #[arg(long, value_delimiter = ',')]
    pids: Vec<i32>,
    /// Seconds each measurement of the signature bound lasts (one before the load, one after).
    #[arg(long, default_value_t = 3.0)]
    bound_secs: f64,
    /// Seconds between memory samples.
    #[arg(long, default_value_t = 1.0)]
    rss_interval: f64,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Rate::Fixed(r)),
        _ => Err(format!(
            "expected transactions per second (> 0) or `max`, got {s:?}"
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            r = run(args) => r,
            // Dropping `run` drops its `Network`, which stops the validators it started.
            _ = tokio::signal::ctrl_c() => Err(LoadgenError::Usage("interrupted".into())),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: &Args) -> Result<(), LoadgenError> {
    let bad = |m: String| Err(LoadgenError::Usage(m));
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return bad(format!("--duration must be > 0, got {}", args.duration));
    }
    if !(args.drain.is_finite() && args.drain >= 0.0) {
        return bad(format!("--drain must be >= 0, got {}", args.drain));
    }
    let max_batch = if args.one_call_per_tx {
        submit::MAX_CALLS_PER_BATCH
    } else {
        submit::MAX_BATCH
    };
    if !(1..=max_batch).contains(&args.batch) {
        return bad(format!(
            "--batch must be 1..={max_batch}, got {}",
            args.batch
        ));
    }
    if args.accounts == 0 || args.in_flight == 0 || args.validators == 0 || args.max_pending == 0 {
        return bad(
            "--accounts, --in-flight, --validators and --max-pending must be at least 1".into(),
        );
    }
    if !(args.rss_interval > 0.0 && args.bound_secs > 0.0) {
        return bad("--rss-interval and --bound-secs must be > 0".into());
    }
    if let Some(w) = args.warmup {
        if !(0.0..args.duration).contains(&w) {
            return bad(format!("--warmup must be in [0, duration), got {w}"));
        }
    }
    Ok(())
}

async fn run(args: Args) -> Result<(), LoadgenError> {
    check(&args)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = Duration::from_secs_f64(args.duration);
    let warmup = args.warmup.unwrap_or((args.duration / 10.0).min(5.0));

    let net = if args.rpc.is_empty() {
        let exe = match &args.waybill {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| LoadgenError::Usage(format!("cannot find this executable: {e}")))?
                .with_file_name("waybill"),
        };
        let dir = args.dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("waybill-loadgen-{}", std::process::id()))
        });
        eprintln!(
            "starting {} validators ({}) in {}",
            args.validators,
            exe.display(),
            dir.display()
        );
        Network::start(
            &exe,
            &dir,
            args.validators,
            args.round_timeout_ms,
            args.keep || args.dir.is_some(),
        )
        .await?
    } else {
        Network::attach(&args.rpc, &args.pids).await?
    };
    let validators = net.nodes.len();
    let urls: Vec<String> = net.nodes.iter().map(|n| n.rpc_url.clone()).collect();

    // Sign everything, and measure the bound, before the clock starts and while the validators
    // are idle (a leader with nothing to order proposes nothing).
    let (workload, bound) = prepare(&args, &net.chain_id, validators, cores)?;
    eprintln!(
        "presigned {} transactions from {} accounts; signature bound {:.0} tx/s ({:.0} verifications/s on {} cores)",
        workload.len(),
        workload.accounts,
        bound.bound_tx_per_s,
        bound.verify_rate_all_cores,
        cores
    );
    let workload = Arc::new(workload);

    let mut start_height = 0;
    for url in &urls {
        let head = network::client(url)?
            .head()
            .await
            .map_err(|e| LoadgenError::Rpc {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        start_height = start_height.max(head.height);
    }
    // The clock starts a moment from now, once the subscriptions and the sampler are up.
    let t0 = Instant::now() + START_LEAD;
    let tracker = Arc::new(Tracker::new(workload.len(), t0));
    let watcher = Watcher::start(&urls, start_height, workload.clone(), tracker.clone()).await?;
    let pids: Vec<(String, i32)> = net
        .nodes
        .iter()
        .filter_map(|n| Some((n.name.clone(), n.pid?)))
        .collect();
    tokio::time::sleep_until(t0.into()).await;
    // The validators' CPU over the steady window, marked at its two ends.
    let cpu_window = {
        let pids: Vec<i32> = pids.iter().map(|p| p.1).collect();
        let (from, to) = (
            t0 + Duration::from_secs_f64(warmup),
            t0 + Duration::from_secs_f64(args.duration),
        );
        tokio::spawn(async move {
            tokio::time::sleep_until(from.into()).await;
            let start = CpuMark::now(&pids);
            tokio::time::sleep_until(to.into()).await;
            (start, CpuMark::now(&pids))
        })
    };
    let sampler = Sampler::start(pids, t0, Duration::from_secs_f64(args.rss_interval));
    eprintln!(
        "load: {} for {} s over {validators} validators",
        match args.rate {
            Rate::Fixed(r) => format!("{r} tx/s"),
            Rate::Max => "as fast as possible".into(),
        },
        args.duration
    );

    let plan = Plan {
        rate: args.rate,
        duration,
        batch: args.batch,
        in_flight: args.in_flight,
        max_pending: args.max_pending,
        streams: validators,
        one_call_per_tx: args.one_call_per_tx,
    };
    let mut streams = Vec::new();
    for (k, indices) in workload.streams().into_iter().enumerate() {
        streams.push(tokio::spawn(submit::run_stream(
            urls[k].clone(),
            indices,
            workload.clone(),
            tracker.clone(),
            plan,
        )));
    }
    let mut stream_reports = Vec::new();
    for s in streams {
        match s.await {
            Ok(r) => stream_reports.push(r?),
            Err(e) => return Err(LoadgenError::Usage(format!("a submit stream failed: {e}"))),
        }
    }
    let load_end = Instant::now();
    eprintln!(
        "load done; waiting up to {} s for {} outstanding transactions",
        args.drain,
        tracker.outstanding()
    );
    let drain_until = load_end + Duration::from_secs_f64(args.drain);
    while tracker.outstanding() > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let commit_stats = watcher.finish().await;
    let memory = sampler.finish();
    // The bound again, the validators idle once more; the run keeps the higher (see `bound`).
    let after = bound::measure(
        &net.chain_id,
        &workload.decoded(BOUND_SAMPLE),
        cores,
        validators,
        args.bound_secs,
    )?;
    eprintln!(
        "signature bound after the load {:.0} tx/s (before: {:.0})",
        after.bound_tx_per_s, bound.bound_tx_per_s
    );
    let bound = Bound::best_of(bound, after);

    let config = RunConfig {
        validators,
        rate_tx_per_s: match args.rate {
            Rate::Fixed(r) => Some(r),
            Rate::Max => None,
        },
        duration_s: args.duration,
        warmup_s: warmup,
        drain_s: args.drain,
        accounts: workload.accounts,
        batch: args.batch,
        submission: if args.one_call_per_tx {
            "waybill_submitRawTransaction, one call per transaction".into()
        } else {
            "waybill_submitRawTransactions".into()
        },
        in_flight_per_validator: args.in_flight,
        max_pending: matches!(args.rate, Rate::Max).then_some(args.max_pending),
        presigned: workload.len(),
        network: if args.rpc.is_empty() {
            "started by loadgen".into()
        } else {
            "attached".into()
        },
    };
    let verify_rate_per_core = bound.verify_rate_per_core;
    let mut report = summary::summarise(
        config,
        bound,
        &tracker,
        commit_stats,
        stream_reports,
        memory,
    );
    if let Ok((start, end)) = cpu_window.await {
        let in_window = report.committed_tx_per_s * (args.duration - warmup);
        report.cpu = cpu::between(&start, &end, in_window, verify_rate_per_core);
    }
    let metrics: Vec<String> = net.nodes.iter().filter_map(|n| n.metrics.clone()).collect();
    report.node_work = node_work::read(&metrics, report.committed).await;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| LoadgenError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| LoadgenError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    drop(net);
    Ok(())
}

fn prepare(
    args: &Args,
    chain_id: &str,
    validators: usize,
    cores: usize,
) -> Result<(Workload, Bound), LoadgenError> {
    let measure = |w: &Workload| {
        bound::measure(
            chain_id,
            &w.decoded(BOUND_SAMPLE),
            cores,
            validators,
            args.bound_secs,
        )
    };
    match args.rate {
        Rate::Fixed(r) => {
            // The bound needs a batch's worth; a slow run (a transaction every few seconds onto
            // a resting network) presigns that many and sends only what falls due in its time.
            let count = ((r * args.duration).ceil() as usize).max(bound::BATCH);
            let w = presign(chain_id, args.accounts, validators, count, cores);
            let b = measure(&w)?;
            Ok((w, b))
        }
        Rate::Max => {
            // The bound sizes the run, so it is measured first, over a probe signed the same way.
            let probe = presign(chain_id, args.accounts, validators, BOUND_SAMPLE, cores);
            let b = measure(&probe)?;
            drop(probe);
            let count = args
                .count
                .unwrap_or((b.bound_tx_per_s * MAX_HEADROOM * args.duration).ceil() as usize);
            Ok((
                presign(chain_id, args.accounts, validators, count, cores),
                b,
            ))
        }
    }
}
