// The endpoints the workstation uses. URLs are relative to the document so the app works
// wherever the BFF serves it (same origin as /api; `npm run dev` proxies /api).
//
// Every call goes through one fetch wrapper, apiFetch (below): it sends the session's
// CSRF token (X-CSRF-Token) with every unsafe method, and a 401 from any call tells the
// app that the session ended (onSessionEnded). The session itself is an HttpOnly cookie
// the browser sends on its own: no token is ever kept in JavaScript storage.
//
// Reading: the break snapshot, in keyset pages, and the SSE stream's URL (the stream
// itself is handled in useLiveBreaks.ts, its state in stream.ts).
// Analyst actions (bff/routers/labels.py): label a break's cause, reverse the automatic
// disposition, list the decisions recorded for a break. Request building and response
// parsing are pure functions below (unit-tested); the fetch wrappers only do I/O.
// Identity (bff/routers/auth.py): who am I, sign in and out, change one's password.
// Audit (bff/routers/audit.py): a break's trail, the whole trail in pages, its verification.

import { auditPagePath, parseEntries, parseVerified, type AuditEntry, type AuditFilter, type Verified } from './audit';
import { parseBreak } from './breaks';
import { DEFAULT_METHODS, parseMe, parseMethods, type Me, type SignInMethods } from './session';
import { resumeId } from './stream';
import { CAUSES, DISPOSITIONS, type Break, type Cause, type Disposition } from './types';

/** `path` resolved against the document (`base`), so the app works under any base path. */
export const apiUrl = (path: string, base: string = document.baseURI): string => new URL(path, base).toString();

export const BREAKS_URL = 'api/breaks?status=all';
export const STREAM_URL = 'api/stream';

// ---- the session: one fetch wrapper for every call --------------------------------------

/** The methods that change something: the BFF wants the session's CSRF token with them. */
export const UNSAFE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

export const isUnsafeMethod = (method: string | undefined): boolean => UNSAFE_METHODS.includes((method ?? 'GET').toUpperCase());

/** Request headers as a plain record (a Headers object, pairs or a record). */
function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return { ...(headers as Record<string, string>) };
}

const hasHeader = (headers: Record<string, string>, name: string): boolean =>
  Object.keys(headers).some((k) => k.toLowerCase() === name.toLowerCase());

/**
 * The request as sent (pure): Accept JSON unless the caller says otherwise, a JSON
 * Content-Type with a text body, the cookie (same origin only), and `X-CSRF-Token` on
 * every unsafe method (POST, PUT, PATCH, DELETE) when a token is known, never on a read.
 * The browser adds the Origin header of a same-origin POST by itself.
 */
export function sessionInit(init: RequestInit, csrf: string | null): RequestInit {
  const headers = plainHeaders(init.headers);
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'x-csrf-token') delete headers[k];
  const out: Record<string, string> = hasHeader(headers, 'accept') ? headers : { Accept: 'application/json', ...headers };
  if (typeof init.body === 'string' && !hasHeader(headers, 'content-type')) out['Content-Type'] = 'application/json';
  if (csrf && isUnsafeMethod(init.method)) out['X-CSRF-Token'] = csrf;
  return { ...init, headers: out, credentials: 'same-origin' };
}

/** What the wrapper knows of the session: whether one is open, and its CSRF token. */
const session: { open: boolean; csrf: string | null } = { open: false, csrf: null };
const endedListeners = new Set<() => void>();

/** A session is open (after GET api/auth/me or a sign-in): a 401 from now on ends it. */
export function beginSession(csrf: string | null): void {
  session.open = true;
  session.csrf = csrf;
}

/** Forget the session without telling anyone (the app signed out itself). */
export function forgetSession(): void {
  session.open = false;
  session.csrf = null;
}

export const sessionOpen = (): boolean => session.open;

/** Called once when a call of an open session answers 401 (idle or absolute timeout,
 *  revoked, signed out elsewhere). Returns the unsubscribe function. */
export function onSessionEnded(listener: () => void): () => void {
  endedListeners.add(listener);
  return () => {
    endedListeners.delete(listener);
  };
}

function sessionEnded(): void {
  if (!session.open) return;
  forgetSession();
  for (const listener of [...endedListeners]) listener();
}

export interface ApiFetchOptions {
  /** a 401 is this call's answer, not the end of a session (sign-in: wrong password) */
  own401?: boolean;
}

/**
 * fetch() for every BFF call: `path` relative to the document (or absolute), the request
 * built by sessionInit. A 401 ends the session (see onSessionEnded) unless `own401`.
 */
export async function apiFetch(path: string, init: RequestInit = {}, opts: ApiFetchOptions = {}): Promise<Response> {
  const res = await fetch(apiUrl(path), sessionInit(init, session.csrf));
  if (res.status === 401 && !opts.own401) sessionEnded();
  return res;
}

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
  /** defaults to apiFetch (the session's wrapper; tests pass a fake) */
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
  const fetchPage = opts.fetch ?? ((url: string, init: RequestInit) => apiFetch(url, init));
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

/** Body of POST /api/breaks/{id}/label (LabelIn). Only the fields given are sent. The
 *  analyst is the signed-in user: the BFF takes it from the session, never from the body. */
export interface LabelRequest {
  cause: Cause;
  disposition?: Disposition;
  reason?: string;
}

/** Body of POST /api/breaks/{id}/reverse (ReverseIn); the BFF defaults `disposition` to QUEUE. */
export interface ReverseRequest {
  disposition: Disposition;
  reason?: string;
}

export interface ActionOptions {
  reason?: string | null;
}

/** Trimmed text, or undefined when empty (so the key is left out of the JSON). */
const optionalText = (s: string | null | undefined): string | undefined => {
  const t = s?.trim();
  return t ? t : undefined;
};

function withOptions<T extends object>(body: T, opts: ActionOptions): T & { reason?: string } {
  const out: T & { reason?: string } = { ...body };
  const reason = optionalText(opts.reason);
  if (reason !== undefined) out.reason = reason;
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

/** The body of a response: JSON when it is JSON, else the text ('' → null). */
async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return text; // not JSON: keep the text for the error message
  }
}

/** apiFetch, with a network failure as an ApiError (an abort stays an AbortError). */
async function send(path: string, init: RequestInit, opts: ApiFetchOptions = {}): Promise<Response> {
  try {
    return await apiFetch(path, init, opts);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(`network error: ${err instanceof Error ? err.message : String(err)}`, null);
  }
}

export async function requestJson(path: string, init: RequestInit, opts: ApiFetchOptions = {}): Promise<unknown> {
  const res = await send(path, init, opts);
  const body = await readBody(res);
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

// ---- identity: I/O ------------------------------------------------------------------------

/**
 * GET /api/auth/me: the signed-in user, or null when not signed in (401). Its own 401
 * does not count as a session that ended: it is how the app learns there is none.
 */
export async function fetchMe(signal?: AbortSignal): Promise<Me | null> {
  const res = await send('api/auth/me', { method: 'GET', signal }, { own401: true });
  const body = await readBody(res);
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(errorMessage(res.status, res.statusText, body), res.status);
  const me = parseMe(body);
  if (me === null) throw new ApiError('GET /api/auth/me: unexpected response', null);
  return me;
}

/** Whether the session is still open; a 401 ends it (onSessionEnded). Network errors
 *  count as open (the stream's own retries deal with an unreachable BFF). */
export async function checkSession(): Promise<boolean> {
  try {
    const res = await apiFetch('api/auth/me', { method: 'GET' });
    return res.status !== 401;
  } catch {
    return true;
  }
}

/** GET /api/auth/methods (public); the password form alone when it cannot be read. */
export async function fetchSignInMethods(signal?: AbortSignal): Promise<SignInMethods> {
  try {
    return parseMethods(await requestJson('api/auth/methods', { method: 'GET', signal }, { own401: true }));
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    return DEFAULT_METHODS;
  }
}

/** POST /api/auth/sign-in: the user (and a new session cookie), or an ApiError with the
 *  BFF's one line (401 wrong credentials or locked, 429 too many attempts). */
export async function signIn(username: string, password: string): Promise<Me> {
  const body = await requestJson(
    'api/auth/sign-in',
    { method: 'POST', body: JSON.stringify({ username, password }) },
    { own401: true },
  );
  const me = parseMe(body);
  if (me === null) throw new ApiError('POST /api/auth/sign-in: unexpected response', null);
  return me;
}

/** POST /api/auth/sign-out (204). A session that had already ended (401) is signed out too. */
export async function signOut(): Promise<void> {
  const res = await send('api/auth/sign-out', { method: 'POST' }, { own401: true });
  const body = await readBody(res);
  if (!res.ok && res.status !== 401) throw new ApiError(errorMessage(res.status, res.statusText, body), res.status);
  forgetSession();
}

/** POST /api/auth/password (204); 403 (the current one is wrong) or 422 (the new one is refused) say why. */
export async function changePassword(current: string, next: string): Promise<void> {
  await requestJson('api/auth/password', { method: 'POST', body: JSON.stringify({ current, new: next }) });
}

// ---- audit: I/O -----------------------------------------------------------------------------

/** `api/breaks/{id}/audit` */
export const breakAuditPath = (breakId: string): string => `api/breaks/${encodeURIComponent(breakId)}/audit`;

async function entries(path: string, signal?: AbortSignal): Promise<AuditEntry[]> {
  const list = parseEntries(await requestJson(path, { method: 'GET', signal }));
  if (list === null) throw new ApiError(`GET /${path.split('?')[0]}: expected a JSON array`, null);
  return list;
}

/** GET /api/breaks/{id}/audit — who did what to one break, in seq order. */
export function fetchBreakAudit(breakId: string, signal?: AbortSignal): Promise<AuditEntry[]> {
  return entries(breakAuditPath(breakId), signal);
}

/** GET /api/audit — one page (≤ 500) of the filtered trail after seq `after`. */
export function fetchAuditPage(filter: AuditFilter, after: number, signal?: AbortSignal, limit?: number): Promise<AuditEntry[]> {
  return entries(auditPagePath(filter, after, limit), signal);
}

/** GET /api/audit/verify — walk the hash chain. */
export async function verifyAudit(signal?: AbortSignal): Promise<Verified> {
  const v = parseVerified(await requestJson('api/audit/verify', { method: 'GET', signal }));
  if (v === null) throw new ApiError('GET /api/audit/verify: unexpected response', null);
  return v;
}
