// View state <-> URL query (?status=all&recon=trades&cause=FX&bucket=4-7&overdue=true&q=T-1001&break=b-...),
// so a view can be bookmarked or shared. Pure functions over URLSearchParams.

import { emptyAuditFilter, readAuditFilter, writeAuditFilter, type AuditFilter } from './audit';
import { defaultFilter, isAgeingBucket, STATUS_FILTERS, type BreakFilter, type StatusFilter } from './breaks';
import { CAUSES, type Cause } from './types';

export interface ViewState {
  filter: BreakFilter;
  search: string;
  selectedId: string | null;
}

export function readViewState(query: string): ViewState {
  const p = new URLSearchParams(query);
  const status = p.get('status');
  const cause = p.get('cause');
  const bucket = p.get('bucket');
  return {
    filter: {
      status: STATUS_FILTERS.includes(status as StatusFilter) ? (status as StatusFilter) : defaultFilter.status,
      recon: p.get('recon') || null,
      cause: cause === 'PENDING' || CAUSES.includes(cause as Cause) ? (cause as Cause | 'PENDING') : null,
      bucket: isAgeingBucket(bucket) ? bucket : null,
      overdue: p.get('overdue') === 'true',
    },
    search: p.get('q') ?? '',
    selectedId: p.get('break') || null,
  };
}

export function writeViewState(v: ViewState): string {
  const p = new URLSearchParams();
  if (v.filter.status !== defaultFilter.status) p.set('status', v.filter.status);
  if (v.filter.recon !== null) p.set('recon', v.filter.recon);
  if (v.filter.cause !== null) p.set('cause', v.filter.cause);
  if (v.filter.bucket !== null) p.set('bucket', v.filter.bucket);
  if (v.filter.overdue) p.set('overdue', 'true');
  if (v.search !== '') p.set('q', v.search);
  if (v.selectedId !== null) p.set('break', v.selectedId);
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

// ---- the page shown: the blotter or the audit trail --------------------------------------
// `?view=audit&since=…&until=…&actor=…&recon=…&break_id=…` is the audit page with its
// filters; anything else is the blotter, with its view state above. The URL holds the
// state of the page shown; the other page's state lives on in memory while the app runs.

export type Page = 'breaks' | 'audit' | 'approvals';

export interface UrlState {
  page: Page;
  view: ViewState;
  audit: AuditFilter;
}

export function readUrlState(query: string): UrlState {
  const p = new URLSearchParams(query);
  if (p.get('view') === 'approvals') return { page: 'approvals', view: readViewState(''), audit: { ...emptyAuditFilter } };
  if (p.get('view') === 'audit') return { page: 'audit', view: readViewState(''), audit: readAuditFilter(p) };
  return { page: 'breaks', view: readViewState(query), audit: { ...emptyAuditFilter } };
}

export function writeUrlState(s: UrlState): string {
  if (s.page === 'breaks') return writeViewState(s.view);
  if (s.page === 'approvals') return '?view=approvals';
  const p = new URLSearchParams({ view: 'audit' });
  writeAuditFilter(s.audit, p);
  return `?${p.toString()}`;
}
