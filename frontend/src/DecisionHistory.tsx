// The decisions The Discriminator recorded for a break (one per attributed version), with
// any analyst reversal, from GET /api/breaks/{id}/decisions. Reloaded when the break gets a
// new version and after an analyst action.

import { useEffect, useState } from 'react';
import { fetchDecisions, type Decision } from './api';
import { decisionCause, describeReversal } from './analyst';
import { formatConfidence, formatTimestamp } from './format';
import { DispositionTag } from './tags';

interface Loaded {
  decisions: Decision[] | null;
  error: string | null;
  loading: boolean;
}

/** Render with `key={breakId}`; `refresh` changes to reload. */
export function DecisionHistory({ breakId, version, refresh }: { breakId: string; version: number; refresh: number }) {
  const [state, setState] = useState<Loaded>({ decisions: null, error: null, loading: true });
  const [retry, setRetry] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fetchDecisions(breakId, ctrl.signal).then(
      (decisions) => {
        if (!ctrl.signal.aborted) setState({ decisions, error: null, loading: false });
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setState((s) => ({ ...s, error: err instanceof Error ? err.message : String(err), loading: false }));
      },
    );
    return () => ctrl.abort();
  }, [breakId, version, refresh, retry]);

  const { decisions, error, loading } = state;

  return (
    <section data-testid="decisions">
      <h3>
        Decisions
        {decisions !== null && decisions.length > 0 && <span className="h3-count num">{decisions.length}</span>}
        {loading && decisions !== null && <span className="h3-note">updating…</span>}
      </h3>
      {error !== null && (
        <div className="action-msg err block" role="alert">
          <span aria-hidden>!</span> Could not load decisions: {error}{' '}
          <button type="button" className="link" onClick={() => setRetry((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      {decisions === null ? (
        error === null && <p className="muted small">Loading…</p>
      ) : decisions.length === 0 ? (
        <p className="muted small">No automatic decision recorded yet.</p>
      ) : (
        <table className="mini decisions">
          <thead>
            <tr>
              <th>Ver</th>
              <th>Decided (UTC)</th>
              <th>By</th>
              <th>Cause</th>
              <th>Disposition</th>
            </tr>
          </thead>
          {decisions.map((d) => {
            const reversal = describeReversal(d);
            return (
              <tbody key={d.version} className={reversal !== null ? 'reversed' : undefined} data-version={d.version}>
                <tr>
                  <td className="num">{d.version}</td>
                  <td className="num mono" title={d.decided_at ?? undefined}>
                    {formatTimestamp(d.decided_at)}
                  </td>
                  <td>{d.decided_by ?? '—'}</td>
                  <td title={d.confidence === null ? undefined : `confidence ${formatConfidence(d.confidence)}`}>
                    {decisionCause(d.cause)} <span className="muted num">{formatConfidence(d.confidence)}</span>
                  </td>
                  <td className="dec-disp">
                    <DispositionTag disposition={d.disposition} priority={d.priority} />
                  </td>
                </tr>
                {d.reasons.length > 0 && (
                  <tr className="sub">
                    <td />
                    <td colSpan={4} className="muted">
                      {d.reasons.join(' · ')}
                      {d.materiality !== null && !d.reasons.some((r) => r.includes('materiality')) && ` · materiality ${d.materiality}`}
                    </td>
                  </tr>
                )}
                {reversal !== null && (
                  <tr className="sub reversal">
                    <td />
                    <td colSpan={4}>
                      <span aria-hidden>↺</span> {reversal}
                    </td>
                  </tr>
                )}
              </tbody>
            );
          })}
        </table>
      )}
    </section>
  );
}
