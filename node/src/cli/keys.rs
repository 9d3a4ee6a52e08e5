//! `waybill keys`: `init` makes a consortium member's keys and its signed public bundle; `gen`
//! writes a single key file; `show` prints a key file's public half. Key files are written with
//! mode 0600 and a private key is never printed.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use ledger::crypto::KeyPair;
use ledger::genesis::peer_id_of;
use ledger::keyfile::{read_key_file, write_key_file};
use waybill_node::member_dir::{ensure_keys, write_bundle, Identity};

use super::CliResult;

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Make a consortium member's keys (consensus, network, admin and operator; those already in
    /// DIR are kept) and write its public member bundle, signed by all four, to DIR/member.toml.
    /// Send only member.toml to the genesis coordinator; the keys never leave DIR. Run again
    /// with new --address values to re-issue the bundle with the same keys.
    Init {
        /// The member's directory (created mode 0700).
        #[arg(long)]
        dir: PathBuf,
        /// The validator's name in the genesis, e.g. `farm`.
        #[arg(long)]
        name: String,
        /// The organization's id in the genesis [default: the name].
        #[arg(long)]
        organization: Option<String>,
        /// The organization's display name [default: the organization id].
        #[arg(long)]
        organization_name: Option<String>,
        /// Where other validators reach this one (repeat for several), e.g.
        /// /ip4/192.0.2.10/tcp/26600 or /dns/validator.example.org/tcp/26600.
        #[arg(long = "address", required = true)]
        addresses: Vec<String>,
    },
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
        KeysCmd::Init {
            dir,
            name,
            organization,
            organization_name,
            addresses,
        } => {
            let organization = organization.unwrap_or_else(|| name.clone());
            let id = Identity {
                organization_name: organization_name.unwrap_or_else(|| organization.clone()),
                name,
                organization,
                addresses,
            };
            let (keys, files) = ensure_keys(&dir)?;
            for f in &files {
                let what = if f.created { "made" } else { "kept" };
                say!("{what} {}", f.path.display());
            }
            let (bundle, path) = write_bundle(&dir, &keys, id)?;
            say!("wrote member bundle {}", path.display());
            say!("  name          {}", bundle.name);
            say!(
                "  organization  {} ({})",
                bundle.organization,
                bundle.organization_name
            );
            say!("  consensus_key {}", bundle.consensus_key);
            say!("  peer_id       {}", bundle.peer_id);
            say!("  addresses     {}", bundle.addresses.join(" "));
            say!("  admin_key     {}", bundle.admin_key);
            say!("  operator_key  {}", bundle.operator_key);
            say!(
                "send {} (public) to the genesis coordinator; the .key files stay in {}",
                path.display(),
                dir.display()
            );
        }
        KeysCmd::Gen { out, kind } => {
            let key = KeyPair::generate();
            write_key_file(&out, kind.name(), &key)?;
            say!("wrote {} key to {} (mode 0600)", kind.name(), out.display());
            print_public(&key);
        }
        KeysCmd::Show { path } => print_public(&read_key_file(&path)?),
    }
    Ok(())
}

fn print_public(key: &KeyPair) {
    say!("public_key = \"{}\"", key.public());
    say!(
        "peer_id    = \"{}\"   (if used as a network key)",
        peer_id_of(&key.public().0)
    );
}
