// The RPC types are generated from clients/openrpc.json (kept equal to the node's rpc.discover
// by rpc/tests/openrpc_snapshot.rs); this keeps src/openrpc-types.ts equal to what the generator
// makes of it, so the types cannot drift from the node.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

test("src/openrpc-types.ts is generated from clients/openrpc.json", async () => {
  const generator = join(root, "scripts", "gen-types.mjs");
  const { generate, OPENRPC, OUTPUT } = await import(generator);
  const doc = JSON.parse(readFileSync(OPENRPC, "utf8"));
  assert.ok(doc.methods.length >= 20);
  assert.equal(readFileSync(OUTPUT, "utf8"), generate(doc), "run npm run gen in clients/typescript");
});
