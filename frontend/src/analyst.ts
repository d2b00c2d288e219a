// Pure logic of the analyst actions in the detail panel: which dispositions a decision can
// be reversed to, and the one-line texts shown for an action's outcome and for a decision's
// reversal. No React, no I/O (the requests are in api.ts).

import type { Decision, Outcome } from './api';
import { CAUSE_LABEL, dispositionName, formatTimestamp } from './format';
import { CAUSES, DISPOSITIONS, type Cause, type Disposition } from './types';

const causeName = (c: string | null): string =>
  c !== null && (CAUSES as readonly string[]).includes(c) ? CAUSE_LABEL[c as Cause] : (c ?? '—');

/** The dispositions a decision can be reversed to: every one but the current. */
export function reverseTargets(current: Disposition | null): Disposition[] {
  return DISPOSITIONS.filter((d) => d !== current);
}

/**
 * The preselected target of "Reverse decision": QUEUE (an analyst looks at it, as the BFF
 * and `greenai breaks reverse` default to), or ESCALATE when the break is already queued.
 */
export function defaultReverseTarget(current: Disposition | null): Disposition {
  return current === 'QUEUE' ? 'ESCALATE' : 'QUEUE';
}

/** `Label sent: Rounding (was FX) · decision reversed: Escalate → Queue` */
export function describeLabelOutcome(o: Outcome): string {
  let text = `Label sent: ${causeName(o.cause)}`;
  if (o.previous_cause === null) text += ' (was pending)';
  else if (o.previous_cause === o.cause) text += ' (confirms the model)';
  else text += ` (was ${causeName(o.previous_cause)})`;
  if (o.reversed && o.disposition !== null) {
    const from = o.previous_disposition === null ? 'pending' : dispositionName(o.previous_disposition);
    text += ` · decision reversed: ${from} → ${dispositionName(o.disposition)}`;
  }
  return text;
}

/** `Decision reversed: Escalate → Queue` (or that the disposition did not change). */
export function describeReverseOutcome(o: Outcome): string {
  const to = o.disposition === null ? '—' : dispositionName(o.disposition);
  if (!o.reversed) return `Reversal sent: the disposition stays ${to}`;
  const from = o.previous_disposition === null ? 'pending' : dispositionName(o.previous_disposition);
  return `Decision reversed: ${from} → ${to}`;
}

/** `Reversed to Queue by alice, 2026-11-26 15:35:01 UTC — labelled ROUNDING`; null if not reversed. */
export function describeReversal(d: Decision): string | null {
  if (d.reversed_at === null && d.reversed_to === null) return null;
  let text = 'Reversed';
  if (d.reversed_to !== null) text += ` to ${dispositionName(d.reversed_to)}`;
  if (d.reversed_by) text += ` by ${d.reversed_by}`;
  if (d.reversed_at !== null) text += `, ${formatTimestamp(d.reversed_at)} UTC`;
  // the BFF's default reason ("reversed to QUEUE") says nothing the line does not
  const reason = d.reversal_reason?.trim();
  if (reason && reason.toLowerCase() !== `reversed to ${d.reversed_to ?? ''}`.toLowerCase()) text += ` — ${reason}`;
  return text;
}

/** Display name of a decision's cause (decisions carry the cause as plain text). */
export const decisionCause = causeName;
