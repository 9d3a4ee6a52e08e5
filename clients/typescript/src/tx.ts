// Transactions (SIGNING.md): the JSON form the node takes, its canonical bytes, signing bytes,
// hash and signature, for every payload kind.

import * as ed from "@noble/ed25519";
import { verifyEd25519 } from "./ed25519.js";
import { blake3 } from "@noble/hashes/blake3.js";

import { concat, fromHex, Reader, toHex, utf8Bytes, WaybillError, Writer } from "./bytes.js";
import { readValue, Value, writeValue } from "./value.js";


export const TX_DOMAIN = "waybill/tx/v2";
export const MAX_TX_BYTES = 65536;

export type U64 = number | bigint;
export type TransferKind = "custody" | "ownership";
export type HashAlgorithm = "sha256" | "blake3";
export type Properties = { [key: string]: Value };
export interface Reading {
  kind: string;
  value: Value;
  unit?: string | null;
}
export interface NewItem {
  item_id: string;
  item_type: string;
  properties?: Properties;
}

/** One payload, externally tagged as in JSON: `{commission: {...}}`. */
export type Payload =
  | { memo: { data: string } }
  | { add_account: { organization: string; key: string; roles?: string[] } }
  | { remove_account: { organization: string; key: string } }
  | { set_account_roles: { organization: string; key: string; roles: string[] } }
  | { commission: { item_id: string; item_type: string; properties?: Properties; location?: string | null } }
  | { observe: { item_id: string; time_ms: U64; location?: string | null; readings?: Reading[] } }
  | { propose_transfer: { item_id: string; kind: TransferKind; to_organization: string } }
  | { accept_transfer: { item_id: string; kind: TransferKind } }
  | { reject_transfer: { item_id: string; kind: TransferKind } }
  | { cancel_transfer: { item_id: string; kind: TransferKind } }
  | { aggregate: { container_id: string; children: string[] } }
  | { disaggregate: { container_id: string; children: string[] } }
  | { transform: { inputs: string[]; outputs: NewItem[]; location?: string | null } }
  | {
      attach_document: { item_id: string; hash_algorithm: HashAlgorithm; hash: string; uri: string; media_type: string };
    }
  | { decommission: { item_id: string; reason?: string | null } };

export interface Transaction {
  chain_id: string;
  signer: string;
  sequence: U64;
  payload: Payload;
}

export interface SignedTransaction {
  tx: Transaction;
  signature: string;
}

/** Payload kinds in variant order: the index is the BCS variant. */
export const PAYLOAD_KINDS = [
  "memo",
  "add_account",
  "remove_account",
  "set_account_roles",
  "commission",
  "observe",
  "propose_transfer",
  "accept_transfer",
  "reject_transfer",
  "cancel_transfer",
  "aggregate",
  "disaggregate",
  "transform",
  "attach_document",
  "decommission",
] as const;

const TRANSFER_KINDS: TransferKind[] = ["custody", "ownership"];
const HASH_ALGORITHMS: HashAlgorithm[] = ["sha256", "blake3"];

function keyBytes(hex: string, what: string): Uint8Array {
  const b = fromHex(hex, what);
  if (b.length !== 32) throw new WaybillError(`${what}: expected 32 bytes (64 hex digits)`);
  return b;
}

function writeProperties(w: Writer, props: Properties = {}): void {
  // Sorted by the BCS bytes of the key: length first, then bytes.
  const entries = Object.keys(props).map((k) => ({ k, b: new Writer().str(k).bytes() }));
  entries.sort((x, y) => {
    for (let i = 0; i < Math.min(x.b.length, y.b.length); i++) if (x.b[i] !== y.b[i]) return x.b[i] - y.b[i];
    return x.b.length - y.b.length;
  });
  w.uleb(entries.length);
  for (const { k, b } of entries) {
    w.raw(b);
    writeValue(w, props[k]);
  }
}

function enumIndex<T extends string>(names: readonly T[], v: T, what: string): number {
  const i = names.indexOf(v);
  if (i < 0) throw new WaybillError(`${what}: expected one of ${names.join(", ")}`);
  return i;
}

export function writePayload(w: Writer, p: Payload): void {
  const kinds = Object.keys(p);
  if (kinds.length !== 1) throw new WaybillError("payload: expected exactly one member naming its kind");
  const kind = kinds[0] as (typeof PAYLOAD_KINDS)[number];
  const a = (p as Record<string, any>)[kind];
  w.uleb(enumIndex(PAYLOAD_KINDS, kind, "payload kind"));
  const str = (s: string) => w.str(s);
  switch (kind) {
    case "memo":
      w.blob(fromHex(a.data, "memo.data"));
      break;
    case "add_account":
    case "set_account_roles":
      w.str(a.organization).raw(keyBytes(a.key, "key")).vec(a.roles ?? [], str);
      break;
    case "remove_account":
      w.str(a.organization).raw(keyBytes(a.key, "key"));
      break;
    case "commission":
      w.str(a.item_id).str(a.item_type);
      writeProperties(w, a.properties);
      w.opt(a.location, str);
      break;
    case "observe":
      w.str(a.item_id).u64(a.time_ms).opt(a.location, str);
      w.vec(a.readings ?? [], (r: Reading) => {
        w.str(r.kind);
        writeValue(w, r.value);
        w.opt(r.unit, str);
      });
      break;
    case "propose_transfer":
      w.str(a.item_id).uleb(enumIndex(TRANSFER_KINDS, a.kind, "kind")).str(a.to_organization);
      break;
    case "accept_transfer":
    case "reject_transfer":
    case "cancel_transfer":
      w.str(a.item_id).uleb(enumIndex(TRANSFER_KINDS, a.kind, "kind"));
      break;
    case "aggregate":
    case "disaggregate":
      w.str(a.container_id).vec(a.children, str);
      break;
    case "transform":
      w.vec(a.inputs, str);
      w.vec(a.outputs, (o: NewItem) => {
        w.str(o.item_id).str(o.item_type);
        writeProperties(w, o.properties);
      });
      w.opt(a.location, str);
      break;
    case "attach_document":
      w.str(a.item_id)
        .uleb(enumIndex(HASH_ALGORITHMS, a.hash_algorithm, "hash_algorithm"))
        .raw(keyBytes(a.hash, "hash"))
        .str(a.uri)
        .str(a.media_type);
      break;
    case "decommission":
      w.str(a.item_id).opt(a.reason, str);
      break;
  }
}

function readProperties(r: Reader): Properties {
  const out: Properties = {};
  let last: Uint8Array | null = null;
  for (let n = r.uleb(); n > 0; n--) {
    const k = r.str();
    const kb = new Writer().str(k).bytes();
    if (last !== null) {
      let cmp = 0;
      for (let i = 0; i < Math.min(last.length, kb.length) && cmp === 0; i++) cmp = last[i] - kb[i];
      if (cmp > 0 || (cmp === 0 && last.length >= kb.length)) throw new WaybillError("properties out of order");
    }
    last = kb;
    out[k] = readValue(r);
  }
  return out;
}

export function readPayload(r: Reader): Payload {
  const kind = PAYLOAD_KINDS[r.tag(PAYLOAD_KINDS.length)];
  const s = () => r.str();
  const strs = () => r.vec(s);
  const transfer = () => TRANSFER_KINDS[r.tag(2)];
  switch (kind) {
    case "memo":
      return { memo: { data: r.blobHex() } };
    case "add_account":
      return { add_account: { organization: r.str(), key: r.fixedHex(32), roles: strs() } };
    case "set_account_roles":
      return { set_account_roles: { organization: r.str(), key: r.fixedHex(32), roles: strs() } };
    case "remove_account":
      return { remove_account: { organization: r.str(), key: r.fixedHex(32) } };
    case "commission":
      return {
        commission: { item_id: r.str(), item_type: r.str(), properties: readProperties(r), location: r.opt(s) },
      };
    case "observe": {
      const a = { item_id: r.str(), time_ms: r.u64(), location: r.opt(s) };
      const readings = r.vec(() => ({ kind: r.str(), value: readValue(r), unit: r.opt(s) }));
      return { observe: { ...a, readings } };
    }
    case "propose_transfer":
      return { propose_transfer: { item_id: r.str(), kind: transfer(), to_organization: r.str() } };
    case "accept_transfer":
      return { accept_transfer: { item_id: r.str(), kind: transfer() } };
    case "reject_transfer":
      return { reject_transfer: { item_id: r.str(), kind: transfer() } };
    case "cancel_transfer":
      return { cancel_transfer: { item_id: r.str(), kind: transfer() } };
    case "aggregate":
      return { aggregate: { container_id: r.str(), children: strs() } };
    case "disaggregate":
      return { disaggregate: { container_id: r.str(), children: strs() } };
    case "transform": {
      const inputs = strs();
      const outputs = r.vec(() => ({ item_id: r.str(), item_type: r.str(), properties: readProperties(r) }));
      return { transform: { inputs, outputs, location: r.opt(s) } };
    }
    case "attach_document":
      return {
        attach_document: {
          item_id: r.str(),
          hash_algorithm: HASH_ALGORITHMS[r.tag(2)],
          hash: r.fixedHex(32),
          uri: r.str(),
          media_type: r.str(),
        },
      };
    case "decommission":
      return { decommission: { item_id: r.str(), reason: r.opt(s) } };
  }
}

/** BCS(tx). */
export function txBytes(tx: Transaction): Uint8Array {
  const w = new Writer().str(tx.chain_id).raw(keyBytes(tx.signer, "signer")).u64(tx.sequence);
  writePayload(w, tx.payload);
  return w.bytes();
}

/** `signing_bytes(tag, body) = ULEB128(len(tag)) || tag || body`. */
export function tagged(tag: string, body: Uint8Array): Uint8Array {
  return concat(new Writer().str(tag).bytes(), body);
}

/** What the signature covers and the hash is taken of: `BCS(("waybill/tx/v2", tx))`. */
export function signingBytes(tx: Transaction): Uint8Array {
  return tagged(TX_DOMAIN, txBytes(tx));
}

export function txHash(tx: Transaction): string {
  return toHex(blake3(signingBytes(tx)));
}

/** Signs `tx` with a 32-byte Ed25519 secret (the RFC 8032 seed). */
export function signTransaction(tx: Transaction, secret: Uint8Array): SignedTransaction {
  const signer = toHex(ed.getPublicKey(secret));
  if (signer !== tx.signer) throw new WaybillError(`signer ${tx.signer} is not the key's public key ${signer}`);
  const bytes = signingBytes(tx);
  const signed = { tx, signature: toHex(ed.sign(bytes, secret)) };
  if (signedBytes(signed).length > MAX_TX_BYTES) throw new WaybillError(`transaction is larger than ${MAX_TX_BYTES} bytes`);
  return signed;
}

/** `BCS(signed) = BCS(tx) || signature`: what `waybill_submitRawTransaction` takes, as hex. */
export function signedBytes(s: SignedTransaction): Uint8Array {
  const sig = fromHex(s.signature, "signature");
  if (sig.length !== 64) throw new WaybillError("signature: expected 64 bytes");
  return concat(txBytes(s.tx), sig);
}

/** Decodes a signed transaction's canonical bytes strictly. */
export function readSignedTransaction(r: Reader): SignedTransaction {
  const tx: Transaction = { chain_id: r.str(), signer: r.fixedHex(32), sequence: r.u64(), payload: readPayload(r) };
  return { tx, signature: r.fixedHex(64) };
}

/** Whether `s`'s signature passes Waybill's rule (docs/SIGNING.md, "The signature rule"). */
export function verifySignature(s: SignedTransaction): boolean {
  try {
    return verifyEd25519(fromHex(s.signature), signingBytes(s.tx), fromHex(s.tx.signer));
  } catch {
    return false;
  }
}

export function publicKeyOf(secret: Uint8Array): string {
  return toHex(ed.getPublicKey(secret));
}

export { utf8Bytes };
