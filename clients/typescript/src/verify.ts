// Offline proof verifier (PROOFS.md) for every proof kind, trusting only the genesis file. All
// checks use the canonical bytes a proof carries; views are compared with what the bytes decode
// to, as values, so a proof re-saved by any JSON tool still verifies.

import { verifyEd25519 } from "./ed25519.js";
import { blake3 } from "@noble/hashes/blake3.js";

import { concat, equalBytes, fromHex, Reader, toHex, utf8Bytes, WaybillError, Writer } from "./bytes.js";
import { readSignedTransaction, SignedTransaction, tagged, TX_DOMAIN } from "./tx.js";
import { readValue } from "./value.js";
import { Receipt } from "./rpc.js";

export interface Genesis {
  chain_id: string;
  validators: { consensus_key: string; power: number }[];
}

export interface Check {
  name: string;
  passed: boolean;
  detail?: string;
}

export interface Report {
  ok: boolean;
  kind: string;
  checks: Check[];
}

const MAX_OBJECT_BYTES = 65536;
const H = (b: Uint8Array) => blake3(b);

/** The chain id and validators of a genesis TOML file (the only members a verifier needs). */
export function parseGenesis(toml: string): Genesis {
  let table = "";
  let chain_id: string | undefined;
  const validators: { consensus_key: string; power: number }[] = [];
  for (const raw of toml.split("\n")) {
    const line = raw.trim();
    const header = /^\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?/.exec(line);
    if (header) {
      table = header[1];
      if (line.startsWith("[[") && table === "validators") validators.push({ consensus_key: "", power: 1 });
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const value = kv[2].replace(/\s+#.*$/, "");
    if (table === "" && kv[1] === "chain_id") chain_id = JSON.parse(value);
    if (table === "validators" && validators.length) {
      const v = validators[validators.length - 1];
      if (kv[1] === "consensus_key") v.consensus_key = JSON.parse(value);
      if (kv[1] === "power") v.power = Number(value);
    }
  }
  if (chain_id === undefined || validators.length === 0 || validators.some((v) => !v.consensus_key)) {
    throw new WaybillError("genesis: needs chain_id and validators with consensus_key");
  }
  return { chain_id, validators };
}

/** Parses a proof file: JSON with no member twice anywhere. */
export function parseProof(text: string): any {
  const proof = JSON.parse(text);
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(name)) throw new WaybillError(`member ${JSON.stringify(name)} appears twice`);
        top.add(name);
        expectKey = false;
      }
      i = j;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return proof;
}

function same(decoded: unknown, view: unknown): boolean {
  if (typeof decoded === "bigint") return typeof view === "number" && Number(decoded) === view;
  if (decoded === null || typeof decoded !== "object") return decoded === view;
  if (Array.isArray(decoded)) {
    return Array.isArray(view) && view.length === decoded.length && decoded.every((d, i) => same(d, view[i]));
  }
  if (view === null || typeof view !== "object" || Array.isArray(view)) return false;
  const d = decoded as Record<string, unknown>;
  const v = view as Record<string, unknown>;
  if (Object.keys(v).some((k) => !(k in d))) return false;
  return Object.entries(d).every(([k, x]) =>
    k in v ? same(x, v[k]) : x === null || (Array.isArray(x) && !x.length) || (typeof x === "object" && !Object.keys(x as object).length),
  );
}

function attested<T>(obj: any, decode: (r: Reader) => T, what: string): [T, Uint8Array] {
  if (obj === null || typeof obj !== "object" || Object.keys(obj).sort().join() !== "bytes,view") {
    throw new WaybillError(`${what}: expected exactly the members bytes and view`);
  }
  const b = fromHex(obj.bytes, `${what}.bytes`);
  if (b.length > MAX_OBJECT_BYTES) throw new WaybillError(`${what}: more than ${MAX_OBJECT_BYTES} bytes`);
  const r = new Reader(b);
  const decoded = decode(r);
  r.done(what);
  if (!same(decoded, obj.view)) throw new WaybillError(`${what}: the view is not the object its bytes encode`);
  return [decoded, b];
}

interface Checkpoint {
  chain_id: string;
  height: number | bigint;
  block_hash: string;
  state_root: string;
  accumulator_root: string;
  accumulator_size: number | bigint;
}

const readCheckpoint = (r: Reader): Checkpoint => ({
  chain_id: r.str(),
  height: r.u64(),
  block_hash: r.fixedHex(32),
  state_root: r.fixedHex(32),
  accumulator_root: r.fixedHex(32),
  accumulator_size: r.u64(),
});

const readReceipt = (r: Reader): Receipt => {
  const base = { tx_hash: r.fixedHex(32), height: Number(r.u64()), index_in_block: r.u32(), ledger_index: Number(r.u64()) };
  const status: Receipt["status"] = r.tag(2) ? { failed: { code: r.str(), message: r.str() } } : "success";
  return { ...base, status };
};

// ---- Merkle proofs ----

const node = (l: Uint8Array, r: Uint8Array) => H(concat(Uint8Array.of(1), l, r));

function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: Uint8Array[], root: Uint8Array): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = node(p, r);
      while (!(fn & 1) && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

function verifyConsistency(m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, path: Uint8Array[]): boolean {
  if (!(0 < m && m <= n)) return false;
  if (m === n) return path.length === 0 && equalBytes(oldRoot, newRoot);
  if (!path.length) return false;
  if ((m & (m - 1)) === 0) path = [oldRoot, ...path];
  let fn = m - 1;
  let sn = n - 1;
  while (fn & 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (!(fn & 1) && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

const lenPrefixed = (b: Uint8Array) => concat(new Writer().uleb(b.length).bytes(), b);
const smtKeyHash = (k: Uint8Array) => H(tagged("waybill/smt-key/v1", lenPrefixed(k)));
const smtValueHash = (v: Uint8Array) => H(tagged("waybill/smt-value/v1", lenPrefixed(v)));
const smtLeaf = (kh: Uint8Array, vh: Uint8Array) => H(tagged("waybill/smt-leaf/v1", concat(kh, vh)));
const smtNode = (l: Uint8Array, r: Uint8Array) => H(tagged("waybill/smt-node/v1", concat(l, r)));
const bit = (h: Uint8Array, i: number) => (h[i >> 3] >> (7 - (i & 7))) & 1;

function verifySmt(proof: any, root: Uint8Array, key: Uint8Array, value: Uint8Array | null): boolean {
  const sib: Uint8Array[] = proof.siblings.map((x: string) => fromHex(x));
  if (sib.length > 256) return false;
  const kh = smtKeyHash(key);
  const leaf = proof.leaf;
  let h: Uint8Array;
  if (value !== null) {
    if (!leaf || !equalBytes(fromHex(leaf.key_hash), kh) || !equalBytes(fromHex(leaf.value_hash), smtValueHash(value))) return false;
    h = smtLeaf(kh, smtValueHash(value));
  } else if (leaf === null) {
    h = new Uint8Array(32);
  } else {
    const lk = fromHex(leaf.key_hash);
    if (equalBytes(lk, kh)) return false;
    for (let i = 0; i < sib.length; i++) if (bit(lk, i) !== bit(kh, i)) return false;
    h = smtLeaf(lk, fromHex(leaf.value_hash));
  }
  for (let i = sib.length - 1; i >= 0; i--) h = bit(kh, i) ? smtNode(sib[i], h) : smtNode(h, sib[i]);
  return equalBytes(h, root);
}

/** (id, history_len, history_digest) of an item state value (PROOFS.md, "Item state"). */
function itemState(raw: Uint8Array): [string, number, Uint8Array] {
  const r = new Reader(raw);
  const id = r.str();
  r.str();
  r.str();
  r.str();
  r.tag(3);
  for (let n = r.uleb(); n > 0; n--) {
    r.str();
    readValue(r);
  }
  r.opt(() => r.str());
  r.opt(() => r.u64());
  r.opt(() => r.str());
  r.vec(() => r.str());
  r.u32();
  r.vec(() => r.str());
  r.vec(() => r.str());
  r.u32();
  r.opt(() => r.str());
  const len = Number(r.u64());
  const digest = r.take(32);
  r.done("item state");
  return [id, len, digest];
}

function itemHead(raw: Uint8Array | null, itemId: string): [number, Uint8Array] | null {
  if (raw === null) return [0, new Uint8Array(32)];
  try {
    const [id, n, d] = itemState(raw);
    return id === itemId ? [n, d] : null;
  } catch {
    return null;
  }
}

function namedItems(p: Record<string, any>): string[] {
  const [kind, a] = Object.entries(p)[0];
  if (kind === "aggregate" || kind === "disaggregate") return [a.container_id, ...a.children];
  if (kind === "transform") return [...a.inputs, ...a.outputs.map((o: any) => o.item_id)];
  return "item_id" in a ? [a.item_id] : [];
}

// ---- checks ----

class Checks {
  checks: Check[] = [];
  check(name: string, passed: boolean, detail?: string): void {
    this.checks.push(detail === undefined ? { name, passed } : { name, passed, detail });
  }
}

function checkCertificate(c: Checks, name: string, cert: any, genesis: Genesis): Checkpoint {
  if (cert === null || typeof cert !== "object" || Object.keys(cert).sort().join() !== "checkpoint,signatures") {
    throw new WaybillError(`${name}: expected exactly the members checkpoint and signatures`);
  }
  const [cp, raw] = attested(cert.checkpoint, readCheckpoint, `${name}.checkpoint`);
  const msg = tagged("waybill/ledger-checkpoint/v1", raw);
  const power = new Map(genesis.validators.map((v) => [v.consensus_key, v.power]));
  const total = genesis.validators.reduce((n, v) => n + v.power, 0);
  const seen = new Set<string>();
  let got = 0;
  let ok = cp.chain_id === genesis.chain_id && cert.signatures.length <= 256;
  for (const v of cert.signatures) {
    if (Object.keys(v).sort().join() !== "signature,validator") throw new WaybillError(`${name}: a vote has other members`);
    const p = power.get(v.validator);
    if (p === undefined || seen.has(v.validator)) {
      ok = false;
      continue;
    }
    seen.add(v.validator);
    ok &&= verifyEd25519(fromHex(v.signature), msg, fromHex(v.validator));
    got += p;
  }
  c.check(name, ok && got >= Math.floor((2 * total) / 3) + 1, `power ${got} of ${total}`);
  return cp;
}

function checkEntry(c: Checks, prefix: string, e: any, cp: Checkpoint): [SignedTransaction, Receipt, Uint8Array] {
  const [stx, raw] = attested(e.transaction, readSignedTransaction, `${prefix}transaction`);
  const [r, rRaw] = attested(e.receipt, readReceipt, `${prefix}receipt`);
  const th = H(tagged(TX_DOMAIN, raw.subarray(0, raw.length - 64)));
  const size = Number(cp.accumulator_size);
  c.check(`${prefix}receipt.tx_hash`, r.tx_hash === toHex(th));
  c.check(`${prefix}receipt.ledger_index`, r.ledger_index === e.ledger_index);
  c.check(`${prefix}inclusion_proof.leaf_index`, e.inclusion_proof.leaf_index === e.ledger_index);
  c.check(`${prefix}inclusion_proof.tree_size`, e.inclusion_proof.tree_size === size);
  const leaf = H(concat(Uint8Array.of(0), tagged("waybill/tx-leaf/v1", concat(th, H(tagged("waybill/receipt/v1", rRaw))))));
  const path = e.inclusion_proof.path.map((p: string) => fromHex(p));
  c.check(`${prefix}inclusion_proof.path`, verifyInclusion(leaf, e.ledger_index, size, path, fromHex(cp.accumulator_root)));
  return [stx, r, raw];
}

function checkSignature(c: Checks, prefix: string, stx: SignedTransaction, raw: Uint8Array, genesis: Genesis): void {
  const ok = verifyEd25519(raw.subarray(raw.length - 64), tagged(TX_DOMAIN, raw.subarray(0, raw.length - 64)), fromHex(stx.tx.signer));
  c.check(`${prefix}signature`, ok && stx.tx.chain_id === genesis.chain_id);
}

function run(c: Checks, p: any, genesis: Genesis): void {
  switch (p.kind) {
    case "transaction": {
      const cp = checkCertificate(c, "certificate", p.certificate, genesis);
      const [stx, , raw] = checkEntry(c, "", p, cp);
      checkSignature(c, "transaction.", stx, raw, genesis);
      return;
    }
    case "item_state": {
      const cp = checkCertificate(c, "certificate", p.certificate, genesis);
      const value = p.value === null ? null : fromHex(p.value);
      c.check("value", itemHead(value, p.item_id) !== null);
      c.check("smt_proof", verifySmt(p.smt_proof, fromHex(cp.state_root), utf8Bytes(`item/${p.item_id}`), value));
      return;
    }
    case "history": {
      const cp = checkCertificate(c, "certificate", p.certificate, genesis);
      const entries: any[] = p.entries;
      c.check("entries", entries.length <= 10000);
      c.check("entries.order", entries.every((e, i) => i === 0 || entries[i - 1].ledger_index < e.ledger_index));
      const value = p.item_state.value === null ? null : fromHex(p.item_state.value);
      const head = itemHead(value, p.item_id);
      c.check("item_state.value", head !== null);
      c.check("item_state.smt_proof", verifySmt(p.item_state.smt_proof, fromHex(cp.state_root), utf8Bytes(`item/${p.item_id}`), value));
      const checked = entries.map((e, i) => {
        const [stx, r, raw] = checkEntry(c, `entry[${i}].`, e, cp);
        c.check(`entry[${i}].receipt.status`, r.status === "success");
        const payload = stx.tx.payload as Record<string, any>;
        c.check(`entry[${i}].item`, namedItems(payload).includes(p.item_id) || "accept_transfer" in payload);
        return [stx, raw] as const;
      });
      c.check("history_len", head !== null && entries.length === head[0]);
      let digest: Uint8Array = new Uint8Array(32);
      for (const [, raw] of checked) digest = H(tagged("waybill/item-history/v1", concat(digest, H(tagged(TX_DOMAIN, raw.subarray(0, raw.length - 64))))));
      c.check("history_digest", head !== null && equalBytes(digest, head[1]));
      checked.forEach(([stx, raw], i) => checkSignature(c, `entry[${i}].`, stx, raw, genesis));
      return;
    }
    case "consistency": {
      const older = checkCertificate(c, "older.certificate", p.older, genesis);
      const newer = checkCertificate(c, "newer.certificate", p.newer, genesis);
      const same = JSON.stringify(older, (_, v) => (typeof v === "bigint" ? v.toString() : v)) === JSON.stringify(newer, (_, v) => (typeof v === "bigint" ? v.toString() : v));
      c.check("heights", older.height < newer.height || (older.height === newer.height && same));
      const cpf = p.consistency_proof;
      const m = Number(older.accumulator_size);
      const n = Number(newer.accumulator_size);
      c.check("consistency_proof.old_size", cpf.old_size === m);
      c.check("consistency_proof.new_size", cpf.new_size === n);
      const path = cpf.path.map((x: string) => fromHex(x));
      c.check(
        "consistency_proof.path",
        (m === 0 && path.length === 0) || verifyConsistency(m, n, fromHex(older.accumulator_root), fromHex(newer.accumulator_root), path),
      );
      return;
    }
    default:
      c.check("kind", false, String(p.kind));
  }
}

/** Verifies a proof (a file's text or its parsed object) against the genesis file alone. */
export function verifyProof(proof: string | object, genesis: Genesis | string): Report {
  const g = typeof genesis === "string" ? parseGenesis(genesis) : genesis;
  const c = new Checks();
  let kind = "unknown";
  try {
    const p = typeof proof === "string" ? parseProof(proof) : proof;
    kind = String((p as any).kind);
    run(c, p, g);
  } catch (e) {
    c.check("well-formed", false, e instanceof Error ? e.message : String(e));
  }
  return { ok: c.checks.length > 0 && c.checks.every((x) => x.passed), kind, checks: c.checks };
}
