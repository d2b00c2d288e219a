// The audit page (users with the `audit` permission): the trail of GET /api/audit in seq
// order, filtered by time range (UTC), user, recon and break; "Load more" fetches the next
// page after the last seq; the exports download the same filters as CSV or JSON Lines
// (plain links: the cookie authenticates a GET); "Verify chain" walks the hash chain.
// The applied filters live in the URL (urlState.ts); the form holds a draft until Apply.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { fetchAuditPage, verifyAudit } from './api';
import {
  actionLabel,
  actorText,
  atText,
  auditExportPath,
  auditFilterProblem,
  changeText,
  describeVerified,
  emptyAuditFilter,
  hoursAgo,
  nextAfter,
  sameAuditFilter,
  toTimeInput,
  whereText,
  type AuditEntry,
  type AuditFilter,
  type Verified,
} from './audit';

interface Props {
  filter: AuditFilter;
  onFilter: (f: AuditFilter) => void;
  /** show a break in the blotter's detail panel */
  onOpenBreak: (breakId: string) => void;
  /** recon names for the recon field's suggestions */
  recons: string[];
}

interface Listing {
  entries: AuditEntry[];
  /** the seq to fetch the next page after; null: no more */
  next: number | null;
  loading: 'first' | 'more' | null;
  error: string | null;
}

type Verify = { state: 'idle' } | { state: 'busy' } | { state: 'done'; result: Verified } | { state: 'error'; text: string };

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';

const draftOf = (f: AuditFilter): AuditFilter => ({ ...f, since: toTimeInput(f.since), until: toTimeInput(f.until) });

export function AuditPage({ filter, onFilter, onOpenBreak, recons }: Props) {
  const [draft, setDraft] = useState<AuditFilter>(() => draftOf(filter));
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [listing, setListing] = useState<Listing>({ entries: [], next: null, loading: 'first', error: null });
  const [reload, setReload] = useState(0);
  const [verify, setVerify] = useState<Verify>({ state: 'idle' });
  const more = useRef<AbortController | null>(null);
  const problem = auditFilterProblem(filter);

  // The applied filters changed (Apply, Clear, the URL): the form shows them.
  const applied = useRef(filter);
  useEffect(() => {
    if (!sameAuditFilter(applied.current, filter)) setDraft(draftOf(filter));
    applied.current = filter;
  }, [filter]);

  const key = JSON.stringify(filter);
  useEffect(() => {
    more.current?.abort();
    if (problem !== null) {
      setListing({ entries: [], next: null, loading: null, error: null });
      return;
    }
    const ctrl = new AbortController();
    setListing((l) => ({ ...l, loading: 'first', error: null }));
    fetchAuditPage(filter, 0, ctrl.signal).then(
      (page) => {
        if (!ctrl.signal.aborted) setListing({ entries: page, next: nextAfter(page), loading: null, error: null });
      },
      (err: unknown) => {
        if (ctrl.signal.aborted || isAbort(err)) return;
        setListing({ entries: [], next: null, loading: null, error: message(err) });
      },
    );
    return () => ctrl.abort();
    // `key` stands for `filter`: a new object with the same filters loads nothing new
  }, [key, reload, problem]);

  const loadMore = () => {
    if (listing.next === null || listing.loading !== null) return;
    const after = listing.next;
    const ctrl = new AbortController();
    more.current = ctrl;
    setListing((l) => ({ ...l, loading: 'more', error: null }));
    fetchAuditPage(filter, after, ctrl.signal).then(
      (page) => {
        if (ctrl.signal.aborted) return;
        setListing((l) => {
          const last = l.entries[l.entries.length - 1]?.seq ?? 0;
          return { entries: [...l.entries, ...page.filter((e) => e.seq > last)], next: nextAfter(page), loading: null, error: null };
        });
      },
      (err: unknown) => {
        if (ctrl.signal.aborted || isAbort(err)) return;
        setListing((l) => ({ ...l, loading: null, error: message(err) }));
      },
    );
  };

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const p = auditFilterProblem(draft);
    setFormProblem(p);
    if (p !== null) return;
    if (sameAuditFilter(draft, filter)) setReload((n) => n + 1);
    else onFilter({ ...draft });
  };

  const clear = () => {
    setFormProblem(null);
    setDraft({ ...emptyAuditFilter });
    onFilter({ ...emptyAuditFilter });
  };

  const runVerify = () => {
    setVerify({ state: 'busy' });
    verifyAudit().then(
      (result) => setVerify({ state: 'done', result }),
      (err: unknown) => setVerify({ state: 'error', text: message(err) }),
    );
  };

  const set = (k: keyof AuditFilter) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const preset = (hours: number) => {
    setFormProblem(null);
    setDraft((d) => ({ ...d, since: hoursAgo(hours, Date.now()), until: '' }));
  };

  const { entries, next, loading, error } = listing;
  const shownProblem = formProblem ?? problem;

  return (
    <main className="audit-page" data-testid="audit-page" aria-labelledby="audit-title">
      <div className="audit-head">
        <h1 id="audit-title">Audit trail</h1>
        <div className="audit-tools">
          <a className="btn" href={auditExportPath(filter, 'csv')} download data-testid="export-csv" title="Download the filtered trail as CSV">
            Export CSV
          </a>
          <a
            className="btn"
            href={auditExportPath(filter, 'jsonl')}
            download
            data-testid="export-jsonl"
            title="Download the filtered trail as JSON Lines"
          >
            Export JSON Lines
          </a>
          <button type="button" className="btn" onClick={runVerify} disabled={verify.state === 'busy'} data-testid="verify-chain">
            {verify.state === 'busy' ? 'Verifying…' : 'Verify chain'}
          </button>
        </div>
      </div>

      <div className="verify-line" aria-live="polite">
        {verify.state === 'done' && (
          <p
            className={`action-msg block ${verify.result.intact ? 'ok' : 'err'}`}
            role={verify.result.intact ? 'status' : 'alert'}
            data-testid="verify-result"
            data-intact={verify.result.intact}
          >
            <span aria-hidden>{verify.result.intact ? '✓' : '✗'}</span> {describeVerified(verify.result)}
          </p>
        )}
        {verify.state === 'error' && (
          <p className="action-msg block err" role="alert" data-testid="verify-result" data-intact="unknown">
            <span aria-hidden>!</span> Could not verify: {verify.text}
          </p>
        )}
      </div>

      <form className="audit-filters" role="search" aria-label="Audit filters" onSubmit={apply} data-testid="audit-filters" noValidate>
        <label className="af">
          <span>From (UTC)</span>
          <input type="datetime-local" value={draft.since} onChange={set('since')} data-testid="audit-since" />
        </label>
        <label className="af">
          <span>To (UTC)</span>
          <input type="datetime-local" value={draft.until} onChange={set('until')} data-testid="audit-until" />
        </label>
        <div className="af-presets" role="group" aria-label="Time range presets">
          <button type="button" className="link" onClick={() => preset(1)}>
            last hour
          </button>
          <button type="button" className="link" onClick={() => preset(24)}>
            24 h
          </button>
          <button type="button" className="link" onClick={() => preset(24 * 7)}>
            7 days
          </button>
        </div>
        <label className="af">
          <span>User</span>
          <input type="text" value={draft.actor} onChange={set('actor')} maxLength={200} placeholder="username" spellCheck={false} data-testid="audit-actor" />
        </label>
        <label className="af">
          <span>Recon</span>
          <input type="text" value={draft.recon} onChange={set('recon')} maxLength={200} list="audit-recons" spellCheck={false} data-testid="audit-recon" />
          <datalist id="audit-recons">
            {recons.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </label>
        <label className="af">
          <span>Break id</span>
          <input type="text" value={draft.break_id} onChange={set('break_id')} maxLength={200} spellCheck={false} className="mono" data-testid="audit-break" />
        </label>
        <button type="submit" className="btn primary" data-testid="audit-apply">
          Apply
        </button>
        <button type="button" className="link" onClick={clear}>
          Clear
        </button>
      </form>
      {shownProblem !== null && (
        <div className="banner" role="alert" data-testid="audit-problem">
          {shownProblem}
        </div>
      )}

      <div className="audit-status" role="status" aria-live="polite" data-testid="audit-count" data-count={entries.length} data-more={next !== null}>
        {loading === 'first'
          ? 'Loading…'
          : `${entries.length.toLocaleString('en-US')} ${entries.length === 1 ? 'entry' : 'entries'}${next !== null ? ' shown, more available' : ''}`}
        {loading === null && (
          <button type="button" className="link audit-refresh" onClick={() => setReload((n) => n + 1)}>
            Refresh
          </button>
        )}
      </div>
      {error !== null && (
        <div className="action-msg err block audit-error" role="alert" data-testid="audit-error">
          <span aria-hidden>!</span> {error}
        </div>
      )}

      <div className="audit-scroll">
        <table className="audit-table" data-testid="audit-table" data-loaded={loading !== 'first'}>
          <caption className="sr-only">Audit entries, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Seq</th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Recon</th>
              <th scope="col">Before → after</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-seq={e.seq} data-action={e.action} data-actor={e.actor} className={e.action.endsWith('_failed') ? 'audit-failed' : undefined}>
                <td className="num muted">{e.seq}</td>
                <td className="num mono nowrap">
                  <time dateTime={e.at} title={e.at}>
                    {atText(e).replace(/ UTC$/, '')}
                  </time>
                </td>
                <td>{actorText(e)}</td>
                <td title={e.action}>
                  {actionLabel(e.action)} <span className="mono muted small">{e.action}</span>
                </td>
                <td className="mono">
                  {e.target_type === 'break' && e.target_id !== '' ? (
                    <button type="button" className="link mono" onClick={() => onOpenBreak(e.target_id)} title="Show this break in the blotter">
                      {e.target_id}
                    </button>
                  ) : (
                    [e.target_type, e.target_id].filter(Boolean).join(' ') || <span className="muted">—</span>
                  )}
                </td>
                <td>{e.recon ?? <span className="muted">—</span>}</td>
                <td className="mono audit-change">{changeText(e) || <span className="muted">—</span>}</td>
                <td className="muted" title={`${e.user_agent}${e.request_id ? ` · request ${e.request_id}` : ''}`}>
                  {whereText(e) || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading === null && entries.length === 0 && error === null && problem === null && (
          <p className="empty" data-testid="audit-empty">
            No entries match these filters.
          </p>
        )}
        {next !== null && (
          <div className="audit-more">
            <button type="button" className="btn" onClick={loadMore} disabled={loading !== null} data-testid="audit-more">
              {loading === 'more' ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </div>
    </main>
  );
}
