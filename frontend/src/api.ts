// The endpoints the workstation uses. URLs are relative to the document so the app works
// wherever the BFF serves it (same origin as /api; `npm run dev` proxies /api).
//
// Reading: the break snapshot, in keyset pages, and the SSE stream's URL (the stream
// itself is handled in useLiveBreaks.ts, its state in stream.ts).
// Analyst actions (bff/routers/labels.py): label a break's cause, reverse the automatic
// disposition, list the decisions recorded for a break. Request building and response
// parsing are pure functions below (unit-tested); the fetch wrappers only do I/O.

import { parseBreak } from './breaks';
import { resumeId } from './stream';
import { CAUSES, DISPOSITIONS, type Break, type Cause, type Disposition } from './types';

/** `path` resolved against the document (`base`), so the app works under any base path. */
export const apiUrl = (path: string, base: string = document.baseURI): string => new URL(path, base).toString();

export const BREAKS_URL = 'api/breaks?status=all';
export const STREAM_URL = 'api/stream';

// ---- the snapshot: keyset pages -------------------------------------------------------

/**
 * GET /api/breaks returns at most 1000 breaks a page (newest first). 200 pages = 200 000
 * breaks is as much as the workstation holds in memory and renders usefully; past that the
 * snapshot stops and says so (Snapshot.truncated) instead of looping or freezing the tab.
 */
export const MAX_SNAPSHOT_PAGES = 200;

/** Only what the page loop reads of a response, so tests can hand it plain objects. */
interface HeaderLookup {
  get(name: string): string | null;
}

/**
 * The cursor of the next page, or null on the last page. `X-Next-Cursor` is the contract;
 * the `cursor` parameter of the `Link: <…>; rel="next"` URL is the fallback. The Link URL
 * itself is not followed: it is absolute as the BFF saw the request (host, no proxy
 * prefix), which is wrong behind a reverse proxy that mounts the app under a path.
 */
export function nextCursor(headers: HeaderLookup): string | null {
  const direct = headers.get('X-Next-Cursor')?.trim();
  if (direct) return direct;
  const link = headers.get('Link');
  if (!link) return null;
  // `<url>; rel="next", <url>; rel="prev"`: the URL may hold commas, so split on `<`.
  for (const [, target = '', params = ''] of link.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes('next')) continue;
    try {
      return new URL(target, 'http://bff.invalid/').searchParams.get('cursor') || null;
    } catch {
      return null;
    }
  }
  return null;
}

/** The URL of one snapshot page: BREAKS_URL relative to the document, plus `cursor=`. */
export function breaksPageUrl(base: string, cursor: string | null): string {
  const url = new URL(BREAKS_URL, base);
  if (cursor !== null) url.searchParams.set('cursor', cursor);
  return url.toString();
}

export interface Snapshot {
  /** every valid break of every page fetched, newest first */
  breaks: Break[];
  pages: number;
  /** the page limit was reached while the BFF still had a next page */
  truncated: boolean;
}

export interface SnapshotOptions {
  /** defaults to the global fetch (tests pass a fake) */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** defaults to document.baseURI */
  base?: string;
  maxPages?: number;
  /** each page as it arrives (valid breaks only), so the grid can fill progressively */
  onPage?: (page: Break[], pages: number) => void;
}

/**
 * GET /api/breaks?status=all, following the keyset pages until the BFF gives no next
 * cursor (or MAX_SNAPSHOT_PAGES). Invalid entries are skipped. A break that changes while
 * the pages are read may move ahead of the cursor and be skipped here: the stream, open
 * before the snapshot is taken (useLiveBreaks.ts), delivers that change.
 */
export async function fetchAllBreaks(signal?: AbortSignal, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const fetchPage = opts.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const base = opts.base ?? document.baseURI;
  const maxPages = Math.max(1, opts.maxPages ?? MAX_SNAPSHOT_PAGES);
  const out: Break[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let pages = 1; ; pages++) {
    const what = pages === 1 ? `GET /${BREAKS_URL}` : `GET /${BREAKS_URL} (page ${pages})`;
    const res = await fetchPage(breaksPageUrl(base, cursor), { headers: { Accept: 'application/json' }, signal });
    if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status}`);
    const body: unknown = await res.json();
    if (!Array.isArray(body)) throw new Error(`${what}: expected a JSON array`);
    const page: Break[] = [];
    for (const item of body) {
      const b = parseBreak(item);
      if (b !== null) page.push(b);
    }
    for (const b of page) out.push(b);
    opts.onPage?.(page, pages);
    const next = nextCursor(res.headers);
    // An empty page ends it too: the BFF only offers a next page after a full one.
    if (next === null || body.length === 0) return { breaks: out, pages, truncated: false };
    if (pages >= maxPages) return { breaks: out, pages, truncated: true };
    // The same cursor twice would loop for ever (a proxy caching pages, a BFF bug).
    if (seen.has(next)) throw new Error(`${what}: the BFF handed out the same cursor twice`);
    seen.add(next);
    cursor = next;
  }
}

// ---- the stream: resuming ---------------------------------------------------------------

/**
 * The stream URL for a NEW EventSource. EventSource sends Last-Event-ID by itself only when
 * it reconnects on its own; a fresh one starts with none, so the last id seen goes in the
 * query (`?last_event_id=`), and the BFF replays exactly the changes after it. An id that
 * is not a sequence number (see stream.ts resumeId) is left out.
 */
export function streamPath(lastEventId: string | null): string {
  const id = resumeId(lastEventId);
  return id === null ? STREAM_URL : `${STREAM_URL}?last_event_id=${encodeURIComponent(id)}`;
}

// ---- analyst actions: contract --------------------------------------------------------

export type BreakAction = 'label' | 'reverse' | 'decisions';

/** `api/breaks/{break_id}/{action}`, relative to the document; the id is path-escaped. */
export function breakActionPath(breakId: string, action: BreakAction): string {
  return `api/breaks/${encodeURIComponent(breakId)}/${action}`;
}

/** Body of POST /api/breaks/{id}/label (LabelIn). Only the fields given are sent. */
export interface LabelRequest {
  cause: Cause;
  disposition?: Disposition;
  reason?: string;
  analyst?: string;
}

/** Body of POST /api/breaks/{id}/reverse (ReverseIn); the BFF defaults `disposition` to QUEUE. */
export interface ReverseRequest {
  disposition: Disposition;
  reason?: string;
  analyst?: string;
}

export interface ActionOptions {
  reason?: string | null;
  analyst?: string | null;
}

/** Trimmed text, or undefined when empty (so the key is left out of the JSON). */
const optionalText = (s: string | null | undefined): string | undefined => {
  const t = s?.trim();
  return t ? t : undefined;
};

function withOptions<T extends object>(body: T, opts: ActionOptions): T & { reason?: string; analyst?: string } {
  const out: T & { reason?: string; analyst?: string } = { ...body };
  const reason = optionalText(opts.reason);
  const analyst = optionalText(opts.analyst);
  if (reason !== undefined) out.reason = reason;
  if (analyst !== undefined) out.analyst = analyst;
  return out;
}

export function labelRequest(
  cause: Cause,
  opts: ActionOptions & { disposition?: Disposition | null } = {},
): LabelRequest {
  if (!(CAUSES as readonly string[]).includes(cause)) throw new Error(`unknown cause ${String(cause)}`);
  const body: LabelRequest = { cause };
  if (opts.disposition) body.disposition = opts.disposition;
  return withOptions(body, opts);
}

export function reverseRequest(disposition: Disposition, opts: ActionOptions = {}): ReverseRequest {
  if (!(DISPOSITIONS as readonly string[]).includes(disposition)) {
    throw new Error(`unknown disposition ${String(disposition)}`);
  }
  return withOptions({ disposition }, opts);
}

/** What a label or a reversal did (OutcomeOut). */
export interface Outcome {
  break_id: string;
  cause: Cause | null;
  disposition: Disposition | null;
  /** an automatic disposition was changed (the decision is marked reversed) */
  reversed: boolean;
  previous_cause: Cause | null;
  previous_disposition: Disposition | null;
}

const asCause = (v: unknown): Cause | null =>
  typeof v === 'string' && (CAUSES as readonly string[]).includes(v) ? (v as Cause) : null;
const asDisposition = (v: unknown): Disposition | null =>
  typeof v === 'string' && (DISPOSITIONS as readonly string[]).includes(v) ? (v as Disposition) : null;
const asString = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validate an OutcomeOut; null when it is not one. */
export function parseOutcome(value: unknown): Outcome | null {
  if (!isObject(value) || typeof value.break_id !== 'string' || typeof value.reversed !== 'boolean') return null;
  return {
    break_id: value.break_id,
    cause: asCause(value.cause),
    disposition: asDisposition(value.disposition),
    reversed: value.reversed,
    previous_cause: asCause(value.previous_cause),
    previous_disposition: asDisposition(value.previous_disposition),
  };
}

/** One decision of The Discriminator on one version of a break, with any reversal. */
export interface Decision {
  break_id: string;
  version: number;
  recon: string;
  cause: string | null;
  confidence: number | null;
  disposition: Disposition | null;
  priority: number | null;
  /** exact decimal string (the BFF serialises numeric as a string) */
  materiality: string | null;
  anomaly: number | null;
  /** 'model' | 'analyst' */
  decided_by: string | null;
  model_offset: number | null;
  reasons: string[];
  decided_at: string | null;
  reversed_at: string | null;
  reversed_by: string | null;
  reversed_to: Disposition | null;
  reversal_reason: string | null;
}

function parseDecision(value: unknown): Decision | null {
  if (!isObject(value) || typeof value.break_id !== 'string') return null;
  const version = asNumber(value.version);
  if (version === null) return null;
  const m = value.materiality;
  return {
    break_id: value.break_id,
    version,
    recon: asString(value.recon) ?? '',
    cause: asString(value.cause),
    confidence: asNumber(value.confidence),
    disposition: asDisposition(value.disposition),
    priority: asNumber(value.priority),
    materiality: typeof m === 'string' ? m : typeof m === 'number' && Number.isFinite(m) ? String(m) : null,
    anomaly: asNumber(value.anomaly),
    decided_by: asString(value.decided_by),
    model_offset: asNumber(value.model_offset),
    reasons: Array.isArray(value.reasons) ? value.reasons.map((r) => String(r)) : [],
    decided_at: asString(value.decided_at),
    reversed_at: asString(value.reversed_at),
    reversed_by: asString(value.reversed_by),
    reversed_to: asDisposition(value.reversed_to),
    reversal_reason: asString(value.reversal_reason),
  };
}

/** Validate the decisions list; invalid entries are skipped, the result is by version. */
export function parseDecisions(value: unknown): Decision[] | null {
  if (!Array.isArray(value)) return null;
  const out: Decision[] = [];
  for (const item of value) {
    const d = parseDecision(item);
    if (d !== null) out.push(d);
  }
  return out.sort((a, b) => a.version - b.version);
}

/**
 * The one-line reason of a failed request, from the BFF's error body: FastAPI sends
 * `{"detail": "no break b-1"}` for feedback it refuses (404/422) and
 * `{"detail": [{"loc": ["body", "cause"], "msg": "..."}]}` for an invalid request.
 */
export function errorMessage(status: number, statusText: string, body: unknown): string {
  const detail = isObject(body) ? body.detail : undefined;
  if (typeof detail === 'string' && detail.trim() !== '') return detail;
  if (Array.isArray(detail) && detail.length > 0) {
    const parts = detail.map((d) => {
      if (!isObject(d)) return String(d);
      const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== 'body').join('.') : '';
      const msg = typeof d.msg === 'string' ? d.msg : JSON.stringify(d);
      return loc ? `${loc}: ${msg}` : msg;
    });
    return parts.join('; ');
  }
  if (typeof body === 'string' && body.trim() !== '' && body.length <= 200 && !body.trimStart().startsWith('<')) {
    return `HTTP ${status}: ${body.trim()}`;
  }
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}

// ---- analyst actions: I/O -------------------------------------------------------------

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function requestJson(path: string, init: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      ...init,
      headers: { Accept: 'application/json', ...(init.body ? { 'Content-Type': 'application/json' } : {}) },
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(`network error: ${err instanceof Error ? err.message : String(err)}`, null);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  if (!res.ok) throw new ApiError(errorMessage(res.status, res.statusText, body), res.status);
  return body;
}

async function postOutcome(path: string, body: object): Promise<Outcome> {
  const json = await requestJson(path, { method: 'POST', body: JSON.stringify(body) });
  const outcome = parseOutcome(json);
  if (outcome === null) throw new ApiError(`POST /${path}: unexpected response`, null);
  return outcome;
}

/** POST /api/breaks/{id}/label — teach the model the break's cause. */
export function labelBreak(breakId: string, request: LabelRequest): Promise<Outcome> {
  return postOutcome(breakActionPath(breakId, 'label'), request);
}

/** POST /api/breaks/{id}/reverse — override the Discriminator's disposition. */
export function reverseDecision(breakId: string, request: ReverseRequest): Promise<Outcome> {
  return postOutcome(breakActionPath(breakId, 'reverse'), request);
}

/** GET /api/breaks/{id}/decisions — every recorded decision, by version. */
export async function fetchDecisions(breakId: string, signal?: AbortSignal): Promise<Decision[]> {
  const path = breakActionPath(breakId, 'decisions');
  const json = await requestJson(path, { method: 'GET', signal });
  const list = parseDecisions(json);
  if (list === null) throw new ApiError(`GET /${path}: expected a JSON array`, null);
  return list;
}
