//! `waybill audit` for people: what a checked proof shows, in words. The validators that signed
//! its certificate by name and organization (from the genesis file and its ceremony record, the
//! only thing trusted, and the epoch changes the proof carries for later validator sets), the
//! records it proves with their payloads and properties decoded, and, when the certified block's
//! header was at hand and hashed to the certified block hash, its time. The same content is the
//! `--json` verdict.

use std::collections::BTreeMap;

use ledger::ceremony::GenesisFile;
use ledger::encoding::from_canonical;
use ledger::execute::MAX_STATE_VALUE_BYTES;
use ledger::genesis::Validator;
use ledger::governance::Change;
use ledger::proof::{follow, EpochTrust, LedgerCertificate, Proof, ProofFile, VerifyReport};
use ledger::receipt::{ExecStatus, Receipt};
use ledger::supply::state::ItemState;
use ledger::supply::JsonValue;
use ledger::{Payload, PublicKey, SignedTransaction};
use serde::Serialize;

/// One signer of a certificate, named by the genesis file.
#[derive(Debug, Serialize)]
pub struct Signer {
    pub name: String,
    pub consensus_key: PublicKey,
    pub power: u64,
    /// The member's organization id and name, from the ceremony record (when the file has one).
    pub organization: Option<String>,
    pub organization_name: Option<String>,
}

/// A certificate's checkpoint and who signed it.
#[derive(Debug, Serialize)]
pub struct Certified {
    pub chain_id: String,
    pub height: u64,
    pub block_hash: ledger::Hash,
    pub accumulator_size: u64,
    pub signers: Vec<Signer>,
    pub power: u64,
    pub total_power: u64,
    pub quorum: u64,
    /// The certified block's timestamp (its proposer's clock, ms since the Unix epoch), known
    /// only when its header was fetched and hashed to `block_hash`: proof files carry no time.
    pub block_time_ms: Option<u64>,
}

/// A failed check: its name is the field that broke.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub check: String,
    pub reason: String,
}

/// The machine-readable verdict (`--json`), from which the text output is also written.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub verified: bool,
    pub kind: &'static str,
    pub chain_id: String,
    pub genesis_hash: ledger::Hash,
    /// What the proof shows, one sentence each; empty unless `verified`.
    pub proven: Vec<String>,
    /// Each certificate (two for a consistency proof), whether or not it verified.
    pub certificates: Vec<Certified>,
    /// The item's certified properties (item state and history proofs of a present item).
    pub properties: BTreeMap<String, JsonValue>,
    pub failures: Vec<Failure>,
    pub checks: usize,
}

/// One epoch's validators by consensus key: name, power, and organization where the genesis
/// ceremony record has the member's bundle.
struct Members(Vec<Signer>);

impl Members {
    fn of(file: &GenesisFile, validators: &[Validator]) -> Members {
        let bundles = file.ceremony.as_ref().map(|c| &c.members);
        Members(
            validators
                .iter()
                .map(|v| {
                    let bundle = bundles.and_then(|b| b.iter().find(|m| m.name == v.name));
                    Signer {
                        name: v.name.clone(),
                        consensus_key: v.consensus_key,
                        power: v.power,
                        organization: bundle.map(|b| b.organization.clone()),
                        organization_name: bundle.map(|b| b.organization_name.clone()),
                    }
                })
                .collect(),
        )
    }

    fn certified(&self, c: &LedgerCertificate, times: &BTreeMap<u64, u64>) -> Certified {
        let mut signers: Vec<Signer> = Vec::new();
        for vote in &c.signatures {
            if signers.iter().any(|s| s.consensus_key == vote.validator) {
                continue;
            }
            signers.push(
                match self.0.iter().find(|m| m.consensus_key == vote.validator) {
                    Some(m) => Signer {
                        name: m.name.clone(),
                        consensus_key: m.consensus_key,
                        power: m.power,
                        organization: m.organization.clone(),
                        organization_name: m.organization_name.clone(),
                    },
                    None => Signer {
                        name: "not a validator of its epoch".into(),
                        consensus_key: vote.validator,
                        power: 0,
                        organization: None,
                        organization_name: None,
                    },
                },
            );
        }
        let total_power: u64 = self.0.iter().map(|m| m.power).sum();
        let cp = &c.checkpoint;
        Certified {
            chain_id: cp.chain_id.clone(),
            height: cp.height,
            block_hash: cp.block_hash,
            accumulator_size: cp.accumulator_size,
            power: signers.iter().map(|s| s.power).sum(),
            signers,
            total_power,
            quorum: total_power * 2 / 3 + 1,
            block_time_ms: times.get(&cp.height).copied(),
        }
    }
}

/// The verdict on `proof_file`, whose checks are `report`. `times` holds the certified blocks'
/// times by height, for the heights whose header was fetched and checked against the
/// certificate. Signers are named from the set of their certificate's epoch: genesis, or one the
/// file's epoch changes prove (when they do not, the genesis set, and the report says why).
pub fn verdict(
    proof_file: &ProofFile,
    report: &VerifyReport,
    file: &GenesisFile,
    times: &BTreeMap<u64, u64>,
) -> Verdict {
    let proof = &proof_file.proof;
    let trust = follow(&file.genesis, &proof_file.epoch_changes)
        .unwrap_or_else(|_| EpochTrust::genesis(&file.genesis));
    let members = |c: &LedgerCertificate| {
        Members::of(file, &trust.for_height(c.checkpoint.height).set.validators)
    };
    let certs: Vec<&LedgerCertificate> = match proof {
        Proof::Transaction(p) => vec![&p.certificate],
        Proof::ItemState(p) => vec![&p.certificate],
        Proof::History(p) => vec![&p.certificate],
        Proof::Consistency(p) => vec![&p.older, &p.newer],
    };
    let verified = report.is_ok();
    let mut properties = BTreeMap::new();
    let proven = if verified {
        proven(proof, &mut properties)
    } else {
        Vec::new()
    };
    Verdict {
        verified,
        kind: proof.kind(),
        chain_id: file.genesis.chain_id.clone(),
        genesis_hash: file.genesis.hash(),
        proven,
        certificates: certs
            .into_iter()
            .map(|c| members(c).certified(c, times))
            .collect(),
        properties,
        failures: report
            .failures()
            .map(|c| Failure {
                check: c.name.clone(),
                reason: c.detail.clone(),
            })
            .collect(),
        checks: report.checks.len(),
    }
}

fn proven(proof: &Proof, properties: &mut BTreeMap<String, JsonValue>) -> Vec<String> {
    match proof {
        Proof::Transaction(p) => transaction(&p.transaction, &p.receipt),
        Proof::ItemState(p) => item(&p.item_id, p.value.as_deref(), properties),
        Proof::History(p) => {
            let mut out = vec![format!(
                "The whole history of item {:?}: {} event{}, complete and in ledger order.",
                p.item_id,
                p.entries.len(),
                if p.entries.len() == 1 { "" } else { "s" }
            )];
            for (i, e) in p.entries.iter().enumerate() {
                out.push(format!(
                    "  {}. height {}, ledger index {}: {}",
                    i + 1,
                    e.receipt.height,
                    e.ledger_index,
                    payload_words(&e.transaction.tx.payload)
                ));
            }
            out.extend(item(&p.item_id, p.item_state.value.as_deref(), properties));
            out
        }
        Proof::Consistency(p) => vec![format!(
            "The ledger at height {} ({} transactions) is a prefix of the ledger at height {} ({} transactions): nothing in between was rewritten.",
            p.older.checkpoint.height,
            p.older.checkpoint.accumulator_size,
            p.newer.checkpoint.height,
            p.newer.checkpoint.accumulator_size
        )],
    }
}

fn transaction(stx: &SignedTransaction, r: &Receipt) -> Vec<String> {
    let outcome = match &r.status {
        ExecStatus::Success => "it succeeded".to_string(),
        ExecStatus::Failed { code, message } => {
            format!("it FAILED ({code}: {message}) and changed nothing")
        }
    };
    vec![
        format!(
            "Transaction {} is in the ledger at height {}, position {} of its block (ledger index {}), and {outcome}.",
            r.tx_hash, r.height, r.index_in_block, r.ledger_index
        ),
        format!("It says: {}.", payload_words(&stx.tx.payload)),
        format!(
            "Signed by account {}, sequence {}, for chain {}.",
            stx.tx.signer, stx.tx.sequence, stx.tx.chain_id
        ),
    ]
}

fn item(
    id: &str,
    value: Option<&[u8]>,
    properties: &mut BTreeMap<String, JsonValue>,
) -> Vec<String> {
    let Some(bytes) = value else {
        return vec![format!(
            "Item {id:?} does not exist at the certified height: it was never commissioned."
        )];
    };
    let Ok(state) = from_canonical::<ItemState>("item state", bytes, MAX_STATE_VALUE_BYTES) else {
        return vec![format!("Item {id:?} has a certified state value.")];
    };
    let r = &state.record;
    let mut out = vec![format!(
        "Item {id:?} ({}) is {}: owned by {}, held by {}; {} event{} in its history.",
        r.item_type,
        r.status.as_str(),
        r.owner,
        r.custodian,
        state.history.len,
        if state.history.len == 1 { "" } else { "s" }
    )];
    if let Some(l) = &r.location {
        out.push(format!("Last location: {l}."));
    }
    if let Some(p) = &r.parent {
        out.push(format!("Packed in {p}."));
    }
    if !r.children.is_empty() {
        out.push(format!("Contains {}.", r.children.join(", ")));
    }
    if !r.derived_from.is_empty() {
        out.push(format!("Made from {}.", r.derived_from.join(", ")));
    }
    if !r.transformed_into.is_empty() {
        out.push(format!("Became {}.", r.transformed_into.join(", ")));
    }
    for (k, v) in &r.properties {
        out.push(format!("Property {k} = {v}"));
    }
    properties.extend(r.properties.clone());
    out
}

/// One payload in words, e.g. `commission of pallet-1 (a pallet) with lot = "L-42"`.
pub fn payload_words(p: &Payload) -> String {
    let props = |m: &BTreeMap<String, JsonValue>| {
        if m.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = m.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!(" with {}", list.join(", "))
        }
    };
    let at = |l: &Option<String>| l.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
    match p {
        Payload::Memo { data } => format!("a memo of {} bytes", data.len()),
        Payload::AddAccount(a) => format!(
            "add account {} to {} with roles [{}]",
            a.key,
            a.organization,
            a.roles.join(", ")
        ),
        Payload::RemoveAccount(a) => format!("remove account {} from {}", a.key, a.organization),
        Payload::SetAccountRoles(a) => format!(
            "set the roles of account {} in {} to [{}]",
            a.key,
            a.organization,
            a.roles.join(", ")
        ),
        Payload::Commission(c) => format!(
            "commission {} ({}){}{}",
            c.item_id,
            c.item_type,
            props(&c.properties),
            at(&c.location)
        ),
        Payload::Observe(o) => {
            let readings: Vec<String> = o
                .readings
                .iter()
                .map(|r| {
                    let unit = r.unit.as_ref().map(|u| format!(" {u}")).unwrap_or_default();
                    format!("{} {}{unit}", r.kind, r.value)
                })
                .collect();
            format!(
                "observe {}{}{} (recorded time {} ms)",
                o.item_id,
                at(&o.location),
                if readings.is_empty() {
                    String::new()
                } else {
                    format!(": {}", readings.join(", "))
                },
                o.time_ms
            )
        }
        Payload::ProposeTransfer(t) => format!(
            "propose to pass {} of {} to {}",
            t.kind.as_str(),
            t.item_id,
            t.to_organization
        ),
        Payload::AcceptTransfer(t) => format!("accept {} of {}", t.kind.as_str(), t.item_id),
        Payload::RejectTransfer(t) => format!("reject {} of {}", t.kind.as_str(), t.item_id),
        Payload::CancelTransfer(t) => format!(
            "cancel the proposed {} transfer of {}",
            t.kind.as_str(),
            t.item_id
        ),
        Payload::Aggregate(a) => format!("pack {} into {}", a.children.join(", "), a.container_id),
        Payload::Disaggregate(a) => {
            format!("unpack {} from {}", a.children.join(", "), a.container_id)
        }
        Payload::Transform(t) => {
            let outputs: Vec<String> = t
                .outputs
                .iter()
                .map(|o| format!("{} ({}){}", o.item_id, o.item_type, props(&o.properties)))
                .collect();
            format!(
                "transform {} into {}{}",
                t.inputs.join(", "),
                outputs.join(", "),
                at(&t.location)
            )
        }
        Payload::AttachDocument(d) => format!(
            "attach document {} ({}, hash {}) to {}",
            d.uri, d.media_type, d.hash, d.item_id
        ),
        Payload::ProposeChange(c) => {
            format!("{} proposes {}", c.organization, change_words(&c.change))
        }
        Payload::ApproveChange(a) => format!(
            "{} approves the change proposed in transaction {}",
            a.organization, a.proposal
        ),
        Payload::Decommission(d) => format!(
            "decommission {}{}",
            d.item_id,
            d.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
    }
}

/// A governance change in words.
fn change_words(c: &Change) -> String {
    match c {
        Change::AddValidator(v) => format!(
            "adding validator {} (key {}, power {})",
            v.name, v.consensus_key, v.power
        ),
        Change::RemoveValidator { name } => format!("removing validator {name}"),
        Change::SetValidatorPower { name, power } => {
            format!("setting the power of validator {name} to {power}")
        }
        Change::RotateConsensusKey {
            name,
            consensus_key,
        } => format!("a new consensus key {consensus_key} for validator {name}"),
        Change::RotateNetworkKey { name, peer_id } => {
            format!("a new network key (peer {peer_id}) for validator {name}")
        }
        Change::AddOrganization { id, name, .. } => format!("adding organization {id} ({name})"),
        Change::RemoveOrganization { id } => format!("removing organization {id}"),
    }
}

/// The verdict as text for a person: what is proven, by whom and when, then the failures.
pub fn print(v: &Verdict, genesis_path: &str) {
    if v.verified {
        say!(
            "✓ {} proof VERIFIED against genesis {genesis_path} (chain {}, genesis hash {})",
            v.kind,
            v.chain_id,
            v.genesis_hash
        );
        for line in &v.proven {
            say!("  {line}");
        }
    } else {
        say!(
            "✗ {} proof does NOT verify against genesis {genesis_path} (chain {}): nothing in it is proven",
            v.kind,
            v.chain_id
        );
        for f in &v.failures {
            say!("  ✗ {} broke: {}", f.check, f.reason);
        }
    }
    for (i, c) in v.certificates.iter().enumerate() {
        let which = match (v.certificates.len(), i) {
            (1, _) => "Certified",
            (_, 0) => "Older checkpoint certified",
            _ => "Newer checkpoint certified",
        };
        let when = match c.block_time_ms {
            Some(ms) => format!("block time {} by its proposer's clock", utc(ms)),
            None => "no time: proof files carry none (`waybill audit fetch` reads it from the certified block)".into(),
        };
        say!(
            "  {which} at height {} of chain {} ({when}), signed by {} of its validators, power {} of {} (quorum {}):",
            c.height,
            c.chain_id,
            c.signers.len(),
            c.power,
            c.total_power,
            c.quorum
        );
        for s in &c.signers {
            let org = match (&s.organization_name, &s.organization) {
                (Some(name), Some(id)) => format!(", {name} ({id})"),
                (None, Some(id)) => format!(", {id}"),
                _ => String::new(),
            };
            say!(
                "    {}{org}, power {}, key {}",
                s.name,
                s.power,
                s.consensus_key
            );
        }
    }
}

/// Milliseconds since the Unix epoch as `2026-01-01 00:00:00 UTC`.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm), for the proleptic Gregorian calendar.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_767_225_600_000), "2026-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000 + 86_399_999), "2000-02-29 23:59:59 UTC");
    }
}
