//! EPCIS capture in execution: the farm-to-shelf corpus (`ledger/tests/epcis/corpus`) captured
//! event by event by the member that recorded it, with the items' owners, custodians and
//! states it must leave; then one test per rule of capture (each failing with its code and
//! changing nothing but the sequence number).

use super::*;
use crate::epcis::capture::EpcisCapture;
use crate::epcis::document::{canonical_event, EpcisDocument};
use crate::epcis::EventHashId;

const CORPUS: &[(&str, u8, &str)] = &[
    (
        "01-farm-harvest-and-ship",
        FARM_OP,
        include_str!("../../tests/epcis/corpus/01-farm-harvest-and-ship.jsonld"),
    ),
    (
        "02-processor-receive",
        PROC_OP,
        include_str!("../../tests/epcis/corpus/02-processor-receive.jsonld"),
    ),
    (
        "03-farm-invoice",
        FARM_OP,
        include_str!("../../tests/epcis/corpus/03-farm-invoice.jsonld"),
    ),
    (
        "04-processor-make-sauce-and-ship",
        PROC_OP,
        include_str!("../../tests/epcis/corpus/04-processor-make-sauce-and-ship.jsonld"),
    ),
    (
        "05-shipper-carry",
        SHIP_OP,
        include_str!("../../tests/epcis/corpus/05-shipper-carry.jsonld"),
    ),
    (
        "06-retailer-receive",
        RETAIL_OP,
        include_str!("../../tests/epcis/corpus/06-retailer-receive.jsonld"),
    ),
    (
        "07-processor-invoice",
        PROC_OP,
        include_str!("../../tests/epcis/corpus/07-processor-invoice.jsonld"),
    ),
    (
        "08-retailer-shelf-and-sell",
        RETAIL_OP,
        include_str!("../../tests/epcis/corpus/08-retailer-shelf-and-sell.jsonld"),
    ),
];

/// The corpus's GS1 party ids and the organizations they are.
fn parties() -> BTreeMap<String, String> {
    [
        ("urn:epc:id:pgln:0614141.00000", "farm"),
        ("urn:epc:id:pgln:4012345.00000", "processor"),
        ("urn:epc:id:pgln:5200001.00000", "shipper"),
        ("urn:epc:id:pgln:9520123.00000", "retailer"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

const LOT: &str = "https://id.gs1.org/01/00614141123452/10/LOT-0801";
const PALLET_1: &str = "https://id.gs1.org/00/106141410000000019";
const PALLET_2: &str = "https://id.gs1.org/00/240123450000000027";
const CASE_1: &str = "https://id.gs1.org/01/04012345777772/21/101";
const CASE_2: &str = "https://id.gs1.org/01/04012345777772/21/102";

fn captures(text: &str) -> Vec<(EpcisCapture, EventHashId)> {
    let doc = EpcisDocument::parse(text).unwrap();
    doc.events
        .iter()
        .map(|e| {
            let c = canonical_event(doc.context.as_ref(), e).unwrap();
            (
                EpcisCapture {
                    context: c.context,
                    event: c.event,
                    parties: parties(),
                },
                c.hash_id,
            )
        })
        .collect()
}

fn capture(c: &EpcisCapture) -> Payload {
    Payload::CaptureEpcis(c.clone())
}

/// The corpus captured up to (not including) document `upto`.
fn world_after(upto: usize) -> World {
    let mut w = World::new();
    for (name, signer, text) in &CORPUS[..upto] {
        for (i, (c, id)) in captures(text).iter().enumerate() {
            let ex = w.run(*signer, capture(c));
            assert_eq!(
                ex.statuses,
                vec![ExecStatus::Success],
                "{name} event {i} ({id})"
            );
            assert_eq!(ex.events[0].epcis, Some(*id), "{name} event {i}");
        }
    }
    w
}

#[test]
fn the_farm_to_shelf_corpus_captures_and_leaves_each_item_where_it_is() {
    let w = world_after(CORPUS.len());
    // The harvest lot went into sauce at the processor.
    let lot = w.item(LOT);
    assert_eq!(lot.status, ItemStatus::Consumed);
    assert_eq!(lot.item_type, "trade_item_lot");
    assert_eq!(lot.transformed_into, vec![CASE_1, CASE_2]);
    // The first pallet came from the farm and is the processor's now, empty.
    let p1 = w.item(PALLET_1);
    assert_eq!(
        (p1.owner.as_str(), p1.custodian.as_str()),
        ("processor", "processor")
    );
    assert!(p1.children.is_empty());
    // The cases were made by the processor, shipped via the shipper, bought by the retailer,
    // unpacked; case 1 was sold.
    let p2 = w.item(PALLET_2);
    assert_eq!(
        (p2.owner.as_str(), p2.custodian.as_str()),
        ("retailer", "retailer")
    );
    assert!(p2.children.is_empty());
    let c1 = w.item(CASE_1);
    assert_eq!(c1.derived_from, vec![LOT]);
    assert_eq!(c1.status, ItemStatus::Decommissioned);
    assert_eq!(c1.decommission_reason.as_deref(), Some("retail_selling"));
    let c2 = w.item(CASE_2);
    assert_eq!(
        (c2.owner.as_str(), c2.custodian.as_str()),
        ("retailer", "retailer")
    );
    assert_eq!(c2.status, ItemStatus::Active);
    assert_eq!(
        c2.location.as_deref(),
        Some("https://id.gs1.org/414/9520123000202")
    );
    // Every item's certified history head is its index entries' chain.
    for id in [LOT, PALLET_1, PALLET_2, CASE_1, CASE_2] {
        assert_eq!(w.head(id), w.indexed_head(id), "{id}");
    }
    // Case 1's story, by kind.
    let kinds: Vec<EventKind> = w.history_of(CASE_1).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Transform,
            EventKind::SensorReport,
            EventKind::ErrorDeclaration,
            EventKind::SensorReport,
            EventKind::Aggregate,
            // Shipping offers the pallet (the cases move with it when it is accepted).
            EventKind::CustodyAccepted,
            EventKind::CustodyAccepted,
            EventKind::OwnershipAccepted,
            EventKind::Disaggregate,
            EventKind::Observe,
            EventKind::Decommission,
        ]
    );
}

#[test]
fn the_declared_event_stays_and_records_its_declaration() {
    let w = world_after(CORPUS.len());
    let events = captures(CORPUS[3].2);
    let (wrong, declaration, corrected) = (&events[3], &events[4], &events[5]);
    assert_eq!(
        wrong.1, declaration.1,
        "a declaration has its event's hash ID"
    );
    assert_ne!(wrong.1, corrected.1);
    let record = read_epcis(&w, &wrong.1).unwrap().unwrap();
    assert_eq!(record.organization, "processor");
    let declaring_tx = w
        .history
        .iter()
        .find(|(_, e)| e.kind == EventKind::ErrorDeclaration)
        .map(|(i, _)| w.tx_hashes[i])
        .unwrap();
    assert_eq!(record.declared_erroneous, Some(declaring_tx));
    assert_ne!(record.tx_hash, declaring_tx, "the original capture is kept");
    let fixed = read_epcis(&w, &corrected.1).unwrap().unwrap();
    assert_eq!(fixed.declared_erroneous, None);
}

#[test]
fn capture_rules_fail_with_their_codes() {
    let mut w = world_after(1);
    let farm = captures(CORPUS[0].2);
    // The same event again.
    let msg = w.fails(FARM_OP, capture(&farm[0].0), codes::DUPLICATE_EVENT);
    assert!(msg.contains(&farm[0].1.to_string()), "{msg}");
    // Receiving by the wrong organization: the pending transfer is offered to the processor.
    let receive = captures(CORPUS[1].2);
    w.fails(SHIP_OP, capture(&receive[0].0), codes::NOT_RECIPIENT);
    // A declaration of an event nobody captured.
    let mut declaration = captures(CORPUS[3].2)[4].0.clone();
    w.fails(PROC_OP, capture(&declaration), codes::UNKNOWN_EVENT);
    // A declaration by an organization other than the capturer.
    let mut event: serde_json::Value =
        serde_json::from_str(&farm[2].0.event.to_json_text()).unwrap();
    event["errorDeclaration"] =
        json!({"declarationTime": "2026-08-02T00:00:00Z", "reason": "did_not_occur"});
    declaration.event = JsonValue::new(&event).unwrap();
    declaration.context = farm[2].0.context.clone();
    w.fails(PROC_OP, capture(&declaration), codes::NOT_CAPTURER);
    w.ok(FARM_OP, capture(&declaration));
    w.fails(FARM_OP, capture(&declaration), codes::ALREADY_DECLARED);
    // An observation by someone who does not hold the pallet (an event of its own).
    let mut observe = event.clone();
    observe.as_object_mut().unwrap().remove("errorDeclaration");
    observe["eventTime"] = json!("2026-08-01T13:00:00.000+02:00");
    let c = EpcisCapture {
        event: JsonValue::new(&observe).unwrap(),
        ..farm[2].0.clone()
    };
    w.fails(SHIP_OP, capture(&c), codes::NOT_CUSTODIAN);
    // Shipping to a party the capture does not resolve.
    let mut ship: serde_json::Value =
        serde_json::from_str(&farm[4].0.event.to_json_text()).unwrap();
    ship["eventTime"] = json!("2026-08-01T18:00:00.000+02:00");
    let unresolved = EpcisCapture {
        event: JsonValue::new(&ship).unwrap(),
        parties: BTreeMap::new(),
        ..farm[4].0.clone()
    };
    let msg = w.fails(FARM_OP, capture(&unresolved), codes::UNKNOWN_PARTY);
    assert!(msg.contains("destinationList[0]"), "{msg}");
}

fn event_capture(event: serde_json::Value) -> Payload {
    Payload::CaptureEpcis(EpcisCapture {
        context: JsonValue::new(&json!(null)).unwrap(),
        event: JsonValue::new(&event).unwrap(),
        parties: BTreeMap::new(),
    })
}

#[test]
fn events_waybill_cannot_read_or_capture_are_refused_with_a_reason() {
    let mut w = World::new();
    let base = json!({
        "type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.1"], "action": "ADD"
    });
    let with = |k: &str, v: serde_json::Value| {
        let mut e = base.clone();
        e[k] = v;
        e
    };
    for (event, code, words) in [
        (
            with("eventTime", json!("2026-01-01T00:00:00")),
            codes::INVALID_EPCIS_EVENT,
            "offset",
        ),
        (
            with("action", json!("UPDATE")),
            codes::INVALID_EPCIS_EVENT,
            "action",
        ),
        (
            with("epcList", json!(["urn:epc:id:sgtin:4012345.011111.a b"])),
            codes::INVALID_EPCIS_EVENT,
            "item ids",
        ),
        (
            with("type", json!("CustomEvent")),
            codes::UNSUPPORTED_EPCIS_EVENT,
            "five",
        ),
        (
            json!({"type": "TransformationEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
                   "outputEPCList": ["urn:epc:id:sgtin:4012345.011111.1"]}),
            codes::UNSUPPORTED_EPCIS_EVENT,
            "transformationID",
        ),
        (
            json!({"type": "AggregationEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
                   "childEPCs": ["urn:epc:id:sgtin:4012345.011111.1"], "action": "ADD"}),
            codes::INVALID_EPCIS_EVENT,
            "parentID",
        ),
    ] {
        let msg = w.fails(FARM_OP, event_capture(event.clone()), code);
        assert!(msg.contains(words), "{event}: {msg}");
    }
    // The plain event commissions its object, named in canonical form.
    let ev = w.ok(FARM_OP, event_capture(base.clone()));
    assert_eq!(ev.kind, EventKind::Commission);
    assert_eq!(
        w.item("https://id.gs1.org/01/04012345111118/21/1").owner,
        "farm"
    );
    // The same object written as a Digital Link URI on another domain is the same item.
    let mut again = base.clone();
    again["epcList"] = json!(["https://example.com/01/04012345111118/21/1?linkType=all"]);
    again["eventTime"] = json!("2026-01-01T00:00:01Z");
    w.fails(FARM_OP, event_capture(again), codes::ITEM_EXISTS);
}
