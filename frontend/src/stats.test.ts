import { describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import {
  ageingOption,
  BUCKET_COLOR,
  byDue,
  CAUSE_COLOR,
  causeName,
  causeOption,
  flowOption,
  headline,
  latestDay,
  matchRateOption,
  overduePath,
  parseStats,
  percent,
  slaBreaches,
  statsPath,
  type ReconStats,
} from './stats';

// The example of the contract (GET api/stats?days=N).
const BODY = {
  recons: [
    {
      recon: 'trades',
      days: [
        // sent out of order on purpose: the parser sorts oldest first
        {
          day: '2026-12-07',
          keys_seen: 100,
          matched: 90,
          clean_matched: 85,
          opened: 15,
          resolved: 5,
          closed: 3,
          auto_closed: 2,
          match_rate: 0.85,
          auto_close_rate: 0.13,
          mean_hours_to_settle: 1.5,
        },
        {
          day: '2026-12-06',
          keys_seen: 0,
          matched: 0,
          clean_matched: 0,
          opened: 0,
          resolved: 1,
          closed: 0,
          auto_closed: 0,
          match_rate: null,
          auto_close_rate: null,
          mean_hours_to_settle: null,
        },
      ],
      open: { total: 13, overdue: 3, by_bucket: { '0-1': 10, '2-3': 2, '4-7': 0, '>7': 1 }, by_cause: { FX: 4, ROUNDING: 7, PENDING: 2 } },
    },
  ],
};

const trades = (): ReconStats => parseStats(BODY)!.recons[0]!;
type Series = { name?: string; type?: string; data?: unknown[] };
const seriesOf = (o: EChartsOption): Series[] => (Array.isArray(o.series) ? (o.series as Series[]) : o.series ? [o.series as Series] : []);
const axisData = (axis: unknown): unknown[] => (axis as { data?: unknown[] }).data ?? [];
const values = (data: unknown[] | undefined) => (data ?? []).map((d) => (typeof d === 'object' && d !== null ? (d as { value: unknown }).value : d));

describe('parseStats', () => {
  it('reads the contract, days oldest first', () => {
    const s = parseStats(BODY);
    expect(s?.recons).toHaveLength(1);
    const r = s!.recons[0]!;
    expect(r.recon).toBe('trades');
    expect(r.days.map((d) => d.day)).toEqual(['2026-12-06', '2026-12-07']);
    expect(r.days[1]).toEqual(BODY.recons[0]!.days[0]);
    expect(r.open).toEqual(BODY.recons[0]!.open);
  });

  it('is null for what is not a stats body', () => {
    expect(parseStats(null)).toBeNull();
    expect(parseStats([])).toBeNull();
    expect(parseStats('x')).toBeNull();
    expect(parseStats({ recons: {} })).toBeNull();
    expect(parseStats({})).toBeNull();
  });

  it('skips recons without a name and days without a date; keeps the last of a day sent twice', () => {
    const s = parseStats({
      recons: [
        { days: [] },
        { recon: '' },
        'trades',
        {
          recon: 'cash',
          days: [{ day: 'yesterday' }, { keys_seen: 3 }, null, { day: '2026-12-07', opened: 1 }, { day: '2026-12-07', opened: 2 }],
        },
      ],
    });
    expect(s?.recons.map((r) => r.recon)).toEqual(['cash']);
    expect(s?.recons[0]?.days.map((d) => [d.day, d.opened])).toEqual([['2026-12-07', 2]]);
  });

  it('bad counts are 0, bad rates null, rates clamped to 0..1, a missing open block all zeros', () => {
    const s = parseStats({
      recons: [
        {
          recon: 'cash',
          days: [{ day: '2026-12-07', keys_seen: -4, matched: 'many', opened: 2.7, match_rate: 1.2, auto_close_rate: 'high', mean_hours_to_settle: -1 }],
        },
      ],
    });
    const r = s!.recons[0]!;
    expect(r.days[0]).toMatchObject({ keys_seen: 0, matched: 0, opened: 2, match_rate: 1, auto_close_rate: null, mean_hours_to_settle: null });
    expect(r.open).toEqual({ total: 0, overdue: 0, by_bucket: { '0-1': 0, '2-3': 0, '4-7': 0, '>7': 0 }, by_cause: {} });
  });

  it('keeps only positive cause counts, fills missing buckets with 0', () => {
    const s = parseStats({ recons: [{ recon: 'x', days: [], open: { total: 2, by_bucket: { '>7': 2, bogus: 5 }, by_cause: { FX: 2, FEE: 0, X: 'n' } } }] });
    expect(s!.recons[0]!.open).toEqual({ total: 2, overdue: 0, by_bucket: { '0-1': 0, '2-3': 0, '4-7': 0, '>7': 2 }, by_cause: { FX: 2 } });
  });
});

describe('headline', () => {
  it("is today's (the newest day's) rates and the open counts", () => {
    expect(latestDay(trades())?.day).toBe('2026-12-07');
    expect(headline(trades())).toEqual({ day: '2026-12-07', match_rate: 0.85, auto_close_rate: 0.13, open: 13, overdue: 3, mean_hours_to_settle: 1.5 });
  });

  it('without days: no rates', () => {
    const r: ReconStats = { ...trades(), days: [] };
    expect(headline(r)).toMatchObject({ day: null, match_rate: null, auto_close_rate: null, open: 13 });
  });
});

describe('chart options', () => {
  it('match rate: one point per day in percent, a gap where there is no rate', () => {
    const o = matchRateOption(trades());
    expect(axisData(o.xAxis)).toEqual(['2026-12-06', '2026-12-07']);
    const [match, auto] = seriesOf(o);
    expect(match).toMatchObject({ name: 'Match rate', type: 'line', data: [null, 85] });
    expect(auto).toMatchObject({ name: 'Auto-close rate', type: 'line', data: [null, 13] });
    expect(o.yAxis).toMatchObject({ min: 0, max: 100 });
    expect(o.title).toBeUndefined();
    expect(o.aria).toEqual({
      enabled: true,
      label: {
        description:
          'Match rate and auto-close rate of trades per day, 2026-12-06 to 2026-12-07; on 2026-12-07 the match rate was 85.0% and the auto-close rate 13.0%.',
      },
    });
  });

  it('percent keeps one decimal', () => {
    expect(percent(0.85)).toBe(85);
    expect(percent(0.12345)).toBe(12.3);
    expect(percent(null)).toBeNull();
  });

  it('flow: opened, resolved and closed bars per day', () => {
    const o = flowOption(trades());
    expect(axisData(o.xAxis)).toEqual(['2026-12-06', '2026-12-07']);
    expect(seriesOf(o).map((s) => [s.name, s.type, s.data])).toEqual([
      ['Opened', 'bar', [0, 15]],
      ['Resolved', 'bar', [1, 5]],
      ['Closed', 'bar', [0, 3]],
    ]);
    expect(o.aria).toMatchObject({ label: { description: 'Breaks of trades opened, resolved and closed per day, 2026-12-06 to 2026-12-07: 15 opened, 6 resolved and 3 closed in all.' } });
  });

  it('ageing: the four buckets youngest first, coloured by age', () => {
    const o = ageingOption(trades());
    expect(axisData(o.xAxis)).toEqual(['0-1 d', '2-3 d', '4-7 d', '>7 d']);
    const [s] = seriesOf(o);
    expect(values(s?.data)).toEqual([10, 2, 0, 1]);
    expect((s?.data as { itemStyle: { color: string } }[]).map((d) => d.itemStyle.color)).toEqual([
      BUCKET_COLOR['0-1'],
      BUCKET_COLOR['2-3'],
      BUCKET_COLOR['4-7'],
      BUCKET_COLOR['>7'],
    ]);
    expect(o.aria).toMatchObject({ label: { description: 'Open breaks of trades by age in business days: 0-1 days 10, 2-3 days 2, 4-7 days 0, >7 days 1.' } });
  });

  it('causes: the largest on top (last on the category axis), with display names and colours', () => {
    const o = causeOption(trades());
    expect(axisData(o.yAxis)).toEqual(['Pending', 'FX', 'Rounding']);
    const [s] = seriesOf(o);
    expect(values(s?.data)).toEqual([2, 4, 7]);
    expect((s?.data as { itemStyle: { color: string } }[])[2]?.itemStyle.color).toBe(CAUSE_COLOR.ROUNDING);
    expect(o.aria).toMatchObject({ label: { description: 'Open breaks of trades by cause: Rounding 7, FX 4, Pending 2.' } });
    expect(causeName('MISSING_BOOKING')).toBe('Missing booking');
    expect(causeName('NEW_CAUSE')).toBe('NEW_CAUSE');
  });

  it('says so when there is nothing to draw', () => {
    const empty: ReconStats = {
      recon: 'x',
      days: [],
      open: { total: 0, overdue: 0, by_bucket: { '0-1': 0, '2-3': 0, '4-7': 0, '>7': 0 }, by_cause: {} },
    };
    expect(matchRateOption(empty).title).toMatchObject({ text: 'No statistics yet' });
    expect(flowOption(empty).title).toMatchObject({ text: 'No statistics yet' });
    expect(ageingOption(empty).title).toMatchObject({ text: 'No open breaks' });
    expect(causeOption(empty).title).toMatchObject({ text: 'No open breaks' });
    expect(seriesOf(causeOption(empty))[0]?.data).toEqual([]);
    expect(causeOption(empty).aria).toMatchObject({ label: { description: 'No open breaks of x.' } });
    expect(matchRateOption(empty).aria).toMatchObject({ label: { description: 'Match rate and auto-close rate of x per day, no days yet.' } });
  });
});

describe('paths', () => {
  it('stats over N days (14 by default, 1..366)', () => {
    expect(statsPath()).toBe('api/stats?days=14');
    expect(statsPath(30)).toBe('api/stats?days=30');
    expect(statsPath(1000)).toBe('api/stats?days=366');
    expect(statsPath(0)).toBe('api/stats?days=14');
    expect(statsPath(2.5)).toBe('api/stats?days=14');
    expect(statsPath(Number.NaN)).toBe('api/stats?days=14');
  });

  it('the overdue open breaks of a recon', () => {
    expect(overduePath('trades')).toBe('api/breaks?status=open&overdue=true&recon=trades&limit=100');
    expect(overduePath('fx & cash', 10)).toBe('api/breaks?status=open&overdue=true&recon=fx+%26+cash&limit=10');
  });
});

describe('slaBreaches', () => {
  const now = Date.parse('2026-12-08T12:00:00Z');
  const b = (id: string, over: Record<string, unknown> = {}) => ({ break_id: id, version: 1, recon: 'trades', status: 'OPEN', ...over });

  it('keeps the overdue breaks of the recon, most overdue first', () => {
    const list = slaBreaches(
      [
        b('later', { due: '2026-12-08T10:00:00Z', overdue: true }),
        b('earlier', { due: '2026-12-05T17:30:00Z', overdue: true }),
        b('flagged-no-due', { overdue: true }),
        b('past-due-unflagged', { due: '2026-12-08T11:00:00Z' }),
        b('not-yet', { due: '2026-12-09T10:00:00Z' }),
        b('other-recon', { recon: 'cash', overdue: true }),
        b('closed', { status: 'CLOSED', overdue: true, due: '2026-12-01T00:00:00Z' }),
        { nonsense: true },
      ],
      'trades',
      now,
    );
    expect(list?.map((x) => x.break_id)).toEqual(['earlier', 'later', 'past-due-unflagged', 'flagged-no-due']);
  });

  it('is null for what is not a list', () => {
    expect(slaBreaches({ detail: 'nope' }, 'trades', now)).toBeNull();
    expect(slaBreaches(null, 'trades', now)).toBeNull();
    expect(slaBreaches([], 'trades', now)).toEqual([]);
  });

  it('byDue does not reorder its input', () => {
    const input = slaBreaches([b('x', { overdue: true }), b('a', { overdue: true })], 'trades', now)!;
    expect(byDue(input).map((x) => x.break_id)).toEqual(['a', 'x']);
  });
});
