// The sign-in page, shown whenever GET api/auth/me says 401: a username and password form
// and, when the BFF offers it, single sign-on (the browser goes to the provider and comes
// back to `/`, or to `/?sign_in_error=…`). The session is an HttpOnly cookie the BFF sets:
// nothing is stored here.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { apiUrl, fetchSignInMethods, signIn } from './api';
import { DEFAULT_METHODS, type Me, type SignInMethods } from './session';

interface Props {
  /** why the sign-in page is shown (the session ended, signed out), if it was not the start */
  notice: string | null;
  /** a single sign-on failure the BFF reported in the URL */
  ssoError: string | null;
  onSignedIn: (me: Me) => void;
}

/** The BFF's one-line reasons start in lower case. */
const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function SignIn({ notice, ssoError, onSignedIn }: Props) {
  const [methods, setMethods] = useState<SignInMethods>(DEFAULT_METHODS);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(ssoError === null ? null : capitalized(ssoError));
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    fetchSignInMethods(ctrl.signal).then(
      (m) => {
        if (!ctrl.signal.aborted) setMethods(m);
      },
      () => {},
    );
    return () => ctrl.abort();
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (username.trim() === '' || password === '') {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(null);
    signIn(username.trim(), password).then(onSignedIn, (err: unknown) => {
      setBusy(false);
      setPassword('');
      // 401 (wrong credentials, locked: one line for both), 429 (too many attempts), …
      setError(capitalized(err instanceof Error ? err.message : String(err)));
      passwordRef.current?.focus();
    });
  };

  const sso = methods.sso;

  return (
    <main className="signin-page" data-testid="sign-in">
      <div className="signin-card">
        <div className="brand signin-brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>
          <span className="brand-name">ReconWorkstation</span>
          <span className="brand-sub">greenai</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        {notice !== null && (
          <p className="signin-notice" role="status" data-testid="sign-in-notice">
            {notice}
          </p>
        )}
        {methods.password && (
          <form className="signin-form" onSubmit={submit} aria-labelledby="signin-title" data-testid="sign-in-form" noValidate>
            <label htmlFor="signin-username">Username</label>
            <input
              id="signin-username"
              name="username"
              data-testid="sign-in-username"
              type="text"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              autoFocus
              required
              maxLength={200}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              aria-invalid={error !== null && username.trim() === '' ? true : undefined}
            />
            <label htmlFor="signin-password">Password</label>
            <input
              id="signin-password"
              name="password"
              data-testid="sign-in-password"
              ref={passwordRef}
              type="password"
              autoComplete="current-password"
              required
              maxLength={1024}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="btn primary signin-submit" data-testid="sign-in-submit" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
        <p className="signin-error" role="alert" data-testid="sign-in-error">
          {error}
        </p>
        {sso !== null && (
          <>
            {methods.password && <div className="signin-or">or</div>}
            <button
              type="button"
              className="btn signin-sso"
              data-testid="sign-in-sso"
              onClick={() => window.location.assign(apiUrl(sso.url))}
            >
              {sso.label}
            </button>
          </>
        )}
      </div>
    </main>
  );
}
