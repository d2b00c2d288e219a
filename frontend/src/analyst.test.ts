import { describe, expect, it } from 'vitest';
import type { Decision, Outcome } from './api';
import {
  decisionCause,
  defaultReverseTarget,
  describeLabelOutcome,
  describeReversal,
  describeReverseOutcome,
  reverseTargets,
} from './analyst';

const outcome = (o: Partial<Outcome>): Outcome => ({
  break_id: 'b-1',
  cause: 'ROUNDING',
  disposition: 'QUEUE',
  reversed: false,
  previous_cause: 'FX',
  previous_disposition: 'QUEUE',
  ...o,
});

describe('reverse targets', () => {
  it('offers every other disposition, QUEUE first unless already queued', () => {
    expect(reverseTargets('ESCALATE')).toEqual(['AUTO_CLOSE', 'QUEUE']);
    expect(reverseTargets('AUTO_CLOSE')).toEqual(['QUEUE', 'ESCALATE']);
    expect(reverseTargets('QUEUE')).toEqual(['AUTO_CLOSE', 'ESCALATE']);
    expect(defaultReverseTarget('ESCALATE')).toBe('QUEUE');
    expect(defaultReverseTarget('AUTO_CLOSE')).toBe('QUEUE');
    expect(defaultReverseTarget('QUEUE')).toBe('ESCALATE');
    for (const d of ['AUTO_CLOSE', 'QUEUE', 'ESCALATE'] as const) {
      expect(reverseTargets(d)).toContain(defaultReverseTarget(d));
    }
  });
});

describe('outcome texts', () => {
  it('describes a label', () => {
    expect(describeLabelOutcome(outcome({}))).toBe('Label sent: Rounding (was FX)');
    expect(describeLabelOutcome(outcome({ cause: 'FX' }))).toBe('Label sent: FX (confirms the model)');
    expect(describeLabelOutcome(outcome({ previous_cause: null, previous_disposition: null }))).toBe(
      'Label sent: Rounding (was pending)',
    );
    expect(
      describeLabelOutcome(outcome({ cause: 'FAT_FINGER', disposition: 'ESCALATE', reversed: true })),
    ).toBe('Label sent: Fat finger (was FX) · decision reversed: Queue → Escalate');
  });

  it('describes a reversal', () => {
    expect(describeReverseOutcome(outcome({ reversed: true, previous_disposition: 'AUTO_CLOSE' }))).toBe(
      'Decision reversed: Auto-close → Queue',
    );
    expect(describeReverseOutcome(outcome({ reversed: false }))).toBe('Reversal sent: the disposition stays Queue');
  });
});

describe('decision history texts', () => {
  const d: Decision = {
    break_id: 'b-1',
    version: 2,
    recon: 'trades',
    cause: 'FAT_FINGER',
    confidence: 0.7,
    disposition: 'ESCALATE',
    priority: 1,
    materiality: '5000.00',
    anomaly: 0.4,
    decided_by: 'model',
    model_offset: 3,
    reasons: [],
    decided_at: '2026-11-26T15:00:00Z',
    reversed_at: null,
    reversed_by: null,
    reversed_to: null,
    reversal_reason: null,
  };

  it('says nothing for a decision in force', () => {
    expect(describeReversal(d)).toBeNull();
  });

  it('describes a reversal', () => {
    expect(
      describeReversal({
        ...d,
        reversed_at: '2026-11-26T15:35:01.123Z',
        reversed_by: 'alice',
        reversed_to: 'QUEUE',
        reversal_reason: 'labelled ROUNDING',
      }),
    ).toBe('Reversed to Queue by alice, 2026-11-26 15:35:01 UTC — labelled ROUNDING');
    expect(
      describeReversal({ ...d, reversed_to: 'ESCALATE', reversed_by: 'api', reversal_reason: 'reversed to ESCALATE', reversed_at: '2026-11-26T15:35:01Z' }),
    ).toBe('Reversed to Escalate by api, 2026-11-26 15:35:01 UTC');
    expect(describeReversal({ ...d, reversed_to: 'AUTO_CLOSE', reversed_at: '2026-11-26T15:35:01Z' })).toBe(
      'Reversed to Auto-close, 2026-11-26 15:35:01 UTC',
    );
  });

  it('names decision causes', () => {
    expect(decisionCause('STATIC_DATA')).toBe('Static data');
    expect(decisionCause('SOMETHING_NEW')).toBe('SOMETHING_NEW');
    expect(decisionCause(null)).toBe('—');
  });
});
