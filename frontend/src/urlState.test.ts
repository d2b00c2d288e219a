import { describe, expect, it } from 'vitest';
import { readViewState, writeViewState } from './urlState';

describe('url state', () => {
  it('defaults to the open view', () => {
    expect(readViewState('')).toEqual({
      filter: { status: 'open', recon: null, cause: null },
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
    expect(readViewState('?status=bogus&cause=NOPE').filter).toEqual({ status: 'open', recon: null, cause: null });
  });
});
