// Small presentational badges shared by the grid, the header and the detail panel.

import type { Cause, Disposition, Kind, Status } from './types';
import { formatConfidence, humanize } from './format';

export function StatusTag({ status }: { status: Status }) {
  return <span className={`tag status-${status.toLowerCase()}`}>{status === 'OPEN' ? 'Open' : 'Resolved'}</span>;
}

export function KindTag({ kind }: { kind: Kind }) {
  return <span className={`kind kind-${kind.toLowerCase()}`}>{kind}</span>;
}

export const CAUSE_LABEL: Record<Cause | 'PENDING', string> = {
  TIMING: 'Timing',
  ROUNDING: 'Rounding',
  FX: 'FX',
  STATIC_DATA: 'Static data',
  FAT_FINGER: 'Fat finger',
  FEE: 'Fee',
  MISSING_BOOKING: 'Missing booking',
  DUPLICATE_BOOKING: 'Duplicate booking',
  UNKNOWN: 'Unknown',
  PENDING: 'Pending',
};

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
        {disposition === null ? 'Pending' : disposition === 'AUTO_CLOSE' ? 'Auto-close' : humanize(disposition)}
      </span>
    </span>
  );
}
