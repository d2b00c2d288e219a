import { describe, expect, it } from 'vitest';
import { loadViews, SAVED_VIEWS_KEY, storeViews, withView, withoutView, type KeyValueStore, type SavedView } from './savedViews';

function memory(initial: Record<string, string> = {}): KeyValueStore & { data: Record<string, string> } {
  const data = { ...initial };
  return { data, getItem: (k) => data[k] ?? null, setItem: (k, v) => void (data[k] = v) };
}

const mine: SavedView = {
  name: 'My FX',
  filter: { status: 'in_review', recon: 'trades', cause: 'FX', bucket: null, overdue: false },
  owner: { kind: 'mine' },
  search: 'T-10',
};

describe('saved views', () => {
  it('round-trip through storage', () => {
    const store = memory();
    const team: SavedView = { name: 'Ops queue', filter: { status: 'open', recon: null, cause: null, bucket: null, overdue: false }, owner: { kind: 'owner', owner: 'team:ops' }, search: '' };
    storeViews(store, withView(withView([], mine), team));
    expect(loadViews(store)).toEqual([mine, team]);
  });

  it('a view of the same name replaces the old one', () => {
    const views = withView([mine], { ...mine, name: 'my fx', search: '' });
    expect(views).toHaveLength(1);
    expect(views[0]?.search).toBe('');
    expect(withoutView(views, 'my fx')).toEqual([]);
  });

  it('bad storage is no views; unknown values fall back', () => {
    expect(loadViews(memory({ [SAVED_VIEWS_KEY]: '{nope' }))).toEqual([]);
    expect(loadViews(null)).toEqual([]);
    const store = memory({
      [SAVED_VIEWS_KEY]: JSON.stringify([{ name: 'x', filter: { status: 'bogus', cause: 'NOPE' }, owner: { kind: 'who' } }, { name: '' }]),
    });
    expect(loadViews(store)).toEqual([{ name: 'x', filter: { status: 'open', recon: null, cause: null, bucket: null, overdue: false }, owner: { kind: 'any' }, search: '' }]);
  });
});

describe('saved views and the ageing filters', () => {
  it('keep the bucket and overdue-only', () => {
    const store = memory();
    const late: SavedView = {
      name: 'Late FX',
      filter: { status: 'open', recon: 'trades', cause: 'FX', bucket: '4-7', overdue: true },
      owner: { kind: 'unassigned' },
      search: '',
    };
    storeViews(store, withView([], late));
    expect(loadViews(store)).toEqual([late]);
  });

  it('a view saved before them is any age, overdue or not; bad values fall back', () => {
    const store = memory({
      [SAVED_VIEWS_KEY]: JSON.stringify([
        { name: 'old', filter: { status: 'all', recon: 'trades', cause: null }, owner: { kind: 'any' }, search: '' },
        { name: 'bad', filter: { status: 'open', bucket: '9-10', overdue: 'yes' }, owner: { kind: 'any' }, search: '' },
      ]),
    });
    expect(loadViews(store).map((v) => v.filter)).toEqual([
      { status: 'all', recon: 'trades', cause: null, bucket: null, overdue: false },
      { status: 'open', recon: null, cause: null, bucket: null, overdue: false },
    ]);
  });
});
