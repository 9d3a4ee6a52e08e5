// Key files (SIGNING.md, "Key files"): TOML with kind, public_key and secret_key, mode 0600.

import { readFileSync, statSync, writeFileSync } from "node:fs";
import * as ed from "@noble/ed25519";

import { fromHex, toHex, WaybillError } from "./bytes.js";
import { publicKeyOf } from "./tx.js";

export interface Key {
  kind: string;
  publicKey: string;
  secret: Uint8Array;
}

/** Parses a key file's text: exactly the three members, public key matching the secret. */
export function parseKeyFile(text: string, where = "key file"): Key {
  if (text.length > 4096) throw new WaybillError(`${where}: larger than 4096 bytes`);
  const members: Record<string, string> = {};
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-z_]+)\s*=\s*"([^"\\]*)"$/.exec(line);
    if (!m) throw new WaybillError(`${where}: line ${n + 1} is not name = "value"`);
    if (!["kind", "public_key", "secret_key"].includes(m[1])) throw new WaybillError(`${where}: unknown member ${m[1]}`);
    if (m[1] in members) throw new WaybillError(`${where}: member ${m[1]} given twice`);
    members[m[1]] = m[2];
  }
  for (const name of ["kind", "public_key", "secret_key"]) {
    if (!(name in members)) throw new WaybillError(`${where}: missing ${name}`);
  }
  const secret = fromHex(members.secret_key, `${where}: secret_key`);
  if (secret.length !== 32) throw new WaybillError(`${where}: secret_key must be 32 bytes (64 hex digits)`);
  const publicKey = publicKeyOf(secret);
  if (publicKey !== members.public_key) {
    throw new WaybillError(`${where}: public_key ${members.public_key} does not match the secret key (which gives ${publicKey})`);
  }
  return { kind: members.kind, publicKey, secret };
}

/** Reads a key file, refusing one that group or others can read (as the node does). */
export function readKeyFile(path: string): Key {
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== "win32" && mode & 0o077) {
    throw new WaybillError(`key file ${path} is readable by group or others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  return parseKeyFile(readFileSync(path, "utf8"), `key file ${path}`);
}

/** Writes a fresh key file with mode 0600; never overwrites. */
export function generateKeyFile(path: string, kind = "account"): Key {
  const { secretKey } = ed.keygen();
  const publicKey = publicKeyOf(secretKey);
  const text =
    `# Waybill ${kind} key. Secret: keep this file private (mode 0600).\n` +
    `kind = "${kind}"\npublic_key = "${publicKey}"\nsecret_key = "${toHex(secretKey)}"\n`;
  writeFileSync(path, text, { mode: 0o600, flag: "wx" });
  return { kind, publicKey, secret: secretKey };
}
