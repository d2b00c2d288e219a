// The two endpoints the workstation uses. URLs are relative to the document so the app
// works wherever the BFF serves it (same origin as /api; `npm run dev` proxies /api).

import { parseBreak } from './breaks';
import type { Break } from './types';

export const apiUrl = (path: string): string => new URL(path, document.baseURI).toString();

export const BREAKS_URL = 'api/breaks?status=all';
export const STREAM_URL = 'api/stream';

/** GET /api/breaks?status=all — a JSON array of Break. Invalid entries are skipped. */
export async function fetchAllBreaks(signal?: AbortSignal): Promise<Break[]> {
  const res = await fetch(apiUrl(BREAKS_URL), { headers: { Accept: 'application/json' }, signal });
  if (!res.ok) throw new Error(`GET /${BREAKS_URL} failed: HTTP ${res.status}`);
  const body: unknown = await res.json();
  if (!Array.isArray(body)) throw new Error(`GET /${BREAKS_URL}: expected a JSON array`);
  const out: Break[] = [];
  for (const item of body) {
    const b = parseBreak(item);
    if (b !== null) out.push(b);
  }
  return out;
}
