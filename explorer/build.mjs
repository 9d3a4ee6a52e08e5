// Builds the explorer into dist/ (index.html, app.js, app.css), which the waybill binary embeds
// (node/src/explorer.rs), so building Rust never needs npm. Deterministic: the same sources and
// the same package-lock.json give the same bytes.
//
//   node build.mjs           rebuild dist/
//   node build.mjs --check   rebuild into a temporary directory and fail, naming the file, if
//                            dist/ differs (node/tests/explorer_bundle.rs runs this)

import { build } from "esbuild";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "package.json"));
const FILES = ["index.html", "app.js", "app.css"];

// The SDK's sources (clients/typescript/src) import @noble/*: resolve them from this package's
// node_modules, locked by this package-lock.json, whether or not the SDK has its own installed.
const ownDependencies = {
  name: "own-dependencies",
  setup(b) {
    b.onResolve({ filter: /^@noble\// }, (args) => ({ path: require.resolve(args.path) }));
  },
};

async function buildInto(out) {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, "src/main.ts")],
    outfile: join(out, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
    plugins: [ownDependencies],
  });
  copyFileSync(join(here, "src/index.html"), join(out, "index.html"));
  copyFileSync(join(here, "src/style.css"), join(out, "app.css"));
}

const dist = join(here, "dist");
if (process.argv.includes("--check")) {
  const tmp = mkdtempSync(join(tmpdir(), "waybill-explorer-"));
  try {
    await buildInto(tmp);
    const stale = FILES.filter((f) => {
      try {
        return !readFileSync(join(tmp, f)).equals(readFileSync(join(dist, f)));
      } catch {
        return true;
      }
    });
    const extra = readdirSync(dist).filter((f) => !FILES.includes(f));
    if (stale.length || extra.length) {
      console.error(`explorer/dist is not what the sources build: ${[...stale, ...extra.map((f) => `${f} (not built)`)].join(", ")}. Run: cd explorer && npm ci && npm run build`);
      process.exit(1);
    }
    console.log(`explorer/dist is current (${FILES.join(", ")})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  rmSync(dist, { recursive: true, force: true });
  await buildInto(dist);
  console.log(`built ${FILES.map((f) => "dist/" + f).join(", ")}`);
}
