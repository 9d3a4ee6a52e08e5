//! `waybill tx epcis FILE`: captures a GS1 EPCIS 2.0 JSON/JSON-LD document. Every event is read,
//! hashed and checked here first, and a bad one is named by its index before anything is
//! signed; then one transaction per event is signed (consecutive sequence numbers) and all go in
//! one `waybill_captureEpcis` call, which answers a verdict per event.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use ledger::epcis::capture::EpcisCapture;
use ledger::epcis::document::{canonical_event, EpcisDocument, MAX_DOCUMENT_BYTES};
use ledger::tx::Payload;
use rpc::EpcisStatus;
use serde::Serialize;

use super::{
    chain_and_sequence, read_limited_to, rpc_failure, sign, signing_key, usage, CommonArgs,
    Session, UsageError,
};
use crate::cli::CliResult;

#[derive(Args)]
pub struct EpcisArgs {
    /// The EPCIS 2.0 document (EPCISDocument or EPCISQueryDocument, JSON or JSON-LD; `-` for
    /// standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A GS1 party id as the events write it in destinationList, and the Waybill organization it
    /// is, as PARTY=ORG (e.g. urn:epc:id:pgln:0614141.00001=processor); repeatable. Needed for
    /// shipping events (custody offered to the possessing party) and transaction events
    /// (ownership offered to the owning party).
    #[arg(long = "party", value_name = "PARTY=ORG")]
    parties: Vec<String>,
}

/// One event as checked and signed.
#[derive(Serialize)]
struct Prepared {
    index: usize,
    hash_id: String,
    tx_hash: ledger::Hash,
    canonical_hex: String,
}

pub(super) fn run(common: &CommonArgs, args: EpcisArgs) -> CliResult {
    let text = if args.file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), MAX_DOCUMENT_BYTES as u64 + 1),
            &mut buf,
        )?;
        buf
    } else {
        read_limited_to(&args.file, "FILE", MAX_DOCUMENT_BYTES as u64)?
    };
    let text =
        String::from_utf8(text).map_err(|_| UsageError("the document is not UTF-8".into()))?;
    let doc = EpcisDocument::parse(&text).map_err(|e| UsageError(e.to_string()))?;
    if doc.events.is_empty() {
        return usage("the document has no events");
    }
    let mut parties = BTreeMap::new();
    for p in &args.parties {
        let Some((party, org)) = p.rsplit_once('=') else {
            return usage(format!("--party {p:?}: expected PARTY=ORG"));
        };
        parties.insert(party.to_string(), org.to_string());
    }
    // Every event checked before anything is signed; all problems reported at once.
    let mut captures = Vec::with_capacity(doc.events.len());
    let mut problems = Vec::new();
    for (i, event) in doc.events.iter().enumerate() {
        let canonical = match canonical_event(doc.context.as_ref(), event) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("event {i}: {e}"));
                continue;
            }
        };
        let capture = EpcisCapture {
            context: canonical.context,
            event: canonical.event,
            parties: parties.clone(),
        };
        if let Err(e) = capture.check() {
            problems.push(format!("event {i}: {e}"));
            continue;
        }
        match capture.plan() {
            Ok(plan) => captures.push((capture, plan.hash_id)),
            Err(e) => problems.push(format!("event {i} ({}): {e}", canonical.hash_id)),
        }
    }
    if !problems.is_empty() {
        return usage(format!(
            "nothing was submitted; {} of {} events cannot be captured:\n  {}",
            problems.len(),
            doc.events.len(),
            problems.join("\n  ")
        ));
    }
    let key = signing_key(common)?;
    let mut session = Session::new(&common.rpc);
    let (chain_id, first) = chain_and_sequence(common, &mut session, &key)?;
    let mut txs = Vec::with_capacity(captures.len());
    let mut prepared = Vec::with_capacity(captures.len());
    for (i, (capture, hash_id)) in captures.into_iter().enumerate() {
        let stx = sign(
            &key,
            chain_id.clone(),
            first + i as u64,
            Payload::CaptureEpcis(capture),
        )?;
        prepared.push(Prepared {
            index: i,
            hash_id: hash_id.to_string(),
            tx_hash: stx.hash(),
            canonical_hex: hex::encode(stx.to_bytes()),
        });
        txs.push(stx);
    }
    if common.dry_run {
        if common.json {
            say!("{}", serde_json::to_string_pretty(&prepared)?);
        } else {
            say!("dry run: {} events signed, not submitted", prepared.len());
            for p in &prepared {
                say!("event {:<4} {}  tx {}", p.index, p.hash_id, p.tx_hash);
            }
        }
        return Ok(());
    }
    let wait = (common.wait_ms > 0).then_some(common.wait_ms);
    let outcome = session
        .call(|c| async move { c.capture_epcis(&txs, wait).await })
        .map_err(|e| rpc_failure(&common.rpc, "capturing the document", &e))?;
    if common.json {
        say!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        say!(
            "{} of {} events captured{}",
            outcome.captured,
            outcome.events.len(),
            if outcome.complete {
                ""
            } else {
                " (see each event below)"
            }
        );
        for v in &outcome.events {
            let status = serde_json::to_value(v.status)?;
            let hash = v
                .hash_id
                .map(|h| h.to_string())
                .unwrap_or_else(|| "-".into());
            let mut line = format!(
                "event {:<4} {:<13} {hash}",
                v.index,
                status.as_str().unwrap_or("?")
            );
            if let Some(i) = v.ledger_index {
                line.push_str(&format!("  ledger index {i}"));
            }
            if let (Some(code), Some(message)) = (&v.code, &v.message) {
                line.push_str(&format!("\n           {code}: {message}"));
            }
            say!("{line}");
        }
    }
    let bad = outcome.events.iter().any(|v| {
        matches!(
            v.status,
            EpcisStatus::Refused
                | EpcisStatus::NotSubmitted
                | EpcisStatus::Rejected
                | EpcisStatus::Failed
        )
    });
    let waited_out = wait.is_some()
        && outcome
            .events
            .iter()
            .any(|v| v.status == EpcisStatus::Pending);
    if bad {
        return usage(format!(
            "{} of {} events captured; the others were not (verdicts above)",
            outcome.captured,
            outcome.events.len()
        ));
    }
    if waited_out {
        return usage(format!(
            "{} of {} events committed within {} ms; the rest are pending and may still commit",
            outcome.captured,
            outcome.events.len(),
            common.wait_ms
        ));
    }
    Ok(())
}
