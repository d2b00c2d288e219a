import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  apiFetch,
  beginSession,
  changePassword,
  checkSession,
  fetchAllBreaks,
  fetchAuditPage,
  fetchBreakAudit,
  fetchMe,
  fetchSignInMethods,
  forgetSession,
  isUnsafeMethod,
  labelBreak,
  labelRequest,
  onSessionEnded,
  sessionInit,
  sessionOpen,
  signIn,
  signOut,
  verifyAudit,
} from './api';
import { emptyAuditFilter } from './audit';

interface Call {
  url: string;
  init: RequestInit;
}

const headersOf = (c: Call | undefined): Record<string, string> => (c?.init.headers ?? {}) as Record<string, string>;

/** A fake fetch answering `status` / `body` (a function of the call, or fixed). */
function stubFetch(answer: (call: Call) => { status: number; body?: unknown }, calls: Call[]) {
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const call = { url, init };
    calls.push(call);
    const { status, body } = answer(call);
    const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': 'application/json' } });
  });
}

const ME = {
  username: 'ana',
  display_name: 'Ana Analyst',
  roles: ['analyst'],
  permissions: ['assign', 'comment', 'label', 'propose', 'read'],
  recons: null,
  via: 'session',
  csrf_token: 'csrf-123',
};

describe('sessionInit (pure)', () => {
  it('knows the unsafe methods', () => {
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'delete']) expect(isUnsafeMethod(m)).toBe(true);
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'get', undefined]) expect(isUnsafeMethod(m)).toBe(false);
  });

  it('adds X-CSRF-Token on unsafe methods only', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'patch']) {
      expect(sessionInit({ method }, 'tok').headers).toMatchObject({ 'X-CSRF-Token': 'tok' });
    }
    for (const method of ['GET', 'HEAD', 'OPTIONS', undefined]) {
      const init: RequestInit = method === undefined ? {} : { method };
      expect(Object.keys(sessionInit(init, 'tok').headers as object)).not.toContain('X-CSRF-Token');
    }
  });

  it('sends no token it does not have, and never one the caller made up', () => {
    expect(Object.keys(sessionInit({ method: 'POST' }, null).headers as object)).not.toContain('X-CSRF-Token');
    const forged = sessionInit({ method: 'GET', headers: { 'x-csrf-token': 'forged' } }, 'tok').headers as Record<string, string>;
    expect(Object.keys(forged).map((k) => k.toLowerCase())).not.toContain('x-csrf-token');
    expect(sessionInit({ method: 'POST', headers: { 'X-CSRF-Token': 'forged' } }, 'tok').headers).toEqual({
      Accept: 'application/json',
      'X-CSRF-Token': 'tok',
    });
  });

  it('asks for JSON, types a text body as JSON, and keeps the cookie on the same origin', () => {
    const init = sessionInit({ method: 'POST', body: '{"a":1}' }, 'tok');
    expect(init.headers).toEqual({ Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': 'tok' });
    expect(init.credentials).toBe('same-origin');
    expect(init.body).toBe('{"a":1}');
    expect(sessionInit({ headers: { Accept: 'text/csv' } }, null).headers).toEqual({ Accept: 'text/csv' });
    expect(sessionInit({ headers: new Headers({ 'X-Request-ID': 'r1' }) }, null).headers).toEqual({
      Accept: 'application/json',
      'x-request-id': 'r1',
    });
    expect(sessionInit({ method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }, null).headers).toEqual({
      Accept: 'application/json',
      'content-type': 'text/plain',
    });
  });
});

describe('apiFetch: the one wrapper', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:8123/desk/' });
    forgetSession();
  });
  afterEach(() => {
    forgetSession();
    vi.unstubAllGlobals();
  });

  it('resolves paths against the document and sends the token of the session on changes', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: [] }), calls);
    beginSession('csrf-123');
    await apiFetch('api/breaks?status=all');
    await apiFetch('api/breaks/b-1/label', { method: 'POST', body: '{}' });
    await apiFetch('api/tokens/4', { method: 'DELETE' });
    expect(calls.map((c) => c.url)).toEqual([
      'http://127.0.0.1:8123/desk/api/breaks?status=all',
      'http://127.0.0.1:8123/desk/api/breaks/b-1/label',
      'http://127.0.0.1:8123/desk/api/tokens/4',
    ]);
    expect(headersOf(calls[0])['X-CSRF-Token']).toBeUndefined();
    expect(headersOf(calls[1])['X-CSRF-Token']).toBe('csrf-123');
    expect(headersOf(calls[2])['X-CSRF-Token']).toBe('csrf-123');
  });

  it('a label goes out with the token (and no analyst name)', async () => {
    const calls: Call[] = [];
    const outcome = { break_id: 'b-1', cause: 'FEE', disposition: 'QUEUE', reversed: false, previous_cause: 'FX', previous_disposition: 'QUEUE' };
    stubFetch(() => ({ status: 200, body: outcome }), calls);
    beginSession('csrf-123');
    await labelBreak('b-1', labelRequest('FEE'));
    expect(headersOf(calls[0])).toMatchObject({ 'X-CSRF-Token': 'csrf-123', 'Content-Type': 'application/json' });
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ cause: 'FEE' });
  });

  it('the snapshot pages go through it too', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: [] }), calls);
    beginSession('csrf-123');
    await fetchAllBreaks(undefined, { base: 'http://127.0.0.1:8123/desk/' });
    expect(calls[0]?.init.credentials).toBe('same-origin');
    expect(headersOf(calls[0])['X-CSRF-Token']).toBeUndefined();
  });

  it('a 401 ends the open session, once', async () => {
    stubFetch(() => ({ status: 401, body: { detail: 'the session has ended: sign in again' } }), []);
    const ended = vi.fn();
    const off = onSessionEnded(ended);
    beginSession('csrf-123');
    expect(sessionOpen()).toBe(true);
    await apiFetch('api/breaks');
    await apiFetch('api/breaks');
    await expect(labelBreak('b-1', labelRequest('FX'))).rejects.toMatchObject({ status: 401 });
    expect(ended).toHaveBeenCalledTimes(1);
    expect(sessionOpen()).toBe(false);
    off();
  });

  it('without a session a 401 is only an answer; a 403 never ends it', async () => {
    const ended = vi.fn();
    const off = onSessionEnded(ended);
    stubFetch(() => ({ status: 401, body: { detail: 'sign in first' } }), []);
    await apiFetch('api/breaks');
    beginSession('t');
    stubFetch(() => ({ status: 403, body: { detail: 'this needs the label permission' } }), []);
    const err = await labelBreak('b-1', labelRequest('FX')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('this needs the label permission');
    expect(ended).not.toHaveBeenCalled();
    expect(sessionOpen()).toBe(true);
    off();
  });

  it('checkSession: a 401 from api/auth/me ends the session', async () => {
    const ended = vi.fn();
    const off = onSessionEnded(ended);
    beginSession('t');
    stubFetch(() => ({ status: 200, body: ME }), []);
    await expect(checkSession()).resolves.toBe(true);
    stubFetch(() => ({ status: 401, body: { detail: 'x' } }), []);
    await expect(checkSession()).resolves.toBe(false);
    expect(ended).toHaveBeenCalledTimes(1);
    off();
  });
});

describe('identity calls', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:8123/' });
    forgetSession();
  });
  afterEach(() => {
    forgetSession();
    vi.unstubAllGlobals();
  });

  it('fetchMe: the user, or null when not signed in (not a session ending)', async () => {
    const ended = vi.fn();
    const off = onSessionEnded(ended);
    stubFetch(() => ({ status: 200, body: ME }), []);
    await expect(fetchMe()).resolves.toMatchObject({ username: 'ana', csrf_token: 'csrf-123' });
    beginSession('csrf-123');
    stubFetch(() => ({ status: 401, body: { detail: 'sign in first' } }), []);
    await expect(fetchMe()).resolves.toBeNull();
    expect(ended).not.toHaveBeenCalled();
    stubFetch(() => ({ status: 503, body: { detail: 'PostgreSQL is unavailable; retry shortly' } }), []);
    await expect(fetchMe()).rejects.toThrow('PostgreSQL is unavailable; retry shortly');
    off();
  });

  it('signIn posts the credentials and returns the user; a refusal is one line', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: ME }), calls);
    await expect(signIn('ana', 'correct horse')).resolves.toMatchObject({ username: 'ana' });
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/api/auth/sign-in');
    expect(calls[0]?.init.method).toBe('POST');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ username: 'ana', password: 'correct horse' });
    expect(headersOf(calls[0])['X-CSRF-Token']).toBeUndefined(); // no session yet

    const refused = 'wrong username or password, or the account is locked: try again later';
    stubFetch(() => ({ status: 401, body: { detail: refused } }), []);
    await expect(signIn('ana', 'nope')).rejects.toMatchObject({ status: 401, message: refused });
    stubFetch(() => ({ status: 429, body: { detail: 'too many sign-in attempts from this address: wait a minute' } }), []);
    await expect(signIn('ana', 'nope')).rejects.toMatchObject({ status: 429 });
  });

  it('signOut posts with the token and forgets the session', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 204 }), calls);
    beginSession('csrf-123');
    await signOut();
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/api/auth/sign-out');
    expect(headersOf(calls[0])['X-CSRF-Token']).toBe('csrf-123');
    expect(sessionOpen()).toBe(false);
    await apiFetch('api/breaks/b-1/label', { method: 'POST', body: '{}' });
    expect(headersOf(calls[1])['X-CSRF-Token']).toBeUndefined();
  });

  it('signOut of a session that already ended is fine; other failures are not', async () => {
    const ended = vi.fn();
    const off = onSessionEnded(ended);
    beginSession('t');
    stubFetch(() => ({ status: 401, body: { detail: 'the session has ended' } }), []);
    await expect(signOut()).resolves.toBeUndefined();
    expect(ended).not.toHaveBeenCalled();
    beginSession('t');
    stubFetch(() => ({ status: 500, body: 'boom' }), []);
    await expect(signOut()).rejects.toThrow('HTTP 500: boom');
    off();
  });

  it('changePassword: 204, or the one-line reason', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 204 }), calls);
    beginSession('csrf-123');
    await changePassword('old password', 'a new passphrase');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ current: 'old password', new: 'a new passphrase' });
    expect(headersOf(calls[0])['X-CSRF-Token']).toBe('csrf-123');
    stubFetch(() => ({ status: 422, body: { detail: 'a password has at least 8 characters' } }), []);
    await expect(changePassword('old password', 'short')).rejects.toMatchObject({ status: 422, message: 'a password has at least 8 characters' });
    stubFetch(() => ({ status: 403, body: { detail: 'the current password is wrong' } }), []);
    await expect(changePassword('bad', 'a new passphrase')).rejects.toMatchObject({ status: 403 });
  });

  it('sign-in methods: SSO when offered, the password form alone when unknown', async () => {
    stubFetch(() => ({ status: 200, body: { password: true, sso: { label: 'Okta', url: 'api/auth/sso/login' } } }), []);
    await expect(fetchSignInMethods()).resolves.toEqual({ password: true, sso: { label: 'Okta', url: 'api/auth/sso/login' } });
    stubFetch(() => ({ status: 500, body: 'down' }), []);
    await expect(fetchSignInMethods()).resolves.toEqual({ password: true, sso: null });
  });
});

describe('audit calls', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:8123/' });
    forgetSession();
  });
  afterEach(() => vi.unstubAllGlobals());

  const entry = {
    seq: 7,
    at: '2026-11-26T15:00:05.123456+00:00',
    actor: 'ana',
    actor_kind: 'user',
    action: 'break.label',
    target_type: 'break',
    target_id: 'b/1',
    recon: 'trades',
    before: { cause: 'FX', disposition: 'QUEUE' },
    after: { cause: 'FEE', disposition: 'QUEUE', reason: null },
    ip: '127.0.0.1',
    user_agent: 'Mozilla/5.0 Chrome/131.0.0.0 Safari/537.36',
    request_id: 'r1',
    prev_hash: 'a',
    hash: 'b',
  };

  it("GETs a break's trail", async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: [entry, { junk: true }] }), calls);
    const list = await fetchBreakAudit('b/1');
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/api/breaks/b%2F1/audit');
    expect(list.map((e) => e.seq)).toEqual([7]);
  });

  it('GETs a page of the trail with the filters', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: [entry] }), calls);
    await fetchAuditPage({ ...emptyAuditFilter, actor: 'ana', since: '2026-11-26T15:00' }, 120);
    expect(calls[0]?.url).toBe(
      'http://127.0.0.1:8123/api/audit?since=2026-11-26T15%3A00%3A00Z&actor=ana&after=120&limit=500',
    );
    stubFetch(() => ({ status: 403, body: { detail: 'this needs the audit permission' } }), []);
    await expect(fetchAuditPage(emptyAuditFilter, 0)).rejects.toThrow('this needs the audit permission');
  });

  it('verifies the chain', async () => {
    stubFetch(() => ({ status: 200, body: { intact: false, entries: 17, shipped: 20, problem: 'entry 18 is missing' } }), []);
    await expect(verifyAudit()).resolves.toEqual({ intact: false, entries: 17, shipped: 20, problem: 'entry 18 is missing' });
  });
});
