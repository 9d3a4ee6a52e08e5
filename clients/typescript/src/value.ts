// Typed canonical values (SIGNING.md, "Values inside signed objects"): item properties and
// reading values are signed as typed values, so 412.5 and 412.50 are one value and any JSON
// tool's re-save keeps a signature.

import { Reader, WaybillError, Writer } from "./bytes.js";

/** A JSON value as JavaScript holds it, or a {@link Decimal} given as exact text. */
export type Value = null | boolean | number | string | Decimal | Value[] | { [key: string]: Value };

export const MAX_SAFE_INTEGER = 2 ** 53 - 1;
const MAX_DIGITS = 15;
const MAX_EXPONENT = 300;
const MAX_DEPTH = 64;

/** A number given as its decimal text (`new Decimal("412.50")`), encoded from the text. */
export class Decimal {
  constructor(readonly text: string) {
    numberOf(text);
  }
  toJSON(): number {
    return Number(this.text);
  }
}

type Num = { kind: "integer"; value: bigint } | { kind: "decimal"; mantissa: bigint; exponent: number };

/** The canonical number of a JSON number text; refused if no JSON tool keeps it exactly. */
export function numberOf(text: string): Num {
  const m = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) throw new WaybillError(`${text} is not a JSON number`);
  const negative = m[1] === "-";
  const frac = m[3] ?? "";
  const expText = m[4] ?? "0";
  const exp = expText.replace(/^[+-]?0*/, "").length > 6 ? (expText.startsWith("-") ? -1e7 : 1e7) : Number(expText);
  const refused = () =>
    new WaybillError(
      `number ${text} cannot be kept exactly by every JSON tool: use an integer of at most 2^53 - 1, or at most 15 significant digits between 1e-300 and 1e300 (or a string)`,
    );
  const trimmed = (m[2] + frac).replace(/^0+/, "");
  if (trimmed === "") return { kind: "integer", value: 0n };
  const significant = trimmed.replace(/0+$/, "");
  const exponent = exp - frac.length + (trimmed.length - significant.length);
  const count = significant.length;
  if (exponent >= 0 && count + exponent <= 16) {
    const magnitude = BigInt(significant) * 10n ** BigInt(exponent);
    if (magnitude <= BigInt(MAX_SAFE_INTEGER)) return { kind: "integer", value: negative ? -magnitude : magnitude };
  }
  if (count > MAX_DIGITS || exponent < -MAX_EXPONENT || count + exponent > MAX_EXPONENT) throw refused();
  const mantissa = BigInt(significant);
  return { kind: "decimal", mantissa: negative ? -mantissa : mantissa, exponent };
}

function jsNumberText(n: number): string {
  if (!Number.isFinite(n)) throw new WaybillError(`${n} is not a JSON number`);
  return Object.is(n, -0) ? "0" : String(n).replace("e+", "e");
}

const utf8 = new TextEncoder();

function compareBytes(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Writes the canonical bytes of `v`. */
export function writeValue(w: Writer, v: Value, depth = 0): void {
  if (v === null) {
    w.u8(0);
  } else if (typeof v === "boolean") {
    w.u8(1).u8(v ? 1 : 0);
  } else if (typeof v === "number" || v instanceof Decimal) {
    const n = numberOf(typeof v === "number" ? jsNumberText(v) : v.text);
    if (n.kind === "integer") w.u8(2).int(n.value, 8);
    else w.u8(3).int(n.mantissa, 8).int(n.exponent, 2);
  } else if (typeof v === "string") {
    w.u8(4).str(v);
  } else {
    if (depth >= MAX_DEPTH) throw new WaybillError("value nested too deep");
    if (Array.isArray(v)) {
      w.u8(5).vec(v, (x) => writeValue(w, x, depth + 1));
    } else {
      const keys = Object.keys(v).sort(compareBytes);
      w.u8(6).uleb(keys.length);
      for (const k of keys) {
        w.str(k);
        writeValue(w, v[k], depth + 1);
      }
    }
  }
}

export function valueBytes(v: Value): Uint8Array {
  const w = new Writer();
  writeValue(w, v);
  return w.bytes();
}

/** Reads a value strictly (canonical forms only); numbers come back as JavaScript numbers. */
export function readValue(r: Reader, depth = 0): Value {
  switch (r.tag(7)) {
    case 0:
      return null;
    case 1:
      return r.tag(2) === 1;
    case 2: {
      const i = r.int(8, true);
      if (i > BigInt(MAX_SAFE_INTEGER) || i < -BigInt(MAX_SAFE_INTEGER)) throw new WaybillError("integer beyond 2^53 - 1");
      return Number(i);
    }
    case 3: {
      const m = r.int(8, true);
      const e = Number(r.int(2, true));
      const abs = m < 0n ? -m : m;
      const digits = abs.toString().length;
      if (m === 0n || m % 10n === 0n || abs >= 10n ** 15n || e < -MAX_EXPONENT || digits + e > MAX_EXPONENT) {
        throw new WaybillError("decimal not in canonical form");
      }
      if (e >= 0 && digits + e <= 16 && abs * 10n ** BigInt(e) <= BigInt(MAX_SAFE_INTEGER)) {
        throw new WaybillError("decimal that must be an integer");
      }
      return Number(`${m}e${e}`);
    }
    case 4:
      return r.str();
    case 5:
      if (depth >= MAX_DEPTH) throw new WaybillError("value nested too deep");
      return r.vec(() => readValue(r, depth + 1));
    default: {
      if (depth >= MAX_DEPTH) throw new WaybillError("value nested too deep");
      const out: { [key: string]: Value } = {};
      let last: string | null = null;
      for (let n = r.uleb(); n > 0; n--) {
        const k = r.str();
        if (last !== null && compareBytes(last, k) >= 0) throw new WaybillError("object members out of order");
        last = k;
        out[k] = readValue(r, depth + 1);
      }
      return out;
    }
  }
}

/** Nesting depth (SIGNING.md, "Nesting"): 0 for a scalar, 1 + the deepest element otherwise. */
export function depth(v: Value): number {
  if (v === null || typeof v !== "object" || v instanceof Decimal) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depth));
}
