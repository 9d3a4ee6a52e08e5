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

use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Chunks in flight per direction of one connection (64 KiB each at most).
const QUEUE_CHUNKS: usize = 4_096;
const CHUNK: usize = 64 * 1024;

#[derive(Parser)]
struct Args {
    /// One-way delay added to every byte, in milliseconds.
    #[arg(long)]
    delay_ms: u64,
    /// `LISTEN=TARGET` pairs of `host:port`.
    #[arg(required = true)]
    routes: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let delay = Duration::from_millis(args.delay_ms);
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
        listeners.push(tokio::spawn(accept(listener, target.to_string(), delay)));
    }
    eprintln!(
        "delayproxy: {} routes, {} ms each way",
        listeners.len(),
        args.delay_ms
    );
    for l in listeners {
        let _ = l.await;
    }
}

async fn accept(listener: TcpListener, target: String, delay: Duration) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let target = target.clone();
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(&target).await else {
                return; // the target is down: the dialer sees its connection close
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (in_r, in_w) = inbound.into_split();
            let (out_r, out_w) = outbound.into_split();
            tokio::join!(relay(in_r, out_w, delay), relay(out_r, in_w, delay));
        });
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE_CHUNKS);
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .await
                        .is_err()
                    {
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
