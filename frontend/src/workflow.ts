// The exception workflow of a break (bff: POST /api/breaks/{id}/actions, the bulk
// POST /api/breaks/actions, GET /api/breaks/{id}/comments, GET /api/approvals).
//
// Pure core: which actions the signed-in user may take on a break in its status
// (allowedActions), the request bodies (actionBody, bulkBody) and the response parsers.
// The BFF decides every permission; the UI only shows what it would accept. A 202 means
// the command was accepted, not applied: the change arrives as the break's next revision
// over the live stream, so nothing is changed locally.

import { requestJson, ApiError } from './api';
import { parseBreak } from './breaks';
import { can, type Me } from './session';
import type { Break, Cause, ProposalAction } from './types';

export const WORKFLOW_ACTIONS = [
  'take',
  'release',
  'assign',
  'review',
  'close',
  'propose',
  'reopen',
  'approve',
  'reject',
  'tag',
  'comment',
] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

/** The reason codes a person closes (or proposes to close) a break with. */
export const CLOSE_REASONS = ['WRITTEN_OFF', 'DUPLICATE', 'TIMING_ACCEPTED', 'OTHER'] as const;

const unsettled = (b: Break): boolean => b.status === 'OPEN' || b.status === 'IN_REVIEW';

/**
 * The workflow actions `me` may take on `brk` now, in display order. Permissions come
 * from the BFF (me.permissions): assign (take, release, assign, review), propose (close,
 * propose, reopen), approve (approve, reject another user's pending proposal), label
 * (tags), comment.
 */
export function allowedActions(brk: Break, me: Me | null): WorkflowAction[] {
  if (!me) return [];
  const out: WorkflowAction[] = [];
  const open = unsettled(brk);
  const pending = brk.proposal !== null;
  if (can(me, 'assign') && open) {
    if (brk.owner !== me.username) out.push('take');
    if (brk.owner !== null) out.push('release');
    out.push('assign');
    if (brk.status === 'OPEN') out.push('review');
  }
  if (can(me, 'propose')) {
    if (open && !pending) out.push('close', 'propose');
    if (brk.status === 'CLOSED') out.push('reopen');
  }
  if (can(me, 'approve') && pending && brk.proposal!.by !== me.username) out.push('approve', 'reject');
  if (can(me, 'label')) out.push('tag');
  if (can(me, 'comment')) out.push('comment');
  return out;
}

/** The actions offered for a selection of rows (the bulk bar), by permission only. */
export function bulkActions(me: Me | null): (WorkflowAction | 'label')[] {
  if (!me) return [];
  const out: (WorkflowAction | 'label')[] = [];
  if (can(me, 'assign')) out.push('take', 'assign');
  if (can(me, 'label')) out.push('label');
  if (can(me, 'propose')) out.push('close', 'propose');
  return out;
}

/** The fields an action may carry (the BFF ignores none: send only what applies). */
export interface ActionFields {
  to?: string;
  reason?: string;
  note?: string;
  text?: string;
  add?: string[];
  remove?: string[];
  proposal?: ProposalAction;
  amount?: string;
}

export interface ActionBody extends ActionFields {
  action: WorkflowAction;
}

const trimmed = (s: string | undefined): string | undefined => {
  const t = s?.trim();
  return t ? t : undefined;
};

/** The JSON body of one action: blank strings and empty lists are left out. */
export function actionBody(action: WorkflowAction, fields: ActionFields = {}): ActionBody {
  const body: ActionBody = { action };
  const to = trimmed(fields.to);
  const reason = trimmed(fields.reason);
  const note = trimmed(fields.note);
  const amount = trimmed(fields.amount);
  if (to !== undefined) body.to = to;
  if (reason !== undefined) body.reason = reason;
  if (note !== undefined) body.note = note;
  if (fields.text !== undefined && fields.text.trim() !== '') body.text = fields.text;
  if (fields.add && fields.add.length > 0) body.add = fields.add;
  if (fields.remove && fields.remove.length > 0) body.remove = fields.remove;
  if (fields.proposal !== undefined) body.proposal = fields.proposal;
  if (amount !== undefined) body.amount = amount;
  return body;
}

export const MAX_BULK = 1000;

/** The body of POST /api/breaks/actions: distinct ids, 1..1000 of them. */
export function bulkBody(breakIds: readonly string[], action: WorkflowAction, fields: ActionFields = {}): ActionBody & { break_ids: string[] } {
  const ids = [...new Set(breakIds)];
  if (ids.length === 0) throw new RangeError('select at least one break');
  if (ids.length > MAX_BULK) throw new RangeError(`at most ${MAX_BULK} breaks at once (${ids.length} selected)`);
  return { break_ids: ids, ...actionBody(action, fields) };
}

/** What is missing from a request before it is sent (the BFF would answer 422), or null. */
export function missingField(action: WorkflowAction, fields: ActionFields): string | null {
  const blank = (s: string | undefined) => s === undefined || s.trim() === '';
  if (action === 'assign' && blank(fields.to)) return 'Assign to whom?';
  if ((action === 'close' || action === 'reopen' || action === 'reject' || action === 'propose') && blank(fields.reason))
    return 'A reason is required.';
  if (action === 'propose' && fields.proposal === 'WRITE_OFF' && blank(fields.amount)) return 'A write-off needs an amount.';
  if (action === 'comment' && blank(fields.text)) return 'Write a comment first.';
  if (action === 'comment' && (fields.text?.length ?? 0) > 4000) return 'A comment is at most 4000 characters.';
  return null;
}

/** The 409 of a close above the recon's approval threshold: propose instead. */
export const needsApproval = (err: unknown): boolean =>
  err instanceof ApiError && err.status === 409 && /needs approval/i.test(err.message);

export interface Accepted {
  break_id: string;
  command_id: string;
  action: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseAccepted(value: unknown): Accepted | null {
  if (!isObject(value) || typeof value.break_id !== 'string' || typeof value.command_id !== 'string') return null;
  return { break_id: value.break_id, command_id: value.command_id, action: typeof value.action === 'string' ? value.action : '' };
}

export interface Comment {
  revision: number;
  by: string;
  at: string;
  text: string;
}

export function parseComments(value: unknown): Comment[] | null {
  if (!Array.isArray(value)) return null;
  const out: Comment[] = [];
  for (const c of value) {
    if (!isObject(c) || typeof c.text !== 'string') continue;
    out.push({
      revision: typeof c.revision === 'number' ? c.revision : 0,
      by: typeof c.by === 'string' ? c.by : '',
      at: typeof c.at === 'string' ? c.at : '',
      text: c.text,
    });
  }
  return out;
}

// ---- I/O ------------------------------------------------------------------------------

export const actionsPath = (breakId: string): string => `api/breaks/${encodeURIComponent(breakId)}/actions`;
export const BULK_ACTIONS_PATH = 'api/breaks/actions';
export const commentsPath = (breakId: string): string => `api/breaks/${encodeURIComponent(breakId)}/comments`;
export const APPROVALS_PATH = 'api/approvals';

/** POST /api/breaks/{id}/actions → 202: accepted, applied asynchronously. */
export async function sendAction(breakId: string, action: WorkflowAction, fields: ActionFields = {}): Promise<Accepted> {
  const json = await requestJson(actionsPath(breakId), { method: 'POST', body: JSON.stringify(actionBody(action, fields)) });
  return parseAccepted(json) ?? { break_id: breakId, command_id: '', action };
}

/** POST /api/breaks/actions: all or nothing; a 4xx names the first break that cannot. */
export async function sendBulkAction(breakIds: readonly string[], action: WorkflowAction, fields: ActionFields = {}): Promise<Accepted[]> {
  const json = await requestJson(BULK_ACTIONS_PATH, { method: 'POST', body: JSON.stringify(bulkBody(breakIds, action, fields)) });
  const list = isObject(json) && Array.isArray(json.accepted) ? json.accepted : [];
  return list.map(parseAccepted).filter((a): a is Accepted => a !== null);
}

export async function fetchComments(breakId: string, signal?: AbortSignal): Promise<Comment[]> {
  const json = await requestJson(commentsPath(breakId), { method: 'GET', signal });
  const list = parseComments(json);
  if (list === null) throw new ApiError(`GET /${commentsPath(breakId)}: expected a JSON array`, null);
  return list;
}

/** GET /api/approvals: breaks with a pending proposal, newest first (approvers only). */
export async function fetchApprovals(signal?: AbortSignal): Promise<Break[]> {
  const json = await requestJson(APPROVALS_PATH, { method: 'GET', signal });
  if (!Array.isArray(json)) throw new ApiError(`GET /${APPROVALS_PATH}: expected a JSON array`, null);
  return json.map(parseBreak).filter((b): b is Break => b !== null);
}

/** The body of POST /api/breaks/labels: one cause for every selected break. */
export function bulkLabelBody(breakIds: readonly string[], cause: Cause): { labels: { break_id: string; cause: Cause }[] } {
  const ids = [...new Set(breakIds)];
  if (ids.length === 0) throw new RangeError('select at least one break');
  return { labels: ids.map((break_id) => ({ break_id, cause })) };
}

/** POST /api/breaks/labels: all are checked before any is given. */
export async function sendBulkLabel(breakIds: readonly string[], cause: Cause): Promise<void> {
  await requestJson('api/breaks/labels', { method: 'POST', body: JSON.stringify(bulkLabelBody(breakIds, cause)) });
}
