// The scheduler's jobs (GET api/schedule) and running one now (POST api/schedule/{job}/run,
// admins). Pure parsing first, then the I/O.

import { requestJson, ApiError } from './api';

export const JOB_KINDS = ['cutoff', 'connector', 'sla', 'ageing', 'retention'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const RUN_STATUSES = ['OK', 'FAILED', 'RUNNING'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface JobRun {
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  detail: string | null;
  /** who asked for a run now; null for a scheduled run */
  requested_by: string | null;
}

export interface Job {
  /** e.g. `cutoff:trades` */
  job: string;
  /** one of JOB_KINDS, or a kind this UI does not know yet (shown as sent) */
  kind: string;
  recon: string | null;
  source: string | null;
  /** `17:30 Europe/London`, `*\/5 * * * *`, `every 60s` */
  schedule: string;
  next_run: string | null;
  last_run: JobRun | null;
  /** failed runs in the last day */
  failures: number;
}

export const SCHEDULE_PATH = 'api/schedule';
export const REFRESH_MS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const instant = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);

export function parseRun(v: unknown): JobRun | null {
  if (!isObject(v)) return null;
  const started = instant(v.started_at);
  if (started === null || !(RUN_STATUSES as readonly unknown[]).includes(v.status)) return null;
  return {
    started_at: started,
    finished_at: instant(v.finished_at),
    status: v.status as RunStatus,
    detail: text(v.detail),
    requested_by: text(v.requested_by),
  };
}

export function parseJob(v: unknown): Job | null {
  if (!isObject(v) || typeof v.job !== 'string' || v.job === '') return null;
  return {
    job: v.job,
    kind: text(v.kind) ?? '',
    recon: text(v.recon),
    source: text(v.source),
    schedule: typeof v.schedule === 'string' ? v.schedule : '',
    next_run: instant(v.next_run),
    last_run: parseRun(v.last_run),
    failures: typeof v.failures === 'number' && Number.isFinite(v.failures) && v.failures > 0 ? Math.floor(v.failures) : 0,
  };
}

/** Validate GET api/schedule: null when it is not a list; invalid jobs are skipped. In
 *  the order sent (the BFF's order), duplicates of a job name dropped. */
export function parseSchedule(value: unknown): Job[] | null {
  if (!Array.isArray(value)) return null;
  const seen = new Set<string>();
  const out: Job[] = [];
  for (const item of value) {
    const j = parseJob(item);
    if (j === null || seen.has(j.job)) continue;
    seen.add(j.job);
    out.push(j);
  }
  return out;
}

/** Whom a job works for: `trades`, `trades / ledger`, or `—`. */
export function jobScope(j: Pick<Job, 'recon' | 'source'>): string {
  return [j.recon, j.source].filter((s): s is string => s !== null).join(' / ') || '—';
}

/** The state a row shows: running, failed (the last run), failing (earlier failures today), ok, never run. */
export type JobHealth = 'running' | 'failed' | 'failing' | 'ok' | 'never';

export function jobHealth(j: Pick<Job, 'last_run' | 'failures'>): JobHealth {
  if (j.last_run === null) return j.failures > 0 ? 'failing' : 'never';
  if (j.last_run.status === 'RUNNING') return 'running';
  if (j.last_run.status === 'FAILED') return 'failed';
  return j.failures > 0 ? 'failing' : 'ok';
}

/** How long a run took: `12s`, `3m 4s`, `2h 5m`; '' when either instant is unreadable. */
export function formatDuration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** `api/schedule/{job}/run`, the job name path-escaped (`cutoff:trades` → `cutoff%3Atrades`). */
export const runJobPath = (job: string): string => `${SCHEDULE_PATH}/${encodeURIComponent(job)}/run`;

// ---- I/O --------------------------------------------------------------------------------

export async function fetchSchedule(signal?: AbortSignal): Promise<Job[]> {
  const jobs = parseSchedule(await requestJson(SCHEDULE_PATH, { method: 'GET', signal }));
  if (jobs === null) throw new ApiError(`GET /${SCHEDULE_PATH}: expected a JSON array`, null);
  return jobs;
}

/** POST api/schedule/{job}/run → 202: the run is queued (the CSRF token goes with it, as
 *  with every POST through apiFetch). */
export async function runJob(job: string): Promise<void> {
  await requestJson(runJobPath(job), { method: 'POST' });
}
