#!/usr/bin/env node
// Browser check of identity and the audit trail of the ReconWorkstation.
//
//   GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… \
//   [GREENAI_E2E_AUDITOR_USERNAME=… GREENAI_E2E_AUDITOR_PASSWORD=…] \
//   node frontend/e2e/sign-in-audit.mjs --url http://127.0.0.1:PORT \
//        [--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]
//
// In headless Chromium (Debian's /usr/bin/chromium, via playwright-core), with a fresh
// profile:
//  1. the app shows its sign-in page (no session yet);
//  2. signs in as the analyst (GREENAI_E2E_USERNAME/PASSWORD) through the form, and checks
//     that nothing of the session is visible to JavaScript (no storage, HttpOnly cookie);
//  3. opens the first break of the grid (status "All"), labels it from the detail panel
//     with a cause other than its current one and a unique reason;
//  4. sees that label in the break's own audit view ("History"), by the analyst;
//  5. signs out, and proves the session is gone: the sign-in page is back and
//     `fetch('api/auth/me')` (and api/breaks) from the page answer 401;
//  6. when GREENAI_E2E_AUDITOR_USERNAME/PASSWORD are given (an approver or admin: the
//     `audit` permission), signs in as that user, opens the audit page, filters it on the
//     break and the analyst, finds the same entry (same seq), verifies the chain, signs out.
// One line per milestone on stdout; on failure one line on stderr and exit 1 (a screenshot
// of the failing state goes next to --screenshot as *.failed.png, else to the temp dir).
// Usage errors exit 2. --timeout (default 90 s) bounds the whole run.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Failure, SEL, credentials, landing, signIn, signOut, statusFromPage } from './session.mjs';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function usage(msg) {
  process.stderr.write(
    `sign-in-audit: ${msg}\nusage: GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… node sign-in-audit.mjs --url URL ` +
      '[--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]\n' +
      '(GREENAI_E2E_AUDITOR_USERNAME / GREENAI_E2E_AUDITOR_PASSWORD add the audit page check)\n',
  );
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string' },
      timeout: { type: 'string', default: '90' },
      screenshot: { type: 'string' },
      chromium: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
const url = opts.url ?? process.env.GREENAI_E2E_URL;
const { screenshot, verbose } = opts;
const timeoutS = Number(opts.timeout);
if (!url) usage('--url is required');
if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage('--timeout must be a positive number of seconds');
const analyst = credentials();
const auditor = credentials('AUDITOR_');
if (!analyst.username || !analyst.password) usage('set GREENAI_E2E_USERNAME and GREENAI_E2E_PASSWORD (an analyst)');

const executablePath =
  opts.chromium ?? process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p)) ?? CHROMIUM_CANDIDATES[0];

const deadline = Date.now() + timeoutS * 1000;
const remaining = () => Math.max(1, deadline - Date.now());
const say = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));
const log = (line) => {
  if (verbose) process.stderr.write(`[sign-in-audit] ${line}\n`);
};
const firstLine = (s) => String(s ?? '').split('\n')[0];

const GRID = SEL.grid;
const DETAIL = '[data-testid="detail-panel"]';
const ACTIONS = '[data-testid="analyst-actions"]';
const HISTORY = '[data-testid="break-audit"]';
const AUDIT_PAGE = '[data-testid="audit-page"]';

/** Wait until `fn(arg)` in the page returns something truthy; that value, or a Failure. */
async function until(page, fn, arg, what) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout: remaining(), polling: 150 });
    return await handle.jsonValue();
  } catch (e) {
    if (e instanceof Failure) throw e;
    throw new Failure(`timeout after ${timeoutS}s: ${what}`);
  }
}

let context;
let page;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sign-in-audit-profile-'));
let exitCode = 1;

try {
  if (!fs.existsSync(executablePath)) throw new Failure(`chromium not found at ${executablePath} (install it: apt-get install -y chromium)`);
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 900 },
    timeout: remaining(),
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => process.stderr.write(`[sign-in-audit] page error: ${e.message}\n`));

  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: remaining() });
  } catch (e) {
    throw new Failure(`could not open ${url}: ${firstLine(e.message)}`);
  }

  // 1. No session yet: the sign-in page.
  if ((await landing(page, remaining())) !== 'sign-in') throw new Failure('a fresh browser was shown the workstation, not the sign-in page');
  const sso = (await page.$('[data-testid="sign-in-sso"]')) !== null;
  await say(`SIGN-IN page shown (single sign-on ${sso ? 'offered' : 'not offered'})`);

  // 2. Sign in as the analyst; the session stays out of JavaScript's reach.
  const who = await signIn(page, { ...analyst, timeout: remaining() });
  const exposed = await page.evaluate(() => ({
    storage: [...Object.keys(localStorage), ...Object.keys(sessionStorage)],
    cookie: document.cookie,
  }));
  if (exposed.storage.length > 0) throw new Failure(`the app keeps something in web storage: ${exposed.storage.join(', ')}`);
  if (/greenai_session/.test(exposed.cookie)) throw new Failure('the session cookie is readable from JavaScript (not HttpOnly)');
  await say(`SIGNED-IN user=${who.username} roles=${who.roles || '-'} (no web storage, session cookie not readable)`);

  // 3. The first break of the grid, every status, no filter.
  try {
    await page.waitForSelector(`${GRID}[data-loaded="true"]`, { timeout: remaining() });
  } catch {
    throw new Failure(`timeout after ${timeoutS}s: the grid never loaded its snapshot from GET /api/breaks`);
  }
  await page.click('[data-testid="status-filter"] [data-status="all"]');
  const clear = page.locator('button.link', { hasText: 'Clear filters' });
  if (await clear.count()) await clear.click();
  const breakId = await until(
    page,
    (sel) => document.querySelector(`${sel} tbody tr[data-break-id]`)?.getAttribute('data-break-id') ?? false,
    GRID,
    'no break in the grid to label',
  );
  await page.click(`${GRID} tbody tr[data-break-id]`);
  try {
    await page.waitForSelector(`${DETAIL} ${ACTIONS}`, { timeout: remaining() });
  } catch {
    throw new Failure(`timeout: the detail panel of ${breakId} never opened`);
  }
  if ((await page.getAttribute(ACTIONS, 'data-allowed')) !== 'true') {
    const why = await page.textContent('[data-testid="analyst-denied"]').catch(() => '');
    throw new Failure(`${who.username} may not label: ${firstLine(why).trim()}`);
  }
  const current = await page.$eval('[data-testid="label-cause"]', (s) => s.value);
  await say(`SELECTED break=${breakId} cause=${current || 'pending'}`);

  // Label it with another cause, and a reason that marks this run.
  const causes = await page.$$eval('[data-testid="label-cause"] option', (os) => os.filter((o) => !o.disabled && o.value).map((o) => o.value));
  const cause = causes.find((c) => c !== current) ?? causes[0];
  if (!cause) throw new Failure('the cause list is empty');
  const marker = `e2e sign-in-audit ${Date.now().toString(36)}`;
  await page.selectOption('[data-testid="label-cause"]', cause);
  await page.fill('[data-testid="action-reason"]', marker);
  await page.click('[data-testid="label-submit"]');
  const labelled = await until(
    page,
    () => {
      const el = document.querySelector('[data-testid="label-result"]');
      return el ? { state: el.getAttribute('data-state'), text: (el.textContent ?? '').trim() } : false;
    },
    undefined,
    `labelling ${breakId} got no answer`,
  );
  if (labelled.state !== 'ok') throw new Failure(`labelling ${breakId} as ${cause} failed: ${labelled.text}`);
  await say(`LABELLED break=${breakId} cause=${cause} (${labelled.text.replace(/^✓\s*/, '')})`);

  // 4. The label in the break's own audit view.
  const seq = await until(
    page,
    ({ history, user, mark }) => {
      for (const li of document.querySelectorAll(`${history} li[data-action="break.label"]`)) {
        if (li.getAttribute('data-actor') === user && (li.textContent ?? '').includes(mark)) return Number(li.getAttribute('data-seq'));
      }
      return false;
    },
    { history: HISTORY, user: who.username, mark: marker },
    `the label of ${breakId} by ${who.username} never showed in the break's History`,
  );
  const line = await page.$eval(`${HISTORY} li[data-seq="${seq}"]`, (li) => li.innerText.trim().replace(/\s*\n\s*/g, ' | '));
  await say(`AUDITED break=${breakId} seq=${seq}: ${line}`);

  // 5. Sign out: the sign-in page, and the session refused from then on.
  await signOut(page, remaining());
  const me = await statusFromPage(page, 'api/auth/me');
  const breaks = await statusFromPage(page, 'api/breaks?status=all&limit=1');
  if (me !== 401) throw new Failure(`after signing out, GET api/auth/me answered ${me}, not 401`);
  if (breaks !== 401) throw new Failure(`after signing out, GET api/breaks answered ${breaks}, not 401`);
  await say(`SIGNED-OUT sign-in page shown; api/auth/me=${me} api/breaks=${breaks}`);

  // 6. The auditor sees the same entry on the audit page.
  if (!auditor.username || !auditor.password) {
    await say('AUDITOR skipped (GREENAI_E2E_AUDITOR_USERNAME / GREENAI_E2E_AUDITOR_PASSWORD not set)');
  } else {
    const checker = await signIn(page, { ...auditor, timeout: remaining() });
    await say(`SIGNED-IN user=${checker.username} roles=${checker.roles || '-'}`);
    if (!(await page.$('[data-testid="nav-audit"]'))) {
      throw new Failure(`${checker.username} (${checker.roles}) is offered no audit page: the audit permission is missing`);
    }
    await page.click('[data-testid="nav-audit"]');
    try {
      await page.waitForSelector(AUDIT_PAGE, { timeout: remaining() });
    } catch {
      throw new Failure('timeout: the audit page never opened');
    }
    await page.fill('[data-testid="audit-break"]', breakId);
    await page.fill('[data-testid="audit-actor"]', who.username);
    await page.click('[data-testid="audit-apply"]');
    const row = await until(
      page,
      ({ want, user, error }) => {
        const err = document.querySelector(error)?.textContent?.trim();
        if (err) return { error: err };
        const tr = document.querySelector(`[data-testid="audit-table"] tr[data-seq="${want}"]`);
        if (!tr || tr.getAttribute('data-action') !== 'break.label' || tr.getAttribute('data-actor') !== user) return false;
        return { text: (tr.textContent ?? '').replace(/\s+/g, ' ').trim() };
      },
      { want: seq, user: who.username, error: '[data-testid="audit-error"]' },
      `entry ${seq} (break.label of ${breakId} by ${who.username}) never showed on the audit page`,
    );
    if (row.error) throw new Failure(`the audit page failed: ${row.error}`);
    if (!row.text.includes(marker)) throw new Failure(`entry ${seq} on the audit page lacks the label's reason: ${row.text}`);
    const csv = await page.getAttribute('[data-testid="export-csv"]', 'href');
    if (!csv?.includes(`break_id=${encodeURIComponent(breakId)}`)) throw new Failure(`the CSV export does not carry the filters: ${csv}`);
    await say(`AUDIT-PAGE seq=${seq} action=break.label actor=${who.username} break=${breakId} (export ${csv})`);

    await page.click('[data-testid="verify-chain"]');
    const verified = await until(
      page,
      () => {
        const el = document.querySelector('[data-testid="verify-result"]');
        return el ? { intact: el.getAttribute('data-intact'), text: (el.textContent ?? '').trim() } : false;
      },
      undefined,
      'the chain verification never answered',
    );
    if (verified.intact === 'false') throw new Failure(`the audit chain does not verify: ${verified.text}`);
    await say(`VERIFY intact=${verified.intact}: ${verified.text.replace(/^[✓!]\s*/, '')}`);
    await signOut(page, remaining());
    await say(`SIGNED-OUT ${checker.username}`);
  }

  if (screenshot) {
    fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
    await page.screenshot({ path: screenshot, timeout: 30000 });
    log(`screenshot saved to ${screenshot}`);
  }
  await say('DONE');
  exitCode = 0;
} catch (e) {
  const reason = e instanceof Failure ? e.message : `error: ${firstLine(e?.message ?? e)}`;
  process.stderr.write(`${reason}\n`);
  if (page) {
    try {
      const failed = screenshot ? screenshot.replace(/(\.png)?$/i, '.failed.png') : path.join(os.tmpdir(), 'sign-in-audit.failed.png');
      fs.mkdirSync(path.dirname(path.resolve(failed)), { recursive: true });
      await page.screenshot({ path: failed, timeout: 5000 });
      process.stderr.write(`(screenshot of the failing page: ${failed})\n`);
    } catch {
      /* best effort */
    }
  }
} finally {
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
