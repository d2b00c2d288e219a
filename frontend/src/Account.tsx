// The signed-in user in the top bar: their name and roles, "Change password" (a modal
// dialog, for local accounts) and "Sign out".

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, changePassword, signOut } from './api';
import { displayName, rolesText, type Me } from './session';

const message = (err: unknown): string => {
  const text = err instanceof Error ? err.message : String(err);
  return text.charAt(0).toUpperCase() + text.slice(1); // the BFF's one-line reasons start in lower case
};

function ChangePassword({ me, onClose }: { me: Me; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    // modal: focus stays inside, Esc closes; unmounting removes (and so closes) it
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (current === '' || next === '') return setError('Enter your current password and a new one.');
    if (next !== again) return setError('The new password and its confirmation differ.');
    setBusy(true);
    setError(null);
    changePassword(current, next).then(
      () => {
        setBusy(false);
        setDone(true);
        setCurrent('');
        setNext('');
        setAgain('');
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError && err.status === 403 ? `Not changed: ${err.message}` : message(err));
      },
    );
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="pw-title" onClose={onClose} data-testid="password-dialog">
      <form onSubmit={submit} noValidate>
        <h2 id="pw-title">Change password</h2>
        <p className="muted small">
          For {me.username}. At least 8 characters; not a common password, not your username.
        </p>
        {/* lets a password manager tie the new password to the account */}
        <input type="text" name="username" autoComplete="username" value={me.username} readOnly hidden />
        <label htmlFor="pw-current">Current password</label>
        <input id="pw-current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} autoFocus />
        <label htmlFor="pw-new">New password</label>
        <input id="pw-new" type="password" autoComplete="new-password" minLength={8} maxLength={128} value={next} onChange={(e) => setNext(e.target.value)} />
        <label htmlFor="pw-again">New password again</label>
        <input id="pw-again" type="password" autoComplete="new-password" maxLength={128} value={again} onChange={(e) => setAgain(e.target.value)} />
        <p className="dialog-error" role="alert" data-testid="password-error">
          {error}
        </p>
        {done && (
          <p className="dialog-ok" role="status" data-testid="password-done">
            Password changed.
          </p>
        )}
        <div className="dialog-buttons">
          <button type="button" className="btn" onClick={() => ref.current?.close()}>
            {done ? 'Close' : 'Cancel'}
          </button>
          <button type="submit" className="btn primary" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Account({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const [changing, setChanging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const changeRef = useRef<HTMLButtonElement>(null);

  const out = () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    signOut().then(onSignedOut, (err: unknown) => {
      setBusy(false);
      setError(`Sign-out failed: ${message(err)}`);
    });
  };

  return (
    <div className="account" data-testid="account" data-username={me.username} data-roles={me.roles.join(' ')}>
      <span className="account-who" title={`${me.username}${me.recons === null ? '' : ` · recons: ${me.recons.join(', ') || 'none'}`}`}>
        <span className="account-name" data-testid="account-name">
          {displayName(me)}
        </span>
        <span className="account-roles" data-testid="account-roles">
          <span className="sr-only">roles: </span>
          {rolesText(me)}
        </span>
      </span>
      {me.via === 'session' && (
        <button type="button" className="topbar-btn" ref={changeRef} onClick={() => setChanging(true)} data-testid="change-password">
          Change password
        </button>
      )}
      <button type="button" className="topbar-btn" onClick={out} disabled={busy} data-testid="sign-out">
        {busy ? 'Signing out…' : 'Sign out'}
      </button>
      {error !== null && (
        <span className="account-error" role="alert">
          {error}
        </span>
      )}
      {changing && (
        <ChangePassword
          me={me}
          onClose={() => {
            setChanging(false);
            changeRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}
