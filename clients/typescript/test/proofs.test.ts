// The SDK's offline verifier against docs/proofs: every example verifies, also after a JSON
// round trip, and a changed view, changed bytes or a repeated member is refused.

import assert from "node:assert/strict";
import { test } from "node:test";

import { parseGenesis, verifyProof } from "../dist/index.js";
import { doc } from "./docs.js";

const FILES = ["transaction.json", "item-state.json", "item-absent.json", "history.json", "history-absent.json", "consistency.json", "item-state-epoch2.json"];
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

test("a later epoch's proof needs its chain of changes", () => {
  const text = doc("proofs/item-state-epoch2.json");
  const proof = JSON.parse(text);
  const report = verifyProof(proof, genesis);
  assert.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.passed)));
  assert.match(JSON.stringify(report.checks), /epoch 2 \(4 validators\) certifies heights from 5 on/);
  const failed = (p: any) => verifyProof(p, genesis).checks.filter((c) => !c.passed).map((c) => c.name);
  // Without the chain, the genesis set does not know the signers.
  const { epoch_changes: changes, ...alone } = proof;
  assert.deepEqual(failed(alone), ["certificate"]);
  // A chain proves nothing after its last change (PROOFS.md): cut after the first, the
  // certificate is checked with epoch 1's set, where validators 2, 3 and 4 are a quorum too.
  assert.deepEqual(failed({ ...proof, epoch_changes: changes.slice(0, 1) }), []);
  // The second change alone is signed by a set that is not epoch 0's; swapped, likewise.
  assert.ok(failed({ ...proof, epoch_changes: changes.slice(1) }).includes("epoch_changes"));
  assert.ok(failed({ ...proof, epoch_changes: [...changes].reverse() }).includes("epoch_changes"));
  // Bytes and view changed alike: the last validator's power (the last 8 bytes), the epoch (the first 8).
  const changedSet = (bytes: (b: string) => string, view: (v: any) => void) => {
    const p = JSON.parse(text);
    const next = p.epoch_changes[0].next;
    next.bytes = bytes(next.bytes);
    view(next.view);
    return JSON.stringify(verifyProof(p, genesis).checks);
  };
  assert.match(
    changedSet((b) => b.slice(0, -16) + "0200000000000000", (v) => (v.validators[v.validators.length - 1].power = 2)),
    /the state does not hold this set/,
  );
  assert.match(
    changedSet((b) => "0200000000000000" + b.slice(16), (v) => (v.epoch = 2)),
    /names epoch 2, expected 1/,
  );
});

