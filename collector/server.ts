// The collector: one HTTP server with the agent ingest WebSocket (/ingest), the dashboard
// push socket (/live), the JSON API (/api), Prometheus metrics (/metrics) and the dashboard (/).
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyReply } from 'fastify';
import { existsSync, watchFile, unwatchFile } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ISample } from '../proto/codec.js';
import { silentLogger, type Logger } from '../proto/log.js';
import { registerApi } from './api.js';
import { FleetTrends } from './fleet-trends.js';
import { verdictIsNonAi } from './non-ai.js';
import { Webhook, defaultWebhookOptions, type WebhookOptions } from './webhook.js';
import { Classifier, defaultClassifierOptions, type ClassifierOptions, type PublishedChange } from './classifier.js';
import { ClassifyQueue, defaultClassifyQueue, type ClassifyQueueOptions } from './classify-queue.js';
import { decodeFrames, lastFrame, payloadFrames, payloadInflateLimit } from '../proto/payload.js';
import { decodeSample } from '../proto/codec.js';
import { resolveReferences } from './signature-refs.js';
import { validateSample } from './validate.js';
import { defaultRulesPath, loadRulesFile, type Rules } from './engine/index.js';
import { attachIngest, defaultIngestLimits, type IngestLimits } from './ingest.js';
import { applyConnectionLimits } from './ingest/connection-limits.js';
import { FleetState } from './fleet-state.js';
import { attachLive, type LiveOptions } from './live.js';
import { CollectorMetrics } from './metrics.js';
import { packageVersion } from '../proto/package-info.js';
import { dashboardDir, uplotDistDir } from './paths.js';
import { renderMetrics } from './prometheus.js';
import { besideDb, enrollSecretPath, loadOrCreateSecret, readSecret } from './secret.js';
import { isLoopback, loadTls, selfSignedTls } from './tls.js';
import { LIVE_PROTOCOL, bearerToken, checkSecret, decide, liveToken, type AuthConfig } from './auth.js';
import { ROUTES, assertDeclared, routeRole, websocketRoute } from './routes.js';
import { SECURITY_HEADERS, hostAllowed, originAllowed, rawClientError, rawRefusal, siteConfig } from './site.js';
import { checkDbPath, filesAnchor, openStore, privateDir, redactUrl } from './dbfile.js';
import { VerdictLeases, defaultVerdictLeaseMs } from './lease.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Store } from './store/store.js';
import { RetentionRunner, retentionOptions, type RetentionOptions } from './store/retention.js';
import type { GroupCommitOptions } from './store/commit-queue.js';
import { collectorKeyPath, loadOrCreateKey } from './report/sign.js';
import type { AgentKeys } from '../proto/chain.js';

export interface CollectorOptions {
  host: string;
  port: number;
  /** A SQLite file path, `:memory:`, or a postgres:// URL. */
  dbPath: string;
  /** Folder for secrets, tokens, keys and the self-signed certificate (default: the SQLite file's folder; ./data with a postgres:// URL). */
  dataDir?: string;
  /**
   * How long a collector's claim to make a host's verdicts lasts without renewal (renewed while it
   * gets the host's samples): with several collectors on one database, another takes over a
   * host this long after its collector stopped getting them.
   */
  verdictLeaseMs?: number;
  /** Rules file; default: the bundled collector/engine/rules/default.yaml. Reloaded when it changes. */
  rulesPath?: string;
  limits?: Partial<IngestLimits>;
  /** Signed batch bytes one report may embed (report/budget.ts; default DEFAULT_REPORT_MAX_SIGNED_BYTES): a longer period gets a 413. */
  reportMaxBytes?: number;
  /** TLS: certificate and key files, or `selfSigned` to generate a pair beside the database. */
  tls?: { certFile: string; keyFile: string } | { selfSigned: true };
  /** Accept agents over plain ws:// on a non-loopback address (not recommended). */
  allowPlain?: boolean;
  /** Require API tokens even on loopback (e.g. behind a reverse proxy or an SSH tunnel). */
  requireTokens?: boolean;
  /** API tokens, required when bound to a non-loopback address (default: generated beside the database). */
  viewerToken?: string;
  /** The admin token (admin routes need it on loopback too; default: `admin-token` beside the database). */
  adminToken?: string;
  /** Host names browsers and proxies reach the collector by, besides loopback names and the bound address. */
  publicHosts?: string[];
  /** Accept new agents only while fewer than this many have enrolled (revoked ones count). */
  maxEnrollments?: number;
  /**
   * Enrollment secret new agents must prove; default: read from (or created in) the file
   * `enroll-secret` beside the database, mode 0600.
   */
  enrollSecret?: string;
  classifier?: Partial<ClassifierOptions>;
  /**
   * Classification scheduling (classify-queue.ts): a host is classified at most every
   * minIntervalMs (default: the classifier's everyMs), with its newest maxSamplesPerHost samples.
   */
  classifyQueue?: Partial<ClassifyQueueOptions>;
  /** Dashboard push: tick, per-page unsent-bytes limit, and how long a page may stay over it. */
  live?: Partial<LiveOptions>;
  /** Retention windows and step sizes (store/retention.ts); default raw 35 d, roll-ups 400 d. */
  retention?: Partial<RetentionOptions>;
  /**
   * Alerting webhook: a signed JSON POST whenever a host's published class changes into non-AI
   * work or out of it (URL and secret required; queue and retry limits have defaults).
   */
  webhook?: Pick<WebhookOptions, 'url' | 'secret'> & Partial<WebhookOptions>;
  /** A host counts as online when it sent data within this long (default 30 s); older ones are offline/stale. */
  onlineWithinMs?: number;
  /** How batches of many agents share one synced commit (store/commit-queue.ts). */
  groupCommit?: Partial<GroupCommitOptions>;
  logger?: Logger;
}

export interface RunningCollector {
  url: string;
  /** SHA-256 fingerprint of the TLS certificate agents should pin (null without TLS). */
  tlsFingerprint: string | null;
  /** Where the enrollment secret is kept (null when it was given directly). */
  enrollSecretFile: string | null;
  port: number;
  store: Store;
  /** This collector's name in the database's leases (`hostname:pid:random`). */
  collectorId: string;
  metrics: CollectorMetrics;
  /** What the collector holds per host in memory (for tests and benches). */
  classifier: Classifier;
  fleet: FleetState;
  live: { stats(): import('./live.js').LiveStats };
  /** The retention timer (tests run rounds at a chosen clock with runRound). */
  retention: RetentionRunner;
  close(): Promise<void>;
}

/** A host counts as online when it sent data within this long. */
const DEFAULT_ONLINE_WITHIN_MS = 30_000;
/** Longest route parameter: an agent id of 128 characters, every one percent-encoded. */
const MAX_ID_PARAM_CHARS = 3 * 128;

/** What a request the router refused is told: fixed text by error code, never the request's own bytes. */
function frameworkReason(err: Error & { code?: string }): string {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return 'malformed URL: a percent sign must start a valid escape';
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return 'request not routable';
    default:
      return 'bad request';
  }
}

export async function startCollector(opts: CollectorOptions): Promise<RunningCollector> {
  const logger = opts.logger ?? silentLogger();
  // Everything that can refuse the configuration runs before anything is opened or watched.
  const loopback = isLoopback(opts.host);
  checkDbPath(opts.dbPath);
  const retentionOpts = retentionOptions(opts.retention);
  // Files (secrets, tokens, keys, TLS) live beside the SQLite file, or in --data-dir.
  const files = filesAnchor(opts.dbPath, opts.dataDir);
  // The data folder holds the database, keys, tokens and secrets: private before anything lands in it.
  if (opts.dbPath !== ':memory:') privateDir(dirname(files));
  const tls = !opts.tls ? null : 'selfSigned' in opts.tls ? await selfSignedTls(files, [opts.host]) : loadTls(opts.tls.certFile, opts.tls.keyFile);
  if (!tls && !loopback && !opts.allowPlain) {
    throw new Error(`refusing to take agents over plain ws:// on ${opts.host}: give --tls-cert and --tls-key, or --tls-self-signed (or --allow-plain to accept the risk)`);
  }
  const tokens = !loopback || opts.requireTokens === true;
  const auth: AuthConfig = {
    required: tokens,
    viewerToken: tokens ? (opts.viewerToken !== undefined ? checkSecret('viewer token', opts.viewerToken) : loadOrCreateSecret(besideDb(files, 'viewer-token'))) : null,
    adminToken: opts.adminToken !== undefined ? checkSecret('admin token', opts.adminToken) : loadOrCreateSecret(besideDb(files, 'admin-token')),
  };
  // One token for both roles would make every viewer an admin (roleOf checks admin first).
  if (auth.viewerToken !== null && auth.viewerToken === auth.adminToken) throw new Error('the viewer token and the admin token are the same: viewers could revoke agents; give them different values');
  const site = siteConfig(opts.host, opts.publicHosts);
  const secretFile = opts.enrollSecret !== undefined ? null : enrollSecretPath(files);
  let enrollSecret = opts.enrollSecret !== undefined ? checkSecret('enrollment secret', opts.enrollSecret) : loadOrCreateSecret(secretFile!);
  // `assay agents rotate-secret` rewrites the file; new agents need the new secret from then on.
  const onSecretChange = (): void => {
    try {
      if (secretFile && existsSync(secretFile)) enrollSecret = readSecret(secretFile);
      logger.info({ enrollSecretFile: secretFile }, 'enrollment secret reloaded');
    } catch (err) {
      logger.error({ reason: 'bad_secret', enrollSecretFile: secretFile, err: (err as Error).message }, 'enrollment secret reload failed; keeping the previous one');
    }
  };
  const rulesPath = opts.rulesPath ?? defaultRulesPath;
  // A bad rules file stops startup (the error names the entry); later reloads keep the old rules.
  let rules: Rules = loadRulesFile(rulesPath);
  const onRulesChange = (): void => {
    try {
      rules = loadRulesFile(rulesPath);
      logger.info({ rulesPath, version: rules.version }, 'rules reloaded');
    } catch (err) {
      logger.error({ reason: 'bad_rules', rulesPath, err: (err as Error).message }, 'rules reload failed; keeping the previous rules');
    }
  };

  const onlineWithinMs = opts.onlineWithinMs ?? DEFAULT_ONLINE_WITHIN_MS;
  const webhook = opts.webhook ? new Webhook({ ...defaultWebhookOptions, ...opts.webhook }, logger.child({ part: 'webhook' })) : null;
  const store = await openStore(opts.dbPath, { write: true, ...(opts.groupCommit ? { groupCommit: opts.groupCommit } : {}) });
  const metrics = new CollectorMetrics();
  // Both stores group commits in their own queue (sqlite.ts, postgres.ts with postgres-group.ts).
  metrics.groupCommit = store.commits?.stats ?? null;
  metrics.chainReads = store.chainReads;
  const retention = new RetentionRunner(
    (o, nowMs) => store.retentionStep(o, nowMs),
    retentionOpts,
    (deleted, steps, ms) => {
      if (Object.values(deleted).some((n) => n > 0)) logger.info({ deleted, steps, ms }, 'retention round');
    },
    (err) => logger.error({ reason: 'retention_failed', err: err.message }, 'retention round failed; retrying at the next round'),
  );
  // Set once the live socket exists (a class change can only come after ingest starts).
  let onPublished: (c: PublishedChange) => void = () => undefined;
  const classifierOpts: ClassifierOptions = { ...defaultClassifierOptions, ...opts.classifier };
  const classifier = new Classifier(store, () => rules, classifierOpts, Date.now, (c) => onPublished(c));
  const trends = new FleetTrends();
  // Several collectors may share one database: a lease per host says which one makes its verdicts.
  const collectorId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const leases = new VerdictLeases(store, collectorId, opts.verdictLeaseMs ?? defaultVerdictLeaseMs);
  let fleet: FleetState;
  try {
    fleet = await FleetState.load(store, Date.now(), { onlineWithinMs: onlineWithinMs });
  } catch (err) {
    await store.close();
    throw err;
  }
  // Samples older than the raw window would be deleted at once: that is how old a backlog may be.
  const limits: IngestLimits = { ...defaultIngestLimits, maxSampleAgeMs: retentionOpts.rawMs, ...opts.limits };
  const version = packageVersion();

  const app = Fastify({
    logger: false,
    // Route parameters are agent ids: up to 128 characters (collector/ingest/connection.ts), each
    // maybe percent-encoded (`:` is `%3A` from encodeURIComponent). Fastify's default of 100 refused
    // /api/hosts/:id of a 101-128 character id with a 400, so such an agent could not even be revoked.
    routerOptions: { maxParamLength: MAX_ID_PARAM_CHARS },
    // A request without Host reaches the Host check (403 with the security headers) instead of
    // Node's bare 400.
    ...(tls ? { https: { cert: tls.cert, key: tls.key, requireHostHeader: false } } : { http: { requireHostHeader: false } }),
    // Requests the HTTP parser refuses (431, 400, 408) get the security headers too.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(rawClientError(err.code));
      socket.destroy();
    },
    // Requests the router cannot even parse (`/%`) skip the hooks: give them the headers here, and
    // a reason that does not echo the URL back (fastify's message quotes it).
    frameworkErrors: (err, _req, reply) => void (reply as FastifyReply).headers(SECURITY_HEADERS).code(400).send({ error: frameworkReason(err) }),
  });
  // Deny by default: a route without a line in routes.ts stops startup here.
  const registered = new Set<string>();
  app.addHook('onRoute', (r) => {
    assertDeclared(r.method, r.url);
    registered.add(r.url);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) void reply.header(k, v);
    return payload;
  });
  // A POST may carry an empty JSON body (`curl -X POST -H 'content-type: application/json'`).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (req, body, done) => ((body as string).trim() === '' ? done(null, {}) : jsonParser(req, body as string, done)));
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(site, req.headers.host)) return reply.status(403).send({ error: `Host ${JSON.stringify(req.headers.host ?? '')} is not one this collector answers to (add it with --public-host)` });
    // Unrouted requests fall through to the 404 handler, which carries no data.
    if (req.routeOptions.url === undefined) return;
    const need = routeRole(req.method, req.routeOptions.url);
    if (!need) return reply.status(403).send({ error: 'route has no declared role' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (!originAllowed(req.headers.origin, req.headers.host, !!tls)) return reply.status(403).send({ error: 'cross-origin requests are refused' });
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') return reply.status(415).send({ error: 'send Content-Type: application/json' });
    }
    const d = decide(auth, need, bearerToken(req.raw));
    if (!d.ok) {
      if (d.status === 401) void reply.header('www-authenticate', 'Bearer');
      return reply.status(d.status).send({ error: d.error });
    }
  });
  // Unrouted: a plain 404 that does not echo the request back.
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: 'not found' }));
  await app.register(fastifyStatic, { root: dashboardDir, prefix: '/assets/', index: false });
  await app.register(fastifyStatic, { root: uplotDistDir, prefix: '/vendor/uplot/', decorateReply: false });
  app.get('/', (_req, reply) => reply.sendFile('index.html'));
  app.get('/healthz', async () => ({ ok: true, rulesVersion: rules.version }));
  let reportKeys: AgentKeys | null = null;
  registerApi(app, {
    store,
    classifier,
    fleet,
    logger: logger.child({ part: 'api' }),
    onlineWithinMs,
    trends,
    reportKeys: () => (reportKeys ??= loadOrCreateKey(collectorKeyPath(files))),
    reportRules: () => rules,
    ...(opts.reportMaxBytes !== undefined ? { reportMaxBytes: opts.reportMaxBytes } : {}),
  });

  app.get('/metrics', async (_req, reply) => {
    fleet.sweep(Date.now());
    return reply.type('text/plain; version=0.0.4').send(renderMetrics(metrics, fleet.list(), Date.now(), { classifierHosts: classifier.size, classifierEvictions: classifier.evicted, live: live.stats() }, { nonAi: await store.nonAiHosts(), webhook: webhook?.counters ?? null }));
  });

  // WebSockets: compression off (it costs ~18x throughput), frames capped at the ingest limit.
  const ingestWss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: limits.maxFrameBytes });
  // The dashboard offers `assay.live` plus its token as a second sub-protocol; only `assay.live` is echoed.
  const liveWss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024, handleProtocols: (offered) => (offered.has(LIVE_PROTOCOL) ? LIVE_PROTOCOL : false) });
  const live = attachLive(liveWss, fleet, opts.live);
  onPublished = (c) => {
    const fromNonAi = verdictIsNonAi(c.from);
    const toNonAi = verdictIsNonAi(c.to);
    // The fleet view's class-change feed re-reads on this (GET /api/class-changes).
    live.broadcast({ type: 'class-change', hostId: c.hostId, tsMs: c.tsMs, fromClass: c.from?.class ?? null, toClass: c.to.class, nonAi: toNonAi });
    if (!webhook || fromNonAi === toNonAi) return;
    void store.getHost(c.hostId).then((h) =>
      webhook.send({
        type: 'class_change',
        direction: toNonAi ? 'nonai' : 'clear',
        host: { id: c.hostId, hostname: h?.hostname ?? '' },
        fromClass: c.from?.class ?? null,
        toClass: c.to.class,
        confidence: c.to.confidence,
        tsMs: c.tsMs,
        rulesVersion: c.to.rulesVersion,
      }),
    );
  };
  // Quiet hosts leave the classifier's memory even when no other host sends anything.
  const evictTimer = setInterval(() => classifier.evict(), 15_000);
  evictTimer.unref();
  // Hosts another process wrote to the database (a second collector) join the fleet summary.
  let reconciling = false;
  const reconcileTimer = setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    fleet
      .reconcile(store, Date.now())
      .catch((err: Error) => logger.error({ reason: 'fleet_reconcile_failed', err: err.message }, 'fleet summary reconcile failed'))
      .finally(() => (reconciling = false));
  }, 30_000);
  reconcileTimer.unref();
  // Classification runs off the ack path, one host at a time between I/O, each host at most every
  // minIntervalMs with its newest samples (classify-queue.ts); the full decode of a batch's
  // samples happens there, in the host's turn. A host's entry lives only while it has work waiting.
  const inflateLimit = payloadInflateLimit(limits.maxFrameBytes);
  /** Hosts whose lease is being asked for (one question per host at a time). */
  const leaseAsks = new Set<string>();
  const classify = new ClassifyQueue(
    async (hostId, samples) => {
      // Only the lease holder classifies a host; the others keep nothing of it.
      if (!(await leases.holds(hostId))) return classifier.forget(hostId);
      const v = await classifier.add(hostId, samples);
      if (v) fleet.verdict(hostId, v, v.window.toMs || Date.now());
    },
    (b, prior) => {
      const stored = new Set(b.stored);
      const out: ISample[] = [];
      const frames = payloadFrames(b.encoding, b.payload, inflateLimit, b.seqs.length, prior);
      decodeFrames(b.encoding, frames, decodeSample).forEach((sample, i) => {
        const seq = b.seqs[i]!;
        if (!stored.has(seq)) return;
        // The field checks the ack path left to here (it read figures and signatures only).
        validateSample(sample, seq);
        out.push(sample);
      });
      // References as the store resolved them at ingest (a reference it could not: no signature).
      resolveReferences(out, (hex) => b.signatures?.get(hex));
      return { samples: out, last: lastFrame(frames) };
    },
    { ...defaultClassifyQueue, minIntervalMs: classifierOpts.everyMs, ...opts.classifyQueue },
    (hostId, err) => logger.error({ reason: 'classify_failed', hostId, err: err.message }, 'classification failed'),
    Date.now,
    // A host's lease is fetched before its turn (many share a group commit), so the turn's engine
    // work runs inside a slice instead of after a commit's wait.
    (hostId, wake) => {
      if (leases.cached(hostId) !== undefined) return true;
      if (!leaseAsks.has(hostId)) {
        leaseAsks.add(hostId);
        void leases
          .holds(hostId)
          .catch((err: Error) => logger.error({ reason: 'lease_failed', hostId, err: err.message }, 'verdict lease check failed'))
          .finally(() => {
            leaseAsks.delete(hostId);
            wake();
          });
      }
      return false;
    },
    () => classifier.engineMs,
  );
  metrics.classify = {
    backlogHosts: () => classify.backlog,
    backlogBytes: () => classify.backlogBytes,
    droppedSamples: () => classify.dropped,
    classifiedSamples: () => classify.classified,
    unreadableBatches: () => classify.unreadable,
    turns: () => classify.turns,
    throttled: () => classify.throttled,
    engineMs: () => classifier.engineMs,
  };
  const ingest = attachIngest(ingestWss, {
    store,
    logger: logger.child({ part: 'ingest' }),
    metrics,
    limits,
    version,
    // Read at each enrollment: rotation and the enrollment cap apply at once (ingest counts the
    // enrollments not yet committed against the room left).
    get enrollSecret() {
      return enrollSecret;
    },
    ...(opts.maxEnrollments !== undefined ? { enrollmentRoom: () => opts.maxEnrollments! - store.countEnrolled() } : {}),
    onHello(host) {
      fleet.hello(host.id, host.hostname, Date.now());
    },
    onStored(hostId, samples, batch) {
      trends.add(hostId, samples);
      fleet.samples(hostId, samples, Date.now());
      classify.add(hostId, batch);
    },
  });
  applyConnectionLimits(app.server, limits, ingest.preAuth, metrics, logger.child({ part: 'connections' }));
  app.server.on('upgrade', (req, socket, head) => {
    // From here on no HTTP code watches the socket: an 'error' on it without a listener (a client
    // resetting a refused upgrade) would end the process. ws adds its own listener in handleUpgrade.
    const onError = (): void => void socket.destroy();
    socket.on('error', onError);
    const address = req.socket.remoteAddress ?? 'unknown';
    // A refusal is the socket's last answer. connection-limits.ts handed its pre-auth slot over at
    // the upgrade, so it takes one again until it is gone (beyond the caps it is dropped unanswered,
    // as any connection beyond them), and it is destroyed closeGraceMs after the answer whether
    // or not the client closes its side: refused upgrades cannot pile up outside every cap.
    const refuse = (status: number, text: string): void => {
      if (!ingest.preAuth.acquire(address)) {
        metrics.reject('preauth_cap');
        return void socket.destroy();
      }
      const timer = setTimeout(() => socket.destroy(), limits.closeGraceMs);
      timer.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        ingest.preAuth.release(address);
      });
      socket.end(rawRefusal(status, text));
    };
    // WebSocket routes match the raw path exactly: no other spelling reaches a socket.
    const route = websocketRoute(req.url);
    const wss = route?.url === '/ingest' ? ingestWss : route?.url === '/live' ? liveWss : null;
    if (!route || !wss) return refuse(404, 'Not Found');
    try {
      // Agents send no Origin and reach the collector by any name, so a browser page may not open
      // /ingest at all (a DNS-rebinding page's Origin matches its own Host); /live is same-origin
      // only, and reached by an allowed name.
      if (route.role === 'agent' ? req.headers.origin !== undefined : !originAllowed(req.headers.origin, req.headers.host, !!tls)) return refuse(403, 'Forbidden');
      if (route.role !== 'agent' && !hostAllowed(site, req.headers.host)) return refuse(403, 'Forbidden');
      const d = decide(auth, route.role, liveToken(req));
      if (!d.ok) return refuse(d.status, d.status === 401 ? 'Unauthorized' : 'Forbidden');
      if (wss === liveWss && liveWss.clients.size >= limits.maxLiveClients) {
        metrics.reject('live_cap');
        return refuse(503, 'Service Unavailable');
      }
      socket.removeListener('error', onError);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (err) {
      // A throw in an 'upgrade' listener would end the process: refuse this one request instead.
      logger.error({ reason: 'upgrade_failed', err: (err as Error).message }, 'upgrade failed');
      if (!socket.listenerCount('error')) socket.on('error', onError);
      refuse(500, 'Internal Server Error');
    }
  });

  try {
    // …and a declared route nobody registered is a stale table.
    const stale = ROUTES.filter((r) => !r.websocket && !registered.has(r.url));
    if (stale.length) throw new Error(`collector/routes.ts declares routes that are not served: ${stale.map((r) => r.url).join(', ')}`);
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    live.close();
    webhook?.close();
    clearInterval(evictTimer);
    clearInterval(reconcileTimer);
    await store.close();
    throw err;
  }
  watchFile(rulesPath, { interval: 2000 }, onRulesChange);
  retention.start();
  if (secretFile) watchFile(secretFile, { interval: 2000 }, onSecretChange);
  const port = (app.server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  if (tls) logger.info({ fingerprint: tls.fingerprint }, 'TLS enabled; agents pin this fingerprint with --pin');
  logger.info({ host: opts.host, port, db: redactUrl(opts.dbPath), collectorId, dataDir: dirname(files), rules: rulesPath, rulesVersion: rules.version, enrollSecretFile: secretFile, rawRetentionMs: retentionOpts.rawMs, rollupRetentionMs: retentionOpts.rollupMs }, 'collector listening');

  let closing: Promise<void> | null = null;
  return {
    url: `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`,
    tlsFingerprint: tls?.fingerprint ?? null,
    enrollSecretFile: secretFile,
    port,
    store,
    collectorId,
    metrics,
    classifier,
    fleet,
    live,
    retention,
    close() {
      closing ??= (async () => {
        unwatchFile(rulesPath, onRulesChange);
        if (secretFile) unwatchFile(secretFile, onSecretChange);
        live.close();
        webhook?.close();
        clearInterval(evictTimer);
        clearInterval(reconcileTimer);
        for (const ws of ingestWss.clients) ws.close(1001, 'collector shutting down');
        for (const ws of liveWss.clients) ws.terminate();
        await retention.stop();
        await app.close();
        await classify.stop();
        // Another collector on the same database takes these hosts' verdicts over at once.
        await store.releaseLeases(collectorId).catch(() => undefined);
        await store.close();
      })();
      return closing;
    },
  };
}
