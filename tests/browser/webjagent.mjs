// 網頁版（WebjAgent）瀏覽器測試：以 Debian 的 chromium 與 playwright-core，像使用者一樣操作示範網路。
// The web client driven as people use it, on a fresh demo network:
//   an association signs in with its card, writes a 函 with two levels of 說明 and a PDF, sends it
//   to a bureau (正本) and a school (副本, 含附件); the bureau's folder agent receives it; the school
//   signs for it in the browser; the bureau returns it with a reason (its document system, the
//   API); the association sees both statuses and prints the duty list; then it writes, previews
//   and sends a 書函, a 公告 and a 開會通知單 (出席者／列席者, 聯絡人及電話), and the school receives
//   each. Bad input on the way.
// Screenshots of every step go to target/browser-artifacts/webjagent/; every page is checked with axe-core
// (no serious or critical violation), the directory's public pages too.
//
// Usage: node tests/browser/webjagent.mjs [path/to/gongwen]   (default target/debug/gongwen)

import fs from 'node:fs';
import path from 'node:path';
import { fail, log, root, rowsOf, run, sameRows, shown, until } from './harness.mjs';

const BUREAU = '379130000C';
const SCHOOL = '395450100A';

async function signIn(page, url) {
  await page.goto(`${url}/login`);
  await page.getByRole('button', { name: '以憑證登入' }).click();
  await page.waitForURL(`${url}/inbox`);
}

run('webjagent', async (t) => {
  const { dir, base, artifacts, browser } = t;
  const state = await t.demo();
  const tn = `http://127.0.0.1:${state.ports.agent_tn}`;
  const tp = `http://127.0.0.1:${state.ports.agent_tp}`;
  const token = (code) => state.tokens.find(([c]) => c === code)[1];
  log('示範網路已啟動（通訊錄、臺北市與臺南市交換中心、兩個代理程式、協會的本機簽章程式）');

  {
    // 1. The association signs in with its card (the local signer on this machine).
    const assoc = await (await browser.newContext({ locale: 'zh-TW', bypassCSP: true })).newPage();
    await assoc.goto(`${tn}/inbox`);
    if (!assoc.url().endsWith('/login')) fail('未登入時應導向登入頁');
    await t.shot(assoc, 'login');
    await signIn(assoc, tn);
    await assoc.getByText('臺北市政府教育局', { exact: false }).first().waitFor();
    await t.shot(assoc, 'association-inbox');
    log('協會以憑證卡登入，收文清單有教育局的來文');

    // 2. Compose a 函: 速件, 說明 with two levels, a PDF, 正本 the bureau, 副本 the school with attachments.
    await assoc.getByRole('link', { name: '撰寫' }).click();
    await assoc.getByLabel('文別').selectOption('函');
    await assoc.getByLabel('速別').selectOption('速件');
    await assoc.getByLabel('主旨').fill('邀請貴局派員出席本會115年度會員大會，請查照。');
    await assoc.getByLabel('說明', { exact: true }).fill('依據本會章程第十條辦理。\n大會議程如下：\n　上午：會務報告\n　下午：社區營造經驗分享\n敬請於115年2月10日前回復出席名單。');
    await assoc.getByLabel('查詢通訊錄（名稱或代碼，臺／台不分）').fill('台北市政府教育局');
    // The box suggests from the address book (臺／台 alike); take the suggestion as people do.
    await until('通訊錄建議', async () => (await assoc.locator('#book option').count()) > 0);
    const suggestion = await assoc.locator('#book option').first().getAttribute('value');
    if (!suggestion.startsWith(BUREAU)) fail(`通訊錄建議應為教育局，實為 ${suggestion}`);
    await assoc.getByLabel('查詢通訊錄（名稱或代碼，臺／台不分）').fill(suggestion);
    await assoc.getByRole('button', { name: '加入正本' }).click();
    await assoc.getByLabel('查詢通訊錄（名稱或代碼，臺／台不分）').fill(`${SCHOOL} 臺南市立大光國民小學`);
    await assoc.getByRole('button', { name: '加入副本' }).click();
    await assoc.getByLabel('副本含附件').check();

    // Bad input first: a Word file is refused with the format rule, nothing typed is lost.
    const docx = path.join(dir, '議程.docx');
    fs.writeFileSync(docx, 'PK not really a word file');
    await assoc.locator('input[type=file]').setInputFiles(docx);
    await assoc.getByRole('button', { name: '送出' }).click();
    await assoc.getByRole('alert').waitFor();
    const alert = await assoc.getByRole('alert').innerText();
    if (!alert.includes('ODF')) fail(`應說明附件格式規定：${alert}`);
    if (!(await assoc.getByLabel('說明', { exact: true }).inputValue()).includes('社區營造經驗分享')) fail('退回的表單應保留說明');
    if (!(await assoc.getByLabel('正本', { exact: true }).inputValue()).includes(BUREAU)) fail('退回的表單應保留正本');
    await t.shot(assoc, 'compose-refused-word-file');
    log('附件為 Word 檔：拒收並說明 ODF／PDF 規定，已輸入的內容都保留');

    const pdf = path.join(dir, '大會議程.pdf');
    fs.copyFileSync(path.join(root, 'examples', 'attachments', 'plan.pdf'), pdf);
    await assoc.locator('input[type=file]').setInputFiles(pdf);
    await assoc.getByLabel('副本含附件').check();
    await assoc.getByLabel('附件說明（例：計畫書1份）').fill('大會議程1份');
    await t.shot(assoc, 'compose');
    const [preview] = await Promise.all([
      assoc.waitForResponse((r) => r.url().endsWith('/compose/preview')),
      assoc.getByRole('button', { name: '預覽（PDF）' }).click(),
    ]);
    if (preview.headers()['content-type'] !== 'application/pdf') fail(`預覽應為 PDF：${preview.status()}`);
    fs.writeFileSync(path.join(artifacts, 'preview.pdf'), await preview.body());
    await t.shot(assoc, 'compose-preview');
    await assoc.getByRole('button', { name: '送出' }).click();
    await assoc.getByText('已送出').first().waitFor();
    const sentText = await assoc.locator('main').innerText();
    const number = (sentText.match(/南社營字第\d+號/) ?? [])[0];
    if (!number) fail(`應顯示配給的發文字號：${sentText}`);
    await t.shot(assoc, 'sent-confirmation');
    log(`協會撰寫並送出 ${number}（正本教育局、副本國小含附件，附 PDF）`);

    // 3. The bureau's folder agent receives it: the whole set in its inbox folder.
    const bureauInbox = path.join(dir, 'agent-tp', `${BUREAU}-臺北市政府教育局`, 'inbox');
    let id;
    await until('教育局的收文資料夾', async () => {
      for (const e of fs.existsSync(bureauInbox) ? fs.readdirSync(bureauInbox) : []) {
        const receipt = path.join(bureauInbox, e, 'receipt.json');
        if (fs.existsSync(receipt) && JSON.parse(fs.readFileSync(receipt, 'utf8')).doc_number === number) {
          id = e;
          return true;
        }
      }
      return false;
    });
    const files = fs.readdirSync(path.join(bureauInbox, id));
    if (!files.some((f) => f.endsWith('.di')) || !files.some((f) => f.endsWith('.pdf'))) fail(`收文資料夾應有 DI 與附件：${files}`);
    log(`教育局的資料夾代理程式收到：${files.join('、')}`);

    // 4. The school signs for it in the browser, with its own card (its own signer, on "its" PC).
    const schoolCard = state.cards.find(([c]) => c === SCHOOL);
    const schoolSignerPort = base + 15;
    const school = await t.person({ cert: schoolCard[1], key: schoolCard[2] }, state.ports.signer, schoolSignerPort, tn);
    await signIn(school, tn);
    await school.getByRole('link', { name: /邀請貴局派員出席/ }).click();
    await school.getByText('副本').first().waitFor();
    await t.shot(school, 'school-document');
    await school.getByRole('button', { name: '簽收' }).click();
    await school.getByText('已簽收').first().waitFor();
    await t.shot(school, 'school-confirmed');
    const print = await school.request.get(`${tn}/inbox/${id}/print.pdf`);
    if (print.headers()['content-type'] !== 'application/pdf') fail('列印應為 PDF');
    fs.writeFileSync(path.join(artifacts, 'school-print-with-stamp.pdf'), await print.body());
    log('國小以自己的憑證卡登入網頁版、開啟公文並簽收；列印含電子公文交換戳記');

    // 5. The bureau returns it with a reason, from its document system (the API).
    const r = await fetch(`${tp}/api/v1/inbox/${id}/return`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token(BUREAU)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: '非本機關權責', text: '會員大會請逕洽社會局' }),
    });
    if (r.status !== 200) fail(`教育局退文失敗：${r.status} ${await r.text()}`);
    log('教育局以公文系統 API 退文（非本機關權責）');

    // 6. The association sees both statuses and prints the duty list.
    await until('協會看到兩個狀態', async () => {
      await assoc.goto(`${tn}/sent`);
      const t = await assoc.locator('main').innerText();
      return t.includes('已收文確認') && t.includes('已退文') && t.includes('非本機關權責');
    });
    await t.shot(assoc, 'association-sent-statuses');
    await assoc.getByRole('link', { name: '待辦清單' }).click();
    const duties = await assoc.locator('main').innerText();
    if (!duties.includes(number)) fail(`待辦清單應列出被退文的 ${number}`);
    await t.shot(assoc, 'association-duty-list');
    await assoc.emulateMedia({ media: 'print' });
    await assoc.pdf({ path: path.join(artifacts, 'duty-list-print.pdf'), format: 'A4' });
    await assoc.emulateMedia({ media: 'screen' });
    log('協會看到國小已收文確認、教育局已退文（含原因），並列印待辦清單');

    // 7. Every other 文別 the form offers: composed, previewed and sent to the school, which
    //    receives each. A meeting notice names its boxes 出席者／列席者 and asks for 聯絡人及電話.
    const kinds = [
      ['書函', async () => {
        await assoc.getByLabel('主旨').fill('檢送本會會訊一份，請參考。');
        await assoc.getByLabel('說明', { exact: true }).fill('本會會訊第12期。');
      }, '檢送本會會訊一份，請參考。'],
      ['公告', async () => {
        await assoc.getByLabel('主旨').fill('公告本會115年度會員大會日期。');
        await assoc.getByLabel('依據').fill('本會章程第十條。');
        await assoc.getByLabel('公告事項').fill('會員大會訂於115年3月1日上午9時舉行。');
      }, '公告本會115年度會員大會日期。'],
      ['開會通知單', async () => {
        await assoc.getByLabel('開會事由').fill('115年度社區營造座談會');
        await assoc.getByLabel('開會日期（例：115年2月3日）').fill('115年3月2日');
        await assoc.getByLabel('開會時間（例：上午10時）').fill('上午10時');
        await assoc.getByLabel('開會地點').fill('本會會議室');
        await assoc.getByLabel('主持人').fill('林大同');
        await assoc.getByLabel('聯絡人', { exact: true }).fill('林小姐');
        await assoc.getByLabel('聯絡電話').fill('06-2345678');
      }, '115年度社區營造座談會'],
    ];
    for (const [kind, fill, subject] of kinds) {
      await assoc.goto(`${tn}/compose`);
      await assoc.getByLabel('文別').selectOption(kind);
      const [p, c] = kind === '開會通知單' ? ['出席者', '列席者'] : ['正本', '副本'];
      if (await assoc.getByLabel(p, { exact: true }).count() !== 1) fail(`${kind}：受文者欄位應為「${p}」`);
      if (await assoc.getByLabel(c, { exact: true }).count() !== 1) fail(`${kind}：受文者欄位應為「${c}」`);
      if (kind !== '開會通知單' && await assoc.getByText('出席者').count() !== 0) fail(`${kind}：不應出現「出席者」`);
      await fill();
      await assoc.getByLabel('查詢通訊錄（名稱或代碼，臺／台不分）').fill(`${SCHOOL} 臺南市立大光國民小學`);
      await assoc.getByRole('button', { name: `加入${p}` }).click();
      const [pv] = await Promise.all([
        assoc.waitForResponse((r) => r.url().endsWith('/compose/preview')),
        assoc.getByRole('button', { name: '預覽（PDF）' }).click(),
      ]);
      if (pv.headers()['content-type'] !== 'application/pdf') fail(`${kind}預覽應為 PDF：${pv.status()} ${await pv.text()}`);
      await t.shot(assoc, `compose-${kind}`);
      await assoc.getByRole('button', { name: '送出' }).click();
      await assoc.getByText('已送出').first().waitFor({ timeout: 20000 }).catch(async () => {
        fail(`${kind}送出失敗：${await assoc.locator('main').innerText()}`);
      });
      await until(`國小收到${kind}`, async () => {
        await school.goto(`${tn}/inbox`);
        return (await school.locator('main').innerText()).includes(subject);
      });
      log(`協會撰寫、預覽並送出${kind}，國小收到`);
    }
    await t.shot(school, 'school-inbox-every-kind');

    // 8. Each organisation's 統計 against its own JSON export (the link the page offers, in the
    //    same session): the association sent four documents, the school received them and
    //    signed for one; every table shows the export's figures as printed.
    const agentStats = (page) => async (r) => {
      const line = (l) => [l.period, l.sent, l.received, l.confirmed, l.returned, l.paper_printed];
      const c = r.confirm;
      await sameRows('簽收時間', page.locator('#stats-confirm'), [
        ['簽收件數', c.count], ['平均（小時）', shown(c.average_hours)], ['中位數（小時）', shown(c.p50_hours)],
        ['第 90 百分位（小時）', shown(c.p90_hours)], ['期限內簽收件數', c.within_due], ['期限內簽收比率（%）', shown(c.within_due_percent)],
      ]);
      const months = await sameRows('各月', page.locator('#stats-months'), [...r.months.map(line), line(r.totals)]);
      if (months < 2 || r.totals.period !== '合計') fail(`各月表應有各月與合計：${months} 列`);
      const days = await sameRows('每日', page.locator('#stats-days'), r.days.map(line));
      if (days < 28) fail(`每日表應列出迄月的每一日：${days} 列`);
    };
    const mine = await t.statsPage(assoc, `${tn}/stats`, '/stats.json', 'association-stats', agentStats(assoc));
    if (mine.totals.sent < 4) fail(`協會的統計應至少有送出的 4 件發文：${JSON.stringify(mine.totals)}`);
    const theirs = await t.statsPage(school, `${tn}/stats`, '/stats.json', 'school-stats', agentStats(school));
    if (theirs.totals.received < 4 || theirs.totals.confirmed < 1 || theirs.confirm.count < 1 || theirs.confirm.average_hours === null) {
      fail(`國小的統計應有收到的 4 件與簽收的 1 件：${JSON.stringify(theirs.totals)} ${JSON.stringify(theirs.confirm)}`);
    }
    if (mine.agency === theirs.agency) fail('兩個機關的統計應各自只計自己的公文');
    const other = await assoc.request.get(`${tn}/stats.json?from=2020-01`);
    if (other.ok()) fail('超過 24 個月的期間應被拒');
    log(`協會（發文 ${mine.totals.sent} 件）與國小（收文 ${theirs.totals.received} 件、簽收 ${theirs.confirm.count} 件）的統計頁與各自的 JSON 匯出逐格相同`);

    // 9. The centers' 統計 from this machine (metrics_allow: loopback), each against its JSON
    //    export: the flow by day and month, 收文確認時效, hours, returns, failures, refusals, and
    //    the participants' open copies. The Tainan center carried the association's letters
    //    (its daily counters are brought up to date once a minute).
    const operator = await (await browser.newContext({ locale: 'zh-TW', bypassCSP: true, ignoreHTTPSErrors: true })).newPage();
    const roc = (p) => (p === '合計' ? p : [Number(p.slice(0, 4)) - 1911, ...p.split('-').slice(1)].join('/'));
    const flow = (f) => [roc(f.period), f.documents, f.accepted, f.relayed, f.available, f.delivered, f.confirmed_on_time, f.confirmed_late, f.returned, f.failed, f.paper];
    const centerStats = (page) => async (r) => {
      const byDay = r.days.length <= 60;
      const n = await sameRows('交換份數', page.locator('#stats-flow'), [...(byDay ? r.days : r.months).map(flow), flow(r.total)]);
      if (n < 2) fail(`交換份數表應有各日與合計：${n} 列`);
      if (byDay) await sameRows('各月交換份數', page.locator('#stats-months'), r.months.map(flow));
      const d = r.duty;
      await sameRows('收文確認時效', page.locator('#stats-duty'), [
        ['如期確認', d.confirmed_on_time], ['逾期確認', d.confirmed_late], ['尚未確認', d.open], ['尚未確認且已逾期', d.open_overdue],
      ]);
      await sameRows('各時段收件份數', page.locator('#stats-hours'), r.hours.map((c) => [c.label, c.n]));
      for (const [id, list, row] of [
        ['stats-returns', r.returns, (c) => [c.label, c.n]],
        ['stats-failures', r.failures, (c) => [c.label, c.n]],
        ['stats-refusals', r.refusals, (c) => [c.key, c.label, c.n]],
      ]) {
        const table = page.locator(`#${id}`);
        if (list.length === 0) {
          if ((await table.count()) !== 0) fail(`${id}：匯出沒有資料，頁面卻有表格`);
        } else {
          await sameRows(id, table, list.map(row));
        }
      }
      const open = page.locator('#stats-open');
      if (r.participants.length === 0) {
        if ((await open.count()) !== 0) fail('stats-open：匯出沒有未確認的參與者，頁面卻有表格');
      } else {
        // The oldest copy's time is printed as a date; the figures are compared.
        const rows = (await rowsOf(open)).map((c) => c.slice(0, 4));
        const want = r.participants.map((p) => [p.code, p.name, String(p.open), String(p.overdue)]);
        if (JSON.stringify(rows) !== JSON.stringify(want)) fail(`各參與者未確認公文：頁面 ${JSON.stringify(rows)}，匯出 ${JSON.stringify(want)}`);
      }
      const text = await page.locator('main').innerText();
      if (!text.includes(`目前共有 ${r.open_now} 份公文已送交而未確認或退文，其中 ${r.overdue_now} 份已逾`)) {
        fail(`未確認份數應為匯出的 ${r.open_now}（逾期 ${r.overdue_now}）`);
      }
    };
    for (const [city, port] of [['tn', state.ports.tn], ['tp', state.ports.tp]]) {
      const center = `https://127.0.0.1:${port}`;
      await until(`${city} 交換中心的逐日統計算到今天的收件`, async () => {
        const r = await operator.request.get(`${center}/stats.json`);
        return r.ok() && (await r.json()).total.accepted >= 1;
      }, 150000);
      const r = await t.statsPage(operator, `${center}/stats`, '/stats.json', `center-${city}-stats`, centerStats(operator));
      log(`${city} 交換中心的統計頁與 JSON 匯出逐格相同（收件 ${r.total.accepted} 份、送達 ${r.total.delivered} 份）`);
    }
    const month = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 7);
    await t.statsPage(operator, `https://127.0.0.1:${state.ports.tn}/stats?month=${month}`, '/stats.json', 'center-tn-stats-month', centerStats(operator));
    log(`交換中心以月份（${month}）查詢時，頁面與同一期間的 JSON 匯出也相同`);

    // 10. The directory's public pages as a visitor reads them (each checked with axe-core): the
    //    home page, the address book with a search, how to apply, and the application form
    //    refused with what was typed kept; the reviewers' sign-in page.
    const dirUrl = `https://127.0.0.1:${state.ports.directory}`;
    const visitor = await (await browser.newContext({ locale: 'zh-TW', bypassCSP: true, ignoreHTTPSErrors: true })).newPage();
    await visitor.goto(`${dirUrl}/`);
    await t.shot(visitor, 'directory-home');
    await visitor.goto(`${dirUrl}/address-book?q=${encodeURIComponent('台南')}`);
    if (!(await visitor.locator('main').innerText()).includes('臺南')) fail('地址簿查詢「台南」應找到臺南的機關');
    await t.shot(visitor, 'directory-address-book');
    await visitor.goto(`${dirUrl}/apply`);
    await t.shot(visitor, 'directory-apply');
    await visitor.goto(`${dirUrl}/apply/form`);
    await t.shot(visitor, 'directory-apply-form');
    await visitor.goto(`${dirUrl}/review/login`);
    await t.shot(visitor, 'directory-review-login');
    log('通訊錄的公開頁面（首頁、地址簿、申請說明、申請書、審核登入）沒有嚴重的無障礙問題');

    // The directory's 統計 is for its reviewers: an auditor's account made as its operator makes
    // one (`gongwen directory account`, the token printed once), signed in on the page, then
    // every table against the page's JSON export.
    const printed = await t.exec(['directory', 'account', '--config', path.join(dir, 'directory.toml'), 'walk-auditor', '--display-name', '稽核人員', '--role', 'auditor']);
    const reviewerToken = (printed.match(/API 權杖[^：]*：(\S+)/) ?? [])[1];
    if (!reviewerToken) fail(`建立審核帳號應印出權杖：${printed}`);
    const reviewer = await (await browser.newContext({ locale: 'zh-TW', bypassCSP: true, ignoreHTTPSErrors: true })).newPage();
    await reviewer.goto(`${dirUrl}/stats`);
    if (!reviewer.url().endsWith('/review/login')) fail(`未登入時通訊錄統計應導向審核登入：${reviewer.url()}`);
    await reviewer.getByLabel('帳號').fill('walk-auditor');
    await reviewer.getByLabel('API 權杖').fill(reviewerToken);
    await reviewer.getByRole('button', { name: '登入' }).click();
    await reviewer.waitForURL(`${dirUrl}/review`);
    const region = (name) => reviewer.getByRole('region', { name, exact: true }).locator('table');
    const directoryStats = await t.statsPage(reviewer, `${dirUrl}/stats`, '/stats.json', 'directory-stats', async (r) => {
      const p = r.participants;
      const total = (await reviewer.locator('#participants-total').innerText()).trim();
      if (total !== String(p.total)) fail(`參與者總數：頁面 ${total}，匯出 ${p.total}`);
      await sameRows('參與者（依狀態）', region('參與者（依狀態）'), p.by_state.map((c) => [c.label, c.count]));
      await sameRows('參與者（依種類）', region('參與者（依種類）'), p.by_kind.map((c) => [c.label, c.count]));
      await sameRows('參與者（依交換中心）', region('參與者（依交換中心）'), p.by_center.map((c) => [`${c.label}（${c.key}）`, c.count]));
      const month = (m) => [m.month, m.received, m.decided, m.activated, m.rejected, m.suspended, m.terminated];
      const n = await sameRows('各月申請、決定、暫停與中止', reviewer.locator('#stats-months'), [...r.months.map(month), month(r.totals)]);
      if (n < 2 || r.totals.month !== '合計') fail(`各月申請表應有各月與合計：${n} 列`);
      const d = r.review_days;
      await sameRows('審核時間', reviewer.locator('#stats-review'), [['送件至初審同意', d.first], ['初審同意至複審開通', d.second], ['送件至決定', d.total]]
        .map(([stage, x]) => [stage, x.count, shown(x.average), shown(x.p90)]));
      const c = r.certificates;
      await sameRows('憑證到期件數', reviewer.locator('#stats-certs'), [['30 天內', c.within_30], ['60 天內', c.within_60], ['90 天內', c.within_90]]);
      const expiring = reviewer.getByRole('region', { name: '90 天內到期的憑證', exact: true });
      if (c.expiring.length === 0) {
        if ((await expiring.count()) !== 0) fail('匯出沒有 90 天內到期的憑證，頁面卻列出');
      } else {
        // The expiry is printed as a date; the rest is compared.
        const rows = (await rowsOf(expiring.locator('table'))).map((x) => [x[0], x[1], x[3]]);
        const want = c.expiring.map((e) => [`${e.name}（${e.code}）`, e.usage, String(e.days_left)]);
        if (JSON.stringify(rows) !== JSON.stringify(want)) fail(`90 天內到期的憑證：頁面 ${JSON.stringify(rows)}，匯出 ${JSON.stringify(want)}`);
      }
    });
    if (directoryStats.participants.total < 5) fail(`通訊錄統計應有示範網路的參與者：${directoryStats.participants.total}`);
    log(`審核人員（稽核）登入後，通訊錄統計頁（參與者 ${directoryStats.participants.total} 個）與 JSON 匯出逐格相同`);

    // 11. On a phone (390 px wide) the inbox, the sent list and the compose form need no
    //    sideways scrolling.
    await assoc.setViewportSize({ width: 390, height: 844 });
    for (const where of ['inbox', 'sent', 'compose', 'duties']) {
      await assoc.goto(`${tn}/${where}`);
      const wide = await assoc.evaluate(() => document.documentElement.scrollWidth);
      if (wide > 390) fail(`${where} 在 390 px 寬的畫面需要左右捲動（內容寬 ${wide} px）`);
      await t.shot(assoc, `phone-${where}`);
    }
    await assoc.setViewportSize({ width: 1280, height: 720 });
    log('手機寬度（390 px）下收文、發文、撰寫與待辦清單不需左右捲動');

    // 12. A forged form post (another site's) and a signed-out browser change nothing.
    const forged = await assoc.request.post(`${tn}/inbox/${id}/confirm`, { form: { csrf: 'forged' } });
    if (forged.status() !== 401 && forged.status() !== 404) fail(`偽造的表單應被拒：${forged.status()}`);
    await assoc.getByRole('button', { name: '登出' }).click();
    await assoc.goto(`${tn}/sent`);
    if (!assoc.url().includes('/login')) fail('登出後應回到登入頁');
    await t.shot(assoc, 'signed-out');
    log('偽造的表單被拒；登出後回到登入頁');
  }
});

