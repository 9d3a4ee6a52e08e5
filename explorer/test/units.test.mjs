// The explorer's pure parts, in Node without a browser: block hashes and quorum certificates
// against docs/PROOFS.md's vectors, the genesis reader, the JSON member slicer that keeps a
// proof's bytes as the node sent them, custody and ownership from events, the provenance graph's
// edges, and a failed check's meaning. The sources are bundled in memory by esbuild.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const require = createRequire(join(root, "package.json"));

async function load() {
  const out = await build({
    stdin: {
      contents: `
        export { blockHash, meaning } from "./verdict.ts";
        export { readQc } from "./qc.ts";
        export { memberText } from "./node.ts";
        export { holders } from "./pages/item.ts";
        export { buildGraph } from "./graph.ts";
        export { readGenesis, memberLabel } from "./genesis.ts";`,
      resolveDir: join(root, "src"),
      loader: "ts",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    logLevel: "warning",
    plugins: [{ name: "own", setup: (b) => b.onResolve({ filter: /^@noble\// }, (a) => ({ path: require.resolve(a.path) })) }],
  });
  return import("data:text/javascript;base64," + Buffer.from(out.outputFiles[0].text).toString("base64"));
}

const m = await load();
const proofsMd = readFileSync(join(root, "../docs/PROOFS.md"), "utf8");
const vector = (name) => new RegExp(`^${name.replace(".", "\\.")} = (\\S+)$`, "m").exec(proofsMd)[1];

test("block hash and quorum certificate: the PROOFS.md vectors", () => {
  const header = {
    chain_id: "example-chain",
    height: 7,
    round: 9,
    parent: "11".repeat(32),
    tx_root: vector("block.tx_root_three"),
    proposer: vector("validator0.public"),
    timestamp_ms: 1_700_000_000_000,
    justify: "abcd",
  };
  assert.equal(m.blockHash(header), vector("block.hash"));
  assert.notEqual(m.blockHash({ ...header, timestamp_ms: header.timestamp_ms + 1 }), vector("block.hash"));
  const qc = m.readQc(vector("qc.bytes"));
  assert.deepEqual(qc, { epoch: 0, block_id: vector("block.hash"), round: 9, signers: [0] });
  assert.equal(m.readQc(""), null, "genesis has no justify");
  assert.equal(m.readQc(vector("qc.bytes") + "00"), null, "trailing bytes");
});

test("genesis: validators, powers, quorum and organizations", () => {
  const proofs = m.readGenesis(readFileSync(join(root, "../docs/proofs/genesis.toml"), "utf8"));
  assert.equal(proofs.chain_id, "waybill-proof-test");
  assert.deepEqual(proofs.members.map((x) => x.name), ["v0", "v1", "v2", "v3"]);
  assert.equal(proofs.quorum, 3);
  const example = m.readGenesis(readFileSync(join(root, "../genesis/example.toml"), "utf8"));
  assert.equal(example.organizations.get("farm"), "Green Valley Farm");
  assert.equal(m.memberLabel(example, example.members[0].consensus_key), "farm-validator");
  const ceremony = `${readFileSync(join(root, "../docs/proofs/genesis.toml"), "utf8")}
[[ceremony.members]]
name = "v1"
organization = "farm"
organization_name = "Green Valley Farm"
consensus_key = "${proofs.members[1].consensus_key}"
`;
  const named = m.readGenesis(ceremony);
  assert.equal(m.memberLabel(named, proofs.members[1].consensus_key), "v1 (Green Valley Farm)");
  assert.match(m.memberLabel(named, "ab".repeat(32)), /not a genesis validator/);
  assert.throws(() => m.readGenesis("chain_id = 'x'"));
});

test("a call's result is sliced from the response text unchanged", () => {
  const proof = '{"kind": "transaction", "x": [1, {"a": "}"}], "n": 412.50}';
  assert.equal(m.memberText(`{"jsonrpc":"2.0","result":${proof},"id":7}`, "result"), proof);
  assert.equal(m.memberText(`{"jsonrpc":"2.0","id":7,"result": null }`, "result"), "null");
  assert.equal(m.memberText(`{"jsonrpc":"2.0","id":7,"result":"a\\"b"}`, "result"), '"a\\"b"');
  assert.equal(m.memberText('{"error":{"result":1},"id":1}', "result"), null, "only a top-level member");
});

test("custody and ownership over time, from an item's events", () => {
  const e = (kind, organization, height, roles = ["subject"]) => ({ kind, organization, height, roles, tx_hash: `${kind}-${height}`, items: [], ledger_index: height });
  const { custody, ownership } = m.holders([
    e("transform", "processor", 5, ["output"]),
    e("custody_proposed", "processor", 6),
    e("custody_accepted", "shipper", 7, ["contents"]),
    e("observe", "shipper", 8),
    e("ownership_accepted", "retailer", 9),
  ]);
  assert.deepEqual(custody.map((x) => [x.org, x.from]), [["processor", 5], ["shipper", 7]]);
  assert.deepEqual(ownership.map((x) => [x.org, x.from]), [["processor", 5], ["retailer", 9]]);
});

test("provenance edges: packing, transformation, and packings undone", () => {
  const node = (item_id, relation, via, depth) => ({ item_id, relation, via, depth, item_type: "t", status: "active", owner: "o", custodian: "c" });
  const { nodes, edges } = m.buildGraph(
    "case-1",
    { truncated: false, nodes: [node("case-1", "root", null, 0), node("lot-1", "made_from", "case-1", 1), node("pallet-1", "packed_in", "case-1", 1)] },
    [{ kind: "disaggregate", items: ["crate-0", "case-1"], height: 4 }],
  );
  assert.deepEqual(
    edges.map((x) => `${x.from} ${x.kind} ${x.to}`),
    ["case-1 made_from lot-1", "case-1 packed_in pallet-1", "case-1 was_packed_in crate-0"],
  );
  const column = Object.fromEntries(nodes.map((n) => [n.id, n.column]));
  assert.deepEqual(column, { "case-1": 0, "lot-1": -1, "pallet-1": -1, "crate-0": -1 });
});

test("a failed check's meaning names what broke", () => {
  assert.match(m.meaning({ name: "entry[2].inclusion_proof.path", passed: false }), /Merkle path/);
  assert.match(m.meaning({ name: "history_digest", passed: false }), /left out, added, replaced or reordered/);
  assert.match(m.meaning({ name: "certificate", passed: false }), /quorum/);
});
