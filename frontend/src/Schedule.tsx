// The scheduler's jobs (?view=schedule): cut-offs, connector runs, SLA-breach detection,
// ageing and retention, with their schedule, last and next run, failures in the last day
// and the last run's detail. Admins may run a job now (POST api/schedule/{job}/run, 202:
// queued). Read again every 10 seconds while the page is open (and the tab visible).

import { useCallback, useEffect, useRef, useState } from 'react';
import { formatRelative, formatTimestamp } from './format';
import { can, type Me } from './session';
import { fetchSchedule, formatDuration, jobHealth, jobScope, REFRESH_MS, runJob, type Job, type JobHealth } from './schedule';

const HEALTH_LABEL: Record<JobHealth, string> = {
  running: 'Running',
  failed: 'Failed',
  failing: 'Failures today',
  ok: 'OK',
  never: 'Not run yet',
};

type RunMsg = { kind: 'ok' | 'error'; text: string };

export function Schedule({ me }: { me: Me }) {
  const mayRun = can(me, 'admin');
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [busy, setBusy] = useState<ReadonlySet<string>>(() => new Set());
  const [msgs, setMsgs] = useState<Record<string, RunMsg>>({});
  const reader = useRef<AbortController | null>(null);

  const read = useCallback(() => {
    reader.current?.abort();
    const ctrl = new AbortController();
    reader.current = ctrl;
    fetchSchedule(ctrl.signal).then(
      (list) => {
        setJobs(list);
        setError(null);
        setNow(Date.now());
      },
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        setError(err instanceof Error ? err.message : String(err));
      },
    );
  }, []);

  useEffect(() => {
    read();
    const timer = setInterval(() => {
      if (!document.hidden) read();
    }, REFRESH_MS);
    return () => {
      clearInterval(timer);
      reader.current?.abort();
    };
  }, [read]);

  const runNow = (job: string) => {
    setBusy((b) => new Set(b).add(job));
    setMsgs(({ [job]: _old, ...rest }) => rest);
    const settle = (msg: RunMsg) => {
      setBusy((b) => {
        const next = new Set(b);
        next.delete(job);
        return next;
      });
      setMsgs((m) => ({ ...m, [job]: msg }));
    };
    runJob(job).then(
      () => {
        settle({ kind: 'ok', text: 'Run requested' });
        read();
      },
      (err: unknown) => settle({ kind: 'error', text: err instanceof Error ? err.message : String(err) }),
    );
  };

  return (
    <main className="schedule" data-testid="schedule" data-loaded={jobs !== null}>
      <div className="overview-head">
        <h2>Schedule</h2>
        <span className="muted small">cut-offs, connector runs, SLA checks, ageing and retention · refreshed every {REFRESH_MS / 1000} s</span>
        <button type="button" className="btn" onClick={read} data-testid="schedule-refresh">
          Refresh
        </button>
      </div>
      {error !== null && (
        <div className="banner" role="alert" data-testid="schedule-error">
          {error}
        </div>
      )}
      {jobs === null && error === null && <p className="muted overview-note">Loading…</p>}
      {jobs !== null && jobs.length === 0 && (
        <p className="muted overview-note" data-testid="schedule-empty">
          No scheduled jobs.
        </p>
      )}
      {jobs !== null && jobs.length > 0 && (
        <table className="mini schedule-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Kind</th>
              <th>Recon / source</th>
              <th>Schedule</th>
              <th>Next run (UTC)</th>
              <th>Last run (UTC)</th>
              <th>Status</th>
              <th>
                Failures <span className="muted">(24 h)</span>
              </th>
              <th>Detail</th>
              {mayRun && <th>Run</th>}
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => {
              const health = jobHealth(j);
              const last = j.last_run;
              const msg = msgs[j.job];
              return (
                <tr key={j.job} data-testid="schedule-row" data-job={j.job} data-health={health} className={`job-${health}`}>
                  <td className="mono">{j.job}</td>
                  <td>{j.kind || '—'}</td>
                  <td>{jobScope(j)}</td>
                  <td className="mono">{j.schedule || '—'}</td>
                  <td className="num" title={j.next_run ?? undefined}>
                    {j.next_run === null ? (
                      <span className="muted">—</span>
                    ) : (
                      <>
                        {formatTimestamp(j.next_run)}
                        <div className="muted small">{formatRelative(j.next_run, now)}</div>
                      </>
                    )}
                  </td>
                  <td className="num" title={last?.started_at}>
                    {last === null ? (
                      <span className="muted">never</span>
                    ) : (
                      <>
                        {formatTimestamp(last.started_at)}
                        <div className="muted small">
                          {formatRelative(last.started_at, now)}
                          {last.finished_at !== null && ` · ${formatDuration(last.started_at, last.finished_at)}`}
                          {last.requested_by !== null && ` · by ${last.requested_by}`}
                        </div>
                      </>
                    )}
                  </td>
                  <td>
                    <span className={`job-status job-status-${health}`} data-testid="job-status">
                      {HEALTH_LABEL[health]}
                    </span>
                  </td>
                  <td className={`num${j.failures > 0 ? ' tone-red' : ''}`}>{j.failures}</td>
                  <td className={`job-detail${last?.status === 'FAILED' ? ' tone-red' : ''}`} data-testid="job-detail">
                    {last?.detail ?? <span className="muted">—</span>}
                  </td>
                  {mayRun && (
                    <td>
                      <button
                        type="button"
                        className="btn"
                        disabled={busy.has(j.job) || last?.status === 'RUNNING'}
                        onClick={() => runNow(j.job)}
                        data-testid="job-run"
                        aria-label={`Run ${j.job} now`}
                      >
                        Run now
                      </button>
                      {msg !== undefined && (
                        <div className={`action-msg block ${msg.kind === 'ok' ? 'ok' : 'err'}`} role={msg.kind === 'ok' ? 'status' : 'alert'}>
                          {msg.text}
                        </div>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}

