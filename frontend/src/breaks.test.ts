import { describe, expect, it } from 'vitest';
import {
  ageingBucket,
  defaultFilter,
  isOverdue,
  isNewer,
  emptyIndex,
  mergeBreak,
  mergeBreaks,
  parseBreak,
  reconNames,
  selectBreaks,
  summarize,
  type BreakIndex,
} from './breaks';
import type { Break } from './types';

function brk(over: Partial<Break> = {}): Break {
  return {
    break_id: 'b-1',
    recon: 'trades',
    key: { trade_id: 'T-1001' },
    kind: 'MISMATCH',
    missing_in: null,
    status: 'OPEN',
    fields: [{ field: 'amount', values: { ledger: '100.00', custody: '101.00' }, delta: '1.00' }],
    cause: 'ROUNDING',
    confidence: 0.82,
    explanation: [{ feature: 'amount_abs_delta', value: '1.00', weight: 0.6 }],
    disposition: 'QUEUE',
    priority: 2,
    first_seen: '2026-11-26T15:00:00Z',
    updated_at: '2026-11-26T15:00:05Z',
    version: 1,
    revision: 0,
    owner: null,
    close_reason: null,
    close_note: null,
    tags: [],
    proposal: null,
    materiality: null,
    age_days: null,
    ageing_bucket: null,
    due: null,
    overdue: false,
    ...over,
  };
}

const ids = (bs: Break[]) => bs.map((b) => b.break_id);

describe('mergeBreak', () => {
  it('adds a new break', () => {
    const idx = mergeBreak(emptyIndex(), brk());
    expect(idx.size).toBe(1);
    const idx2 = mergeBreak(idx, brk({ break_id: 'b-2', key: { trade_id: 'T-1002' } }));
    expect(idx2.size).toBe(2);
    expect(idx2.get('b-2')?.key).toEqual({ trade_id: 'T-1002' });
    // immutability: the earlier index is untouched
    expect(idx.size).toBe(1);
  });

  it('replaces a break with a newer version', () => {
    let idx = mergeBreak(emptyIndex(), brk({ version: 1, cause: null }));
    idx = mergeBreak(idx, brk({ version: 3, cause: 'FX', confidence: 0.9 }));
    expect(idx.size).toBe(1);
    expect(idx.get('b-1')?.version).toBe(3);
    expect(idx.get('b-1')?.cause).toBe('FX');
  });

  it('ignores an older version arriving later', () => {
    const idx = mergeBreak(emptyIndex(), brk({ version: 5, status: 'RESOLVED' }));
    const after = mergeBreak(idx, brk({ version: 4, status: 'OPEN' }));
    expect(after).toBe(idx); // same instance: nothing changed
    expect(after.get('b-1')?.version).toBe(5);
    expect(after.get('b-1')?.status).toBe('RESOLVED');
  });

  it('ignores a repeat of the same version (idempotent redelivery)', () => {
    const idx = mergeBreak(emptyIndex(), brk({ version: 2, priority: 2 }));
    expect(mergeBreak(idx, brk({ version: 2, priority: 1 }))).toBe(idx);
  });
});

describe('mergeBreaks', () => {
  it('keeps the highest version whatever the arrival order', () => {
    const versions = [brk({ version: 2 }), brk({ version: 7, priority: 1 }), brk({ version: 3 })];
    const idx = mergeBreaks(emptyIndex(), versions);
    expect(idx.get('b-1')?.version).toBe(7);
    expect(idx.get('b-1')?.priority).toBe(1);
    const reversed = mergeBreaks(emptyIndex(), [...versions].reverse());
    expect(reversed.get('b-1')?.version).toBe(7);
  });

  it('a snapshot older than live events does not roll them back', () => {
    let idx: BreakIndex = emptyIndex();
    idx = mergeBreak(idx, brk({ version: 4, status: 'RESOLVED' })); // live event first
    idx = mergeBreaks(idx, [brk({ version: 3 }), brk({ break_id: 'b-2', version: 1 })]); // stale snapshot
    expect(idx.get('b-1')?.status).toBe('RESOLVED');
    expect(idx.get('b-2')).toBeDefined();
  });

  it('returns the same instance when nothing is newer', () => {
    const idx = mergeBreaks(emptyIndex(), [brk({ version: 2 })]);
    expect(mergeBreaks(idx, [brk({ version: 1 }), brk({ version: 2 })])).toBe(idx);
    expect(mergeBreaks(idx, [])).toBe(idx);
  });
});

describe('views', () => {
  const base = mergeBreaks(emptyIndex(), [
    brk({ break_id: 'a', recon: 'trades', status: 'OPEN' }),
    brk({ break_id: 'b', recon: 'payments', status: 'OPEN', cause: 'FX' }),
    brk({ break_id: 'c', recon: 'trades', status: 'RESOLVED' }),
  ]);

  it('defaults to open breaks', () => {
    expect(defaultFilter.status).toBe('open');
    expect(ids(selectBreaks(base, defaultFilter))).toEqual(['a', 'b']);
  });

  it('a status change moves a break from the open view to the resolved view', () => {
    const open = { ...defaultFilter, status: 'open' as const };
    const resolved = { ...defaultFilter, status: 'resolved' as const };
    expect(ids(selectBreaks(base, open))).toContain('a');
    expect(ids(selectBreaks(base, resolved))).not.toContain('a');

    const after = mergeBreak(base, brk({ break_id: 'a', recon: 'trades', status: 'RESOLVED', version: 2 }));
    expect(ids(selectBreaks(after, open))).not.toContain('a');
    expect(ids(selectBreaks(after, resolved))).toContain('a');
    expect(ids(selectBreaks(after, { ...defaultFilter, status: 'all' }))).toHaveLength(3);

    // ... and a reopen (newer version) moves it back
    const reopened = mergeBreak(after, brk({ break_id: 'a', recon: 'trades', status: 'OPEN', version: 3 }));
    expect(ids(selectBreaks(reopened, open))).toContain('a');
  });

  it('filters by recon and cause', () => {
    expect(ids(selectBreaks(base, { status: 'all', recon: 'trades', cause: null, bucket: null, overdue: false }))).toEqual(['a', 'c']);
    expect(ids(selectBreaks(base, { status: 'all', recon: null, cause: 'FX', bucket: null, overdue: false }))).toEqual(['b']);
    const pending = mergeBreak(base, brk({ break_id: 'd', cause: null, confidence: null }));
    expect(ids(selectBreaks(pending, { status: 'open', recon: null, cause: 'PENDING', bucket: null, overdue: false }))).toEqual(['d']);
  });

  it('lists recon names and summarises open breaks by cause', () => {
    expect(reconNames(base)).toEqual(['payments', 'trades']);
    const withMore = mergeBreaks(base, [
      brk({ break_id: 'e', cause: null, disposition: null, priority: null }),
      brk({ break_id: 'f', disposition: 'ESCALATE', priority: 1 }),
    ]);
    const s = summarize(withMore);
    expect(s).toMatchObject({ total: 5, open: 4, resolved: 1, escalated: 1, queued: 2, p1: 1 });
    expect(s.openByCause).toEqual({ ROUNDING: 2, FX: 1, PENDING: 1 });
    expect(summarize(withMore, 'payments')).toMatchObject({ total: 1, open: 1, resolved: 0 });
  });
});

describe('parseBreak', () => {
  it('accepts a contract-shaped break and fills optional parts', () => {
    const { cause: _c, explanation: _e, ...partial } = brk();
    const parsed = parseBreak(JSON.parse(JSON.stringify(partial)));
    expect(parsed?.break_id).toBe('b-1');
    expect(parsed?.cause).toBeNull();
    expect(parsed?.explanation).toEqual([]);
  });

  it('rejects payloads the merge cannot use', () => {
    expect(parseBreak(null)).toBeNull();
    expect(parseBreak('x')).toBeNull();
    expect(parseBreak({ ...brk(), break_id: '' })).toBeNull();
    expect(parseBreak({ ...brk(), version: '3' })).toBeNull();
    expect(parseBreak({ ...brk(), status: 'PENDING' })).toBeNull();
  });
});

describe('workflow revisions: (version, revision) ordering', () => {
  it('a higher revision of the same version replaces the known break', () => {
    const idx = mergeBreak(emptyIndex(), brk({ version: 3, revision: 1, status: 'OPEN' }));
    const after = mergeBreak(idx, brk({ version: 3, revision: 2, status: 'IN_REVIEW', owner: 'alice' }));
    expect(after.get('b-1')).toMatchObject({ status: 'IN_REVIEW', owner: 'alice', revision: 2 });
  });

  it('an older revision or an older version never wins', () => {
    const idx = mergeBreak(emptyIndex(), brk({ version: 3, revision: 2, status: 'CLOSED' }));
    expect(mergeBreak(idx, brk({ version: 3, revision: 1, status: 'OPEN' }))).toBe(idx);
    expect(mergeBreak(idx, brk({ version: 3, revision: 2, status: 'OPEN' }))).toBe(idx);
    expect(mergeBreak(idx, brk({ version: 2, revision: 9, status: 'OPEN' }))).toBe(idx);
    expect(mergeBreaks(idx, [brk({ version: 2, revision: 10 }), brk({ version: 3, revision: 0 })])).toBe(idx);
  });

  it('a newer version wins whatever its revision', () => {
    expect(isNewer({ version: 4, revision: 0 }, { version: 3, revision: 7 })).toBe(true);
    expect(isNewer({ version: 3, revision: 7 }, { version: 4, revision: 0 })).toBe(false);
    const idx = mergeBreaks(emptyIndex(), [brk({ version: 3, revision: 7 }), brk({ version: 4, revision: 0, status: 'RESOLVED' })]);
    expect(idx.get('b-1')).toMatchObject({ version: 4, revision: 0, status: 'RESOLVED' });
  });

  it('parses the workflow fields, with defaults for an older payload', () => {
    const old = parseBreak({ break_id: 'x', version: 1, recon: 'r', status: 'OPEN' });
    expect(old).toMatchObject({ revision: 0, owner: null, tags: [], proposal: null, close_reason: null, materiality: null });
    const b = parseBreak({
      break_id: 'x',
      version: 2,
      revision: 5,
      recon: 'r',
      status: 'CLOSED',
      owner: 'team:ops',
      tags: ['q4', 7],
      close_reason: 'auto:ROUNDING',
      proposal: { action: 'WRITE_OFF', reason: 'WRITTEN_OFF', note: null, amount: '12.50', by: 'alice', at: '2026-12-03T15:00:00Z' },
      materiality: '12.50',
    });
    expect(b).toMatchObject({ revision: 5, status: 'CLOSED', owner: 'team:ops', tags: ['q4'], close_reason: 'auto:ROUNDING' });
    expect(b?.proposal).toEqual({ action: 'WRITE_OFF', reason: 'WRITTEN_OFF', note: null, amount: '12.50', by: 'alice', at: '2026-12-03T15:00:00Z' });
    expect(parseBreak({ break_id: 'x', version: 1, recon: 'r', status: 'BOGUS' })).toBeNull();
  });

  it('the open view holds OPEN and IN_REVIEW; closed and in-review views their own', () => {
    const idx = mergeBreaks(emptyIndex(), [
      brk({ break_id: 'o', status: 'OPEN' }),
      brk({ break_id: 'r', status: 'IN_REVIEW' }),
      brk({ break_id: 'c', status: 'CLOSED' }),
      brk({ break_id: 's', status: 'RESOLVED' }),
    ]);
    const ids = (f: typeof defaultFilter) => selectBreaks(idx, f).map((b) => b.break_id).sort();
    expect(ids(defaultFilter)).toEqual(['o', 'r']);
    expect(ids({ ...defaultFilter, status: 'in_review' })).toEqual(['r']);
    expect(ids({ ...defaultFilter, status: 'closed' })).toEqual(['c']);
    expect(summarize(idx)).toMatchObject({ total: 4, open: 2, resolved: 1, closed: 1 });
  });
});

describe('ageing: parseBreak', () => {
  const base = { break_id: 'x', version: 1, recon: 'r', status: 'OPEN' };

  it('reads age, bucket, due and overdue', () => {
    const b = parseBreak({ ...base, age_days: 5, ageing_bucket: '4-7', due: '2026-12-08T17:30:00Z', overdue: true, materiality: '1250.00' });
    expect(b).toMatchObject({ age_days: 5, ageing_bucket: '4-7', due: '2026-12-08T17:30:00Z', overdue: true, materiality: '1250.00' });
  });

  it('defaults what an older payload lacks: no age, no bucket, no due date, not overdue', () => {
    expect(parseBreak(base)).toMatchObject({ age_days: null, ageing_bucket: null, due: null, overdue: false, materiality: null });
  });

  it('drops bad values', () => {
    const b = parseBreak({ ...base, age_days: -1, ageing_bucket: '8-9', due: 'tomorrow', overdue: 'yes' });
    expect(b).toMatchObject({ age_days: null, ageing_bucket: null, due: null, overdue: false });
    expect(parseBreak({ ...base, age_days: 'NaN' })?.age_days).toBeNull();
    expect(parseBreak({ ...base, age_days: Infinity })?.age_days).toBeNull();
    expect(parseBreak({ ...base, due: 17 })?.due).toBeNull();
    expect(parseBreak({ ...base, overdue: 1 })?.overdue).toBe(false);
  });

  it('buckets an age the BFF sent without its bucket', () => {
    expect(parseBreak({ ...base, age_days: 0 })?.ageing_bucket).toBe('0-1');
    expect(parseBreak({ ...base, age_days: 9 })?.ageing_bucket).toBe('>7');
  });

  it('buckets as the BFF does: 0-1, 2-3, 4-7, >7 business days', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 30].map(ageingBucket)).toEqual(['0-1', '0-1', '2-3', '2-3', '4-7', '4-7', '>7', '>7']);
  });
});

describe('ageing: overdue and the filters', () => {
  const now = Date.parse('2026-12-08T12:00:00Z');
  const past = '2026-12-08T11:00:00Z';
  const future = '2026-12-08T13:00:00Z';

  it('overdue: unsettled and either flagged or past its due date', () => {
    expect(isOverdue(brk({ overdue: true }), now)).toBe(true);
    expect(isOverdue(brk({ due: past }), now)).toBe(true); // became overdue after the payload
    expect(isOverdue(brk({ due: future }), now)).toBe(false);
    expect(isOverdue(brk({ due: null }), now)).toBe(false);
    expect(isOverdue(brk({ status: 'IN_REVIEW', due: past }), now)).toBe(true);
    expect(isOverdue(brk({ status: 'CLOSED', due: past, overdue: true }), now)).toBe(false);
    expect(isOverdue(brk({ status: 'RESOLVED', due: past }), now)).toBe(false);
  });

  const idx = mergeBreaks(emptyIndex(), [
    brk({ break_id: 'young', age_days: 0, ageing_bucket: '0-1', due: future }),
    brk({ break_id: 'late', age_days: 5, ageing_bucket: '4-7', due: past }),
    brk({ break_id: 'old', age_days: 12, ageing_bucket: '>7', overdue: true }),
    brk({ break_id: 'unaged' }),
    brk({ break_id: 'closed', status: 'CLOSED', age_days: 12, ageing_bucket: '>7', due: past }),
  ]);
  const sel = (f: Partial<typeof defaultFilter>) => ids(selectBreaks(idx, { ...defaultFilter, ...f }, now)).sort();

  it('the bucket filter keeps only that bucket (an unaged break is in none)', () => {
    expect(sel({ bucket: '0-1' })).toEqual(['young']);
    expect(sel({ bucket: '>7' })).toEqual(['old']);
    expect(sel({ bucket: '>7', status: 'all' })).toEqual(['closed', 'old']);
    expect(sel({ bucket: '2-3' })).toEqual([]);
  });

  it('overdue only keeps the unsettled breaks past due, whatever the status view', () => {
    expect(sel({ overdue: true })).toEqual(['late', 'old']);
    expect(sel({ overdue: true, status: 'all' })).toEqual(['late', 'old']);
    expect(sel({ overdue: true, bucket: '4-7' })).toEqual(['late']);
    expect(sel({})).toEqual(['late', 'old', 'unaged', 'young']);
  });

  it('the summary counts the overdue open breaks', () => {
    expect(summarize(idx, null, now)).toMatchObject({ open: 4, closed: 1, overdue: 2 });
    expect(summarize(idx, 'payments', now).overdue).toBe(0);
  });
});
