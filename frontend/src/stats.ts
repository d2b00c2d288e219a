// The recon overview's data (GET api/stats?days=N, GET api/breaks?status=open&overdue=true)
// and its charts' ECharts options. Pure parsing and option building, then the I/O; no
// ECharts import here beyond types, so the tests run without a canvas and the blotter's
// bundle never carries the chart library (the overview page is loaded lazily).
//
// Counts are integers and rates are fractions 0..1 as the BFF sends them. Chart values
// are numbers (a chart needs them); decimal amounts never appear here.

import type { EChartsOption } from 'echarts';
import { ApiError, requestJson } from './api';
import { isOverdue, parseBreak } from './breaks';
import { CAUSE_LABEL } from './format';
import { DEFAULT_DAYS, MAX_DAYS } from './urlState';
import { AGEING_BUCKETS, CAUSES, type AgeingBucket, type Break, type Cause } from './types';

// ---- the stats contract -----------------------------------------------------------------

export interface DayStats {
  /** YYYY-MM-DD, the recon's calendar day */
  day: string;
  keys_seen: number;
  matched: number;
  clean_matched: number;
  opened: number;
  resolved: number;
  closed: number;
  auto_closed: number;
  /** null on a day without keys */
  match_rate: number | null;
  auto_close_rate: number | null;
  mean_hours_to_settle: number | null;
}

export interface OpenStats {
  total: number;
  overdue: number;
  by_bucket: Record<AgeingBucket, number>;
  /** cause (or the BFF's word for none yet) -> open breaks */
  by_cause: Record<string, number>;
}

export interface ReconStats {
  recon: string;
  /** oldest first */
  days: DayStats[];
  open: OpenStats;
}

export interface Stats {
  recons: ReconStats[];
}

export const DAY_CHOICES: readonly number[] = [7, 14, 30, 90];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
const rate = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : null);
const positive = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(v: unknown): DayStats | null {
  if (!isObject(v) || typeof v.day !== 'string' || !DAY.test(v.day)) return null;
  return {
    day: v.day,
    keys_seen: count(v.keys_seen),
    matched: count(v.matched),
    clean_matched: count(v.clean_matched),
    opened: count(v.opened),
    resolved: count(v.resolved),
    closed: count(v.closed),
    auto_closed: count(v.auto_closed),
    match_rate: rate(v.match_rate),
    auto_close_rate: rate(v.auto_close_rate),
    mean_hours_to_settle: positive(v.mean_hours_to_settle),
  };
}

function parseOpen(v: unknown): OpenStats {
  const o = isObject(v) ? v : {};
  const buckets = isObject(o.by_bucket) ? o.by_bucket : {};
  const by_bucket = Object.fromEntries(AGEING_BUCKETS.map((b) => [b, count(buckets[b])])) as Record<AgeingBucket, number>;
  const by_cause: Record<string, number> = {};
  if (isObject(o.by_cause)) for (const [k, n] of Object.entries(o.by_cause)) if (count(n) > 0) by_cause[k] = count(n);
  return { total: count(o.total), overdue: count(o.overdue), by_bucket, by_cause };
}

/**
 * Validate GET api/stats. Null when the body is not `{recons: [...]}`; a recon without a
 * name is skipped, a day without a YYYY-MM-DD `day` is skipped, a missing or bad count is
 * 0 and a missing or bad rate is null. Days come out oldest first, one entry per day.
 */
export function parseStats(value: unknown): Stats | null {
  if (!isObject(value) || !Array.isArray(value.recons)) return null;
  const recons: ReconStats[] = [];
  for (const r of value.recons) {
    if (!isObject(r) || typeof r.recon !== 'string' || r.recon === '') continue;
    const byDay = new Map<string, DayStats>();
    for (const d of Array.isArray(r.days) ? r.days : []) {
      const day = parseDay(d);
      if (day !== null) byDay.set(day.day, day);
    }
    const days = [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    recons.push({ recon: r.recon, days, open: parseOpen(r.open) });
  }
  return { recons };
}

/** The newest day of a recon's series ("today"), or null when it has none. */
export const latestDay = (r: ReconStats): DayStats | null => r.days[r.days.length - 1] ?? null;

/** The headline numbers of one recon's card. */
export interface Headline {
  day: string | null;
  match_rate: number | null;
  auto_close_rate: number | null;
  open: number;
  overdue: number;
  mean_hours_to_settle: number | null;
}

export function headline(r: ReconStats): Headline {
  const today = latestDay(r);
  return {
    day: today?.day ?? null,
    match_rate: today?.match_rate ?? null,
    auto_close_rate: today?.auto_close_rate ?? null,
    open: r.open.total,
    overdue: r.open.overdue,
    mean_hours_to_settle: today?.mean_hours_to_settle ?? null,
  };
}

// ---- chart options ----------------------------------------------------------------------

/** Canvas colours (CSS variables do not reach a canvas): styles.css's palette. */
export const COLORS = {
  text: '#475467',
  axis: '#c9d0d8',
  split: '#eef1f4',
  accent: '#166b4a',
  blue: '#2459a8',
  amber: '#b54708',
  red: '#b42318',
  green: '#1a7f4b',
  grey: '#8a94a3',
} as const;

export const CAUSE_COLOR: Record<Cause | 'PENDING', string> = {
  TIMING: '#6d5bd0',
  ROUNDING: '#2f7fb8',
  FX: '#0f8a8a',
  STATIC_DATA: '#b7791f',
  FAT_FINGER: '#d14d12',
  FEE: '#6f8a1a',
  MISSING_BOOKING: '#b42318',
  DUPLICATE_BOOKING: '#a23b72',
  UNKNOWN: '#667085',
  PENDING: '#a4adba',
};

export const BUCKET_COLOR: Record<AgeingBucket, string> = {
  '0-1': COLORS.green,
  '2-3': COLORS.blue,
  '4-7': COLORS.amber,
  '>7': COLORS.red,
};

/** A rate as a chart value in percent, one decimal (null stays a gap in the line). */
export const percent = (r: number | null): number | null => (r === null ? null : Math.round(r * 1000) / 10);

const percentText = (v: unknown): string => (typeof v === 'number' ? `${v.toFixed(1)}%` : '—');

/** The common frame of a chart: `description` is what a screen reader hears (ECharts'
 *  aria puts it on the chart's element), `empty` a note drawn on an empty chart. */
function frame(description: string, empty: string | null): EChartsOption {
  return {
    animationDuration: 300,
    aria: { enabled: true, label: { description } },
    textStyle: { color: COLORS.text, fontSize: 11 },
    grid: { left: 8, right: 12, top: 30, bottom: 4, containLabel: true },
    tooltip: { trigger: 'axis', confine: true },
    ...(empty === null
      ? {}
      : { title: { text: empty, left: 'center', top: 'middle', textStyle: { color: COLORS.grey, fontSize: 12, fontWeight: 'normal' } } }),
  };
}

const dayAxis = (days: readonly DayStats[]) => ({
  type: 'category' as const,
  data: days.map((d) => d.day),
  axisLabel: { formatter: (v: string) => v.slice(5) }, // MM-DD
  axisLine: { lineStyle: { color: COLORS.axis } },
});

const countAxis = () => ({ type: 'value' as const, minInterval: 1, splitLine: { lineStyle: { color: COLORS.split } } });

const span = (days: readonly DayStats[]): string =>
  days.length === 0 ? 'no days yet' : `${days[0]!.day} to ${days[days.length - 1]!.day}`;

/** The match rate (and the auto-close rate) per day, in percent. */
export function matchRateOption(r: ReconStats): EChartsOption {
  const today = latestDay(r);
  const said = (v: number | null) => (v === null ? 'none' : `${percent(v)!.toFixed(1)}%`);
  const description =
    `Match rate and auto-close rate of ${r.recon} per day, ${span(r.days)}` +
    (today === null ? '.' : `; on ${today.day} the match rate was ${said(today.match_rate)} and the auto-close rate ${said(today.auto_close_rate)}.`);
  return {
    ...frame(description, r.days.length === 0 ? 'No statistics yet' : null),
    legend: { top: 0, left: 0, itemHeight: 8, data: ['Match rate', 'Auto-close rate'] },
    tooltip: { trigger: 'axis', confine: true, valueFormatter: percentText },
    xAxis: dayAxis(r.days),
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' }, splitLine: { lineStyle: { color: COLORS.split } } },
    series: [
      {
        name: 'Match rate',
        type: 'line',
        data: r.days.map((d) => percent(d.match_rate)),
        color: COLORS.accent,
        showSymbol: r.days.length <= 31,
        lineStyle: { width: 2 },
      },
      {
        name: 'Auto-close rate',
        type: 'line',
        data: r.days.map((d) => percent(d.auto_close_rate)),
        color: COLORS.blue,
        showSymbol: r.days.length <= 31,
        lineStyle: { width: 1.5, type: 'dashed' },
      },
    ],
  };
}

/** Breaks opened, resolved (by the data) and closed (by a person or a rule) per day. */
export function flowOption(r: ReconStats): EChartsOption {
  const bar = (name: string, pick: (d: DayStats) => number, color: string) => ({
    name,
    type: 'bar' as const,
    data: r.days.map(pick),
    color,
    barMaxWidth: 14,
  });
  const sum = (pick: (d: DayStats) => number) => r.days.reduce((n, d) => n + pick(d), 0);
  const description = `Breaks of ${r.recon} opened, resolved and closed per day, ${span(r.days)}: ${sum((d) => d.opened)} opened, ${sum(
    (d) => d.resolved,
  )} resolved and ${sum((d) => d.closed)} closed in all.`;
  return {
    ...frame(description, r.days.length === 0 ? 'No statistics yet' : null),
    legend: { top: 0, left: 0, itemHeight: 8, data: ['Opened', 'Resolved', 'Closed'] },
    xAxis: dayAxis(r.days),
    yAxis: countAxis(),
    series: [
      bar('Opened', (d) => d.opened, COLORS.amber),
      bar('Resolved', (d) => d.resolved, COLORS.green),
      bar('Closed', (d) => d.closed, COLORS.blue),
    ],
  };
}

/** Open breaks by ageing bucket (business days), youngest first. */
export function ageingOption(r: ReconStats): EChartsOption {
  const total = AGEING_BUCKETS.reduce((n, b) => n + r.open.by_bucket[b], 0);
  const description = `Open breaks of ${r.recon} by age in business days: ${AGEING_BUCKETS.map((b) => `${b} days ${r.open.by_bucket[b]}`).join(', ')}.`;
  return {
    ...frame(description, total === 0 ? 'No open breaks' : null),
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'category', data: AGEING_BUCKETS.map((b) => `${b} d`), axisLine: { lineStyle: { color: COLORS.axis } } },
    yAxis: countAxis(),
    series: [
      {
        name: 'Open breaks',
        type: 'bar',
        barMaxWidth: 36,
        data: AGEING_BUCKETS.map((b) => ({ value: r.open.by_bucket[b], itemStyle: { color: BUCKET_COLOR[b] } })),
      },
    ],
  };
}

const isCause = (c: string): c is Cause | 'PENDING' => c === 'PENDING' || (CAUSES as readonly string[]).includes(c);

/** The display name of a cause key of `by_cause` (an unknown key as sent). */
export const causeName = (c: string): string => (isCause(c) ? CAUSE_LABEL[c] : c);

/** Open breaks by cause, the largest on top (a horizontal bar chart). */
export function causeOption(r: ReconStats): EChartsOption {
  // ascending: ECharts draws the first category at the bottom of a vertical category axis
  const entries = Object.entries(r.open.by_cause).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? 1 : -1));
  const description =
    entries.length === 0
      ? `No open breaks of ${r.recon}.`
      : `Open breaks of ${r.recon} by cause: ${[...entries]
          .reverse()
          .map(([c, n]) => `${causeName(c)} ${n}`)
          .join(', ')}.`;
  return {
    ...frame(description, entries.length === 0 ? 'No open breaks' : null),
    tooltip: { trigger: 'axis', confine: true, axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 24, top: 8, bottom: 4, containLabel: true },
    xAxis: countAxis(),
    yAxis: { type: 'category', data: entries.map(([c]) => causeName(c)), axisLine: { lineStyle: { color: COLORS.axis } } },
    series: [
      {
        name: 'Open breaks',
        type: 'bar',
        barMaxWidth: 16,
        label: { show: true, position: 'right', color: COLORS.text },
        data: entries.map(([c, n]) => ({ value: n, itemStyle: { color: isCause(c) ? CAUSE_COLOR[c] : COLORS.grey } })),
      },
    ],
  };
}

// ---- SLA breaches -----------------------------------------------------------------------

/** The overdue open breaks, the most overdue (earliest due) first; no due date last. */
export function byDue(breaks: readonly Break[]): Break[] {
  const at = (b: Break) => (b.due === null ? Infinity : Date.parse(b.due) || Infinity);
  return [...breaks].sort((a, b) => at(a) - at(b) || (a.break_id < b.break_id ? -1 : 1));
}

export const SLA_LIMIT = 100;

/** `api/breaks?status=open&overdue=true&recon=R&limit=100` */
export function overduePath(recon: string, limit: number = SLA_LIMIT): string {
  return `api/breaks?${new URLSearchParams({ status: 'open', overdue: 'true', recon, limit: String(limit) }).toString()}`;
}

/** `api/stats?days=N`, N a whole number of days in 1..366 (DEFAULT_DAYS otherwise). */
export function statsPath(days: number = DEFAULT_DAYS): string {
  const n = Number.isInteger(days) && days >= 1 ? Math.min(days, MAX_DAYS) : DEFAULT_DAYS;
  return `api/stats?days=${n}`;
}

/**
 * The SLA breaches among a list the BFF sent: valid breaks of `recon` that are overdue at
 * `now` (a BFF that ignored `overdue=true` cannot fill the list with every open break).
 */
export function slaBreaches(value: unknown, recon: string, now: number): Break[] | null {
  if (!Array.isArray(value)) return null;
  const out: Break[] = [];
  for (const item of value) {
    const b = parseBreak(item);
    if (b !== null && b.recon === recon && isOverdue(b, now)) out.push(b);
  }
  return byDue(out);
}

export async function fetchStats(days: number, signal?: AbortSignal): Promise<Stats> {
  const path = statsPath(days);
  const stats = parseStats(await requestJson(path, { method: 'GET', signal }));
  if (stats === null) throw new ApiError(`GET /${path}: unexpected response`, null);
  return stats;
}

export async function fetchSlaBreaches(recon: string, signal?: AbortSignal): Promise<Break[]> {
  const path = overduePath(recon);
  const list = slaBreaches(await requestJson(path, { method: 'GET', signal }), recon, Date.now());
  if (list === null) throw new ApiError(`GET /${path.split('?')[0]}: expected a JSON array`, null);
  return list;
}
