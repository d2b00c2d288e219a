import { describe, expect, it } from 'vitest';
import {
  can,
  deniedReason,
  displayName,
  parseMe,
  parseMethods,
  PERMISSIONS,
  rolesText,
  signInErrorOf,
  withoutSignInError,
  type Me,
} from './session';

const me = (o: Partial<Me> = {}): Me => ({
  username: 'ana',
  display_name: 'Ana Analyst',
  roles: ['analyst'],
  permissions: ['assign', 'comment', 'label', 'propose', 'read'],
  recons: null,
  via: 'session',
  csrf_token: 'c',
  ...o,
});

describe('Me', () => {
  it('parses the BFF answer', () => {
    const body = { ...me(), recons: ['trades'] };
    expect(parseMe(body)).toEqual(body);
    expect(parseMe({ ...body, recons: null, csrf_token: null, via: 'token' })).toMatchObject({ recons: null, csrf_token: null, via: 'token' });
  });

  it('refuses what is not one', () => {
    expect(parseMe(null)).toBeNull();
    expect(parseMe({ username: '' , roles: [], permissions: [] })).toBeNull();
    expect(parseMe({ username: 'a', roles: 'admin', permissions: [] })).toBeNull();
    expect(parseMe({ username: 'a', roles: [], permissions: [1] })).toBeNull();
    expect(parseMe({ username: 'a', roles: [], permissions: [], recons: 'trades' })).toBeNull();
  });

  it('names the user', () => {
    expect(displayName(me())).toBe('Ana Analyst');
    expect(displayName(me({ display_name: '  ' }))).toBe('ana');
    expect(rolesText(me({ roles: ['approver', 'viewer'] }))).toBe('approver, viewer');
    expect(rolesText(me({ roles: [] }))).toBe('no role');
  });
});

describe('permissions', () => {
  const viewer = me({ username: 'vic', roles: ['viewer'], permissions: ['read'] });
  const approver = me({ username: 'apu', roles: ['approver'], permissions: ['approve', 'audit', 'read'] });

  it('checks what me.permissions holds', () => {
    expect(can(me(), 'label')).toBe(true);
    expect(can(me(), 'audit')).toBe(false);
    expect(can(viewer, 'label')).toBe(false);
    expect(can(viewer, 'read')).toBe(true);
    expect(can(approver, 'audit')).toBe(true);
    expect(can(approver, 'label')).toBe(false);
    expect(can(null, 'read')).toBe(false);
    for (const p of PERMISSIONS) expect(can(me({ permissions: [...PERMISSIONS] }), p)).toBe(true);
  });

  it('says why not', () => {
    expect(deniedReason(me(), 'label')).toBeNull();
    expect(deniedReason(viewer, 'label', 'Labelling')).toBe(
      'Labelling needs the label permission (role analyst); you are signed in as vic (viewer)',
    );
    expect(deniedReason(me(), 'audit')).toBe(
      'This needs the audit permission (role approver or admin); you are signed in as ana (analyst)',
    );
    expect(deniedReason(null, 'label')).toBe('This needs the label permission (role analyst)');
  });
});

describe('sign-in methods and errors', () => {
  it('parses the methods', () => {
    expect(parseMethods({ password: true, sso: null })).toEqual({ password: true, sso: null });
    expect(parseMethods({ password: true, sso: { label: 'Okta', url: 'api/auth/sso/login' } }).sso).toEqual({
      label: 'Okta',
      url: 'api/auth/sso/login',
    });
    expect(parseMethods({ sso: { label: '', url: 'api/auth/sso/login' } })).toEqual({
      password: true,
      sso: { label: 'Single sign-on', url: 'api/auth/sso/login' },
    });
    expect(parseMethods({ password: true, sso: { label: 'x' } }).sso).toBeNull();
    expect(parseMethods('nope')).toEqual({ password: true, sso: null });
  });

  it('reads and drops sign_in_error', () => {
    const q = "?sign_in_error=no+greenai+role+for+this+account%27s+groups&status=all";
    expect(signInErrorOf(q)).toBe("no greenai role for this account's groups");
    expect(signInErrorOf('?status=all')).toBeNull();
    expect(signInErrorOf('?sign_in_error=+')).toBeNull();
    expect(withoutSignInError(q)).toBe('?status=all');
    expect(withoutSignInError('?sign_in_error=x')).toBe('');
  });
});
