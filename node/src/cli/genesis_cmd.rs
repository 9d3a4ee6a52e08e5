//! `waybill genesis ...`: the coordinator's and the members' side of the key ceremony (`init`,
//! `add-member`, `set`, `sign`, `merge`), `validate`, and `waybill show-validator`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ledger::ceremony::{
    self, add_member, Added, GenesisFile, MemberBundle, MemberSignature, Verdict,
};
use ledger::genesis::{peer_id_of, ConsensusParams, Genesis, GenesisError};
use ledger::keyfile::read_key_file;
use waybill_node::config::NodeConfig;
use waybill_node::member_dir;

use super::CliResult;

/// Largest member bundle file read.
const MAX_BUNDLE_BYTES: u64 = 64 * 1024;

#[derive(Subcommand)]
pub enum GenesisCmd {
    /// Start a genesis: chain id and parameters, and optionally its first members' bundles.
    Init {
        /// Where to write it. Refuses to replace an existing file without --force.
        #[arg(long)]
        out: PathBuf,
        /// The chain's name; every transaction signs it. [A-Za-z0-9._-], at most 64.
        #[arg(long)]
        chain_id: String,
        /// A member bundle (member.toml from `waybill keys init`) to add; repeat for each.
        #[arg(long = "member", value_name = "BUNDLE")]
        members: Vec<PathBuf>,
        /// An observer's bundle (member.toml from its own `waybill keys init`) to admit; repeat
        /// for each. See `add-observer`.
        #[arg(long = "observer", value_name = "BUNDLE")]
        observers: Vec<PathBuf>,
        #[command(flatten)]
        params: Params,
        #[arg(long)]
        force: bool,
    },
    /// Add members from their bundles. Each bundle's possession proofs must verify. A newer
    /// bundle of a member already in the genesis with the same keys replaces its addresses
    /// without changing the genesis hash.
    AddMember {
        genesis: PathBuf,
        #[arg(required = true, value_name = "BUNDLE")]
        bundles: Vec<PathBuf>,
    },
    /// Admit observers: nodes that follow the chain, serve it (JSON-RPC, proofs) and forward
    /// transactions, but never vote. Every validator lets the genesis's observers connect. An
    /// observer makes its keys and bundle with `waybill keys init` like a member; only its name
    /// and PeerId go into the genesis, once the bundle's possession proofs verify. Signatures
    /// made before are dropped (the genesis changed).
    AddObserver {
        genesis: PathBuf,
        #[arg(required = true, value_name = "BUNDLE")]
        bundles: Vec<PathBuf>,
    },
    /// Change the chain id or consensus parameters. Signatures made before are dropped.
    Set {
        genesis: PathBuf,
        #[arg(long)]
        chain_id: Option<String>,
        #[command(flatten)]
        params: Params,
    },
    /// Sign the genesis hash with this member's consensus key, after checking the genesis and
    /// every bundle in it, and add the signature to the file. Prints what is being signed.
    Sign {
        genesis: PathBuf,
        /// The member's directory (from `waybill keys init`).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Copy the members' signatures from their signed copies of the same genesis into this one.
    Merge {
        genesis: PathBuf,
        #[arg(required = true, value_name = "COPY")]
        copies: Vec<PathBuf>,
    },
    /// Check a genesis file, its members' possession proofs and signatures, and print its hash
    /// (the chain's identity). Fails, naming them, while any member's bundle or signature is
    /// missing or wrong.
    Validate { path: PathBuf },
}

/// Consensus parameters and start time; unset ones keep their value (or the default).
#[derive(Args, Default)]
pub struct Params {
    /// The genesis block's timestamp, ms since the Unix epoch [init default: now].
    #[arg(long)]
    genesis_time_ms: Option<u64>,
    /// First round timeout, ms.
    #[arg(long)]
    round_timeout_ms: Option<u64>,
    /// Cap on the round timeout, ms.
    #[arg(long)]
    max_round_timeout_ms: Option<u64>,
    /// Growth of the timeout per failed round, percent.
    #[arg(long)]
    timeout_backoff_percent: Option<u32>,
    /// Most transactions in one block.
    #[arg(long)]
    max_block_txs: Option<u32>,
}

impl Params {
    fn apply(&self, g: &mut Genesis) {
        let c = &mut g.consensus;
        if let Some(v) = self.genesis_time_ms {
            g.genesis_time_ms = v;
        }
        if let Some(v) = self.round_timeout_ms {
            c.round_timeout_ms = v;
        }
        if let Some(v) = self.max_round_timeout_ms {
            c.max_round_timeout_ms = v;
        }
        if let Some(v) = self.timeout_backoff_percent {
            c.timeout_backoff_percent = v;
        }
        if let Some(v) = self.max_block_txs {
            c.max_block_txs = v;
        }
    }
}

#[derive(Args)]
pub struct ShowValidatorArgs {
    #[arg(long)]
    pub config: PathBuf,
}

/// Why a genesis command failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum GenesisCmdError {
    #[error("{path}: {source}")]
    Genesis {
        path: String,
        #[source]
        source: GenesisError,
    },
    #[error("{path} exists; pass --force to replace it")]
    Exists { path: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("bundle {path}: {reason}")]
    Bundle { path: String, reason: String },
    #[error("{path}: {reason}")]
    Refused { path: String, reason: String },
    #[error("{path}: the ceremony is not complete:\n  {}", failures.join("\n  "))]
    Incomplete { path: String, failures: Vec<String> },
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

fn read(path: &Path) -> Result<GenesisFile, GenesisCmdError> {
    GenesisFile::read(path).map_err(|source| GenesisCmdError::Genesis {
        path: shown(path),
        source,
    })
}

/// Writes `file` to `path` through a temporary file, so a crash leaves the old or the new one.
fn write(path: &Path, file: &GenesisFile) -> Result<(), GenesisCmdError> {
    let io = |e: std::io::Error| GenesisCmdError::Io {
        path: shown(path),
        reason: e.to_string(),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, file.to_toml()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The parameters and chain id are checked even while the genesis has no validators yet.
fn check_draft(path: &Path, g: &Genesis) -> Result<(), GenesisCmdError> {
    match g.validate() {
        Ok(()) | Err(GenesisError::NoValidators) => Ok(()),
        Err(source) => Err(GenesisCmdError::Genesis {
            path: shown(path),
            source,
        }),
    }
}

fn read_bundle(path: &Path) -> Result<MemberBundle, GenesisCmdError> {
    let bad = |reason: String| GenesisCmdError::Bundle {
        path: shown(path),
        reason,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if len > MAX_BUNDLE_BYTES {
        return Err(bad(format!("{len} bytes, the limit is {MAX_BUNDLE_BYTES}")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    MemberBundle::from_toml(&text).map_err(|e| bad(e.to_string()))
}

/// Admits the observers of `bundles` (see `GenesisCmd::AddObserver`).
fn add_observers(path: &Path, file: &mut GenesisFile, bundles: &[PathBuf]) -> CliResult {
    for b in bundles {
        let bundle = read_bundle(b)?;
        let bad = |reason: String| GenesisCmdError::Bundle {
            path: shown(b),
            reason,
        };
        bundle.verify().map_err(|e| bad(e.to_string()))?;
        let g = &mut file.genesis;
        if g.observers.iter().any(|o| o.peer_id == bundle.peer_id) {
            say!("observer {:?} is already admitted", bundle.name);
            continue;
        }
        g.observers.push(ledger::genesis::Observer {
            name: bundle.name.clone(),
            peer_id: bundle.peer_id.clone(),
        });
        check_draft(path, g)?;
        say!(
            "admitted observer {:?} ({}) from {}",
            bundle.name,
            bundle.peer_id,
            b.display()
        );
    }
    for s in file.drop_stale_signatures() {
        say!(
            "dropped {:?}'s signature: the genesis changed; it must sign again",
            s.member
        );
    }
    Ok(())
}

fn add_bundles(path: &Path, file: &mut GenesisFile, bundles: &[PathBuf]) -> CliResult {
    for b in bundles {
        let bundle = read_bundle(b)?;
        let name = bundle.name.clone();
        let (added, stale) = add_member(file, bundle).map_err(|e| GenesisCmdError::Bundle {
            path: shown(b),
            reason: e.to_string(),
        })?;
        match added {
            Added::New => say!("added member {name:?} from {}", b.display()),
            Added::Updated => say!(
                "updated member {name:?}'s addresses from {} (the genesis hash is unchanged)",
                b.display()
            ),
        }
        for s in stale {
            say!(
                "dropped {:?}'s signature: the genesis changed; it must sign again",
                s.member
            );
        }
    }
    check_draft(path, &file.genesis)?;
    Ok(())
}

pub fn run(cmd: GenesisCmd) -> CliResult {
    match cmd {
        GenesisCmd::Init {
            out,
            chain_id,
            members,
            observers,
            params,
            force,
        } => {
            if out.exists() && !force {
                return Err(GenesisCmdError::Exists { path: shown(&out) }.into());
            }
            let mut genesis = Genesis {
                chain_id,
                genesis_time_ms: now_ms(),
                consensus: ConsensusParams::default(),
                validators: vec![],
                organizations: vec![],
                accounts: vec![],
                governance: None,
                observers: vec![],
            };
            params.apply(&mut genesis);
            check_draft(&out, &genesis)?;
            let mut file = GenesisFile {
                genesis,
                ceremony: Some(Default::default()),
            };
            add_bundles(&out, &mut file, &members)?;
            add_observers(&out, &mut file, &observers)?;
            write(&out, &file)?;
            say!(
                "wrote genesis {} of chain {:?} with {} member(s) and {} observer(s)",
                out.display(),
                file.genesis.chain_id,
                file.genesis.validators.len(),
                file.genesis.observers.len()
            );
            say!("next: send it to every member to check and sign (`waybill genesis sign`)");
        }
        GenesisCmd::AddMember { genesis, bundles } => {
            let mut file = read(&genesis)?;
            add_bundles(&genesis, &mut file, &bundles)?;
            write(&genesis, &file)?;
            say!(
                "{}: {} member(s), genesis hash {}",
                genesis.display(),
                file.genesis.validators.len(),
                file.genesis.hash()
            );
        }
        GenesisCmd::AddObserver { genesis, bundles } => {
            let mut file = read(&genesis)?;
            add_observers(&genesis, &mut file, &bundles)?;
            write(&genesis, &file)?;
            say!(
                "{}: {} observer(s), genesis hash {}",
                genesis.display(),
                file.genesis.observers.len(),
                file.genesis.hash()
            );
        }
        GenesisCmd::Set {
            genesis,
            chain_id,
            params,
        } => {
            let mut file = read(&genesis)?;
            if let Some(id) = chain_id {
                file.genesis.chain_id = id;
            }
            params.apply(&mut file.genesis);
            check_draft(&genesis, &file.genesis)?;
            for s in file.drop_stale_signatures() {
                say!(
                    "dropped {:?}'s signature: the genesis changed; it must sign again",
                    s.member
                );
            }
            write(&genesis, &file)?;
            say!(
                "{}: genesis hash {}",
                genesis.display(),
                file.genesis.hash()
            );
        }
        GenesisCmd::Sign { genesis, dir } => sign(&genesis, &dir)?,
        GenesisCmd::Merge { genesis, copies } => merge(&genesis, &copies)?,
        GenesisCmd::Validate { path } => validate(&path)?,
    }
    Ok(())
}

fn sign(path: &Path, dir: &Path) -> CliResult {
    let mut file = read(path)?;
    let refuse = |reason: String| GenesisCmdError::Refused {
        path: shown(path),
        reason,
    };
    file.genesis
        .validate()
        .map_err(|source| GenesisCmdError::Genesis {
            path: shown(path),
            source,
        })?;
    let consensus = member_dir::consensus_key(dir)?;
    let network = member_dir::network_key(dir)?;
    let Some(me) = file
        .genesis
        .validators
        .iter()
        .find(|v| v.consensus_key == consensus.public())
        .cloned()
    else {
        return Err(refuse(format!(
            "refusing to sign: the consensus key in {} ({}) is not a validator of this genesis",
            dir.display(),
            consensus.public()
        ))
        .into());
    };
    let peer_id = peer_id_of(&network.public().0);
    if peer_id != me.peer_id {
        return Err(refuse(format!(
            "refusing to sign: the genesis lists PeerId {} for {:?}, but the network key in {} is {peer_id}",
            me.peer_id,
            me.name,
            dir.display()
        ))
        .into());
    }
    let check = ceremony::check(&file).ok_or_else(|| {
        refuse("refusing to sign: the genesis has no ceremony record (member bundles), so its keys are not proven; assemble it with `waybill genesis init --member ...`".into())
    })?;
    let bad_bundles: Vec<String> = check
        .members
        .iter()
        .filter(|m| m.bundle != Verdict::Ok)
        .map(|m| format!("{}: bundle {}", m.name, m.bundle))
        .chain(check.problems.iter().cloned())
        .collect();
    if !bad_bundles.is_empty() {
        return Err(refuse(format!("refusing to sign:\n  {}", bad_bundles.join("\n  "))).into());
    }
    print_summary(&file);
    let hash = file.genesis.hash();
    let signature = MemberSignature::sign(&me.name, hash, &consensus);
    let c = file.ceremony.get_or_insert_with(Default::default);
    c.signatures.retain(|s| s.member != me.name);
    c.signatures.push(signature);
    write(path, &file)?;
    say!(
        "signed genesis hash {hash} as {:?}; send {} back to the coordinator",
        me.name,
        path.display()
    );
    Ok(())
}

fn merge(path: &Path, copies: &[PathBuf]) -> CliResult {
    let mut file = read(path)?;
    let hash = file.genesis.hash();
    let mut found = Vec::new();
    for copy in copies {
        let other = read(copy)?;
        let theirs = other.genesis.hash();
        if theirs != hash {
            return Err(GenesisCmdError::Refused {
                path: shown(copy),
                reason: format!(
                    "is another genesis (hash {theirs}, this one is {hash}); nothing was merged"
                ),
            }
            .into());
        }
        for s in other.ceremony.map(|c| c.signatures).unwrap_or_default() {
            found.push((copy.clone(), s));
        }
    }
    let c = file.ceremony.get_or_insert_with(Default::default);
    for (copy, s) in found {
        let valid = file
            .genesis
            .validators
            .iter()
            .find(|v| v.name == s.member)
            .is_some_and(|v| {
                s.genesis_hash == hash
                    && v.consensus_key
                        .verify(
                            &ceremony::GenesisApproval { genesis_hash: hash },
                            &s.signature,
                        )
                        .is_ok()
            });
        if !valid {
            say!(
                "ignored {:?}'s signature in {}: it does not verify for this genesis",
                s.member,
                copy.display()
            );
            continue;
        }
        if !c.signatures.contains(&s) {
            say!("merged {:?}'s signature from {}", s.member, copy.display());
            c.signatures.retain(|o| o.member != s.member);
            c.signatures.push(s);
        }
    }
    write(path, &file)?;
    print_ceremony(&file);
    Ok(())
}

fn validate(path: &Path) -> CliResult {
    let file = read(path)?;
    file.genesis
        .validate()
        .map_err(|source| GenesisCmdError::Genesis {
            path: shown(path),
            source,
        })?;
    say!("genesis {}", path.display());
    print_summary(&file);
    match ceremony::check(&file) {
        None => {
            say!("ceremony     none: assembled without `waybill genesis`, so no possession proofs or member signatures to check");
            Ok(())
        }
        Some(check) if check.is_complete() => {
            print_ceremony(&file);
            Ok(())
        }
        Some(check) => {
            print_ceremony(&file);
            Err(GenesisCmdError::Incomplete {
                path: shown(path),
                failures: check.failures(),
            }
            .into())
        }
    }
}

fn print_summary(file: &GenesisFile) {
    let g = &file.genesis;
    let c = &g.consensus;
    say!("chain_id     {}", g.chain_id);
    say!("genesis_hash {}", g.hash());
    say!("genesis_time {} ms", g.genesis_time_ms);
    say!(
        "consensus    round timeout {} ms (x{}% per failed round, at most {} ms), at most {} transactions a block",
        c.round_timeout_ms,
        c.timeout_backoff_percent,
        c.max_round_timeout_ms,
        c.max_block_txs
    );
    say!(
        "validators   {} (total power {}, quorum {})",
        g.validators.len(),
        g.total_power(),
        g.quorum_power()
    );
    for v in &g.validators {
        let addresses = file
            .ceremony
            .as_ref()
            .and_then(|c| c.members.iter().find(|b| b.name == v.name))
            .map(|b| b.addresses.join(" "))
            .unwrap_or_default();
        say!("  {:<16} {} {}", v.name, v.peer_id, addresses);
    }
    say!(
        "observers    {} (follow and serve the chain, never vote)",
        g.observers.len()
    );
    for o in &g.observers {
        say!("  {:<16} {}", o.name, o.peer_id);
    }
    say!("organizations {}", g.organizations.len());
    for o in &g.organizations {
        say!("  {:<16} {}", o.id, o.name);
    }
    say!("accounts     {}", g.accounts.len());
}

/// Each member's bundle and signature, and what is missing.
fn print_ceremony(file: &GenesisFile) {
    let Some(check) = ceremony::check(file) else {
        return;
    };
    say!("ceremony     {} member(s)", check.members.len());
    for m in &check.members {
        say!(
            "  {:<16} bundle {}; signature {}",
            m.name,
            m.bundle,
            m.signature
        );
    }
    for p in &check.problems {
        say!("  problem: {p}");
    }
    if check.is_complete() {
        say!(
            "complete: every member proved its keys and signed genesis hash {}",
            check.genesis_hash
        );
    } else {
        let unsigned = check.unsigned();
        if !unsigned.is_empty() {
            say!("waiting for signatures from: {}", unsigned.join(", "));
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn show_validator(args: ShowValidatorArgs) -> CliResult {
    let cfg = NodeConfig::load(&args.config)?;
    let consensus = read_key_file(&cfg.node.consensus_key)?;
    let network = read_key_file(&cfg.node.network_key)?;
    let genesis = Genesis::load(&cfg.node.genesis)?;
    let peer_id = peer_id_of(&network.public().0);
    say!("name          {}", cfg.node.name);
    say!("consensus_key {}", consensus.public());
    say!("peer_id       {peer_id}");
    match genesis.validator_index(&consensus.public()) {
        Some(i) => {
            let v = &genesis.validators[i];
            say!("validator     #{i} {:?} power {}", v.name, v.power);
            if v.peer_id != peer_id {
                say!(
                    "WARNING: genesis lists peer_id {} for this validator",
                    v.peer_id
                );
            }
        }
        None => say!("validator     no: this consensus key is not in the genesis"),
    }
    Ok(())
}
