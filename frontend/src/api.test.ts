import { describe, expect, it } from 'vitest';
import {
  breakActionPath,
  errorMessage,
  labelRequest,
  parseDecisions,
  parseOutcome,
  reverseRequest,
} from './api';

describe('analyst requests', () => {
  it('builds the action paths with the break id escaped', () => {
    expect(breakActionPath('b-1f3be6e8', 'label')).toBe('api/breaks/b-1f3be6e8/label');
    expect(breakActionPath('b-1', 'reverse')).toBe('api/breaks/b-1/reverse');
    expect(breakActionPath('b-1', 'decisions')).toBe('api/breaks/b-1/decisions');
    expect(breakActionPath('a/b c?d#e', 'label')).toBe('api/breaks/a%2Fb%20c%3Fd%23e/label');
  });

  it('builds a label body with only the fields given', () => {
    expect(labelRequest('ROUNDING')).toEqual({ cause: 'ROUNDING' });
    expect(JSON.stringify(labelRequest('FX', { reason: '  ' }))).toBe('{"cause":"FX"}');
    expect(labelRequest('FEE', { reason: ' broker fee ', disposition: 'QUEUE' })).toEqual({
      cause: 'FEE',
      disposition: 'QUEUE',
      reason: 'broker fee',
    });
    // the analyst is the session's: no identity travels in the body
    expect(Object.keys(labelRequest('FEE', { reason: 'x', analyst: 'mallory' } as never))).toEqual(['cause', 'reason']);
    expect(Object.keys(reverseRequest('QUEUE', { analyst: 'mallory' } as never))).toEqual(['disposition']);
    expect(labelRequest('TIMING', { disposition: null, reason: null })).toEqual({ cause: 'TIMING' });
  });

  it('refuses a cause or disposition outside the taxonomy', () => {
    expect(() => labelRequest('NOPE' as never)).toThrow(/unknown cause/);
    expect(() => reverseRequest('CLOSE' as never)).toThrow(/unknown disposition/);
  });

  it('builds a reverse body', () => {
    expect(reverseRequest('QUEUE')).toEqual({ disposition: 'QUEUE' });
    expect(reverseRequest('ESCALATE', { reason: 'client complaint' })).toEqual({
      disposition: 'ESCALATE',
      reason: 'client complaint',
    });
  });
});

describe('analyst responses', () => {
  const outcome = {
    break_id: 'b-1',
    cause: 'ROUNDING',
    disposition: 'QUEUE',
    reversed: true,
    previous_cause: 'FX',
    previous_disposition: 'ESCALATE',
  };

  it('parses an outcome', () => {
    expect(parseOutcome(outcome)).toEqual(outcome);
    expect(parseOutcome({ ...outcome, cause: null, previous_cause: null, previous_disposition: null })).toEqual({
      ...outcome,
      cause: null,
      previous_cause: null,
      previous_disposition: null,
    });
  });

  it('rejects what is not an outcome and drops unknown enum values', () => {
    expect(parseOutcome(null)).toBeNull();
    expect(parseOutcome([])).toBeNull();
    expect(parseOutcome({ detail: 'no break b-1' })).toBeNull();
    expect(parseOutcome({ ...outcome, reversed: 'yes' })).toBeNull();
    expect(parseOutcome({ ...outcome, disposition: 'CLOSE' })?.disposition).toBeNull();
  });

  const decision = {
    break_id: 'b-1',
    version: 1,
    recon: 'trades',
    cause: 'FX',
    confidence: 0.9,
    disposition: 'QUEUE',
    priority: 5,
    materiality: '0.00',
    anomaly: 0.0,
    decided_by: 'model',
    model_offset: 0,
    reasons: ['FX for an analyst', 'materiality 0.00 USD'],
    decided_at: '2026-11-26T16:30:57.989543Z',
    reversed_at: null,
    reversed_by: null,
    reversed_to: null,
    reversal_reason: null,
  };

  it('parses the decisions as the BFF sends them, by version', () => {
    const reversed = {
      ...decision,
      version: 2,
      reversed_at: '2026-11-26T16:40:00Z',
      reversed_by: 'api',
      reversed_to: 'ESCALATE',
      reversal_reason: 'reversed to ESCALATE',
    };
    const list = parseDecisions([reversed, decision]);
    expect(list?.map((d) => d.version)).toEqual([1, 2]);
    expect(list?.[0]).toEqual(decision);
    expect(list?.[1]?.reversed_to).toBe('ESCALATE');
  });

  it('tolerates numbers and missing fields, skips invalid entries', () => {
    const list = parseDecisions([
      { ...decision, materiality: 12.5, reasons: undefined },
      { break_id: 'b-1' },
      'junk',
      { break_id: 'b-1', version: 3 },
    ]);
    expect(list?.length).toBe(2);
    expect(list?.[0]?.materiality).toBe('12.5');
    expect(list?.[0]?.reasons).toEqual([]);
    expect(list?.[1]).toMatchObject({ version: 3, cause: null, disposition: null, reasons: [], reversed_at: null });
    expect(parseDecisions({ detail: 'x' })).toBeNull();
    expect(parseDecisions([])).toEqual([]);
  });
});

describe('error messages', () => {
  it('uses the BFF detail text', () => {
    expect(errorMessage(404, 'Not Found', { detail: 'no break b-9' })).toBe('no break b-9');
    expect(errorMessage(422, '', { detail: "break b-1: recon 'x' is not registered" })).toBe(
      "break b-1: recon 'x' is not registered",
    );
  });

  it('summarises FastAPI validation errors', () => {
    const body = {
      detail: [
        {
          type: 'literal_error',
          loc: ['body', 'cause'],
          msg: "Input should be 'TIMING', 'ROUNDING' or 'FX'",
          input: 'NOPE',
        },
        { type: 'missing', loc: ['body'], msg: 'Field required' },
      ],
    };
    expect(errorMessage(422, 'Unprocessable Entity', body)).toBe(
      "cause: Input should be 'TIMING', 'ROUNDING' or 'FX'; Field required",
    );
  });

  it('falls back to the status', () => {
    expect(errorMessage(500, 'Internal Server Error', 'Internal Server Error')).toBe(
      'HTTP 500: Internal Server Error',
    );
    expect(errorMessage(502, 'Bad Gateway', '<html><body>bad gateway</body></html>')).toBe('HTTP 502 Bad Gateway');
    expect(errorMessage(503, '', null)).toBe('HTTP 503');
    expect(errorMessage(500, '', { detail: '' })).toBe('HTTP 500');
  });
});
