// Who is signed in and what they may do (bff/routers/auth.py `Me`, bff/auth/permissions.py).
// Pure: no React, no I/O (the requests are in api.ts). The BFF decides every permission;
// the UI only hides or disables what it would refuse, and says why.

export const PERMISSIONS = ['read', 'label', 'comment', 'assign', 'propose', 'approve', 'audit', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The roles that grant each permission (bff/auth/permissions.py ROLE_PERMISSIONS), for the
 *  "why not" texts only: what a user may do is me.permissions, as the BFF computed it. */
export const GRANTED_BY: Record<Permission, readonly string[]> = {
  read: ['viewer', 'analyst', 'approver', 'admin'],
  label: ['analyst'],
  comment: ['analyst'],
  assign: ['analyst'],
  propose: ['analyst'],
  approve: ['approver'],
  audit: ['approver', 'admin'],
  admin: ['admin'],
};

/** GET /api/auth/me (and the answer of POST /api/auth/sign-in). */
export interface Me {
  username: string;
  display_name: string;
  roles: string[];
  permissions: string[];
  /** the recons the user sees; null = every recon */
  recons: string[] | null;
  /** 'session' (a browser sign-in) | 'token' (an API token) */
  via: string;
  /** send back as X-CSRF-Token with every change (null for an API token) */
  csrf_token: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | null =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : null;

/** Validate a Me; null when it is not one. */
export function parseMe(value: unknown): Me | null {
  if (!isObject(value) || typeof value.username !== 'string' || value.username === '') return null;
  const roles = strings(value.roles);
  const permissions = strings(value.permissions);
  if (roles === null || permissions === null) return null;
  const all = value.recons === null || value.recons === undefined;
  const recons = all ? null : strings(value.recons);
  if (!all && recons === null) return null;
  return {
    username: value.username,
    display_name: typeof value.display_name === 'string' ? value.display_name : '',
    roles,
    permissions,
    recons,
    via: typeof value.via === 'string' ? value.via : 'session',
    csrf_token: typeof value.csrf_token === 'string' && value.csrf_token !== '' ? value.csrf_token : null,
  };
}

/** Whether the signed-in user holds `permission`. */
export function can(me: Me | null | undefined, permission: Permission): boolean {
  return !!me && me.permissions.includes(permission);
}

/** The name shown in the top bar: the display name, else the username. */
export function displayName(me: Me): string {
  return me.display_name.trim() || me.username;
}

/** `analyst, viewer`, or `no role`. */
export function rolesText(me: Me): string {
  return me.roles.length === 0 ? 'no role' : me.roles.join(', ');
}

const list = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

/**
 * Why the user may not do what needs `permission` (the title of a disabled control), or
 * null when they may: `Labelling needs the label permission (role analyst); you are
 * signed in as bob (viewer)`.
 */
export function deniedReason(me: Me | null | undefined, permission: Permission, what = 'This'): string | null {
  if (can(me, permission)) return null;
  const roles = GRANTED_BY[permission];
  const by = roles.length === 0 ? '' : ` (role ${list(roles)})`;
  const who = me ? `; you are signed in as ${me.username} (${rolesText(me)})` : '';
  return `${what} needs the ${permission} permission${by}${who}`;
}

/** GET /api/auth/methods. */
export interface SignInMethods {
  password: boolean;
  /** single sign-on: the button's label and where to send the browser */
  sso: { label: string; url: string } | null;
}

export const DEFAULT_METHODS: SignInMethods = { password: true, sso: null };

export function parseMethods(value: unknown): SignInMethods {
  if (!isObject(value)) return DEFAULT_METHODS;
  const sso = value.sso;
  return {
    password: value.password !== false,
    sso:
      isObject(sso) && typeof sso.url === 'string' && sso.url !== ''
        ? { label: typeof sso.label === 'string' && sso.label.trim() !== '' ? sso.label : 'Single sign-on', url: sso.url }
        : null,
  };
}

/**
 * The reason a single sign-on failed, as the BFF puts it in the URL after the provider
 * (`/?sign_in_error=no+greenai+role+for+this+account%27s+groups`), or null.
 */
export function signInErrorOf(query: string): string | null {
  const text = new URLSearchParams(query).get('sign_in_error')?.trim();
  return text ? text.slice(0, 300) : null;
}

/** The query without `sign_in_error` (shown once, then dropped from the URL). */
export function withoutSignInError(query: string): string {
  const p = new URLSearchParams(query);
  p.delete('sign_in_error');
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
