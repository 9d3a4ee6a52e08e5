//! The story clients came for, shared by the tests that tell it (`supply_chain.rs` checks the
//! queries, `explorer.rs` the page that shows it): a farm commissions lots, a processor
//! transforms them into cases of juice and packs them onto a pallet, custody passes farm ->
//! processor -> shipper -> retailer with an accept at every step, temperatures are recorded on
//! the way, a forbidden observation fails, and the retailer attaches the delivery note.
//! Include it with `#[path = "common/story.rs"] mod story;` beside `mod common;`.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use ledger::keyfile::read_key_file;
use ledger::receipt::{ExecStatus, Receipt};
use ledger::tx::{Payload, Transaction};
use ledger::KeyPair;
use serde_json::json;
use waybill_node::localnet::LocalNode;

use super::common::{kill9, start_network};

/// Four validators and the four organizations' operator keys.
pub struct Network {
    pub chain: &'static str,
    pub nodes: Vec<LocalNode>,
    pub clients: Vec<rpc::Client>,
    pub keys: HashMap<&'static str, KeyPair>,
    pub sequences: HashMap<&'static str, u64>,
    /// Height of the latest receipt: queries wait until every validator has applied it.
    pub last_height: u64,
}

impl Drop for Network {
    fn drop(&mut self) {
        for n in &self.nodes {
            kill9(n);
        }
    }
}

impl Network {
    pub async fn start(dir: &Path, chain: &'static str) -> Network {
        let (all, clients) = start_network(dir, chain, 4).await;
        let mut keys = HashMap::new();
        for org in ["farm", "processor", "shipper", "retailer"] {
            let path = dir.join("clients").join(format!("{org}-operator.key"));
            keys.insert(org, read_key_file(&path).unwrap());
        }
        Network {
            chain,
            nodes: all,
            clients,
            keys,
            sequences: HashMap::new(),
            last_height: 0,
        }
    }

    /// Signs `payload` (given as the JSON a client in any language would write) as `org`'s
    /// operator, submits it to a validator and waits for its receipt.
    pub async fn act(&mut self, org: &'static str, payload: serde_json::Value) -> Receipt {
        // Through text, as a client sends it: payload JSON values keep their exact form.
        let payload: Payload = serde_json::from_str(&payload.to_string()).unwrap();
        let seq = self.sequences.entry(org).or_insert(0);
        let key = &self.keys[org];
        let tx = Transaction {
            chain_id: self.chain.into(),
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
        receipt
    }

    /// Waits until every validator has applied everything acted so far, so any of them answers.
    pub async fn settle(&self) {
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

    pub async fn ok(&mut self, org: &'static str, payload: serde_json::Value) {
        let what = payload.to_string();
        let receipt = self.act(org, payload).await;
        assert_eq!(receipt.status, ExecStatus::Success, "{org}: {what}");
    }
}

fn transfer(item: &str, to: &str) -> serde_json::Value {
    json!({"propose_transfer": {"item_id": item, "kind": "custody", "to_organization": to}})
}

fn accept(item: &str) -> serde_json::Value {
    json!({"accept_transfer": {"item_id": item, "kind": "custody"}})
}

/// What the story's forbidden step did: its receipt, and the pallet just before and after it.
/// (Every test that tells the story reads the receipt; not every one compares the pallet.)
#[allow(dead_code)]
pub struct Denied {
    pub receipt: Receipt,
    pub before: rpc::ItemView,
    pub after: rpc::ItemView,
}

/// Tells the whole story on `net`; every step but the forbidden one succeeds.
pub async fn farm_to_shelf(net: &mut Network) -> Denied {
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
    let receipt = net
        .act(
            "farm",
            json!({"observe": {"item_id": "pallet-1", "time_ms": 3_000, "location": "elsewhere", "readings": []}}),
        )
        .await;
    let after = net.clients[0].item("pallet-1").await.unwrap().unwrap();

    net.ok("shipper", transfer("pallet-1", "retailer")).await;
    net.ok("retailer", accept("pallet-1")).await;
    net.ok(
        "retailer",
        json!({"attach_document": {"item_id": "pallet-1", "hash_algorithm": "sha256",
               "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
               "uri": "https://docs.example/delivery/7781", "media_type": "application/pdf"}}),
    )
    .await;
    net.settle().await;
    Denied {
        receipt,
        before,
        after,
    }
}
