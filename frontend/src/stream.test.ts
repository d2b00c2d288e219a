import { describe, expect, it } from 'vitest';
import {
  CATCH_UP_MAX_MS,
  CATCH_UP_QUIET_MS,
  initialStream,
  isSynced,
  nextTick,
  NOTICE_MS,
  noticeText,
  resumeId,
  streamStep,
  type StreamEvent,
  type StreamState,
} from './stream';

/** Run events through the reducer; collect how many snapshots it asked for. */
function run(events: StreamEvent[], from: StreamState = initialStream()) {
  let state = from;
  let snapshots = 0;
  for (const ev of events) {
    const step = streamStep(state, ev);
    state = step.state;
    if (step.loadSnapshot) snapshots += 1;
  }
  return { state, snapshots };
}

const open: StreamEvent = { type: 'open' };
const ready = (id: string, now = 0): StreamEvent => ({ type: 'ready', id, now });
const brk = (id: string, now = 0): StreamEvent => ({ type: 'break', id, now });
const reset = (id: string, now = 0): StreamEvent => ({ type: 'reset', id, now });
const snapshot = (now = 0, requested = true): StreamEvent => ({ type: 'snapshot', requested, now });
const tick = (now: number): StreamEvent => ({ type: 'tick', now });
const dropped: StreamEvent = { type: 'error', closed: false };
const closed: StreamEvent = { type: 'error', closed: true };

/** A first connection, its snapshot merged, a few live changes. */
const liveAt17 = () => run([open, ready('10'), snapshot(), brk('11'), brk('17')]).state;

describe('first connection', () => {
  it('loads the snapshot once the stream is ready, then is synced', () => {
    const a = run([open]);
    expect(a.state.connection).toBe('live');
    expect(a.snapshots).toBe(0);
    expect(isSynced(a.state)).toBe(false);

    const b = run([ready('10')], a.state);
    expect(b.snapshots).toBe(1);
    expect(b.state.lastEventId).toBe('10');
    expect(b.state.notice).toBeNull(); // the first load is not a "resume"
    expect(isSynced(b.state)).toBe(false);

    const c = run([snapshot()], b.state);
    expect(isSynced(c.state)).toBe(true);
    expect(c.state.notice).toBeNull();
  });

  it('does not count a snapshot taken before the stream was ready', () => {
    const { state, snapshots } = run([snapshot(0, false), open, ready('3')]);
    expect(snapshots).toBe(1);
    expect(isSynced(state)).toBe(false);
    expect(isSynced(run([snapshot()], state).state)).toBe(true);
  });

  it('remembers the last event id', () => {
    expect(liveAt17().lastEventId).toBe('17');
    // ids the BFF would refuse as Last-Event-ID are not kept
    expect(run([brk(''), brk('x-1')], liveAt17()).state.lastEventId).toBe('17');
  });
});

describe('auto-reconnect (EventSource sends Last-Event-ID)', () => {
  it('resumes without a snapshot and reports the changes caught up', () => {
    const down = run([dropped], liveAt17()).state;
    expect(down.connection).toBe('reconnecting');
    expect(isSynced(down)).toBe(false);

    // the BFF echoes the id it resumes from, then replays what was missed
    const back = run([open, ready('17', 1000), brk('18', 1010), brk('19', 1020), brk('20', 1030)], down);
    expect(back.snapshots).toBe(0);
    expect(back.state.connection).toBe('live');
    expect(isSynced(back.state)).toBe(true);
    expect(back.state.lastEventId).toBe('20');
    expect(back.state.notice).toMatchObject({ kind: 'catching-up', count: 3 });
    expect(noticeText(back.state.notice)).toBe('resumed, catching up…');

    // the catch-up is over once the events pause…
    expect(nextTick(back.state)).toBe(1030 + CATCH_UP_QUIET_MS);
    const early = run([tick(1030 + CATCH_UP_QUIET_MS - 1)], back.state).state;
    expect(early).toBe(back.state);
    const settled = run([tick(1030 + CATCH_UP_QUIET_MS)], back.state).state;
    expect(settled.notice).toEqual({ kind: 'resumed', count: 3, at: 1030 + CATCH_UP_QUIET_MS });
    expect(noticeText(settled.notice)).toBe('resumed, 3 changes caught up');

    // …and stays on screen for NOTICE_MS; later live events do not change it
    const later = run([brk('21', 2000)], settled).state;
    expect(later.notice).toEqual(settled.notice);
    const due = nextTick(later);
    expect(due).toBe(1030 + CATCH_UP_QUIET_MS + NOTICE_MS);
    expect(run([tick(due! - 1)], later).state.notice).not.toBeNull();
    expect(run([tick(due!)], later).state.notice).toBeNull();
    expect(nextTick(run([tick(due!)], later).state)).toBeNull();
  });

  it('ends the catch-up of a stream that never pauses', () => {
    let s = run([dropped, open, ready('17', 0)], liveAt17()).state;
    for (let t = 100; t <= CATCH_UP_MAX_MS; t += 100) s = run([brk(String(17 + t / 100), t), tick(t)], s).state;
    expect(s.notice).toMatchObject({ kind: 'resumed', count: CATCH_UP_MAX_MS / 100 });
  });

  it('says when nothing was missed', () => {
    const s = run([dropped, open, ready('17', 0), tick(CATCH_UP_QUIET_MS)], liveAt17()).state;
    expect(noticeText(s.notice)).toBe('resumed, nothing missed');
    expect(noticeText({ kind: 'resumed', count: 1, at: 0 })).toBe('resumed, 1 change caught up');
    expect(noticeText({ kind: 'resumed', count: 12345, at: 0 })).toBe('resumed, 12,345 changes caught up');
  });

  it('reloads the snapshot when the BFF starts elsewhere than the last id', () => {
    const { state, snapshots } = run([dropped, open, ready('40', 0)], liveAt17());
    expect(snapshots).toBe(1);
    expect(isSynced(state)).toBe(false);
    expect(noticeText(state.notice)).toBe('reconnected, reloading the snapshot…');
    const done = run([snapshot(500)], state).state;
    expect(isSynced(done)).toBe(true);
    expect(done.notice).toEqual({ kind: 'reloaded', cause: 'reconnect', at: 500 });
    expect(noticeText(done.notice)).toBe('reconnected, snapshot reloaded');
  });

  it('clears the notice on the next state change', () => {
    const s = run([dropped, open, ready('17', 0), tick(CATCH_UP_QUIET_MS)], liveAt17()).state;
    expect(s.notice).not.toBeNull();
    const again = run([dropped], s).state;
    expect(again.notice).toBeNull();
    expect(again.connection).toBe('reconnecting');
  });
});

describe('a new EventSource (after the browser gave up)', () => {
  it('keeps the last id across the gap and resumes from it', () => {
    const down = run([closed], liveAt17()).state;
    expect(down.connection).toBe('disconnected');
    expect(down.lastEventId).toBe('17'); // what useLiveBreaks passes as ?last_event_id=
    const back = run([open, ready('17')], down);
    expect(back.snapshots).toBe(0);
    expect(back.state.notice?.kind).toBe('catching-up');
  });

  it('reloads the snapshot when no id is known yet', () => {
    const down = run([open, closed]).state;
    expect(down.lastEventId).toBeNull();
    const back = run([open, ready('5')], down);
    expect(back.snapshots).toBe(1);
  });

  it('stays unsynced until the snapshot requested at the first ready has arrived', () => {
    const s = run([open, ready('10'), brk('11'), dropped, open, ready('11')]).state;
    expect(isSynced(s)).toBe(false);
    expect(isSynced(run([snapshot()], s).state)).toBe(true);
  });
});

describe('reset', () => {
  it('reloads the snapshot on the open stream and says so', () => {
    const { state, snapshots } = run([reset('900', 100)], liveAt17());
    expect(snapshots).toBe(1);
    expect(state.connection).toBe('live');
    expect(state.ready).toBe(true);
    expect(state.lastEventId).toBe('900');
    expect(isSynced(state)).toBe(false);
    expect(noticeText(state.notice)).toBe('stream reset, reloading the snapshot…');
    expect(nextTick(state)).toBeNull(); // shown until the snapshot is in

    const done = run([brk('901', 200), snapshot(300)], state).state;
    expect(isSynced(done)).toBe(true);
    expect(done.notice).toEqual({ kind: 'reloaded', cause: 'reset', at: 300 });
    expect(noticeText(done.notice)).toBe('reloaded after reset');
    expect(run([tick(300 + NOTICE_MS)], done).state.notice).toBeNull();
  });

  it('replaces a catch-up the BFF could not finish', () => {
    // more missed than the BFF replays: `ready` with the old id, then `reset`
    const { state, snapshots } = run([dropped, open, ready('17', 0), reset('9000', 5)], liveAt17());
    expect(snapshots).toBe(1);
    expect(state.notice).toEqual({ kind: 'reloading', cause: 'reset' });
    expect(state.lastEventId).toBe('9000');
  });
});

describe('resume ids', () => {
  it('accepts only sequence numbers', () => {
    expect(resumeId('0')).toBe('0');
    expect(resumeId('123456789012')).toBe('123456789012');
    for (const bad of [null, undefined, '', ' 1', '1.5', '-1', 'abc', '12x']) expect(resumeId(bad)).toBeNull();
  });
});
