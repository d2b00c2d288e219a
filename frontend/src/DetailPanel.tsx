// Everything about one break: assessment, the analyst's actions (label, reverse: for users
// with the `label` permission), per-source values, the explanation behind the cause, the
// decision history, the break's audit trail (who did what), lifecycle, and the raw JSON
// as received.

import { useEffect, useState } from 'react';
import type { Break } from './types';
import { formatAge, formatAgeDays, formatConfidence, formatKey, formatTimestamp } from './format';
import { isOverdue } from './breaks';
import { CauseTag, DispositionTag, KindTag, StatusTag } from './tags';
import { AnalystActions } from './AnalystActions';
import { DecisionHistory } from './DecisionHistory';
import { BreakAudit } from './BreakAudit';
import { can, deniedReason, type Me } from './session';
import { BreakWorkflow } from './BreakWorkflow';
import { CommentThread } from './CommentThread';
import { TagEditor } from './TagEditor';
import { SourceRecords } from './SourceRecords';

function sourcesOf(b: Break): string[] {
  const seen = new Set<string>();
  for (const f of b.fields) for (const s of Object.keys(f.values ?? {})) seen.add(s);
  return [...seen];
}

function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

interface Props {
  brk: Break;
  me: Me;
  onClose: () => void;
  /** show this break on the global audit page (offered to users with `audit`) */
  onOpenAudit?: ((breakId: string) => void) | undefined;
}

export function DetailPanel({ brk, me, onClose, onOpenAudit }: Props) {
  const now = useNow(1000);
  // bumped after a label or reversal so the decision history and the trail are read again
  const [decisionsRefresh, setDecisionsRefresh] = useState(0);
  const sources = sourcesOf(brk);
  const maxWeight = Math.max(1e-9, ...brk.explanation.map((e) => Math.abs(e.weight ?? 0)));

  return (
    <aside className="detail" data-testid="detail-panel" aria-label="Break detail">
      <header className="detail-head">
        <div className="detail-title">
          <KindTag kind={brk.kind} />
          <StatusTag status={brk.status} />
          <span className="detail-recon">{brk.recon}</span>
        </div>
        <button type="button" className="icon-btn" onClick={onClose} title="Close (Esc)" aria-label="Close detail">
          ×
        </button>
      </header>
      <div className="detail-key mono">{formatKey(brk.key)}</div>
      <div className="detail-id mono" title="break_id">
        {brk.break_id}
      </div>

      <section>
        <h3>Assessment</h3>
        <dl className="kv">
          <dt>Cause</dt>
          <dd>
            <CauseTag cause={brk.cause} confidence={brk.confidence} />
          </dd>
          <dt>Confidence</dt>
          <dd className="num">{formatConfidence(brk.confidence)}</dd>
          <dt>Disposition</dt>
          <dd>
            <DispositionTag disposition={brk.disposition} priority={brk.priority} />
          </dd>
          {brk.missing_in !== null && (
            <>
              <dt>Missing in</dt>
              <dd className="missing-in">{brk.missing_in}</dd>
            </>
          )}
        </dl>
      </section>

      <BreakWorkflow key={`workflow:${brk.break_id}`} brk={brk} me={me} />

      <AnalystActions
        key={`actions:${brk.break_id}`}
        brk={brk}
        denied={deniedReason(me, 'label', 'Labelling a break or reversing its decision')}
        onDone={() => setDecisionsRefresh((n) => n + 1)}
      />

      <section>
        <h3>Differences</h3>
        {brk.fields.length === 0 ? (
          <p className="muted small">
            {brk.kind === 'MISSING'
              ? `No record in ${brk.missing_in ?? 'one source'} for this key.`
              : brk.kind === 'DUPLICATE'
                ? 'More than one booking under this key.'
                : 'No field differences reported.'}
          </p>
        ) : (
          <table className="mini">
            <thead>
              <tr>
                <th>Field</th>
                {sources.map((s) => (
                  <th key={s}>{s}</th>
                ))}
                <th>Δ</th>
              </tr>
            </thead>
            <tbody>
              {brk.fields.map((f) => (
                <tr key={f.field}>
                  <td className="mono">{f.field}</td>
                  {sources.map((s) => {
                    const v = f.values?.[s];
                    return (
                      <td key={s} className="mono num">
                        {v === null || v === undefined ? <span className="muted">∅</span> : v}
                      </td>
                    );
                  })}
                  <td className="mono num delta">{f.delta ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <SourceRecords brk={brk} />

      <TagEditor key={`tags:${brk.break_id}`} breakId={brk.break_id} tags={brk.tags} mayTag={can(me, 'label')} />

      <CommentThread
        key={`comments:${brk.break_id}`}
        breakId={brk.break_id}
        revision={`${brk.version}.${brk.revision}`}
        mayComment={can(me, 'comment')}
      />

      <section>
        <h3>Explanation</h3>
        {brk.explanation.length === 0 ? (
          <p className="muted small">{brk.cause === null ? 'Not attributed yet.' : 'No features reported.'}</p>
        ) : (
          <ol className="explain" data-testid="explanation">
            {brk.explanation.map((e, i) => {
              const w = e.weight ?? 0;
              return (
                <li key={`${e.feature}-${i}`}>
                  <span className="feat mono">{e.feature}</span>
                  <span className="feat-val mono">{e.value === null ? '∅' : String(e.value)}</span>
                  <span className="weight" title={`weight ${w}`}>
                    <span className={`wbar ${w < 0 ? 'neg' : 'pos'}`} style={{ width: `${(Math.abs(w) / maxWeight) * 100}%` }} />
                  </span>
                  <span className="wnum num">{w.toFixed(2)}</span>
                </li>
              );
            })}
          </ol>
        )}
      </section>

      <DecisionHistory key={`decisions:${brk.break_id}`} breakId={brk.break_id} version={brk.version} refresh={decisionsRefresh} />

      <BreakAudit
        key={`audit:${brk.break_id}`}
        breakId={brk.break_id}
        version={brk.version}
        refresh={decisionsRefresh}
        onOpenTrail={onOpenAudit && can(me, 'audit') ? () => onOpenAudit(brk.break_id) : undefined}
      />

      <section>
        <h3>Lifecycle</h3>
        <dl className="kv">
          <dt>First seen</dt>
          <dd className="num">{formatTimestamp(brk.first_seen)} UTC</dd>
          <dt>Age</dt>
          <dd className="num">{formatAge(brk.first_seen, now)}</dd>
          <dt>Business days</dt>
          <dd className="num" data-testid="detail-age">
            {brk.age_days === null ? (
              <span className="muted">—</span>
            ) : (
              <>
                {formatAgeDays(brk.age_days)}
                {brk.ageing_bucket !== null && <span className="muted"> · bucket {brk.ageing_bucket}</span>}
              </>
            )}
          </dd>
          <dt>Due</dt>
          <dd className="num" data-testid="detail-due" data-overdue={isOverdue(brk, now)}>
            {brk.due === null ? (
              <span className="muted">no SLA</span>
            ) : (
              <span className={isOverdue(brk, now) ? 'due-overdue' : ''}>
                {formatTimestamp(brk.due)} UTC
                {isOverdue(brk, now) && <span className="overdue-tag">overdue</span>}
              </span>
            )}
          </dd>
          <dt>Updated</dt>
          <dd className="num">{formatTimestamp(brk.updated_at)} UTC</dd>
          <dt>Version</dt>
          <dd className="num">{brk.version}</dd>
          <dt>Revision</dt>
          <dd className="num">{brk.revision}</dd>
        </dl>
      </section>

      <details className="raw">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(brk, null, 2)}</pre>
      </details>
    </aside>
  );
}
