// The I/O of the overview and the schedule over a fake fetch: the URLs, the CSRF token on
// the admin's POST (and none on the reads), and the errors of a bad answer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, beginSession, forgetSession } from './api';
import { fetchSchedule, runJob } from './schedule';
import { fetchSlaBreaches, fetchStats } from './stats';

interface Call {
  url: string;
  init: RequestInit;
}

function stubFetch(answer: (call: Call) => { status: number; body?: unknown }, calls: Call[]) {
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const call = { url, init };
    calls.push(call);
    const { status, body } = answer(call);
    const text = body === undefined ? null : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': 'application/json' } });
  });
}

const headersOf = (c: Call | undefined): Record<string, string> => (c?.init.headers ?? {}) as Record<string, string>;

describe('overview and schedule I/O', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:8123/desk/' });
    beginSession('csrf-9');
  });
  afterEach(() => {
    forgetSession();
    vi.unstubAllGlobals();
  });

  it('GET api/stats?days=N, parsed; no CSRF token on a read', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: { recons: [{ recon: 'trades', days: [{ day: '2026-12-07', opened: 4 }], open: { total: 4 } }] } }), calls);
    const stats = await fetchStats(30);
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/desk/api/stats?days=30');
    expect(calls[0]?.init.method).toBe('GET');
    expect(headersOf(calls[0])['X-CSRF-Token']).toBeUndefined();
    expect(stats.recons[0]?.days[0]?.opened).toBe(4);
    expect(stats.recons[0]?.open.total).toBe(4);
  });

  it('a stats body that is not one is an error', async () => {
    stubFetch(() => ({ status: 200, body: [1, 2] }), []);
    await expect(fetchStats(14)).rejects.toThrow(/unexpected response/);
    stubFetch(() => ({ status: 404, body: { detail: 'Not Found' } }), []);
    await expect(fetchStats(14)).rejects.toBeInstanceOf(ApiError);
  });

  it('the SLA breaches of a recon', async () => {
    const calls: Call[] = [];
    stubFetch(() => ({ status: 200, body: [{ break_id: 'b-1', version: 1, recon: 'trades', status: 'OPEN', overdue: true }] }), calls);
    const list = await fetchSlaBreaches('trades');
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/desk/api/breaks?status=open&overdue=true&recon=trades&limit=100');
    expect(list.map((b) => b.break_id)).toEqual(['b-1']);
  });

  it('GET api/schedule, and POST api/schedule/{job}/run with the CSRF token', async () => {
    const calls: Call[] = [];
    stubFetch((c) => (c.init.method === 'POST' ? { status: 202, body: { job: 'cutoff:trades', queued: true } } : { status: 200, body: [{ job: 'sla', kind: 'sla' }] }), calls);
    expect((await fetchSchedule()).map((j) => j.job)).toEqual(['sla']);
    await runJob('cutoff:trades');
    expect(calls[1]?.url).toBe('http://127.0.0.1:8123/desk/api/schedule/cutoff%3Atrades/run');
    expect(calls[1]?.init.method).toBe('POST');
    expect(headersOf(calls[1])['X-CSRF-Token']).toBe('csrf-9');
  });

  it('a refused run says why', async () => {
    stubFetch(() => ({ status: 403, body: { detail: 'admin only' } }), []);
    await expect(runJob('sla')).rejects.toThrow('admin only');
    stubFetch(() => ({ status: 200, body: { jobs: [] } }), []);
    await expect(fetchSchedule()).rejects.toThrow(/expected a JSON array/);
  });
});
