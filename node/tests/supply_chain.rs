//! End to end, the story clients came for, on four real `waybill` processes: a farm commissions
//! lots, a processor transforms them into products, the products are packed onto a pallet,
//! custody passes farm -> processor -> shipper -> retailer with an accept at every step,
//! temperatures are recorded on the way and the retailer attaches the delivery note. Then the
//! item, history and provenance queries tell exactly that story, a forbidden action fails with
//! its code and changes nothing, and all four validators report one state root.

use std::collections::HashMap;

use ledger::receipt::ExecStatus;
use ledger::supply::events::{EventKind, ItemRole};
use ledger::supply::history::Relation;
use ledger::supply::state::ItemStatus;

mod common;
use common::scrape_metrics;
#[path = "common/story.rs"]
mod story;

const CHAIN: &str = "waybill-story";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn farm_to_shelf_story_is_told_exactly_by_every_validator() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = story::Network::start(dir.path(), CHAIN).await;
    let denied = story::farm_to_shelf(&mut net).await;

    // The forbidden action (the farm observing a pallet it does not hold) failed with its code
    // and changed nothing.
    assert!(
        matches!(&denied.receipt.status, ExecStatus::Failed { code, .. } if code == "not_custodian"),
        "{:?}",
        denied.receipt.status
    );
    assert_eq!(
        denied.before.item, denied.after.item,
        "a failed action changed the item"
    );

    // The item queries tell the story, on any validator.
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
    // Whether compactions keep up: a story this small never slows the store's writes.
    assert!(metric("waybill_rocksdb_level0_files_max") < 20.0);
    assert!(metric("waybill_rocksdb_pending_compaction_bytes") >= 0.0);
    assert_eq!(metric("waybill_rocksdb_delayed_write_rate_bytes"), 0.0);
    assert_eq!(metric("waybill_rocksdb_writes_stopped"), 0.0);
    assert!(
        metric("waybill_rocksdb_largest_family_bytes") <= metric("waybill_rocksdb_table_bytes")
    );
    // Its signature work, by the path that brought each transaction: the story's transactions
    // were checked somewhere, and no path is missing from the page.
    let checks: f64 = ["submission", "gossip", "proposal"]
        .iter()
        .map(|via| metric(&format!("waybill_signature_checks_total{{via=\"{via}\"}}")))
        .sum();
    assert!(checks >= 1.0, "{checks} signature checks");
    assert!(
        metric("waybill_compact_proposal_fetches_total")
            <= metric("waybill_compact_proposals_total")
    );
}
