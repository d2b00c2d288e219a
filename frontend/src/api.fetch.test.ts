import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, fetchDecisions, labelBreak, labelRequest, reverseDecision, reverseRequest } from './api';

interface Call {
  url: string;
  init: RequestInit;
}

function stubFetch(status: number, body: string, calls: Call[]) {
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
  });
}

describe('analyst fetch wrappers', () => {
  beforeEach(() => {
    vi.stubGlobal('document', { baseURI: 'http://127.0.0.1:8123/' });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('POSTs a label as JSON and returns the outcome', async () => {
    const calls: Call[] = [];
    const outcome = {
      break_id: 'b-1',
      cause: 'FEE',
      disposition: 'QUEUE',
      reversed: false,
      previous_cause: 'FX',
      previous_disposition: 'QUEUE',
    };
    stubFetch(200, JSON.stringify(outcome), calls);
    await expect(labelBreak('b-1', labelRequest('FEE', { reason: 'fee' }))).resolves.toEqual(outcome);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/api/breaks/b-1/label');
    expect(calls[0]?.init.method).toBe('POST');
    expect(calls[0]?.init.headers).toMatchObject({ 'Content-Type': 'application/json' });
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ cause: 'FEE', reason: 'fee' });
  });

  it('surfaces the API error of a reversal', async () => {
    const calls: Call[] = [];
    stubFetch(404, JSON.stringify({ detail: 'no break b-9' }), calls);
    const err = await reverseDecision('b-9', reverseRequest('QUEUE')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('no break b-9');
    expect((err as ApiError).status).toBe(404);
    expect(calls[0]?.url).toBe('http://127.0.0.1:8123/api/breaks/b-9/reverse');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ disposition: 'QUEUE' });
  });

  it('refuses an unexpected success body', async () => {
    stubFetch(200, '{"ok":true}', []);
    await expect(labelBreak('b-1', labelRequest('FX'))).rejects.toThrow(/unexpected response/);
  });

  it('GETs the decisions', async () => {
    const calls: Call[] = [];
    stubFetch(200, JSON.stringify([{ break_id: 'b-1', version: 1, disposition: 'QUEUE' }]), calls);
    const list = await fetchDecisions('b-1');
    expect(list.map((d) => d.disposition)).toEqual(['QUEUE']);
    expect(calls[0]?.init.method).toBe('GET');
    expect(calls[0]?.init.body).toBeUndefined();
  });

  it('reports a network failure', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(fetchDecisions('b-1')).rejects.toThrow('network error: Failed to fetch');
  });
});
