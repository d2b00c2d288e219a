// Pure state logic of the workstation: merging live updates into the set of known
// breaks, and selecting / summarising them for the views. No React, no I/O.

import type { Break, Cause, Status } from './types';

/** All known breaks by break_id. Treated as immutable: every change returns a new map. */
export type BreakIndex = ReadonlyMap<string, Break>;

export const emptyIndex = (): BreakIndex => new Map();

/**
 * Merge one break into the index. The break with the highest `version` wins: an older
 * (or equal) version arriving later never overwrites what is already known. Returns the
 * same index instance when nothing changed, so callers can skip re-rendering.
 */
export function mergeBreak(index: BreakIndex, incoming: Break): BreakIndex {
  const current = index.get(incoming.break_id);
  if (current !== undefined && current.version >= incoming.version) return index;
  const next = new Map(index);
  next.set(incoming.break_id, incoming);
  return next;
}

/** Merge many breaks (a snapshot or a burst of live events), in any order. */
export function mergeBreaks(index: BreakIndex, incoming: Iterable<Break>): BreakIndex {
  let next: Map<string, Break> | null = null;
  for (const b of incoming) {
    const current = (next ?? index).get(b.break_id);
    if (current !== undefined && current.version >= b.version) continue;
    if (next === null) next = new Map(index);
    next.set(b.break_id, b);
  }
  return next ?? index;
}

export type StatusFilter = 'open' | 'resolved' | 'all';
export const STATUS_FILTERS: readonly StatusFilter[] = ['open', 'resolved', 'all'];

export interface BreakFilter {
  status: StatusFilter;
  /** null = every reconciliation */
  recon: string | null;
  /** null = every cause; 'PENDING' = not yet attributed */
  cause: Cause | 'PENDING' | null;
}

export const defaultFilter: BreakFilter = { status: 'open', recon: null, cause: null };

const STATUS_OF: Record<Exclude<StatusFilter, 'all'>, Status> = {
  open: 'OPEN',
  resolved: 'RESOLVED',
};

export function matchesFilter(b: Break, f: BreakFilter): boolean {
  if (f.status !== 'all' && b.status !== STATUS_OF[f.status]) return false;
  if (f.recon !== null && b.recon !== f.recon) return false;
  if (f.cause === 'PENDING') return b.cause === null;
  if (f.cause !== null && b.cause !== f.cause) return false;
  return true;
}

/** The breaks a view shows, in the index's (insertion) order; the grid sorts them. */
export function selectBreaks(index: BreakIndex, f: BreakFilter): Break[] {
  const out: Break[] = [];
  for (const b of index.values()) if (matchesFilter(b, f)) out.push(b);
  return out;
}

/** Distinct reconciliation names, sorted, for the recon filter. */
export function reconNames(index: BreakIndex): string[] {
  const names = new Set<string>();
  for (const b of index.values()) names.add(b.recon);
  return [...names].sort();
}

export interface Summary {
  total: number;
  open: number;
  resolved: number;
  /** open breaks by cause; key 'PENDING' counts open breaks not yet attributed */
  openByCause: Partial<Record<Cause | 'PENDING', number>>;
  /** open breaks the Discriminator escalated */
  escalated: number;
  /** open breaks in an analyst queue */
  queued: number;
  /** open breaks with priority 1 */
  p1: number;
}

/** Header counts. `recon` narrows them to one reconciliation (null = all). */
export function summarize(index: BreakIndex, recon: string | null = null): Summary {
  const s: Summary = { total: 0, open: 0, resolved: 0, openByCause: {}, escalated: 0, queued: 0, p1: 0 };
  for (const b of index.values()) {
    if (recon !== null && b.recon !== recon) continue;
    s.total += 1;
    if (b.status === 'RESOLVED') {
      s.resolved += 1;
      continue;
    }
    s.open += 1;
    const cause = b.cause ?? 'PENDING';
    s.openByCause[cause] = (s.openByCause[cause] ?? 0) + 1;
    if (b.disposition === 'ESCALATE') s.escalated += 1;
    if (b.disposition === 'QUEUE') s.queued += 1;
    if (b.priority === 1) s.p1 += 1;
  }
  return s;
}

/**
 * Validate a JSON value received from the API or the stream. Returns the Break, or null
 * when the payload lacks what the merge needs (break_id, numeric version, recon, status).
 */
export function parseBreak(value: unknown): Break | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.break_id !== 'string' || v.break_id === '') return null;
  if (typeof v.version !== 'number' || !Number.isFinite(v.version)) return null;
  if (typeof v.recon !== 'string') return null;
  if (v.status !== 'OPEN' && v.status !== 'RESOLVED') return null;
  return {
    ...(v as unknown as Break),
    key: (typeof v.key === 'object' && v.key !== null ? v.key : {}) as Break['key'],
    fields: Array.isArray(v.fields) ? (v.fields as Break['fields']) : [],
    explanation: Array.isArray(v.explanation) ? (v.explanation as Break['explanation']) : [],
    missing_in: (v.missing_in as string | null | undefined) ?? null,
    cause: (v.cause as Break['cause'] | undefined) ?? null,
    confidence: typeof v.confidence === 'number' ? v.confidence : null,
    disposition: (v.disposition as Break['disposition'] | undefined) ?? null,
    priority: typeof v.priority === 'number' ? v.priority : null,
  };
}
