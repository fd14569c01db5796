// API and dashboard-data access: open on loopback (the quick start), token-protected on any
// other address. Two roles: viewer (reads) and admin (reads and changes, e.g. revoking agents).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Role = 'viewer' | 'admin';

export interface AuthConfig {
  /** When false every request is allowed (loopback bind). */
  required: boolean;
  viewerToken: string | null;
  adminToken: string | null;
}

const eq = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The token a request carries: `Authorization: Bearer …`, or `?token=` (WebSockets from browsers). */
export function requestToken(req: Pick<IncomingMessage, 'headers' | 'url'>): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  return q || null;
}

/** The role a token grants, or null. */
export function roleOf(config: AuthConfig, token: string | null): Role | null {
  if (!config.required) return 'admin';
  if (!token) return null;
  if (config.adminToken && eq(token, config.adminToken)) return 'admin';
  if (config.viewerToken && eq(token, config.viewerToken)) return 'viewer';
  return null;
}

/** Whether a request needs a token at all: data routes do, the static dashboard shell does not. */
export function isProtectedPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path.startsWith('/api/') || path === '/api' || path === '/metrics' || path === '/live';
}
