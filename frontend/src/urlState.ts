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

// ---- the overview's window ---------------------------------------------------------------

export const DEFAULT_DAYS = 14;
export const MAX_DAYS = 366;

/** A `days` value from the URL or a control: a whole number in 1..366, else DEFAULT_DAYS. */
export function parseDays(v: string | null): number {
  if (v === null || !/^\d+$/.test(v)) return DEFAULT_DAYS;
  const n = Number(v);
  return n >= 1 && n <= MAX_DAYS ? n : DEFAULT_DAYS;
}

// ---- the page shown: the blotter, the audit trail, the approvals, the overview, the schedule
// `?view=audit&since=…&until=…&actor=…&recon=…&break_id=…` is the audit page with its
// filters, `?view=overview&days=30` the recon overview over that many days,
// `?view=approvals` and `?view=schedule` their pages; anything else is the blotter, with
// its view state above. The URL holds the state of the page shown; the other pages' state
// lives on in memory while the app runs.

export type Page = 'breaks' | 'overview' | 'audit' | 'approvals' | 'schedule';

export interface UrlState {
  page: Page;
  view: ViewState;
  audit: AuditFilter;
  /** the overview's window in days */
  days: number;
}

export function readUrlState(query: string): UrlState {
  const p = new URLSearchParams(query);
  const rest = { view: readViewState(''), audit: { ...emptyAuditFilter }, days: DEFAULT_DAYS };
  switch (p.get('view')) {
    case 'approvals':
      return { ...rest, page: 'approvals' };
    case 'schedule':
      return { ...rest, page: 'schedule' };
    case 'overview':
      return { ...rest, page: 'overview', days: parseDays(p.get('days')) };
    case 'audit':
      return { ...rest, page: 'audit', audit: readAuditFilter(p) };
    default:
      return { ...rest, page: 'breaks', view: readViewState(query) };
  }
}

export function writeUrlState(s: UrlState): string {
  switch (s.page) {
    case 'breaks':
      return writeViewState(s.view);
    case 'approvals':
    case 'schedule':
      return `?view=${s.page}`;
    case 'overview':
      return s.days === DEFAULT_DAYS ? '?view=overview' : `?view=overview&days=${s.days}`;
    case 'audit': {
      const p = new URLSearchParams({ view: 'audit' });
      writeAuditFilter(s.audit, p);
      return `?${p.toString()}`;
    }
  }
}
