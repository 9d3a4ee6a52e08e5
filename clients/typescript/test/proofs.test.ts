// The SDK's offline verifier against docs/proofs: every example verifies, also after a JSON
// round trip, and a changed view, changed bytes or a repeated member is refused.

import assert from "node:assert/strict";
import { test } from "node:test";

import { parseGenesis, verifyProof } from "../dist/index.js";
import { doc } from "./docs.js";

const FILES = ["transaction.json", "item-state.json", "item-absent.json", "history.json", "history-absent.json", "consistency.json"];
const genesis = parseGenesis(doc("proofs/genesis.toml"));

test("every example proof verifies, also re-saved by JSON", () => {
  for (const f of FILES) {
    const text = doc(`proofs/${f}`);
    for (const t of [text, JSON.stringify(JSON.parse(text)), text.replace("412.5", "4.1250e2")]) {
      const report = verifyProof(t, genesis);
      assert.ok(report.ok, `${f}: ${JSON.stringify(report.checks.filter((c) => !c.passed))}`);
    }
  }
});

test("changed proofs are refused", () => {
  const history = doc("proofs/history.json");
  for (const [what, changed] of [
    ["view", history.replace('"weight_kg": 412.5', '"weight_kg": 412.51')],
    ["bytes", history.replace("031d10000000000000ffff", "031e10000000000000ffff")],
    ["repeated member", history.replace('"kind": "history",', '"kind": "history", "kind": "history",')],
    ["upper-case hex", history.replace("031d10000000000000ffff", "031D10000000000000FFFF")],
    ["another item", history.replace('"item_id": "pallet-1"', '"item_id": "crate-9"')],
  ]) {
    assert.notEqual(changed, history, what);
    assert.ok(!verifyProof(changed, genesis).ok, what);
  }
  const tx = JSON.parse(doc("proofs/transaction.json"));
  tx.inclusion_proof.path[0] = "00".repeat(32);
  assert.ok(!verifyProof(tx, genesis).ok, "a changed path");
});
