// The audit trail (bff/routers/audit.py): entries, how they read (who did what when,
// before → after, from where), the filters of the audit page and their query strings.
// Pure: no React, no I/O (the requests are in api.ts).

import { formatTimestamp } from './format';

/** One entry of the trail (EntryOut). */
export interface AuditEntry {
  seq: number;
  /** ISO instant */
  at: string;
  actor: string;
  /** user | token | system | anonymous */
  actor_kind: string;
  action: string;
  target_type: string;
  target_id: string;
  recon: string | null;
  before: unknown;
  after: unknown;
  ip: string;
  user_agent: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Validate an EntryOut; null when it is not one. */
export function parseEntry(value: unknown): AuditEntry | null {
  if (!isObject(value)) return null;
  const { seq, at, action } = value;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || typeof at !== 'string' || typeof action !== 'string') return null;
  return {
    seq,
    at,
    actor: text(value.actor),
    actor_kind: text(value.actor_kind),
    action,
    target_type: text(value.target_type),
    target_id: text(value.target_id),
    recon: typeof value.recon === 'string' ? value.recon : null,
    before: value.before ?? null,
    after: value.after ?? null,
    ip: text(value.ip),
    user_agent: text(value.user_agent),
    request_id: text(value.request_id),
    prev_hash: text(value.prev_hash),
    hash: text(value.hash),
  };
}

/** Validate a list of entries (invalid ones are skipped); null when it is not a list. */
export function parseEntries(value: unknown): AuditEntry[] | null {
  if (!Array.isArray(value)) return null;
  const out: AuditEntry[] = [];
  for (const item of value) {
    const e = parseEntry(item);
    if (e !== null) out.push(e);
  }
  return out;
}

/** GET /api/audit/verify (Verified). */
export interface Verified {
  intact: boolean;
  entries: number;
  shipped: number;
  problem: string | null;
}

export function parseVerified(value: unknown): Verified | null {
  if (!isObject(value) || typeof value.intact !== 'boolean') return null;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    intact: value.intact,
    entries: n(value.entries),
    shipped: n(value.shipped),
    problem: typeof value.problem === 'string' && value.problem !== '' ? value.problem : null,
  };
}

const entries = (n: number): string => `${n.toLocaleString('en-US')} ${n === 1 ? 'entry' : 'entries'}`;

/** `Chain intact: 1,204 entries (1,200 shipped to Kafka)` / `Chain broken: entry 17 …`. */
export function describeVerified(v: Verified): string {
  if (v.intact) return `Chain intact: ${entries(v.entries)} (${v.shipped.toLocaleString('en-US')} shipped to Kafka)`;
  return `Chain broken: ${v.problem ?? 'the trail does not verify'}`;
}

// ---- how an entry reads ---------------------------------------------------------------

/** Display names of the actions the BFF records; an unknown action shows as recorded. */
export const ACTION_LABEL: Record<string, string> = {
  'break.label': 'Labelled',
  'break.reverse': 'Reversed decision',
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Sign-in refused',
  'auth.sign_out': 'Signed out',
  'user.password': 'Changed password',
  'user.create': 'Created user',
  'user.update': 'Changed user',
  'user.sessions_revoked': 'Revoked sessions',
  'token.create': 'Created API token',
  'token.revoke': 'Revoked API token',
};

export function actionLabel(action: string): string {
  return ACTION_LABEL[action] ?? action;
}

/** `alice`; other kinds than a user say so: `ci-bot (token)`, `greenai (system)`. */
export function actorText(e: Pick<AuditEntry, 'actor' | 'actor_kind'>): string {
  const name = e.actor || '?';
  return e.actor_kind === '' || e.actor_kind === 'user' ? name : `${name} (${e.actor_kind})`;
}

/** `break b-1f3b`, `user alice`; '' when the action has no target. */
export function targetText(e: Pick<AuditEntry, 'target_type' | 'target_id'>): string {
  return [e.target_type, e.target_id].filter(Boolean).join(' ');
}

const MAX_VALUE = 120;

/** A recorded value as one short line: text as is, `∅` for null, anything else as JSON. */
export function formatValue(v: unknown): string {
  let s: string;
  if (v === null || v === undefined) s = '∅';
  else if (typeof v === 'string') s = v;
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

export interface ChangeLine {
  /** the field of an object value; null when before/after are not objects */
  field: string | null;
  kind: 'changed' | 'added' | 'removed' | 'same';
  before: string | null;
  after: string | null;
}

const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * before → after, field by field when both are objects (or one is absent): a field whose
 * value did not change is `same`; a field only after, with a value, is `added` (a null
 * that appears says nothing and is left out); one only before is `removed`.
 */
export function changeLines(before: unknown, after: unknown): ChangeLine[] {
  const b = before ?? null;
  const a = after ?? null;
  if (b === null && a === null) return [];
  if ((b === null || isObject(b)) && (a === null || isObject(a))) {
    const bo = (b ?? {}) as Record<string, unknown>;
    const ao = (a ?? {}) as Record<string, unknown>;
    const fields = [...Object.keys(bo), ...Object.keys(ao).filter((k) => !(k in bo))];
    const out: ChangeLine[] = [];
    for (const field of fields) {
      const inB = field in bo && b !== null;
      const inA = field in ao && a !== null;
      const bv = bo[field] ?? null;
      const av = ao[field] ?? null;
      if (inB && inA) {
        out.push({ field, kind: same(bv, av) ? 'same' : 'changed', before: formatValue(bv), after: formatValue(av) });
      } else if (inA) {
        if (av !== null) out.push({ field, kind: 'added', before: null, after: formatValue(av) });
      } else if (bv !== null) {
        out.push({ field, kind: 'removed', before: formatValue(bv), after: null });
      }
    }
    return out;
  }
  if (same(b, a)) return [{ field: null, kind: 'same', before: formatValue(b), after: formatValue(a) }];
  return [{ field: null, kind: 'changed', before: formatValue(b), after: formatValue(a) }];
}

const lineText = (l: ChangeLine): string => {
  const name = l.field === null ? '' : `${l.field}: `;
  switch (l.kind) {
    case 'changed':
      return `${name}${l.before} → ${l.after}`;
    case 'added':
      return `${name}${l.after}`;
    case 'removed':
      return `${name}${l.before} → (removed)`;
    case 'same':
      return `${name}${l.after}`;
  }
};

/**
 * The change of an entry on one line: `cause: FX → FEE · reason: broker fee`; when
 * nothing changed, the values that stayed: `cause: FX, disposition: QUEUE (unchanged)`;
 * '' when the entry records no values (a sign-out).
 */
export function changeText(e: Pick<AuditEntry, 'before' | 'after'>): string {
  const lines = changeLines(e.before, e.after);
  const moved = lines.filter((l) => l.kind !== 'same');
  if (moved.length > 0) return moved.map(lineText).join(' · ');
  if (lines.length > 0) return `${lines.map(lineText).join(', ')} (unchanged)`;
  return '';
}

/** A user agent in two words: `Chrome 131`, `Firefox 128`, `curl 8.5`, `python-httpx 0.27`. */
export function shortAgent(ua: string): string {
  const s = ua.trim();
  if (s === '') return '';
  const version = (name: string): string | null => {
    const m = new RegExp(`${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([0-9]+(?:\\.[0-9]+)?)`).exec(s);
    return m ? (m[1] ?? null) : null;
  };
  const browsers: [string, string][] = [
    ['Edg', 'Edge'],
    ['OPR', 'Opera'],
    ['Firefox', 'Firefox'],
    ['HeadlessChrome', 'Headless Chrome'],
    ['Chrome', 'Chrome'],
    ['Chromium', 'Chromium'],
  ];
  for (const [token, name] of browsers) {
    const v = version(token);
    if (v !== null) return `${name} ${v.split('.')[0]}`;
  }
  if (/Safari\//.test(s)) {
    const v = version('Version');
    return v === null ? 'Safari' : `Safari ${v.split('.')[0]}`;
  }
  // a client that names itself first: `curl/8.5.0`, `python-httpx/0.27.0`, `greenai/0.1.0`
  const first = /^([A-Za-z][\w.-]*)\/([0-9]+(?:\.[0-9]+)?)/.exec(s);
  if (first) return `${first[1]} ${first[2]}`;
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** `10.0.0.5 · Chrome 131` (from where): the address and the client. */
export function whereText(e: Pick<AuditEntry, 'ip' | 'user_agent'>): string {
  return [e.ip, shortAgent(e.user_agent)].filter(Boolean).join(' · ');
}

/** `2026-11-26 15:00:05 UTC` */
export function atText(e: Pick<AuditEntry, 'at'>): string {
  const t = formatTimestamp(e.at);
  return t === e.at ? t : `${t} UTC`;
}

// ---- the audit page's filters -----------------------------------------------------------

/**
 * The filters of GET /api/audit (and its export), as the form holds them: '' = no filter.
 * `since` / `until` are UTC date-times as a datetime-local input gives them
 * (`2026-11-26T15:00`), or full ISO instants.
 */
export interface AuditFilter {
  since: string;
  until: string;
  actor: string;
  recon: string;
  break_id: string;
}

export const AUDIT_FILTER_KEYS = ['since', 'until', 'actor', 'recon', 'break_id'] as const;

export const emptyAuditFilter: AuditFilter = { since: '', until: '', actor: '', recon: '', break_id: '' };

/** At most this many entries a page (bff/routers/audit.py PAGE). */
export const AUDIT_PAGE = 500;

const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2})(\.\d{1,6})?)?$/;

/**
 * A UTC instant for the API: `2026-11-26T15:00` → `2026-11-26T15:00:00Z` (the form's
 * times are UTC, as the app shows them); an ISO instant with a zone is kept (normalised
 * to UTC). null for anything else.
 */
export function utcInstant(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  const m = LOCAL_TIME.exec(v);
  const iso = m ? `${m[1]}T${m[2]}:${m[3] ?? '00'}${m[4] ?? ''}Z` : v;
  if (!m && !/(Z|[+-]\d{2}:?\d{2})$/i.test(v)) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  const out = new Date(t).toISOString();
  return out.endsWith('.000Z') ? `${out.slice(0, -5)}Z` : out;
}

/**
 * A time as a datetime-local input shows it (UTC): `2026-11-26T15:00`, with seconds only
 * when there are some; '' when it is not a time.
 */
export function toTimeInput(value: string): string {
  const instant = utcInstant(value);
  if (instant === null) return '';
  const t = instant.slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  return t.endsWith(':00') ? t.slice(0, 16) : t;
}

/** The datetime-local value (UTC) of `hours` before `now` (ms), to the minute. */
export function hoursAgo(hours: number, now: number): string {
  return new Date(now - hours * 3_600_000).toISOString().slice(0, 16);
}

const trimmed = (f: AuditFilter): AuditFilter => ({
  since: f.since.trim(),
  until: f.until.trim(),
  actor: f.actor.trim(),
  recon: f.recon.trim(),
  break_id: f.break_id.trim(),
});

/** What is wrong with the filters (one line), or null. */
export function auditFilterProblem(filter: AuditFilter): string | null {
  const f = trimmed(filter);
  const since = f.since === '' ? null : utcInstant(f.since);
  const until = f.until === '' ? null : utcInstant(f.until);
  if (f.since !== '' && since === null) return `"From" is not a date and time: ${f.since}`;
  if (f.until !== '' && until === null) return `"To" is not a date and time: ${f.until}`;
  if (since !== null && until !== null && Date.parse(since) >= Date.parse(until)) return '"From" must be before "To"';
  for (const k of ['actor', 'recon', 'break_id'] as const) if (f[k].length > 200) return `${k} is longer than 200 characters`;
  return null;
}

/** The API's query parameters of the filters (only those set; times as UTC instants). */
export function auditParams(filter: AuditFilter): URLSearchParams {
  const f = trimmed(filter);
  const p = new URLSearchParams();
  const since = utcInstant(f.since);
  const until = utcInstant(f.until);
  if (since !== null) p.set('since', since);
  if (until !== null) p.set('until', until);
  if (f.actor !== '') p.set('actor', f.actor);
  if (f.recon !== '') p.set('recon', f.recon);
  if (f.break_id !== '') p.set('break_id', f.break_id);
  return p;
}

/** `api/audit?actor=alice&after=120&limit=500`: one page of entries after seq `after`. */
export function auditPagePath(filter: AuditFilter, after = 0, limit = AUDIT_PAGE): string {
  const p = auditParams(filter);
  p.set('after', String(Math.max(0, Math.floor(after))));
  p.set('limit', String(Math.min(AUDIT_PAGE, Math.max(1, Math.floor(limit)))));
  return `api/audit?${p.toString()}`;
}

export type ExportFormat = 'csv' | 'jsonl';

/** `api/audit/export?format=csv&actor=alice`: the download of the filtered trail. */
export function auditExportPath(filter: AuditFilter, format: ExportFormat): string {
  const p = new URLSearchParams({ format });
  for (const [k, v] of auditParams(filter)) p.set(k, v);
  return `api/audit/export?${p.toString()}`;
}

/** The seq to fetch the next page after, or null when the last page was not full. */
export function nextAfter(page: readonly AuditEntry[], limit = AUDIT_PAGE): number | null {
  const last = page[page.length - 1];
  return page.length >= limit && last !== undefined ? last.seq : null;
}

/** The filters in the page's URL (the form's values, as typed). */
export function readAuditFilter(p: URLSearchParams): AuditFilter {
  const out = { ...emptyAuditFilter };
  for (const k of AUDIT_FILTER_KEYS) out[k] = (p.get(k) ?? '').slice(0, 200);
  return out;
}

export function writeAuditFilter(filter: AuditFilter, p: URLSearchParams): void {
  const f = trimmed(filter);
  for (const k of AUDIT_FILTER_KEYS) if (f[k] !== '') p.set(k, f[k]);
}

export const sameAuditFilter = (a: AuditFilter, b: AuditFilter): boolean =>
  AUDIT_FILTER_KEYS.every((k) => a[k].trim() === b[k].trim());
