// rove ui in a real browser: Debian's chromium, driven by puppeteer-core.
// Run by run.sh, which starts roved and the replicas and passes, in the
// environment: ROVE_UI_URL (the URL rove ui printed), ROVE_CID (a
// customer of the rep), ROVE_DID (its deal), ROVE_IMG (where screenshots
// go, or empty). Exits 0 when every check passes, 77 when Chromium
// cannot start (CTest's skip), 1 otherwise.
'use strict';
const puppeteer = require('puppeteer-core');

const url = process.env.ROVE_UI_URL;
const cid = process.env.ROVE_CID;
const did = process.env.ROVE_DID;
const img = process.env.ROVE_IMG || '';
const adminUrl = process.env.ROVE_ADMIN_URL;
// the session's base URL (http://127.0.0.1:PORT/s/SECRET), where the
// printed URL leads; the pages' links are relative to it
let base;

function check(cond, what) {
  if (!cond) throw new Error('FAIL: ' + what);
  console.log('ok - ' + what);
}

async function main() {
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--lang=en-US'],
      timeout: 30000,
    });
  } catch (e) {
    console.log('SKIP: chromium cannot start here: ' + e.message.split('\n')[0]);
    process.exit(77);
  }
  const alerts = [];
  try {
    const page = await browser.newPage();
    page.on('dialog', async (d) => { alerts.push(d.message()); await d.dismiss(); });
    await page.setViewport({ width: 1280, height: 900 });
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en' });

    // The printed URL: the token becomes a cookie and leaves the address bar.
    await page.goto(url, { waitUntil: 'load' });
    check(!page.url().includes('token='), 'the token leaves the address bar');
    check(/\/s\/[0-9a-f]{64}\/$/.test(page.url()), 'the token leads to a session path: ' + page.url());
    base = page.url().replace(/\/$/, '');
    const sc = (await page.cookies()).filter((c) => c.name.startsWith('rove_ui_'));
    check(sc.length === 1 && sc[0].httpOnly && sc[0].sameSite === 'Strict' && !url.includes(sc[0].value),
      'the session cookie is HttpOnly, SameSite=Strict, and not the token');
    check((await page.$eval('h1', (e) => e.textContent)) === 'Today', 'the Today page opens');

    // Search a customer, open its card.
    await page.click('nav a[href="customers"]');
    await page.waitForSelector('#f-q');
    await page.type('#f-q', 'Acme');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    const names = await page.$$eval('#customers tbody a', (as) => as.map((a) => a.textContent));
    check(names.length === 1 && names[0] === 'Acme Trading', 'search finds the customer');
    if (img) await page.screenshot({ path: img + '/ui-customers-en.png' });

    // The hostile name by another rep is text: no alert, the text shown.
    await page.goto(base + '/customers?q=script');
    const hostile = await page.$$eval('#customers tbody a', (as) => as.map((a) => a.textContent));
    check(hostile.includes('<script>alert(1)</script>'), 'the hostile name shows as text');
    check(alerts.length === 0, 'no script of a record ran');

    await page.goto(base + '/customers?q=Acme');
    await Promise.all([page.waitForNavigation(), page.click('#customers tbody a')]);
    check((await page.$eval('#customer-name', (e) => e.textContent)) === 'Acme Trading', 'the card opens');

    // Add a visit through the form, with the keyboard and the labels.
    await page.select('#a-kind', 'visit');
    await page.type('#a-location', 'Shanghai office');
    await page.type('#a-note', 'Met the buyer from the browser');
    await Promise.all([page.waitForNavigation(), page.click('#add-activity')]);
    check(await page.$('#saved') !== null, 'the activity is saved');
    const notes = await page.$$eval('#activities tbody td', (tds) => tds.map((t) => t.textContent).join('|'));
    check(notes.includes('Met the buyer from the browser'), 'the timeline shows it');

    // Move the deal to won from the card.
    await page.select('#stage-' + did, 'won');
    await Promise.all([page.waitForNavigation(), page.click(`tr[data-id="${did}"] button`)]);
    check(await page.$('#saved') !== null, 'the stage change is saved');
    if (img) await page.screenshot({ path: img + '/ui-card-en.png', fullPage: true });

    // Edit the customer's details through the form.
    await page.click('#edit-link');
    await page.waitForSelector('#edit-' + cid);
    await page.$eval('#e-' + cid + '-address', (t) => { t.value = ''; });
    await page.type('#e-' + cid + '-address', '88 Century Ave, Pudong');
    await Promise.all([page.waitForNavigation(), page.click('#save-' + cid)]);
    check(await page.$('#saved') !== null, 'the edit is saved');
    const addr = await page.$$eval('#details dd', (dds) => dds.map((d) => d.textContent).join('|'));
    check(addr.includes('88 Century Ave, Pudong'), 'the card shows the new address');
    // An invalid value: refused on the page with the reason, the value kept.
    await page.goto(base + '/customer/' + cid + '/edit');
    await page.$eval('#e-' + cid + '-tax_id', (t) => { t.value = 'not a tax id'; });
    await Promise.all([page.waitForNavigation(), page.click('#save-' + cid)]);
    check(await page.$('#error') !== null, 'an invalid tax id is refused with its reason');
    check((await page.$eval('#e-' + cid + '-tax_id', (t) => t.value)) === 'not a tax id', 'the refused value is kept');

    // The board: a column per stage, a deal moved with its select.
    await page.goto(base + '/deals/board');
    const cols = await page.$$eval('#board .column', (cs) => cs.map((c) => c.id));
    check(cols.length === 6 && cols[0] === 'col-lead', 'the board has a column per stage: ' + cols);
    const valves = await page.$eval('#col-proposal li.deal', (li) => li.getAttribute('data-id'));
    await page.select('#stage-' + valves, 'negotiation');
    await Promise.all([page.waitForNavigation(), page.click(`li[data-id="${valves}"] button`)]);
    check(await page.$(`#col-negotiation li[data-id="${valves}"]`) !== null, 'the deal moved to its new column');
    if (img) await page.screenshot({ path: img + '/ui-board-en.png', fullPage: true });

    // A rep: no admin link, the admin page refused, a POST to it too
    // (with this page's own CSRF token).
    check(await page.$('#nav-admin') === null, 'a rep is not shown the admin page');
    const adminStatus = await page.evaluate(async () => (await fetch('admin')).status);
    check(adminStatus === 403, 'a rep\'s admin page is refused: ' + adminStatus);
    const forged = await page.evaluate(async (c) => {
      const csrf = document.querySelector('input[name="csrf"]').value;
      const r = await fetch('admin/reassign', { method: 'POST', body: new URLSearchParams({ csrf, customer: c, to: 'alice' }) });
      return r.status;
    }, cid);
    check(forged === 403, 'a rep\'s POST to the admin is refused: ' + forged);

    // Sync: pushed and accepted.
    await page.click('nav a[href="sync"]');
    await page.waitForSelector('#sync');
    await Promise.all([page.waitForNavigation({ timeout: 30000 }), page.click('#sync')]);
    const result = await page.$eval('#sync-result', (e) => e.textContent);
    check(/Pushed 5 · accepted 4 · refused 1/.test(result), 'sync pushed and the server accepted: ' + result);

    // A refused change shows its reason (run.sh made one before).
    const reasons = await page.$$eval('#refused .reason', (bs) => bs.map((b) => b.textContent));
    check(reasons.length === 1 && /^[a-z_]+$/.test(reasons[0]), 'a refused change shows its reason: ' + reasons);
    if (img) await page.screenshot({ path: img + '/ui-sync-en.png', fullPage: true });

    // Reports: the charts are SVG the server drew, shown under the CSP
    // (nothing refused), beside their tables; the CSV is a download.
    const refusedByCsp = [];
    page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) refusedByCsp.push(m.text()); });
    await page.click('nav a[href="reports"]');
    await page.waitForSelector('svg#funnel');
    check((await page.$eval('h1', (e) => e.textContent)) === 'Reports', 'the Reports page opens');
    const bars = await page.$$eval('svg#funnel rect', (rs) => rs.map((r) => r.getBBox().width));
    check(bars.length === 4 && bars.some((w) => w > 0), 'the funnel draws its four stages: ' + bars);
    const trend = await page.$eval('svg#trend', (s) => s.getBoundingClientRect().width);
    check(trend > 100, 'the daily trend is drawn (' + trend + ' px wide)');
    const lines = await page.$$eval('svg#trend polyline', (ps) => ps.length);
    check(lines === 2, 'the trend has its two lines');
    const href = await page.$eval('#csv-pipeline', (a) => a.getAttribute('href'));
    // (fetched by node with the page's cookie: the CSP lets the page itself connect nowhere)
    const jar = (await page.cookies()).map((c) => c.name + '=' + c.value).join('; ');
    const res = await fetch(base + '/' + href, { headers: { Cookie: jar } });
    const csv = { type: res.headers.get('content-type'), disp: res.headers.get('content-disposition'), body: await res.text() };
    check(/^text\/csv/.test(csv.type) && /attachment/.test(csv.disp) && csv.body.startsWith('dimension,key,count,amount\n'),
      'the pipeline exports as a CSV attachment');
    check(refusedByCsp.length === 0, 'the CSP refused nothing on the Reports page: ' + refusedByCsp.join('; '));
    if (img) await page.screenshot({ path: img + '/ui-reports-en.png', fullPage: true });
    await page.goto(base + '/sync');

    // Chinese: the switch, then every page in it.
    await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
    check((await page.$eval('h1', (e) => e.textContent)) === '同步', 'the switch shows Chinese');
    await page.goto(base + '/customer/' + cid);
    if (img) await page.screenshot({ path: img + '/ui-card-zh.png', fullPage: true });
    await page.goto(base + '/customers');
    if (img) await page.screenshot({ path: img + '/ui-customers-zh.png' });
    // 768 px: a tablet on the road; nothing wider than the screen.
    await page.setViewport({ width: 768, height: 1000 });
    await page.goto(base + '/customer/' + cid);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 768, 'the card fits 768 px (' + wide + ')');
    await page.goto(base + '/reports');
    const rwide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(rwide <= 768, 'the reports fit 768 px (' + rwide + ')');
    if (img) await page.screenshot({ path: img + '/ui-reports-zh-768.png', fullPage: true });
    await page.goto(base + '/customer/' + cid);
    if (img) await page.screenshot({ path: img + '/ui-card-zh-768.png', fullPage: true });

    // The admin's pages, in the admin's own rove ui: the tree with a
    // hostile name as text, and a customer reassigned from its card.
    const adm = await browser.newPage();
    adm.on('dialog', async (d) => { alerts.push(d.message()); await d.dismiss(); });
    await adm.setViewport({ width: 1280, height: 900 });
    await adm.setExtraHTTPHeaders({ 'Accept-Language': 'en-US,en' });
    await adm.goto(adminUrl, { waitUntil: 'load' });
    const abase = adm.url().replace(/\/$/, '');
    await adm.click('#nav-admin');
    await adm.waitForSelector('#territories');
    const tnames = await adm.$$eval('#territories .tname', (ss) => ss.map((x) => x.textContent));
    check(tnames.includes('<img src=x onerror=alert(1)>'), 'the hostile territory name shows as text');
    check(await adm.$('#territories img') === null && alerts.length === 0, 'and is no image, ran nothing');
    const logins = await adm.$$eval('#users tbody tr', (rs) => rs.map((r) => r.getAttribute('data-login')));
    check(logins.includes('alice') && logins.includes('bob'), 'the users are listed: ' + logins);
    if (img) await adm.screenshot({ path: img + '/ui-admin-en.png', fullPage: true });
    await adm.goto(abase + '/sync');
    await Promise.all([adm.waitForNavigation({ timeout: 30000 }), adm.click('#sync')]);
    check(await adm.$('#sync-result') !== null, 'the admin synced (in the background, then the result)');
    await adm.goto(abase + '/customer/' + cid);
    await adm.type('#card-to', 'bob');
    await Promise.all([adm.waitForNavigation(), adm.click('#card-reassign-button')]);
    check(await adm.$('#done') !== null, 'the admin reassigned the customer from its card');
    // A refusal: the server's reason on the page.
    await adm.goto(abase + '/admin');
    await adm.type('#f-customer', cid);
    await adm.type('#rc-to', 'nosuch');
    await Promise.all([adm.waitForNavigation(), adm.click('#reassign-customer')]);
    const why = await adm.$eval('#error', (e) => e.textContent);
    check(/nosuch/.test(why), 'the server\'s refusal is shown: ' + why.trim());
    await adm.setViewport({ width: 768, height: 1000 });
    await adm.goto(abase + '/admin');
    const awide = await adm.evaluate(() => document.documentElement.scrollWidth);
    check(awide <= 768, 'the admin page fits 768 px (' + awide + ')');
    // (the language cookie is the host's: alice's page chose Chinese)
    if ((await adm.$eval('h1', (e) => e.textContent)) !== '管理')
      await Promise.all([adm.waitForNavigation(), adm.click('#lang-switch')]);
    check((await adm.$eval('h1', (e) => e.textContent)) === '管理', 'the admin page in Chinese');
    const zhwide = await adm.evaluate(() => document.documentElement.scrollWidth);
    check(zhwide <= 768, 'the admin page in Chinese fits 768 px (' + zhwide + ')');
    if (img) await adm.screenshot({ path: img + '/ui-admin-zh-768.png', fullPage: true });
    await adm.goto(abase + '/deals/board');
    const bwide = await adm.evaluate(() => document.documentElement.scrollWidth);
    check(bwide <= 768, 'the board fits 768 px (' + bwide + ')');

    // A cross-site POST from another origin's page is refused.
    const other = await browser.newPage();
    await other.setContent(`<form id="f" method="post" action="${base}/customer/${cid}/activity">
      <input name="kind" value="note"><input name="note" value="forged"></form>`);
    await Promise.all([other.waitForNavigation(), other.$eval('#f', (f) => f.submit())]);
    const body = await other.evaluate(() => document.body.textContent);
    check(/refused/.test(body), 'a cross-site POST is refused: ' + body.trim());

    // A cookie bomb: another 127.0.0.1 port's page sets cookies for the
    // host (cookies are not per port) until every request is over rove
    // ui's head cap. rove ui explains and clears them; the printed URL
    // then opens a session again.
    const bomb = [];
    for (let i = 0; i < 12; i++) bomb.push({ name: 'bomb' + i, value: 'x'.repeat(3900), url: 'http://127.0.0.1:1/', path: '/' });
    await page.setCookie(...bomb);
    const big = await page.goto(base + '/customers');
    check(big.status() === 431, 'a cookie bomb: 431 (' + big.status() + ')');
    check((await page.title()) === 'rove: too many cookies', 'a cookie bomb: a page that says so');
    const left = (await page.cookies(base + '/')).filter((c) => c.name.startsWith('bomb'));
    check(left.length === 0, 'a cookie bomb: the browser cleared the cookies (' + left.length + ' left)');
    await page.goto(url, { waitUntil: 'load' });
    check(/\/s\/[0-9a-f]{64}\/$/.test(page.url()) && (await page.$('nav')) !== null,
      'a cookie bomb: the printed URL opens a session again');

    // Eviction: a page of another port that sets ~200 small cookies for
    // 127.0.0.1 can make Chromium evict the session's (it keeps about
    // 180 per host); the session's cookie deleted here, as eviction does.
    // The next page says what happened, in a page, not a bare 403.
    const sbase = page.url().replace(/\/$/, '');
    const mine = (await page.cookies(sbase + '/')).filter((c) => c.name.startsWith('rove_ui_'));
    check(mine.length === 1, 'the new session has its cookie');
    await page.deleteCookie(...mine);
    const gone = await page.goto(sbase + '/customers');
    check(gone.status() === 403, 'an evicted session cookie: 403 (' + gone.status() + ')');
    check(/^rove(: |：)/.test(await page.title()) && /rove ui/.test(await page.evaluate(() => document.body.textContent)),
      'an evicted session cookie: a page that says what to do (' + (await page.title()) + ')');
    await page.goto(url, { waitUntil: 'load' });
    check((await page.$('nav')) !== null, 'an evicted session cookie: the printed URL opens a session again');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
