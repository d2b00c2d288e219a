// The workflow of one break in the detail panel: owner, status, the pending proposal, and
// the buttons the signed-in user may use now (workflow.ts allowedActions). An accepted
// action (202) shows "pending" until the break's next revision arrives over the stream.

import { useState, type FormEvent } from 'react';
import { ApiError } from './api';
import { formatTimestamp } from './format';
import { allowedActions, CLOSE_REASONS, missingField, needsApproval, sendAction, type ActionFields, type WorkflowAction } from './workflow';
import type { Me } from './session';
import type { Break, ProposalAction } from './types';

type Form = null | 'assign' | 'close' | 'propose' | 'reopen' | 'reject' | 'approve';
type Msg = null | { kind: 'ok' | 'error'; text: string };

const LABEL: Record<WorkflowAction, string> = {
  take: 'Take',
  release: 'Release',
  assign: 'Assign…',
  review: 'Start review',
  close: 'Close…',
  propose: 'Propose…',
  reopen: 'Reopen…',
  approve: 'Approve…',
  reject: 'Reject…',
  tag: 'Tags',
  comment: 'Comment',
};

const messageOf = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

export function BreakWorkflow({ brk, me }: { brk: Break; me: Me }) {
  const actions = allowedActions(brk, me);
  const [form, setForm] = useState<Form>(null);
  const [fields, setFields] = useState<ActionFields>({});
  const [msg, setMsg] = useState<Msg>(null);
  const [busy, setBusy] = useState(false);
  // the (version, revision) the last accepted action was sent against: pending until it moves
  const [sentAt, setSentAt] = useState<string | null>(null);
  const at = `${brk.version}.${brk.revision}`;
  const pending = sentAt !== null && sentAt === at;

  const run = (action: WorkflowAction, f: ActionFields = {}) => {
    const missing = missingField(action, f);
    if (missing) {
      setMsg({ kind: 'error', text: missing });
      return;
    }
    setBusy(true);
    setMsg(null);
    sendAction(brk.break_id, action, f).then(
      () => {
        setBusy(false);
        setSentAt(at);
        setForm(null);
        setFields({});
        setMsg({ kind: 'ok', text: `${action} accepted` });
      },
      (err: unknown) => {
        setBusy(false);
        if (action === 'close' && needsApproval(err)) {
          // above the approval threshold: the same close becomes a proposal to an approver
          setForm('propose');
          setFields({ ...f, proposal: 'CLOSE' });
          setMsg({ kind: 'error', text: `${messageOf(err)} — propose the close to an approver instead` });
          return;
        }
        setMsg({ kind: 'error', text: messageOf(err) });
      },
    );
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form === null) return;
    run(form, form === 'propose' ? { proposal: 'CLOSE', ...fields } : fields);
  };

  const buttons = actions.filter((a) => a !== 'tag' && a !== 'comment');
  const set = (k: keyof ActionFields) => (e: { target: { value: string } }) => setFields((f) => ({ ...f, [k]: e.target.value }));

  return (
    <section data-testid="workflow" data-status={brk.status} data-owner={brk.owner ?? ''} data-revision={brk.revision}>
      <h3>Workflow</h3>
      <dl className="kv">
        <dt>Status</dt>
        <dd data-testid="wf-status">{brk.status}</dd>
        <dt>Owner</dt>
        <dd data-testid="wf-owner">{brk.owner ?? <span className="muted">unassigned</span>}</dd>
        {brk.materiality !== null && (
          <>
            <dt>Materiality</dt>
            <dd className="num">{brk.materiality}</dd>
          </>
        )}
        {brk.close_reason !== null && (
          <>
            <dt>Close reason</dt>
            <dd data-testid="wf-close-reason">
              {brk.close_reason}
              {brk.close_note ? ` — ${brk.close_note}` : ''}
            </dd>
          </>
        )}
      </dl>
      {brk.proposal !== null && (
        <div className="proposal" data-testid="wf-proposal">
          <strong>Pending proposal:</strong> {brk.proposal.action === 'WRITE_OFF' ? `write off ${brk.proposal.amount ?? ''}` : 'close'} (
          {brk.proposal.reason}){brk.proposal.note ? ` — ${brk.proposal.note}` : ''}
          <div className="muted small">
            by {brk.proposal.by}
            {brk.proposal.at ? `, ${formatTimestamp(brk.proposal.at)} UTC` : ''} — awaiting an approver
          </div>
        </div>
      )}
      {buttons.length > 0 && (
        <div className="wf-buttons">
          {buttons.map((a) => (
            <button
              key={a}
              type="button"
              className="btn"
              data-testid={`wf-${a}`}
              disabled={busy}
              onClick={() => {
                setMsg(null);
                if (a === 'take' || a === 'release' || a === 'review') run(a);
                else {
                  setForm(form === a ? null : (a as Form));
                  setFields(a === 'propose' ? { proposal: 'CLOSE' } : {});
                }
              }}
            >
              {LABEL[a]}
            </button>
          ))}
        </div>
      )}
      {form !== null && (
        <form className="wf-form" onSubmit={submit} data-testid={`wf-form-${form}`}>
          {form === 'assign' && (
            <input placeholder="user name or team:<name>" value={fields.to ?? ''} onChange={set('to')} data-testid="wf-to" />
          )}
          {form === 'propose' && (
            <select value={fields.proposal ?? 'CLOSE'} onChange={(e) => setFields((f) => ({ ...f, proposal: e.target.value as ProposalAction }))} data-testid="wf-proposal-action">
              <option value="CLOSE">Close</option>
              <option value="WRITE_OFF">Write off</option>
            </select>
          )}
          {(form === 'close' || form === 'propose') && (
            <select value={fields.reason ?? ''} onChange={set('reason')} data-testid="wf-reason">
              <option value="">Reason…</option>
              {CLOSE_REASONS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
          {(form === 'reopen' || form === 'reject') && (
            <input placeholder="reason" value={fields.reason ?? ''} onChange={set('reason')} data-testid="wf-reason" />
          )}
          {form === 'propose' && fields.proposal === 'WRITE_OFF' && (
            <input placeholder="amount" inputMode="decimal" value={fields.amount ?? ''} onChange={set('amount')} data-testid="wf-amount" />
          )}
          {(form === 'close' || form === 'propose' || form === 'approve') && (
            <input placeholder="note (optional)" value={fields.note ?? ''} onChange={set('note')} data-testid="wf-note" />
          )}
          <button type="submit" className="btn primary" disabled={busy} data-testid="wf-submit">
            {form === 'approve' ? 'Approve' : form === 'reject' ? 'Reject' : form === 'propose' ? 'Propose' : form === 'close' ? 'Close break' : form === 'reopen' ? 'Reopen' : 'Assign'}
          </button>
          <button type="button" className="link" onClick={() => setForm(null)}>
            Cancel
          </button>
        </form>
      )}
      {pending && (
        <div className="action-msg" role="status" data-testid="wf-pending">
          Pending: waiting for the change to arrive…
        </div>
      )}
      {msg?.kind === 'error' && (
        <div className="action-msg err" role="alert" data-testid="wf-error">
          ! {msg.text}
        </div>
      )}
    </section>
  );
}
