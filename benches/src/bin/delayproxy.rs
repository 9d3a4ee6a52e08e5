//! A TCP relay that delays every byte by a fixed time in each direction: distance between
//! validators where the kernel has no `tc netem` (this machine's has none). `benches/wan.sh`
//! runs one relay per ordered pair of validators, so every validator-to-validator byte crosses
//! one relay and arrives `--delay-ms` later, in order, with no bandwidth limit of its own.
//!
//!   delayproxy --delay-ms 25 LISTEN=TARGET [LISTEN=TARGET ...]
//!
//! Each `LISTEN=TARGET` is a pair of `host:port`: connections accepted on LISTEN are relayed to
//! TARGET. A chunk read at time t is written at t + delay; the queue between reader and writer
//! holds at most `QUEUE_CHUNKS` chunks, so a reader ahead of its writer waits (TCP's own flow
//! control then slows the sender) instead of buffering without bound.
//!
//! `--loss-percent P` stands in for packet loss, which a relay of bytes cannot drop: TCP hides a
//! lost segment from the application, which sees what loss costs it, the segment and everything
//! behind it in the stream arriving a retransmission timeout late. So each segment's worth of a
//! chunk (`SEGMENT` bytes) is lost with probability P %, and a chunk with a lost segment is held
//! `--rto-ms` (Linux's least RTO, 200 ms, by default) longer; chunks behind it keep their order,
//! so they wait too, as behind a real retransmission. Seeded (`--seed`): runs are repeatable.

use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Chunks in flight per direction of one connection (64 KiB each at most).
const QUEUE_CHUNKS: usize = 4_096;
const CHUNK: usize = 64 * 1024;
/// A TCP segment's payload on an Ethernet path (1,500-byte MTU, IPv4 and TCP headers with
/// timestamps): the unit loss strikes.
const SEGMENT: usize = 1_448;

#[derive(Parser)]
struct Args {
    /// One-way delay added to every byte, in milliseconds.
    #[arg(long)]
    delay_ms: u64,
    /// Chance, in percent, that a segment is lost (its chunk, and those behind it, arrive
    /// `--rto-ms` late).
    #[arg(long, default_value_t = 0.0)]
    loss_percent: f64,
    /// What a loss costs: the retransmission timeout.
    #[arg(long, default_value_t = 200)]
    rto_ms: u64,
    /// Seed of the loss draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `LISTEN=TARGET` pairs of `host:port`.
    #[arg(required = true)]
    routes: Vec<String>,
}

/// What each relay direction needs to delay its chunks.
#[derive(Clone, Copy)]
struct Link {
    delay: Duration,
    /// Chance a segment survives, 0..=1.
    keep: f64,
    rto: Duration,
}

/// splitmix64: enough randomness for loss draws, no dependency.
struct Draws(u64);

impl Draws {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether a chunk of `bytes` lost any of its segments.
    fn lost(&mut self, bytes: usize, keep: f64) -> bool {
        if keep >= 1.0 {
            return false;
        }
        let segments = bytes.div_ceil(SEGMENT).max(1) as i32;
        self.next_unit() >= keep.powi(segments)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    if !(0.0..100.0).contains(&args.loss_percent) {
        eprintln!("delayproxy: --loss-percent must be in 0..100");
        std::process::exit(2);
    }
    let link = Link {
        delay: Duration::from_millis(args.delay_ms),
        keep: 1.0 - args.loss_percent / 100.0,
        rto: Duration::from_millis(args.rto_ms),
    };
    let mut listeners = Vec::new();
    for route in &args.routes {
        let Some((listen, target)) = route.split_once('=') else {
            eprintln!("delayproxy: {route:?} is not LISTEN=TARGET");
            std::process::exit(2);
        };
        let listener = match TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("delayproxy: listening on {listen}: {e}");
                std::process::exit(1);
            }
        };
        let seed = args.seed.wrapping_add(listeners.len() as u64);
        listeners.push(tokio::spawn(accept(
            listener,
            target.to_string(),
            link,
            seed,
        )));
    }
    eprintln!(
        "delayproxy: {} routes, {} ms each way, {} % of segments lost ({} ms each)",
        listeners.len(),
        args.delay_ms,
        args.loss_percent,
        args.rto_ms
    );
    for l in listeners {
        let _ = l.await;
    }
}

async fn accept(listener: TcpListener, target: String, link: Link, seed: u64) {
    let mut connections = 0u64;
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        connections += 1;
        let seeds = (
            seed.wrapping_mul(1_000_003).wrapping_add(2 * connections),
            seed.wrapping_mul(1_000_003)
                .wrapping_add(2 * connections + 1),
        );
        let target = target.clone();
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(&target).await else {
                return; // the target is down: the dialer sees its connection close
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (in_r, in_w) = inbound.into_split();
            let (out_r, out_w) = outbound.into_split();
            tokio::join!(
                relay(in_r, out_w, link, Draws(seeds.0)),
                relay(out_r, in_w, link, Draws(seeds.1))
            );
        });
    }
}

/// Copies `from` to `to`, each chunk the link's delay after it was read (and a lost one, with
/// all behind it, an RTO later still).
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Link,
    mut draws: Draws,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE_CHUNKS);
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut due = Instant::now() + link.delay;
                    if draws.lost(n, link.keep) {
                        due += link.rto;
                    }
                    if tx.send((due, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
