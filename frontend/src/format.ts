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
