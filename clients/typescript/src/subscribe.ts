// Subscriptions (RPC.md, waybill_subscribeBlocks / waybill_subscribeItem): over WebSocket, one
// connection per subscription; notifications are delivered to a callback until close().

import WebSocket from "ws";

import { WaybillError } from "./bytes.js";
import { RpcError } from "./rpc.js";
import type { BlockSummary, ItemEvent } from "./openrpc-types.js";

export class Subscription {
  private constructor(
    private readonly ws: WebSocket,
    readonly id: number,
    private readonly unsubscribeMethod: string,
  ) {}

  /** Opens a WebSocket to `url`, calls `method` with `params` and delivers each notification's result. */
  static open<T>(url: string, method: string, params: unknown[], unsubscribe: string, onResult: (result: T) => void): Promise<Subscription> {
    const ws = new WebSocket(url.replace(/^http/, "ws"));
    return new Promise((resolve, reject) => {
      let id: number | undefined;
      ws.on("error", (e) => reject(e));
      ws.on("open", () => ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params })));
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.id === 1) {
          if (msg.error) {
            reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
            ws.close();
            return;
          }
          id = msg.result;
          resolve(new Subscription(ws, msg.result, unsubscribe));
        } else if (msg.params && msg.params.subscription === id) {
          onResult(msg.params.result as T);
        }
      });
      ws.on("close", () => {
        if (id === undefined) reject(new WaybillError(`${method}: the connection closed before the subscription started`));
      });
    });
  }

  /** Unsubscribes and closes the connection. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve) => {
        this.ws.once("message", () => resolve());
        this.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: this.unsubscribeMethod, params: [this.id] }));
        setTimeout(resolve, 2000);
      });
    }
    this.ws.close();
  }
}

/** One `waybill_block` notification per committed block (RPC.md: a slow subscriber skips blocks). */
export function subscribeBlocks(url: string, onBlock: (block: BlockSummary) => void): Promise<Subscription> {
  return Subscription.open(url, "waybill_subscribeBlocks", [], "waybill_unsubscribeBlocks", onBlock);
}

/** One `waybill_itemEvent` per new event of `itemId`, in ledger order. */
export function subscribeItem(url: string, itemId: string, onEvent: (event: ItemEvent) => void): Promise<Subscription> {
  return Subscription.open(url, "waybill_subscribeItem", [itemId], "waybill_unsubscribeItem", onEvent);
}
