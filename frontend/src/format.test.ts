import { describe, expect, it } from 'vitest';
import { dispositionName, formatAge, formatConfidence, formatFieldDiff, formatFields, formatKey, formatTimestamp, humanize } from './format';

describe('format', () => {
  it('renders keys as field=value pairs', () => {
    expect(formatKey({ trade_id: 'T-1001' })).toBe('trade_id=T-1001');
    expect(formatKey({ account: 'A1', leg: 2, x: null })).toBe('account=A1, leg=2, x=∅');
  });

  it('renders differing fields with per-source values and delta', () => {
    expect(
      formatFieldDiff({ field: 'amount', values: { ledger: '100.00', custody: '101.00' }, delta: '1.00' }),
    ).toBe('amount: ledger=100.00 custody=101.00 (Δ 1.00)');
    expect(formatFieldDiff({ field: 'isin', values: { ledger: 'US0378331005', custody: null }, delta: null })).toBe(
      'isin: ledger=US0378331005 custody=∅',
    );
    expect(
      formatFields([
        { field: 'a', values: { l: '1' }, delta: null },
        { field: 'b', values: { l: '2' }, delta: '0' },
      ]),
    ).toBe('a: l=1; b: l=2 (Δ 0)');
  });

  it('renders confidence as a percentage', () => {
    expect(formatConfidence(0.82)).toBe('82%');
    expect(formatConfidence(1)).toBe('100%');
    expect(formatConfidence(null)).toBe('—');
  });

  it('humanizes enums and timestamps', () => {
    expect(humanize('MISSING_BOOKING')).toBe('Missing booking');
    expect(humanize(null)).toBe('—');
    expect(dispositionName('AUTO_CLOSE')).toBe('Auto-close');
    expect(dispositionName('ESCALATE')).toBe('Escalate');
    expect(formatTimestamp('2026-11-26T15:00:05Z')).toBe('2026-11-26 15:00:05');
    expect(formatTimestamp('2026-11-26T16:00:05+01:00')).toBe('2026-11-26 15:00:05');
    expect(formatAge('2026-11-26T15:00:00Z', Date.parse('2026-11-26T18:12:30Z'))).toBe('3h 12m');
  });
});
