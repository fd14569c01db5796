// Every route the collector serves and who may use it: ONE table, deny by default.
// Protection is decided on the route the router matched (never on the raw URL, which can be
// spelled `/%61pi/hosts`), and a route registered without a line here stops startup.
//
//   public  — carries no fleet data (the dashboard shell, its static files, /healthz)
//   agent   — WebSocket whose protocol authenticates the agent itself (challenge + signatures)
//   viewer  — fleet data: open on a loopback collector without --require-tokens, else a token
//   admin   — changes: the admin token always, loopback included
export type RouteRole = 'public' | 'agent' | 'viewer' | 'admin';

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** The route pattern exactly as registered with fastify (or the WebSocket path). */
  url: string;
  role: RouteRole;
  /** Served by a WebSocket upgrade (outside fastify's router): matched on the exact raw path. */
  websocket?: true;
  /** An example concrete path, for tests that try spellings of every route. */
  example: string;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', url: '/', role: 'public', example: '/' },
  { method: 'GET', url: '/healthz', role: 'public', example: '/healthz' },
  { method: 'GET', url: '/assets/*', role: 'public', example: '/assets/app.js' },
  { method: 'GET', url: '/vendor/uplot/*', role: 'public', example: '/vendor/uplot/uPlot.min.css' },
  { method: 'GET', url: '/metrics', role: 'viewer', example: '/metrics' },
  { method: 'GET', url: '/api/hosts', role: 'viewer', example: '/api/hosts' },
  { method: 'GET', url: '/api/fleet', role: 'viewer', example: '/api/fleet' },
  { method: 'GET', url: '/api/class-changes', role: 'viewer', example: '/api/class-changes' },
  { method: 'GET', url: '/api/hosts/:id', role: 'viewer', example: '/api/hosts/HOST' },
  { method: 'GET', url: '/api/hosts/:id/samples', role: 'viewer', example: '/api/hosts/HOST/samples' },
  { method: 'GET', url: '/api/hosts/:id/verdicts', role: 'viewer', example: '/api/hosts/HOST/verdicts' },
  { method: 'GET', url: '/api/hosts/:id/processes', role: 'viewer', example: '/api/hosts/HOST/processes' },
  { method: 'GET', url: '/api/hosts/:id/report', role: 'viewer', example: '/api/hosts/HOST/report' },
  { method: 'POST', url: '/api/agents/:id/revoke', role: 'admin', example: '/api/agents/HOST/revoke' },
  { method: 'GET', url: '/live', role: 'viewer', websocket: true, example: '/live' },
  { method: 'GET', url: '/ingest', role: 'agent', websocket: true, example: '/ingest' },
];

const key = (method: string, url: string): string => `${method} ${url}`;
const httpRoles = new Map(ROUTES.filter((r) => !r.websocket).map((r) => [key(r.method, r.url), r.role]));
const wsRoutes = new Map(ROUTES.filter((r) => r.websocket).map((r) => [r.url, r]));

/** The declared role of a routed request (HEAD shares its GET route's line), or null: refuse. */
export function routeRole(method: string, routeUrl: string | undefined): RouteRole | null {
  if (routeUrl === undefined) return null;
  return httpRoles.get(key(method === 'HEAD' ? 'GET' : method, routeUrl)) ?? null;
}

/** The WebSocket route for an upgrade request's raw path (exact match, no decoding), or null. */
export function websocketRoute(rawUrl: string | undefined): RouteSpec | null {
  return wsRoutes.get((rawUrl ?? '').split('?')[0]!) ?? null;
}

/** Throws when fastify registers a route this table does not declare (checked at startup). */
export function assertDeclared(methods: string | string[], url: string): void {
  for (const m of Array.isArray(methods) ? methods : [methods]) {
    if (!routeRole(m, url)) throw new Error(`route ${m} ${url} has no declared role in collector/routes.ts`);
  }
}
