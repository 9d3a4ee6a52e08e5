//! Per-node configuration: a TOML file, with environment overrides of the form
//! `WAYBILL_<SECTION>_<KEY>` (e.g. `WAYBILL_RPC_LISTEN=127.0.0.1:9000`). Relative paths in the
//! file are relative to the file's own directory, so a node directory can be moved as a whole.
//! Every key is documented in `reference` (and so in `docs/CONFIG.md`).
//!
//! The file's format, its parsing and its checks are the `waybill_config` crate's (no RocksDB
//! there, so the fuzz build reaches them), re-exported here; writing a member's config (`init`)
//! and the documented reference stay with the node.

pub mod init;
pub mod reference;

pub use waybill_config::*;
