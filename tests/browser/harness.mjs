// What every browser test shares: the binary, a fresh demo network in a temporary folder,
// screenshots with axe-core on every page (no serious or critical violation), children that
// are stopped at the end whatever happens, and the local signer of each person's "own PC".
//
// A test: `import { run } from './harness.mjs'; run('name', async (t) => { … })`, run as
// `node tests/browser/name.mjs [path/to/gongwen]` (default target/debug/gongwen).

import { spawn } from 'node:child_process';
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
