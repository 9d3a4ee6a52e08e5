//! The key ceremony for real: four members, each with its own directory that no private key
//! ever leaves, go from nothing to a committed transaction with the `waybill` binary alone, on
//! 127.0.0.1. Only public files travel between directories (bundles, then genesis copies), as
//! they would by mail. Along the way: a tampered bundle is refused, a half-signed genesis is
//! reported and refused by `run`, every config holds only local settings, and no member needs
//! more than 10 commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use waybill_node::config::NodeConfig;
use waybill_node::localnet::{start_node, LocalNode};

mod common;
use common::{kill9, wait_answering, EXE};

/// The members: directory name, validator name, organization display name.
const MEMBERS: [(&str, &str); 4] = [
    ("farm", "Green Valley Farm"),
    ("processor", "Fresh Foods Processing"),
    ("shipper", "Coastal Logistics"),
    ("retailer", "City Grocers"),
];

/// Runs `waybill args...`, counting the command against `member`.
struct Ceremony {
    root: PathBuf,
    commands: BTreeMap<&'static str, usize>,
    nodes: Vec<LocalNode>,
}

impl Drop for Ceremony {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Ceremony {
    fn dir(&self, member: &str) -> PathBuf {
        self.root.join(member)
    }

    fn waybill(&mut self, member: &'static str, args: &[&str]) -> Output {
        *self.commands.entry(member).or_default() += 1;
        Command::new(EXE)
            .args(args)
            .current_dir(&self.root)
            .output()
            .unwrap()
    }

    /// A command that must succeed; its stdout.
    fn ok(&mut self, member: &'static str, args: &[&str]) -> String {
        let out = self.waybill(member, args);
        assert!(
            out.status.success(),
            "{member}: waybill {}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A command that must fail; its stderr.
    fn fails(&mut self, member: &'static str, args: &[&str]) -> String {
        let out = self.waybill(member, args);
        assert!(
            !out.status.success(),
            "{member}: waybill {} should have failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

/// A public file travelling from one member to another (mail, a shared drive).
fn send(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

fn key_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(key_files(&p));
        } else if p.extension().is_some_and(|x| x == "key") {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_members_go_from_nothing_to_a_committed_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Ceremony {
        root: tmp.path().to_path_buf(),
        commands: BTreeMap::new(),
        nodes: Vec::new(),
    };
    // Each member's p2p port; its JSON-RPC and metrics ports follow it.
    let base = waybill_node::testnet::find_free_block(27600, 3 * MEMBERS.len()).unwrap();
    let port = |i: usize| base + 3 * i as u16;

    // 1. Every member makes its keys and bundle, and mails the bundle to the coordinator (farm).
    for (i, (name, org_name)) in MEMBERS.iter().enumerate() {
        let address = format!("/ip4/127.0.0.1/tcp/{}", port(i));
        let out = c.ok(
            name,
            &[
                "keys",
                "init",
                "--dir",
                name,
                "--name",
                name,
                "--organization-name",
                org_name,
                "--address",
                &address,
            ],
        );
        assert!(out.contains("wrote member bundle"), "{out}");
        send(
            &c.dir(name).join("member.toml"),
            &c.root.join(format!("coordinator/{name}.toml")),
        );
    }

    // A bundle with a typo in its PeerId (one character) is refused: its proofs no longer verify.
    let good = std::fs::read_to_string(c.root.join("coordinator/retailer.toml")).unwrap();
    let peer_line = good.lines().find(|l| l.starts_with("peer_id")).unwrap();
    let typo = peer_line.replace("12D3KooW", "12D3KooX");
    std::fs::write(c.root.join("typo.toml"), good.replace(peer_line, &typo)).unwrap();
    let err = c.fails(
        "farm",
        &[
            "genesis",
            "init",
            "--out",
            "typo-genesis.toml",
            "--chain-id",
            "x",
            "--member",
            "typo.toml",
        ],
    );
    assert!(
        err.contains("typo.toml") && err.contains("peer_id"),
        "{err}"
    );
    *c.commands.get_mut("farm").unwrap() -= 1; // a demonstration, not a step of the ceremony
    assert!(!c.root.join("typo-genesis.toml").exists());

    // 2. The coordinator assembles the genesis from the four bundles and mails it out.
    let mut members: Vec<String> = Vec::new();
    for (name, _) in MEMBERS {
        members.push("--member".into());
        members.push(format!("coordinator/{name}.toml"));
    }
    let mut args = vec![
        "genesis",
        "init",
        "--out",
        "coordinator/genesis.toml",
        "--chain-id",
        "ceremony-chain",
        "--round-timeout-ms",
        "500",
    ];
    args.extend(members.iter().map(String::as_str));
    c.ok("farm", &args);

    // Unsigned, it is not complete and says who is missing.
    let err = c.fails("farm", &["genesis", "validate", "coordinator/genesis.toml"]);
    assert!(err.contains("farm: signature MISSING"), "{err}");
    *c.commands.get_mut("farm").unwrap() -= 1; // a check, not a step

    // 3. Every member checks and signs its copy and mails it back.
    for (name, _) in MEMBERS {
        send(
            &c.root.join("coordinator/genesis.toml"),
            &c.dir(name).join("genesis.toml"),
        );
        let genesis = format!("{name}/genesis.toml");
        let out = c.ok(name, &["genesis", "sign", &genesis, "--dir", name]);
        assert!(out.contains("signed genesis hash"), "{out}");
        send(
            &c.dir(name).join("genesis.toml"),
            &c.root.join(format!("coordinator/signed-{name}.toml")),
        );
    }

    // A node refuses a genesis that not everyone signed (here: only the shipper's copy).
    {
        let name = "shipper";
        let out = c.ok(
            name,
            &[
                "config",
                "init",
                "--dir",
                name,
                "--genesis",
                "shipper/genesis.toml",
            ],
        );
        assert!(out.contains("wrote"), "{out}");
        let out = c.waybill(name, &["run", "--config", "shipper/config.toml"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains("ceremony is not complete") && err.contains("farm: signature MISSING"),
            "{err}"
        );
        *c.commands.get_mut(name).unwrap() -= 2;
        std::fs::remove_file(c.dir(name).join("config.toml")).unwrap();
    }

    // 4. The coordinator merges the signatures; the complete genesis goes to everyone.
    let copies: Vec<String> = MEMBERS
        .iter()
        .map(|(n, _)| format!("coordinator/signed-{n}.toml"))
        .collect();
    let mut args = vec!["genesis", "merge", "coordinator/genesis.toml"];
    args.extend(copies.iter().map(String::as_str));
    let out = c.ok("farm", &args);
    assert!(
        out.contains("complete: every member proved its keys and signed"),
        "{out}"
    );

    // 5. Every member checks the final genesis, writes its config and starts its validator.
    let mut hashes = Vec::new();
    for (name, _) in MEMBERS {
        send(
            &c.root.join("coordinator/genesis.toml"),
            &c.dir(name).join("genesis.toml"),
        );
        let out = c.ok(
            name,
            &["genesis", "validate", &format!("{name}/genesis.toml")],
        );
        let hash = out
            .lines()
            .find_map(|l| l.strip_prefix("genesis_hash "))
            .unwrap()
            .trim()
            .to_string();
        hashes.push(hash);
        c.ok(
            name,
            &[
                "config",
                "init",
                "--dir",
                name,
                "--genesis",
                &format!("{name}/genesis.toml"),
            ],
        );
        let config_path = c.dir(name).join("config.toml");
        let config = NodeConfig::load_with_env(&config_path, &[]).unwrap();
        // Only local settings: no peer addresses, nothing typed by hand.
        assert!(config.network.peers.is_empty());
        assert_eq!(config.node.name, name);
        let node = LocalNode {
            name: name.to_string(),
            dir: c.dir(name),
            config_path,
            config,
        };
        *c.commands.get_mut(name).unwrap() += 1; // `waybill run --config NAME/config.toml`
        start_node(Path::new(EXE), &node).unwrap();
        c.nodes.push(node);
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");

    let mut clients = Vec::new();
    for n in &c.nodes {
        clients.push(wait_answering(n).await);
    }

    // 6. The farm's operator records an event; it commits on every member's node.
    let rpc = format!("http://{}", c.nodes[0].config.rpc.listen);
    let out = c.ok(
        "farm",
        &[
            "tx",
            "--rpc",
            &rpc,
            "--key",
            "farm/operator.key",
            "--wait-ms",
            "30000",
            "commission",
            "--item",
            "pallet-1",
            "--type",
            "pallet",
        ],
    );
    let hash: ledger::Hash = out
        .lines()
        .find_map(|l| l.strip_prefix("tx_hash"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(out.contains("result    success"), "{out}");
    let start = Instant::now();
    for (n, client) in c.nodes.iter().zip(&clients) {
        loop {
            if matches!(client.transaction(hash).await, Ok(Some(t)) if t.receipt.is_some()) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{} never committed {hash}:\n{}",
                n.name,
                waybill_node::localnet::log_tail(n, 30)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The nodes found each other from the genesis alone, and name each other.
    let status = clients[1].status().await.unwrap();
    let mut names = status.peer_names.clone();
    names.sort();
    assert!(
        names.iter().all(|n| MEMBERS.iter().any(|(m, _)| m == n)),
        "{names:?}"
    );

    // No private key ever left its member's directory.
    for p in key_files(&c.root) {
        let owner = p
            .strip_prefix(&c.root)
            .unwrap()
            .components()
            .next()
            .unwrap();
        let owner = owner.as_os_str().to_str().unwrap();
        assert!(MEMBERS.iter().any(|(m, _)| *m == owner), "{}", p.display());
        assert_eq!(p.parent().unwrap(), c.dir(owner), "{}", p.display());
    }
    assert_eq!(key_files(&c.root).len(), 4 * MEMBERS.len());

    // At most 10 commands per member, from nothing to a committed transaction.
    for (member, n) in &c.commands {
        assert!(*n <= 10, "{member} needed {n} commands: {:?}", c.commands);
    }
    eprintln!("commands per member: {:?}", c.commands);
}
