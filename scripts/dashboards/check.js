// Opens every strategy's /dashboard in Debian's Chromium with real data behind it: starts
// the strategy's binaries on a private redis-server, with the real SMTP sink (mailer-sink),
// makes jobs, failures, workers, groups and dead letters through the strategy itself, then
// opens each page, checks what it says and that the browser logged no error, clicks each
// action and watches its effect (a retried job reaches the sink's ledger), and writes one
// screenshot per page. Exits 1 on the first thing that is wrong, saying what.
//
// usage: node check.js BIN_DIR OUT_DIR
// Needs playwright-core on NODE_PATH (scripts/check-dashboards sets it) and CHROMIUM.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [BIN, OUT] = process.argv.slice(2);
const WAIT_MS = 20000;
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const children = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-dashboards-'));

function fail(message) {
  throw new Error(message);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `check` (sync or async) until it returns something truthy; fails after WAIT_MS.
async function waitFor(what, check, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let value;
    try {
      value = await check();
    } catch (_) {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) fail(`timed out after ${timeout} ms waiting until ${what}`);
    await sleep(100);
  }
}

// A child process whose output is kept, stopped when the check ends.
function start(name, file, args, env = {}) {
  const child = spawn(file, args, { env: { ...process.env, RUST_LOG: 'info', ...env } });
  child.name = name;
  child.log = '';
  child.stdout.on('data', (d) => { child.log += d; });
  child.stderr.on('data', (d) => { child.log += d; });
  children.push(child);
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function redis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(scratch, 'redis-'));
  const child = start('redis-server', 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  await waitFor('redis-server answers', () => child.log.includes('Ready to accept connections'));
  return { child, url: `redis://127.0.0.1:${port}/` };
}

// The real SMTP sink on `port`, its ledger a JSON line per accepted mail.
async function sink(port, extra = []) {
  const ledger = path.join(scratch, `ledger-${port}-${Date.now()}.jsonl`);
  const child = start('mailer-sink', path.join(BIN, 'mailer-sink'),
    ['--port', String(port), '--ledger', ledger, ...extra]);
  await waitFor('the sink listens', () => /listening|Listening|SMTP/.test(child.log));
  child.ledger = () => (fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : []);
  return child;
}

async function web(name, binary, args, env) {
  const port = await freePort();
  const child = start(name, path.join(BIN, binary), [...args, '--port', String(port)], env);
  child.url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} serves /healthz`, async () => (await fetch(`${child.url}/healthz`)).ok);
  return child;
}

async function json(url) {
  const answer = await fetch(url);
  return answer.json();
}

async function get(base, pathname) {
  return fetch(`${base}${pathname}`);
}

// One browser tab that fails the check on any console error or page error.
async function tab(browser, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => d.accept());
  return page;
}

const shots = [];

// Opens `url`, checks each text is on it and nothing went wrong, and takes its picture.
async function visit(page, url, name, texts = []) {
  const answer = await page.goto(url, { waitUntil: 'load' });
  if (!answer || answer.status() !== 200) fail(`${url}: status ${answer && answer.status()}`);
  await expectText(page, name, texts);
  await shot(page, name);
}

async function expectText(page, name, texts) {
  for (const text of texts) {
    await waitFor(`${name} shows ${JSON.stringify(text)}`,
      async () => (await page.locator('body').innerText()).includes(text), 10000)
      .catch(async (e) => fail(`${e.message}\n--- the page says:\n${await page.locator('main').innerText()}`));
  }
  if (page.problems.length) fail(`${name}: ${page.problems.join('; ')}`);
}

async function shot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

// The picture of a strategy for the README and the slides: the top 1280x720 of the page.
async function slideShot(page, strategy) {
  fs.mkdirSync(path.join(OUT, 'slides'), { recursive: true });
  await page.screenshot({ path: path.join(OUT, 'slides', `strategy-${strategy}.png`), clip: { x: 0, y: 0, width: 1280, height: 720 } });
}

// Presses the first form button `label` on the page and waits for the page it leads to.
async function press(page, label) {
  const button = page.getByRole('button', { name: label, exact: true }).first();
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

async function strategy5(browser) {
  const r = await redis();
  const smtpPort = await freePort();
  const env = { REDIS_URL: r.url, SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
  const front = await web('strategy-5 web', 'strategy-5', ['--role', 'web'], env);
  const base = `${front.url}/dashboard`;
  start('strategy-5 scheduler', path.join(BIN, 'strategy-5'), ['--role', 'scheduler'], env);
  const send = async (text) => {
    const answer = await get(front.url, `/ada@example.com/Hello/${encodeURIComponent(text)}`);
    if (!answer.ok) fail(`enqueue: ${answer.status} ${await answer.text()}`);
  };
  const failedCount = async () => (await json(`${front.url}/resque/failed`)).count;

  // A job whose send fails while the mail server is away, with a retry in an hour: delayed.
  const retrying = start('strategy-5 worker (retry)', path.join(BIN, 'strategy-5'),
    ['--role', 'worker', '--min', '1', '--max', '1', '--retry', '2', '--retry-delay-ms', '3600000'], env);
  await send('to be retried in an hour');
  await waitFor('a delayed retry', async () => Object.keys((await json(`${front.url}/resque/delayed`)).delayed).length === 1);
  await stop(retrying);

  // Jobs waiting in the queue (no worker runs), one of them carrying markup.
  for (const text of ['<script>alert(1)</script>', 'second', 'third', 'fourth']) await send(text);
  const page = await tab(browser);
  await visit(page, base, 'strategy-5-overview', ['emailQueue', 'pending', '4']);
  await visit(page, `${base}/queues`, 'strategy-5-queues', ['emailQueue (4 jobs)', '<script>alert(1)</script>']);
  await visit(page, `${base}/delayed`, 'strategy-5-delayed', ['to be retried in an hour', 'in 59 min']);

  // A worker with reliable fetch: with the mail server away, every job fails.
  const worker = start('strategy-5 worker', path.join(BIN, 'strategy-5'),
    ['--role', 'worker', '--min', '1', '--max', '1', '--reliable'], env);
  await waitFor('4 failed jobs', async () => (await failedCount()) === 4);
  await visit(page, `${base}/failed`, 'strategy-5-failed', ['4\nfailed jobs', 'SMTPError', '<script>alert(1)</script>']);
  await slideShot(page, 5);
  if (await page.evaluate(() => document.querySelectorAll('main script').length)) fail('a payload became a script element');
  await visit(page, `${base}/workers`, 'strategy-5-workers', ['emailQueue', 'idle']);
  const workerRow = page.locator('tbody tr').filter({ hasText: 'emailQueue' }).first();
  const cells = await workerRow.locator('td.num').allInnerTexts();
  if (cells[1] !== '4') fail(`the worker's failed count is ${cells[1]}, not 4`);

  // The mail server is back, slow: a retried job is seen working, then is sent.
  let mail = await sink(smtpPort, ['--latency-ms', '4000']);
  await visit(page, `${base}/failed`, 'strategy-5-failed', ['4\nfailed jobs']);
  await press(page, 'Retry');
  await expectText(page, 'the failed page after a retry', ['Job 0 is back on its queue.', '3\nfailed jobs']);
  const working = await tab(browser);
  await visit(working, `${base}/working`, 'strategy-5-working', ['sendEmail', ' ago)']);
  await visit(working, `${base}/processing`, 'strategy-5-processing', ['processing:emailQueue:']);
  await working.close();
  await waitFor('the retried mail is in the ledger', () => mail.ledger().length === 1);
  await waitFor('the worker logs the send', () => /sendEmail|success/.test(worker.log));

  await press(page, 'Remove');
  await expectText(page, 'the failed page after a remove', ['Job 0 was removed.', '2\nfailed jobs']);
  await press(page, 'Retry all');
  await expectText(page, 'the failed page after retry all', ['2 failed jobs are back on their queues.']);
  await waitFor('both retried mails are in the ledger', () => mail.ledger().length === 3, 30000);

  // The mail server goes away again; a new failure is cleared.
  await stop(mail);
  await send('to be cleared');
  await waitFor('1 failed job', async () => (await failedCount()) === 1);
  // No reload: the page's live refresh shows the new failure (and its buttons) by itself.
  await page.evaluate(() => { window.sameDocument = true; });
  await expectText(page, 'the failed page, refreshed live', ['1\nfailed jobs', 'to be cleared']);
  if (!(await page.evaluate(() => window.sameDocument))) fail('the page was reloaded, not refreshed in place');
  await press(page, 'Clear');
  await expectText(page, 'the failed page after clear', ['1 failed jobs were deleted.', 'no failed jobs']);
  if (mail.ledger().length !== 3) fail('a cleared job was sent');
  // The stats page draws its chart from samples taken as pages refresh.
  await visit(page, `${base}/stats`, 'strategy-5-stats', ['processed', 'Counters']);
  await page.waitForTimeout(4500);
  await expectText(page, 'the stats page after two refreshes', ['processed']);
  await shot(page, 'strategy-5-stats');
  await phone(browser, `${base}/failed`, 'strategy-5-phone');
  // A worker on the bus subscribes the demo's applications: the bus page lists them.
  start('strategy-5 bus worker', path.join(BIN, 'strategy-5'), ['--role', 'worker', '--bus', '--min', '1', '--max', '1'], env);
  await waitFor('the bus has its apps', async () => (await json(`${front.url}/resque/bus/apps`)).apps.length > 0);
  await visit(page, `${base}/bus`, 'strategy-5-bus', ['offload_mailer', 'bus_incoming', 'email_requested']);
  await page.close();
  for (const child of [front, worker, r.child]) await stop(child);
}

// The page must fit a phone's width: wide tables scroll inside their box, the page does not.
async function phone(browser, url, name) {
  const page = await tab(browser, { width: 390, height: 844 });
  await visit(page, url, name);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) fail(`${url} is ${overflow} px wider than a phone's screen`);
  await page.close();
}

async function strategy6(browser, backend) {
  const r = await redis();
  const smtpPort = await freePort();
  let mail = await sink(smtpPort, ['--failure-rate', '1']);
  const env = { REDIS_URL: r.url, SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
  const common = ['--backend', backend];
  const front = await web('strategy-6 web', 'strategy-6', ['--role', 'web', ...common], env);
  const consumer = start('strategy-6 mailer', path.join(BIN, 'strategy-6'),
    ['--role', 'consumer', '--max-attempts', '1', ...common], env);
  const audit = start('strategy-6 audit', path.join(BIN, 'strategy-6'),
    ['--role', 'consumer', '--group', 'audit', ...common], env);
  await waitFor('both consumers are ready', () => consumer.log.includes('consumer ready') && audit.log.includes('consumer ready'));
  for (const [to, text] of [['ada', '<b>bold</b>'], ['bob', 'two'], ['cy', 'three']]) {
    const answer = await get(front.url, `/${to}@example.com/Hello/${encodeURIComponent(text)}`);
    if (!answer.ok) fail(`publish: ${answer.status}`);
  }
  await waitFor('3 dead letters', async () => (await json(`${front.url}/parked`)).count === 3);
  const base = `${front.url}/dashboard`;
  const name = (page) => `strategy-6-${backend}-${page}`;
  const page = await tab(browser);
  await visit(page, base, name('groups'), ['mailer', 'audit', backend, 'Members']);
  if (backend === 'lists') await slideShot(page, 6);
  const holders = await page.locator('tbody tr td:nth-child(7)').allInnerTexts();
  if (!holders.some((h) => /\w+-\w+/.test(h))) fail(`no lease holder shown: ${holders}`);
  await visit(page, `${base}/dead`, name('dead'), ['Group mailer', '<b>bold</b>', 'Retry', 'Replay from here']);
  await visit(page, `${base}/retention`, name('retention'), ['first retained']);
  if (backend === 'lists') {
    // The mail server works again: a retried letter is published again and sent, and a
    // group replayed from another letter reads (and sends) its event again.
    await stop(mail);
    mail = await sink(smtpPort);
    await page.goto(`${base}/dead`);
    await press(page, 'Retry');
    await expectText(page, 'the dead letters after a retry', ['is published again']);
    await waitFor('the retried event is sent', () => mail.ledger().length === 1);
    await press(page, 'Replay from here');
    await expectText(page, 'the groups page after a replay', ['reads partition']);
    await waitFor('the replayed event is sent', () => mail.ledger().length >= 2);
    await shot(page, name('replayed'));
    await phone(browser, base, 'strategy-6-phone');
  }
  await page.close();
  for (const child of [front, consumer, audit, mail, r.child]) await stop(child);
}

// A tile's number, as the page shows it now.
async function tile(page, label) {
  const tileBox = page.locator('.tile').filter({ has: page.locator('span', { hasText: label }) }).first();
  return (await tileBox.locator('b').innerText()).trim();
}

async function waitTile(page, label, value) {
  await waitFor(`the tile "${label}" says ${value}`, async () => (await tile(page, label)) === value)
    .catch(async (e) => fail(`${e.message} (it says ${await tile(page, label).catch(() => '?')})`));
}

async function sendMails(base, count, tag) {
  for (let i = 0; i < count; i += 1) {
    const answer = await get(base, `/ada@example.com/${tag}${i}/hello`);
    if (answer.status !== 200) fail(`send: ${answer.status} ${await answer.text()}`);
  }
}

async function strategy2(browser) {
  const smtpPort = await freePort();
  const mail = await sink(smtpPort, ['--latency-ms', '3000']);
  const front = await web('strategy-2', 'strategy-2', [], { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  const page = await tab(browser);
  await sendMails(front.url, 3, 'slow');
  await visit(page, `${front.url}/dashboard`, 'strategy-2-in-flight', ['sends in flight']);
  await waitTile(page, 'sends in flight', '3');
  await shot(page, 'strategy-2-in-flight');
  await waitTile(page, 'sent', '3');
  // The mail server goes away: the next mails are lost, and the page (refreshing by
  // itself) counts them.
  await stop(mail);
  await sendMails(front.url, 2, 'lost');
  await waitTile(page, 'lost so far', '2');
  await expectText(page, 'strategy 2', ['email lost']);
  await shot(page, 'strategy-2-status');
  await slideShot(page, 2);
  await page.close();
}

async function strategy3(browser) {
  const smtpPort = await freePort();
  const mail = await sink(smtpPort);
  const app = await web('strategy-3', 'strategy-3', [], { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  await sendMails(app.url, 2, 'ipc');
  await waitFor('both mails are sent', () => mail.ledger().length === 2);
  const page = await tab(browser);
  await visit(page, `${app.url}/dashboard`, 'strategy-3-status', ['email worker', 'web server']);
  await waitTile(page, 'sent', '2');
  // SIGKILL the worker: the supervisor re-forks it, and the page counts the restart.
  const { worker } = await json(`${app.url}/healthz`);
  process.kill(worker, 'SIGKILL');
  const workerRow = page.locator('tbody tr').filter({ hasText: 'email worker' });
  await waitFor('the worker restart is counted', async () => (await workerRow.locator('td').last().innerText()) === '1');
  await expectText(page, 'strategy 3', ['email worker']);
  await shot(page, 'strategy-3-status');
  await slideShot(page, 3);
  await page.close();
  await stop(mail);
}

async function strategy4(browser) {
  const r = await redis();
  const smtpPort = await freePort();
  const mail = await sink(smtpPort);
  const env = { REDIS_URL: r.url, SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
  const front = await web('strategy-4 web', 'strategy-4', ['--role', 'web'], env);
  await sendMails(front.url, 1, 'nobody');
  const page = await tab(browser);
  await visit(page, `${front.url}/dashboard`, 'strategy-4-nobody', ['nobody is subscribed']);
  await waitTile(page, 'heard by nobody (lost)', '1');
  start('strategy-4 worker', path.join(BIN, 'strategy-4'), ['--role', 'worker', '--throttle-ms', '0'], env);
  await waitTile(page, 'subscribed now', '1');
  await sendMails(front.url, 2, 'heard');
  await waitFor('both heard mails are sent', () => mail.ledger().length === 2);
  await waitTile(page, 'published', '3');
  await expectText(page, 'strategy 4', ['Subscribers, as Redis sees them', '127.0.0.1:']);
  await shot(page, 'strategy-4-status');
  await slideShot(page, 4);
  await page.close();
}

async function main() {
  if (!BIN || !OUT) {
    console.error('usage: node check.js BIN_DIR OUT_DIR');
    process.exit(2);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS });
  const checks = [
    ['strategy 2', () => strategy2(browser)],
    ['strategy 3', () => strategy3(browser)],
    ['strategy 4', () => strategy4(browser)],
    ['strategy 5', () => strategy5(browser)],
    ['strategy 6 (lists)', () => strategy6(browser, 'lists')],
    ['strategy 6 (streams)', () => strategy6(browser, 'streams')],
  ];
  let failed = 0;
  try {
    for (const [name, check] of checks) {
      const began = Date.now();
      try {
        await check();
        console.log(`${name}: ok (${((Date.now() - began) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed += 1;
        console.log(`${name}: FAILED: ${e.message}`);
        for (const child of children) {
          if (child.log) console.log(`--- ${child.name}:\n${child.log.split('\n').slice(-15).join('\n')}`);
        }
      } finally {
        await Promise.all(children.splice(0).map(stop));
      }
    }
  } finally {
    await browser.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${new Set(shots).size} screenshots in ${OUT}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`check-dashboards: ${e.message}`);
  Promise.all(children.map(stop)).finally(() => process.exit(2));
});
