// The bulk action bar over the ticked rows: take, assign, label, close, propose close.
// One request for the whole selection (POST /api/breaks/actions, all or nothing; labels:
// POST /api/breaks/labels); a refusal shows the BFF's one-line reason.

import { useState, type FormEvent } from 'react';
import { ApiError } from './api';
import { CAUSE_LABEL } from './format';
import type { Me } from './session';
import { CAUSES, type Cause } from './types';
import { bulkActions, CLOSE_REASONS, missingField, needsApproval, sendBulkAction, sendBulkLabel, type ActionFields } from './workflow';

type Form = null | 'assign' | 'label' | 'close' | 'propose';

interface Props {
  me: Me;
  ids: string[];
  onClear: () => void;
}

export function BulkBar({ me, ids, onClear }: Props) {
  const actions = bulkActions(me);
  const [form, setForm] = useState<Form>(null);
  const [fields, setFields] = useState<ActionFields>({});
  const [cause, setCause] = useState<Cause | ''>('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  if (actions.length === 0) return null;
  if (ids.length === 0) {
    // nothing ticked: only the outcome of the last bulk action, until dismissed
    return msg === null ? null : (
      <div className="bulk-bar" data-testid="bulk-bar">
        <span className={`action-msg block ${msg.kind === 'ok' ? 'ok' : 'err'}`} role={msg.kind === 'ok' ? 'status' : 'alert'} data-testid="bulk-msg">
          {msg.text}
        </span>
        <button type="button" className="link" onClick={() => setMsg(null)}>
          Dismiss
        </button>
      </div>
    );
  }

  const done = (text: string) => {
    setBusy(false);
    setForm(null);
    setFields({});
    setMsg({ kind: 'ok', text });
    onClear();
  };
  const failed = (err: unknown) => {
    setBusy(false);
    const text = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    setMsg({ kind: 'error', text: needsApproval(err) ? `${text} — propose instead` : text });
  };

  const run = (action: 'take' | 'assign' | 'close' | 'propose', f: ActionFields) => {
    const missing = missingField(action, f);
    if (missing) return setMsg({ kind: 'error', text: missing });
    setBusy(true);
    setMsg(null);
    sendBulkAction(ids, action, f).then((acc) => done(`${action}: ${acc.length} accepted; changes arrive live`), failed);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form === 'label') {
      if (cause === '') return setMsg({ kind: 'error', text: 'Pick a cause.' });
      setBusy(true);
      sendBulkLabel(ids, cause).then(() => done(`labelled ${ids.length} as ${CAUSE_LABEL[cause]}`), failed);
    } else if (form === 'propose') run('propose', { ...fields, proposal: 'CLOSE' });
    else if (form !== null) run(form, fields);
  };

  const set = (k: keyof ActionFields) => (e: { target: { value: string } }) => setFields((f) => ({ ...f, [k]: e.target.value }));
  const toggle = (f: Form) => {
    setMsg(null);
    setForm(form === f ? null : f);
  };

  return (
    <div className="bulk-bar" data-testid="bulk-bar" role="toolbar" aria-label="Bulk actions">
      <strong className="num">{ids.length} selected</strong>
      {actions.includes('take') && (
        <button type="button" className="btn" disabled={busy} onClick={() => run('take', {})} data-testid="bulk-take">
          Take
        </button>
      )}
      {actions.includes('assign') && (
        <button type="button" className="btn" disabled={busy} onClick={() => toggle('assign')} data-testid="bulk-assign">
          Assign…
        </button>
      )}
      {actions.includes('label') && (
        <button type="button" className="btn" disabled={busy} onClick={() => toggle('label')} data-testid="bulk-label">
          Label…
        </button>
      )}
      {actions.includes('close') && (
        <button type="button" className="btn" disabled={busy} onClick={() => toggle('close')} data-testid="bulk-close">
          Close…
        </button>
      )}
      {actions.includes('propose') && (
        <button type="button" className="btn" disabled={busy} onClick={() => toggle('propose')} data-testid="bulk-propose">
          Propose close…
        </button>
      )}
      {form !== null && (
        <form className="wf-form" onSubmit={submit} data-testid={`bulk-form-${form}`}>
          {form === 'assign' && <input placeholder="user name or team:<name>" value={fields.to ?? ''} onChange={set('to')} data-testid="bulk-to" />}
          {form === 'label' && (
            <select value={cause} onChange={(e) => setCause(e.target.value as Cause | '')} data-testid="bulk-cause">
              <option value="">Cause…</option>
              {CAUSES.map((c) => (
                <option key={c} value={c}>
                  {CAUSE_LABEL[c]}
                </option>
              ))}
            </select>
          )}
          {(form === 'close' || form === 'propose') && (
            <>
              <select value={fields.reason ?? ''} onChange={set('reason')} data-testid="bulk-reason">
                <option value="">Reason…</option>
                {CLOSE_REASONS.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <input placeholder="note (optional)" value={fields.note ?? ''} onChange={set('note')} data-testid="bulk-note" />
            </>
          )}
          <button type="submit" className="btn primary" disabled={busy} data-testid="bulk-submit">
            Apply to {ids.length}
          </button>
        </form>
      )}
      <button type="button" className="link" onClick={onClear}>
        Clear selection
      </button>
      {msg !== null && (
        <span className={`action-msg block ${msg.kind === 'ok' ? 'ok' : 'err'}`} role={msg.kind === 'ok' ? 'status' : 'alert'} data-testid="bulk-msg">
          {msg.text}
        </span>
      )}
    </div>
  );
}
