// The SDK against SIGNING.md's vectors: typed values, the three transactions (signing bytes,
// hash, signature, canonical bytes), the key file example, the nesting rule.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Decimal,
  depth,
  fromHex,
  numberOf,
  parseKeyFile,
  Reader,
  readSignedTransaction,
  readValue,
  signedBytes,
  signingBytes,
  signTransaction,
  toHex,
  txHash,
  valueBytes,
  verifySignature,
} from "../dist/index.js";
import { codeBlocks, doc, table } from "./docs.js";

const SIGNING = doc("SIGNING.md");
const SECRET = fromHex("01".repeat(32));

test("signature rule vectors", () => {
  const rows = table(SIGNING, "#### Signature rule vectors");
  assert.equal(rows.length, 5);
  for (const [name, json, verdict] of rows) {
    assert.equal(verifySignature(JSON.parse(json)), verdict === "valid", name);
  }
});

test("value vectors", () => {
  const rows = table(SIGNING, "#### Value vectors");
  assert.ok(rows.length >= 15, `${rows.length} rows`);
  for (const [json, hex] of rows) {
    assert.equal(toHex(valueBytes(JSON.parse(json))), hex, json);
    if (/^-?[0-9]/.test(json)) assert.equal(toHex(valueBytes(new Decimal(json))), hex, `Decimal ${json}`);
    const r = new Reader(fromHex(hex));
    const back = readValue(r);
    r.done("value");
    assert.equal(toHex(valueBytes(back)), hex, `${json} decodes to itself`);
  }
  // Exact decimal text and a float give one value; numbers no JSON tool keeps are refused.
  assert.equal(toHex(valueBytes(new Decimal("412.50"))), toHex(valueBytes(412.5)));
  for (const bad of ["9007199254740992", "0.1234567890123456", "1e301", "1e-301"]) {
    assert.throws(() => numberOf(bad), /cannot be kept exactly/, bad);
  }
  for (const bad of ["03c201000000000000feff", "0305000000000000000000", "020000000000002000", "0602016200016100", "07", "0102"]) {
    assert.throws(() => readValue(new Reader(fromHex(bad))), /./, bad);
  }
});

test("transaction vectors", () => {
  const sections = SIGNING.split(/^### Vector \d+: .*$/m).slice(1);
  assert.equal(sections.length, 3);
  for (const section of sections) {
    const [json, signing, hash, signature, signed] = codeBlocks(section).map((b) => b.trim());
    const stx = JSON.parse(json);
    assert.equal(toHex(signingBytes(stx.tx)), signing.replace(/\s/g, ""));
    assert.equal(txHash(stx.tx), hash);
    assert.equal(signTransaction(stx.tx, SECRET).signature, signature);
    assert.equal(stx.signature, signature);
    assert.equal(toHex(signedBytes(stx)), signed.replace(/\s/g, ""));
    assert.ok(verifySignature(stx));
    const r = new Reader(fromHex(signed.replace(/\s/g, "")));
    assert.equal(toHex(signedBytes(readSignedTransaction(r))), signed.replace(/\s/g, ""));
    r.done("signed transaction");
    // Re-saved with JSON numbers rewritten (412.5 as 4.1250e2): same bytes, same signature.
    const resaved = JSON.parse(json.replace("412.5", "4.1250e2"));
    assert.equal(toHex(signingBytes(resaved.tx)), signing.replace(/\s/g, ""));
    // A changed transaction no longer verifies.
    assert.ok(!verifySignature({ ...stx, tx: { ...stx.tx, sequence: Number(stx.tx.sequence) + 1 } }));
  }
});

test("key file example", () => {
  const example = codeBlocks(SIGNING.split("## Key files")[1])[0];
  const key = parseKeyFile(example);
  assert.equal(key.publicKey, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  assert.equal(toHex(key.secret), "01".repeat(32));
  assert.throws(() => parseKeyFile(example.replace(key.publicKey, "00".repeat(32))), /does not match/);
  assert.throws(() => parseKeyFile(example + 'extra = "1"\n'), /unknown member/);
});

test("nesting rule", () => {
  assert.equal(depth("a"), 0);
  assert.equal(depth([]), 1);
  assert.equal(depth({ a: [1] }), 2);
  assert.equal(depth(JSON.parse("[[[[[[[[1]]]]]]]]")), 8);
});
