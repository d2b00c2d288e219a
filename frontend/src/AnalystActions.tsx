// The analyst's actions on one break, in the detail panel: label its cause (feedback that
// trains the model) and reverse The Discriminator's automatic disposition. Each shows the
// API's answer inline. Nothing is changed locally: the relabelled break comes back over
// the live stream with its next version.

import { useState, type FormEvent } from 'react';
import { ApiError, labelBreak, labelRequest, reverseDecision, reverseRequest } from './api';
import { defaultReverseTarget, describeLabelOutcome, describeReverseOutcome, reverseTargets } from './analyst';
import { CAUSE_LABEL, dispositionName } from './format';
import { CAUSES, type Break, type Cause, type Disposition } from './types';

type ActionState = { state: 'idle' } | { state: 'busy' } | { state: 'ok'; text: string } | { state: 'error'; text: string };

const IDLE: ActionState = { state: 'idle' };

const failure = (err: unknown): ActionState => ({
  state: 'error',
  text: err instanceof ApiError || err instanceof Error ? err.message : String(err),
});

function ActionMessage({ action, testId }: { action: ActionState; testId: string }) {
  if (action.state === 'ok') {
    return (
      <div className="action-msg ok" role="status" data-testid={testId} data-state="ok">
        <span aria-hidden>✓</span> {action.text}
      </div>
    );
  }
  if (action.state === 'error') {
    return (
      <div className="action-msg err" role="alert" data-testid={testId} data-state="error">
        <span aria-hidden>!</span> {action.text}
      </div>
    );
  }
  return null;
}

interface Props {
  brk: Break;
  onDone: () => void;
  /** why the user may not label or reverse (see session.ts deniedReason); null: they may */
  denied: string | null;
}

/** Render with `key={brk.break_id}`: the form state belongs to one break. */
export function AnalystActions({ brk, onDone, denied }: Props) {
  // null = follow the break's current cause (it may change live until the analyst picks one)
  const [picked, setPicked] = useState<Cause | null>(null);
  const [target, setTarget] = useState<Disposition | null>(null);
  const [reason, setReason] = useState('');
  const [label, setLabel] = useState<ActionState>(IDLE);
  const [reverse, setReverse] = useState<ActionState>(IDLE);

  const cause = picked ?? brk.cause;
  const targets = reverseTargets(brk.disposition);
  const reverseTo = target !== null && targets.includes(target) ? target : defaultReverseTarget(brk.disposition);
  const busy = label.state === 'busy' || reverse.state === 'busy';
  const locked = denied !== null;

  const submitLabel = (e: FormEvent) => {
    e.preventDefault();
    if (cause === null || busy || locked) return;
    setLabel({ state: 'busy' });
    labelBreak(brk.break_id, labelRequest(cause, { reason })).then(
      (outcome) => {
        setLabel({ state: 'ok', text: describeLabelOutcome(outcome) });
        setReason('');
        onDone();
      },
      (err: unknown) => setLabel(failure(err)),
    );
  };

  const submitReverse = (e: FormEvent) => {
    e.preventDefault();
    if (brk.disposition === null || busy || locked) return;
    setReverse({ state: 'busy' });
    reverseDecision(brk.break_id, reverseRequest(reverseTo, { reason })).then(
      (outcome) => {
        setReverse({ state: 'ok', text: describeReverseOutcome(outcome) });
        setReason('');
        onDone();
      },
      (err: unknown) => setReverse(failure(err)),
    );
  };

  return (
    <section className="analyst" data-testid="analyst-actions" data-allowed={!locked}>
      <h3>Analyst</h3>
      {locked && (
        <p className="action-denied muted small" data-testid="analyst-denied">
          Read-only: {denied}.
        </p>
      )}
      <form className="action" onSubmit={submitLabel} aria-label="Label cause">
        <label className="action-label" htmlFor="label-cause">
          Label cause
        </label>
        <select
          id="label-cause"
          data-testid="label-cause"
          value={cause ?? ''}
          disabled={locked}
          title={denied ?? undefined}
          onChange={(e) => {
            setPicked(e.target.value as Cause);
            if (label.state !== 'busy') setLabel(IDLE);
          }}
        >
          {cause === null && (
            <option value="" disabled>
              Choose a cause…
            </option>
          )}
          {CAUSES.map((c) => (
            <option key={c} value={c}>
              {CAUSE_LABEL[c]}
              {c === brk.cause ? ' (current)' : ''}
            </option>
          ))}
        </select>
        <button
          type="submit"
          className="btn primary"
          data-testid="label-submit"
          disabled={cause === null || busy || locked}
          title={denied ?? 'Send this cause as analyst feedback: the model learns from it'}
        >
          {label.state === 'busy' ? 'Sending…' : 'Label'}
        </button>
      </form>
      <ActionMessage action={label} testId="label-result" />
      {label.state === 'ok' && (
        <div className="action-hint muted">The grid shows it with the break's next version.</div>
      )}

      {brk.disposition !== null && (
        <>
          <form className="action" onSubmit={submitReverse} aria-label="Reverse decision">
            <label className="action-label" htmlFor="reverse-to">
              Decision
            </label>
            <select
              id="reverse-to"
              data-testid="reverse-to"
              value={reverseTo}
              onChange={(e) => {
                setTarget(e.target.value as Disposition);
                if (reverse.state !== 'busy') setReverse(IDLE);
              }}
              disabled={locked}
              title={denied ?? 'The disposition the break gets'}
            >
              {targets.map((d) => (
                <option key={d} value={d}>
                  to {dispositionName(d)}
                </option>
              ))}
            </select>
            <button
              type="submit"
              className="btn"
              data-testid="reverse-submit"
              disabled={busy || locked}
              title={denied ?? `Override The Discriminator: ${dispositionName(brk.disposition)} → ${dispositionName(reverseTo)}`}
            >
              {reverse.state === 'busy' ? 'Sending…' : 'Reverse decision'}
            </button>
          </form>
          <ActionMessage action={reverse} testId="reverse-result" />
        </>
      )}

      <div className="action">
        <label className="action-label" htmlFor="action-reason">
          Reason
        </label>
        <input
          id="action-reason"
          data-testid="action-reason"
          className="reason"
          type="text"
          maxLength={500}
          placeholder="optional, recorded with the label or reversal"
          disabled={locked}
          title={denied ?? undefined}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
    </section>
  );
}
