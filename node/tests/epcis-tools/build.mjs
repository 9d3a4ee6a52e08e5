// Builds an EPCIS 2.0 document with epcis2.js's own event builders and prints it: what
// node/tests/epcis.rs captures to show that documents such a library produces are accepted.
// Argument: a suffix that makes the document's identifiers unique in the test's ledger.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { EPCISDocument, ObjectEvent, AggregationEvent, BizLocation, ReadPoint } = require("epcis2.js");

const suffix = process.argv[2] ?? "1";
const when = "2026-09-01T08:00:00.000+02:00";
const epc = (n) => `urn:epc:id:sgtin:0614141.107346.${suffix}${n}`;
const pallet = `urn:epc:id:sscc:0614141.${String(suffix).padStart(9, "0").slice(-9)}9`;

const commission = new ObjectEvent()
  .setEventTime(when)
  .setEventTimeZoneOffset("+02:00")
  .setAction("ADD")
  .setBizStep("commissioning")
  .setDisposition("active")
  .addEPCList([epc(1), epc(2)])
  .setReadPoint(new ReadPoint().setId("urn:epc:id:sgln:0614141.00001.0"))
  .setBizLocation(new BizLocation().setId("urn:epc:id:sgln:0614141.00001.0"));

const pack = new AggregationEvent()
  .setEventTime("2026-09-01T08:30:00.000+02:00")
  .setEventTimeZoneOffset("+02:00")
  .setAction("ADD")
  .setBizStep("packing")
  .setParentId(pallet)
  .addChildEPCList([epc(1), epc(2)])
  .setReadPoint(new ReadPoint().setId("urn:epc:id:sgln:0614141.00001.0"));

const doc = new EPCISDocument().setCreationDate(when).addEventList([commission, pack]);
if (!doc.isValid()) throw new Error("epcis2.js considers its own document invalid");
console.log(JSON.stringify(doc.toObject()));
