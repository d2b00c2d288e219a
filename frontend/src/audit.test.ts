import { describe, expect, it } from 'vitest';
import {
  actionLabel,
  actorText,
  atText,
  auditExportPath,
  auditFilterProblem,
  auditPagePath,
  auditParams,
  changeLines,
  changeText,
  describeVerified,
  emptyAuditFilter,
  formatValue,
  hoursAgo,
  nextAfter,
  parseEntries,
  parseEntry,
  parseVerified,
  readAuditFilter,
  shortAgent,
  targetText,
  toTimeInput,
  utcInstant,
  whereText,
  writeAuditFilter,
  type AuditEntry,
  type AuditFilter,
} from './audit';

const entry = (o: Partial<AuditEntry> = {}): AuditEntry => ({
  seq: 7,
  at: '2026-11-26T15:00:05.123456+00:00',
  actor: 'ana',
  actor_kind: 'user',
  action: 'break.label',
  target_type: 'break',
  target_id: 'b-1',
  recon: 'trades',
  before: { cause: 'FX', disposition: 'QUEUE' },
  after: { cause: 'FEE', disposition: 'QUEUE', reason: 'broker fee' },
  ip: '10.0.0.5',
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  request_id: 'r1',
  prev_hash: 'p',
  hash: 'h',
  ...o,
});

const filter = (o: Partial<AuditFilter> = {}): AuditFilter => ({ ...emptyAuditFilter, ...o });

describe('entries', () => {
  it('parses an EntryOut', () => {
    expect(parseEntry(entry())).toEqual(entry());
    expect(parseEntry({ ...entry(), recon: null, before: undefined })).toMatchObject({ recon: null, before: null });
    expect(parseEntry({ ...entry(), seq: '7' })).toBeNull();
    expect(parseEntry({ ...entry(), seq: 1.5 })).toBeNull();
    expect(parseEntry([])).toBeNull();
    expect(parseEntries([entry(), null, { seq: 8 }, entry({ seq: 9 })])?.map((e) => e.seq)).toEqual([7, 9]);
    expect(parseEntries({})).toBeNull();
  });

  it('parses and describes a verification', () => {
    const ok = parseVerified({ intact: true, entries: 1204, shipped: 1200, problem: null });
    expect(ok).toEqual({ intact: true, entries: 1204, shipped: 1200, problem: null });
    expect(describeVerified(ok!)).toBe('Chain intact: 1,204 entries (1,200 shipped to Kafka)');
    expect(describeVerified({ intact: true, entries: 1, shipped: 1, problem: null })).toBe('Chain intact: 1 entry (1 shipped to Kafka)');
    expect(describeVerified({ intact: false, entries: 17, shipped: 20, problem: 'entry 18 is missing' })).toBe(
      'Chain broken: entry 18 is missing',
    );
    expect(parseVerified({ entries: 3 })).toBeNull();
  });
});

describe('how an entry reads', () => {
  it('names actions, actors and targets', () => {
    expect(actionLabel('break.label')).toBe('Labelled');
    expect(actionLabel('auth.sign_in_failed')).toBe('Sign-in refused');
    expect(actionLabel('recon.apply')).toBe('recon.apply');
    expect(actorText(entry())).toBe('ana');
    expect(actorText(entry({ actor: 'ci-bot', actor_kind: 'token' }))).toBe('ci-bot (token)');
    expect(actorText(entry({ actor: 'mallory', actor_kind: 'anonymous' }))).toBe('mallory (anonymous)');
    expect(targetText(entry())).toBe('break b-1');
    expect(targetText(entry({ target_type: '', target_id: '' }))).toBe('');
    expect(atText(entry())).toBe('2026-11-26 15:00:05 UTC');
  });

  it('shows before → after field by field', () => {
    expect(changeLines(entry().before, entry().after)).toEqual([
      { field: 'cause', kind: 'changed', before: 'FX', after: 'FEE' },
      { field: 'disposition', kind: 'same', before: 'QUEUE', after: 'QUEUE' },
      { field: 'reason', kind: 'added', before: null, after: 'broker fee' },
    ]);
    expect(changeText(entry())).toBe('cause: FX → FEE · reason: broker fee');
  });

  it('leaves out a null that appears, and says when nothing changed', () => {
    const confirm = entry({ before: { cause: 'FX', disposition: 'QUEUE' }, after: { cause: 'FX', disposition: 'QUEUE', reason: null } });
    expect(changeText(confirm)).toBe('cause: FX, disposition: QUEUE (unchanged)');
    expect(changeText(entry({ before: { cause: null }, after: { cause: 'FX' } }))).toBe('cause: ∅ → FX');
  });

  it('handles entries with only an after, only a before, or none', () => {
    expect(changeText(entry({ before: null, after: { method: 'password', reason: 'wrong password' } }))).toBe(
      'method: password · reason: wrong password',
    );
    expect(changeText(entry({ before: { roles: ['viewer'] }, after: null }))).toBe('roles: ["viewer"] → (removed)');
    expect(changeText(entry({ before: null, after: null }))).toBe('');
    expect(changeText(entry({ before: { roles: ['viewer'] }, after: { roles: ['analyst', 'viewer'] } }))).toBe(
      'roles: ["viewer"] → ["analyst","viewer"]',
    );
    expect(changeText(entry({ before: 1, after: 2 }))).toBe('1 → 2');
    expect(changeText(entry({ before: 'a', after: 'a' }))).toBe('a (unchanged)');
  });

  it('keeps a value to one short line', () => {
    expect(formatValue(null)).toBe('∅');
    expect(formatValue(true)).toBe('true');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    const long = formatValue('x'.repeat(500));
    expect(long).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
  });

  it('says from where in a few words', () => {
    expect(whereText(entry())).toBe('10.0.0.5 · Chrome 131');
    expect(shortAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox 128');
    expect(shortAgent('Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86')).toBe('Edge 131');
    expect(shortAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/140.0.0.0 Safari/537.36')).toBe(
      'Headless Chrome 140',
    );
    expect(shortAgent('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15')).toBe('Safari 17');
    expect(shortAgent('curl/8.5.0')).toBe('curl 8.5');
    expect(shortAgent('python-httpx/0.27.0')).toBe('python-httpx 0.27');
    expect(shortAgent('')).toBe('');
    expect(whereText(entry({ ip: '', user_agent: '' }))).toBe('');
    expect(whereText(entry({ user_agent: '' }))).toBe('10.0.0.5');
  });
});

describe('filters → query', () => {
  it('reads the form times as UTC', () => {
    expect(utcInstant('2026-11-26T15:00')).toBe('2026-11-26T15:00:00Z');
    expect(utcInstant('2026-11-26T15:00:30')).toBe('2026-11-26T15:00:30Z');
    expect(utcInstant('2026-11-26 15:00')).toBe('2026-11-26T15:00:00Z');
    expect(utcInstant('2026-11-26T16:00:00+01:00')).toBe('2026-11-26T15:00:00Z');
    expect(utcInstant('2026-11-26T15:00:00.250Z')).toBe('2026-11-26T15:00:00.250Z');
    expect(utcInstant('2026-11-26')).toBeNull();
    expect(utcInstant('2026-13-45T99:00')).toBeNull();
    expect(utcInstant('yesterday')).toBeNull();
    expect(utcInstant('')).toBeNull();
  });

  it('shows times back in the form', () => {
    expect(toTimeInput('2026-11-26T15:00')).toBe('2026-11-26T15:00');
    expect(toTimeInput('2026-11-26T16:00:30+01:00')).toBe('2026-11-26T15:00:30');
    expect(toTimeInput('nope')).toBe('');
    expect(hoursAgo(24, Date.parse('2026-11-26T15:00:42Z'))).toBe('2026-11-25T15:00');
  });

  it('builds the query of the filters set (trimmed, times as UTC instants)', () => {
    expect(auditParams(filter()).toString()).toBe('');
    expect(
      auditParams(
        filter({ since: '2026-11-26T15:00', until: '2026-11-27T00:00', actor: ' ana ', recon: 'trades', break_id: 'b-1' }),
      ).toString(),
    ).toBe('since=2026-11-26T15%3A00%3A00Z&until=2026-11-27T00%3A00%3A00Z&actor=ana&recon=trades&break_id=b-1');
  });

  it('builds the page and export paths', () => {
    expect(auditPagePath(filter())).toBe('api/audit?after=0&limit=500');
    expect(auditPagePath(filter({ actor: 'ana' }), 500)).toBe('api/audit?actor=ana&after=500&limit=500');
    expect(auditPagePath(filter(), -3, 10_000)).toBe('api/audit?after=0&limit=500');
    expect(auditPagePath(filter({ recon: 'fx swaps&co' }), 0, 50)).toBe('api/audit?recon=fx+swaps%26co&after=0&limit=50');
    expect(auditExportPath(filter(), 'csv')).toBe('api/audit/export?format=csv');
    expect(auditExportPath(filter({ actor: 'ana', break_id: 'b-1', since: '2026-11-26T15:00' }), 'jsonl')).toBe(
      'api/audit/export?format=jsonl&since=2026-11-26T15%3A00%3A00Z&actor=ana&break_id=b-1',
    );
  });

  it('finds what is wrong with the filters', () => {
    expect(auditFilterProblem(filter())).toBeNull();
    expect(auditFilterProblem(filter({ since: '2026-11-26T15:00', until: '2026-11-26T16:00' }))).toBeNull();
    expect(auditFilterProblem(filter({ since: '2026-11-26T16:00', until: '2026-11-26T15:00' }))).toBe('"From" must be before "To"');
    expect(auditFilterProblem(filter({ since: 'soon' }))).toBe('"From" is not a date and time: soon');
    expect(auditFilterProblem(filter({ until: 'x' }))).toBe('"To" is not a date and time: x');
    expect(auditFilterProblem(filter({ actor: 'a'.repeat(201) }))).toBe('actor is longer than 200 characters');
  });

  it('pages on after the last seq of a full page', () => {
    const page = (n: number) => Array.from({ length: n }, (_, i) => entry({ seq: i + 1 }));
    expect(nextAfter(page(500))).toBe(500);
    expect(nextAfter(page(499))).toBeNull();
    expect(nextAfter([])).toBeNull();
    expect(nextAfter(page(10), 10)).toBe(10);
  });

  it('round-trips through the URL', () => {
    const f = filter({ since: '2026-11-26T15:00', actor: 'ana', break_id: 'b-1' });
    const p = new URLSearchParams({ view: 'audit' });
    writeAuditFilter(f, p);
    expect(p.toString()).toBe('view=audit&since=2026-11-26T15%3A00&actor=ana&break_id=b-1');
    expect(readAuditFilter(p)).toEqual(f);
  });
});
