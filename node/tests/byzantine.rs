//! Byzantine behaviours against real processes: three honest `waybill run` processes and one
//! Byzantine validator (`byzantine_peer`, test code in this process) that joins with validator
//! 3's real keys and address and speaks the real protocols over libp2p on 127.0.0.1.
//!
//! Each test switches the Byzantine validator's behaviours on one at a time while clients keep
//! submitting through the honest nodes. After each phase: the honest nodes still commit client
//! transactions, and the offences the phase causes are counted in their metrics, by peer and
//! kind. At the end: every honest process is up, all hold the same block at every height, each
//! logged each kind of offence once, and nobody equivocated but the Byzantine validator.
//!
//! The tests of this binary share the machine's cores, so they take turns (`TURNS`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use waybill_node::localnet::{log_tail, start_node, LocalNode};
use waybill_node::testnet::{generate, TestnetSpec};

mod byzantine_peer;
mod common;
use byzantine_peer::{Behaviour, ByzantinePeer};
use common::{
    assert_same_chain, equivocations, kill9, log_of, scrape_metrics, wait_answering, wait_height,
    Load, Processes, EXE,
};

/// One network at a time on this machine.
static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// The Byzantine validator's index (and name in metrics).
const BYZANTINE: usize = 3;
const BYZANTINE_NAME: &str = "validator-3";
/// Liveness bound for a phase: far above what a phase takes, not a speed check.
const LIMIT: Duration = Duration::from_secs(40);

struct Net {
    nodes: Processes,
    clients: Vec<rpc::Client>,
    byz: ByzantinePeer,
    load: Load,
    chain: String,
}

impl Net {
    /// Generates a four-validator network, starts validators 0-2 as processes and validator 3
    /// as the Byzantine peer, and a load of three client accounts through the honest nodes.
    async fn start(dir: &Path, chain: &str) -> Net {
        generate(&TestnetSpec {
            validators: 4,
            out: dir.to_path_buf(),
            chain_id: chain.into(),
            base_port: None,
            round_timeout_ms: 500,
            observers: 0,
        })
        .unwrap();
        let all = waybill_node::localnet::nodes(dir).unwrap();
        let byz_node = all[BYZANTINE].clone();
        let honest: Vec<LocalNode> = all.into_iter().take(BYZANTINE).collect();
        for n in &honest {
            start_node(Path::new(EXE), n).unwrap();
        }
        let nodes = Processes(honest);
        let mut clients = Vec::new();
        for n in &nodes.0 {
            clients.push(wait_answering(n).await);
        }
        let byz = ByzantinePeer::start(&byz_node).await;
        let keys = ["processor", "shipper", "retailer"]
            .map(|org| read_key_file(&dir.join(format!("clients/{org}-operator.key"))).unwrap());
        let via: Vec<&LocalNode> = nodes.0.iter().collect();
        let load = Load::start(chain, keys.to_vec(), &via);
        let net = Net {
            nodes,
            clients,
            byz,
            load,
            chain: chain.into(),
        };
        net.until("the Byzantine validator is connected to all", || async {
            net.byz.connected_peers().len() == BYZANTINE
        })
        .await;
        net.load.wait_more(5, LIMIT, "before any behaviour").await;
        net
    }

    fn honest(&self) -> &[LocalNode] {
        &self.nodes.0
    }

    /// Waits until `done` holds (`LIMIT` at most).
    async fn until<F: std::future::Future<Output = bool>>(
        &self,
        what: &str,
        mut done: impl FnMut() -> F,
    ) {
        let start = Instant::now();
        while !done().await {
            assert!(
                start.elapsed() < LIMIT,
                "{} [{}]: not within {LIMIT:?}; Byzantine peer {}; {} client transactions committed; validator-0's log:\n{}",
                what,
                self.chain,
                self.byz.report(),
                self.load.committed(),
                log_tail(&self.honest()[0], 30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The Byzantine validator's offences each honest node counted, by kind.
    async fn offences(&self) -> Vec<BTreeMap<String, u64>> {
        let mut out = Vec::new();
        for n in self.honest() {
            out.push(offences_of(&scrape_metrics(n).await));
        }
        out
    }

    /// One metric of every honest node.
    async fn metric(&self, name: &str) -> Vec<u64> {
        let mut out = Vec::new();
        for n in self.honest() {
            out.push(scrape_metrics(n).await.get(name).copied().unwrap_or(0.0) as u64);
        }
        out
    }

    /// Runs `behaviours` until the Byzantine validator did `what` at least `times` times and
    /// the honest nodes committed more client transactions; then checks that every kind in
    /// `kinds` was counted against it (summed over the honest nodes) more than before, and that
    /// no honest node refused it (the pace keeps it below the threshold).
    async fn phase(&self, behaviours: &[Behaviour], what: &str, times: u64, kinds: &[&str]) {
        let before = sum(&self.offences().await);
        // Counted within this phase: two phases of one behaviour (Replay) each do both of its
        // acts, so the second could otherwise pass on the first one's count without acting.
        let done_before = self.byz.done(what);
        self.byz.set(behaviours);
        let label = format!("{behaviours:?}");
        self.until(
            &format!("{label}: the Byzantine validator did {what:?} {times} times"),
            || async { self.byz.done(what) >= done_before + times },
        )
        .await;
        self.load.wait_more(5, LIMIT, &label).await;
        self.byz.set(&[]);
        // The metrics follow the engine a moment late (under load, by more than a phase: the
        // previous phase's last offences can land in this one's `before`), so poll for each
        // kind to be counted more than before, within the limit.
        let counted = |now: &BTreeMap<String, u64>| {
            kinds
                .iter()
                .all(|k| now.get(*k).copied().unwrap_or(0) > before.get(*k).copied().unwrap_or(0))
        };
        self.until(&format!("{label}: offences {kinds:?} counted"), || async {
            counted(&sum(&self.offences().await))
        })
        .await;
        let after = sum(&self.offences().await);
        for kind in kinds {
            let (b, a) = (
                before.get(*kind).copied().unwrap_or(0),
                after.get(*kind).copied().unwrap_or(0),
            );
            assert!(
                a > b,
                "{label}: offence {kind} not counted ({b} before, {a} after): {after:?}"
            );
        }
        assert_eq!(
            self.metric("waybill_peers_refused_total").await,
            vec![0; BYZANTINE],
            "{label}: refused before the flood; offences by node {:?}; Byzantine peer {}",
            self.offences().await,
            self.byz.report()
        );
        eprintln!(
            "{label}: {what} x{}; offences now {after:?}; {} client transactions committed",
            self.byz.done(what) - done_before,
            self.load.committed()
        );
    }

    /// The end of every test: the honest processes are up and agree on every height, each
    /// logged each kind of the Byzantine validator's offences once (and counted it in its
    /// metrics), and no honest validator equivocated.
    async fn check_and_stop(self, kinds_logged: &[&str]) {
        let byz_id = self.byz.peer_id.to_string();
        let offences = self.offences().await;
        let Net {
            nodes,
            clients,
            byz,
            load,
            chain,
        } = self;
        load.stop().await;
        byz.stop().await;
        let honest = &nodes.0;
        for n in honest {
            assert!(
                n.running_pid().is_some(),
                "{} stopped:\n{}",
                n.name,
                log_tail(n, 40)
            );
        }
        let pairs: Vec<(&LocalNode, &rpc::Client)> = honest.iter().zip(&clients).collect();
        let height = assert_same_chain(&pairs).await;
        for (n, counted) in honest.iter().zip(&offences) {
            let log = log_of(n);
            assert!(
                !log.contains("panicked"),
                "{}: a panic:\n{}",
                n.name,
                log_tail(n, 40)
            );
            // A restarted node logs and counts afresh: its latest run against its metrics.
            let logged = logged_offences(latest_run(&log), &byz_id);
            for (kind, times) in &logged {
                assert_eq!(*times, 1, "{}: offence {kind} logged {times} times", n.name);
                assert!(
                    counted.get(kind).is_some_and(|c| *c >= 1),
                    "{}: {kind} logged but not counted: {counted:?}",
                    n.name
                );
            }
            for (kind, count) in counted {
                assert!(
                    logged.contains_key(kind),
                    "{}: {kind} counted {count} times, never logged",
                    n.name
                );
            }
            // Equivocations are the Byzantine validator's alone.
            for line in equivocations(&log) {
                assert!(
                    line.contains(&byz_id),
                    "{}: an honest validator equivocated? {line}",
                    n.name
                );
            }
        }
        let total = sum(&offences);
        for kind in kinds_logged {
            assert!(total.contains_key(*kind), "{kind} never counted: {total:?}");
        }
        eprintln!(
            "{chain}: the honest nodes agree on all {height} heights; offences by kind {total:?}"
        );
    }
}

/// `waybill_peer_offences_total{peer="validator-3",kind=K} N` → K: N.
fn offences_of(metrics: &std::collections::HashMap<String, f64>) -> BTreeMap<String, u64> {
    let prefix = format!("waybill_peer_offences_total{{peer=\"{BYZANTINE_NAME}\",kind=\"");
    metrics
        .iter()
        .filter_map(|(name, v)| {
            let kind = name.strip_prefix(&prefix)?.strip_suffix("\"}")?;
            Some((kind.to_string(), *v as u64))
        })
        .collect()
}

fn sum(per_node: &[BTreeMap<String, u64>]) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for m in per_node {
        for (k, v) in m {
            *total.entry(k.clone()).or_insert(0) += v;
        }
    }
    total
}

/// The part of a node's log its latest process wrote (`start_node` appends).
fn latest_run(log: &str) -> &str {
    log.rfind("run_cmd: starting").map_or(log, |at| &log[at..])
}

/// How often each kind of `peer`'s offences is logged.
fn logged_offences(log: &str, peer: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("peer misbehaved") && l.contains(peer))
    {
        let kind = line
            .split_once("kind=")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no kind in {line:?}"));
        *out.entry(kind.trim_matches('"').to_string()).or_insert(0) += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byzantine_leader_and_voter_neither_stops_nor_forks_the_honest_three() {
    let _turn = TURNS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::start(dir.path(), "byzantine-consensus").await;

    // Each behaviour alone: what it did (and how often, at least) and the offences it costs.
    let phases: [(Behaviour, &str, u64, &[&str]); 7] = [
        (
            Behaviour::Garbage,
            "garbage consensus message",
            3,
            &["undecodable_consensus", "undecodable_sync_request"],
        ),
        (
            Behaviour::Equivocate,
            "second vote in a round",
            3,
            &["equivocation"],
        ),
        (
            Behaviour::Equivocate,
            "different proposals to different peers",
            2,
            &[],
        ),
        (
            Behaviour::OversizeBlocks,
            "oversized proposal",
            3,
            &["invalid_consensus"],
        ),
        (
            Behaviour::Replay,
            "vote for another chain",
            2,
            &["invalid_consensus"],
        ),
        (
            Behaviour::Replay,
            "honest validator's message as its own",
            2,
            &["invalid_consensus"],
        ),
        (Behaviour::Silent, "proposal withheld", 2, &[]),
    ];
    for (behaviour, what, times, kinds) in phases {
        net.phase(&[behaviour], what, times, kinds).await;
    }

    // Past the threshold: every honest node disconnects it and refuses it for a while (its
    // network keeps redialling every half second: each connection is closed at once, before
    // the node counts it as a peer), and commits on without it.
    let others = vec![BYZANTINE as u64 - 1; BYZANTINE];
    net.byz.set(&[Behaviour::Flood]);
    net.until(
        "every honest node refused the Byzantine validator",
        || async {
            net.metric("waybill_peers_refused_total")
                .await
                .iter()
                .all(|r| *r >= 1)
                && net.metric("waybill_peers").await == others
        },
    )
    .await;
    net.byz.set(&[]);
    let refused_at = Instant::now();
    let committed = net.load.committed();
    net.load
        .wait_more(5, LIMIT, "with the Byzantine validator refused")
        .await;
    while refused_at.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        net.metric("waybill_peers").await,
        others,
        "let back in within 5 s of its refusal (for 30 s)"
    );
    assert!(
        net.byz.done("disconnected by a peer") >= BYZANTINE as u64,
        "{}",
        net.byz.report()
    );
    for n in net.honest() {
        let log = log_of(n);
        assert!(
            log.contains("peer refused for its offences"),
            "{}:\n{}",
            n.name,
            log_tail(n, 20)
        );
        assert!(
            log.contains("refusing a peer for its offences"),
            "{}:\n{}",
            n.name,
            log_tail(n, 20)
        );
    }
    eprintln!(
        "refused: {} client transactions committed without it",
        net.load.committed() - committed
    );

    net.check_and_stop(&[
        "undecodable_consensus",
        "undecodable_sync_request",
        "equivocation",
        "invalid_consensus",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_sync_answers_and_floods_of_checkpoint_votes_change_nothing() {
    let _turn = TURNS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let net = Net::start(dir.path(), "byzantine-sync").await;

    // It claims a head far ahead, so honest nodes ask it for blocks; it answers with the blocks
    // it committed before them (it leads, and withholds that round's proposal), lying about
    // them. Certificates decide: a true block under a false root is applied and the root
    // charged to the liar; a forged certificate or another fork's block is refused.
    for lie in [
        "lie: wrong accumulator root",
        "lie: forged certificate",
        "lie: another fork's blocks",
    ] {
        net.phase(&[Behaviour::LyingSync], lie, 1, &[]).await;
    }
    let counted = sum(&net.offences().await);
    for kind in ["false_claim", "bad_catchup"] {
        assert!(
            counted.contains_key(kind),
            "{kind} not counted: {counted:?}"
        );
    }

    // A validator that was down catches up while the liar answers too.
    net.byz.set(&[Behaviour::LyingSync]);
    let late = &net.honest()[2];
    kill9(late);
    let before = net.clients[0].head().await.unwrap().height;
    wait_height(&net.honest()[0], &net.clients[0], before + 10, LIMIT).await;
    start_node(Path::new(EXE), late).unwrap();
    let late_client = wait_answering(late).await;
    let target = net.clients[0].head().await.unwrap().height;
    wait_height(late, &late_client, target, LIMIT).await;
    net.byz.set(&[]);

    // Votes for heights far ahead, for checkpoints nobody computed, again and again, and with
    // bad signatures: certificates keep forming from the honest votes.
    let certified = net.metric("waybill_certified_height").await;
    let rejected = net.metric("waybill_checkpoint_votes_rejected_total").await;
    net.phase(
        &[Behaviour::CheckpointFlood],
        "checkpoint votes in bulk",
        100,
        &["invalid_checkpoint_vote"],
    )
    .await;
    let now_certified = net.metric("waybill_certified_height").await;
    let now_rejected = net.metric("waybill_checkpoint_votes_rejected_total").await;
    for i in 0..BYZANTINE {
        assert!(
            now_certified[i] > certified[i],
            "validator-{i} certified nothing during the flood"
        );
        assert!(
            now_rejected[i] > rejected[i],
            "validator-{i} rejected no vote of the flood"
        );
    }
    // A validator that signs another checkpoint than everyone computed is reported as loudly
    // as non-determinism would be: no node can tell the two apart.
    let divergences = net.metric("waybill_checkpoint_divergences_total").await;
    assert!(
        divergences.iter().sum::<u64>() > 0,
        "no divergence reported: {divergences:?}"
    );

    // (The catch-up offences were checked above: validator-2's count began again at its
    // restart.)
    net.check_and_stop(&["invalid_checkpoint_vote"]).await;
}
