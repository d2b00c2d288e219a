import { describe, expect, it } from 'vitest';
import { compareDecimal, formatAgeDays, formatRate, formatRelative, dispositionName, formatAge, formatConfidence, formatFieldDiff, formatFields, formatKey, formatTimestamp, humanize } from './format';

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

describe('format: ageing, rates, relative times', () => {
  it('business-day ages', () => {
    expect(formatAgeDays(0)).toBe('0d');
    expect(formatAgeDays(12)).toBe('12d');
    expect(formatAgeDays(null)).toBe('—');
  });

  it('rates as percentages with one decimal', () => {
    expect(formatRate(0.85)).toBe('85.0%');
    expect(formatRate(0.12345)).toBe('12.3%');
    expect(formatRate(1)).toBe('100.0%');
    expect(formatRate(0)).toBe('0.0%');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(Number.NaN)).toBe('—');
  });

  it('relative times, past and future', () => {
    const now = Date.parse('2026-12-08T12:00:00Z');
    expect(formatRelative('2026-12-08T12:04:30Z', now)).toBe('in 4m');
    expect(formatRelative('2026-12-08T09:55:00Z', now)).toBe('2h 5m ago');
    expect(formatRelative('2026-12-08T12:00:02Z', now)).toBe('just now');
    expect(formatRelative('2026-12-08T11:59:30Z', now)).toBe('30s ago');
    expect(formatRelative('2026-12-10T15:00:00Z', now)).toBe('in 2d 3h');
    expect(formatRelative(null, now)).toBe('—');
    expect(formatRelative('soon', now)).toBe('soon');
  });
});

describe('compareDecimal: exact decimal text in order, no floats', () => {
  const sign = (a: string | null, b: string | null) => Math.sign(compareDecimal(a, b));

  it('orders by magnitude and sign', () => {
    expect(sign('10.5', '9.75')).toBe(1);
    expect(sign('9.75', '10.5')).toBe(-1);
    expect(sign('-10', '-9.99')).toBe(-1);
    expect(sign('-0.01', '0')).toBe(-1);
    expect(sign('0.1', '0.09')).toBe(1);
    expect(sign('123456789012345678901234.5', '123456789012345678901234.4')).toBe(1); // beyond a double's precision
  });

  it('treats equal values written differently as equal', () => {
    expect(sign('1.50', '1.5')).toBe(0);
    expect(sign('001', '1.000')).toBe(0);
    expect(sign('-0', '0.00')).toBe(0);
    expect(sign('+2', '2')).toBe(0);
    expect(sign('.5', '0.5')).toBe(0);
  });

  it('sorts null and non-decimals below every number', () => {
    expect(sign(null, '-1000')).toBe(-1);
    expect(sign('1e3', '0')).toBe(-1);
    expect(sign('1,000', null)).toBe(0);
    expect(sign(null, null)).toBe(0);
    expect(sign('', '.')).toBe(0);
    expect(['3', null, '-2', '10.01', '10.1'].sort(compareDecimal)).toEqual([null, '-2', '3', '10.01', '10.1']);
  });
});
