//! Waybill's fuzz targets, as plain functions over bytes.
//!
//! Each module of [`targets`] has a `run(&[u8])` that decodes the bytes the way a peer's, a
//! client's or a file's bytes are decoded, and asserts what must hold of the result (canonical
//! round trips, typed errors, bounded buffers, safety of the consensus core), not only that
//! nothing panics. `fuzz_targets/*.rs` hand them to libFuzzer; the stable-toolchain tests at the
//! end of this file replay the committed corpora through the same functions, so a machine
//! without nightly still checks every committed input.
//!
//! Nothing here depends on RocksDB: the fuzz build uses other compiler flags and must not
//! compile its C++ again.

pub mod bytes;
pub mod fixtures;
pub mod payload;
pub mod seeds;
pub mod targets;

/// A target's entry point.
pub type Target = fn(&[u8]);

/// Every target: its name (the `fuzz_targets/NAME.rs` binary and the `corpus/NAME` directory)
/// and its entry point.
pub const TARGETS: &[(&str, Target)] = &[
    ("signed_tx", targets::signed_tx::run),
    ("signed_tx_json", targets::signed_tx_json::run),
    ("json_value", targets::json_value::run),
    ("consensus_msg", targets::consensus_msg::run),
    ("consensus_core", targets::consensus_core::run),
    ("proof", targets::proof::run),
    ("genesis", targets::genesis::run),
    ("key_file", targets::key_file::run),
    ("rpc_params", targets::rpc_params::run),
    ("stored_block", targets::stored_block::run),
    ("ledger_cert", targets::ledger_cert::run),
    ("execute", targets::execute::run),
    ("engine_wire", targets::engine_wire::run),
    ("engine_node", targets::engine_node::run),
    ("epcis_document", targets::epcis_document::run),
    ("state_sync", targets::state_sync::run),
    ("gossip_batch", targets::gossip_batch::run),
    ("node_config", targets::node_config::run),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every committed corpus input through its target, on the stable toolchain.
    #[test]
    fn committed_corpora_replay_cleanly() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for (name, run) in super::TARGETS {
            let dir = root.join(name);
            let mut count = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                run(&data);
                count += 1;
            }
            assert!(count > 0, "corpus/{name} is empty");
        }
    }

    /// Every seed the generator writes runs cleanly (so a regenerated corpus is usable).
    #[test]
    fn generated_seeds_run_cleanly() {
        for (name, seeds) in super::seeds::all() {
            let run = super::TARGETS
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("seeds for unknown target {name}"))
                .1;
            assert!(!seeds.is_empty(), "no seeds for {name}");
            for s in seeds {
                run(&s);
            }
        }
    }
}
