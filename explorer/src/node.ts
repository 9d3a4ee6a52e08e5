// The node this page is served by, over its own JSON-RPC port (same origin): calls over HTTP
// POST, subscriptions over one WebSocket. Nothing it answers is trusted for a verdict; proofs
// are checked in `verdict.ts` against the genesis the user pinned.

import type {
  AccountView,
  BlockSummary,
  BlockTxHashes,
  HeadInfo,
  HistoryEntry,
  HistoryPage,
  ItemEvent,
  ItemView,
  NodeStatus,
  OrgRecord,
  Provenance,
  StoredBlock,
  TxInfo,
  ValidatorInfo,
} from "../../clients/typescript/src/openrpc-types.js";

export type { AccountView, BlockSummary, HeadInfo, HistoryEntry, HistoryPage, ItemEvent, ItemView, NodeStatus, OrgRecord, Provenance, StoredBlock, TxInfo, ValidatorInfo };

/** The JSON-RPC endpoint: the root of the origin the page came from. */
const endpoint = () => new URL("/", location.href).toString();

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${message} (JSON-RPC error ${code})`);
  }
}

let nextId = 1;

/** The raw text of a call's `result`: proofs are kept byte for byte as the node sent them. */
export async function callText(method: string, params: unknown[] = []): Promise<string> {
  const res = await fetch(endpoint(), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
  });
  const text = await res.text();
  const result = memberText(text, "result");
  if (result === null) {
    let error: { code?: number; message?: string } | undefined;
    try {
      error = JSON.parse(text).error;
    } catch {
      error = undefined;
    }
    throw new RpcError(error?.code ?? res.status, error?.message ?? `HTTP ${res.status} without a result`);
  }
  return result;
}

export async function call<T>(method: string, params: unknown[] = []): Promise<T> {
  return JSON.parse(await callText(method, params)) as T;
}

/** The text of member `name` of the top-level JSON object `text`, or null. */
export function memberText(text: string, name: string): string | null {
  let depth = 0;
  let i = 0;
  const skipString = (at: number): number => {
    let j = at + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = skipString(i);
      if (depth === 1) {
        let k = end;
        while (/\s/.test(text[k] ?? "")) k++;
        if (text[k] === ":" && JSON.parse(text.slice(i, end)) === name) {
          k++;
          while (/\s/.test(text[k] ?? "")) k++;
          const start = k;
          let d = 0;
          for (; k < text.length; k++) {
            const ch = text[k];
            if (ch === '"') {
              k = skipString(k) - 1;
            } else if (ch === "{" || ch === "[") {
              d++;
            } else if (ch === "}" || ch === "]") {
              if (d === 0) break;
              d--;
              if (d === 0) {
                k++;
                break;
              }
            } else if (ch === "," && d === 0) {
              break;
            }
          }
          return text.slice(start, k).trim();
        }
      }
      i = end;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    if (c === "}" || c === "]") depth--;
    i++;
  }
  return null;
}

export const api = {
  head: () => call<HeadInfo>("waybill_head"),
  status: () => call<NodeStatus>("waybill_status"),
  validators: () => call<ValidatorInfo[]>("waybill_validators"),
  organizations: () => call<OrgRecord[]>("waybill_organizations"),
  block: (height: number) => call<StoredBlock | null>("waybill_getBlockByHeight", [height]),
  blockByHash: (hash: string) => call<StoredBlock | null>("waybill_getBlockByHash", [hash]),
  blockTxHashes: (height: number) => call<BlockTxHashes | null>("waybill_getBlockTxHashes", [height]),
  transaction: (hash: string) => call<TxInfo | null>("waybill_getTransaction", [hash]),
  item: (id: string) => call<ItemView | null>("waybill_getItem", [id]),
  history: (id: string, from = 0, limit = 100) => call<HistoryPage>("waybill_getItemHistory", [id, from, limit]),
  provenance: (id: string) => call<Provenance | null>("waybill_getProvenance", [id]),
  organization: (id: string) => call<OrgRecord | null>("waybill_getOrganization", [id]),
  organizationEvents: (id: string, from = 0, limit = 100) => call<HistoryPage>("waybill_getOrganizationEvents", [id, from, limit]),
  account: (key: string) => call<AccountView | null>("waybill_getAccount", [key]),
};

// ---- subscriptions ----

type Listener = (result: unknown) => void;

interface Wanted {
  method: string;
  params: unknown[];
  listener: Listener;
  id?: number;
}

/**
 * One WebSocket for the page's subscriptions. It reconnects with a growing pause when the node
 * goes away and subscribes again; `onState` hears whether the page is live.
 */
class Live {
  private ws: WebSocket | null = null;
  private wanted = new Set<Wanted>();
  private pending = new Map<number, Wanted>();
  private delay = 500;
  private states = new Set<(live: boolean) => void>();
  private timer: number | undefined;

  onState(f: (live: boolean) => void): void {
    this.states.add(f);
    f(this.ws?.readyState === WebSocket.OPEN);
  }

  subscribe(method: string, params: unknown[], listener: Listener): () => void {
    const w: Wanted = { method, params, listener };
    this.wanted.add(w);
    this.connect();
    if (this.ws?.readyState === WebSocket.OPEN) this.send(w);
    return () => {
      this.wanted.delete(w);
      if (w.id !== undefined && this.ws?.readyState === WebSocket.OPEN) {
        const un = method.replace("subscribe", "unsubscribe");
        this.ws.send(JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: un, params: [w.id] }));
      }
    };
  }

  private send(w: Wanted): void {
    const id = nextId++;
    this.pending.set(id, w);
    this.ws?.send(JSON.stringify({ jsonrpc: "2.0", id, method: w.method, params: w.params }));
  }

  private setState(live: boolean): void {
    for (const f of this.states) f(live);
  }

  private connect(): void {
    if (this.ws || this.timer !== undefined) return;
    const url = new URL("/", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url.toString());
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.setState(true);
      for (const w of this.wanted) this.send(w);
    };
    ws.onmessage = (ev) => {
      let msg: any;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (msg.id !== undefined && this.pending.has(msg.id)) {
        const w = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        if (typeof msg.result === "number" || typeof msg.result === "string") w.id = msg.result;
        return;
      }
      const sub = msg.params?.subscription;
      for (const w of this.wanted) if (w.id !== undefined && w.id === sub) w.listener(msg.params.result);
    };
    ws.onclose = () => {
      this.ws = null;
      this.pending.clear();
      for (const w of this.wanted) w.id = undefined;
      this.setState(false);
      this.timer = window.setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, 10_000);
    };
  }
}

export const live = new Live();

export function onBlock(f: (b: BlockSummary) => void): () => void {
  return live.subscribe("waybill_subscribeBlocks", [], (r) => f(r as BlockSummary));
}

export function onItemEvent(itemId: string, f: (e: ItemEvent) => void): () => void {
  return live.subscribe("waybill_subscribeItem", [itemId], (r) => f(r as ItemEvent));
}
