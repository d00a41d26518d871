// 公文管理系統（線上簽核）瀏覽器測試：以 Debian 的 chromium 與 playwright-core，在示範網路中由教育局的同仁各自
// 以自己的憑證卡與本機簽章程式，像平常一樣辦完一件來文。
// The office driven as its people use it, on a fresh demo network: the school's letter waits in
// the bureau's 待登記; the clerk registers it (簽收 at the exchange); the desk assigns it to
// 國小教育科 and the unit's desk to an officer, who drafts a 簽 and a 稿 (簽稿併陳); 體育及衛生保健科's
// officer and head give their opinions (會辦, parallel); the section chief amends the 稿 (tracked changes); the
// department head returns it once; up again; the head's deputy decides (代為決行); the clerk
// dispatches it through the exchange and the school's agent receives it; the case is filed.
// Every step by a different person, each with their own card in their own signer ("their PC").
// Screenshots go to target/browser-artifacts/office/; every page is checked with axe-core.
//
// Usage: node tests/browser/office.mjs [path/to/gongwen]   (default target/debug/gongwen)

import fs from 'node:fs';
import path from 'node:path';
import { fail, log, run, sameRows, shown, until } from './harness.mjs';

const SCHOOL = '395450100A';

run('office', async (t) => {
  const state = await t.demo();
  const office = `http://127.0.0.1:${state.ports.office}`;
  const tn = `http://127.0.0.1:${state.ports.agent_tn}`;
  const schoolToken = state.tokens.find(([c]) => c === SCHOOL)[1];
  log('示範網路已啟動，教育局的公文管理系統與收發人員的本機簽章程式已啟動');

  // Each person at their own PC: their card in their own signer. The clerk's is the demo's.
  let port = t.base + 15;
  const people = {};
  const at = async (id) => {
    if (people[id]) return people[id];
    let page;
    if (id === 'clerk') {
      page = await (await t.browser.newContext({ locale: 'zh-TW', bypassCSP: true })).newPage();
    } else {
      const [, cert, key] = state.office.cards.find(([p]) => p === id);
      page = await t.person({ cert, key }, state.ports.office_signer, port++, office);
    }
    await page.goto(`${office}/login`);
    await page.getByRole('button', { name: '以憑證登入' }).click();
    await page.waitForURL(`${office}/`);
    people[id] = page;
    return page;
  };
  let caseUrl = '';
  /** Signs the step the page shows (the signer signs exactly that text) and lands on the case. */
  const sign = async (page, name) => {
    await page.locator('pre.signed-text').waitFor();
    await t.shot(page, `${name}-sign`);
    await page.getByRole('button', { name: '以憑證簽章' }).click();
    await page.waitForURL(/\/cases\/\d+(\?.*)?$/);
    caseUrl = page.url().split('?')[0];
  };
  /** Types each value into the field of that name inside `scope` (a page or a form). */
  const fillIn = async (scope, fields) => {
    for (const [name, value] of Object.entries(fields)) {
      await scope.locator(`[name=${name}]`).fill(value);
    }
  };
  /** An action's form on the case page: `fill` sets its fields, then it is sent and signed. */
  const act = async (id, action, fill, name = action) => {
    const page = await at(id);
    await page.goto(caseUrl);
    const form = page.locator(`#form-${action}`);
    if ((await form.count()) === 0) fail(`${id} 的案件頁沒有「${action}」`);
    await fill(form);
    await form.locator('button').click();
    await sign(page, `${id}-${name}`);
    return page;
  };

  // 1. The clerk signs in and registers the school's letter from 待登記.
  const clerk = await at('clerk');
  await t.shot(clerk, 'clerk-worklists');
  await clerk.getByRole('link', { name: '待登記' }).click();
  const subject = '函報本校115年度公文電子交換連線測試結果';
  await until('國小的來函進入待登記', async () => {
    if ((await clerk.getByRole('link', { name: new RegExp(subject) }).count()) > 0) return true;
    await clerk.getByRole('button', { name: '立即收文' }).click();
    return false;
  });
  await t.shot(clerk, 'intake');
  await clerk.getByRole('link', { name: new RegExp(subject) }).click();
  await t.shot(clerk, 'intake-letter');
  await clerk.locator('#matter').fill('政策計畫');
  await clerk.getByRole('button', { name: '登記並簽章' }).click();
  await sign(clerk, 'clerk-register');
  if (!(await clerk.getByRole('status').innerText()).includes('已簽收')) fail('登記後應已簽收並有收文字號');
  await t.shot(clerk, 'registered');
  log(`收發登記並簽收（${caseUrl}）`);

  // 2. 分文 to 國小教育科; the unit's desk gives it to the officer.
  await act('clerk', 'assign_unit', (f) => f.locator('[name=assign_unit_to]').selectOption('elem'));
  await act('desk', 'assign_officer', (f) => f.locator('[name=assign_officer_to]').selectOption('officer'));
  log('登記桌分文給國小教育科，科登記桌分辦給承辦人');

  // 3. The officer drafts a 簽 and a 稿 (簽稿併陳).
  const officer = await at('officer');
  await officer.goto(caseUrl);
  await officer.getByRole('link', { name: '擬新簽' }).click();
  await fillIn(officer, {
    subject: '擬同意國小連線測試結果並函復，簽請核示。',
    explain: '依據臺南市立大光國民小學來函辦理。\n該校已完成連線測試。',
    plan: '擬復如稿。',
  });
  await officer.locator('[name=proposal]').selectOption('2');
  await t.shot(officer, 'officer-memo-form');
  await officer.getByRole('button', { name: /存為新版本/ }).click();
  await sign(officer, 'officer-memo');
  await officer.getByRole('link', { name: '擬新稿' }).click();
  await officer.locator('[name=kind]').selectOption('函');
  await fillIn(officer, {
    subject: '貴校連線測試結果准予備查，請查照。',
    explain: '復貴校來函。',
    primary: `${SCHOOL} 臺南市立大光國民小學`,
    address: '110204 臺北市信義區市府路1號',
    contact: '承辦人：專員 王小明\n電話：(02)2720-8889',
    signature: '局長 湯志民',
  });
  await t.shot(officer, 'officer-draft-form');
  await officer.getByRole('button', { name: /存為新版本/ }).click();
  await sign(officer, 'officer-draft');
  log('承辦人擬簽與稿（簽稿併陳）');

  // 4. 會辦 with 體育及衛生保健科 in parallel; its officer writes, its head answers for it.
  await act('officer', 'consult', (f) => f.locator('[name=consult_unit_pe]').check());
  await act('officer2', 'opinion', (f) => f.locator('[name=opinion_text]').fill('本科無意見。'));
  await act('pe-head', 'opinion', (f) => f.locator('[name=opinion_text]').fill('同意承辦人意見。'), 'head-opinion');
  log('會辦體育及衛生保健科（平行）：該科承辦人與科長各簽會辦意見');

  // 5. 陳核 to the section chief, who amends the 稿: the change is shown as tracked changes.
  await act('officer', 'submit', (f) => f.locator('[name=submit_to]').selectOption('chief'));
  const chief = await at('chief');
  await chief.goto(caseUrl);
  await chief.getByRole('link', { name: /draft-1/ }).first().click();
  await chief.locator('[name=subject]').fill('貴校115年度連線測試結果准予備查，請查照。');
  await chief.getByRole('button', { name: /存為新版本/ }).click();
  await sign(chief, 'chief-amend');
  await chief.goto(`${caseUrl}/docs/draft-1/2/changes`);
  if ((await chief.locator('ins', { hasText: '115年度' }).count()) === 0) fail('修改處應以追蹤修訂標示');
  await t.shot(chief, 'chief-changes');
  await act('chief', 'approve', (f) => f.locator('[name=approve_to]').selectOption('dept'));
  log('股長修改稿（追蹤修訂顯示新增的文字）並核轉科長');

  // 6. The department head returns it once; up again to the head.
  await act('dept', 'return', async (f) => {
    await f.locator('[name=return_to]').selectOption('officer');
    await f.locator('[name=return_reason]').fill('請於說明補充測試日期。');
  });
  await act('officer', 'submit', (f) => f.locator('[name=submit_to]').selectOption('chief'), 'submit-again');
  await act('chief', 'approve', (f) => f.locator('[name=approve_to]').selectOption('dept'), 'approve-again');
  await act('dept', 'approve', (f) => f.locator('[name=approve_to]').selectOption('head'));
  log('科長退回承辦人一次（附原因），再陳核至局長');

  // 7. The head's deputy decides for the head (代為決行).
  const deputy = await act('deputy', 'decide', async (f) => {
    await f.locator('[name=principal_decide]').selectOption('head');
    await f.locator('[name="decide_draft-1"][value=issue]').check();
  });
  const decided = await deputy.locator('main').innerText();
  if (!decided.includes('代為決行')) fail('決行紀錄應註明代為決行');
  await t.shot(deputy, 'deputy-decided');
  log('副局長以職務代理人身分代為決行「發」');

  // 8. The clerk dispatches it through the exchange; the school's agent receives it.
  await act('clerk', 'dispatch', (f) => f.locator('[name=dispatch_channel][value=交換]').check());
  if (!(await clerk.getByRole('status').innerText()).includes('已交換發文')) fail('應已交換發文並有發文字號');
  await until('國小收到教育局的函', async () => {
    const r = await fetch(`${tn}/api/v1/inbox?state=all`, { headers: { authorization: `Bearer ${schoolToken}` } });
    const page = await r.json();
    return page.items.some((i) => i.subject.includes('115年度連線測試結果准予備查'));
  });
  log('收發以交換發文，國小的代理程式收到');

  // 9. Filed; the 簽核紀錄 prints.
  await act('clerk', 'file', async (f) => {
    await fillIn(f, { file_class: 'A01', file_case: '115', file_volume: '1', file_item: '1' });
    await f.locator('[name=file_retention]').selectOption('10年');
  });
  if (!(await clerk.locator('main').innerText()).includes('已歸檔')) fail('案件應已歸檔');
  await t.shot(clerk, 'filed');
  const record = await clerk.request.get(`${caseUrl}/record.pdf`);
  if (record.headers()['content-type'] !== 'application/pdf') fail('簽核紀錄應為 PDF');
  fs.writeFileSync(path.join(t.artifacts, 'record.pdf'), await record.body());
  log('歸檔；簽核紀錄印成 PDF');

  // 10. 稽催: the department head sees the follow-up list of their units.
  const dept = await at('dept');
  await dept.goto(`${office}/followup`);
  await dept.getByRole('heading', { level: 1 }).waitFor();
  await t.shot(dept, 'followup');
  log('主管開啟稽催清單（逾期與即將到期）');

  // 11. The head looks at the sign-off indicators: the page's figures are the export's.
  const head = await at('head');
  await head.goto(`${office}/stats`);
  await head.locator('#stats-months').waitFor();
  await t.shot(head, 'stats');
  const exported = await (await head.request.get(`${office}/stats.json`)).json();
  const total = exported.lines.find((l) => l.month === null && l.unit === null);
  const totalShown = (await head.locator('#stats-months tfoot td').first().innerText()).trim();
  if (!total || String(total.received) !== totalShown) fail(`統計頁的收文總數（${totalShown}）應與匯出（${total?.received}）相同`);
  if (total.received < 1 || total.online < 1) fail(`本月應至少有一件收文與一件線上簽核：${JSON.stringify(total)}`);
  log(`首長開啟指標統計：收文 ${total.received} 件、線上簽核 ${total.online} 件，與 JSON 匯出相同`);
  await head.locator('#timely-speeds').waitFor();
  const timely = await (await head.request.get(`${office}/stats/timeliness.json`)).json();
  const all = timely.lines.find((l) => l.month === null && l.unit === null && l.speed === null);
  if (!all || all.closed !== total.closed) fail(`時效統計的結案數（${all?.closed}）應與指標的結案數（${total.closed}）相同`);
  log(`時效統計：結案 ${all.closed} 件，準時 ${all.on_time} 件`);

  // Every table of the statistics page against the page's own JSON exports (the links it
  // offers, the period it shows), in the head's session: the figures as the page prints them.
  const roc = (m) => `${Number(m.slice(0, 4)) - 1911}/${m.slice(5, 7)}`;
  const indicatorCells = (l) => [l.received, l.classified, l.self_created, l.online, shown(l.online_rate), l.closed,
    shown(l.average_days), shown(l.efficiency), l.consult_pieces, l.exchange_pieces, l.postage_saved_twd, shown(l.energy_ratio)];
  await t.statsPage(head, `${office}/stats`, '/stats.json', 'stats-indicators', async (r) => {
    const months = r.lines.filter((l) => l.unit === null && l.month !== null);
    const sum = r.lines.find((l) => l.unit === null && l.month === null);
    const n = await sameRows('全機關各月指標', head.locator('#stats-months'),
      [...months.map((l) => [roc(l.month), ...indicatorCells(l)]), ['合計', ...indicatorCells(sum)]]);
    if (n < 2 || sum.received < 1) fail(`全機關各月指標應有各月與合計，且至少一件收文：${n} 列`);
    const units = r.lines.filter((l) => l.unit !== null && l.month === null);
    if (units.length < 1) fail('各單位指標應至少有國小教育科');
    await sameRows('各單位指標', head.locator('#stats-units'), units.map((l) => [l.unit_name, ...indicatorCells(l)]));
  });
  const timelyCells = (l) => [l.closed, l.on_time, l.late, l.no_due, shown(l.on_time_rate), shown(l.average_days)];
  const timelyShown = (l) => !['fixed', 'project'].includes(l.speed) || l.closed > 0;
  await t.statsPage(head, `${office}/stats`, '/stats/timeliness.json', 'stats-timeliness', async (r) => {
    const speeds = r.lines.filter((l) => l.unit === null && l.month === null && timelyShown(l));
    await sameRows('全機關時效（依速別）', head.locator('#timely-speeds'), speeds.map((l) => [l.speed_name, ...timelyCells(l)]));
    const months = r.lines.filter((l) => l.unit === null && l.month !== null && l.speed === null);
    await sameRows('全機關各月時效', head.locator('#timely-months'), months.map((l) => [roc(l.month), ...timelyCells(l)]));
    let last = null;
    const units = r.lines
      .filter((l) => l.unit !== null && l.month === null && timelyShown(l) && (l.speed === null || l.closed > 0))
      .map((l) => {
        const first = last !== l.unit;
        last = l.unit;
        return [first ? l.unit_name : '', l.speed_name, ...timelyCells(l)];
      });
    if (units.length < 1) fail('各單位時效應至少有國小教育科');
    await sameRows('各單位時效', head.locator('#timely-units'), units);
  });
  const stages = await t.statsPage(head, `${office}/stats`, '/stats/stages.json', 'stats-stages', async (r) => {
    const n = await sameRows('各階段處理時間', head.locator('#stages-table'),
      r.stages.map((s) => [s.stage_name, s.cases, shown(s.average_days), shown(s.max_days), shown(s.average_hours)]));
    if (n < 1) fail('各階段處理時間應列出各階段');
    const text = await head.locator('#stages + p').innerText();
    if (!text.includes(`期間內結案的 ${r.closed} 件公文`)) fail(`各階段處理時間的結案數應為匯出的 ${r.closed}：${text}`);
  });
  if (stages.closed < 1 || !stages.stages.some((s) => s.cases >= 1 && s.average_days !== null)) {
    fail(`歸檔的這件案件應計入各階段處理時間：${JSON.stringify(stages)}`);
  }
  log(`統計頁的各表（各月與各單位指標、時效、各階段處理時間：結案 ${stages.closed} 件）與其 JSON 匯出逐格相同`);

  // 12. Every other page people open, axe-checked: administration, search, paper intake, 創簽.
  const pages = [
    [clerk, '/admin', 'admin'],
    [clerk, '/admin/units', 'admin-units'],
    [clerk, '/admin/people', 'admin-people'],
    [clerk, '/admin/people/officer', 'admin-person'],
    [clerk, '/admin/deputies', 'admin-deputies'],
    [clerk, '/admin/delegation', 'admin-delegation'],
    [clerk, '/admin/import', 'admin-import'],
    [clerk, `/search?words=${encodeURIComponent('連線測試')}`, 'search'],
    [clerk, '/intake/paper', 'intake-paper'],
    [officer, '/cases/new', 'new-case'],
  ];
  for (const [page, where, name] of pages) {
    const r = await page.goto(`${office}${where}`);
    if (!r.ok()) fail(`${where} 應可開啟（${r.status()}）`);
    await t.shot(page, name);
    if (name === 'search' && !(await page.locator('main').innerText()).includes('1150000001')) fail('查詢應找到這件案件');
  }
  log('系統管理、查詢、紙本收文與創簽的頁面都沒有嚴重的無障礙問題');

  // 13. On a phone (390 px) the pages people use most need no sideways scrolling.
  await clerk.setViewportSize({ width: 390, height: 800 });
  for (const where of ['/', caseUrl.replace(office, ''), '/intake', '/search']) {
    await clerk.goto(`${office}${where}`);
    const wide = await clerk.evaluate(() => document.documentElement.scrollWidth);
    if (wide > 390) fail(`${where} 在 390 px 寬的畫面需要左右捲動（內容寬 ${wide} px）`);
  }
  await clerk.setViewportSize({ width: 1280, height: 720 });
  log('手機寬度（390 px）下工作清單、案件頁、待登記與查詢不需左右捲動');
});
