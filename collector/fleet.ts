// The fleet list as the dashboard pages through it (GET /api/hosts), the class tiles, and the
// fleet-wide feed of class changes (GET /api/class-changes). All filtering, sorting and paging
// happen in the store, so a page costs the same with 50 hosts or 5,000; trends (sparklines) are
// read for the hosts of the page only. This is the one place the API asks for fleet data: an
// in-memory fleet summary can replace the store calls here without touching the routes.
import { CLASSES } from './engine/types.js';
import type { FleetState } from './fleet-state.js';
import { FleetTrends, type Trend } from './fleet-trends.js';
import type { ClassChange, HostCount, HostRecord, HostSort, Store } from './store/store.js';
import { HOST_SORTS } from './store/store.js';
import { QueryError, queryInt, queryString } from './query.js';

export const FLEET_PAGE_DEFAULT = 50;
export const FLEET_PAGE_MAX = 200;
export const CHANGES_PAGE_DEFAULT = 20;
export const CHANGES_PAGE_MAX = 200;
const SEARCH_MAX = 200;


/** The query string of GET /api/hosts. */
export interface FleetQueryString {
  limit?: string;
  offset?: string;
  sort?: string;
  order?: string;
  class?: string;
  state?: string;
  q?: string;
}

export interface FleetRequest {
  limit: number;
  offset: number;
  sort: HostSort;
  desc: boolean;
  classes?: string[];
  state?: 'online' | 'offline';
  search?: string;
}

const FILTER_CLASSES: readonly string[] = [...CLASSES, 'pending'];

function classList(given: unknown): string[] | undefined {
  const v = queryString(given, 'class');
  if (v === undefined || v === '') return undefined;
  const list = v.split(',').map((c) => c.trim()).filter(Boolean);
  const bad = list.filter((c) => !FILTER_CLASSES.includes(c));
  if (bad.length) throw new QueryError(`unknown class ${JSON.stringify(bad[0])}: one of ${FILTER_CLASSES.join(', ')}`);
  return list;
}

function search(given: unknown): string | undefined {
  const s = (queryString(given, 'q') ?? '').trim();
  if (s.length > SEARCH_MAX) throw new QueryError(`query parameter q must be at most ${SEARCH_MAX} characters`);
  return s || undefined;
}

export function parseFleetQuery(q: FleetQueryString): FleetRequest {
  const sort = (q.sort ?? 'state') as HostSort;
  if (!HOST_SORTS.includes(sort)) throw new QueryError(`query parameter sort must be one of ${HOST_SORTS.join(', ')}`);
  if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') throw new QueryError('query parameter order must be asc or desc');
  if (q.state !== undefined && q.state !== '' && q.state !== 'online' && q.state !== 'offline') throw new QueryError('query parameter state must be online or offline');
  const classes = classList(q.class);
  const s = search(q.q);
  return {
    limit: queryInt(q.limit, 'limit', FLEET_PAGE_DEFAULT, 1, FLEET_PAGE_MAX),
    offset: queryInt(q.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    sort,
    desc: q.order === 'desc',
    ...(classes ? { classes } : {}),
    ...(q.state === 'online' || q.state === 'offline' ? { state: q.state } : {}),
    ...(s ? { search: s } : {}),
  };
}

export interface FleetHost {
  id: string;
  hostname: string;
  class: string | null;
  confidence: number | null;
  nonAi: boolean;
  lastSeenMs: number;
  online: boolean;
  /** online, or offline: no data within the online window; its figures are as old as ageMs. */
  state: 'online' | 'offline';
  ageMs: number;
  /** The 10 minutes up to the host's last data: an offline host's are its last figures. */
  trend: Trend;
}

/** The class tiles: online hosts per class (offline ones count only in `offline`). */
export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  /** Online hosts per class, `pending` for those without a verdict yet. */
  classes: Record<string, number>;
  /** Online hosts whose current verdict holds non-AI work. */
  nonAi: number;
}

export interface FleetPage {
  total: number;
  offset: number;
  limit: number;
  sort: HostSort;
  order: 'asc' | 'desc';
  counts: FleetCounts;
  hosts: FleetHost[];
}

/**
 * Where the fleet list's data comes from: the store (filters, order, pages, counts) and memory for
 * the sparklines: the collector's fleet summary (fleet-state.ts, kept by ingest for hosts heard
 * from within its trend span), else this module's own rings (hosts silent for longer, whose last
 * figures the summary no longer holds, read from the store once).
 */
export interface FleetSource {
  store: Pick<Store, 'queryHosts' | 'hostCounts' | 'sampleSummaries'>;
  trends: FleetTrends;
  fleet?: Pick<FleetState, 'get'>;
}

export function fleetCounts(rows: HostCount[]): FleetCounts {
  const c: FleetCounts = { total: 0, online: 0, offline: 0, classes: Object.fromEntries(FILTER_CLASSES.map((k) => [k, 0])), nonAi: 0 };
  for (const r of rows) {
    c.total += r.hosts;
    if (!r.online) {
      c.offline += r.hosts;
      continue;
    }
    c.online += r.hosts;
    c.nonAi += r.nonAi;
    const k = r.class ?? 'pending';
    c.classes[k] = (c.classes[k] ?? 0) + r.hosts;
  }
  return c;
}

function summaryTrend(t: { tsMs: number[]; cpuPct: number[]; gpuPct: (number | null)[]; powerWatts: (number | null)[] } | undefined): Trend | null {
  return t && t.tsMs.length ? { tsMs: t.tsMs, cpuPct: t.cpuPct, gpuPct: t.gpuPct, powerWatts: t.powerWatts } : null;
}

export async function fleetHost(src: FleetSource, h: HostRecord, nowMs: number, onlineWithinMs: number): Promise<FleetHost> {
  const online = nowMs - h.lastSeenMs <= onlineWithinMs;
  const end = Math.min(nowMs, h.lastSeenMs);
  return {
    id: h.id,
    hostname: h.hostname,
    class: h.verdictClass,
    confidence: h.verdictConfidence,
    nonAi: h.verdictNonAi,
    lastSeenMs: h.lastSeenMs,
    online,
    state: online ? 'online' : 'offline',
    ageMs: Math.max(0, nowMs - h.lastSeenMs),
    trend: summaryTrend(src.fleet?.get(h.id)?.trend) ?? (await src.trends.trend(h.id, end, (fromMs, toMs, points) => src.store.sampleSummaries(h.id, fromMs, toMs, points))),
  };
}

/** One page of the fleet list with the tiles' counts. */
export async function fleetPage(src: FleetSource, r: FleetRequest, nowMs: number, onlineWithinMs: number): Promise<FleetPage> {
  const { store } = src;
  const onlineSinceMs = nowMs - onlineWithinMs;
  const [page, counts] = await Promise.all([
    store.queryHosts({ onlineSinceMs, sort: r.sort, desc: r.desc, limit: r.limit, offset: r.offset, ...(r.classes ? { classes: r.classes } : {}), ...(r.state ? { state: r.state } : {}), ...(r.search ? { search: r.search } : {}) }),
    store.hostCounts(onlineSinceMs),
  ]);
  return {
    total: page.total,
    offset: r.offset,
    limit: r.limit,
    sort: r.sort,
    order: r.desc ? 'desc' : 'asc',
    counts: fleetCounts(counts),
    hosts: await Promise.all(page.hosts.map((h) => fleetHost(src, h, nowMs, onlineWithinMs))),
  };
}

export interface ChangesQueryString {
  limit?: string;
  offset?: string;
  class?: string;
  q?: string;
  order?: string;
}

export async function classChangesPage(store: Pick<Store, 'classChanges'>, q: ChangesQueryString): Promise<{ total: number; offset: number; limit: number; order: string; changes: ClassChange[] }> {
  const order = q.order ?? 'nonAiFirst';
  if (order !== 'nonAiFirst' && order !== 'time') throw new QueryError('query parameter order must be nonAiFirst or time');
  const limit = queryInt(q.limit, 'limit', CHANGES_PAGE_DEFAULT, 1, CHANGES_PAGE_MAX);
  const offset = queryInt(q.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const classes = classList(q.class)?.filter((c) => c !== 'pending');
  const s = search(q.q);
  const r = await store.classChanges({ order, limit, offset, ...(classes?.length ? { classes } : {}), ...(s ? { search: s } : {}) });
  return { total: r.total, offset, limit, order, changes: r.changes };
}
