// Reading the docs' vectors and example proofs (the SDK is tested against the pages a stranger reads).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const DOCS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "docs");

export function doc(name: string): string {
  return readFileSync(join(DOCS, name), "utf8");
}

/** The code blocks of a markdown text, in order. */
export function codeBlocks(text: string): string[] {
  const out: string[] = [];
  const re = /```[a-z]*\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]);
  return out;
}

/** Rows of the first table after `heading`, each cell with backticks removed. */
export function table(text: string, heading: string): string[][] {
  const rest = text.split(heading)[1];
  if (rest === undefined) throw new Error(`no ${heading}`);
  const lines = rest.split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith("|")) break;
    rows.push(l.replace(/^\||\|$/g, "").split(" | ").map((c) => c.trim().replace(/^`|`$/g, "")));
  }
  return rows.slice(2);
}
