// Exports of the blotter and the end-of-day report: pure URL builders. The files come
// from the BFF (GET api/breaks/export, GET api/reports/eod) as attachments; the browser
// downloads them by following a link, with the session cookie (a GET needs no CSRF token).
//
// The export applies the blotter's filters on the server, over every stored break the
// user may see, so it does not depend on what the live grid has loaded. What the server
// cannot express (the quick search, "cause pending") is named by exportCaveats so the
// page can say the file holds more than the grid shows.

import type { BreakFilter, OwnerFilter, StatusFilter } from './breaks';
import type { Disposition, Kind } from './types';

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_PATH = 'api/breaks/export';
export const EOD_REPORT_PATH = 'api/reports/eod';

/**
 * The export's `status`: the blotter's `open` (OPEN and IN_REVIEW) and `all` are the
 * BFF's own words; the single-status views name their status. (The BFF's `resolved`
 * means every settled break, RESOLVED and CLOSED, which is not the blotter's Resolved.)
 */
export function exportStatus(s: StatusFilter): string {
  switch (s) {
    case 'open':
    case 'all':
      return s;
    case 'in_review':
      return 'IN_REVIEW';
    case 'resolved':
      return 'RESOLVED';
    case 'closed':
      return 'CLOSED';
  }
}

/** The export's `owner`: a user name or `team:<name>`, `me`, `none`; null = anyone. */
export function exportOwner(o: OwnerFilter): string | null {
  switch (o.kind) {
    case 'any':
      return null;
    case 'mine':
      return 'me';
    case 'unassigned':
      return 'none';
    case 'owner':
      return o.owner;
  }
}

/** Filters the blotter has no control for yet; the export accepts them. */
export interface ExtraExportFilter {
  kind?: Kind | null;
  disposition?: Disposition | null;
  tag?: string | null;
}

/**
 * `api/breaks/export?format=csv&status=open&recon=…&owner=…&cause=…&bucket=…&overdue=true`
 * for the blotter's filters, relative to the document. Only the filters that narrow the
 * view are sent (status always). A pending cause is not sent (see exportCaveats).
 */
export function exportPath(format: ExportFormat, filter: BreakFilter, owner: OwnerFilter, extra: ExtraExportFilter = {}): string {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new Error(`unknown export format ${String(format)}`);
  const p = new URLSearchParams({ format, status: exportStatus(filter.status) });
  if (filter.recon !== null) p.set('recon', filter.recon);
  const who = exportOwner(owner);
  if (who !== null) p.set('owner', who);
  if (filter.cause !== null && filter.cause !== 'PENDING') p.set('cause', filter.cause);
  if (extra.kind) p.set('kind', extra.kind);
  if (extra.disposition) p.set('disposition', extra.disposition);
  const tag = extra.tag?.trim();
  if (tag) p.set('tag', tag);
  if (filter.overdue) p.set('overdue', 'true');
  if (filter.bucket !== null) p.set('bucket', filter.bucket);
  return `${EXPORT_PATH}?${p.toString()}`;
}

/** What the grid applies that the export cannot: the file then holds more rows. */
export function exportCaveats(filter: BreakFilter, search: string): string[] {
  const out: string[] = [];
  if (search.trim() !== '') out.push('the quick search');
  if (filter.cause === 'PENDING') out.push('the pending-cause filter');
  return out;
}

/** The file name the browser offers when the BFF names none: `breaks-open-trades.csv`. */
export function exportFileName(format: ExportFormat, filter: BreakFilter): string {
  const parts = ['breaks', filter.status, filter.recon ?? '', filter.overdue ? 'overdue' : ''].filter(Boolean);
  return `${parts.join('-').replace(/[^A-Za-z0-9._-]+/g, '_')}.${format}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar date written YYYY-MM-DD. */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** `api/reports/eod?recon=trades&date=2026-12-07` (XLSX); throws on an invalid date. */
export function eodReportPath(recon: string, date: string): string {
  if (recon === '') throw new Error('a recon is required');
  if (!isIsoDate(date)) throw new Error(`not a date (YYYY-MM-DD): ${date}`);
  return `${EOD_REPORT_PATH}?${new URLSearchParams({ recon, date }).toString()}`;
}
