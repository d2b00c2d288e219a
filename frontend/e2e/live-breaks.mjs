#!/usr/bin/env node
// Browser check of the live path of the ReconWorkstation.
//
//   node frontend/e2e/live-breaks.mjs --url http://127.0.0.1:PORT --wait-for-text TEXT \
//        --screenshot PATH [--timeout SECONDS] [--chromium PATH] [--verbose]
//
// 1. Opens the page in headless Chromium (Debian's /usr/bin/chromium, via playwright-core;
//    no browser download). When the app shows its sign-in page, signs in through the form
//    as GREENAI_E2E_USERNAME with GREENAI_E2E_PASSWORD (environment variables; any role
//    that may read breaks will do). Then switches the status filter to "All" and clears
//    other filters.
// 2. Waits until the grid has loaded its snapshot AND the SSE stream is live and synced,
//    then prints `READY rows=<n>` on stdout (flushed). The caller may now publish data.
// 3. Without reloading, waits until TEXT appears in the grid (live update), prints `SEEN`,
//    saves a screenshot to PATH and exits 0.
// On timeout or failure: one line on stderr, exit 1 (a screenshot of the failing state is
// saved next to PATH as *.failed.png). Usage errors exit 2.
// --timeout (default 60 s) bounds the whole run. The browser profile is a fresh temp dir.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Failure, credentials, landing, signIn } from './session.mjs';

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
    `live-breaks: ${msg}\nusage: node live-breaks.mjs --url URL --wait-for-text TEXT --screenshot PATH [--timeout SECONDS] [--chromium PATH] [--verbose]\n` +
      '(signs in as GREENAI_E2E_USERNAME with GREENAI_E2E_PASSWORD when the app asks)\n',
  );
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string' },
      'wait-for-text': { type: 'string' },
      screenshot: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      chromium: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
const { url, screenshot, verbose } = opts;
const text = opts['wait-for-text'];
const timeoutS = Number(opts.timeout);
if (!url) usage('--url is required');
if (text === undefined || text === '') usage('--wait-for-text is required');
if (!screenshot) usage('--screenshot is required');
if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage('--timeout must be a positive number of seconds');

const executablePath =
  opts.chromium ?? process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p)) ?? CHROMIUM_CANDIDATES[0];

const deadline = Date.now() + timeoutS * 1000;
const remaining = () => Math.max(1, deadline - Date.now());
const say = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));
const log = (line) => {
  if (verbose) process.stderr.write(`[live-breaks] ${line}\n`);
};

const GRID = '[data-testid="break-grid"]';

let context;
let page;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'live-breaks-profile-'));
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
  page.on('pageerror', (e) => process.stderr.write(`[live-breaks] page error: ${e.message}\n`));

  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: remaining() });
  } catch (e) {
    throw new Failure(`could not open ${url}: ${String(e.message).split('\n')[0]}`);
  }

  // Stage 0: sign in (the app shows the sign-in page while there is no session).
  if ((await landing(page, remaining())) === 'sign-in') {
    const { username, password } = credentials();
    if (!username || !password) {
      throw new Failure('the app asks to sign in: set GREENAI_E2E_USERNAME and GREENAI_E2E_PASSWORD');
    }
    const who = await signIn(page, { username, password, timeout: remaining() });
    log(`signed in as ${who.username} (${who.roles})`);
  }

  // Stage 1: the grid is on screen with its snapshot, and the stream is live.
  try {
    await page.waitForSelector(`${GRID}[data-loaded="true"]`, { timeout: remaining() });
  } catch {
    throw new Failure(`timeout after ${timeoutS}s: the grid never loaded its snapshot from GET /api/breaks at ${url}`);
  }
  // Show every break: status "All", no recon/cause/search filter.
  await page.click('[data-testid="status-filter"] [data-status="all"]');
  const clear = page.locator('button.link', { hasText: 'Clear filters' });
  if (await clear.count()) await clear.click();
  // Normally the stream opens within a second. If it has not opened after a grace period
  // (half the budget, at most 15 s), go on anyway: the stream may still connect, and the
  // final error then says what the indicator showed.
  const grace = Math.min(15000, (timeoutS * 1000) / 2);
  try {
    await page.waitForSelector(`${GRID}[data-live="true"][data-synced="true"]`, { timeout: Math.min(grace, remaining()) });
  } catch {
    const state = await page.getAttribute('[data-testid="live-indicator"]', 'data-state').catch(() => '?');
    process.stderr.write(`[live-breaks] warning: GET /api/stream not live after ${Math.round(grace / 1000)}s (indicator: ${state}); continuing\n`);
  }
  const rows = Number(await page.getAttribute(GRID, 'data-rows'));
  log(`grid ready, ${rows} rows, virtualized=${await page.getAttribute(GRID, 'data-virtualized')}`);
  await say(`READY rows=${rows}`);

  // Stage 2: TEXT shows up in the grid through a live update (no reload).
  const found = () =>
    page.evaluate(
      ({ sel, needle }) => {
        const norm = (s) => s.replace(/\s+/g, ' ').trim();
        const grid = document.querySelector(sel);
        if (!grid) return false;
        const want = norm(needle);
        const body = grid.querySelector('tbody');
        if (!body) return false;
        if (norm(body.textContent ?? '').includes(want)) return true;
        return [...body.querySelectorAll('tr')].some((tr) => norm(tr.innerText ?? '').includes(want));
      },
      { sel: GRID, needle: text },
    );
  let searched = false;
  for (;;) {
    if (await found()) break;
    // A virtualised grid renders only the visible rows: narrow it with the quick search
    // (which matches the same rendered text) so a matching row is in the DOM.
    if (!searched && (await page.getAttribute(GRID, 'data-virtualized')) === 'true') {
      log('grid is virtualised; using the quick search');
      await page.fill('[data-testid="quick-search"]', text);
      searched = true;
      continue;
    }
    if (Date.now() >= deadline) {
      const live = await page.getAttribute('[data-testid="live-indicator"]', 'data-state').catch(() => '?');
      const n = await page.getAttribute(GRID, 'data-rows').catch(() => '?');
      throw new Failure(`timeout after ${timeoutS}s: text ${JSON.stringify(text)} never appeared in the grid (rows=${n}, stream=${live})`);
    }
    await page.waitForTimeout(150);
  }
  await say('SEEN');

  // Bring the matching row into view for the screenshot.
  await page.evaluate(
    ({ sel, needle }) => {
      const rows = document.querySelectorAll(`${sel} tbody tr`);
      for (const tr of rows) if ((tr.textContent ?? '').includes(needle)) return tr.scrollIntoView({ block: 'center' });
    },
    { sel: GRID, needle: text },
  );
  fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
  await page.screenshot({ path: screenshot, timeout: 30000 });
  log(`screenshot saved to ${screenshot}`);
  exitCode = 0;
} catch (e) {
  const reason = e instanceof Failure ? e.message : `error: ${String(e?.message ?? e).split('\n')[0]}`;
  process.stderr.write(`${reason}\n`);
  if (page) {
    try {
      const failed = screenshot.replace(/(\.png)?$/i, '.failed.png');
      fs.mkdirSync(path.dirname(path.resolve(failed)), { recursive: true });
      await page.screenshot({ path: failed, timeout: 5000 });
    } catch {
      /* best effort */
    }
  }
} finally {
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
