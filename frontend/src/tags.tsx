// Small presentational badges shared by the grid, the header and the detail panel.

import type { Cause, Disposition, Kind, Status } from './types';
import { CAUSE_LABEL, dispositionName, formatConfidence } from './format';

const STATUS_NAME: Record<Status, string> = { OPEN: 'Open', IN_REVIEW: 'In review', RESOLVED: 'Resolved', CLOSED: 'Closed' };

export function StatusTag({ status }: { status: Status }) {
  return <span className={`tag status-${status.toLowerCase()}`}>{STATUS_NAME[status] ?? status}</span>;
}

export function KindTag({ kind }: { kind: Kind }) {
  return <span className={`kind kind-${kind.toLowerCase()}`}>{kind}</span>;
}

export { CAUSE_LABEL }; // defined in format.ts (pure), re-exported for the views

export function CauseTag({ cause, confidence }: { cause: Cause | null; confidence: number | null }) {
  if (cause === null) return <span className="cause cause-pending">Pending</span>;
  const pct = confidence === null ? null : Math.max(0, Math.min(1, confidence));
  return (
    <span className={`cause cause-${cause.toLowerCase()}`}>
      <span className="cause-dot" />
      <span className="cause-name">{CAUSE_LABEL[cause]}</span>
      <span className="conf num" title={`confidence ${formatConfidence(confidence)}`}>
        {pct !== null && (
          <span className="conf-bar">
            <span style={{ width: `${pct * 100}%` }} />
          </span>
        )}
        {formatConfidence(confidence)}
      </span>
    </span>
  );
}

export function DispositionTag({ disposition, priority }: { disposition: Disposition | null; priority: number | null }) {
  return (
    <span className="disp">
      <span className={`prio prio-${priority ?? 'none'}`}>{priority === null ? 'P–' : `P${priority}`}</span>
      <span className={`disp-name disp-${(disposition ?? 'none').toLowerCase()}`}>
        {disposition === null ? 'Pending' : dispositionName(disposition)}
      </span>
    </span>
  );
}
