import { useCallback, useEffect, useMemo, useState } from 'react';
import { reconNames, selectBreaks, summarize, STATUS_FILTERS, type BreakFilter, type StatusFilter } from './breaks';
import { BreakGrid } from './BreakGrid';
import { DetailPanel } from './DetailPanel';
import { SummaryBar } from './SummaryBar';
import { useLiveBreaks, type Connection, type StreamNotice } from './useLiveBreaks';
import { readViewState, writeViewState } from './urlState';
import { CAUSE_LABEL } from './tags';

const CONNECTION_LABEL: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
};

const STATUS_LABEL: Record<StatusFilter, string> = { open: 'Open', resolved: 'Resolved', all: 'All' };

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

export function App() {
  const live = useLiveBreaks();
  const initial = useMemo(() => readViewState(window.location.search), []);
  const [filter, setFilter] = useState<BreakFilter>(initial.filter);
  const [search, setSearch] = useState(initial.search);
  const [selectedId, setSelectedId] = useState<string | null>(initial.selectedId);
  const [visible, setVisible] = useState(0);

  useEffect(() => {
    const qs = writeViewState({ filter, search, selectedId });
    if (qs !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${qs}`);
  }, [filter, search, selectedId]);

  const recons = useMemo(() => reconNames(live.index), [live.index]);
  const rows = useMemo(() => selectBreaks(live.index, filter), [live.index, filter]);
  const summary = useMemo(() => summarize(live.index, filter.recon), [live.index, filter.recon]);
  const selected = selectedId === null ? undefined : live.index.get(selectedId);
  const onVisibleCount = useCallback((n: number) => setVisible(n), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setSelectedId(null);
      if (e.key === '/' && !(e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        document.getElementById('quick-search')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const filtersActive = filter.recon !== null || filter.cause !== null || search !== '';

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ◆
          </span>
          <span className="brand-name">ReconWorkstation</span>
          <span className="brand-sub">greenai</span>
        </div>
        <LiveIndicator connection={live.connection} lastEventAt={live.lastEventAt} notice={live.notice} />
      </header>

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
              setFilter((f) => ({ ...f, recon: null, cause: null }));
              setSearch('');
            }}
          >
            Clear filters
          </button>
        )}
        <span className="count num" data-testid="row-count">
          {visible} of {live.index.size} breaks
        </span>
      </div>

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
        />
        {selected && <DetailPanel brk={selected} onClose={() => setSelectedId(null)} />}
      </main>
    </div>
  );
}
