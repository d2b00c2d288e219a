// Pure display formatting shared by the grid, the detail panel and the quick search.

import type { Break, Cause, Disposition, FieldDiff } from './types';

const NULL_MARK = '∅';

const show = (v: unknown): string => (v === null || v === undefined ? NULL_MARK : String(v));

/** `{trade_id: "T-1001", leg: 2}` -> `trade_id=T-1001, leg=2` */
export function formatKey(key: Break['key']): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');
}

/** `amount: ledger=100.00 custody=101.00 (Δ 1.00)` */
export function formatFieldDiff(d: FieldDiff): string {
  const values = Object.entries(d.values ?? {})
    .map(([source, v]) => `${source}=${show(v)}`)
    .join(' ');
  const delta = d.delta === null || d.delta === undefined ? '' : ` (Δ ${d.delta})`;
  return `${d.field}: ${values}${delta}`;
}

export function formatFields(fields: FieldDiff[]): string {
  return fields.map(formatFieldDiff).join('; ');
}

/** Display names of the causes (`PENDING`: not attributed yet). */
export const CAUSE_LABEL: Record<Cause | 'PENDING', string> = {
  TIMING: 'Timing',
  ROUNDING: 'Rounding',
  FX: 'FX',
  STATIC_DATA: 'Static data',
  FAT_FINGER: 'Fat finger',
  FEE: 'Fee',
  MISSING_BOOKING: 'Missing booking',
  DUPLICATE_BOOKING: 'Duplicate booking',
  UNKNOWN: 'Unknown',
  PENDING: 'Pending',
};

/** `AUTO_CLOSE` -> `Auto-close`, `QUEUE` -> `Queue`, `ESCALATE` -> `Escalate`. */
export function dispositionName(d: Disposition): string {
  return d === 'AUTO_CLOSE' ? 'Auto-close' : humanize(d);
}

/** 0.82 -> `82%`; null -> `—` */
export function formatConfidence(c: number | null): string {
  if (c === null || !Number.isFinite(c)) return '—';
  return `${Math.round(c * 100)}%`;
}

/** Human label of an enum value: `MISSING_BOOKING` -> `Missing booking`. */
export function humanize(v: string | null): string {
  if (v === null) return '—';
  const s = v.toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** ISO timestamp -> `2026-11-26 15:00:05` (UTC, as the backend stores it). */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/** Age of a break for the detail panel: `42s`, `7m`, `3h 12m`, `2d 4h`. */
export function formatAge(fromIso: string, nowMs: number): string {
  const t = Date.parse(fromIso);
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.floor((nowMs - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** Everything a quick search should match for one break, as lower-case text. */
export function searchText(b: Break): string {
  return [
    b.break_id,
    b.recon,
    b.kind,
    b.status,
    formatKey(b.key),
    formatFields(b.fields),
    b.missing_in ?? '',
    b.cause ?? 'pending',
    humanize(b.cause),
    b.disposition ?? '',
    b.priority === null ? '' : `P${b.priority}`,
  ]
    .join(' \u0000 ')
    .toLowerCase();
}

/** `3` -> `3d` (business days); null -> `—` */
export function formatAgeDays(days: number | null): string {
  return days === null ? '—' : `${days}d`;
}

/** A rate in 0..1 as a percentage with one decimal: 0.8512 -> `85.1%`; null -> `—` */
export function formatRate(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return '—';
  return `${(rate * 100).toFixed(1)}%`;
}

/**
 * How far `iso` is from `nowMs`, in words: `in 4m`, `2h 5m ago`, `just now`. For the
 * schedule's next and last runs; the exact time is shown beside it.
 */
export function formatRelative(iso: string | null, nowMs: number): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((t - nowMs) / 1000);
  const abs = Math.abs(s);
  if (abs < 5) return 'just now';
  let span: string;
  if (abs < 60) span = `${abs}s`;
  else if (abs < 3600) span = `${Math.floor(abs / 60)}m`;
  else if (abs < 86400) span = `${Math.floor(abs / 3600)}h ${Math.floor((abs % 3600) / 60)}m`;
  else span = `${Math.floor(abs / 86400)}d ${Math.floor((abs % 86400) / 3600)}h`;
  return s > 0 ? `in ${span}` : `${span} ago`;
}

const DECIMAL = /^\s*([+-])?(\d*)(?:\.(\d*))?\s*$/;

/** A decimal string as [sign, integer digits, fraction digits] without redundant zeros;
 *  null when it is not a plain decimal (no exponent, no thousands separators). */
function decimalParts(s: string): [1 | -1, string, string] | null {
  const m = DECIMAL.exec(s);
  if (m === null) return null;
  const int = (m[2] ?? '').replace(/^0+/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if ((m[2] ?? '') === '' && (m[3] ?? '') === '') return null; // '', '.', '-'
  const zero = int === '' && frac === '';
  return [m[1] === '-' && !zero ? -1 : 1, int, frac];
}

/**
 * Order two exact decimal strings (materiality, amounts) without turning them into
 * floats: `compareDecimal('10.5', '9.75') > 0`. Null (and text that is not a decimal)
 * sorts below every number.
 */
export function compareDecimal(a: string | null, b: string | null): number {
  const pa = a === null ? null : decimalParts(a);
  const pb = b === null ? null : decimalParts(b);
  if (pa === null || pb === null) return (pa === null ? 0 : 1) - (pb === null ? 0 : 1);
  if (pa[0] !== pb[0]) return pa[0] - pb[0];
  let mag: number;
  if (pa[1].length !== pb[1].length) mag = pa[1].length - pb[1].length;
  else if (pa[1] !== pb[1]) mag = pa[1] < pb[1] ? -1 : 1;
  else {
    const width = Math.max(pa[2].length, pb[2].length);
    const fa = pa[2].padEnd(width, '0');
    const fb = pb[2].padEnd(width, '0');
    mag = fa === fb ? 0 : fa < fb ? -1 : 1;
  }
  return Math.sign(mag) * pa[0];
}
