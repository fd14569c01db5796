// JSON routes for the dashboard and scripts. Times are Unix ms; ranges default to the last 15 min.
import type { FastifyInstance } from 'fastify';
import { assay } from '../proto/codec.js';
import type { Logger } from '../proto/log.js';
import type { AgentKeys } from '../proto/chain.js';
import type { Classifier } from './classifier.js';
import type { Rules } from './engine/index.js';
import { processKey, type Verdict } from './engine/types.js';
import { loadRulesFile, defaultRulesPath } from './engine/rules/load.js';
import { hostProcesses, PROCESS_WINDOW_MS } from './host-processes.js';
import { buildReport } from './report/build.js';
import { DEFAULT_REPORT_MAX_SIGNED_BYTES, ReportTooLarge, checkReportBudget } from './report/budget.js';
import { parseTime, reportPeriod } from './report/period.js';
import { QueryError, queryInt, queryString } from './query.js';
import { renderHtml } from './report/render-html.js';
import { REPORT_CSP } from './site.js';
import type { FleetState } from './fleet-state.js';
import type { HostRecord, Store } from './store/store.js';
import type { FleetTrends } from './fleet-trends.js';
import { classChangesPage, fleetPage, parseFleetQuery, type ChangesQueryString, type FleetQueryString } from './fleet.js';

export interface ApiDeps {
  store: Store;
  logger: Logger;
  classifier: Classifier;
  /** The in-memory fleet summary GET /api/hosts serves (the same /live pushes). */
  fleet: FleetState;
  /** A host counts as online when it sent data within this long. */
  onlineWithinMs: number;
  /** The fleet list's sparklines in memory (fed by ingest). */
  trends: FleetTrends;
  now?: () => number;
  /** The collector's report-signing key (loaded or created on first use). */
  reportKeys?: () => AgentKeys;
  /** The rules the classifier runs with now (named in reports; default: the bundled rules). */
  reportRules?: () => Rules;
  /** Signed batch bytes one report may embed (report/budget.ts); a period over it is refused with a 413. */
  reportMaxBytes?: number;
  /** Reports built at once; another asked meanwhile gets a 503 with Retry-After (default 1). */
  reportsAtOnce?: number;
}

const DEFAULT_RANGE_MS = 15 * 60_000;
const MAX_ROWS = 5_000;
/** Raw samples read for the process table (90 s at a 1 s interval, with room for faster agents). */
const PROCESS_SAMPLE_ROWS = 1_000;
/** Brief verdict rows at most: 14 days at one a minute. */
const MAX_BRIEF_ROWS = 20_160;

interface RangeQuery {
  from?: string;
  to?: string;
  limit?: string;
}

/** from/to: Unix ms or ISO dates, read as reports read them (report/period.ts); limit: plain digits. */
function parseRange(q: RangeQuery, nowMs: number, maxLimit = MAX_ROWS): { fromMs: number; toMs: number; limit: number } {
  const time = (v: unknown, name: string): number | undefined => {
    const s = queryString(v, name);
    if (s === undefined || s === '') return undefined;
    try {
      return parseTime(s, name);
    } catch (err) {
      throw new QueryError((err as Error).message);
    }
  };
  const toMs = time(q.to, 'to') ?? nowMs;
  const fromMs = time(q.from, 'from') ?? Math.max(0, toMs - DEFAULT_RANGE_MS);
  if (fromMs > toMs) throw new QueryError('from must not be after to');
  return { fromMs, toMs, limit: queryInt(q.limit, 'limit', maxLimit, 1, maxLimit) };
}

/** A yes/no parameter: 1/true or 0/false (absent or empty: no), given once; anything else is a 400. */
function queryFlag(v: unknown, name: string): boolean {
  const s = queryString(v, name);
  if (s === undefined || s === '' || s === '0' || s === 'false') return false;
  if (s === '1' || s === 'true') return true;
  throw new QueryError(`query parameter ${name} must be 1, true, 0 or false`);
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const now = deps.now ?? Date.now;
  const reportMaxBytes = deps.reportMaxBytes ?? DEFAULT_REPORT_MAX_SIGNED_BYTES;
  let reportsBuilding = 0;
  const online = (h: HostRecord): boolean => now() - h.lastSeenMs <= deps.onlineWithinMs;
  // The published verdict, else (after a restart, before new samples) the newest stored one. Not
  // verdicts(0, max, n).at(-1): that is the n-th OLDEST once a host has more than n verdicts.
  const currentVerdict = async (id: string): Promise<Verdict | null> => deps.classifier.current(id) ?? (await deps.store.verdictBefore(id, Number.MAX_SAFE_INTEGER))?.verdict ?? null;

  // A 4xx says what was wrong with the request. A 500 says only that it failed, and the id of the
  // log line that holds the reason: an internal message (a SQL error, a file path, a stack) tells
  // an outsider about the collector and nothing the caller can fix.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500) return void reply.status(status).send({ error: err.message });
    deps.logger.error({ reason: 'api_error', requestId: req.id, route: req.routeOptions.url, err: err.message, stack: err.stack }, 'api error');
    void reply.status(500).send({ error: `internal error (request ${req.id}; the collector's log has the reason)` });
  });

  // From memory: no query per host (the fleet summary is kept by ingest and the classifier).
  app.get('/api/hosts', async () => {
    deps.fleet.sweep(now());
    return { version: deps.fleet.version, hosts: deps.fleet.list() };
  });

  // The fleet list one page at a time, filtered, sorted and searched by the collector:
  // ?limit&offset&sort=state|hostname|class|lastSeen|confidence&order=asc|desc&class=a,b&state=online|offline&q=text,
  // with the class tiles' counts (what the dashboard's fleet view shows).
  app.get<{ Querystring: FleetQueryString }>('/api/fleet', async (req) => fleetPage(deps, parseFleetQuery(req.query), now(), deps.onlineWithinMs));

  // The fleet-wide feed of class changes: ?limit&offset&class=a,b&q=text&order=nonAiFirst|time.
  app.get<{ Querystring: ChangesQueryString }>('/api/class-changes', async (req) => classChangesPage(deps.store, req.query));

  app.get<{ Params: { id: string } }>('/api/hosts/:id', async (req, reply) => {
    const h = await deps.store.getHost(req.params.id);
    if (!h) return reply.status(404).send({ error: `unknown host ${req.params.id}` });
    const verdict = await currentVerdict(h.id);
    return {
      id: h.id,
      hostname: h.hostname,
      agentVersion: h.agentVersion,
      inventory: h.inventory ? assay.v1.Inventory.toObject(assay.v1.Inventory.fromObject(h.inventory), { defaults: true, arrays: true }) : null,
      firstSeenMs: h.firstSeenMs,
      lastSeenMs: h.lastSeenMs,
      lastSeq: h.lastSeq,
      online: online(h),
      verdict,
    };
  });

  // Admin: refuse an agent from now on (the same as `assay agents revoke`).
  app.post<{ Params: { id: string } }>('/api/agents/:id/revoke', async (req, reply) => {
    if (!(await deps.store.getHost(req.params.id))) return reply.status(404).send({ error: `unknown agent ${req.params.id}` });
    const changed = await deps.store.revokeAgent(req.params.id, now());
    return { id: req.params.id, revoked: true, changed };
  });

  app.get<{ Params: { id: string }; Querystring: RangeQuery }>('/api/hosts/:id/samples', async (req, reply) => {
    const r = parseRange(req.query, now());
    if (!(await deps.store.getHost(req.params.id))) return reply.status(404).send({ error: `unknown host ${req.params.id}` });
    return { hostId: req.params.id, fromMs: r.fromMs, toMs: r.toMs, samples: await deps.store.sampleSummaries(req.params.id, r.fromMs, r.toMs, r.limit) };
  });

  // A signed report (JSON, or the self-contained HTML page) for one host; default the last 24 h.
  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; format?: string; check?: string } }>('/api/hosts/:id/report', async (req, reply) => {
    if (!deps.reportKeys) return reply.status(404).send({ error: 'reports are not enabled on this collector' });
    let period: { fromMs: number; toMs: number };
    try {
      period = reportPeriod(queryString(req.query.from, 'from') || undefined, queryString(req.query.to, 'to') || undefined, now());
    } catch (err) {
      throw new QueryError((err as Error).message);
    }
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'html') throw new QueryError('format must be json or html');
    if (!(await deps.store.getHost(req.params.id))) return reply.status(404).send({ error: `unknown host ${req.params.id}` });
    const tooLarge = (err: ReportTooLarge) => reply.status(413).send({ error: err.message, signedBytes: err.signedBytes, limitBytes: err.limitBytes, maxPeriodMs: err.fitsMs });
    // check=1: only the estimate (a few indexed reads), as the dashboard's picker asks before a click.
    if (queryFlag(req.query.check, 'check')) {
      try {
        return { signedBytes: await checkReportBudget(deps.store, [req.params.id], period, reportMaxBytes), limitBytes: reportMaxBytes };
      } catch (err) {
        if (err instanceof ReportTooLarge) return tooLarge(err);
        throw err;
      }
    }
    // Each report holds up to the limit's worth of signed bytes (and its decoded samples) in
    // memory: reports at once are bounded too, so a few clicks cannot add up to what one may not.
    if (reportsBuilding >= (deps.reportsAtOnce ?? 1)) return reply.status(503).header('retry-after', '10').send({ error: 'another report is being built; try again in a few seconds' });
    reportsBuilding++;
    let report;
    try {
      report = await buildReport(deps.store, { hostIds: [req.params.id], ...period, keys: deps.reportKeys(), ...(deps.reportRules ? { rules: deps.reportRules() } : {}), nowMs: now(), maxSignedBytes: reportMaxBytes });
    } catch (err) {
      if (!(err instanceof ReportTooLarge)) throw err;
      return tooLarge(err);
    } finally {
      reportsBuilding--;
    }
    const name = `assay-report-${req.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}-${new Date(period.toMs).toISOString().slice(0, 10)}.${format}`;
    void reply.header('content-disposition', `inline; filename="${name}"`);
    if (format === 'html') return reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP).send(renderHtml(report));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(report));
  });

  // What the host's processes and GPUs hold now (the newest samples), with the class the current
  // verdict gives each process: the host page's process and GPU tables.
  let bundledRules: Rules | null = null;
  const rulesNow = (): Rules => deps.reportRules?.() ?? (bundledRules ??= loadRulesFile(defaultRulesPath));
  app.get<{ Params: { id: string } }>('/api/hosts/:id/processes', async (req, reply) => {
    const h = await deps.store.getHost(req.params.id);
    if (!h) return reply.status(404).send({ error: `unknown host ${req.params.id}` });
    const verdict = await currentVerdict(h.id);
    // Sample times are the agent's clock, last-seen the collector's: look a little past it.
    const rows = await deps.store.samples(h.id, h.lastSeenMs - 2 * PROCESS_WINDOW_MS, h.lastSeenMs + PROCESS_WINDOW_MS, PROCESS_SAMPLE_ROWS);
    // Only the processes in these samples (a busy host has hundreds of thousands of signature rows).
    const keys = rows.flatMap((r) => (r.sample.processes ?? []).map((p) => processKey(p.pid ?? 0, Number(p.startTimeTicks ?? 0))));
    const signatures = await deps.store.signaturesOf(h.id, keys);
    const cores = h.inventory?.cpuLogicalCores ?? 0;
    return { hostId: h.id, ...hostProcesses(rows.map((r) => r.sample), signatures, verdict, rulesNow(), cores) };
  });

  // ?brief=1: class and confidence only, the newest rows of the range (a 7 d chart holds ~10,000
  // verdicts at one a minute; whole verdicts would be megabytes of evidence nobody reads there).
  app.get<{ Params: { id: string }; Querystring: RangeQuery & { brief?: string } }>('/api/hosts/:id/verdicts', async (req, reply) => {
    const brief = queryFlag(req.query.brief, 'brief');
    const r = parseRange(req.query, now(), brief ? MAX_BRIEF_ROWS : MAX_ROWS);
    if (!(await deps.store.getHost(req.params.id))) return reply.status(404).send({ error: `unknown host ${req.params.id}` });
    const [rows, before] = await Promise.all([
      brief
        ? deps.store.verdictClasses(req.params.id, r.fromMs, r.toMs, r.limit)
        : deps.store.verdicts(req.params.id, r.fromMs, r.toMs, r.limit).then((vs) =>
            vs.map((v) => ({ tsMs: v.tsMs, class: v.verdict.class, confidence: v.verdict.confidence, scores: v.verdict.scores, parts: v.verdict.parts, evidence: v.verdict.evidence })),
          ),
      deps.store.verdictBefore(req.params.id, r.fromMs),
    ]);
    return {
      hostId: req.params.id,
      fromMs: r.fromMs,
      toMs: r.toMs,
      verdicts: rows,
      // The verdict in force when the range begins (a zoomed chart starts inside a class, not before one).
      prior: before ? { tsMs: before.tsMs, class: before.verdict.class, confidence: before.verdict.confidence } : null,
    };
  });
}
