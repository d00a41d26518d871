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
import { fail, log, root, run, until } from './harness.mjs';

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

    // 8. The directory's public pages as a visitor reads them (each checked with axe-core): the
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

    // 9. On a phone (390 px wide) the inbox, the sent list and the compose form need no
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

    // 10. A forged form post (another site's) and a signed-out browser change nothing.
    const forged = await assoc.request.post(`${tn}/inbox/${id}/confirm`, { form: { csrf: 'forged' } });
    if (forged.status() !== 401 && forged.status() !== 404) fail(`偽造的表單應被拒：${forged.status()}`);
    await assoc.getByRole('button', { name: '登出' }).click();
    await assoc.goto(`${tn}/sent`);
    if (!assoc.url().includes('/login')) fail('登出後應回到登入頁');
    await t.shot(assoc, 'signed-out');
    log('偽造的表單被拒；登出後回到登入頁');
  }
});

