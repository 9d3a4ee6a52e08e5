//! `waybill tx ...`: build, sign and submit a transaction of every payload kind.
//!
//! Each subcommand builds one [`Payload`], checks its structural limits here (so a typo fails
//! before anything is signed), wraps it in a [`Transaction`] for the chain id and sequence number
//! (given, or asked of the node), signs it with the client key file and either prints it
//! (`--dry-run`) or submits it over JSON-RPC and waits for its receipt.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use ledger::crypto::PublicKey;
use ledger::encoding::signing_bytes;
use ledger::genesis::{Genesis, Validator};
use ledger::governance::{ApproveChange, Change, ProposeChange};
use ledger::hash::Hash;
use ledger::keyfile::read_key_file;
use ledger::merkle::{Sha256Hasher, TreeHasher};
use ledger::receipt::ExecStatus;
use ledger::supply::payload::Properties;
use ledger::supply::{
    AddAccount, AttachDocument, Commission, Decommission, HashAlgorithm, JsonValue, NewItem,
    Observe, Packing, ProposeTransfer, Reading, RemoveAccount, SetAccountRoles, TransferKind,
    TransferResponse, Transform,
};
use ledger::tx::{Payload, SignedTransaction, Transaction, TxError};
use ledger::KeyPair;
use rpc::{SubmitOutcome, SubmitStatus};
use serde::Serialize;

use super::CliResult;

/// Largest file `attach-document --file` hashes and `raw --file` reads.
const MAX_RAW_FILE_BYTES: u64 = 1024 * 1024;

const TX_HELP: &str = "\
Value syntax:
  --property KEY=JSON        an item property; the value is any JSON value, so strings are
                             quoted: --property 'color=\"red\"' --property weight_kg=12.5
                             --property 'dims={\"h\":10,\"w\":4}'
  --property-str KEY=TEXT    a string property without JSON quoting: --property-str color=red
  --reading KIND=JSON[@UNIT] an observe reading: --reading temperature=4.5@Cel
                             --reading door_open=false --reading 'note=\"seal intact\"'
                             (if the whole text after = is valid JSON it is the value; otherwise
                             the part after the last @ is the unit)
  --output ID=TYPE           a transform output; its properties: --output-property ID=KEY=JSON
  --account HEX              an account's public key, 64 hex digits (waybill keys show FILE)
  Repeatable list options (--role, --child, --input) also take comma-separated values.
  Identifiers: item ids are 1-128 bytes of [A-Za-z0-9._:/#-]; organization ids, item types,
  roles, property keys and reading kinds are 1-64 bytes of [A-Za-z0-9._-].

Chain id and sequence: without --chain-id (or --genesis FILE) the chain id is read from the node
(waybill_head); without --sequence the next sequence number is read from the node
(waybill_nextSequence: it counts committed transactions only, so give --sequence when sending
several transactions from one key before they commit).

Output: a summary for people; --json prints the RPC's submit outcome (tx_hash, status, receipt)
or, with --dry-run, {dry_run, tx_hash, signed_transaction, canonical_hex, signing_bytes_hex}.
Exit status 1 with `error: ...` if the transaction cannot be built, is rejected, does not
commit within --wait-ms, or commits with a failed receipt.

Examples:
  waybill tx --key alice.key commission --item urn:epc:id:sgtin:0614141.107346.2018 \\
      --type pallet --property 'lot=\"L-42\"' --property-str grade=A --location DC-1
  waybill tx --key alice.key propose-transfer --item pallet-1 --kind custody --to acme-logistics
  waybill tx --key alice.key --chain-id test --sequence 0 --dry-run memo --text hello";

/// Help heading of the options every `tx` subcommand takes.
const COMMON: &str = "Signing and submission";

#[derive(Args)]
#[command(after_long_help = TX_HELP)]
pub struct TxCmd {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    action: Action,
}

#[derive(Args)]
struct CommonArgs {
    /// JSON-RPC URL of a node.
    #[arg(
        long,
        global = true,
        help_heading = COMMON,
        env = "WAYBILL_RPC",
        default_value = "http://127.0.0.1:26601"
    )]
    rpc: String,
    /// Client (account) key file that signs the transaction (required).
    #[arg(long, global = true, help_heading = COMMON, env = "WAYBILL_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    /// Chain id to sign for [default: the node's, from waybill_head].
    #[arg(long, global = true, help_heading = COMMON, value_name = "ID")]
    chain_id: Option<String>,
    /// Read the chain id from this genesis file instead of asking the node.
    #[arg(long, global = true, help_heading = COMMON, value_name = "FILE", conflicts_with = "chain_id")]
    genesis: Option<PathBuf>,
    /// Sequence number [default: the signer's next one, from waybill_nextSequence].
    #[arg(long, global = true, help_heading = COMMON, value_name = "N")]
    sequence: Option<u64>,
    /// How long to wait for the commit and its receipt, in milliseconds (0: submit only).
    #[arg(long, global = true, help_heading = COMMON, value_name = "MS", default_value_t = 10_000)]
    wait_ms: u64,
    /// Print the signed transaction (JSON and canonical hex) instead of submitting it.
    #[arg(long, global = true, help_heading = COMMON)]
    dry_run: bool,
    /// Machine-readable JSON output.
    #[arg(long, global = true, help_heading = COMMON)]
    json: bool,
}

#[derive(Subcommand)]
enum Action {
    /// Add an account (public key) to an organization, with roles. Signer: an admin of it.
    AddAccount(AccountArgs),
    /// Remove an account from an organization. Signer: an admin of it.
    RemoveAccount(RemoveAccountArgs),
    /// Replace an account's roles. Signer: an admin of its organization.
    SetRoles(SetRolesArgs),
    /// Create an item, owned and held by the signer's organization.
    Commission(CommissionArgs),
    /// Record where an item is and what was measured. Signer: the custodian.
    Observe(ObserveArgs),
    /// Offer custody (custodian) or ownership (owner) of an item to another organization.
    ProposeTransfer(ProposeArgs),
    /// Accept the pending transfer of an item. Signer: an operator of the recipient.
    AcceptTransfer(RespondArgs),
    /// Reject the pending transfer of an item. Signer: an operator of the recipient.
    RejectTransfer(RespondArgs),
    /// Cancel a pending transfer. Signer: an operator of the proposing organization.
    CancelTransfer(RespondArgs),
    /// Pack items into a container. Signer: custodian of the container and every child.
    Aggregate(PackingArgs),
    /// Take items out of a container. Signer: custodian of the container.
    Disaggregate(PackingArgs),
    /// Consume input items into new output items. Signer: custodian of every input.
    Transform(TransformArgs),
    /// Link an off-ledger document to an item by its digest. Signer: owner or custodian.
    AttachDocument(AttachArgs),
    /// End an item's life (destroyed, sold, lost). Signer: the owner.
    Decommission(DecommissionArgs),
    /// Record free-form bytes (any signer).
    Memo(MemoArgs),
    /// Sign and submit any payload given as JSON, e.g. {"memo": {"data": "68656c6c6f"}}.
    Raw(RawArgs),
    /// Propose a change to the validators or organizations for an organization (its admin
    /// signs). The proposal's id is this transaction's hash; it applies once the genesis rule's
    /// share of organizations approved (the proposer's counts).
    ProposeChange(ProposeChangeArgs),
    /// Approve a proposed change for an organization (its admin signs).
    ApproveChange(ApproveChangeArgs),
}

#[derive(Args)]
struct ProposeChangeArgs {
    /// The organization proposing (the signer administers it).
    #[arg(long)]
    org: String,
    #[command(subcommand)]
    change: ChangeArgs,
}

#[derive(Subcommand)]
enum ChangeArgs {
    /// A new validator: from a member bundle (`waybill keys`), or by name, key and PeerId.
    AddValidator {
        /// A member bundle (TOML) whose signatures are checked; gives name, key and PeerId.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "consensus_key", "peer_id"])]
        bundle: Option<PathBuf>,
        #[arg(long, required_unless_present = "bundle")]
        name: Option<String>,
        /// The validator's consensus public key (64 hex digits).
        #[arg(long, value_name = "HEX", required_unless_present = "bundle")]
        consensus_key: Option<String>,
        /// The libp2p PeerId of its network key.
        #[arg(long, required_unless_present = "bundle")]
        peer_id: Option<String>,
        #[arg(long, default_value_t = 1)]
        power: u64,
    },
    /// Remove a validator (by name).
    RemoveValidator {
        #[arg(long)]
        name: String,
    },
    /// Change a validator's voting power.
    SetPower {
        #[arg(long)]
        name: String,
        #[arg(long)]
        power: u64,
    },
    /// Give a validator a new consensus key (it restarts with it once the change commits).
    RotateConsensusKey {
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "HEX")]
        consensus_key: String,
    },
    /// Give a validator a new network key (PeerId).
    RotateNetworkKey {
        #[arg(long)]
        name: String,
        #[arg(long)]
        peer_id: String,
    },
    /// Add an organization with its admin keys.
    AddOrganization {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// An admin public key (64 hex digits); repeatable.
        #[arg(long = "admin", value_name = "HEX", required = true)]
        admins: Vec<String>,
    },
    /// Remove an organization (its accounts can no longer act; its id is never reused).
    RemoveOrganization {
        #[arg(long)]
        id: String,
    },
}

#[derive(Args)]
struct ApproveChangeArgs {
    /// The organization approving (the signer administers it).
    #[arg(long)]
    org: String,
    /// The proposal's id: the hash of the transaction that proposed it.
    #[arg(long, value_name = "HASH")]
    proposal: String,
}

#[derive(Args)]
struct AccountArgs {
    /// Organization id.
    #[arg(long)]
    org: String,
    /// The account's public key (64 hex digits).
    #[arg(long, value_name = "HEX")]
    account: String,
    /// A role (admin, operator, auditor or any name); repeatable.
    #[arg(long = "role", value_name = "ROLE", value_delimiter = ',')]
    roles: Vec<String>,
}

#[derive(Args)]
struct RemoveAccountArgs {
    /// Organization id.
    #[arg(long)]
    org: String,
    /// The account's public key (64 hex digits).
    #[arg(long, value_name = "HEX")]
    account: String,
}

#[derive(Args)]
struct SetRolesArgs {
    /// Organization id.
    #[arg(long)]
    org: String,
    /// The account's public key (64 hex digits).
    #[arg(long, value_name = "HEX")]
    account: String,
    /// The new roles (replace the old ones); repeatable.
    #[arg(
        long = "role",
        value_name = "ROLE",
        value_delimiter = ',',
        required_unless_present = "no_roles"
    )]
    roles: Vec<String>,
    /// Remove every role from the account (it stays a member).
    #[arg(long, conflicts_with = "roles")]
    no_roles: bool,
}

#[derive(Args)]
struct CommissionArgs {
    /// The new item's id (unique forever).
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// Item type, e.g. pallet, case, lot.
    #[arg(long = "type", value_name = "TYPE")]
    item_type: String,
    /// A property KEY=JSON, e.g. weight_kg=12.5 or lot='"L-42"' (strings quoted); repeatable.
    #[arg(long = "property", value_name = "KEY=JSON")]
    properties: Vec<String>,
    /// A string property KEY=TEXT, no JSON quoting, e.g. grade=A; repeatable.
    #[arg(long = "property-str", value_name = "KEY=TEXT")]
    string_properties: Vec<String>,
    /// Where the item is.
    #[arg(long)]
    location: Option<String>,
}

#[derive(Args)]
struct ObserveArgs {
    /// The item's id.
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// When, in milliseconds since the Unix epoch [default: now].
    #[arg(long, value_name = "MS")]
    time_ms: Option<u64>,
    /// Where the item is now (free text).
    #[arg(long)]
    location: Option<String>,
    /// A reading KIND=JSON[@UNIT], e.g. temperature=4.5@Cel or door_open=false; repeatable.
    #[arg(long = "reading", value_name = "KIND=JSON[@UNIT]")]
    readings: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Custody,
    Ownership,
}

impl From<KindArg> for TransferKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Custody => TransferKind::Custody,
            KindArg::Ownership => TransferKind::Ownership,
        }
    }
}

#[derive(Args)]
struct ProposeArgs {
    /// The item's id.
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// What is handed over.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// The receiving organization's id.
    #[arg(long = "to", value_name = "ORG")]
    to_organization: String,
}

#[derive(Args)]
struct RespondArgs {
    /// The item's id.
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// The pending transfer's kind (must match the proposal).
    #[arg(long, value_enum)]
    kind: KindArg,
}

#[derive(Args)]
struct PackingArgs {
    /// The container item's id.
    #[arg(long = "container", value_name = "ID")]
    container_id: String,
    /// A child item; repeatable or comma-separated.
    #[arg(
        long = "child",
        value_name = "ID",
        value_delimiter = ',',
        required = true
    )]
    children: Vec<String>,
}

#[derive(Args)]
struct TransformArgs {
    /// An input item (consumed); repeatable or comma-separated.
    #[arg(
        long = "input",
        value_name = "ID",
        value_delimiter = ',',
        required = true
    )]
    inputs: Vec<String>,
    /// An output item as ID=TYPE; repeatable.
    #[arg(long = "output", value_name = "ID=TYPE", required = true)]
    outputs: Vec<String>,
    /// A property of an output as ID=KEY=JSON, e.g. juice-1=brix=11.5; repeatable.
    #[arg(long = "output-property", value_name = "ID=KEY=JSON")]
    output_properties: Vec<String>,
    /// Where the transform happened (free text).
    #[arg(long)]
    location: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum HashArg {
    Blake3,
    Sha256,
}

#[derive(Args)]
struct AttachArgs {
    /// The item's id.
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// Hash this file (at most 1 MiB; use --hash for larger documents).
    #[arg(long, value_name = "PATH", required_unless_present = "hash")]
    file: Option<PathBuf>,
    /// The document's digest, 64 hex digits.
    #[arg(long, value_name = "HEX", conflicts_with = "file")]
    hash: Option<String>,
    /// The digest's hash function.
    #[arg(long, value_enum, default_value = "sha256")]
    hash_algorithm: HashArg,
    /// Where the document can be fetched (printable ASCII).
    #[arg(long)]
    uri: String,
    /// The document's media type, e.g. application/pdf.
    #[arg(long)]
    media_type: String,
}

#[derive(Args)]
struct DecommissionArgs {
    /// The item's id.
    #[arg(long = "item", value_name = "ID")]
    item_id: String,
    /// Why (free text), e.g. destroyed, sold to consumer.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct MemoArgs {
    /// The memo as UTF-8 text.
    #[arg(long)]
    text: Option<String>,
    /// The memo as hex bytes.
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
}

#[derive(Args)]
struct RawArgs {
    /// A JSON payload file (`-` for standard input), as in a transaction's `payload` field.
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
}

/// A command-line mistake, reported as `error: ...` (exit status 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn usage<T>(msg: impl Into<String>) -> Result<T, Box<dyn std::error::Error>> {
    Err(Box::new(UsageError(msg.into())))
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub fn run(cmd: TxCmd) -> CliResult {
    let common = cmd.common;
    let payload = build_payload(cmd.action)?;
    check_payload(&payload)?;
    let key_path = match &common.key {
        Some(p) => p.clone(),
        None => return usage("no signing key: give --key FILE or set WAYBILL_KEY"),
    };
    let key = read_key_file(&key_path)?;
    let mut session = Session::new(&common.rpc);
    let chain_id = match (&common.chain_id, &common.genesis) {
        (Some(c), _) => c.clone(),
        (None, Some(path)) => Genesis::load(path)?.chain_id,
        (None, None) => {
            session
                .call(|c| async move { c.head().await })
                .map_err(|e| {
                    rpc_failure(
                        &common.rpc,
                        "cannot get the chain id (give --chain-id or --genesis)",
                        &e,
                    )
                })?
                .chain_id
        }
    };
    let sequence = match common.sequence {
        Some(s) => s,
        None => {
            let signer = key.public();
            session
                .call(|c| async move { c.next_sequence(signer).await })
                .map_err(|e| {
                    rpc_failure(
                        &common.rpc,
                        "cannot get the next sequence number (give --sequence)",
                        &e,
                    )
                })?
        }
    };
    let stx = sign(&key, chain_id, sequence, payload)?;
    if common.dry_run {
        print_dry_run(&stx, common.json)
    } else {
        submit(&mut session, &stx, common.wait_ms, common.json)
    }
}

/// Builds, checks and signs; the result passes every check a node makes before ordering.
fn sign(
    key: &KeyPair,
    chain_id: String,
    sequence: u64,
    payload: Payload,
) -> Res<SignedTransaction> {
    let stx = Transaction {
        chain_id,
        signer: key.public(),
        sequence,
        payload,
    }
    .sign(key);
    let chain = stx.tx.chain_id.clone();
    stx.verify(&chain)
        .map_err(|e| UsageError(format!("transaction not acceptable: {e}")))?;
    Ok(stx)
}

// ---- payloads -----------------------------------------------------------------------------

fn build_payload(action: Action) -> Res<Payload> {
    Ok(match action {
        Action::AddAccount(a) => Payload::AddAccount(AddAccount {
            organization: a.org,
            key: parse_account(&a.account)?,
            roles: a.roles,
        }),
        Action::RemoveAccount(a) => Payload::RemoveAccount(RemoveAccount {
            organization: a.org,
            key: parse_account(&a.account)?,
        }),
        Action::SetRoles(a) => Payload::SetAccountRoles(SetAccountRoles {
            organization: a.org,
            key: parse_account(&a.account)?,
            roles: if a.no_roles { Vec::new() } else { a.roles },
        }),
        Action::Commission(a) => {
            let mut properties = Properties::new();
            for p in &a.properties {
                let (k, v) = parse_property("--property", p)?;
                insert_property(&mut properties, "--property", k, v)?;
            }
            for p in &a.string_properties {
                let Some((k, text)) = p.split_once('=') else {
                    return usage(format!("--property-str {p:?}: expected KEY=TEXT"));
                };
                insert_property(&mut properties, "--property-str", k, JsonValue::from(text))?;
            }
            Payload::Commission(Commission {
                item_id: a.item_id,
                item_type: a.item_type,
                properties,
                location: a.location,
            })
        }
        Action::Observe(a) => Payload::Observe(Observe {
            item_id: a.item_id,
            time_ms: match a.time_ms {
                Some(t) => t,
                None => now_ms()?,
            },
            location: a.location,
            readings: a
                .readings
                .iter()
                .map(|r| parse_reading(r))
                .collect::<Res<_>>()?,
        }),
        Action::ProposeTransfer(a) => Payload::ProposeTransfer(ProposeTransfer {
            item_id: a.item_id,
            kind: a.kind.into(),
            to_organization: a.to_organization,
        }),
        Action::AcceptTransfer(a) => Payload::AcceptTransfer(response(a)),
        Action::RejectTransfer(a) => Payload::RejectTransfer(response(a)),
        Action::CancelTransfer(a) => Payload::CancelTransfer(response(a)),
        Action::Aggregate(a) => Payload::Aggregate(packing(a)),
        Action::Disaggregate(a) => Payload::Disaggregate(packing(a)),
        Action::Transform(a) => Payload::Transform(transform(a)?),
        Action::AttachDocument(a) => Payload::AttachDocument(attach(a)?),
        Action::Decommission(a) => Payload::Decommission(Decommission {
            item_id: a.item_id,
            reason: a.reason,
        }),
        Action::Memo(a) => Payload::Memo {
            data: match (a.text, a.hex) {
                (Some(t), _) => t.into_bytes(),
                (None, Some(h)) => hex::decode(h.trim())
                    .map_err(|e| UsageError(format!("--hex: not hex bytes: {e}")))?,
                (None, None) => return usage("memo: give --text or --hex"),
            },
        },
        Action::Raw(a) => raw_payload(&a.file)?,
        Action::ProposeChange(a) => Payload::ProposeChange(ProposeChange {
            organization: a.org,
            change: change(a.change)?,
        }),
        Action::ApproveChange(a) => Payload::ApproveChange(ApproveChange {
            organization: a.org,
            proposal: Hash::from_hex(a.proposal.trim())
                .map_err(|e| UsageError(format!("--proposal: {e}")))?,
        }),
    })
}

fn key_arg(flag: &str, hex: &str) -> Res<PublicKey> {
    Ok(PublicKey::from_hex(hex.trim()).map_err(|e| UsageError(format!("{flag}: {e}")))?)
}

fn change(c: ChangeArgs) -> Res<Change> {
    Ok(match c {
        ChangeArgs::AddValidator {
            bundle: Some(path),
            power,
            ..
        } => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| UsageError(format!("--bundle {}: {e}", path.display())))?;
            let bundle = ledger::ceremony::MemberBundle::from_toml(&text)
                .map_err(|e| UsageError(format!("--bundle {}: {e}", path.display())))?;
            bundle
                .verify()
                .map_err(|e| UsageError(format!("--bundle {}: {e}", path.display())))?;
            Change::AddValidator(Validator {
                name: bundle.name,
                consensus_key: bundle.consensus_key,
                peer_id: bundle.peer_id,
                power,
            })
        }
        ChangeArgs::AddValidator {
            name,
            consensus_key,
            peer_id,
            power,
            ..
        } => Change::AddValidator(Validator {
            name: name.unwrap_or_default(),
            consensus_key: key_arg("--consensus-key", &consensus_key.unwrap_or_default())?,
            peer_id: peer_id.unwrap_or_default(),
            power,
        }),
        ChangeArgs::RemoveValidator { name } => Change::RemoveValidator { name },
        ChangeArgs::SetPower { name, power } => Change::SetValidatorPower { name, power },
        ChangeArgs::RotateConsensusKey {
            name,
            consensus_key,
        } => Change::RotateConsensusKey {
            name,
            consensus_key: key_arg("--consensus-key", &consensus_key)?,
        },
        ChangeArgs::RotateNetworkKey { name, peer_id } => {
            Change::RotateNetworkKey { name, peer_id }
        }
        ChangeArgs::AddOrganization { id, name, admins } => Change::AddOrganization {
            id,
            name,
            admins: admins
                .iter()
                .map(|a| key_arg("--admin", a))
                .collect::<Res<Vec<_>>>()?,
        },
        ChangeArgs::RemoveOrganization { id } => Change::RemoveOrganization { id },
    })
}

fn response(a: RespondArgs) -> TransferResponse {
    TransferResponse {
        item_id: a.item_id,
        kind: a.kind.into(),
    }
}

fn packing(a: PackingArgs) -> Packing {
    Packing {
        container_id: a.container_id,
        children: a.children,
    }
}

fn transform(a: TransformArgs) -> Res<Transform> {
    let mut outputs: Vec<NewItem> = Vec::new();
    for o in &a.outputs {
        let Some((id, ty)) = o.split_once('=') else {
            return usage(format!("--output {o:?}: expected ID=TYPE"));
        };
        outputs.push(NewItem {
            item_id: id.to_string(),
            item_type: ty.to_string(),
            properties: Properties::new(),
        });
    }
    for p in &a.output_properties {
        let Some((id, rest)) = p.split_once('=') else {
            return usage(format!("--output-property {p:?}: expected ID=KEY=JSON"));
        };
        let (k, v) = parse_property("--output-property", rest)?;
        let Some(out) = outputs.iter_mut().find(|o| o.item_id == id) else {
            return usage(format!(
                "--output-property {p:?}: no --output with id {id:?}"
            ));
        };
        insert_property(&mut out.properties, "--output-property", k, v)?;
    }
    Ok(Transform {
        inputs: a.inputs,
        outputs,
        location: a.location,
    })
}

fn attach(a: AttachArgs) -> Res<AttachDocument> {
    let hash = match (&a.hash, &a.file) {
        (Some(h), _) => Hash::from_hex(h.trim()).map_err(|e| UsageError(format!("--hash: {e}")))?,
        (None, Some(path)) => {
            let data = read_limited(path, "--file")?;
            match a.hash_algorithm {
                HashArg::Blake3 => Hash::blake3(&data),
                HashArg::Sha256 => Sha256Hasher.hash(&[&data]),
            }
        }
        (None, None) => return usage("attach-document: give --file or --hash"),
    };
    Ok(AttachDocument {
        item_id: a.item_id,
        hash_algorithm: match a.hash_algorithm {
            HashArg::Blake3 => HashAlgorithm::Blake3,
            HashArg::Sha256 => HashAlgorithm::Sha256,
        },
        hash,
        uri: a.uri,
        media_type: a.media_type,
    })
}

fn raw_payload(path: &Path) -> Res<Payload> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .take(MAX_RAW_FILE_BYTES + 1)
            .read_to_string(&mut s)
            .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
        if s.len() as u64 > MAX_RAW_FILE_BYTES {
            return usage(format!("standard input exceeds {MAX_RAW_FILE_BYTES} bytes"));
        }
        s
    } else {
        String::from_utf8(read_limited(path, "--file")?)
            .map_err(|_| UsageError(format!("{} is not UTF-8 text", path.display())))?
    };
    serde_json::from_str::<Payload>(&text).map_err(|e| {
        UsageError(format!(
            "{}: not a payload ({e}); expected one object naming the kind, e.g. \
             {{\"memo\": {{\"data\": \"68656c6c6f\"}}}} or {{\"commission\": {{\"item_id\": ..., \
             \"item_type\": ...}}}}",
            path.display()
        ))
        .into()
    })
}

fn read_limited(path: &Path, flag: &str) -> Res<Vec<u8>> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| UsageError(format!("{flag} {shown}: cannot read: {e}")))?;
    if meta.len() > MAX_RAW_FILE_BYTES {
        return usage(format!(
            "{flag} {shown}: {} bytes exceeds the limit of {MAX_RAW_FILE_BYTES}",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| UsageError(format!("{flag} {shown}: cannot read: {e}")).into())
}

fn now_ms() -> Res<u64> {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| UsageError("the system clock is before 1970; give --time-ms".into()))?;
    Ok(d.as_millis() as u64)
}

fn parse_account(s: &str) -> Res<PublicKey> {
    PublicKey::from_hex(s.trim()).map_err(|e| {
        UsageError(format!(
            "--account {s:?}: not an ed25519 public key of 64 hex digits ({e})"
        ))
        .into()
    })
}

/// `KEY=JSON` -> (key, canonical JSON value).
fn parse_property<'a>(flag: &str, s: &'a str) -> Res<(&'a str, JsonValue)> {
    let Some((k, v)) = s.split_once('=') else {
        return usage(format!(
            "{flag} {s:?}: expected KEY=JSON, e.g. weight_kg=12.5"
        ));
    };
    if k.is_empty() {
        return usage(format!("{flag} {s:?}: empty key"));
    }
    let value = JsonValue::parse(v).map_err(|e| {
        UsageError(format!(
            "{flag} {s:?}: the value is not JSON ({e}); quote strings, e.g. {k}='\"{v}\"'{}",
            if flag == "--property" {
                format!(", or use --property-str {k}={v}")
            } else {
                String::new()
            }
        ))
    })?;
    Ok((k, value))
}

fn insert_property(props: &mut Properties, flag: &str, k: &str, v: JsonValue) -> Res<()> {
    if props.insert(k.to_string(), v).is_some() {
        return usage(format!("{flag}: property {k:?} given twice"));
    }
    Ok(())
}

/// `KIND=JSON` or `KIND=JSON@UNIT`.
fn parse_reading(s: &str) -> Res<Reading> {
    let Some((kind, rest)) = s.split_once('=') else {
        return usage(format!(
            "--reading {s:?}: expected KIND=JSON or KIND=JSON@UNIT, e.g. temperature=4.5@Cel"
        ));
    };
    if let Ok(value) = JsonValue::parse(rest) {
        return Ok(Reading {
            kind: kind.to_string(),
            value,
            unit: None,
        });
    }
    let bad = |why: String| -> Res<Reading> {
        usage(format!(
            "--reading {s:?}: {why}; expected KIND=JSON or KIND=JSON@UNIT, e.g. \
             temperature=4.5@Cel or note='\"seal intact\"'"
        ))
    };
    let Some((v, unit)) = rest.rsplit_once('@') else {
        return bad("the value is not JSON (quote strings)".into());
    };
    if unit.is_empty() {
        return bad("empty unit after @".into());
    }
    match JsonValue::parse(v) {
        Ok(value) => Ok(Reading {
            kind: kind.to_string(),
            value,
            unit: Some(unit.to_string()),
        }),
        Err(e) => bad(format!("the value {v:?} is not JSON ({e})")),
    }
}

/// The payload's structural limits, with the allowed alphabet spelled out for identifiers.
fn check_payload(payload: &Payload) -> Res<()> {
    if let Err(e) = payload.check_limits() {
        let hint = match &e {
            TxError::BadIdentifier { field, .. } => match *field {
                "item_id" | "container_id" | "children" | "inputs" | "outputs" => {
                    " (allowed in item ids: A-Z a-z 0-9 . _ : / # -)".to_string()
                }
                _ => " (allowed: A-Z a-z 0-9 . _ -)".to_string(),
            },
            _ => String::new(),
        };
        return usage(format!("invalid {}: {e}{hint}", payload.kind()));
    }
    Ok(())
}

// ---- output -------------------------------------------------------------------------------

#[derive(Serialize)]
struct DryRun<'a> {
    dry_run: bool,
    tx_hash: Hash,
    signed_transaction: &'a SignedTransaction,
    /// Canonical bytes of the signed transaction (for `waybill_submitRawTransaction`).
    canonical_hex: String,
    /// The bytes the signature covers: BCS(("waybill/tx/v2", tx)).
    signing_bytes_hex: String,
}

fn print_dry_run(stx: &SignedTransaction, json: bool) -> CliResult {
    let out = DryRun {
        dry_run: true,
        tx_hash: stx.hash(),
        signed_transaction: stx,
        canonical_hex: hex::encode(stx.to_bytes()),
        signing_bytes_hex: hex::encode(signing_bytes(&stx.tx)),
    };
    if json {
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    say!("dry run: {} not submitted", stx.tx.payload.kind());
    print_envelope(stx);
    say!("signed transaction (JSON, for waybill_submitTransaction):");
    say!("{}", serde_json::to_string_pretty(stx)?);
    say!("canonical bytes (hex, for waybill_submitRawTransaction):");
    say!("{}", out.canonical_hex);
    say!("signing bytes (hex, what the signature covers):");
    say!("{}", out.signing_bytes_hex);
    Ok(())
}

fn print_envelope(stx: &SignedTransaction) {
    say!("tx_hash   {}", stx.hash());
    say!("kind      {}", stx.tx.payload.kind());
    say!("chain_id  {}", stx.tx.chain_id);
    say!("signer    {}", stx.tx.signer);
    say!("sequence  {}", stx.tx.sequence);
}

fn submit(session: &mut Session, stx: &SignedTransaction, wait_ms: u64, json: bool) -> CliResult {
    let hash = stx.hash();
    let tx = stx.clone();
    let result = if wait_ms == 0 {
        session.call(|c| async move { c.submit(tx).await })
    } else {
        session.call(|c| async move { c.submit_and_wait(tx, wait_ms).await })
    };
    let outcome = match result {
        Ok(o) => o,
        Err(e) if e.code() == Some(rpc::codes::TIMEOUT) => {
            // Admitted but not committed in time; it may commit later. Look once more.
            let info = session
                .call(|c| async move { c.transaction(hash).await })
                .ok()
                .flatten();
            match info.and_then(|i| i.receipt) {
                Some(r) => SubmitOutcome::new(hash, Some(r)),
                None => {
                    return usage(format!(
                        "transaction {hash} was admitted but did not commit within {wait_ms} ms \
                         (it may still commit: look it up with waybill_getTransaction)"
                    ))
                }
            }
        }
        Err(e) => return Err(rpc_failure(&session.url, &format!("submitting {hash}"), &e).into()),
    };
    if json {
        say!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        say!("submitted {}", stx.tx.payload.kind());
        print_envelope(stx);
        match (&outcome.status, &outcome.receipt) {
            (SubmitStatus::Committed, Some(r)) => {
                say!(
                    "committed at height {} (index {} in block, ledger index {})",
                    r.height,
                    r.index_in_block,
                    r.ledger_index
                );
                match &r.status {
                    ExecStatus::Success => say!("result    success"),
                    ExecStatus::Failed { code, message } => {
                        say!("result    failed: {code}: {message}")
                    }
                }
            }
            _ => say!("status    pending (admitted to the mempool, not committed yet)"),
        }
    }
    if let Some(r) = &outcome.receipt {
        if let ExecStatus::Failed { code, message } = &r.status {
            return usage(format!(
                "transaction {hash} committed but failed: {code}: {message}"
            ));
        }
    }
    Ok(())
}

/// An RPC failure as one line: the node's own message when it answered with an error, or that
/// it could not be reached.
fn rpc_failure(url: &str, what: &str, e: &rpc::ClientError) -> UsageError {
    UsageError(match e.message() {
        Some(m) => format!("{what}: the node at {url} answered: {m}"),
        None => format!("{what}: no answer from the node at {url} ({e})"),
    })
}

/// A JSON-RPC client and the runtime it runs on, made only when something needs the network.
struct Session {
    url: String,
    inner: Option<(tokio::runtime::Runtime, rpc::Client)>,
}

impl Session {
    fn new(url: &str) -> Self {
        Session {
            url: url.to_string(),
            inner: None,
        }
    }

    fn call<T, F, Fut>(&mut self, f: F) -> Result<T, rpc::ClientError>
    where
        F: FnOnce(rpc::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, rpc::ClientError>>,
    {
        if self.inner.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| rpc::ClientError::Build {
                    url: self.url.clone(),
                    reason: format!("tokio runtime: {e}"),
                })?;
            let client = rpc::Client::new(&self.url)?;
            self.inner = Some((runtime, client));
        }
        let (runtime, client) = self.inner.as_ref().expect("set above");
        runtime.block_on(f(client.clone()))
    }
}
