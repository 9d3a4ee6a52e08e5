// The genesis file the user trusts, pinned in this browser's local storage: the only input of a
// verdict. The node's word is never used in its place. Names and organizations shown in a
// verdict come from this file too (its validators and, when it has one, its ceremony record).

import { parseGenesis, type Genesis } from "../../clients/typescript/src/verify.js";

const KEY = "waybill.genesis";

export interface Member {
  name: string;
  consensus_key: string;
  power: number;
  /** Organization id and display name from the ceremony record, when the file has one. */
  organization?: string;
  organization_name?: string;
}

export interface Pinned {
  text: string;
  genesis: Genesis;
  chain_id: string;
  members: Member[];
  /** Organization id → display name, from `[[organizations]]` and the ceremony record. */
  organizations: Map<string, string>;
  total_power: number;
  quorum: number;
}

/** Reads the tables of a genesis TOML file this page needs (the SDK's parser reads the rest). */
function tables(text: string): { table: string; fields: Record<string, string> }[] {
  const out: { table: string; fields: Record<string, string> }[] = [{ table: "", fields: {} }];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?/.exec(line);
    if (header) {
      out.push({ table: header[1], fields: {} });
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^#]*)/.exec(line);
    if (!kv) continue;
    let value = kv[2].trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        continue;
      }
    }
    out[out.length - 1].fields[kv[1]] = value;
  }
  return out;
}

/** Parses a genesis file; throws with the reason when it is not one. */
export function readGenesis(text: string): Pinned {
  const genesis = parseGenesis(text);
  const all = tables(text);
  const validators = all.filter((t) => t.table === "validators");
  const ceremony = new Map(all.filter((t) => t.table === "ceremony.members").map((t) => [t.fields.consensus_key, t.fields]));
  const organizations = new Map<string, string>();
  for (const t of all) {
    if (t.table === "organizations" && t.fields.id) organizations.set(t.fields.id, t.fields.name ?? t.fields.id);
    if (t.table === "ceremony.members" && t.fields.organization) {
      organizations.set(t.fields.organization, t.fields.organization_name ?? t.fields.organization);
    }
  }
  const members: Member[] = genesis.validators.map((v, i) => {
    const c = ceremony.get(v.consensus_key);
    return {
      name: validators[i]?.fields.name ?? `validator ${i}`,
      consensus_key: v.consensus_key,
      power: v.power,
      organization: c?.organization,
      organization_name: c?.organization_name,
    };
  });
  const total = genesis.validators.reduce((n, v) => n + v.power, 0);
  return {
    text,
    genesis,
    chain_id: genesis.chain_id,
    members,
    organizations,
    total_power: total,
    quorum: Math.floor((2 * total) / 3) + 1,
  };
}

let listeners = new Set<(p: Pinned | null) => void>();

export function pinned(): Pinned | null {
  const text = localStorage.getItem(KEY);
  if (text === null) return null;
  try {
    return readGenesis(text);
  } catch {
    return null;
  }
}

/** Pins `text` after checking that it reads as a genesis file. */
export function pin(text: string): Pinned {
  const p = readGenesis(text);
  localStorage.setItem(KEY, text);
  for (const f of listeners) f(p);
  return p;
}

export function unpin(): void {
  localStorage.removeItem(KEY);
  for (const f of listeners) f(null);
}

export function onPinned(f: (p: Pinned | null) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** "validator-0 (Green Valley Farm)", from the pinned genesis. */
export function memberLabel(p: Pinned, key: string): string {
  const m = p.members.find((x) => x.consensus_key === key);
  if (!m) return `${key.slice(0, 12)}… (not a genesis validator)`;
  const org = m.organization_name ?? (m.organization ? p.organizations.get(m.organization) : undefined);
  return org ? `${m.name} (${org})` : m.name;
}
