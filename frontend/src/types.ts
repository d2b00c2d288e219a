// The Break contract (docs: /work/shared/DESIGN.md, "Break"). Field names are exact.
// Decimal values travel as exact strings (never floats), so `values` and `delta` are
// strings or null.

export const KINDS = ['MISMATCH', 'MISSING', 'DUPLICATE'] as const;
export type Kind = (typeof KINDS)[number];

export const STATUSES = ['OPEN', 'IN_REVIEW', 'RESOLVED', 'CLOSED'] as const;
export type Status = (typeof STATUSES)[number];

export const CAUSES = [
  'TIMING',
  'ROUNDING',
  'FX',
  'STATIC_DATA',
  'FAT_FINGER',
  'FEE',
  'MISSING_BOOKING',
  'DUPLICATE_BOOKING',
  'UNKNOWN',
] as const;
export type Cause = (typeof CAUSES)[number];

export const DISPOSITIONS = ['AUTO_CLOSE', 'QUEUE', 'ESCALATE'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** Ageing buckets in business days, youngest first (streams/domain/workflow_rules.py BUCKETS). */
export const AGEING_BUCKETS = ['0-1', '2-3', '4-7', '>7'] as const;
export type AgeingBucket = (typeof AGEING_BUCKETS)[number];

export interface FieldDiff {
  field: string;
  /** source name -> value as an exact string (null when the source has no value) */
  values: Record<string, string | null>;
  delta: string | null;
}

export interface ExplanationItem {
  feature: string;
  value: string | number | boolean | null;
  weight: number;
}

export interface Break {
  break_id: string;
  recon: string;
  key: Record<string, string | number | boolean | null>;
  kind: Kind;
  missing_in: string | null;
  status: Status;
  fields: FieldDiff[];
  /** null until the attribution worker has seen the break */
  cause: Cause | null;
  confidence: number | null;
  explanation: ExplanationItem[];
  disposition: Disposition | null;
  /** 1 (most urgent) .. 5; null before the Discriminator has decided */
  priority: number | null;
  first_seen: string;
  updated_at: string;
  version: number;
  // ---- the exception workflow (absent from older payloads: parseBreak fills defaults) ----
  /** workflow changes within one version; a break is ordered by (version, revision) */
  revision: number;
  /** a user name, "team:<name>", or null (unassigned) */
  owner: string | null;
  /** e.g. "auto:ROUNDING" (a rule) or a person's reason code such as "WRITTEN_OFF" */
  close_reason: string | null;
  close_note: string | null;
  tags: string[];
  /** a maker's pending proposal awaiting an approver */
  proposal: Proposal | null;
  /** the amount at stake in the recon's reporting currency, as decimal text */
  materiality: string | null;
  // ---- ageing (as of the BFF's response or the stream event; absent: parseBreak's defaults) ----
  /** business days since first_seen in the recon's holiday calendar; null when not sent */
  age_days: number | null;
  ageing_bucket: AgeingBucket | null;
  /** the SLA deadline (ISO instant), or null when the recon sets no SLA for the cause */
  due: string | null;
  /** unsettled and past `due` when the BFF answered (see isOverdue for "now") */
  overdue: boolean;
  /** source -> {field: text}: every source's full record (when the BFF sends them) */
  records?: Record<string, Record<string, string | null>>;
}

export const PROPOSAL_ACTIONS = ['CLOSE', 'WRITE_OFF'] as const;
export type ProposalAction = (typeof PROPOSAL_ACTIONS)[number];

export interface Proposal {
  action: ProposalAction;
  reason: string;
  note: string | null;
  amount: string | null;
  by: string;
  at: string;
}
