// A break's tags, with add and remove for users who may tag (`label`).

import { useState, type FormEvent } from 'react';
import { ApiError } from './api';
import { sendAction } from './workflow';

export function TagEditor({ breakId, tags, mayTag }: { breakId: string; tags: string[]; mayTag: boolean }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);

  const send = (add: string[], remove: string[]) =>
    sendAction(breakId, 'tag', { add, remove }).then(
      () => setError(null),
      (err: unknown) => setError(err instanceof ApiError || err instanceof Error ? err.message : String(err)),
    );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const add = text.split(/[\s,]+/).filter((t) => t !== '' && !tags.includes(t));
    if (add.length === 0) return;
    setText('');
    void send(add, []);
  };

  return (
    <section data-testid="tags">
      <h3>Tags</h3>
      <div className="tag-list">
        {tags.length === 0 && <span className="muted small">No tags.</span>}
        {tags.map((t) => (
          <span key={t} className="pill" data-testid="tag">
            {t}
            {mayTag && (
              <button type="button" className="link" aria-label={`Remove tag ${t}`} onClick={() => void send([], [t])}>
                ×
              </button>
            )}
          </span>
        ))}
      </div>
      {mayTag && (
        <form onSubmit={submit}>
          <input data-testid="tag-input" placeholder="add tags…" value={text} onChange={(e) => setText(e.target.value)} />
        </form>
      )}
      {error !== null && (
        <div className="action-msg err" role="alert">
          ! {error}
        </div>
      )}
    </section>
  );
}
