//! `waybill backup` and `waybill restore` (docs/OPERATIONS.md, "Backup and restore").

use std::path::{Path, PathBuf};

use clap::Args;
use waybill_node::admin_socket::{AdminReply, AdminRequest};
use waybill_node::config::NodeConfig;
use waybill_node::restore::{SafetyCarried, SAFETY_MARK_FILE};
use waybill_node::run::ledger_dir;

use super::CliResult;

#[derive(Args)]
pub struct BackupArgs {
    /// The node's config.
    #[arg(long)]
    pub config: PathBuf,
    /// Where to write the backup: a directory that does not exist yet. On the data directory's
    /// filesystem the backup hard-links the store's table files (quick, little space); copy it
    /// elsewhere afterwards for safekeeping.
    pub dest: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The node's config. The node must be stopped.
    #[arg(long)]
    pub config: PathBuf,
    /// A directory written by `waybill backup`.
    pub src: PathBuf,
}

/// A consistent copy of the node's store: asked of the running node through its admin socket,
/// or taken directly when the node is stopped.
pub fn backup(args: BackupArgs) -> CliResult {
    let config = NodeConfig::load(&args.config)?;
    let dest = absolute(&args.dest)?;
    if dest.symlink_metadata().is_ok() {
        return Err(format!(
            "{} already exists; a backup goes into a new directory",
            dest.display()
        )
        .into());
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot make {}: {e}", parent.display()))?;
    }
    let ledger = ledger_dir(&config);
    let (height, hash, how) = match waybill_node::data_lock::holder(&ledger) {
        Some(pid) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let request = AdminRequest::Backup { dest: dest.clone() };
            let reply = runtime
                .block_on(waybill_node::admin_socket::ask(
                    &config.node.data_dir,
                    &request,
                ))
                .map_err(|e| {
                    format!(
                        "node {:?} runs (pid {pid}) but its admin socket does not answer: {e}",
                        config.node.name
                    )
                })?;
            match reply {
                AdminReply::BackedUp { height, hash, .. } => {
                    (height, hash, format!("from the running node (pid {pid})"))
                }
                AdminReply::Refused { reason } => {
                    return Err(
                        format!("node {:?} refused the backup: {reason}", config.node.name).into(),
                    )
                }
            }
        }
        None => {
            let head = waybill_node::restore::backup_stopped(&config, &dest)?;
            (
                head.map(|h| h.height),
                head.map(|h| h.hash),
                "from the stopped node's store".to_string(),
            )
        }
    };
    say!("wrote backup {} {how}", dest.display());
    match (height, hash) {
        (Some(h), Some(hash)) => say!("  committed height {h} (block {hash})"),
        _ => say!("  an empty store (no genesis yet)"),
    }
    say!(
        "restore it into the stopped node with: waybill restore --config {} {}",
        args.config.display(),
        dest.display()
    );
    Ok(())
}

/// Puts a backup back into the stopped node's data directory; never touches the safety mark.
pub fn restore(args: RestoreArgs) -> CliResult {
    let config = NodeConfig::load(&args.config)?;
    let restored = waybill_node::restore::restore(&config, &args.src)?;
    say!(
        "restored {} into {}",
        args.src.display(),
        ledger_dir(&config).display()
    );
    match restored.height {
        Some(h) => say!("  committed height {h}; the node catches up from its peers when started"),
        None => say!("  an empty store"),
    }
    if let Some(aside) = &restored.replaced {
        say!(
            "  the ledger it replaced is in {} (delete it once the node runs)",
            aside.display()
        );
    }
    match &restored.safety {
        SafetyCarried::Carried => {
            say!("  consensus safety data: kept from the replaced ledger (this validator's latest votes)")
        }
        SafetyCarried::NoneToCarry => {
            say!("  consensus safety data: the backup's (there was no other)")
        }
        SafetyCarried::Unreadable(why) => say!(
            "  consensus safety data: the backup's (the replaced ledger could not be read: {why})"
        ),
    }
    let (mark, exists) = &restored.mark;
    if *exists {
        say!(
            "  safety mark {} left as it is: the node signs nothing in rounds it may have signed in",
            mark.display()
        );
    } else {
        say!(
            "  no safety mark ({SAFETY_MARK_FILE}) in the data directory: only the store's safety data guards against signing twice; start the node only once the network is past the rounds it may have voted in"
        );
    }
    Ok(())
}

fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}
