// Pure state of the SSE stream (GET /api/stream, bff/routers/stream.py): what the
// connection is doing, the last event id (the resume point), whether the view is complete
// ("synced"), and the notice shown after the stream comes back. No React, no I/O:
// useLiveBreaks.ts feeds it the EventSource's events and does what it asks (load a
// snapshot, tick at `nextTick`).
//
// The protocol: every event has an id, the change sequence number `seq`.
//   `ready`  first on every connection; id = the seq the stream starts after. When the
//            client sent a Last-Event-ID (EventSource does on its own reconnects; a new
//            EventSource passes ?last_event_id=), that id comes back and the BFF replays
//            every change after it, so no snapshot is needed.
//   `break`  one change (a Break JSON).
//   `reset`  the client is too far behind to replay: reload the snapshot, stay connected.
// Completeness: a snapshot requested once the stream is ready, plus the stream since, is
// everything; the merge by version (breaks.ts) makes their order irrelevant.

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'disconnected';

/** Why the snapshot is reloaded after the stream came back. */
export type ReloadCause = 'reset' | 'reconnect';

/** How the stream last came back, shown next to the indicator for a few seconds. */
export type Notice =
  /** resumed from the last id; the missed changes are arriving (`count` so far) */
  | { kind: 'catching-up'; count: number; since: number; lastAt: number }
  | { kind: 'resumed'; count: number; at: number }
  | { kind: 'reloading'; cause: ReloadCause }
  | { kind: 'reloaded'; cause: ReloadCause; at: number };

export interface StreamState {
  connection: Connection;
  /** id of the last event seen (any EventSource): where a reconnect resumes */
  lastEventId: string | null;
  /** the current connection has sent `ready` */
  ready: boolean;
  /** a snapshot requested after a `ready` (or `reset`) has been merged, with no gap since */
  baseline: boolean;
  notice: Notice | null;
}

export type StreamEvent =
  | { type: 'open' }
  | { type: 'ready'; id: string | null; now: number }
  | { type: 'break'; id: string | null; now: number }
  | { type: 'reset'; id: string | null; now: number }
  /** EventSource error; `closed`: the browser gave up (the app opens a new one later) */
  | { type: 'error'; closed: boolean }
  /** a snapshot finished; `requested`: it was asked for by this reducer (see Step) */
  | { type: 'snapshot'; requested: boolean; now: number }
  | { type: 'tick'; now: number };

export interface Step {
  state: StreamState;
  /** load the snapshot now (replacing one in flight) and report it as `requested` */
  loadSnapshot: boolean;
}

/** The catch-up has no end marker: it is over once the events pause this long… */
export const CATCH_UP_QUIET_MS = 400;
/** …or this long after `ready` at the latest (a busy stream never pauses). */
export const CATCH_UP_MAX_MS = 3000;
/** how long "resumed" / "reloaded" stays on screen */
export const NOTICE_MS = 6000;

export const initialStream = (): StreamState => ({
  connection: 'connecting',
  lastEventId: null,
  ready: false,
  baseline: false,
  notice: null,
});

/**
 * The BFF's event ids are change sequence numbers; it refuses (HTTP 422) any other
 * Last-Event-ID. Only such an id is kept as a resume point, so a stray id can never make
 * every reconnect fail.
 */
export const resumeId = (id: string | null | undefined): string | null =>
  typeof id === 'string' && /^\d+$/.test(id) ? id : null;

const withId = (s: StreamState, id: string | null): StreamState => {
  const next = resumeId(id);
  return next === null || next === s.lastEventId ? s : { ...s, lastEventId: next };
};

/** The view is complete: a snapshot taken on a ready stream, and that stream since. */
export const isSynced = (s: StreamState): boolean => s.baseline && s.ready;

export function streamStep(s: StreamState, ev: StreamEvent): Step {
  const done = (state: StreamState, loadSnapshot = false): Step => ({ state, loadSnapshot });
  switch (ev.type) {
    case 'open':
      return done(s.connection === 'live' ? s : { ...s, connection: 'live' });
    case 'ready': {
      // The BFF echoes the id it resumes from; the same id as the last one seen means
      // the changes missed are replayed next, in order. Anything else (first connection,
      // no id yet, a BFF that did not resume) is a gap only a snapshot fills.
      const resumed = s.lastEventId !== null && resumeId(ev.id) === s.lastEventId;
      const returning = s.lastEventId !== null || s.baseline;
      const base = { ...withId(s, ev.id), connection: 'live' as const, ready: true };
      if (resumed) return done({ ...base, notice: { kind: 'catching-up', count: 0, since: ev.now, lastAt: ev.now } });
      return done({ ...base, baseline: false, notice: returning ? { kind: 'reloading', cause: 'reconnect' } : null }, true);
    }
    case 'break': {
      const next = withId(s, ev.id);
      const n = next.notice;
      if (n?.kind !== 'catching-up') return done(next);
      return done({ ...next, notice: { ...n, count: n.count + 1, lastAt: ev.now } });
    }
    case 'reset':
      return done({ ...withId(s, ev.id), baseline: false, notice: { kind: 'reloading', cause: 'reset' } }, true);
    case 'error':
      return done({ ...s, connection: ev.closed ? 'disconnected' : 'reconnecting', ready: false, notice: null });
    case 'snapshot': {
      // A snapshot loaded before the stream was ready (to show data at once) is merged
      // but does not make the view complete.
      if (!ev.requested) return done(s);
      const n = s.notice;
      const notice: Notice | null = n?.kind === 'reloading' ? { kind: 'reloaded', cause: n.cause, at: ev.now } : n;
      return done({ ...s, baseline: true, notice });
    }
    case 'tick': {
      const n = s.notice;
      if (n === null) return done(s);
      if (n.kind === 'catching-up') {
        if (ev.now - n.lastAt < CATCH_UP_QUIET_MS && ev.now - n.since < CATCH_UP_MAX_MS) return done(s);
        return done({ ...s, notice: { kind: 'resumed', count: n.count, at: ev.now } });
      }
      if (n.kind === 'reloading' || ev.now - n.at < NOTICE_MS) return done(s);
      return done({ ...s, notice: null });
    }
  }
}

/** When the next `tick` is due (wall-clock ms), or null when nothing is pending. */
export function nextTick(s: StreamState): number | null {
  const n = s.notice;
  if (n === null || n.kind === 'reloading') return null;
  if (n.kind === 'catching-up') return Math.min(n.lastAt + CATCH_UP_QUIET_MS, n.since + CATCH_UP_MAX_MS);
  return n.at + NOTICE_MS;
}

const changes = (n: number): string => (n === 1 ? '1 change' : `${n.toLocaleString('en-US')} changes`);

/**
 * The notice as the analyst reads it after "Live — ". The catch-up count is only shown
 * once it is final, so a screen reader (the indicator is a polite live region) hears one
 * announcement, not one per replayed change.
 */
export function noticeText(n: Notice | null): string | null {
  if (n === null) return null;
  switch (n.kind) {
    case 'catching-up':
      return 'resumed, catching up…';
    case 'resumed':
      return n.count === 0 ? 'resumed, nothing missed' : `resumed, ${changes(n.count)} caught up`;
    case 'reloading':
      return n.cause === 'reset' ? 'stream reset, reloading the snapshot…' : 'reconnected, reloading the snapshot…';
    case 'reloaded':
      return n.cause === 'reset' ? 'reloaded after reset' : 'reconnected, snapshot reloaded';
  }
}
