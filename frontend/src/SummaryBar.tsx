// Header counts: open breaks, escalations, queue, P1, overdue, resolved, closed, and open
// breaks by cause. Cause chips and the overdue count double as filters.

import type { Summary } from './breaks';
import { CAUSES, type Cause } from './types';
import { CAUSE_LABEL } from './tags';

interface Props {
  summary: Summary;
  scope: string;
  /** the blotter shows overdue breaks only */
  overdueOnly: boolean;
  onOverdue: (on: boolean) => void;
  cause: Cause | 'PENDING' | null;
  onCause: (c: Cause | 'PENDING' | null) => void;
}

export function SummaryBar({ summary, scope, overdueOnly, onOverdue, cause, onCause }: Props) {
  const chips: (Cause | 'PENDING')[] = [...CAUSES, 'PENDING'];
  return (
    <section className="summary" data-testid="summary">
      <div className="metric metric-main">
        <span className="metric-val num" data-testid="open-count">
          {summary.open}
        </span>
        <span className="metric-label">open breaks · {scope}</span>
      </div>
      <div className="metric">
        <span className="metric-val num tone-red">{summary.escalated}</span>
        <span className="metric-label">escalated</span>
      </div>
      <div className="metric">
        <span className="metric-val num tone-blue">{summary.queued}</span>
        <span className="metric-label">queued</span>
      </div>
      <div className="metric">
        <span className="metric-val num tone-amber">{summary.p1}</span>
        <span className="metric-label">priority 1</span>
      </div>
      <button
        type="button"
        className={`metric metric-btn${overdueOnly ? ' active' : ''}`}
        onClick={() => onOverdue(!overdueOnly)}
        aria-pressed={overdueOnly}
        title={overdueOnly ? 'Show every break again' : 'Show only the breaks past their due date'}
        data-testid="overdue-count"
      >
        <span className={`metric-val num${summary.overdue > 0 ? ' tone-red' : ''}`}>{summary.overdue}</span>
        <span className="metric-label">overdue</span>
      </button>
      <div className="metric">
        <span className="metric-val num tone-green">{summary.resolved}</span>
        <span className="metric-label">resolved</span>
      </div>
      <div className="metric">
        <span className="metric-val num" data-testid="closed-count">{summary.closed}</span>
        <span className="metric-label">closed</span>
      </div>
      <div className="causes" role="group" aria-label="Open breaks by cause">
        <span className="causes-label">Open by cause</span>
        {chips.map((c) => {
          const n = summary.openByCause[c] ?? 0;
          if (n === 0 && cause !== c && (c === 'PENDING' || c === 'UNKNOWN')) return null;
          return (
            <button
              type="button"
              key={c}
              className={`chip cause-${c.toLowerCase()}${cause === c ? ' active' : ''}${n === 0 ? ' zero' : ''}`}
              onClick={() => onCause(cause === c ? null : c)}
              title={cause === c ? 'Clear cause filter' : `Show only ${CAUSE_LABEL[c]}`}
              data-cause={c}
            >
              <span className="cause-dot" />
              {CAUSE_LABEL[c]}
              <span className="chip-n num">{n}</span>
            </button>
          );
        })}
      </div>
    </section>
  );
}
