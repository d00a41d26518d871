// What every browser test shares: the binary, a fresh demo network in a temporary folder,
// screenshots with axe-core on every page (no serious or critical violation), children that
// are stopped at the end whatever happens, and the local signer of each person's "own PC".
//
// A test: `import { run } from './harness.mjs'; run('name', async (t) => { … })`, run as
// `node tests/browser/name.mjs [path/to/gongwen]` (default target/debug/gongwen).

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.resolve(process.argv[2] ?? path.join(root, 'target', 'debug', 'gongwen'));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export function log(msg) {
  console.log(`  ✓ ${msg}`);
}

export function fail(msg) {
  throw new Error(msg);
}

export async function until(what, f, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`等候「${what}」逾時`);
}

/** A figure as the statistics pages print it: 「—」 when there is none (`null`). */
export function shown(v) {
  return v === null || v === undefined ? '—' : String(v);
}

/**
 * The rows of a table as the page shows them: each row (body, then foot) as the trimmed text
 * of its cells, headings and data alike.
 */
export async function rowsOf(table) {
  await table.waitFor();
  return table.locator('tbody tr, tfoot tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim())));
}

/** Fails unless the table shows exactly these rows (each cell's text, as printed). */
export async function sameRows(what, table, expected) {
  const rows = await rowsOf(table);
  const want = expected.map((r) => r.map((c) => String(c)));
  if (JSON.stringify(rows) !== JSON.stringify(want)) {
    fail(`${what}：頁面的表格與 JSON 匯出不同\n  頁面：${JSON.stringify(rows)}\n  匯出：${JSON.stringify(want)}`);
  }
  return rows.length;
}

/** One test's world: its folder, its artifacts, its ports, its children and its browser. */
class Test {
  constructor(name) {
    this.artifacts = path.join(root, 'target', 'browser-artifacts', name);
    fs.rmSync(this.artifacts, { recursive: true, force: true });
    fs.mkdirSync(this.artifacts, { recursive: true });
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `gongwen-browser-${name}-`));
    // Below the kernel's ephemeral range (from 32768), where any outgoing connection may take
    // a port; each test (and each run) in its own slice.
    this.base = 20000 + (process.pid % 600) * 20;
    this.children = [];
    this.step = 0;
  }

  /** A screenshot of the step, and axe-core on the page: no serious or critical violation. */
  async shot(page, name) {
    this.step += 1;
    const n = String(this.step).padStart(2, '0');
    await page.screenshot({ path: path.join(this.artifacts, `${n}-${name}.png`), fullPage: true });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (bad.length) {
      fs.writeFileSync(path.join(this.artifacts, `${n}-${name}-axe.json`), JSON.stringify(bad, null, 2));
      fail(`${name}：axe-core 找到 ${bad.length} 個嚴重的無障礙問題：${bad.map((v) => `${v.id}（${v.nodes.map((x) => x.target.join(' ')).slice(0, 3).join('、')}）`).join('；')}`);
    }
  }

  /** Starts a child of the binary and resolves when a line of its output matches. */
  start(args, ready) {
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      this.children.push(child);
      const lines = readline.createInterface({ input: child.stdout });
      const timer = setTimeout(() => reject(new Error(`${args[0]} 未在 120 秒內就緒`)), 120000);
      lines.on('line', (l) => {
        if (ready.test(l)) {
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.on('exit', (code) => reject(new Error(`${args.join(' ')} 結束（${code}）`)));
    });
  }

  /** Runs the binary to its end (a command of the CLI); resolves with what it printed. */
  exec(args) {
    return new Promise((resolve, reject) => {
      execFile(bin, args, { timeout: 60000 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`${args.slice(0, 2).join(' ')} 失敗：${e.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  /**
   * A statistics page against its own JSON export in the same browser session. Opens `url`
   * (screenshot and axe-core), follows the page's own JSON link (`a[href^="<json>?"]`, the
   * period the page shows), and calls `check(report)`, which compares the page's tables with
   * the report. Live numbers may move while the page is read: the export is fetched before and
   * after reloading the page, and the page is compared only when both are the same (apart
   * from `as_of`, the moment of computing); a few tries, then it fails.
   */
  async statsPage(page, url, json, name, check) {
    const linkOf = async () => {
      const link = page.locator(`a[href^="${json}?"]`).first();
      if ((await link.count()) === 0) fail(`${name}：頁面沒有「${json}」的匯出連結`);
      return new URL(await link.getAttribute('href'), page.url()).href;
    };
    const fetchReport = async (href) => {
      const r = await page.request.get(href);
      if (!r.ok()) fail(`${name}：${href} 應可下載（${r.status()} ${await r.text()}）`);
      if (!(r.headers()['content-type'] ?? '').startsWith('application/json')) fail(`${name}：${href} 應為 JSON`);
      return r.json();
    };
    const stable = (r) => JSON.stringify({ ...r, as_of: undefined });
    const opened = await page.goto(url);
    if (!opened.ok()) fail(`${name}：${url} 應可開啟（${opened.status()}）`);
    await this.shot(page, name);
    const href = await linkOf();
    for (let i = 0; i < 5; i += 1) {
      const before = await fetchReport(href);
      await page.reload();
      if ((await linkOf()) !== href) fail(`${name}：重新載入後的匯出期間不同`);
      const after = await fetchReport(href);
      if (stable(before) === stable(after)) {
        await check(after);
        return after;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    fail(`${name}：匯出的數字一直在變，無法比對`);
  }

  /** A fresh demo network in the test's folder: its `demo.json`. */
  async demo() {
    await this.start(['demo', '--dir', this.dir, '--port', String(this.base)], /^各服務的日誌/);
    return JSON.parse(fs.readFileSync(path.join(this.dir, 'demo.json'), 'utf8'));
  }

  /**
   * A browser context for a person at their own PC: their card in their own local signer
   * (`gongwen signer serve`, on a port of its own), which the pages' signer address reaches.
   */
  async person(card, signerPort, ownPort, origin) {
    await this.start(['signer', 'serve', '--cert', card.cert, '--key', card.key, '--listen', `127.0.0.1:${ownPort}`, '--origin', origin], /本機簽章程式已啟動/);
    const context = await this.browser.newContext({ locale: 'zh-TW', bypassCSP: true });
    await context.route(`http://127.0.0.1:${signerPort}/**`, (route) =>
      route.continue({ url: route.request().url().replace(`:${signerPort}/`, `:${ownPort}/`) }));
    return context.newPage();
  }

  async stop() {
    for (const c of this.children) {
      if (c.exitCode === null) c.kill('SIGINT');
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const c of this.children) {
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `main(test)` with a browser; exits 0 when it passes, 1 otherwise, after cleaning up. */
export async function run(name, main) {
  const t = new Test(name);
  let code = 0;
  try {
    console.log(`瀏覽器測試（${name}）：示範網路在 ${t.dir}，截圖在 ${t.artifacts}`);
    t.browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
    try {
      await main(t);
    } finally {
      await t.browser.close();
    }
    console.log(`瀏覽器測試（${name}）通過`);
  } catch (e) {
    console.error(`✗ ${e.message}`);
    code = 1;
  } finally {
    await t.stop();
    process.exit(code);
  }
}
