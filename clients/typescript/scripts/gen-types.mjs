// Generates src/openrpc-types.ts from ../openrpc.json (what the node's rpc.discover answers;
// rpc/tests/openrpc_snapshot.rs keeps that file current, test/openrpc.test.ts keeps this output
// current). Run: npm run gen.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const OPENRPC = join(here, "..", "..", "openrpc.json");
export const OUTPUT = join(here, "..", "src", "openrpc-types.ts");

const ident = (name) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name));

function ts(schema, indent = "") {
  if (schema === true || !schema || Object.keys(schema).filter((k) => k !== "description").length === 0) return "unknown";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.oneOf) return schema.oneOf.map((s) => ts(s, indent)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.type)) return schema.type.map((t) => ts({ ...schema, type: t }, indent)).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `Array<${ts(schema.items, indent)}>`;
    case "object": {
      const props = schema.properties ?? {};
      const names = Object.keys(props);
      if (names.length === 0) {
        const extra = schema.additionalProperties;
        return extra && extra !== true ? `{ [key: string]: ${ts(extra, indent)} }` : "{ [key: string]: unknown }";
      }
      const required = new Set(schema.required ?? []);
      const inner = indent + "  ";
      const lines = names.map((n) => `${inner}${ident(n)}${required.has(n) ? "" : "?"}: ${ts(props[n], inner)};`);
      return `{\n${lines.join("\n")}\n${indent}}`;
    }
    default:
      return "unknown";
  }
}

/** The TypeScript module for an OpenRPC document. */
export function generate(doc) {
  const out = [
    "// Generated from clients/openrpc.json (the node's rpc.discover document) by",
    "// scripts/gen-types.mjs: do not edit. npm run gen regenerates it.",
    "",
  ];
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (schema.description) out.push(`/** ${schema.description.replace(/\*\//g, "* /")} */`);
    out.push(`export type ${name} = ${ts(schema)};`, "");
  }
  out.push("/** Every method: its positional parameters and its result. */", "export interface RpcMethods {");
  for (const m of doc.methods) {
    const params = m.params.map((p) => `${ident(p.name)}${p.required ? "" : "?"}: ${ts(p.schema, "    ")}`).join(", ");
    out.push(`  ${JSON.stringify(m.name)}: {`, `    params: [${params}];`, `    result: ${ts(m.result.schema, "    ")};`, "  };");
  }
  out.push("}", "");
  return out.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OUTPUT, generate(JSON.parse(readFileSync(OPENRPC, "utf8"))));
}
