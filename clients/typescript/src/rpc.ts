// JSON-RPC client (RPC.md): every query method, and submit-then-wait-for-commit where a failed
// receipt is an error the caller sees.

import { toHex, WaybillError } from "./bytes.js";
import { signedBytes, signTransaction, SignedTransaction, Payload, txHash } from "./tx.js";
import type { Value } from "./value.js";
import { Key } from "./keyfile.js";
import type { BlockSummary, ItemEvent, RpcMethods } from "./openrpc-types.js";
import { subscribeBlocks, subscribeItem, Subscription } from "./subscribe.js";

export interface Receipt {
  tx_hash: string;
  height: number;
  index_in_block: number;
  ledger_index: number;
  status: "success" | { failed: { code: string; message: string } };
}

export interface SubmitOutcome {
  tx_hash: string;
  status: "pending" | "committed";
  receipt?: Receipt;
}

/** A JSON-RPC error object from the node: `code`, `message` and `data` as sent. */
export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(`${message} (JSON-RPC error ${code})`);
    this.name = "RpcError";
  }
}

/** A transaction that committed with a failed receipt: it used its sequence number and changed nothing. */
export class TransactionFailed extends Error {
  constructor(readonly receipt: Receipt) {
    const f = (receipt.status as { failed: { code: string; message: string } }).failed;
    super(`transaction ${receipt.tx_hash} failed: ${f.code}: ${f.message}`);
    this.name = "TransactionFailed";
  }
}

export class Client {
  private id = 0;
  constructor(readonly url: string) {}

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } };
    if (body.error) throw new RpcError(body.error.code, body.error.message, body.error.data);
    if (!("result" in body)) throw new WaybillError(`${method}: response has neither result nor error`);
    return body.result as T;
  }

  /** A method with the parameter and result types of the node's OpenRPC document. */
  request<M extends keyof RpcMethods>(method: M, ...params: RpcMethods[M]["params"]): Promise<RpcMethods[M]["result"]> {
    return this.call(method, params as unknown[]);
  }

  // ---- submitting ----

  submitTransaction(tx: SignedTransaction, waitMs?: number): Promise<SubmitOutcome> {
    return this.call("waybill_submitTransaction", waitMs === undefined ? [tx] : [tx, waitMs]);
  }
  submitRawTransaction(hex: string, waitMs?: number): Promise<SubmitOutcome> {
    return this.call("waybill_submitRawTransaction", waitMs === undefined ? [hex] : [hex, waitMs]);
  }
  submitRawTransactions(hexes: string[]): Promise<unknown[]> {
    return this.call("waybill_submitRawTransactions", [hexes]);
  }

  /**
   * Submits `tx` and waits up to `timeoutMs` for its commit; returns the receipt of a
   * successful transaction and throws {@link TransactionFailed} for a failed one.
   */
  async submitAndWait(tx: SignedTransaction, timeoutMs = 30_000): Promise<Receipt> {
    const deadline = Date.now() + timeoutMs;
    let outcome: SubmitOutcome;
    try {
      outcome = await this.submitTransaction(tx, Math.min(timeoutMs, 60_000));
    } catch (e) {
      // -32003: admitted, not committed within wait_ms; follow it below.
      if (!(e instanceof RpcError && e.code === -32003)) throw e;
      outcome = { tx_hash: txHash(tx.tx), status: "pending" };
    }
    let receipt = outcome.receipt;
    while (!receipt) {
      if (Date.now() > deadline) throw new WaybillError(`transaction ${outcome.tx_hash} did not commit within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
      const info = await this.getTransaction(outcome.tx_hash);
      receipt = info && !info.pending ? (info.receipt ?? undefined) : undefined;
    }
    if (receipt.status !== "success") throw new TransactionFailed(receipt);
    return receipt;
  }

  /** Builds, signs (next sequence from the node unless given) and submits one payload. */
  async act(chainId: string, key: Key, payload: Payload, sequence?: number | bigint): Promise<Receipt> {
    const seq = sequence ?? (await this.nextSequence(key.publicKey));
    const signed = signTransaction({ chain_id: chainId, signer: key.publicKey, sequence: seq, payload }, key.secret);
    return this.submitAndWait(signed);
  }

  /**
   * Captures a GS1 EPCIS 2.0 document (an `EPCISDocument` or `EPCISQueryDocument` object, as
   * parsed JSON): one `capture_epcis` transaction per event, signed with consecutive sequence
   * numbers (the node's next one unless given), all sent in one `waybill_captureEpcis` call.
   * The answer has a verdict per event (docs/EPCIS.md); `complete` is true only when every
   * event was captured. `parties` maps GS1 party ids to Waybill organizations.
   */
  async captureEpcisDocument(
    chainId: string,
    key: Key,
    document: unknown,
    options: { parties?: { [party: string]: string }; waitMs?: number; sequence?: number } = {},
  ): Promise<RpcMethods["waybill_captureEpcis"]["result"]> {
    const { context, events } = epcisEvents(document);
    const first = options.sequence ?? (await this.nextSequence(key.publicKey));
    const hexes = events.map((event, i) => {
      const payload: Payload = { capture_epcis: { context, event, parties: options.parties ?? {} } };
      const tx = { chain_id: chainId, signer: key.publicKey, sequence: first + i, payload };
      return toHex(signedBytes(signTransaction(tx, key.secret)));
    });
    return this.captureEpcis(hexes, options.waitMs);
  }
  /** `waybill_captureEpcis`: one document's signed `capture_epcis` transactions, as hex, in order. */
  captureEpcis(hexes: string[], waitMs?: number): Promise<RpcMethods["waybill_captureEpcis"]["result"]> {
    return this.call("waybill_captureEpcis", trim([hexes, waitMs]));
  }
  /** A captured EPCIS event by its CBV 2.0 hash ID (`ni:///sha-256;...?ver=CBV2.0`), or null. */
  getEpcisEvent(hashId: string): Promise<RpcMethods["waybill_getEpcisEvent"]["result"]> {
    return this.call("waybill_getEpcisEvent", [hashId]);
  }
  /** Captured EPCIS events matching `filter`, as an EPCIS 2.0 query document (paged). */
  queryEpcis(
    filter: RpcMethods["waybill_queryEpcis"]["params"][0],
    from?: number,
    limit?: number,
  ): Promise<RpcMethods["waybill_queryEpcis"]["result"]> {
    return this.call("waybill_queryEpcis", trim([filter, from, limit]));
  }

  // ---- queries ----

  head(): Promise<{ chain_id: string; genesis_hash: string; height: number; hash: string } & Record<string, unknown>> {
    return this.call("waybill_head");
  }
  getBlockByHeight(height: number): Promise<unknown | null> {
    return this.call("waybill_getBlockByHeight", [height]);
  }
  getBlockByHash(hash: string): Promise<unknown | null> {
    return this.call("waybill_getBlockByHash", [hash]);
  }
  getBlockTxHashes(height: number): Promise<unknown | null> {
    return this.call("waybill_getBlockTxHashes", [height]);
  }
  getTransaction(hash: string): Promise<{ tx: SignedTransaction; receipt: Receipt | null; pending: boolean } | null> {
    return this.call("waybill_getTransaction", [hash]);
  }
  status(): Promise<Record<string, unknown>> {
    return this.call("waybill_status");
  }
  validators(): Promise<unknown[]> {
    return this.call("waybill_validators");
  }
  nextSequence(account: string): Promise<number> {
    return this.call("waybill_nextSequence", [account]);
  }
  getStateRoot(height?: number): Promise<string | null> {
    return this.call("waybill_getStateRoot", height === undefined ? [] : [height]);
  }
  getItem(itemId: string): Promise<Record<string, unknown> | null> {
    return this.call("waybill_getItem", [itemId]);
  }
  getItemHistory(itemId: string, from?: number, limit?: number): Promise<Record<string, unknown>> {
    return this.call("waybill_getItemHistory", trim([itemId, from, limit]));
  }
  getProvenance(itemId: string, maxNodes?: number): Promise<Record<string, unknown> | null> {
    return this.call("waybill_getProvenance", trim([itemId, maxNodes]));
  }
  getOrganization(id: string): Promise<Record<string, unknown> | null> {
    return this.call("waybill_getOrganization", [id]);
  }
  /** Every organization, by id. */
  organizations(): Promise<Record<string, unknown>[]> {
    return this.call("waybill_organizations");
  }
  getOrganizationEvents(id: string, from?: number, limit?: number): Promise<Record<string, unknown>> {
    return this.call("waybill_getOrganizationEvents", trim([id, from, limit]));
  }
  getAccount(key: string): Promise<Record<string, unknown> | null> {
    return this.call("waybill_getAccount", [key]);
  }
  getTransactionProof(hash: string): Promise<unknown | null> {
    return this.call("waybill_getTransactionProof", [hash]);
  }
  getItemProof(itemId: string, height?: number): Promise<unknown> {
    return this.call("waybill_getItemProof", trim([itemId, height]));
  }
  getItemHistoryProof(itemId: string): Promise<unknown> {
    return this.call("waybill_getItemHistoryProof", [itemId]);
  }
  getConsistencyProof(fromHeight: number, toHeight?: number): Promise<unknown> {
    return this.call("waybill_getConsistencyProof", trim([fromHeight, toHeight]));
  }
  /** The chain of epoch changes since `fromEpoch` (default 0), for following a later epoch's proof from the genesis file. */
  getEpochChanges(fromEpoch?: number): Promise<unknown> {
    return this.call("waybill_getEpochChanges", trim([fromEpoch]));
  }
  /** State sync: the certificate, block and accumulator frontier of a certified height (the latest by default). */
  getSnapshotBase(height?: number): Promise<unknown> {
    return this.call("waybill_getSnapshotBase", trim([height]));
  }
  /** State sync: the keys and values under one node of the state tree, or its two children. */
  getStateChunk(node: string): Promise<unknown> {
    return this.call("waybill_getStateChunk", [node]);
  }
  /** `waybill_subscribeBlocks` over a WebSocket to the same address. */
  subscribeBlocks(onBlock: (block: BlockSummary) => void): Promise<Subscription> {
    return subscribeBlocks(this.url, onBlock);
  }
  /** `waybill_subscribeItem` over a WebSocket to the same address. */
  subscribeItem(itemId: string, onEvent: (event: ItemEvent) => void): Promise<Subscription> {
    return subscribeItem(this.url, itemId, onEvent);
  }
  discover(): Promise<Record<string, unknown>> {
    return this.call("rpc.discover");
  }
}

/** A document's `@context` (null if none) and its events, from either kind of EPCIS document. */
export function epcisEvents(document: unknown): { context: Value; events: Value[] } {
  const doc = document as Record<string, any>;
  const body = doc?.epcisBody;
  const list =
    doc?.type === "EPCISQueryDocument" ? body?.queryResults?.resultsBody?.eventList : doc?.type === "EPCISDocument" ? body?.eventList : undefined;
  if (!Array.isArray(list)) throw new WaybillError("not an EPCIS 2.0 document with an event list");
  if (list.length === 0) throw new WaybillError("the document has no events");
  return { context: (doc["@context"] ?? null) as Value, events: list as Value[] };
}

/** Trailing optional parameters left off. */
function trim(params: unknown[]): unknown[] {
  const out = [...params];
  while (out.length && out[out.length - 1] === undefined) out.pop();
  return out;
}
