#!/usr/bin/env node
// Browser check of the break workflow (maker-checker) of the ReconWorkstation.
//
//   GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… (an analyst) \
//   GREENAI_E2E_APPROVER_USERNAME=… GREENAI_E2E_APPROVER_PASSWORD=… (an approver) \
//   node frontend/e2e/workflow.mjs --url http://127.0.0.1:PORT [--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]
//
// In headless Chromium (/usr/bin/chromium via playwright-core), two browsers (two fresh
// profiles, so two sessions):
//  1. the analyst signs in, opens the first open break, takes it (the owner becomes the
//     analyst, live), comments on it (the comment shows in the thread) and proposes to close
//     it (the pending proposal shows);
//  2. the approver signs in in the second browser, opens the approval queue, finds the break
//     and approves it;
//  3. the analyst's page — never reloaded — shows the break CLOSED, over the live stream.
// One line per milestone on stdout; on failure one line on stderr and exit 1. Usage errors exit 2.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Failure, SEL, credentials, signIn } from './session.mjs';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function usage(msg) {
  process.stderr.write(`workflow: ${msg}\nusage: GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… GREENAI_E2E_APPROVER_USERNAME=… GREENAI_E2E_APPROVER_PASSWORD=… node workflow.mjs --url URL [--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string' },
      timeout: { type: 'string', default: '120' },
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
const timeoutS = Number(opts.timeout);
if (!url) usage('--url is required');
if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage('--timeout must be a positive number of seconds');
const analyst = credentials();
const approver = credentials('APPROVER_');
if (!analyst.username || !analyst.password) usage('set GREENAI_E2E_USERNAME and GREENAI_E2E_PASSWORD (an analyst)');
if (!approver.username || !approver.password) usage('set GREENAI_E2E_APPROVER_USERNAME and GREENAI_E2E_APPROVER_PASSWORD (an approver)');
const executablePath = opts.chromium ?? process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p)) ?? CHROMIUM_CANDIDATES[0];

const deadline = Date.now() + timeoutS * 1000;
const remaining = () => Math.max(1, deadline - Date.now());
const say = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));
const firstLine = (s) => String(s ?? '').split('\n')[0];
const GRID = SEL.grid;
const WF = '[data-testid="detail-panel"] [data-testid="workflow"]';

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

/** The workflow's error line, if one shows (the BFF refused). */
const refusal = (page) => page.$eval('[data-testid="wf-error"]', (el) => el.textContent?.trim() ?? '').catch(() => '');

const profiles = [];
const contexts = [];
async function browser(verboseName) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `workflow-${verboseName}-`));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1000 },
    timeout: remaining(),
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => process.stderr.write(`[workflow:${verboseName}] page error: ${e.message}\n`));
  if (opts.verbose) page.on('console', (m) => process.stderr.write(`[workflow:${verboseName}] console.${m.type()}: ${m.text()}\n`));
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: remaining() });
  } catch (e) {
    throw new Failure(`could not open ${url}: ${firstLine(e.message)}`);
  }
  return page;
}

let pageA;
let exitCode = 1;
try {
  if (!fs.existsSync(executablePath)) throw new Failure(`chromium not found at ${executablePath}`);

  // 1. The analyst: take, comment, propose.
  pageA = await browser('analyst');
  const maker = await signIn(pageA, { ...analyst, timeout: remaining() });
  await say(`SIGNED-IN analyst=${maker.username} roles=${maker.roles}`);
  await pageA.waitForSelector(`${GRID}[data-loaded="true"]`, { timeout: remaining() }).catch(() => {
    throw new Failure('the grid never loaded its snapshot');
  });
  await pageA.click('[data-testid="status-filter"] [data-status="open"]');
  const breakId = await until(
    pageA,
    (sel) => document.querySelector(`${sel} tbody tr[data-break-id]`)?.getAttribute('data-break-id') ?? false,
    GRID,
    'no open break in the grid',
  );
  // a mark on the window: it survives only as long as the page is not reloaded
  await pageA.evaluate(() => {
    window.__workflowE2E = 'same page';
  });
  await pageA.click(`${GRID} tbody tr[data-break-id="${breakId}"]`);
  await pageA.waitForSelector(WF, { timeout: remaining() });
  await say(`SELECTED break=${breakId} status=${await pageA.getAttribute(WF, 'data-status')}`);

  if (!(await pageA.$('[data-testid="wf-take"]'))) throw new Failure(`${maker.username} is offered no Take on ${breakId}`);
  await pageA.click('[data-testid="wf-take"]');
  await until(
    pageA,
    ({ wf, user }) => {
      const err = document.querySelector('[data-testid="wf-error"]')?.textContent?.trim();
      if (err) return { error: err };
      return document.querySelector(wf)?.getAttribute('data-owner') === user ? { ok: true } : false;
    },
    { wf: WF, user: maker.username },
    `${breakId} never showed ${maker.username} as its owner`,
  ).then((r) => {
    if (r.error) throw new Failure(`take refused: ${r.error}`);
  });
  await say(`TAKEN break=${breakId} owner=${maker.username} (live)`);

  const marker = `e2e workflow ${Date.now().toString(36)}`;
  await pageA.fill('[data-testid="comment-text"]', marker);
  await pageA.click('[data-testid="comment-submit"]');
  await until(
    pageA,
    (mark) => [...document.querySelectorAll('[data-testid="comments"] [data-testid="comment"]')].some((li) => (li.textContent ?? '').includes(mark)),
    marker,
    `the comment never showed in the thread of ${breakId}`,
  );
  await say(`COMMENTED break=${breakId} "${marker}"`);

  await pageA.click('[data-testid="wf-propose"]');
  await pageA.selectOption('[data-testid="wf-reason"]', 'TIMING_ACCEPTED');
  await pageA.fill('[data-testid="wf-note"]', marker);
  await pageA.click('[data-testid="wf-submit"]');
  await until(
    pageA,
    () => {
      const err = document.querySelector('[data-testid="wf-error"]')?.textContent?.trim();
      if (err) return { error: err };
      return document.querySelector('[data-testid="wf-proposal"]') ? { ok: true } : false;
    },
    undefined,
    `the proposal on ${breakId} never showed`,
  ).then((r) => {
    if (r.error) throw new Failure(`propose refused: ${r.error}`);
  });
  await say(`PROPOSED break=${breakId} close TIMING_ACCEPTED`);

  // 2. The approver, in a second browser: the approval queue, approve.
  const pageB = await browser('approver');
  const checker = await signIn(pageB, { ...approver, timeout: remaining() });
  await say(`SIGNED-IN approver=${checker.username} roles=${checker.roles}`);
  if (!(await pageB.$('[data-testid="nav-approvals"]'))) throw new Failure(`${checker.username} is offered no approval queue`);
  await pageB.click('[data-testid="nav-approvals"]');
  const row = `[data-testid="approval-row"][data-break-id="${breakId}"]`;
  await pageB.waitForSelector(row, { timeout: remaining() }).catch(() => {
    throw new Failure(`${breakId} never showed in the approval queue`);
  });
  await pageB.fill(`${row} [data-testid="approval-text"]`, `approved by ${marker}`);
  await pageB.click(`${row} [data-testid="approval-approve"]`);
  const answer = await until(
    pageB,
    (sel) => {
      const el = document.querySelector(`${sel} [data-testid="approval-msg"]`);
      if (el) return { role: el.getAttribute('role'), text: (el.textContent ?? '').trim() };
      return document.querySelector(sel) ? false : { role: 'status', text: 'left the queue' };
    },
    row,
    `approving ${breakId} got no answer`,
  );
  if (answer.role !== 'status') throw new Failure(`approve refused: ${answer.text}`);
  await say(`APPROVED break=${breakId} by ${checker.username} (${answer.text})`);

  // 3. The analyst's page, never reloaded, shows the break CLOSED.
  const closed = await until(
    pageA,
    (wf) => {
      const el = document.querySelector(wf);
      if (el?.getAttribute('data-status') !== 'CLOSED') return false;
      return { same: window.__workflowE2E === 'same page', reason: document.querySelector('[data-testid="wf-close-reason"]')?.textContent?.trim() ?? '' };
    },
    WF,
    `${breakId} never showed CLOSED on the analyst's page`,
  );
  if (!closed.same) throw new Failure("the analyst's page was reloaded");
  await say(`CLOSED-LIVE break=${breakId} close_reason=${closed.reason || '-'} (no reload)`);
  if (await refusal(pageA)) throw new Failure(`the analyst's page shows an error: ${await refusal(pageA)}`);

  if (opts.screenshot) {
    fs.mkdirSync(path.dirname(path.resolve(opts.screenshot)), { recursive: true });
    await pageA.screenshot({ path: opts.screenshot, timeout: 30000 });
  }
  await say('DONE');
  exitCode = 0;
} catch (e) {
  process.stderr.write(`${e instanceof Failure ? e.message : `error: ${firstLine(e?.message ?? e)}`}\n`);
  if (pageA) {
    const failed = opts.screenshot ? opts.screenshot.replace(/(\.png)?$/i, '.failed.png') : path.join(os.tmpdir(), 'workflow.failed.png');
    await pageA.screenshot({ path: failed, timeout: 5000 }).then(
      () => process.stderr.write(`(screenshot of the analyst's page: ${failed})\n`),
      () => {},
    );
  }
} finally {
  for (const c of contexts) await c.close().catch(() => {});
  for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
}
process.exit(exitCode);
