// The ReconWorkstation: the session first (GET api/auth/me; the sign-in page while there
// is none, and again as soon as any call answers 401), then the workstation of the
// signed-in user — the top bar (pages, live indicator, the user), the blotter (summary,
// filters, saved views, exports, grid with a bulk action bar, detail panel), the recon
// overview (charts; loaded lazily with ECharts), the schedule, the audit page for users
// with the `audit` permission, or the approval queue for users with `approve`.

import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { Account } from './Account';
import { beginSession, fetchMe, onSessionEnded } from './api';
import { emptyAuditFilter, type AuditFilter } from './audit';
import { AuditPage } from './AuditPage';
import {
  ANY_OWNER,
  matchesOwner,
  ownerNames,
  reconNames,
  selectBreaks,
  summarize,
  STATUS_FILTERS,
  type BreakFilter,
  type OwnerFilter,
  type StatusFilter,
} from './breaks';
import { ApprovalQueue } from './ApprovalQueue';
import { exportCaveats, exportFileName, exportPath } from './exports';
import { Schedule } from './Schedule';
import { AGEING_BUCKETS, type AgeingBucket } from './types';
import { BulkBar } from './BulkBar';
import { bulkActions } from './workflow';
import { browserStore, loadViews, storeViews, withView, withoutView, type SavedView } from './savedViews';
import { BreakGrid } from './BreakGrid';
import { DetailPanel } from './DetailPanel';
import { can, signInErrorOf, withoutSignInError, type Me } from './session';
import { SignIn } from './SignIn';
import { SummaryBar } from './SummaryBar';
import { useLiveBreaks, type Connection, type StreamNotice } from './useLiveBreaks';
import { parseDays, readUrlState, writeUrlState, type Page } from './urlState';
import { CAUSE_LABEL } from './tags';

// The overview carries Apache ECharts: its own chunk, fetched when the page is first shown.
const Overview = lazy(() => import('./Overview'));

const CONNECTION_LABEL: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

const STATUS_LABEL: Record<StatusFilter, string> = {
  open: 'Open',
  in_review: 'In review',
  resolved: 'Resolved',
  closed: 'Closed',
  all: 'All',
};

interface LiveIndicatorProps {
  connection: Connection;
  lastEventAt: number | null;
  notice: StreamNotice | null;
}

// The connection state and how the stream came back are one polite live region (so a
// reconnect, a resume and a reload are announced); the time of the last update, which
// changes with every event, is left out of it.
function LiveIndicator({ connection, lastEventAt, notice }: LiveIndicatorProps) {
  return (
    <div
      className={`live live-${connection}`}
      data-testid="live-indicator"
      data-state={connection}
      data-notice={notice?.kind ?? ''}
    >
      <span className="live-dot" />
      <span className="live-status" role="status" aria-live="polite" aria-atomic="true">
        <span className="live-label">{CONNECTION_LABEL[connection]}</span>
        {notice !== null && (
          <span className={`live-note live-note-${notice.kind}`} data-testid="live-notice">
            {' — '}
            {notice.text}
          </span>
        )}
      </span>
      {lastEventAt !== null && (
        <span className="live-last num" title="time of the last live update">
          last update {new Date(lastEventAt).toLocaleTimeString([], { hour12: false })}
        </span>
      )}
    </div>
  );
}

type Auth =
  | { state: 'checking' }
  | { state: 'unavailable'; error: string }
  | { state: 'signed-out'; notice: string | null }
  | { state: 'signed-in'; me: Me; since: number };

/** The session: who is signed in, or the sign-in page. */
export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  const [attempt, setAttempt] = useState(0);
  // a single sign-on that failed comes back as /?sign_in_error=…: shown once
  const [ssoError] = useState(() => signInErrorOf(window.location.search));

  useEffect(() => {
    const { pathname, search, hash } = window.location;
    const clean = withoutSignInError(search);
    if (clean !== search) window.history.replaceState(null, '', `${pathname}${clean}${hash}`);
  }, []);

  useEffect(
    () =>
      onSessionEnded(() => {
        setAuth({ state: 'signed-out', notice: 'Your session has ended: sign in again.' });
      }),
    [],
  );

  useEffect(() => {
    const ctrl = new AbortController();
    fetchMe(ctrl.signal).then(
      (me) => {
        if (ctrl.signal.aborted) return;
        if (me === null) {
          setAuth({ state: 'signed-out', notice: null });
          return;
        }
        beginSession(me.csrf_token);
        setAuth({ state: 'signed-in', me, since: Date.now() });
      },
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setAuth({ state: 'unavailable', error: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => ctrl.abort();
  }, [attempt]);

  const signedIn = useCallback((me: Me) => {
    beginSession(me.csrf_token);
    setAuth({ state: 'signed-in', me, since: Date.now() });
  }, []);
  const signedOut = useCallback(() => setAuth({ state: 'signed-out', notice: 'You have signed out.' }), []);

  switch (auth.state) {
    case 'checking':
      return (
        <div className="boot" role="status" data-testid="boot">
          Checking your session…
        </div>
      );
    case 'unavailable':
      return (
        <div className="boot" data-testid="boot">
          <p role="alert">The ReconWorkstation cannot tell who you are: {auth.error}</p>
          <button type="button" className="btn" onClick={() => setAttempt((n) => n + 1)}>
            Retry
          </button>
        </div>
      );
    case 'signed-out':
      return <SignIn notice={auth.notice} ssoError={auth.notice === null ? ssoError : null} onSignedIn={signedIn} />;
    case 'signed-in':
      return <Workstation key={`${auth.me.username}@${auth.since}`} me={auth.me} onSignedOut={signedOut} />;
  }
}

/** A plain left click (not one that opens a new tab or window). */
const plainClick = (e: MouseEvent): boolean => e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;

function Workstation({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const live = useLiveBreaks();
  const mayAudit = can(me, 'audit');
  const mayApprove = can(me, 'approve');
  const initial = useMemo(() => readUrlState(window.location.search), []);
  const allowedPage = useCallback(
    (p: Page): Page =>
      p === 'overview' || p === 'schedule'
        ? p
        : p === 'audit' && mayAudit
          ? 'audit'
          : p === 'approvals' && mayApprove
            ? 'approvals'
            : 'breaks',
    [mayAudit, mayApprove],
  );
  const [page, setPage] = useState<Page>(() => allowedPage(initial.page));
  const [owner, setOwner] = useState<OwnerFilter>(ANY_OWNER);
  const [views, setViews] = useState<SavedView[]>(() => loadViews(browserStore()));
  const [checked, setChecked] = useState<ReadonlySet<string>>(() => new Set());
  const [filter, setFilter] = useState<BreakFilter>(initial.view.filter);
  const [search, setSearch] = useState(initial.view.search);
  const [selectedId, setSelectedId] = useState<string | null>(initial.view.selectedId);
  const [auditFilter, setAuditFilter] = useState<AuditFilter>(initial.audit);
  const [days, setDays] = useState(initial.days);
  const [visible, setVisible] = useState(0);
  // the page the URL was last written for: a change of page is a new history entry
  const urlPage = useRef<Page>(page);

  useEffect(() => {
    const qs = writeUrlState({ page, view: { filter, search, selectedId }, audit: auditFilter, days });
    const url = `${window.location.pathname}${qs}`;
    if (urlPage.current !== page) window.history.pushState(null, '', url);
    else if (qs !== window.location.search) window.history.replaceState(null, '', url);
    urlPage.current = page;
  }, [page, filter, search, selectedId, auditFilter, days]);

  // Back and forward between the pages (and the filters the URL held).
  useEffect(() => {
    const onPop = () => {
      const s = readUrlState(window.location.search);
      const next: Page = allowedPage(s.page);
      urlPage.current = next;
      setPage(next);
      if (next === 'audit') setAuditFilter(s.audit);
      else if (next === 'overview') setDays(s.days);
      else if (next === 'breaks') {
        setFilter(s.view.filter);
        setSearch(s.view.search);
        setSelectedId(s.view.selectedId);
      }
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [allowedPage]);

  const hrefOf = (p: Page): string =>
    `${window.location.pathname}${writeUrlState({ page: p, view: { filter, search, selectedId }, audit: auditFilter, days })}`;
  const navigate = (p: Page) => (e: MouseEvent) => {
    if (!plainClick(e)) return; // a new tab opens the page from its URL
    e.preventDefault();
    setPage(p);
  };

  const recons = useMemo(() => reconNames(live.index), [live.index]);
  const rows = useMemo(
    () => selectBreaks(live.index, filter).filter((b) => matchesOwner(b, owner, me.username)),
    [live.index, filter, owner, me.username],
  );
  const owners = useMemo(() => ownerNames(live.index), [live.index]);
  // the ticked rows that are still in the view (a filter change drops the others)
  const checkedIds = useMemo(() => rows.filter((b) => checked.has(b.break_id)).map((b) => b.break_id), [rows, checked]);
  const onCheck = useCallback((ids: string[], on: boolean) => {
    setChecked((prev) => {
      const next = new Set(prev);
      for (const id of ids) if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);
  const saveView = () => {
    const name = window.prompt('Name this view (its filters and search):')?.trim();
    if (!name) return;
    const next = withView(views, { name, filter, owner, search });
    setViews(next);
    storeViews(browserStore(), next);
  };
  const applyView = (name: string) => {
    const v = views.find((x) => x.name === name);
    if (!v) return;
    setFilter(v.filter);
    setOwner(v.owner);
    setSearch(v.search);
  };
  const deleteView = (name: string) => {
    const next = withoutView(views, name);
    setViews(next);
    storeViews(browserStore(), next);
  };
  const summary = useMemo(() => summarize(live.index, filter.recon), [live.index, filter.recon]);
  const selected = selectedId === null ? undefined : live.index.get(selectedId);
  const onVisibleCount = useCallback((n: number) => setVisible(n), []);
  const openAudit = useCallback((breakId: string) => {
    setAuditFilter({ ...emptyAuditFilter, break_id: breakId });
    setPage('audit');
  }, []);
  const openBreak = useCallback((breakId: string) => {
    setSelectedId(breakId);
    setPage('breaks');
  }, []);

  useEffect(() => {
    if (page !== 'breaks') return;
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return; // a dialog has the keyboard
      if (e.key === 'Escape') setSelectedId(null);
      if (e.key === '/' && !(e.target instanceof HTMLInputElement) && !(e.target instanceof HTMLTextAreaElement)) {
        e.preventDefault();
        document.getElementById('quick-search')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [page]);

  const filtersActive =
    filter.recon !== null || filter.cause !== null || filter.bucket !== null || filter.overdue || search !== '' || owner.kind !== 'any';
  const caveats = exportCaveats(filter, search);
  const navLink = (p: Page, label: string) => (
    <a href={hrefOf(p)} aria-current={page === p ? 'page' : undefined} onClick={navigate(p)} data-testid={`nav-${p}`}>
      {label}
    </a>
  );

  return (
    <div className="app" data-page={page}>
      <header className="topbar">
        <div className="topbar-left">
          <div className="brand">
            <span className="brand-mark" aria-hidden>
              ◆
            </span>
            <span className="brand-name">ReconWorkstation</span>
            <span className="brand-sub">greenai</span>
          </div>
          <nav className="topnav" aria-label="Pages">
            {navLink('breaks', 'Breaks')}
            {navLink('overview', 'Overview')}
            {mayApprove && navLink('approvals', 'Approvals')}
            {navLink('schedule', 'Schedule')}
            {mayAudit && navLink('audit', 'Audit')}
          </nav>
        </div>
        <div className="topbar-right">
          <LiveIndicator connection={live.connection} lastEventAt={live.lastEventAt} notice={live.notice} />
          <Account me={me} onSignedOut={onSignedOut} />
        </div>
      </header>

      {page === 'audit' ? (
        <AuditPage filter={auditFilter} onFilter={setAuditFilter} onOpenBreak={openBreak} recons={recons} />
      ) : page === 'approvals' ? (
        <ApprovalQueue me={me} liveStamp={live.index} onOpenBreak={openBreak} />
      ) : page === 'overview' ? (
        <Suspense
          fallback={
            <main className="overview" data-testid="overview-loading">
              <p className="muted overview-note" role="status">
                Loading the overview…
              </p>
            </main>
          }
        >
          <Overview days={days} onDays={(n) => setDays(parseDays(String(n)))} onOpenBreak={openBreak} />
        </Suspense>
      ) : page === 'schedule' ? (
        <Schedule me={me} />
      ) : (
        blotter()
      )}
    </div>
  );

  // The blotter page. A render function over the state above, not a component: a
  // component defined here would be a new type on every render, remounting the grid.
  function blotter() {
    return (
      <>
          {live.error !== null && (
            <div className="banner" role="alert">
              {live.error} — retrying.
            </div>
          )}

          {live.truncated !== null && (
            <div className="banner banner-warn" role="status" aria-live="polite" data-testid="snapshot-truncated">
              Only the newest {live.truncated.breaks.toLocaleString('en-US')} breaks are loaded: the snapshot stops after{' '}
              {live.truncated.pages} pages. Older breaks are not shown; live changes still arrive.
            </div>
          )}

          <SummaryBar
            summary={summary}
            scope={filter.recon ?? 'all recons'}
            overdueOnly={filter.overdue}
            onOverdue={(on) => setFilter((f) => ({ ...f, overdue: on, status: on && (f.status === 'resolved' || f.status === 'closed') ? 'open' : f.status }))}
            cause={filter.cause}
            onCause={(cause) => setFilter((f) => ({ ...f, cause, status: cause !== null && f.status === 'resolved' ? 'open' : f.status }))}
          />

          <div className="toolbar">
            <div className="seg" role="radiogroup" aria-label="Status" data-testid="status-filter">
              {STATUS_FILTERS.map((s) => (
                <button
                  key={s}
                  type="button"
                  role="radio"
                  aria-checked={filter.status === s}
                  className={filter.status === s ? 'on' : ''}
                  data-status={s}
                  onClick={() => setFilter((f) => ({ ...f, status: s }))}
                >
                  {STATUS_LABEL[s]}
                </button>
              ))}
            </div>
            <label className="field">
              <span>Recon</span>
              <select
                data-testid="recon-filter"
                value={filter.recon ?? ''}
                onChange={(e) => setFilter((f) => ({ ...f, recon: e.target.value === '' ? null : e.target.value }))}
              >
                <option value="">All recons</option>
                {recons.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
                {filter.recon !== null && !recons.includes(filter.recon) && <option value={filter.recon}>{filter.recon}</option>}
              </select>
            </label>
            <label className="field">
              <span>Owner</span>
              <select
                data-testid="owner-filter"
                value={owner.kind === 'owner' ? `=${owner.owner}` : owner.kind}
                onChange={(e) => {
                  const v = e.target.value;
                  setOwner(v.startsWith('=') ? { kind: 'owner', owner: v.slice(1) } : v === 'mine' || v === 'unassigned' ? { kind: v } : ANY_OWNER);
                }}
              >
                <option value="any">Anyone</option>
                <option value="mine">Mine</option>
                <option value="unassigned">Unassigned</option>
                {owners.map((o) => (
                  <option key={o} value={`=${o}`}>
                    {o}
                  </option>
                ))}
                {owner.kind === 'owner' && !owners.includes(owner.owner) && <option value={`=${owner.owner}`}>{owner.owner}</option>}
              </select>
            </label>
            <label className="field">
              <span>Age</span>
              <select
                data-testid="bucket-filter"
                value={filter.bucket ?? ''}
                onChange={(e) => setFilter((f) => ({ ...f, bucket: e.target.value === '' ? null : (e.target.value as AgeingBucket) }))}
              >
                <option value="">Any age</option>
                {AGEING_BUCKETS.map((b) => (
                  <option key={b} value={b}>
                    {b} business days
                  </option>
                ))}
              </select>
            </label>
            <label className="field check">
              <input
                type="checkbox"
                data-testid="overdue-filter"
                checked={filter.overdue}
                onChange={(e) => setFilter((f) => ({ ...f, overdue: e.target.checked }))}
              />
              <span>Overdue only</span>
            </label>
            <label className="field">
              <span>View</span>
              <select data-testid="saved-views" value="" onChange={(e) => applyView(e.target.value)}>
                <option value="">{views.length === 0 ? 'No saved views' : 'Saved views…'}</option>
                {views.map((v) => (
                  <option key={v.name} value={v.name}>
                    {v.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="link" onClick={saveView} data-testid="save-view" title="Save the current filters as a named view">
              Save view
            </button>
            {views.length > 0 && (
              <select
                className="link"
                data-testid="delete-view"
                value=""
                aria-label="Delete a saved view"
                onChange={(e) => e.target.value && deleteView(e.target.value)}
              >
                <option value="">Delete view…</option>
                {views.map((v) => (
                  <option key={v.name} value={v.name}>
                    {v.name}
                  </option>
                ))}
              </select>
            )}
            {filter.cause !== null && (
              <button type="button" className="pill" onClick={() => setFilter((f) => ({ ...f, cause: null }))} title="Clear cause filter">
                Cause: {CAUSE_LABEL[filter.cause]} ×
              </button>
            )}
            <input
              id="quick-search"
              data-testid="quick-search"
              className="search"
              type="search"
              placeholder="Search key, field, value, cause…  ( / )"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            {filtersActive && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  setFilter((f) => ({ ...f, recon: null, cause: null, bucket: null, overdue: false }));
                  setOwner(ANY_OWNER);
                  setSearch('');
                }}
              >
                Clear filters
              </button>
            )}
            <span className="count num" data-testid="row-count">
              {visible} of {live.index.size} breaks
            </span>
            <span className="exports" role="group" aria-label="Export this view">
              <span className="exports-label">Export</span>
              {(['csv', 'xlsx'] as const).map((format) => (
                <a
                  key={format}
                  className="btn"
                  href={exportPath(format, filter, owner)}
                  download={exportFileName(format, filter)}
                  data-testid={`export-${format}`}
                  title={`Download the breaks of this view as ${format.toUpperCase()} (every stored break that matches, not only those loaded)${
                    caveats.length > 0 ? ` — without ${caveats.join(' and ')}` : ''
                  }`}
                >
                  {format.toUpperCase()}
                </a>
              ))}
              {caveats.length > 0 && (
                <span className="muted small" data-testid="export-caveat">
                  (without {caveats.join(' and ')})
                </span>
              )}
            </span>
          </div>

          <BulkBar me={me} ids={checkedIds} onClear={() => setChecked(new Set())} />

          <main className={`workspace${selected ? ' with-detail' : ''}`}>
            <BreakGrid
              breaks={rows}
              search={search}
              selectedId={selectedId}
              onSelect={setSelectedId}
              changedAt={live.changedAt}
              loaded={live.loaded}
              live={live.connection === 'live'}
              synced={live.synced}
              onVisibleCount={onVisibleCount}
              checked={checked}
              onCheck={bulkActions(me).length > 0 ? onCheck : undefined}
            />
            {selected && (
              <DetailPanel brk={selected} me={me} onClose={() => setSelectedId(null)} onOpenAudit={mayAudit ? openAudit : undefined} />
            )}
          </main>
        </>
    );
  }
}
