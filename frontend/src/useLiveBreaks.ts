// Live break state: the snapshot from GET /api/breaks (keyset pages, api.ts) plus
// Server-Sent Events from GET /api/stream (`ready`, `break`, `reset`; stream.ts has the
// protocol and the pure state), merged by break_id with the highest version winning
// (see breaks.ts).
//
// Ordering: the stream opens first and the snapshot is requested once it is `ready`, so
// every change the snapshot misses (it is read page by page while breaks keep changing)
// arrives as an event. After a reconnect the stream resumes from the last event id
// (EventSource sends Last-Event-ID on its own reconnects; a new EventSource passes
// ?last_event_id=) and the BFF replays what was missed: no snapshot. The snapshot is
// reloaded only when the stream cannot resume (no id known, or a `reset`). The version
// rule makes the order in which snapshot and events land irrelevant. Events are applied
// in small batches so a burst (replay, demo feed) costs one render, not one per event.
//
// The session: the hook is used only once signed in (App.tsx), so the stream starts after
// sign-in; EventSource sends the session cookie on its own (same origin). An EventSource
// that gives up cannot say why: GET api/auth/me tells, and a 401 there ends the session
// (api.ts onSessionEnded), which unmounts this hook and closes the stream.

import { useEffect, useRef, useState } from 'react';
import { apiUrl, checkSession, fetchAllBreaks, streamPath } from './api';
import { emptyIndex, mergeBreaks, parseBreak, type BreakIndex } from './breaks';
import {
  initialStream,
  isSynced,
  nextTick,
  noticeText,
  streamStep,
  type Connection,
  type Notice,
  type StreamEvent,
} from './stream';
import type { Break } from './types';

export type { Connection } from './stream';

/** How the stream last came back, as shown to the analyst (see stream.ts noticeText). */
export interface StreamNotice {
  kind: Notice['kind'];
  text: string;
}

/** The last snapshot stopped at the page limit (api.ts MAX_SNAPSHOT_PAGES). */
export interface SnapshotLimit {
  pages: number;
  breaks: number;
}

export interface LiveBreaks {
  index: BreakIndex;
  connection: Connection;
  /** the first snapshot has been loaded */
  loaded: boolean;
  /** a snapshot fetched after the stream was ready has been merged, and the stream has
   *  not missed anything since: nothing is missed */
  synced: boolean;
  error: string | null;
  /** wall-clock ms of the last live event that changed a break */
  lastEventAt: number | null;
  /** break_id -> wall-clock ms of its last live change (for row highlighting) */
  changedAt: ReadonlyMap<string, number>;
  /** how the stream came back after a reconnect or reset, for a few seconds */
  notice: StreamNotice | null;
  /** the snapshot hit the page limit: the oldest breaks are not loaded */
  truncated: SnapshotLimit | null;
}

interface StreamView {
  connection: Connection;
  synced: boolean;
  notice: StreamNotice | null;
}

const sameView = (a: StreamView | null, b: StreamView): boolean =>
  a !== null &&
  a.connection === b.connection &&
  a.synced === b.synced &&
  a.notice?.kind === b.notice?.kind &&
  a.notice?.text === b.notice?.text;

const FLUSH_MS = 100;
const RETRY_MS = 3000;
const RECONNECT_MAX_MS = 30000;
/** the stream is normally ready within milliseconds; if not, show the data without it */
const SNAPSHOT_FALLBACK_MS = 1500;
/** a snapshot of many pages repaints at most this often while it loads */
const PAINT_MS = 300;

export function useLiveBreaks(): LiveBreaks {
  const [index, setIndex] = useState<BreakIndex>(emptyIndex);
  const [view, setView] = useState<StreamView>({ connection: 'connecting', synced: false, notice: null });
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [truncated, setTruncated] = useState<SnapshotLimit | null>(null);
  const [lastEventAt, setLastEventAt] = useState<number | null>(null);
  const indexRef = useRef<BreakIndex>(index);
  const changedAt = useRef(new Map<string, number>());
  const [changedView, setChangedView] = useState<ReadonlyMap<string, number>>(new Map());

  useEffect(() => {
    let disposed = false;
    let es: EventSource | null = null;
    let stream = initialStream();
    let shown: StreamView | null = null;
    let pending: Break[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
    let fallbackTimer: ReturnType<typeof setTimeout> | null = null;
    let tickTimer: ReturnType<typeof setTimeout> | null = null;
    let tickDue = Infinity;
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

    // Render only what the indicator shows: the stream state changes with every event
    // (its last id), the view rarely.
    const publish = () => {
      const text = noticeText(stream.notice);
      const next: StreamView = {
        connection: stream.connection,
        synced: isSynced(stream),
        notice: stream.notice === null || text === null ? null : { kind: stream.notice.kind, text },
      };
      if (sameView(shown, next)) return;
      shown = next;
      setView(next);
    };

    // One timer for the notice's next step. Deadlines only move later, so a timer that
    // fires early just ticks (a no-op) and is armed again.
    const schedule = () => {
      const due = nextTick(stream);
      if (due === null) {
        if (tickTimer !== null) clearTimeout(tickTimer);
        tickTimer = null;
        return;
      }
      if (tickTimer !== null && tickDue <= due) return;
      if (tickTimer !== null) clearTimeout(tickTimer);
      tickDue = due;
      tickTimer = setTimeout(() => {
        tickTimer = null;
        dispatch({ type: 'tick', now: Date.now() });
      }, Math.max(0, due - Date.now()));
    };

    const dispatch = (ev: StreamEvent) => {
      if (disposed) return;
      const step = streamStep(stream, ev);
      stream = step.state;
      if (step.loadSnapshot) loadSnapshot(true);
      schedule();
      publish();
    };

    // `requested`: asked for by the stream state (after `ready` / `reset`), so it makes the
    // view complete; the fallback snapshot before the stream is ready only shows data.
    const loadSnapshot = (requested: boolean) => {
      const seq = ++snapshotSeq;
      inflight?.abort();
      const ctrl = new AbortController();
      inflight = ctrl;
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      if (fallbackTimer !== null) clearTimeout(fallbackTimer);
      fallbackTimer = null;
      const current = () => !disposed && seq === snapshotSeq;
      // Pages are merged as they arrive (the newest first), at most every PAINT_MS, so
      // the grid fills while a large snapshot is still loading.
      let pages: Break[][] = [];
      let paintedAt = 0;
      const paint = () => {
        paintedAt = Date.now();
        const next = mergeBreaks(indexRef.current, pages.flat());
        pages = [];
        if (next !== indexRef.current) {
          indexRef.current = next;
          setIndex(next);
        }
      };
      fetchAllBreaks(ctrl.signal, {
        onPage: (page) => {
          if (!current()) return;
          pages.push(page);
          if (Date.now() - paintedAt >= PAINT_MS) paint();
        },
      }).then(
        (snapshot) => {
          if (!current()) return;
          paint();
          setLoaded(true);
          setError(null);
          setTruncated(snapshot.truncated ? { pages: snapshot.pages, breaks: snapshot.breaks.length } : null);
          dispatch({ type: 'snapshot', requested, now: Date.now() });
        },
        (err: unknown) => {
          if (disposed || ctrl.signal.aborted) return;
          if (current()) paint(); // the pages read so far are valid versions: keep them
          setError(err instanceof Error ? err.message : String(err));
          retryTimer = setTimeout(() => loadSnapshot(requested), RETRY_MS);
        },
      );
    };

    // Nothing on screen yet and the stream is not ready: load the data without it.
    const showWithoutStream = () => {
      if (fallbackTimer !== null) clearTimeout(fallbackTimer);
      fallbackTimer = null;
      if (snapshotSeq === 0) loadSnapshot(false);
    };

    const connect = () => {
      reconnectTimer = null;
      if (disposed) return;
      // A new EventSource knows no Last-Event-ID: pass the last one seen, so the BFF
      // resumes after it rather than at its current position (api.ts streamPath).
      const source = new EventSource(apiUrl(streamPath(stream.lastEventId)));
      es = source;
      source.onopen = () => {
        reconnectDelay = 1000;
        dispatch({ type: 'open' });
      };
      source.addEventListener('ready', (ev: MessageEvent<string>) => {
        dispatch({ type: 'ready', id: ev.lastEventId, now: Date.now() });
      });
      source.addEventListener('reset', (ev: MessageEvent<string>) => {
        dispatch({ type: 'reset', id: ev.lastEventId, now: Date.now() });
      });
      const onBreak = (ev: MessageEvent<string>) => {
        // The id counts as seen even if the payload is refused: a replay would bring the
        // same payload again.
        dispatch({ type: 'break', id: ev.lastEventId, now: Date.now() });
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
      source.addEventListener('break', onBreak); // the contract: `event: break`
      source.onmessage = onBreak; // tolerate unnamed events carrying a Break too
      source.onerror = () => {
        if (disposed || es !== source) return;
        const closed = source.readyState === EventSource.CLOSED;
        dispatch({ type: 'error', closed });
        showWithoutStream();
        if (closed) {
          // The browser gave up (HTTP error or wrong content type): retry ourselves —
          // unless the session ended (a 401 it cannot report; checkSession finds out).
          void checkSession();
          source.close();
          es = null;
          reconnectTimer = setTimeout(connect, reconnectDelay);
          reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
        }
        // otherwise EventSource reconnects on its own, sending Last-Event-ID
      };
    };

    publish();
    connect(); // the snapshot follows the stream's `ready` (see the top of the file)
    fallbackTimer = setTimeout(showWithoutStream, SNAPSHOT_FALLBACK_MS);

    return () => {
      disposed = true;
      es?.close();
      inflight?.abort();
      for (const t of [flushTimer, retryTimer, reconnectTimer, fallbackTimer, tickTimer]) if (t !== null) clearTimeout(t);
    };
  }, []);

  return {
    index,
    connection: view.connection,
    loaded,
    synced: view.synced,
    error,
    lastEventAt,
    changedAt: changedView,
    notice: view.notice,
    truncated,
  };
}
