import { describe, expect, it } from 'vitest';
import { apiUrl, breaksPageUrl, fetchAllBreaks, MAX_SNAPSHOT_PAGES, nextCursor, streamPath } from './api';

const BASE = 'https://recon.example/desk/ui/index.html?status=open';

const headers = (h: Record<string, string>) => new Headers(h);

const raw = (i: number) => ({
  break_id: `b-${i}`,
  recon: 'trades',
  status: 'OPEN',
  version: 1,
  key: { trade_id: `T-${i}` },
  kind: 'MISMATCH',
  fields: [],
  explanation: [],
  first_seen: '2026-11-26T15:00:00Z',
  updated_at: '2026-11-26T15:00:05Z',
});

/**
 * A fake BFF: `total` breaks, `limit` a page, a next cursor (an offset, opaque to the
 * client) after every full page, as bff/routers/breaks.py does.
 */
function fakeBff(total: number, limit: number, opts: { link?: boolean; cursorHeader?: boolean } = {}) {
  const urls: string[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    urls.push(url);
    expect(init.headers).toMatchObject({ Accept: 'application/json' });
    const cursor = new URL(url).searchParams.get('cursor');
    const from = cursor === null ? 0 : Number(cursor.slice(1));
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - from)) }, (_, k) => raw(from + k));
    const h: Record<string, string> = { 'Content-Type': 'application/json' };
    if (rows.length === limit) {
      const next = `c${from + limit}`;
      if (opts.cursorHeader !== false) h['X-Next-Cursor'] = next;
      // absolute, as the BFF saw the request: NOT the URL the browser must use
      if (opts.link !== false) h.Link = `<http://127.0.0.1:8000/api/breaks?status=all&cursor=${next}>; rel="next"`;
    }
    return new Response(JSON.stringify(rows), { status: 200, headers: h });
  };
  return { fetch, urls };
}

describe('snapshot page URLs', () => {
  it('resolves against the document, keeps the query and adds the cursor', () => {
    expect(breaksPageUrl('http://127.0.0.1:8123/', null)).toBe('http://127.0.0.1:8123/api/breaks?status=all');
    expect(breaksPageUrl(BASE, null)).toBe('https://recon.example/desk/ui/api/breaks?status=all');
    expect(breaksPageUrl(BASE, 'WyIyMDI2LTExIiwgImItMSJd')).toBe(
      'https://recon.example/desk/ui/api/breaks?status=all&cursor=WyIyMDI2LTExIiwgImItMSJd',
    );
    // a cursor is opaque: whatever it holds is escaped
    expect(breaksPageUrl('http://h/', 'a+b/c=&d')).toBe('http://h/api/breaks?status=all&cursor=a%2Bb%2Fc%3D%26d');
  });
});

describe('next cursor', () => {
  it('reads X-Next-Cursor', () => {
    expect(nextCursor(headers({ 'X-Next-Cursor': 'abc' }))).toBe('abc');
    expect(nextCursor(headers({ 'x-next-cursor': ' abc ', Link: '<http://x/?cursor=zzz>; rel="next"' }))).toBe('abc');
  });

  it('falls back to the cursor of the rel="next" link', () => {
    expect(nextCursor(headers({ Link: '<http://127.0.0.1:8000/api/breaks?status=all&cursor=WyJ9>; rel="next"' }))).toBe(
      'WyJ9',
    );
    expect(nextCursor(headers({ Link: '<http://x/?a=1,2&cursor=p>; rel="prev", <http://x/?cursor=n>; rel=next' }))).toBe(
      'n',
    );
    expect(nextCursor(headers({ Link: '</api/breaks?cursor=n>; title="x"; rel="last next"' }))).toBe('n');
  });

  it('is null on the last page', () => {
    expect(nextCursor(headers({}))).toBeNull();
    expect(nextCursor(headers({ 'X-Next-Cursor': '' }))).toBeNull();
    expect(nextCursor(headers({ Link: '<http://x/?cursor=p>; rel="prev"' }))).toBeNull();
    expect(nextCursor(headers({ Link: '<http://x/?status=all>; rel="next"' }))).toBeNull();
    expect(nextCursor(headers({ Link: 'garbage' }))).toBeNull();
  });
});

describe('fetchAllBreaks', () => {
  it('follows the pages until there is no next cursor', async () => {
    const bff = fakeBff(25, 10);
    const seen: [number, number][] = [];
    const snap = await fetchAllBreaks(undefined, {
      fetch: bff.fetch,
      base: BASE,
      onPage: (page, n) => seen.push([n, page.length]),
    });
    expect(snap.truncated).toBe(false);
    expect(snap.pages).toBe(3);
    expect(snap.breaks.map((b) => b.break_id)).toEqual(Array.from({ length: 25 }, (_, i) => `b-${i}`));
    expect(seen).toEqual([
      [1, 10],
      [2, 10],
      [3, 5],
    ]);
    // the next page is built from the document's base, never from the Link's host
    expect(bff.urls).toEqual([
      'https://recon.example/desk/ui/api/breaks?status=all',
      'https://recon.example/desk/ui/api/breaks?status=all&cursor=c10',
      'https://recon.example/desk/ui/api/breaks?status=all&cursor=c20',
    ]);
  });

  it('ends on an empty last page (the total is a multiple of the page size)', async () => {
    const bff = fakeBff(20, 10);
    const snap = await fetchAllBreaks(undefined, { fetch: bff.fetch, base: BASE });
    expect(snap).toMatchObject({ pages: 3, truncated: false });
    expect(snap.breaks).toHaveLength(20);
  });

  it('follows a Link-only BFF', async () => {
    const bff = fakeBff(15, 10, { cursorHeader: false });
    const snap = await fetchAllBreaks(undefined, { fetch: bff.fetch, base: 'http://h/' });
    expect(snap.breaks).toHaveLength(15);
    expect(bff.urls[1]).toBe('http://h/api/breaks?status=all&cursor=c10');
  });

  it('reads one page when the BFF gives no next page', async () => {
    const bff = fakeBff(3, 1000);
    const snap = await fetchAllBreaks(undefined, { fetch: bff.fetch, base: 'http://h/' });
    expect(snap).toMatchObject({ pages: 1, truncated: false });
    expect(bff.urls).toHaveLength(1);
  });

  it('stops at the page limit and says so', async () => {
    const bff = fakeBff(1_000_000, 10);
    const snap = await fetchAllBreaks(undefined, { fetch: bff.fetch, base: 'http://h/', maxPages: 4 });
    expect(snap).toMatchObject({ pages: 4, truncated: true });
    expect(snap.breaks).toHaveLength(40);
    expect(bff.urls).toHaveLength(4);
    expect(MAX_SNAPSHOT_PAGES).toBe(200);
  });

  it('is not truncated when the limit falls on the last page', async () => {
    const bff = fakeBff(35, 10);
    const snap = await fetchAllBreaks(undefined, { fetch: bff.fetch, base: 'http://h/', maxPages: 4 });
    expect(snap).toMatchObject({ pages: 4, truncated: false });
  });

  it('refuses a cursor handed out twice instead of looping', async () => {
    const fetch = async () =>
      new Response(JSON.stringify([raw(1)]), { status: 200, headers: { 'X-Next-Cursor': 'same' } });
    await expect(fetchAllBreaks(undefined, { fetch, base: 'http://h/' })).rejects.toThrow(/same cursor twice/);
  });

  it('reports the failing page, and skips invalid entries', async () => {
    let n = 0;
    const fetch = async () => {
      n += 1;
      if (n === 1) {
        return new Response(JSON.stringify([raw(1), { break_id: 'x' }, 'junk']), {
          status: 200,
          headers: { 'X-Next-Cursor': 'c1' },
        });
      }
      return new Response('oops', { status: 503 });
    };
    const pages: string[][] = [];
    const err = await fetchAllBreaks(undefined, {
      fetch,
      base: 'http://h/',
      onPage: (page) => pages.push(page.map((b) => b.break_id)),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('GET /api/breaks?status=all (page 2) failed: HTTP 503');
    expect(pages).toEqual([['b-1']]);
  });

  it('refuses a body that is not an array', async () => {
    const fetch = async () => new Response('{"detail":"x"}', { status: 200 });
    await expect(fetchAllBreaks(undefined, { fetch, base: 'http://h/' })).rejects.toThrow(
      'GET /api/breaks?status=all: expected a JSON array',
    );
  });

  it('passes the abort signal to every page', async () => {
    const ctrl = new AbortController();
    const signals: (AbortSignal | null | undefined)[] = [];
    const bff = fakeBff(15, 10);
    const fetch = (url: string, init: RequestInit) => {
      signals.push(init.signal);
      return bff.fetch(url, init);
    };
    await fetchAllBreaks(ctrl.signal, { fetch, base: 'http://h/' });
    expect(signals).toEqual([ctrl.signal, ctrl.signal]);
  });
});

describe('stream URL', () => {
  it('passes the last event id to a new EventSource', () => {
    expect(streamPath(null)).toBe('api/stream');
    expect(streamPath('42')).toBe('api/stream?last_event_id=42');
    expect(apiUrl(streamPath('1234'), BASE)).toBe('https://recon.example/desk/ui/api/stream?last_event_id=1234');
    expect(apiUrl(streamPath(null), 'http://127.0.0.1:8123/')).toBe('http://127.0.0.1:8123/api/stream');
  });

  it('leaves out an id the BFF would refuse', () => {
    expect(streamPath('')).toBe('api/stream');
    expect(streamPath('abc')).toBe('api/stream');
    expect(streamPath('12;x')).toBe('api/stream');
    expect(streamPath('-1')).toBe('api/stream');
  });
});
