// The recon overview (?view=overview&days=N): per recon, today's match and auto-close
// rates, open and overdue counts, four charts (match-rate trend, breaks opened / resolved /
// closed per day, open breaks by ageing bucket and by cause), the SLA breaches (overdue
// open breaks: a click opens one in the blotter) and the end-of-day report.
//
// Loaded lazily by App.tsx (React.lazy): this module and EChart.tsx carry Apache ECharts,
// which the blotter's first load never downloads. Statistics are read again every minute
// and on Refresh.

import { useEffect, useId, useMemo, useState } from 'react';
import { EChart } from './EChart';
import { eodReportPath, isIsoDate } from './exports';
import { CAUSE_LABEL, formatAgeDays, formatKey, formatRate, formatTimestamp } from './format';
import {
  ageingOption,
  causeOption,
  DAY_CHOICES,
  fetchSlaBreaches,
  fetchStats,
  flowOption,
  headline,
  matchRateOption,
  SLA_LIMIT,
  type ReconStats,
  type Stats,
} from './stats';
import type { Break } from './types';

export const OVERVIEW_REFRESH_MS = 60_000;

interface Props {
  days: number;
  onDays: (days: number) => void;
  onOpenBreak: (breakId: string) => void;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const aborted = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';
const todayUtc = (): string => new Date().toISOString().slice(0, 10);

export default function Overview({ days, onDays, onOpenBreak }: Props) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    const read = () =>
      fetchStats(days, ctrl.signal).then(
        (s) => {
          setStats(s);
          setError(null);
          setLoadedAt(Date.now());
        },
        (err: unknown) => {
          if (!aborted(err)) setError(messageOf(err));
        },
      );
    void read();
    const timer = setInterval(() => {
      if (!document.hidden) void read();
    }, OVERVIEW_REFRESH_MS);
    return () => {
      clearInterval(timer);
      ctrl.abort();
    };
  }, [days, reload]);

  const choices = DAY_CHOICES.includes(days) ? DAY_CHOICES : [...DAY_CHOICES, days].sort((a, b) => a - b);

  return (
    <main className="overview" data-testid="overview" data-days={days} data-loaded={stats !== null} aria-busy={stats === null && error === null}>
      <div className="overview-head">
        <h2>Recon overview</h2>
        <label className="field">
          <span>Window</span>
          <select data-testid="overview-days" value={days} onChange={(e) => onDays(Number(e.target.value))}>
            {choices.map((n) => (
              <option key={n} value={n}>
                last {n} days
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={() => setReload((n) => n + 1)} data-testid="overview-refresh">
          Refresh
        </button>
        {loadedAt !== null && (
          <span className="muted small num" data-testid="overview-as-of">
            as of {new Date(loadedAt).toLocaleTimeString([], { hour12: false })}
          </span>
        )}
      </div>
      {error !== null && (
        <div className="banner" role="alert" data-testid="overview-error">
          {error}
        </div>
      )}
      {stats === null && error === null && <p className="muted overview-note">Loading statistics…</p>}
      {stats !== null && stats.recons.length === 0 && (
        <p className="muted overview-note" data-testid="overview-empty">
          No recon statistics yet: they appear once a recon has seen records.
        </p>
      )}
      {stats?.recons.map((r) => <ReconCard key={r.recon} r={r} days={days} stamp={loadedAt ?? 0} onOpenBreak={onOpenBreak} />)}
    </main>
  );
}

interface CardProps {
  r: ReconStats;
  days: number;
  /** when the stats were read: the SLA breaches are read again with them */
  stamp: number;
  onOpenBreak: (breakId: string) => void;
}

function ReconCard({ r, days, stamp, onOpenBreak }: CardProps) {
  const id = useId();
  const h = headline(r);
  const options = useMemo(
    () => ({ match: matchRateOption(r), flow: flowOption(r), ageing: ageingOption(r), cause: causeOption(r) }),
    [r],
  );
  const metric = (testid: string, label: string, value: string, raw: number | null, tone = '') => (
    <div className={`metric${tone ? ` ${tone}` : ''}`} data-testid={testid} data-value={raw ?? ''}>
      <dt className="metric-label">{label}</dt>
      <dd className="metric-val num">{value}</dd>
    </div>
  );
  return (
    <section className="recon-card" data-testid="recon-card" data-recon={r.recon} aria-labelledby={`${id}-name`}>
      <header className="recon-card-head">
        <h3 id={`${id}-name`} data-testid="recon-name">
          {r.recon}
        </h3>
        <EodReport recon={r.recon} defaultDate={h.day ?? todayUtc()} />
      </header>
      <dl className="recon-metrics">
        {metric('metric-match-rate', `match rate${h.day ? ` · ${h.day}` : ''}`, formatRate(h.match_rate), h.match_rate)}
        {metric('metric-auto-close-rate', 'auto-close rate', formatRate(h.auto_close_rate), h.auto_close_rate)}
        {metric('metric-open', 'open breaks', String(h.open), h.open)}
        {metric('metric-overdue', 'overdue (SLA)', String(h.overdue), h.overdue, h.overdue > 0 ? 'tone-red' : '')}
        {metric(
          'metric-settle',
          'mean hours to settle',
          h.mean_hours_to_settle === null ? '—' : h.mean_hours_to_settle.toFixed(1),
          h.mean_hours_to_settle,
        )}
      </dl>
      <div className="chart-grid">
        <figure className="chart-fig">
          <figcaption>Match rate, last {days} days</figcaption>
          <EChart option={options.match} name="match-rate" />
        </figure>
        <figure className="chart-fig">
          <figcaption>Breaks opened, resolved and closed per day</figcaption>
          <EChart option={options.flow} name="flow" />
        </figure>
        <figure className="chart-fig">
          <figcaption>Open breaks by age (business days)</figcaption>
          <EChart option={options.ageing} name="ageing" />
        </figure>
        <figure className="chart-fig">
          <figcaption>Open breaks by cause</figcaption>
          <EChart option={options.cause} name="cause" />
        </figure>
      </div>
      <SlaBreaches recon={r.recon} total={r.open.overdue} stamp={stamp} onOpenBreak={onOpenBreak} />
    </section>
  );
}

function EodReport({ recon, defaultDate }: { recon: string; defaultDate: string }) {
  const [date, setDate] = useState(defaultDate);
  const valid = isIsoDate(date);
  return (
    <div className="eod">
      <label className="field">
        <span>End-of-day report</span>
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} aria-label={`End-of-day report date for ${recon}`} />
      </label>
      {valid ? (
        <a className="btn" href={eodReportPath(recon, date)} download data-testid="eod-report" title={`End-of-day report of ${recon} for ${date} (XLSX)`}>
          Download XLSX
        </a>
      ) : (
        <span className="muted small">pick a date</span>
      )}
    </div>
  );
}

function SlaBreaches({ recon, total, stamp, onOpenBreak }: { recon: string; total: number; stamp: number; onOpenBreak: (id: string) => void }) {
  const [items, setItems] = useState<Break[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    fetchSlaBreaches(recon, ctrl.signal).then(
      (list) => {
        setItems(list);
        setError(null);
      },
      (err: unknown) => {
        if (!aborted(err)) setError(messageOf(err));
      },
    );
    return () => ctrl.abort();
  }, [recon, stamp]);

  return (
    <div className="sla" data-testid="sla-breaches" data-count={items?.length ?? ''}>
      <h4>
        SLA breaches <span className="h3-count num">{total}</span>
      </h4>
      {error !== null && (
        <p className="action-msg block err" role="alert">
          {error}
        </p>
      )}
      {items === null && error === null && <p className="muted small">Loading…</p>}
      {items !== null && items.length === 0 && <p className="muted small">No open break is past its due date.</p>}
      {items !== null && items.length > 0 && (
        <table className="mini">
          <thead>
            <tr>
              <th>Break</th>
              <th>Owner</th>
              <th>Age</th>
              <th>Due (UTC)</th>
              <th>Cause</th>
            </tr>
          </thead>
          <tbody>
            {items.map((b) => (
              <tr key={b.break_id} data-testid="sla-row" data-break-id={b.break_id}>
                <td>
                  <button type="button" className="link mono" onClick={() => onOpenBreak(b.break_id)} title="Open in the blotter">
                    {formatKey(b.key)}
                  </button>
                </td>
                <td>{b.owner ?? <span className="muted">unassigned</span>}</td>
                <td className="num">
                  {formatAgeDays(b.age_days)}
                  {b.ageing_bucket !== null && <span className="muted small"> ({b.ageing_bucket})</span>}
                </td>
                <td className="num due-overdue">{formatTimestamp(b.due)}</td>
                <td>{b.cause === null ? <span className="muted">{CAUSE_LABEL.PENDING}</span> : CAUSE_LABEL[b.cause]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items !== null && items.length >= SLA_LIMIT && total > items.length && (
        <p className="muted small">
          The {items.length} most overdue of {total}: the blotter's "Overdue only" filter shows them all.
        </p>
      )}
    </div>
  );
}
