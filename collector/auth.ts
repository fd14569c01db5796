// Tokens and roles. Viewer routes (fleet data) are open on a loopback collector unless
// --require-tokens, and need a viewer or admin token everywhere else; admin routes (changes,
// e.g. revoking agents) need the admin token always, loopback included. Which route has which
// role is declared in routes.ts; this module only answers "may this token use that role".
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RouteRole } from './routes.js';

export type Role = 'viewer' | 'admin';

export interface AuthConfig {
  /** When false, viewer routes are open (loopback bind without --require-tokens). */
  required: boolean;
  viewerToken: string | null;
  /** Always set: admin routes need it even on loopback. */
  adminToken: string;
}

/** Least length of a token or secret given by environment or file (generated ones are 43). */
export const MIN_SECRET_LENGTH = 16;

/** Sub-protocol that carries the token on /live: `assay.bearer.<base64url(token)>` (browsers cannot set headers on WebSockets). */
export const LIVE_PROTOCOL = 'assay.live';
const BEARER_PROTOCOL = 'assay.bearer.';

/** Checks a token or secret given from outside (environment, option, file) before startup goes on. */
export function checkSecret(name: string, value: string): string {
  if (value.length < MIN_SECRET_LENGTH) throw new Error(`${name} must be at least ${MIN_SECRET_LENGTH} characters (it has ${value.length})`);
  if (!/^[\x21-\x7e]+$/.test(value)) throw new Error(`${name} must be printable ASCII without spaces`);
  return value;
}

// Compares digests: always 32 bytes each, so the comparison neither throws on a token with as many
// characters as the real one but more UTF-8 bytes (`é`×43 crashed the collector from /live) nor
// returns early on a different length (which told a prober the token's length).
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const eq = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/**
 * `Authorization: Bearer …`: the only way an HTTP request carries a token. The scheme name is
 * case-insensitive (RFC 9110 §11.1, RFC 6750 §2.1): `bearer x` is the same credential as `Bearer x`.
 */
export function bearerToken(req: Pick<IncomingMessage, 'headers'>): string | null {
  const m = /^bearer[ \t]+(.*)$/is.exec(req.headers.authorization ?? '');
  return m ? m[1]!.trim() || null : null;
}

/**
 * The token of a /live upgrade: the Authorization header (scripts), the `assay.bearer.…`
 * sub-protocol (the dashboard), or `?token=` (kept for scripts on /live only; it ends up in logs).
 */
export function liveToken(req: Pick<IncomingMessage, 'headers' | 'url'>): string | null {
  const fromHeader = bearerToken(req);
  if (fromHeader) return fromHeader;
  for (const p of (req.headers['sec-websocket-protocol'] ?? '').split(',')) {
    const v = p.trim();
    if (v.startsWith(BEARER_PROTOCOL)) return Buffer.from(v.slice(BEARER_PROTOCOL.length), 'base64url').toString('utf8') || null;
  }
  return new URL(req.url ?? '/', 'http://x').searchParams.get('token') || null;
}

/** The role a token grants, or null. */
export function roleOf(config: AuthConfig, token: string | null): Role | null {
  if (!token) return null;
  if (eq(token, config.adminToken)) return 'admin';
  if (config.viewerToken && eq(token, config.viewerToken)) return 'viewer';
  return null;
}

export type Decision = { ok: true } | { ok: false; status: 401 | 403; error: string };

/** Whether a request with `token` may use a route of role `need`. */
export function decide(config: AuthConfig, need: RouteRole, token: string | null): Decision {
  if (need === 'public' || need === 'agent') return { ok: true };
  const granted = roleOf(config, token);
  if (need === 'viewer') {
    if (!config.required || granted) return { ok: true };
    return { ok: false, status: 401, error: 'a viewer or admin token is required (Authorization: Bearer …)' };
  }
  if (granted === 'admin') return { ok: true };
  if (granted === 'viewer') return { ok: false, status: 403, error: 'this needs the admin token' };
  return { ok: false, status: 401, error: 'the admin token is required (Authorization: Bearer …), on loopback too' };
}
