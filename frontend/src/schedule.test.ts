import { describe, expect, it } from 'vitest';
import { formatDuration, jobHealth, jobScope, parseJob, parseRun, parseSchedule, runJobPath } from './schedule';

const JOB = {
  job: 'cutoff:trades',
  kind: 'cutoff',
  recon: 'trades',
  source: null,
  schedule: '17:30 Europe/London',
  next_run: '2026-12-08T17:30:00Z',
  last_run: {
    started_at: '2026-12-07T17:30:00Z',
    finished_at: '2026-12-07T17:30:04Z',
    status: 'OK',
    detail: '13 breaks escalated',
    requested_by: null,
  },
  failures: 0,
};

describe('parseSchedule', () => {
  it('reads the contract', () => {
    expect(parseSchedule([JOB])).toEqual([JOB]);
  });

  it('is null for what is not a list', () => {
    expect(parseSchedule(null)).toBeNull();
    expect(parseSchedule({ jobs: [] })).toBeNull();
    expect(parseSchedule('x')).toBeNull();
  });

  it('skips jobs without a name and repeats of a name, in the order sent', () => {
    const list = parseSchedule([
      { ...JOB, job: 'sla' },
      { kind: 'sla' },
      { ...JOB, job: '' },
      null,
      JOB,
      { ...JOB, schedule: 'changed' },
    ]);
    expect(list?.map((j) => [j.job, j.schedule])).toEqual([
      ['sla', '17:30 Europe/London'],
      ['cutoff:trades', '17:30 Europe/London'],
    ]);
  });

  it('fills what is missing or wrong with nothing', () => {
    expect(parseJob({ job: 'retention', next_run: 'soon', failures: -2, recon: '', last_run: 'yesterday' })).toEqual({
      job: 'retention',
      kind: '',
      recon: null,
      source: null,
      schedule: '',
      next_run: null,
      last_run: null,
      failures: 0,
    });
    expect(parseJob({ job: 'x', failures: 2.9 })?.failures).toBe(2);
  });

  it('a run needs a start and a known status', () => {
    expect(parseRun({ started_at: '2026-12-07T17:30:00Z', status: 'RUNNING' })).toEqual({
      started_at: '2026-12-07T17:30:00Z',
      finished_at: null,
      status: 'RUNNING',
      detail: null,
      requested_by: null,
    });
    expect(parseRun({ started_at: '2026-12-07T17:30:00Z', status: 'DONE' })).toBeNull();
    expect(parseRun({ status: 'OK' })).toBeNull();
    expect(parseRun(null)).toBeNull();
    expect(parseRun({ ...JOB.last_run, finished_at: 'later', requested_by: 'root' })).toMatchObject({ finished_at: null, requested_by: 'root' });
  });
});

describe('job display', () => {
  it('health from the last run and the day’s failures', () => {
    const run = (status: string) => ({ ...JOB.last_run, status }) as ReturnType<typeof parseRun>;
    expect(jobHealth({ last_run: null, failures: 0 })).toBe('never');
    expect(jobHealth({ last_run: null, failures: 2 })).toBe('failing');
    expect(jobHealth({ last_run: run('RUNNING'), failures: 1 })).toBe('running');
    expect(jobHealth({ last_run: run('FAILED'), failures: 1 })).toBe('failed');
    expect(jobHealth({ last_run: run('OK'), failures: 1 })).toBe('failing');
    expect(jobHealth({ last_run: run('OK'), failures: 0 })).toBe('ok');
  });

  it('scope: recon and source', () => {
    expect(jobScope({ recon: 'trades', source: null })).toBe('trades');
    expect(jobScope({ recon: 'trades', source: 'ledger' })).toBe('trades / ledger');
    expect(jobScope({ recon: null, source: null })).toBe('—');
  });

  it('durations', () => {
    expect(formatDuration('2026-12-07T17:30:00Z', '2026-12-07T17:30:04Z')).toBe('4s');
    expect(formatDuration('2026-12-07T17:30:00Z', '2026-12-07T17:33:05Z')).toBe('3m 5s');
    expect(formatDuration('2026-12-07T17:30:00Z', '2026-12-07T19:35:00Z')).toBe('2h 5m');
    expect(formatDuration('2026-12-07T17:30:00Z', 'x')).toBe('');
  });

  it('the run path escapes the job name', () => {
    expect(runJobPath('cutoff:trades')).toBe('api/schedule/cutoff%3Atrades/run');
    expect(runJobPath('connector:trades/ledger')).toBe('api/schedule/connector%3Atrades%2Fledger/run');
  });
});
