//! EPCIS 2.0 documents, as `waybill tx epcis` and the SDKs read them and execution reads each
//! captured event: hostile JSON in, typed refusals out.
//!
//! - reading a document, canonicalising each event and computing its hash ID and plan never
//!   panic: a document is refused with a `DocumentError`, an event with its own error;
//! - an event's hash ID is the same computed from the document's JSON and from the canonical
//!   value a transaction carries (so the ID a capturer is told is the one execution records);
//! - a capture that passes its structural checks plans to the same hash ID, deterministically.

use ledger::epcis::capture::EpcisCapture;
use ledger::epcis::document::{canonical_event, EpcisDocument};
use ledger::epcis::EventHashId;

use super::text;

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(doc) = EpcisDocument::parse(text) else {
        return;
    };
    for event in &doc.events {
        let direct = EventHashId::of(doc.context.as_ref(), event);
        let Ok(canonical) = canonical_event(doc.context.as_ref(), event) else {
            continue;
        };
        assert_eq!(
            direct.as_ref().ok(),
            Some(&canonical.hash_id),
            "the hash ID changed with canonicalisation: {event}"
        );
        let capture = EpcisCapture {
            context: canonical.context,
            event: canonical.event,
            parties: [("urn:epc:id:pgln:4012345.00000".into(), "processor".into())].into(),
        };
        if capture.check().is_err() {
            continue;
        }
        let plan = capture.plan();
        assert_eq!(plan, capture.plan(), "planning is deterministic");
        if let Ok(plan) = plan {
            assert_eq!(plan.hash_id, canonical.hash_id);
            assert!(plan.effect.items().len() <= ledger::epcis::capture::MAX_EVENT_ITEMS);
        }
    }
}
