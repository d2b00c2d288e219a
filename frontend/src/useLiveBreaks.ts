// Live break state: the snapshot from GET /api/breaks plus Server-Sent Events from
// GET /api/stream (event name `break`, data = one Break JSON), merged by break_id with
// the highest version winning (see breaks.ts).
//
// Ordering: the snapshot is (re)fetched every time the stream (re)opens, so events
// published while the stream was down are recovered; the version rule makes the order
// in which snapshot and events land irrelevant. Events are applied in small batches so
// a burst (replay, demo feed) costs one render, not one per event.

import { useEffect, useRef, useState } from 'react';
import { fetchAllBreaks, apiUrl, STREAM_URL } from './api';
import { emptyIndex, mergeBreaks, parseBreak, type BreakIndex } from './breaks';
import type { Break } from './types';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'disconnected';

export interface LiveBreaks {
  index: BreakIndex;
  connection: Connection;
  /** the first snapshot has been loaded */
  loaded: boolean;
  /** a snapshot fetched after the stream last opened has been merged: nothing is missed */
  synced: boolean;
  error: string | null;
  /** wall-clock ms of the last live event that changed a break */
  lastEventAt: number | null;
  /** break_id -> wall-clock ms of its last live change (for row highlighting) */
  changedAt: ReadonlyMap<string, number>;
}

const FLUSH_MS = 100;
const RETRY_MS = 3000;
const RECONNECT_MAX_MS = 30000;

export function useLiveBreaks(): LiveBreaks {
  const [index, setIndex] = useState<BreakIndex>(emptyIndex);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [loaded, setLoaded] = useState(false);
  const [synced, setSynced] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lastEventAt, setLastEventAt] = useState<number | null>(null);
  const indexRef = useRef<BreakIndex>(index);
  const changedAt = useRef(new Map<string, number>());
  const [changedView, setChangedView] = useState<ReadonlyMap<string, number>>(new Map());

  useEffect(() => {
    let disposed = false;
    let es: EventSource | null = null;
    let pending: Break[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
    let reconnectDelay = 1000;
    let snapshotSeq = 0;
    let inflight: AbortController | null = null;

    const flush = () => {
      flushTimer = null;
      if (disposed || pending.length === 0) return;
      const batch = pending;
      pending = [];
      const prev = indexRef.current;
      const next = mergeBreaks(prev, batch);
      if (next === prev) return; // every event was a stale or repeated version
      indexRef.current = next;
      const now = Date.now();
      for (const b of batch) if (next.get(b.break_id) === b) changedAt.current.set(b.break_id, now);
      for (const [id, t] of changedAt.current) if (now - t > 10000) changedAt.current.delete(id);
      setIndex(next);
      setChangedView(new Map(changedAt.current));
      setLastEventAt(now);
    };

    const enqueue = (b: Break) => {
      pending.push(b);
      if (flushTimer === null) flushTimer = setTimeout(flush, FLUSH_MS);
    };

    const loadSnapshot = (afterOpen: boolean) => {
      const seq = ++snapshotSeq;
      inflight?.abort();
      const ctrl = new AbortController();
      inflight = ctrl;
      if (retryTimer !== null) clearTimeout(retryTimer);
      fetchAllBreaks(ctrl.signal).then(
        (snapshot) => {
          if (disposed || seq !== snapshotSeq) return;
          const next = mergeBreaks(indexRef.current, snapshot);
          if (next !== indexRef.current) {
            indexRef.current = next;
            setIndex(next);
          }
          setLoaded(true);
          setError(null);
          if (afterOpen) setSynced(true);
        },
        (err: unknown) => {
          if (disposed || ctrl.signal.aborted) return;
          setError(err instanceof Error ? err.message : String(err));
          retryTimer = setTimeout(() => loadSnapshot(afterOpen), RETRY_MS);
        },
      );
    };

    const connect = () => {
      if (disposed) return;
      es = new EventSource(apiUrl(STREAM_URL));
      es.onopen = () => {
        reconnectDelay = 1000;
        setConnection('live');
        loadSnapshot(true); // catch up on anything published while we were not listening
      };
      const onBreak = (ev: MessageEvent<string>) => {
        let data: unknown;
        try {
          data = JSON.parse(ev.data);
        } catch {
          console.warn('ReconWorkstation: ignoring a break event that is not JSON', ev.data);
          return;
        }
        const b = parseBreak(data);
        if (b === null) console.warn('ReconWorkstation: ignoring a malformed break event', data);
        else enqueue(b);
      };
      es.addEventListener('break', onBreak); // the contract: `event: break`
      es.onmessage = onBreak; // tolerate unnamed events carrying a Break too
      es.onerror = () => {
        if (disposed || es === null) return;
        setSynced(false);
        if (es.readyState === EventSource.CLOSED) {
          // The browser gave up (HTTP error or wrong content type): retry ourselves.
          setConnection('disconnected');
          es.close();
          es = null;
          reconnectTimer = setTimeout(connect, reconnectDelay);
          reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
        } else {
          setConnection('reconnecting'); // EventSource reconnects on its own
        }
      };
    };

    loadSnapshot(false); // show data at once, even before the stream is up
    connect();

    return () => {
      disposed = true;
      es?.close();
      inflight?.abort();
      for (const t of [flushTimer, retryTimer, reconnectTimer]) if (t !== null) clearTimeout(t);
    };
  }, []);

  return { index, connection, loaded, synced, error, lastEventAt, changedAt: changedView };
}
