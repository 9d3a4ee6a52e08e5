//! End to end, the story clients came for, on four real `waybill` processes: a farm commissions
//! lots, a processor transforms them into products, the products are packed onto a pallet,
//! custody passes farm -> processor -> shipper -> retailer with an accept at every step,
//! temperatures are recorded on the way and the retailer attaches the delivery note. Then the
//! item, history and provenance queries tell exactly that story, a forbidden action fails with
//! its code and changes nothing, and all four validators report one state root.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::receipt::ExecStatus;
use ledger::supply::events::{EventKind, ItemRole};
use ledger::supply::history::Relation;
use ledger::supply::state::ItemStatus;
use ledger::tx::{Payload, Transaction};
use ledger::KeyPair;
use serde_json::json;
use waybill_node::localnet::LocalNode;

mod common;
use common::{kill9, scrape_metrics, start_network};
const CHAIN: &str = "waybill-story";

struct Network {
    nodes: Vec<LocalNode>,
    clients: Vec<rpc::Client>,
    keys: HashMap<&'static str, KeyPair>,
    sequences: HashMap<&'static str, u64>,
    /// Height of the latest receipt: queries wait until every validator has applied it.
    last_height: u64,
}

impl Drop for Network {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Network {
    async fn start(dir: &Path) -> Network {
        let (all, clients) = start_network(dir, CHAIN, 4).await;
        let mut keys = HashMap::new();
        for org in ["farm", "processor", "shipper", "retailer"] {
            let path = dir.join("clients").join(format!("{org}-operator.key"));
            keys.insert(org, read_key_file(&path).unwrap());
        }
        Network {
            nodes: all,
            clients,
            keys,
            sequences: HashMap::new(),
            last_height: 0,
        }
    }

    /// Signs `payload` (given as the JSON a client in any language would write) as `org`'s
    /// operator, submits it to a validator and waits for its receipt.
    async fn act(&mut self, org: &'static str, payload: serde_json::Value) -> ExecStatus {
        // Through text, as a client sends it: payload JSON values keep their exact form.
        let payload: Payload = serde_json::from_str(&payload.to_string()).unwrap();
        let seq = self.sequences.entry(org).or_insert(0);
        let key = &self.keys[org];
        let tx = Transaction {
            chain_id: CHAIN.into(),
            signer: key.public(),
            sequence: *seq,
            payload,
        }
        .sign(key);
        *seq += 1;
        let via = (*seq as usize) % self.clients.len();
        let outcome = self.clients[via]
            .submit_and_wait(tx, 30_000)
            .await
            .expect("submitted and committed");
        let receipt = outcome.receipt.expect("committed with a receipt");
        self.last_height = self.last_height.max(receipt.height);
        receipt.status
    }

    /// Waits until every validator has applied everything acted so far, so any of them answers.
    async fn settle(&self) {
        for (i, client) in self.clients.iter().enumerate() {
            let start = Instant::now();
            while client.head().await.unwrap().height < self.last_height {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "validator-{i} behind"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    async fn ok(&mut self, org: &'static str, payload: serde_json::Value) {
        let what = payload.to_string();
        let status = self.act(org, payload).await;
        assert_eq!(status, ExecStatus::Success, "{org}: {what}");
    }
}

fn transfer(item: &str, to: &str) -> serde_json::Value {
    json!({"propose_transfer": {"item_id": item, "kind": "custody", "to_organization": to}})
}

fn accept(item: &str) -> serde_json::Value {
    json!({"accept_transfer": {"item_id": item, "kind": "custody"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn farm_to_shelf_story_is_told_exactly_by_every_validator() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::start(dir.path()).await;

    // The farm commissions two lots and hands them to the processor.
    for lot in ["lot-1", "lot-2"] {
        net.ok(
            "farm",
            json!({"commission": {"item_id": lot, "item_type": "apple-lot",
                   "properties": {"variety": "gala", "weight_kg": 500.0}, "location": "orchard-3"}}),
        )
        .await;
        net.ok("farm", transfer(lot, "processor")).await;
        net.ok("processor", accept(lot)).await;
    }
    // The processor turns them into two cases of juice and packs them onto a pallet.
    net.ok(
        "processor",
        json!({"transform": {"inputs": ["lot-1", "lot-2"], "outputs": [
            {"item_id": "case-1", "item_type": "juice-case", "properties": {"litres": 12}},
            {"item_id": "case-2", "item_type": "juice-case", "properties": {"litres": 12}}
        ], "location": "plant-1"}}),
    )
    .await;
    net.ok(
        "processor",
        json!({"commission": {"item_id": "pallet-1", "item_type": "pallet"}}),
    )
    .await;
    net.ok(
        "processor",
        json!({"aggregate": {"container_id": "pallet-1", "children": ["case-1", "case-2"]}}),
    )
    .await;
    // Custody: processor -> shipper, who records temperatures, -> retailer.
    net.ok("processor", transfer("pallet-1", "shipper")).await;
    net.ok("shipper", accept("pallet-1")).await;
    for (t, celsius) in [(1_000, "4.5"), (2_000, "5.0")] {
        let obs = format!(
            r#"{{"observe": {{"item_id": "pallet-1", "time_ms": {t}, "location": "truck-7",
                "readings": [{{"kind": "temperature", "value": {celsius}, "unit": "Cel"}}]}}}}"#
        );
        net.ok("shipper", serde_json::from_str(&obs).unwrap()).await;
    }
    // A forbidden action: the farm is not the custodian and cannot observe the pallet.
    net.settle().await;
    let before = net.clients[0].item("pallet-1").await.unwrap().unwrap();
    let denied = net
        .act(
            "farm",
            json!({"observe": {"item_id": "pallet-1", "time_ms": 3_000, "location": "elsewhere", "readings": []}}),
        )
        .await;
    assert!(
        matches!(&denied, ExecStatus::Failed { code, .. } if code == "not_custodian"),
        "{denied:?}"
    );
    let after = net.clients[0].item("pallet-1").await.unwrap().unwrap();
    assert_eq!(before.item, after.item, "a failed action changed the item");

    net.ok("shipper", transfer("pallet-1", "retailer")).await;
    net.ok("retailer", accept("pallet-1")).await;
    net.ok(
        "retailer",
        json!({"attach_document": {"item_id": "pallet-1", "hash_algorithm": "sha256",
               "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               "uri": "https://docs.example/delivery/7781", "media_type": "application/pdf"}}),
    )
    .await;

    // The item queries tell the story, on any validator.
    net.settle().await;
    let c = &net.clients[1];
    let pallet = c.item("pallet-1").await.unwrap().unwrap();
    assert_eq!(pallet.item.custodian, "retailer");
    assert_eq!(pallet.item.owner, "processor");
    assert_eq!(pallet.item.location.as_deref(), Some("truck-7"));
    assert_eq!(pallet.item.children, ["case-1", "case-2"]);
    assert_eq!(pallet.documents.len(), 1);
    assert_eq!(pallet.documents[0].attached_by, "retailer");
    assert!(pallet.pending_transfer.is_none());
    let case = c.item("case-1").await.unwrap().unwrap();
    assert_eq!(
        case.item.custodian, "retailer",
        "custody follows the container"
    );
    assert_eq!(case.item.parent.as_deref(), Some("pallet-1"));
    let lot = c.item("lot-1").await.unwrap().unwrap();
    assert_eq!(lot.item.status, ItemStatus::Consumed);
    assert_eq!(lot.item.transformed_into, ["case-1", "case-2"]);
    assert!(c.item("no-such-item").await.unwrap().is_none());

    let kinds = |page: &rpc::HistoryPage| page.entries.iter().map(|e| e.kind).collect::<Vec<_>>();
    let pallet_history = c.item_history("pallet-1", 0, 100).await.unwrap();
    assert_eq!(
        kinds(&pallet_history),
        [
            EventKind::Commission,
            EventKind::Aggregate,
            EventKind::CustodyProposed,
            EventKind::CustodyAccepted,
            EventKind::Observe,
            EventKind::Observe,
            EventKind::CustodyProposed,
            EventKind::CustodyAccepted,
            EventKind::DocumentAttached,
        ]
    );
    assert!(pallet_history
        .entries
        .windows(2)
        .all(|w| w[0].ledger_index < w[1].ledger_index));
    // Every entry names a committed transaction at its ledger position.
    for e in &pallet_history.entries {
        let tx = c.transaction(e.tx_hash).await.unwrap().unwrap();
        assert_eq!(tx.ledger_index, Some(e.ledger_index));
    }
    // Paging walks the same entries.
    let first = c.item_history("pallet-1", 0, 4).await.unwrap();
    let rest = c
        .item_history("pallet-1", first.next_from.unwrap(), 100)
        .await
        .unwrap();
    assert_eq!(
        [first.entries, rest.entries].concat(),
        pallet_history.entries
    );
    let lot_history = c.item_history("lot-1", 0, 100).await.unwrap();
    assert_eq!(
        kinds(&lot_history),
        [
            EventKind::Commission,
            EventKind::CustodyProposed,
            EventKind::CustodyAccepted,
            EventKind::Transform,
        ]
    );
    assert_eq!(lot_history.entries[3].roles, [ItemRole::Input]);

    // Provenance of a case: made from both lots, packed in the pallet.
    let prov = c.provenance("case-1").await.unwrap().unwrap();
    let rel: HashMap<&str, Relation> = prov
        .nodes
        .iter()
        .map(|n| (n.item_id.as_str(), n.relation))
        .collect();
    assert_eq!(rel["case-1"], Relation::Root);
    assert_eq!(rel["lot-1"], Relation::MadeFrom);
    assert_eq!(rel["lot-2"], Relation::MadeFrom);
    assert_eq!(rel["pallet-1"], Relation::PackedIn);
    assert!(!prov.truncated);
    // And of a lot: what it became.
    let prov = c.provenance("lot-2").await.unwrap().unwrap();
    assert!(prov
        .nodes
        .iter()
        .any(|n| n.item_id == "case-2" && n.relation == Relation::BecameOutput));

    // Events by organization: the shipper's part of the story.
    let shipper = c.organization_events("shipper", 0, 100).await.unwrap();
    assert_eq!(
        kinds(&shipper),
        [
            EventKind::CustodyProposed,
            EventKind::CustodyAccepted,
            EventKind::Observe,
            EventKind::Observe,
            EventKind::CustodyProposed,
            EventKind::CustodyAccepted,
        ]
    );
    let farm = c.organization("farm").await.unwrap().unwrap();
    assert_eq!(farm.id, "farm");
    let operator = net.keys["shipper"].public();
    let account = c.account(operator).await.unwrap().unwrap();
    assert_eq!(account.account.organization, "shipper");
    assert_eq!(account.next_sequence, net.sequences["shipper"]);

    // All four validators hold the same state at the same height.
    let target = net.clients[0].head().await.unwrap().height;
    net.last_height = target;
    net.settle().await;
    let mut roots = Vec::new();
    for client in &net.clients {
        let block = client.block(target).await.unwrap().unwrap();
        let state_root = client.state_root(target).await.unwrap().unwrap();
        // The hashes-only view of the block names the same block and transactions.
        let hashes = client.block_tx_hashes(target).await.unwrap().unwrap();
        assert_eq!((hashes.height, hashes.hash), (target, block.block.hash()));
        let expected: Vec<_> = block.block.txs.iter().map(|t| t.hash()).collect();
        assert_eq!(hashes.tx_hashes, expected);
        assert!(client
            .block_tx_hashes(target + 1_000)
            .await
            .unwrap()
            .is_none());
        roots.push((block.block.hash(), state_root));
    }
    assert!(
        roots.windows(2).all(|w| w[0] == w[1]),
        "validators disagree: {roots:?}"
    );

    // What an operator's Prometheus sees: the same height, and where the memory is.
    let metrics = scrape_metrics(&net.nodes[0]).await;
    let metric = |name: &str| {
        *metrics
            .get(name)
            .unwrap_or_else(|| panic!("/metrics has no {name}: {metrics:?}"))
    };
    assert!(metric("waybill_committed_height") >= target as f64);
    assert!(metric("waybill_blocks_committed_total") >= 1.0);
    let resident = metric("waybill_memory_resident_bytes");
    assert!(resident > 1e6, "resident set of {resident} bytes");
    let allocated = metric("waybill_memory_jemalloc_allocated_bytes");
    assert!(
        allocated > 0.0 && allocated <= metric("waybill_memory_jemalloc_resident_bytes"),
        "jemalloc allocated {allocated} bytes"
    );
    // Committed blocks went through the memtables; their sizes come from RocksDB itself.
    assert!(metric("waybill_rocksdb_memtable_bytes") > 0.0);
    assert!(metric("waybill_rocksdb_block_cache_bytes") >= 0.0);
}
