import { describe, expect, it } from 'vitest';
import { actionBody, allowedActions, bulkActions, bulkBody, bulkLabelBody, missingField, needsApproval, parseComments } from './workflow';
import { ApiError } from './api';
import { matchesOwner } from './breaks';
import type { Me } from './session';
import type { Break } from './types';

function brk(over: Partial<Break> = {}): Break {
  return {
    break_id: 'b-1',
    recon: 'trades',
    key: { trade_id: 'T-1' },
    kind: 'MISMATCH',
    missing_in: null,
    status: 'OPEN',
    fields: [],
    cause: null,
    confidence: null,
    explanation: [],
    disposition: null,
    priority: null,
    first_seen: '2026-12-03T15:00:00Z',
    updated_at: '2026-12-03T15:00:00Z',
    version: 1,
    revision: 0,
    owner: null,
    close_reason: null,
    close_note: null,
    tags: [],
    proposal: null,
    materiality: null,
    age_days: null,
    ageing_bucket: null,
    due: null,
    overdue: false,
    ...over,
  };
}

const user = (username: string, roles: string[], permissions: string[]): Me => ({
  username,
  display_name: '',
  roles,
  permissions,
  recons: null,
  via: 'session',
  csrf_token: 'x',
});
const analyst = user('alice', ['analyst'], ['read', 'label', 'comment', 'assign', 'propose']);
const approver = user('bob', ['approver'], ['read', 'approve', 'audit']);
const viewer = user('vic', ['viewer'], ['read']);
const proposal = { action: 'CLOSE' as const, reason: 'TIMING_ACCEPTED', note: null, amount: null, by: 'alice', at: '2026-12-03T15:01:00Z' };

describe('which workflow actions a user sees', () => {
  it('a viewer sees none, in any status', () => {
    for (const status of ['OPEN', 'IN_REVIEW', 'RESOLVED', 'CLOSED'] as const) expect(allowedActions(brk({ status }), viewer)).toEqual([]);
    expect(allowedActions(brk(), null)).toEqual([]);
  });

  it('an analyst on an unassigned OPEN break: take, assign, review, close, propose, tag, comment', () => {
    expect(allowedActions(brk(), analyst)).toEqual(['take', 'assign', 'review', 'close', 'propose', 'tag', 'comment']);
  });

  it('an analyst on their own IN_REVIEW break: release instead of take, no review', () => {
    expect(allowedActions(brk({ status: 'IN_REVIEW', owner: 'alice' }), analyst)).toEqual([
      'release',
      'assign',
      'close',
      'propose',
      'tag',
      'comment',
    ]);
  });

  it('a CLOSED break can be reopened, a RESOLVED one only tagged and commented', () => {
    expect(allowedActions(brk({ status: 'CLOSED', owner: 'alice' }), analyst)).toEqual(['reopen', 'tag', 'comment']);
    expect(allowedActions(brk({ status: 'RESOLVED' }), analyst)).toEqual(['tag', 'comment']);
  });

  it('a pending proposal: no second close or proposal; the approver may approve or reject', () => {
    const b = brk({ status: 'IN_REVIEW', owner: 'alice', proposal });
    expect(allowedActions(b, analyst)).toEqual(['release', 'assign', 'tag', 'comment']);
    expect(allowedActions(b, approver)).toEqual(['approve', 'reject']);
    expect(allowedActions(brk({ proposal: null }), approver)).toEqual([]);
  });

  it('never on their own proposal, even holding both roles', () => {
    const both = user('alice', ['analyst', 'approver'], [...analyst.permissions, 'approve']);
    const actions = allowedActions(brk({ proposal }), both);
    expect(actions).not.toContain('approve');
    expect(actions).not.toContain('reject');
    expect(allowedActions(brk({ proposal: { ...proposal, by: 'carol' } }), both)).toContain('approve');
  });

  it('the bulk bar follows permissions only', () => {
    expect(bulkActions(analyst)).toEqual(['take', 'assign', 'label', 'close', 'propose']);
    expect(bulkActions(approver)).toEqual([]);
    expect(bulkActions(viewer)).toEqual([]);
  });
});

describe('request bodies', () => {
  it('leaves out blank fields and trims', () => {
    expect(actionBody('close', { reason: ' DUPLICATE ', note: '  ' })).toEqual({ action: 'close', reason: 'DUPLICATE' });
    expect(actionBody('take')).toEqual({ action: 'take' });
    expect(actionBody('tag', { add: ['q4'], remove: [] })).toEqual({ action: 'tag', add: ['q4'] });
    expect(actionBody('propose', { proposal: 'WRITE_OFF', reason: 'WRITTEN_OFF', amount: '12.50' })).toEqual({
      action: 'propose',
      proposal: 'WRITE_OFF',
      reason: 'WRITTEN_OFF',
      amount: '12.50',
    });
  });

  it('a bulk body carries distinct ids and the action fields', () => {
    expect(bulkBody(['a', 'b', 'a'], 'assign', { to: 'team:ops' })).toEqual({ break_ids: ['a', 'b'], action: 'assign', to: 'team:ops' });
    expect(bulkBody(['a'], 'close', { reason: 'OTHER', note: 'checked' })).toEqual({
      break_ids: ['a'],
      action: 'close',
      reason: 'OTHER',
      note: 'checked',
    });
  });

  it('a bulk label gives one cause to every selected break', () => {
    expect(bulkLabelBody(['a', 'b', 'a'], 'FX')).toEqual({ labels: [{ break_id: 'a', cause: 'FX' }, { break_id: 'b', cause: 'FX' }] });
    expect(() => bulkLabelBody([], 'FX')).toThrow(RangeError);
  });

  it('a bulk body takes 1..1000 breaks', () => {
    expect(() => bulkBody([], 'take')).toThrow(RangeError);
    const many = Array.from({ length: 1001 }, (_, i) => `b-${i}`);
    expect(() => bulkBody(many, 'take')).toThrow(/at most 1000/);
    expect(bulkBody(many.slice(0, 1000), 'take').break_ids).toHaveLength(1000);
  });

  it('says what is missing before sending', () => {
    expect(missingField('assign', {})).toMatch(/whom/);
    expect(missingField('close', { reason: ' ' })).toMatch(/reason/);
    expect(missingField('close', { reason: 'OTHER' })).toBeNull();
    expect(missingField('propose', { proposal: 'WRITE_OFF', reason: 'WRITTEN_OFF' })).toMatch(/amount/);
    expect(missingField('comment', { text: 'x'.repeat(4001) })).toMatch(/4000/);
    expect(missingField('take', {})).toBeNull();
  });
});

describe('responses', () => {
  it('a 409 "needs approval" asks for a proposal', () => {
    expect(needsApproval(new ApiError('break b-1 needs approval: materiality 5000 above 1000', 409))).toBe(true);
    expect(needsApproval(new ApiError('break b-1 is closed', 409))).toBe(false);
    expect(needsApproval(new ApiError('needs approval', 422))).toBe(false);
  });

  it('parses comments, skipping malformed entries', () => {
    expect(parseComments([{ revision: 2, by: 'alice', at: 't', text: 'hi' }, { by: 'x' }])).toEqual([
      { revision: 2, by: 'alice', at: 't', text: 'hi' },
    ]);
    expect(parseComments({})).toBeNull();
  });

  it('owner filters: mine, unassigned, one owner', () => {
    expect(matchesOwner({ owner: 'alice' }, { kind: 'mine' }, 'alice')).toBe(true);
    expect(matchesOwner({ owner: 'bob' }, { kind: 'mine' }, 'alice')).toBe(false);
    expect(matchesOwner({ owner: null }, { kind: 'unassigned' }, 'alice')).toBe(true);
    expect(matchesOwner({ owner: 'team:ops' }, { kind: 'owner', owner: 'team:ops' }, null)).toBe(true);
    expect(matchesOwner({ owner: null }, { kind: 'any' }, null)).toBe(true);
  });
});
