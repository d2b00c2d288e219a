// The approval queue (approvers): every break with a pending proposal (GET /api/approvals,
// newest first), with approve (optional note) and reject (reason). Read again whenever a
// live change arrives, so an approved or withdrawn proposal leaves the queue.

import { useEffect, useRef, useState } from 'react';
import { ApiError } from './api';
import { formatKey, formatTimestamp } from './format';
import type { Me } from './session';
import type { Break } from './types';
import { fetchApprovals, missingField, sendAction } from './workflow';

interface Props {
  me: Me;
  /** changes whenever the live store changes: the queue is read again */
  liveStamp: unknown;
  onOpenBreak: (breakId: string) => void;
}

function Row({ brk, me, onOpenBreak }: { brk: Break; me: Me; onOpenBreak: (id: string) => void }) {
  const [text, setText] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const p = brk.proposal!;
  const own = p.by === me.username;

  const act = (action: 'approve' | 'reject') => {
    const fields = action === 'approve' ? { note: text } : { reason: text };
    const missing = missingField(action, fields);
    if (missing) return setMsg({ kind: 'error', text: missing });
    setBusy(true);
    sendAction(brk.break_id, action, fields).then(
      () => {
        setBusy(false);
        setMsg({ kind: 'ok', text: `${action} accepted — pending` });
      },
      (err: unknown) => {
        setBusy(false);
        setMsg({ kind: 'error', text: err instanceof ApiError || err instanceof Error ? err.message : String(err) });
      },
    );
  };

  return (
    <tr data-testid="approval-row" data-break-id={brk.break_id}>
      <td>
        <button type="button" className="link mono" onClick={() => onOpenBreak(brk.break_id)}>
          {brk.recon} {formatKey(brk.key)}
        </button>
      </td>
      <td>{p.action === 'WRITE_OFF' ? `Write off ${p.amount ?? ''}` : 'Close'}</td>
      <td className="mono">
        {p.reason}
        {p.note ? ` — ${p.note}` : ''}
      </td>
      <td className="num">{brk.materiality ?? '—'}</td>
      <td>
        {p.by}
        <div className="muted small">{p.at ? `${formatTimestamp(p.at)} UTC` : ''}</div>
      </td>
      <td>
        {own ? (
          <span className="muted small">your own proposal: another approver decides</span>
        ) : (
          <div className="wf-form">
            <input placeholder="note / reason" value={text} onChange={(e) => setText(e.target.value)} data-testid="approval-text" />
            <button type="button" className="btn primary" disabled={busy} onClick={() => act('approve')} data-testid="approval-approve">
              Approve
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => act('reject')} data-testid="approval-reject">
              Reject
            </button>
          </div>
        )}
        {msg !== null && (
          <div className={`action-msg block ${msg.kind === 'ok' ? 'ok' : 'err'}`} role={msg.kind === 'ok' ? 'status' : 'alert'} data-testid="approval-msg">
            {msg.text}
          </div>
        )}
      </td>
    </tr>
  );
}

export function ApprovalQueue({ me, liveStamp, onOpenBreak }: Props) {
  const [items, setItems] = useState<Break[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Read on mount, then again after live changes: at most once a second (a throttle, not a
  // debounce, so a steady feed of changes still refreshes the queue).
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRead = useRef(0);
  const reader = useRef<AbortController | null>(null);
  useEffect(() => {
    if (timer.current !== null) return; // a read is already scheduled: it will see this change
    const read = () => {
      timer.current = null;
      lastRead.current = Date.now();
      reader.current?.abort();
      const ac = new AbortController();
      reader.current = ac;
      fetchApprovals(ac.signal).then(
        (list) => {
          setItems(list.filter((b) => b.proposal !== null));
          setError(null);
        },
        (err: unknown) => {
          if (err instanceof DOMException && err.name === 'AbortError') return;
          setError(err instanceof Error ? err.message : String(err));
        },
      );
    };
    timer.current = setTimeout(read, Math.max(0, lastRead.current + 1000 - Date.now()));
  }, [liveStamp]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      reader.current?.abort();
    },
    [],
  );

  return (
    <main className="approvals" data-testid="approval-queue">
      <h2>Approvals</h2>
      {error !== null && (
        <div className="banner" role="alert">
          {error}
        </div>
      )}
      {items === null && error === null && <p className="muted">Loading…</p>}
      {items !== null && items.length === 0 && <p className="muted" data-testid="approvals-empty">No proposals awaiting approval.</p>}
      {items !== null && items.length > 0 && (
        <table className="mini">
          <thead>
            <tr>
              <th>Break</th>
              <th>Proposal</th>
              <th>Reason</th>
              <th>Materiality</th>
              <th>By</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => (
              <Row key={`${b.break_id}:${b.version}.${b.revision}`} brk={b} me={me} onOpenBreak={onOpenBreak} />
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
