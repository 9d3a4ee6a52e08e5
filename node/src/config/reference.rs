//! Every config key with its documentation: the source of `docs/CONFIG.md` (`waybill config
//! reference`) and of the comments in the config `waybill config init` writes. A test checks that
//! this table names exactly the keys [`NodeConfig`] has and that `docs/CONFIG.md` is current.

use super::NodeConfig;

/// One config key.
pub struct FieldDoc {
    pub section: &'static str,
    pub key: &'static str,
    /// Has no default: the file (or the environment) must give it.
    pub required: bool,
    pub doc: &'static str,
}

const fn field(
    section: &'static str,
    key: &'static str,
    required: bool,
    doc: &'static str,
) -> FieldDoc {
    FieldDoc {
        section,
        key,
        required,
        doc,
    }
}

/// In the order a config file lists them.
pub const FIELDS: &[FieldDoc] = &[
    field("node", "name", true, "Shown in logs and in `waybill_status`; `waybill config init` uses the validator's name in the genesis."),
    field("node", "data_dir", true, "Where the node keeps its ledger (`ledger/` under it, a RocksDB database). Back it up only as `docs/OPERATIONS.md` says: an old copy of a validator's data can make it sign twice."),
    field("node", "genesis", true, "The chain's genesis file. Its ceremony record, when it has one, must be complete (every member signed) and gives the other validators' addresses."),
    field("node", "consensus_key", true, "Key file of the consensus key, which signs votes and ledger checkpoints. A validator's key in the genesis; a key that is no validator's makes the node an observer, which follows the chain and never signs. Mode 0600."),
    field("node", "network_key", true, "Key file of the libp2p identity. Its PeerId must be the one the genesis lists for this validator (for an observer, the one its `[[observers]]` entry lists). Mode 0600."),
    field("network", "listen", true, "Multiaddr the node listens on for other validators, e.g. `/ip4/0.0.0.0/tcp/26600`."),
    field("network", "peers", false, "Extra addresses to dial, each ending in `/p2p/<PeerId>`. Normally empty: the other validators' addresses come signed in the genesis file's ceremony record. Use it when a peer's address changed after the ceremony."),
    field("network", "observers", false, "PeerIds of observers this node lets connect besides the genesis's own `[[observers]]` (which every validator admits): this member's decision alone, for an observer only it serves. Normally empty; `waybill genesis add-observer` admits one everywhere."),
    field("rpc", "listen", true, "`host:port` of the JSON-RPC server (HTTP and WebSocket on one port), which also answers `GET /health` and `GET /ready`. Keep it on a private address or behind a proxy."),
    field("rpc", "cors_origins", false, "Origins browsers may call from: empty sends no CORS headers (same origin only), `[\"*\"]` allows any."),
    field("rpc", "max_connections", false, "Most JSON-RPC connections at once."),
    field("rpc", "requests_per_second_per_client", false, "Calls a second per client IP address (IPv6: per /64), each call of a batch counting, with a burst of one second's worth; over it a call gets error -32005 (HTTP 429 when every call of a request is refused). 0 turns the limit off."),
    field("rpc", "explorer", false, "Serve the ledger explorer at `/explorer/` on the JSON-RPC port: a page for people (head, validators, blocks, transactions, items with their history and provenance, organizations) that verifies proofs in the browser against a genesis file the user supplies. Its files are built into the binary and it loads nothing from elsewhere. `false` answers 404 there."),
    field("metrics", "listen", false, "`host:port` of the Prometheus endpoint (`GET /metrics`, also `/health` and `/ready`); empty turns it off."),
    field("mempool", "capacity", false, "Most transactions held in total; beyond it submissions are refused with `mempool_full`."),
    field("mempool", "per_account", false, "Most transactions held per account."),
    field("mempool", "sequence_window", false, "How far ahead of an account's next sequence number a transaction may be."),
    field("log", "format", false, "`human` (one line per event, colour only on a terminal) or `json` (one JSON object per line). `waybill run --log-format` overrides it."),
    field("log", "level", false, "Targets and levels, such as `info` or `waybill_node=debug,libp2p=warn` (at most 512 bytes; tracing's span and field filters are refused). The `RUST_LOG` environment variable, when set, replaces it."),
    field("log", "progress_secs", false, "Seconds between the one-line progress reports (height, transactions, rate, peers by name); 0 turns them off."),
];

/// The smallest config: only the required keys. Everything else takes its default from the
/// code, which is what the reference shows.
const MINIMAL: &str = r#"
[node]
name = "member"
data_dir = "data"
genesis = "genesis.toml"
consensus_key = "consensus.key"
network_key = "network.key"
[network]
listen = "/ip4/0.0.0.0/tcp/26600"
[rpc]
listen = "127.0.0.1:26601"
"#;

/// A config with every default, as TOML tables by section.
pub fn defaults() -> toml::Table {
    let cfg: NodeConfig = toml::from_str(MINIMAL).expect("the minimal config parses");
    to_table(&cfg)
}

fn to_table(cfg: &NodeConfig) -> toml::Table {
    toml::Table::try_from(cfg).expect("a config serialises to a TOML table")
}

fn value<'a>(t: &'a toml::Table, section: &str, key: &str) -> Option<&'a toml::Value> {
    t.get(section)?.as_table()?.get(key)
}

/// The environment variable that overrides `section.key`.
pub fn env_var(section: &str, key: &str) -> String {
    format!("WAYBILL_{}_{}", section, key).to_ascii_uppercase()
}

/// `docs/CONFIG.md`.
pub fn markdown() -> String {
    let defaults = defaults();
    let mut out = String::from(
        "# Node configuration\n\n\
         <!-- Generated by `waybill config reference` from node/src/config/reference.rs; \
         `cargo test` fails when this file is not current. -->\n\n\
         A node reads one TOML file: `waybill run --config FILE`. `waybill config init` writes \
         one with every key below and its comment, filled in from the member's keys and the \
         genesis. Unknown keys are errors. Relative paths are relative to the config file's \
         directory.\n\n\
         Every key can be overridden by an environment variable `WAYBILL_<SECTION>_<KEY>` \
         (for example `WAYBILL_RPC_LISTEN=127.0.0.1:9000`); its value is read as TOML (numbers, \
         booleans, arrays) or else as a plain string. An error about a value names where it came \
         from: the file (with the line, when the file cannot be parsed) or the variable. \
         `waybill config check --config FILE` reads a config, overrides included, and reports \
         the first problem.\n\n\
         The config holds only this node's own settings. The other validators' addresses come \
         with the genesis file, in its ceremony record, each signed by its member's network \
         key (`docs/OPERATIONS.md`).\n",
    );
    let mut section = "";
    for f in FIELDS {
        if f.section != section {
            section = f.section;
            out.push_str(&format!(
                "\n## `[{section}]`\n\n| key | default | environment variable | meaning |\n|---|---|---|---|\n"
            ));
        }
        let default = if f.required {
            "required".to_string()
        } else {
            value(&defaults, f.section, f.key)
                .map(|v| format!("`{v}`"))
                .unwrap_or_else(|| "none".into())
        };
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            f.key,
            default,
            env_var(f.section, f.key),
            f.doc.replace('|', "\\|")
        ));
    }
    out
}

/// `cfg` as a config file with every key and its documentation as comments.
pub fn commented_toml(cfg: &NodeConfig, header: &str) -> String {
    let values = to_table(cfg);
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    let mut section = "";
    for f in FIELDS {
        if f.section != section {
            section = f.section;
            out.push_str(&format!("\n[{section}]\n"));
        }
        for line in wrap(f.doc, 94) {
            out.push_str(&format!("# {line}\n"));
        }
        match value(&values, f.section, f.key) {
            Some(v) => out.push_str(&format!("{} = {v}\n", f.key)),
            None => out.push_str(&format!("# {} is not set\n", f.key)),
        }
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_table_names_exactly_the_keys_a_config_has() {
        let defaults = defaults();
        let mut have = BTreeSet::new();
        for (section, keys) in &defaults {
            for key in keys.as_table().expect("sections are tables").keys() {
                have.insert(format!("{section}.{key}"));
            }
        }
        let documented: BTreeSet<String> = FIELDS
            .iter()
            .map(|f| format!("{}.{}", f.section, f.key))
            .collect();
        assert_eq!(documented.len(), FIELDS.len(), "a key is documented twice");
        assert_eq!(
            have, documented,
            "every config key needs exactly one entry in FIELDS"
        );
        for f in FIELDS {
            assert!(
                super::super::SECTIONS.contains(&f.section),
                "{}: environment overrides do not reach this section",
                f.section
            );
        }
    }

    #[test]
    fn required_keys_are_exactly_those_without_a_default() {
        // Removing a key that has a default still parses; removing a required one does not.
        let minimal: toml::Table = toml::from_str(MINIMAL).unwrap();
        for f in FIELDS {
            let mut t = minimal.clone();
            let removed = t
                .get_mut(f.section)
                .and_then(|s| s.as_table_mut())
                .and_then(|s| s.remove(f.key))
                .is_some();
            assert_eq!(removed, f.required, "{}.{}", f.section, f.key);
        }
    }

    #[test]
    fn the_commented_config_reads_back_as_the_same_config() {
        let cfg: NodeConfig = toml::from_str(MINIMAL).unwrap();
        let text = commented_toml(&cfg, "a header\n\nover lines");
        let back: NodeConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, cfg);
        assert!(text.starts_with("# a header\n#\n# over lines\n"));
        for f in FIELDS {
            assert!(text.contains(&format!("\n{} = ", f.key)), "{}", f.key);
        }
    }

    #[test]
    fn docs_config_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/CONFIG.md");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == markdown(),
            "{} is not current; regenerate it: cargo run --bin waybill -- config reference > docs/CONFIG.md",
            path.display()
        );
    }
}
