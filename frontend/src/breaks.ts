// Pure state logic of the workstation: merging live updates into the set of known
// breaks, and selecting / summarising them for the views. No React, no I/O.

import { AGEING_BUCKETS, PROPOSAL_ACTIONS, STATUSES, type AgeingBucket, type Break, type Cause, type Proposal, type Status } from './types';

/** All known breaks by break_id. Treated as immutable: every change returns a new map. */
export type BreakIndex = ReadonlyMap<string, Break>;

export const emptyIndex = (): BreakIndex => new Map();

/**
 * Whether `incoming` is newer than `current`: breaks are ordered by (version, revision) —
 * the data's version first, then the workflow's revision within it (a missing revision
 * counts as 0).
 */
export function isNewer(incoming: Pick<Break, 'version' | 'revision'>, current: Pick<Break, 'version' | 'revision'>): boolean {
  if (incoming.version !== current.version) return incoming.version > current.version;
  return (incoming.revision ?? 0) > (current.revision ?? 0);
}

/**
 * Merge one break into the index. The break with the highest (version, revision) wins:
 * an older (or equal) one arriving later never overwrites what is already known. Returns
 * the same index instance when nothing changed, so callers can skip re-rendering.
 */
export function mergeBreak(index: BreakIndex, incoming: Break): BreakIndex {
  const current = index.get(incoming.break_id);
  if (current !== undefined && !isNewer(incoming, current)) return index;
  const next = new Map(index);
  next.set(incoming.break_id, incoming);
  return next;
}

/** Merge many breaks (a snapshot or a burst of live events), in any order. */
export function mergeBreaks(index: BreakIndex, incoming: Iterable<Break>): BreakIndex {
  let next: Map<string, Break> | null = null;
  for (const b of incoming) {
    const current = (next ?? index).get(b.break_id);
    if (current !== undefined && !isNewer(b, current)) continue;
    if (next === null) next = new Map(index);
    next.set(b.break_id, b);
  }
  return next ?? index;
}

/** open = not settled yet (OPEN and IN_REVIEW, as `greenai breaks --status open`) */
export type StatusFilter = 'open' | 'in_review' | 'resolved' | 'closed' | 'all';
export const STATUS_FILTERS: readonly StatusFilter[] = ['open', 'in_review', 'resolved', 'closed', 'all'];

export interface BreakFilter {
  status: StatusFilter;
  /** null = every reconciliation */
  recon: string | null;
  /** null = every cause; 'PENDING' = not yet attributed */
  cause: Cause | 'PENDING' | null;
  /** null = any age; else only breaks in this ageing bucket */
  bucket: AgeingBucket | null;
  /** only unsettled breaks past their due date */
  overdue: boolean;
}

export const defaultFilter: BreakFilter = { status: 'open', recon: null, cause: null, bucket: null, overdue: false };

export const isAgeingBucket = (v: unknown): v is AgeingBucket => (AGEING_BUCKETS as readonly unknown[]).includes(v);

/** The bucket of a break this many business days old (as the BFF buckets them). */
export function ageingBucket(ageDays: number): AgeingBucket {
  if (ageDays <= 1) return '0-1';
  if (ageDays <= 3) return '2-3';
  return ageDays <= 7 ? '4-7' : '>7';
}

/**
 * Whether a break is overdue at `now` (ms): not settled, and either the BFF said so or its
 * due date has passed since (the flag in a payload is as of when it was sent).
 */
export function isOverdue(b: Pick<Break, 'status' | 'due' | 'overdue'>, now: number): boolean {
  if (isSettled(b)) return false;
  if (b.overdue) return true;
  if (b.due === null) return false;
  const due = Date.parse(b.due);
  return !Number.isNaN(due) && due < now;
}

const STATUS_OF: Record<Exclude<StatusFilter, 'all'>, readonly Status[]> = {
  open: ['OPEN', 'IN_REVIEW'],
  in_review: ['IN_REVIEW'],
  resolved: ['RESOLVED'],
  closed: ['CLOSED'],
};

/** Settled breaks: resolved by the data or closed by a person or rule. */
export const isSettled = (b: Pick<Break, 'status'>): boolean => b.status === 'RESOLVED' || b.status === 'CLOSED';

export function matchesFilter(b: Break, f: BreakFilter, now: number = Date.now()): boolean {
  if (f.status !== 'all' && !STATUS_OF[f.status].includes(b.status)) return false;
  if (f.recon !== null && b.recon !== f.recon) return false;
  if (f.bucket !== null && b.ageing_bucket !== f.bucket) return false;
  if (f.overdue && !isOverdue(b, now)) return false;
  if (f.cause === 'PENDING') return b.cause === null;
  if (f.cause !== null && b.cause !== f.cause) return false;
  return true;
}

/** The breaks a view shows, in the index's (insertion) order; the grid sorts them. */
export function selectBreaks(index: BreakIndex, f: BreakFilter, now: number = Date.now()): Break[] {
  const out: Break[] = [];
  for (const b of index.values()) if (matchesFilter(b, f, now)) out.push(b);
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
  /** closed by a person or an auto-close rule */
  closed: number;
  /** open breaks by cause; key 'PENDING' counts open breaks not yet attributed */
  openByCause: Partial<Record<Cause | 'PENDING', number>>;
  /** open breaks the Discriminator escalated */
  escalated: number;
  /** open breaks in an analyst queue */
  queued: number;
  /** open breaks with priority 1 */
  p1: number;
  /** open breaks past their due date */
  overdue: number;
}

/** Header counts. `recon` narrows them to one reconciliation (null = all). */
export function summarize(index: BreakIndex, recon: string | null = null, now: number = Date.now()): Summary {
  const s: Summary = { total: 0, open: 0, resolved: 0, closed: 0, openByCause: {}, escalated: 0, queued: 0, p1: 0, overdue: 0 };
  for (const b of index.values()) {
    if (recon !== null && b.recon !== recon) continue;
    s.total += 1;
    if (b.status === 'RESOLVED') {
      s.resolved += 1;
      continue;
    }
    if (b.status === 'CLOSED') {
      s.closed += 1;
      continue;
    }
    s.open += 1;
    const cause = b.cause ?? 'PENDING';
    s.openByCause[cause] = (s.openByCause[cause] ?? 0) + 1;
    if (b.disposition === 'ESCALATE') s.escalated += 1;
    if (b.disposition === 'QUEUE') s.queued += 1;
    if (b.priority === 1) s.p1 += 1;
    if (isOverdue(b, now)) s.overdue += 1;
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
  if (!(STATUSES as readonly unknown[]).includes(v.status)) return null;
  const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
  const age = typeof v.age_days === 'number' && Number.isFinite(v.age_days) && v.age_days >= 0 ? Math.floor(v.age_days) : null;
  const bucket = isAgeingBucket(v.ageing_bucket) ? v.ageing_bucket : age !== null ? ageingBucket(age) : null;
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
    revision: typeof v.revision === 'number' && Number.isFinite(v.revision) ? v.revision : 0,
    owner: str(v.owner),
    close_reason: str(v.close_reason),
    close_note: str(v.close_note),
    tags: Array.isArray(v.tags) ? v.tags.filter((t): t is string => typeof t === 'string') : [],
    proposal: parseProposal(v.proposal),
    materiality: typeof v.materiality === 'string' || typeof v.materiality === 'number' ? String(v.materiality) : null,
    age_days: age,
    ageing_bucket: bucket,
    due: typeof v.due === 'string' && !Number.isNaN(Date.parse(v.due)) ? v.due : null,
    overdue: v.overdue === true,
  };
}

/** A pending proposal, or null when there is none (or it is not one). */
export function parseProposal(value: unknown): Proposal | null {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  if (!(PROPOSAL_ACTIONS as readonly unknown[]).includes(p.action)) return null;
  if (typeof p.by !== 'string') return null;
  return {
    action: p.action as Proposal['action'],
    reason: typeof p.reason === 'string' ? p.reason : '',
    note: typeof p.note === 'string' ? p.note : null,
    amount: typeof p.amount === 'string' || typeof p.amount === 'number' ? String(p.amount) : null,
    by: p.by,
    at: typeof p.at === 'string' ? p.at : '',
  };
}

/** The owner filter: every break, mine, unassigned, or one owner (a user or "team:x"). */
export type OwnerFilter = { kind: 'any' } | { kind: 'mine' } | { kind: 'unassigned' } | { kind: 'owner'; owner: string };
export const ANY_OWNER: OwnerFilter = { kind: 'any' };

export function matchesOwner(b: Pick<Break, 'owner'>, f: OwnerFilter, username: string | null): boolean {
  switch (f.kind) {
    case 'any':
      return true;
    case 'mine':
      return username !== null && b.owner === username;
    case 'unassigned':
      return b.owner === null;
    case 'owner':
      return b.owner === f.owner;
  }
}

/** Distinct owners, sorted, for the owner filter. */
export function ownerNames(index: BreakIndex): string[] {
  const names = new Set<string>();
  for (const b of index.values()) if (b.owner) names.add(b.owner);
  return [...names].sort();
}
