// What a browser may do with the collector: which Host names it answers to (so a DNS-rebinding
// page cannot talk to a loopback collector by its own name), which Origins may change things or
// open /live (same origin only), and the headers every response carries.
import { networkInterfaces, hostname as osHostname } from 'node:os';

/** Names a loopback collector always answers to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD = new Set(['0.0.0.0', '::', '[::]', '']);

export interface SiteConfig {
  /** Lower-case host names (IPv6 in brackets) accepted in the Host header; the port is not checked. */
  allowedHosts: ReadonlySet<string>;
}

const bracket = (h: string): string => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h).toLowerCase();

/**
 * Loopback names, the bound address, and `publicHosts` (--public-host: the names users and
 * reverse proxies reach the collector by). A wildcard bind adds this machine's addresses and name.
 */
export function siteConfig(bindHost: string, publicHosts: readonly string[] = []): SiteConfig {
  const names = new Set([...LOOPBACK_NAMES, ...publicHosts.map(bracket)]);
  if (WILDCARD.has(bindHost)) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address.split('%')[0]!));
    names.add(osHostname().toLowerCase());
  } else names.add(bracket(bindHost));
  return { allowedHosts: names };
}

/** The host name of a Host header ("name:port", "[::1]:7300"), or null when malformed. */
function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader || !/^[A-Za-z0-9.:[\]-]+$/.test(hostHeader)) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
}

export function hostAllowed(site: SiteConfig, hostHeader: string | undefined): boolean {
  const name = hostnameOf(hostHeader);
  return name !== null && site.allowedHosts.has(name);
}

/**
 * A request without Origin (curl, scripts, agents) passes; a browser's Origin must be this very
 * collector: the same scheme, host and port as the request's (allow-listed) Host.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined, tls: boolean): boolean {
  if (origin === undefined) return true;
  try {
    const o = new URL(origin);
    const self = new URL(`${tls ? 'https' : 'http'}://${hostHeader ?? ''}`);
    return o.origin === self.origin;
  } catch {
    return false; // "null" and garbage
  }
}

/** Same-origin scripts, styles, images and sockets only; no framing, no plugins, no base or form tricks. */
export const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The self-contained HTML report carries its scripts and styles inline; it runs sandboxed (an
 * opaque origin: no access to the dashboard's stored token) and may load or send nothing.
 */
export const REPORT_CSP = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers on every response (a route may set its own Content-Security-Policy first). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** A raw HTTP refusal for an upgrade request, with the same headers as every other response. */
export function rawRefusal(status: number, text: string, body = ''): string {
  const headers = Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const type = body ? 'Content-Type: application/json; charset=utf-8\r\n' : '';
  return `HTTP/1.1 ${status} ${text}\r\n${headers}${type}Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * The answer to a request the HTTP parser refused (headers too large, malformed, too slow):
 * fastify's own answer carried none of the security headers.
 */
export function rawClientError(code: string | undefined): string {
  const [status, text, why] =
    code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request took too long']
    : code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
    : [400, 'Bad Request', 'malformed HTTP request'];
  return rawRefusal(status, text, JSON.stringify({ error: why }));
}
