//! `waybill keys gen`: writes a fresh ed25519 key file with mode 0600 and prints only its public
//! half (and PeerId, for network keys). A private key is never printed.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use ledger::crypto::KeyPair;
use ledger::genesis::peer_id_of;
use ledger::keyfile::{read_key_file, write_key_file};

use super::CliResult;

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Generate a key file (mode 0600). Refuses to overwrite an existing file.
    Gen {
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
        /// What the key is for.
        #[arg(long, value_enum, default_value_t = KeyKind::Account)]
        kind: KeyKind,
    },
    /// Print the public key (and PeerId) of a key file.
    Show { path: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KeyKind {
    Consensus,
    Network,
    Account,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            KeyKind::Consensus => "consensus",
            KeyKind::Network => "network",
            KeyKind::Account => "account",
        }
    }
}

pub fn run(cmd: KeysCmd) -> CliResult {
    match cmd {
        KeysCmd::Gen { out, kind } => {
            let key = KeyPair::generate();
            write_key_file(&out, kind.name(), &key)?;
            println!("wrote {} key to {} (mode 0600)", kind.name(), out.display());
            print_public(&key);
        }
        KeysCmd::Show { path } => print_public(&read_key_file(&path)?),
    }
    Ok(())
}

fn print_public(key: &KeyPair) {
    println!("public_key = \"{}\"", key.public());
    println!(
        "peer_id    = \"{}\"   (if used as a network key)",
        peer_id_of(&key.public().0)
    );
}
