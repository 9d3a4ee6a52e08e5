// The explorer in a real browser: Debian's chromium, headless, driven by playwright-core, against
// a live local network on which node/tests/explorer.rs has told the supply-chain story. It sets:
//   WAYBILL_EXPLORER_URL  the page (http://127.0.0.1:PORT/explorer/)
//   WAYBILL_GENESIS       the network's genesis file (what a user pins)
//   WAYBILL_FAILED_TX     the hash of the story's failed transaction
//   WAYBILL_ARTIFACTS     where screenshots and downloaded proofs go (outside the repository)
//   WAYBILL_CHROMIUM      the browser (default /usr/bin/chromium)
// Without WAYBILL_EXPLORER_URL every test is skipped with a message.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BASE = process.env.WAYBILL_EXPLORER_URL;
const GENESIS = process.env.WAYBILL_GENESIS;
const FAILED_TX = process.env.WAYBILL_FAILED_TX;
const ARTIFACTS = process.env.WAYBILL_ARTIFACTS ?? join(tmpdir(), "waybill-explorer-artifacts");
const CHROMIUM = process.env.WAYBILL_CHROMIUM ?? "/usr/bin/chromium";
const skip = BASE ? false : "WAYBILL_EXPLORER_URL is not set: run through node/tests/explorer.rs";

let context;
let page;

async function shot(name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Loads the page afresh at `route` (a new document: its WebSocket and focus start anew). */
async function open(route) {
  await page.goto("about:blank");
  await page.goto(`${BASE}#${route}`);
  await page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") !== "true" && document.querySelector("main h1"));
}

/** Navigates by changing the hash, as a click on a link does. */
async function go(route) {
  await page.evaluate((r) => (location.hash = "#" + r), route);
  await page.waitForFunction((r) => document.querySelector("main")?.dataset.page === r && document.querySelector("main")?.getAttribute("aria-busy") !== "true", route);
}

describe("the explorer in headless chromium", { skip }, () => {
  before(async () => {
    const { chromium } = await import("playwright-core");
    mkdirSync(ARTIFACTS, { recursive: true });
    // An empty profile of its own (the closed network refuses chromium's background calls).
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "waybill-chromium-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => console.error("page error:", e));
    page.on("console", (m) => m.type() === "error" && console.error("console:", m.text()));
  });

  after(async () => {
    await context?.close();
  });

  test("pages load and navigate", async () => {
    await open("/");
    assert.equal(await page.textContent("main h1"), "Ledger head");
    assert.ok(Number(await page.getAttribute("[data-head-height]", "data-head-height")) > 0);
    assert.ok((await page.locator("#latest-blocks tbody tr").count()) > 0);
    await shot("head-1280");

    await page.click("header nav >> text=Validators");
    await page.waitForSelector("main h1:text('Validators')");
    const rows = page.locator("main table tbody tr");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 4);
    const validators = await page.textContent("main table");
    for (const org of ["Green Valley Farm", "Fresh Foods Processing", "Coastal Logistics", "City Grocers"]) assert.match(validators, new RegExp(org));
    assert.match(validators, /this node/);
    assert.match(validators, /connected/);
    await shot("validators-1280");

    await page.click("header nav >> text=Blocks");
    await page.waitForSelector("main h1:text('Blocks')");
    await page.locator("main table tbody tr a").first().click();
    await page.waitForFunction(() => /^Block \d+$/.test(document.querySelector("main h1")?.textContent ?? ""));
    assert.match(await page.textContent("main"), /Committed by the certificate of/);

    await page.click("header nav >> text=Organizations");
    await page.waitForSelector("main h1:text('Organizations')");
    assert.equal(await page.locator("main table tbody tr").count(), 4);
    await page.click("main a[href='#/org/shipper']");
    await page.waitForSelector("main h1:text('Coastal Logistics')");
    assert.match(await page.textContent("main"), /custody accepted/);
    await shot("organization-1280");

    // Search goes straight to the one match.
    await page.fill("#search", "pallet-1");
    await page.press("#search", "Enter");
    await page.waitForSelector("main h1:text('Item pallet-1')");
    const timeline = page.locator("#timeline li");
    assert.equal(await timeline.count(), 9, "the pallet's nine events");
    assert.match(await page.textContent("#timeline"), /custody accepted by retailer/);
    assert.match(await page.textContent("#timeline"), /temperature 4\.5 Cel/);
    assert.match(await page.textContent("main"), /Custody over time/);
    await shot("item-pallet-1280");

    // A transaction, and from it the signer's account.
    await timeline.first().locator("a[href^='#/tx/']").click();
    await page.waitForSelector("main h1:text('Transaction: commission')");
    assert.match(await page.textContent("main"), /Commissions pallet-1, a pallet/);
    await page.locator("main a[href^='#/account/']").first().click();
    await page.waitForSelector("main h1:text('Account')");
    assert.match(await page.textContent("main"), /processor/);

    // The failed transaction is clearly marked, with its code.
    await open(`/tx/${FAILED_TX}`);
    assert.match(await page.textContent("main"), /This transaction failed: not_custodian/);
    assert.equal(await page.locator(".badge.bad").first().textContent(), "failed: not_custodian");
    await shot("tx-failed-1280");

    // Search by height and by transaction hash.
    await page.fill("#search", "1");
    await page.press("#search", "Enter");
    await page.waitForSelector("main h1:text('Block 1')");
    await page.fill("#search", FAILED_TX);
    await page.press("#search", "Enter");
    await page.waitForSelector("main h1:text('Transaction: observe')");
  });

  test("a subscription updates the head", async () => {
    const frames = [];
    page.on("websocket", (ws) => ws.on("framereceived", (f) => frames.push(String(f.payload))));
    await open("/");
    await page.waitForSelector("#live.on");
    const first = Number(await page.getAttribute("[data-head-height]", "data-head-height"));
    await page.waitForFunction((h) => Number(document.querySelector("[data-head-height]")?.getAttribute("data-head-height")) > h, first, { timeout: 20_000 });
    const later = Number(await page.getAttribute("[data-head-height]", "data-head-height"));
    assert.ok(later > first);
    // The page does not poll: the new head came as a waybill_block notification.
    const notified = frames.filter((f) => f.includes('"waybill_block"')).map((f) => JSON.parse(f).params.result.height);
    assert.ok(notified.includes(later), `height ${later} not among the notifications ${notified}`);
    // The list of latest blocks moved with it.
    const [shown, top] = await page.evaluate(() => [
      document.querySelector("[data-head-height]")?.getAttribute("data-head-height"),
      document.querySelector("#latest-blocks tbody tr td a")?.textContent,
    ]);
    assert.equal(top, shown);
  });

  test("a genuine proof verifies, a tampered one fails naming the field", async () => {
    await open("/audit");
    await page.setInputFiles("#genesis-file", GENESIS);
    await page.waitForSelector("#pinned");
    assert.match(await page.textContent("#pinned"), /Green Valley Farm/);

    // The whole history of the pallet, verified in the browser.
    await go("/item/pallet-1");
    await page.click("button:text('Verify whole history')");
    const verdict = page.locator("[data-verdict]").first();
    await verdict.waitFor({ timeout: 30_000 });
    assert.equal(await verdict.getAttribute("data-verdict"), "verified", await verdict.textContent());
    const said = await verdict.textContent();
    assert.match(said, /whole history of item pallet-1 is proven complete and in order: 9 events/);
    assert.match(said, /signed by [34] of 4 validators/);
    assert.match(said, /validator-\d \((Green Valley Farm|Fresh Foods Processing|Coastal Logistics|City Grocers)\)/);
    assert.match(said, /block time \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    await shot("verified-history-1280");
    const [history] = await Promise.all([page.waitForEvent("download"), page.click("[data-download]")]);
    await history.saveAs(join(ARTIFACTS, "history-pallet-1.proof.json"));

    // A transaction proof, downloaded, then tampered with.
    await go(`/tx/${FAILED_TX}`);
    await page.click("button:text('Verify this transaction')");
    await page.locator("[data-verdict='verified']").waitFor({ timeout: 30_000 });
    assert.match(await page.textContent("[data-verdict]"), /it failed with not_custodian/);
    const [txDownload] = await Promise.all([page.waitForEvent("download"), page.click("[data-download]")]);
    const txPath = join(ARTIFACTS, "tx-failed.proof.json");
    await txDownload.saveAs(txPath);
    const genuine = readFileSync(txPath, "utf8");

    const flipLast = (s) => s.slice(0, -1) + (s.endsWith("0") ? "1" : "0");
    const tampers = [
      ["inclusion_proof.path", (p) => (p.inclusion_proof.path[0] = flipLast(p.inclusion_proof.path[0]))],
      ["certificate", (p) => (p.certificate.signatures[0].signature = flipLast(p.certificate.signatures[0].signature))],
      ["receipt.tx_hash", (p) => {
        // A receipt for another transaction, bytes and view alike.
        const hash = p.receipt.view.tx_hash;
        p.receipt.view.tx_hash = flipLast(hash);
        p.receipt.bytes = p.receipt.bytes.replace(hash, flipLast(hash));
      }],
    ];
    await go("/audit");
    for (const [field, tamper] of tampers) {
      const proof = JSON.parse(genuine);
      tamper(proof);
      const path = join(ARTIFACTS, `tx-tampered-${field}.proof.json`);
      writeFileSync(path, JSON.stringify(proof, null, 2));
      await page.setInputFiles("#proof-file", path);
      const out = page.locator("#proof-file-verdict [data-verdict]");
      await out.waitFor();
      assert.equal(await out.getAttribute("data-verdict"), "failed", `tampered ${field} verified`);
      assert.equal(await out.getAttribute("data-field"), field);
      assert.match(await out.textContent(), new RegExp(`The check ${field.replace(".", "\\.")} failed`));
      await shot(`tampered-${field}-1280`);
      await page.setInputFiles("#proof-file", []);
    }
    // The genuine file verifies from the same input.
    await page.setInputFiles("#proof-file", txPath);
    await page.locator("#proof-file-verdict [data-verdict='verified']").waitFor();
  });

  test("the provenance graph of the story's pallet shows its cases", async () => {
    await open("/item/pallet-1");
    const graph = page.locator("svg.graph");
    await graph.waitFor();
    for (const c of ["case-1", "case-2"]) {
      assert.equal(await graph.locator(`[data-item='${c}']`).count(), 1, `${c} drawn`);
      assert.equal(await graph.locator(`[data-edge='pallet-1 contains ${c}']`).count(), 1, `pallet-1 contains ${c}`);
    }
    assert.match(await page.textContent(".provenance"), /pallet-1 contains case-1/);
    await shot("provenance-pallet-1280");
    // A case: made from both lots (transformation), packed in the pallet (aggregation).
    await graph.locator("[data-item='case-1']").click();
    await page.waitForSelector("main h1:text('Item case-1')");
    const g = page.locator("svg.graph");
    for (const edge of ["case-1 made_from lot-1", "case-1 made_from lot-2", "case-1 packed_in pallet-1"]) {
      assert.equal(await g.locator(`[data-edge='${edge}']`).count(), 1, edge);
    }
    await shot("provenance-case-1280");
  });

  test("keyboard, contrast, 1280 px and phone width", async () => {
    await open("/");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    // Tab to the Validators link and follow it with Enter: focus lands on the new page's heading.
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== "Validators"; i++) await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Validators");
    await page.keyboard.press("Enter");
    await page.waitForSelector("main h1:text('Validators')");
    await page.waitForFunction(() => document.activeElement?.tagName === "H1");
    // The graph's nodes are links a keyboard reaches.
    await go("/item/pallet-1");
    assert.equal(await page.locator("svg.graph a[href]").count(), 3);

    // Every text on its background: WCAG AA, 4.5:1.
    const contrast = () => page.evaluate(() => {
      const rgb = (c) => c.match(/[\d.]+/g).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const c = rgb(getComputedStyle(e).backgroundColor);
          if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const out = [];
      for (const el of document.querySelectorAll("body *")) {
        if (!el.childNodes.length || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        if (el.closest("svg")) continue;
        const fg = rgb(getComputedStyle(el).color).slice(0, 3);
        const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
        const ratio = (a + 0.05) / (b + 0.05);
        if (ratio < 4.5) out.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
      }
      return out;
    });
    for (const route of ["/", "/validators", "/item/pallet-1", `/tx/${FAILED_TX}`, "/audit"]) {
      await open(route);
      assert.deepEqual(await contrast(), [], `text below 4.5:1 on ${route}`);
    }

    // No sideways scrolling of the page at either width (wide tables scroll in their own box).
    for (const [width, height, name] of [
      [1280, 900, "1280"],
      [375, 800, "phone"],
    ]) {
      await page.setViewportSize({ width, height });
      for (const route of ["/", "/validators", "/item/pallet-1", `/tx/${FAILED_TX}`, "/audit"]) {
        await open(route);
        const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        assert.ok(scroll <= inner, `${route} at ${width} px is ${scroll} px wide`);
      }
      await open("/item/pallet-1");
      await shot(`item-pallet-${name}`);
    }
  });
});
