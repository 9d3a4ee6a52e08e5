// The SDK against a live local network: started by node/tests/sdk_clients.rs, which passes
// WAYBILL_RPC_URL, WAYBILL_GENESIS (the genesis file), WAYBILL_KEY (an operator's key file) and
// WAYBILL_CHAIN. Skipped when they are not set (a plain `npm test`).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Client, Decimal, readKeyFile, RpcError, TransactionFailed, verifyProof } from "../dist/index.js";

const url = process.env.WAYBILL_RPC_URL;
const skip = url ? false : "WAYBILL_RPC_URL is not set: no live network (node/tests/sdk_clients.rs sets it)";

/** Retries while the node answers -32004 (the height is not certified yet). */
async function certified<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof RpcError && e.code === -32004) || i > 150) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test("submit, wait, query and verify proofs offline on a live network", { skip }, async () => {
  const client = new Client(url!);
  const chain = process.env.WAYBILL_CHAIN!;
  const genesis = readFileSync(process.env.WAYBILL_GENESIS!, "utf8");
  const key = readKeyFile(process.env.WAYBILL_KEY!);
  const head = await client.request("waybill_head");
  assert.equal(head.chain_id, chain);

  const item = "sdk-ts-pallet";
  const blocks: number[] = [];
  const events: string[] = [];
  const blockSub = await client.subscribeBlocks((b) => blocks.push(b.height));
  const itemSub = await client.subscribeItem(item, (e) => events.push(e.entry.kind));
  const commission = await client.act(chain, key, {
    commission: {
      item_id: item,
      item_type: "pallet",
      properties: { weight_kg: new Decimal("412.50"), grade: "A", dims: { h: 1.2, w: [80, 120] } },
      location: "dock-1",
    },
  });
  assert.equal(commission.status, "success");
  const observe = await client.act(chain, key, {
    observe: { item_id: item, time_ms: 1_700_000_000_000, readings: [{ kind: "temperature", value: 4.5, unit: "Cel" }] },
  });
  // A failed receipt is an error the caller sees, with the receipt.
  await assert.rejects(
    client.act(chain, key, { observe: { item_id: "no-such-item", time_ms: 1 } }),
    (e: unknown) => e instanceof TransactionFailed && (e.receipt.status as any).failed.code === "unknown_item",
  );

  // Subscriptions: the item's two events, and blocks as they commit.
  for (let i = 0; i < 100 && (events.length < 2 || blocks.length < 1); i++) await new Promise((r) => setTimeout(r, 100));
  await blockSub.close();
  await itemSub.close();
  assert.deepEqual(events, ["commission", "observe"]);
  assert.ok(blocks.length >= 1 && blocks.every((h, i) => i === 0 || h > blocks[i - 1]), `${blocks}`);

  // Queries.
  const got = (await client.getItem(item)) as any;
  assert.equal(got.item.properties.weight_kg, 412.5);
  assert.ok(((await client.getItemHistory(item)) as any).entries.length >= 2);
  assert.ok((await client.nextSequence(key.publicKey)) >= 3);
  const info = await client.getTransaction(observe.tx_hash);
  assert.equal(info?.pending, false);
  assert.ok((await client.validators()).length >= 1);
  assert.ok(await client.getAccount(key.publicKey));
  assert.ok(await client.status());
  assert.equal(typeof (await client.getStateRoot()), "string");
  assert.ok((await client.discover()).openrpc);
  await assert.rejects(client.call("waybill_noSuchMethod"), (e: unknown) => e instanceof RpcError && e.code === -32601);

  // Every proof kind, fetched and verified offline against the genesis file alone, also after a
  // JSON round trip.
  const proofs = [
    await certified(() => client.getTransactionProof(commission.tx_hash)),
    await certified(() => client.getItemProof(item)),
    await certified(() => client.getItemProof("sdk-ts-absent")),
    await certified(() => client.getItemHistoryProof(item)),
    await certified(() => client.getConsistencyProof(1)),
  ];
  for (const proof of proofs) {
    for (const text of [JSON.stringify(proof), JSON.stringify(proof, null, 2)]) {
      const report = verifyProof(text, genesis);
      assert.ok(report.ok, `${report.kind}: ${JSON.stringify(report.checks.filter((c) => !c.passed))}`);
    }
  }
  const tampered = JSON.parse(JSON.stringify(proofs[0]));
  tampered.receipt.view.ledger_index += 1;
  assert.ok(!verifyProof(tampered, genesis).ok);
});
