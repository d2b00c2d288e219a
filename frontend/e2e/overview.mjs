#!/usr/bin/env node
// Browser check of the recon overview, the schedule and the blotter's CSV export.
//
//   GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… \
//   node frontend/e2e/overview.mjs --url http://127.0.0.1:PORT [--recon NAME] [--days N]
//        [--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]
//
// In headless Chromium (/usr/bin/chromium via playwright-core; no browser download):
//  1. signs in through the form (any user who may read breaks);
//  2. reads GET api/stats?days=N itself (from the page: its cookie, its origin), opens the
//     Overview page and checks, for every recon in the stats (or --recon, which must be
//     there): the card names the recon, its open and overdue counts and today's match rate
//     match the JSON, its four charts rendered (a canvas of non-zero size each), and its SLA
//     breaches list loaded;
//  3. opens the Schedule page and sees at least one job row;
//  4. back on the blotter, with the status "All", clicks the CSV export, receives the file
//     as a download and checks its header line (it must name the break_id column).
// One line per milestone on stdout; on failure one line on stderr and exit 1 (a screenshot
// of the failing page next to --screenshot, or in the temp dir). Usage errors exit 2.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { Failure, SEL, credentials, signIn } from './session.mjs';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const CHARTS = ['match-rate', 'flow', 'ageing', 'cause'];

function usage(msg) {
  process.stderr.write(`overview: ${msg}\nusage: GREENAI_E2E_USERNAME=… GREENAI_E2E_PASSWORD=… node overview.mjs --url URL [--recon NAME] [--days N] [--timeout SECONDS] [--screenshot PATH] [--chromium PATH] [--verbose]\n`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string' },
      recon: { type: 'string' },
      days: { type: 'string', default: '14' },
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
const days = Number(opts.days);
if (!url) usage('--url is required');
if (!Number.isFinite(timeoutS) || timeoutS <= 0) usage('--timeout must be a positive number of seconds');
if (!Number.isInteger(days) || days < 1 || days > 366) usage('--days must be a whole number of days, 1..366');
const user = credentials();
if (!user.username || !user.password) usage('set GREENAI_E2E_USERNAME and GREENAI_E2E_PASSWORD');
const executablePath = opts.chromium ?? process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p)) ?? CHROMIUM_CANDIDATES[0];

const deadline = Date.now() + timeoutS * 1000;
const remaining = () => Math.max(1, deadline - Date.now());
const say = (line) => new Promise((resolve) => process.stdout.write(`${line}\n`, resolve));
const firstLine = (s) => String(s ?? '').split('\n')[0];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** formatRate of src/format.ts: 0.85 -> `85.0%`, null -> `—` */
const rateText = (r) => (typeof r === 'number' && Number.isFinite(r) ? `${(r * 100).toFixed(1)}%` : '—');

async function waitFor(page, selector, what) {
  try {
    return await page.waitForSelector(selector, { timeout: remaining() });
  } catch {
    throw new Failure(`timeout after ${timeoutS}s: ${what}`);
  }
}

/** GET `p` from the page (its cookie, its origin): `{ status, body }` (body JSON or null). */
const getJson = (page, p) =>
  page.evaluate(async (target) => {
    const res = await fetch(target, { headers: { Accept: 'application/json' } });
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body, text: text.slice(0, 200) };
  }, p);

/** What the overview shows of one recon, read from the DOM. */
const readCard = (page, recon) =>
  page.evaluate(
    ({ recon, charts }) => {
      const card = [...document.querySelectorAll('[data-testid="recon-card"]')].find((el) => el.getAttribute('data-recon') === recon);
      if (!card) return null;
      const metric = (id) => {
        const el = card.querySelector(`[data-testid="${id}"]`);
        return el ? { value: el.getAttribute('data-value') ?? '', text: el.querySelector('.metric-val')?.textContent?.trim() ?? '' } : null;
      };
      const chartSizes = {};
      for (const name of charts) {
        const canvas = card.querySelector(`[data-testid="chart"][data-chart="${name}"] canvas`);
        const box = canvas?.getBoundingClientRect();
        chartSizes[name] = canvas ? { w: canvas.width, h: canvas.height, cssW: Math.round(box.width), cssH: Math.round(box.height) } : null;
      }
      const sla = card.querySelector('[data-testid="sla-breaches"]');
      return {
        name: card.querySelector('[data-testid="recon-name"]')?.textContent?.trim() ?? '',
        open: metric('metric-open'),
        overdue: metric('metric-overdue'),
        matchRate: metric('metric-match-rate'),
        autoClose: metric('metric-auto-close-rate'),
        charts: chartSizes,
        slaCount: sla?.getAttribute('data-count') ?? null,
        slaError: sla?.querySelector('[role="alert"]')?.textContent?.trim() ?? '',
      };
    },
    { recon, charts: CHARTS },
  );

/** The mismatches between a card and the stats of its recon ([] when it agrees). */
function mismatches(card, r) {
  const out = [];
  const today = r.days?.length ? r.days[r.days.length - 1] : null;
  if (card.name !== r.recon) out.push(`name "${card.name}" ≠ "${r.recon}"`);
  if (card.open?.text !== String(r.open?.total ?? 0)) out.push(`open ${card.open?.text} ≠ ${r.open?.total}`);
  if (card.overdue?.text !== String(r.open?.overdue ?? 0)) out.push(`overdue ${card.overdue?.text} ≠ ${r.open?.overdue}`);
  if (card.matchRate?.text !== rateText(today?.match_rate)) out.push(`match rate ${card.matchRate?.text} ≠ ${rateText(today?.match_rate)}`);
  if (card.autoClose?.text !== rateText(today?.auto_close_rate)) out.push(`auto-close rate ${card.autoClose?.text} ≠ ${rateText(today?.auto_close_rate)}`);
  return out;
}

let page;
let context;
let profile;
const pageErrors = [];
let exitCode = 1;
try {
  if (!fs.existsSync(executablePath)) throw new Failure(`chromium not found at ${executablePath}`);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'overview-e2e-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1100 },
    acceptDownloads: true,
    timeout: remaining(),
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => {
    pageErrors.push(firstLine(e.message));
    process.stderr.write(`[overview] page error: ${e.message}\n`);
  });
  if (opts.verbose) page.on('console', (m) => process.stderr.write(`[overview] console.${m.type()}: ${m.text()}\n`));
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: remaining() });
  } catch (e) {
    throw new Failure(`could not open ${url}: ${firstLine(e.message)}`);
  }

  // 1. Sign in.
  const who = await signIn(page, { ...user, timeout: remaining() });
  await say(`SIGNED-IN user=${who.username} roles=${who.roles}`);

  // 2. The overview, against the stats the script reads itself.
  if (!(await page.$('[data-testid="nav-overview"]'))) throw new Failure('the top bar offers no Overview page');
  await page.click('[data-testid="nav-overview"]');
  await waitFor(page, '[data-testid="overview"]', 'the overview page never showed');
  if (days !== 14) await page.goto(new URL(`?view=overview&days=${days}`, page.url()).toString(), { waitUntil: 'domcontentloaded', timeout: remaining() });
  await waitFor(page, `[data-testid="overview"][data-loaded="true"][data-days="${days}"], [data-testid="overview-error"]`, 'the overview never loaded its statistics');
  const shownError = await page.$eval('[data-testid="overview-error"]', (el) => el.textContent?.trim() ?? '').catch(() => '');
  if (shownError) throw new Failure(`the overview shows an error: ${shownError}`);
  await say(`OVERVIEW-LOADED days=${days}`);

  // The pipeline may still move between two reads: compare, and on a difference refresh
  // the page and read the stats again, until they agree or the time is up.
  let stats;
  let checked = [];
  for (let attempt = 1; ; attempt++) {
    const got = await getJson(page, `api/stats?days=${days}`);
    if (got.status !== 200 || !got.body || !Array.isArray(got.body.recons)) {
      throw new Failure(`GET api/stats?days=${days} answered ${got.status}: ${got.text}`);
    }
    stats = got.body;
    const recons = opts.recon ? stats.recons.filter((r) => r.recon === opts.recon) : stats.recons;
    if (opts.recon && recons.length === 0) throw new Failure(`the stats name no recon ${opts.recon} (they name: ${stats.recons.map((r) => r.recon).join(', ') || 'none'})`);
    if (recons.length === 0) throw new Failure('the stats name no recon at all: nothing to check');
    const problems = [];
    checked = [];
    for (const r of recons) {
      const card = await readCard(page, r.recon);
      if (card === null) {
        problems.push(`no card for recon ${r.recon}`);
        continue;
      }
      for (const m of mismatches(card, r)) problems.push(`${r.recon}: ${m}`);
      checked.push({ r, card });
    }
    if (problems.length === 0) break;
    if (Date.now() + 2000 > deadline) throw new Failure(`the overview does not match GET api/stats: ${problems.join('; ')}`);
    if (opts.verbose) process.stderr.write(`[overview] attempt ${attempt}: ${problems.join('; ')} — refreshing\n`);
    await page.click('[data-testid="overview-refresh"]');
    await sleep(1000);
  }

  for (const { r } of checked) {
    // every chart drawn: a canvas of non-zero size (ECharts sizes it after its first layout)
    let card;
    for (;;) {
      card = await readCard(page, r.recon);
      const sizes = Object.values(card?.charts ?? {});
      const drawn = sizes.length === CHARTS.length && sizes.every((s) => s && s.w > 0 && s.h > 0 && s.cssW > 0 && s.cssH > 0);
      const slaDone = card?.slaCount !== null && card?.slaCount !== '';
      if (drawn && (slaDone || card?.slaError)) break;
      if (Date.now() + 500 > deadline) {
        const missing = CHARTS.filter((n) => !(card?.charts?.[n]?.w > 0 && card?.charts?.[n]?.h > 0));
        throw new Failure(`recon ${r.recon}: ${missing.length ? `charts not rendered: ${missing.join(', ')}` : 'the SLA breaches never loaded'}`);
      }
      await sleep(200);
    }
    if (card.slaError) throw new Failure(`recon ${r.recon}: the SLA breaches show an error: ${card.slaError}`);
    const today = r.days?.length ? r.days[r.days.length - 1] : null;
    const sizes = CHARTS.map((n) => `${n}=${card.charts[n].cssW}x${card.charts[n].cssH}`).join(',');
    await say(
      `OVERVIEW recon=${r.recon} open=${r.open.total} overdue=${r.open.overdue} match_rate=${rateText(today?.match_rate)} days=${r.days.length} sla_rows=${card.slaCount} charts=${sizes}`,
    );
  }
  if (opts.screenshot) {
    fs.mkdirSync(path.dirname(path.resolve(opts.screenshot)), { recursive: true });
    await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 30000 });
  }

  // 3. The schedule.
  if (!(await page.$('[data-testid="nav-schedule"]'))) throw new Failure('the top bar offers no Schedule page');
  await page.click('[data-testid="nav-schedule"]');
  await waitFor(page, '[data-testid="schedule-row"], [data-testid="schedule-empty"], [data-testid="schedule-error"]', 'the schedule never loaded');
  const jobs = await page.$$eval('[data-testid="schedule-row"]', (rows) => rows.map((r) => ({ job: r.getAttribute('data-job'), health: r.getAttribute('data-health') })));
  if (jobs.length === 0) {
    const why = await page.$eval('[data-testid="schedule-error"]', (el) => el.textContent?.trim() ?? '').catch(() => 'no scheduled jobs');
    throw new Failure(`the schedule shows no job: ${why}`);
  }
  await say(`SCHEDULE jobs=${jobs.length} first=${jobs[0].job} (${jobs[0].health})`);

  // 4. The CSV export of the blotter's view.
  await page.click('[data-testid="nav-breaks"]');
  await waitFor(page, `${SEL.grid}[data-loaded="true"]`, 'the grid never loaded its snapshot');
  await page.click('[data-testid="status-filter"] [data-status="all"]');
  const href = await page.getAttribute('[data-testid="export-csv"]', 'href');
  const query = new URL(href ?? '', page.url()).searchParams;
  if (query.get('format') !== 'csv' || query.get('status') !== 'all') throw new Failure(`the CSV export link is ${href}`);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: remaining() }).catch(() => {
      throw new Failure('clicking the CSV export started no download');
    }),
    page.click('[data-testid="export-csv"]'),
  ]);
  const failed = await download.failure();
  if (failed) throw new Failure(`the CSV export download failed: ${failed} (${href})`);
  const file = await download.path();
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const columns = header.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  if (!columns.includes('break_id')) throw new Failure(`the CSV export's header names no break_id column: ${header.slice(0, 200)}`);
  const rows = text.split(/\r?\n/).filter((l) => l !== '').length - 1;
  await say(`EXPORT csv file=${download.suggestedFilename()} columns=${columns.length} rows=${rows} header=${header.slice(0, 160)}`);

  if (pageErrors.length > 0) throw new Failure(`the page threw: ${pageErrors[0]}`);
  await say('DONE');
  exitCode = 0;
} catch (e) {
  process.stderr.write(`${e instanceof Failure ? e.message : `error: ${firstLine(e?.message ?? e)}`}\n`);
  if (page) {
    const failedShot = opts.screenshot ? opts.screenshot.replace(/(\.png)?$/i, '.failed.png') : path.join(os.tmpdir(), 'overview.failed.png');
    await page.screenshot({ path: failedShot, fullPage: true, timeout: 5000 }).then(
      () => process.stderr.write(`(screenshot of the failing page: ${failedShot})\n`),
      () => {},
    );
  }
} finally {
  await context?.close().catch(() => {});
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(exitCode);
