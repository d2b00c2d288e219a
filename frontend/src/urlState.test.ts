import { describe, expect, it } from 'vitest';
import { parseDays, readUrlState, readViewState, writeUrlState, writeViewState } from './urlState';

describe('url state', () => {
  it('defaults to the open view', () => {
    expect(readViewState('')).toEqual({
      filter: { status: 'open', recon: null, cause: null, bucket: null, overdue: false },
      search: '',
      selectedId: null,
    });
    expect(writeViewState(readViewState(''))).toBe('');
  });

  it('round-trips filters, search and selection', () => {
    const q = '?status=all&recon=trades&cause=FX&q=T-1001&break=b-1';
    expect(writeViewState(readViewState(q))).toBe(q);
  });

  it('ignores unknown values', () => {
    expect(readViewState('?status=bogus&cause=NOPE').filter).toEqual({ status: 'open', recon: null, cause: null, bucket: null, overdue: false });
  });
});

describe('the page in the url', () => {
  it('is the blotter unless view=audit', () => {
    expect(readUrlState('?status=all&break=b-1')).toEqual({
      page: 'breaks',
      view: { filter: { status: 'all', recon: null, cause: null, bucket: null, overdue: false }, search: '', selectedId: 'b-1' },
      audit: { since: '', until: '', actor: '', recon: '', break_id: '' },
      days: 14,
    });
    expect(writeUrlState(readUrlState('?status=all&break=b-1'))).toBe('?status=all&break=b-1');
  });

  it('holds the audit filters on the audit page (and not the blotter state)', () => {
    const s = readUrlState('?view=audit&actor=ana&recon=trades&break_id=b-1&since=2026-11-26T15%3A00');
    expect(s.page).toBe('audit');
    expect(s.audit).toEqual({ since: '2026-11-26T15:00', until: '', actor: 'ana', recon: 'trades', break_id: 'b-1' });
    expect(s.view.filter.recon).toBeNull(); // `recon` is the audit filter here
    expect(writeUrlState(s)).toBe('?view=audit&since=2026-11-26T15%3A00&actor=ana&recon=trades&break_id=b-1');
    expect(writeUrlState({ ...s, audit: { since: '', until: '', actor: '', recon: '', break_id: '' } })).toBe('?view=audit');
    expect(writeUrlState({ ...s, page: 'breaks' })).toBe('');
  });
});

describe('the approval queue in the url', () => {
  it('round-trips view=approvals', () => {
    const s = readUrlState('?view=approvals');
    expect(s.page).toBe('approvals');
    expect(writeUrlState(s)).toBe('?view=approvals');
  });
});

describe('the ageing filters in the url', () => {
  it('round-trip the bucket and overdue-only', () => {
    const q = '?recon=trades&bucket=%3E7&overdue=true';
    const v = readViewState(q);
    expect(v.filter).toEqual({ status: 'open', recon: 'trades', cause: null, bucket: '>7', overdue: true });
    expect(writeViewState(v)).toBe(q);
    expect(readViewState('?bucket=2-3').filter.bucket).toBe('2-3');
  });

  it('ignore an unknown bucket and anything but overdue=true', () => {
    expect(readViewState('?bucket=8-9&overdue=1').filter).toMatchObject({ bucket: null, overdue: false });
    expect(readViewState('?bucket=&overdue=yes').filter).toMatchObject({ bucket: null, overdue: false });
  });
});

describe('the overview and the schedule in the url', () => {
  it('round-trip view=overview with its window in days (14 is the default, left out)', () => {
    expect(readUrlState('?view=overview')).toMatchObject({ page: 'overview', days: 14 });
    expect(readUrlState('?view=overview&days=30')).toMatchObject({ page: 'overview', days: 30 });
    expect(writeUrlState(readUrlState('?view=overview&days=30'))).toBe('?view=overview&days=30');
    expect(writeUrlState(readUrlState('?view=overview&days=14'))).toBe('?view=overview');
  });

  it('holds no blotter state on the overview (recon there is not the blotter filter)', () => {
    const s = readUrlState('?view=overview&recon=trades&status=all');
    expect(s.view.filter.recon).toBeNull();
    expect(s.view.filter.status).toBe('open');
  });

  it('round-trips view=schedule', () => {
    expect(readUrlState('?view=schedule').page).toBe('schedule');
    expect(writeUrlState(readUrlState('?view=schedule'))).toBe('?view=schedule');
  });

  it('a bad days value is the default', () => {
    expect(parseDays(null)).toBe(14);
    expect(parseDays('0')).toBe(14);
    expect(parseDays('-3')).toBe(14);
    expect(parseDays('7.5')).toBe(14);
    expect(parseDays('abc')).toBe(14);
    expect(parseDays('367')).toBe(14);
    expect(parseDays('366')).toBe(366);
    expect(parseDays('90')).toBe(90);
  });
});
