// Bytes, strict hex and BCS (SIGNING.md, "The canonical encoding: BCS").

/** A refused input: the message names what and where. */
export class WaybillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaybillError";
  }
}

/** Lower-case hex with no prefix, the only hex Waybill reads or writes. */
export function fromHex(hex: string, what = "hex"): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    throw new WaybillError(`${what}: expected lower-case hex digits with no 0x prefix`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** BCS writer. */
export class Writer {
  private parts: number[] = [];

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  u8(n: number): this {
    this.parts.push(n & 0xff);
    return this;
  }
  uleb(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new WaybillError(`length ${n} out of range`);
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      this.parts.push(b);
    } while (n);
    return this;
  }
  /** Little-endian integer of `size` bytes (two's complement when negative). */
  int(value: bigint | number, size: number): this {
    let v = BigInt(value);
    const bits = BigInt(size * 8);
    if (v < 0n) v += 1n << bits;
    if (v < 0n || v >= 1n << bits) throw new WaybillError(`${value} does not fit in ${size} bytes`);
    for (let i = 0; i < size; i++) {
      this.parts.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this;
  }
  u64(value: bigint | number): this {
    if (typeof value === "number" && (!Number.isSafeInteger(value) || value < 0)) {
      throw new WaybillError(`${value} is not an exact u64: pass a bigint`);
    }
    return this.int(value, 8);
  }
  str(s: string): this {
    const b = utf8.encode(s);
    return this.uleb(b.length).raw(b);
  }
  blob(b: Uint8Array): this {
    return this.uleb(b.length).raw(b);
  }
  fixed(b: Uint8Array, n: number, what: string): this {
    if (b.length !== n) throw new WaybillError(`${what}: expected ${n} bytes, got ${b.length}`);
    return this.raw(b);
  }
  opt<T>(v: T | null | undefined, f: (v: T) => void): this {
    if (v === null || v === undefined) return this.u8(0);
    this.u8(1);
    f(v);
    return this;
  }
  vec<T>(xs: readonly T[], f: (x: T) => void): this {
    this.uleb(xs.length);
    xs.forEach(f);
    return this;
  }
}

/** Strict BCS reader: minimal ULEB128, valid UTF-8, tags in range, nothing left over. */
export class Reader {
  private i = 0;
  constructor(private readonly b: Uint8Array) {}

  take(n: number): Uint8Array {
    if (this.i + n > this.b.length) throw new WaybillError("canonical bytes are truncated");
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  uleb(): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) throw new WaybillError("ULEB128 longer than 32 bits");
      const b = this.take(1)[0];
      n += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) {
        if (b === 0 && shift > 0) throw new WaybillError("ULEB128 is not minimal");
        if (n > 0xffffffff) throw new WaybillError("ULEB128 longer than 32 bits");
        return n;
      }
    }
  }
  tag(limit: number): number {
    const t = this.uleb();
    if (t >= limit) throw new WaybillError(`variant ${t} out of range`);
    return t;
  }
  int(size: number, signed = false): bigint {
    const b = this.take(size);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (signed && v >= 1n << BigInt(size * 8 - 1)) v -= 1n << BigInt(size * 8);
    return v;
  }
  /** A u64 as a number when exact, else a bigint. */
  u64(): number | bigint {
    const v = this.int(8);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  u32(): number {
    return Number(this.int(4));
  }
  str(): string {
    try {
      return utf8Strict.decode(this.take(this.uleb()));
    } catch (e) {
      if (e instanceof WaybillError) throw e;
      throw new WaybillError("invalid UTF-8 in a string");
    }
  }
  blobHex(): string {
    return toHex(this.take(this.uleb()));
  }
  fixedHex(n: number): string {
    return toHex(this.take(n));
  }
  opt<T>(f: () => T): T | null {
    return this.tag(2) ? f() : null;
  }
  vec<T>(f: () => T): T[] {
    const n = this.uleb();
    const out: T[] = [];
    for (let k = 0; k < n; k++) out.push(f());
    return out;
  }
  done(what: string): void {
    if (this.i !== this.b.length) throw new WaybillError(`${this.b.length - this.i} bytes left over after the ${what}`);
  }
}

export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}
