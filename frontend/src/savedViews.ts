// Saved views of the blotter: a named set of filters (status, recon, cause, ageing bucket,
// overdue only, owner and the quick search), kept in the browser's localStorage. Pure parsing and list operations;
// the storage is passed in, so the tests use a plain object.

import { isAgeingBucket, STATUS_FILTERS, type BreakFilter, type OwnerFilter, type StatusFilter } from './breaks';
import { CAUSES, type Cause } from './types';

export interface SavedView {
  name: string;
  filter: BreakFilter;
  owner: OwnerFilter;
  search: string;
}

export const SAVED_VIEWS_KEY = 'greenai.savedViews.v1';

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseOwner(v: unknown): OwnerFilter {
  if (!isObject(v)) return { kind: 'any' };
  if (v.kind === 'mine' || v.kind === 'unassigned') return { kind: v.kind };
  if (v.kind === 'owner' && typeof v.owner === 'string' && v.owner !== '') return { kind: 'owner', owner: v.owner };
  return { kind: 'any' };
}

/** One saved view, or null when the value is not one. Unknown filter values fall back. */
export function parseSavedView(v: unknown): SavedView | null {
  if (!isObject(v) || typeof v.name !== 'string' || v.name.trim() === '') return null;
  const f = isObject(v.filter) ? v.filter : {};
  const status = STATUS_FILTERS.includes(f.status as StatusFilter) ? (f.status as StatusFilter) : 'open';
  const cause = f.cause === 'PENDING' || CAUSES.includes(f.cause as Cause) ? (f.cause as Cause | 'PENDING') : null;
  return {
    name: v.name.trim(),
    filter: {
      status,
      recon: typeof f.recon === 'string' && f.recon !== '' ? f.recon : null,
      cause,
      // views saved before the ageing filters have neither: any age, overdue or not
      bucket: isAgeingBucket(f.bucket) ? f.bucket : null,
      overdue: f.overdue === true,
    },
    owner: parseOwner(v.owner),
    search: typeof v.search === 'string' ? v.search : '',
  };
}

export function loadViews(store: KeyValueStore | null): SavedView[] {
  if (!store) return [];
  try {
    const raw = store.getItem(SAVED_VIEWS_KEY);
    const list: unknown = raw === null ? [] : JSON.parse(raw);
    if (!Array.isArray(list)) return [];
    return list.map(parseSavedView).filter((v): v is SavedView => v !== null);
  } catch {
    return []; // unreadable storage is no saved views, not a crash
  }
}

export function storeViews(store: KeyValueStore | null, views: readonly SavedView[]): void {
  try {
    store?.setItem(SAVED_VIEWS_KEY, JSON.stringify(views));
  } catch {
    // quota or privacy mode: the views live on for this page only
  }
}

/** The list with `view` added, replacing a view of the same name (case-insensitive); sorted by name. */
export function withView(views: readonly SavedView[], view: SavedView): SavedView[] {
  const key = view.name.trim().toLowerCase();
  return [...views.filter((v) => v.name.toLowerCase() !== key), { ...view, name: view.name.trim() }].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
}

export const withoutView = (views: readonly SavedView[], name: string): SavedView[] => views.filter((v) => v.name !== name);

/** The browser's localStorage, or null where there is none (or it is blocked). */
export function browserStore(): KeyValueStore | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}
