// A break's comments (GET /api/breaks/{id}/comments, oldest first), read again whenever
// the break's revision changes (a new comment is a new revision over the stream), and a
// box to add one for users with the `comment` permission.

import { useEffect, useState, type FormEvent } from 'react';
import { ApiError } from './api';
import { formatTimestamp } from './format';
import { fetchComments, missingField, sendAction, type Comment } from './workflow';

interface Props {
  breakId: string;
  /** `${version}.${revision}`: a change reads the thread again */
  revision: string;
  mayComment: boolean;
}

export function CommentThread({ breakId, revision, mayComment }: Props) {
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);

  useEffect(() => {
    const ac = new AbortController();
    fetchComments(breakId, ac.signal).then(
      (list) => {
        setComments(list);
        setError(null);
      },
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => ac.abort();
  }, [breakId, revision]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const missing = missingField('comment', { text });
    if (missing) {
      setError(missing);
      return;
    }
    setBusy(true);
    sendAction(breakId, 'comment', { text }).then(
      () => {
        setBusy(false);
        setText('');
        setSent(revision);
        setError(null);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
      },
    );
  };

  return (
    <section data-testid="comments">
      <h3>Comments</h3>
      {comments === null && error === null && <p className="muted small">Loading…</p>}
      {comments !== null && comments.length === 0 && <p className="muted small">No comments yet.</p>}
      {comments !== null && comments.length > 0 && (
        <ol className="comments">
          {comments.map((c, i) => (
            <li key={`${c.revision}-${i}`} data-testid="comment">
              <div className="muted small">
                {c.by} · {c.at ? `${formatTimestamp(c.at)} UTC` : ''}
              </div>
              <div className="comment-text">{c.text}</div>
            </li>
          ))}
        </ol>
      )}
      {sent !== null && sent === revision && <p className="muted small" data-testid="comment-pending">Sending…</p>}
      {error !== null && (
        <div className="action-msg err" role="alert">
          ! {error}
        </div>
      )}
      {mayComment && (
        <form onSubmit={submit} className="comment-form">
          <textarea
            data-testid="comment-text"
            maxLength={4000}
            rows={2}
            placeholder="Add a comment…"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="btn" disabled={busy || text.trim() === ''} data-testid="comment-submit">
            Comment
          </button>
        </form>
      )}
    </section>
  );
}
