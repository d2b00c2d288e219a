// A break's own audit trail in the detail panel ("History"): who did what when, before →
// after, from where — GET /api/breaks/{id}/audit. Reloaded when the break gets a new
// version and after an analyst action; the newest entry first.

import { useEffect, useState } from 'react';
import { fetchBreakAudit } from './api';
import { actionLabel, actorText, atText, changeText, whereText, type AuditEntry } from './audit';

interface Loaded {
  entries: AuditEntry[] | null;
  error: string | null;
  loading: boolean;
}

interface Props {
  breakId: string;
  version: number;
  refresh: number;
  /** open the global audit page on this break (auditors only) */
  onOpenTrail?: (() => void) | undefined;
}

/** Render with `key={breakId}`; `refresh` changes to reload. */
export function BreakAudit({ breakId, version, refresh, onOpenTrail }: Props) {
  const [state, setState] = useState<Loaded>({ entries: null, error: null, loading: true });
  const [retry, setRetry] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fetchBreakAudit(breakId, ctrl.signal).then(
      (entries) => {
        if (!ctrl.signal.aborted) setState({ entries: [...entries].sort((a, b) => b.seq - a.seq), error: null, loading: false });
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setState((s) => ({ ...s, error: err instanceof Error ? err.message : String(err), loading: false }));
      },
    );
    return () => ctrl.abort();
  }, [breakId, version, refresh, retry]);

  const { entries, error, loading } = state;

  return (
    <section data-testid="break-audit" aria-labelledby={`history-${breakId}`} data-loaded={entries !== null}>
      <h3 id={`history-${breakId}`}>
        History
        {entries !== null && entries.length > 0 && <span className="h3-count num">{entries.length}</span>}
        {loading && entries !== null && <span className="h3-note">updating…</span>}
        {onOpenTrail && (
          <button type="button" className="link h3-link" onClick={onOpenTrail} data-testid="open-audit-trail">
            in the audit trail
          </button>
        )}
      </h3>
      {error !== null && (
        <div className="action-msg err block" role="alert">
          <span aria-hidden>!</span> Could not load the history: {error}{' '}
          <button type="button" className="link" onClick={() => setRetry((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      {entries === null ? (
        error === null && <p className="muted small">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="muted small">Nobody has acted on this break yet.</p>
      ) : (
        <ol className="history">
          {entries.map((e) => {
            const change = changeText(e);
            const where = whereText(e);
            return (
              <li key={e.seq} data-seq={e.seq} data-action={e.action} data-actor={e.actor}>
                <div className="history-head">
                  <span className="history-actor">{actorText(e)}</span>{' '}
                  <span className="history-action" title={e.action}>
                    {actionLabel(e.action)}
                  </span>
                  <time className="history-at num" dateTime={e.at} title={e.at}>
                    {atText(e)}
                  </time>
                </div>
                {change !== '' && <div className="history-change mono">{change}</div>}
                {where !== '' && (
                  <div className="history-where muted" title={`${e.user_agent}${e.request_id ? ` · request ${e.request_id}` : ''}`}>
                    from {where}
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
