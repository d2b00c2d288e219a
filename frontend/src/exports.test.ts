import { describe, expect, it } from 'vitest';
import { ANY_OWNER, defaultFilter, type BreakFilter } from './breaks';
import { eodReportPath, exportCaveats, exportFileName, exportOwner, exportPath, exportStatus, isIsoDate, type ExportFormat } from './exports';

const f = (over: Partial<BreakFilter> = {}): BreakFilter => ({ ...defaultFilter, ...over });
const params = (path: string) => Object.fromEntries(new URL(path, 'http://bff.invalid/app/').searchParams);

describe('exportPath', () => {
  it('the default view: open breaks, every recon and owner', () => {
    expect(exportPath('csv', f(), ANY_OWNER)).toBe('api/breaks/export?format=csv&status=open');
    expect(exportPath('xlsx', f(), ANY_OWNER)).toBe('api/breaks/export?format=xlsx&status=open');
  });

  it('maps the blotter statuses to the BFF words', () => {
    expect(exportStatus('open')).toBe('open');
    expect(exportStatus('all')).toBe('all');
    expect(exportStatus('in_review')).toBe('IN_REVIEW');
    expect(exportStatus('resolved')).toBe('RESOLVED'); // not the BFF's "resolved" (RESOLVED and CLOSED)
    expect(exportStatus('closed')).toBe('CLOSED');
    expect(params(exportPath('csv', f({ status: 'closed' }), ANY_OWNER)).status).toBe('CLOSED');
  });

  it('maps the owner filter: me, none, a user or a team', () => {
    expect(exportOwner({ kind: 'any' })).toBeNull();
    expect(exportOwner({ kind: 'mine' })).toBe('me');
    expect(exportOwner({ kind: 'unassigned' })).toBe('none');
    expect(exportOwner({ kind: 'owner', owner: 'alice' })).toBe('alice');
    expect(params(exportPath('csv', f(), { kind: 'owner', owner: 'team:ops' })).owner).toBe('team:ops');
  });

  it('sends every filter of the view, escaped', () => {
    const path = exportPath('csv', f({ status: 'all', recon: 'fx & cash', cause: 'FX', bucket: '>7', overdue: true }), { kind: 'mine' }, {
      kind: 'MISMATCH',
      disposition: 'ESCALATE',
      tag: ' q4 ',
    });
    expect(path).toBe(
      'api/breaks/export?format=csv&status=all&recon=fx+%26+cash&owner=me&cause=FX&kind=MISMATCH&disposition=ESCALATE&tag=q4&overdue=true&bucket=%3E7',
    );
    expect(params(path)).toEqual({
      format: 'csv',
      status: 'all',
      recon: 'fx & cash',
      owner: 'me',
      cause: 'FX',
      kind: 'MISMATCH',
      disposition: 'ESCALATE',
      tag: 'q4',
      overdue: 'true',
      bucket: '>7',
    });
  });

  it('leaves out what does not narrow the view', () => {
    const p = params(exportPath('xlsx', f({ cause: 'PENDING' }), ANY_OWNER, { kind: null, disposition: null, tag: '  ' }));
    expect(p).toEqual({ format: 'xlsx', status: 'open' });
  });

  it('resolves against the document, so it works under a path prefix', () => {
    expect(new URL(exportPath('csv', f(), ANY_OWNER), 'https://ops.example/greenai/').pathname).toBe('/greenai/api/breaks/export');
  });

  it('refuses an unknown format', () => {
    expect(() => exportPath('pdf' as ExportFormat, f(), ANY_OWNER)).toThrow(/format/);
  });
});

describe('exportCaveats and file names', () => {
  it('names what the export cannot apply', () => {
    expect(exportCaveats(f(), '')).toEqual([]);
    expect(exportCaveats(f(), '  ')).toEqual([]);
    expect(exportCaveats(f({ cause: 'PENDING' }), 'T-1001')).toEqual(['the quick search', 'the pending-cause filter']);
    expect(exportCaveats(f({ cause: 'FX', bucket: '0-1', overdue: true }), '')).toEqual([]);
  });

  it('a file name from the view', () => {
    expect(exportFileName('csv', f())).toBe('breaks-open.csv');
    expect(exportFileName('xlsx', f({ status: 'all', recon: 'fx/cash', overdue: true }))).toBe('breaks-all-fx_cash-overdue.xlsx');
  });
});

describe('the end-of-day report', () => {
  it('builds its URL', () => {
    expect(eodReportPath('trades', '2026-12-07')).toBe('api/reports/eod?recon=trades&date=2026-12-07');
    expect(eodReportPath('fx & cash', '2026-12-07')).toBe('api/reports/eod?recon=fx+%26+cash&date=2026-12-07');
  });

  it('refuses a bad date or no recon', () => {
    expect(() => eodReportPath('trades', '2026-02-30')).toThrow(/date/);
    expect(() => eodReportPath('trades', '07/12/2026')).toThrow(/date/);
    expect(() => eodReportPath('', '2026-12-07')).toThrow(/recon/);
  });

  it('isIsoDate accepts real calendar dates only', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-13-01')).toBe(false);
    expect(isIsoDate('2026-1-01')).toBe(false);
    expect(isIsoDate('')).toBe(false);
  });
});
