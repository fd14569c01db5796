// The collector: one HTTP server with the agent ingest WebSocket (/ingest), the dashboard
// push socket (/live), the JSON API (/api), Prometheus metrics (/metrics) and the dashboard (/).
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { watchFile, unwatchFile } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ISample } from '../proto/codec.js';
import { silentLogger, type Logger } from '../proto/log.js';
import { fleetSummary, registerApi } from './api.js';
import { Classifier, defaultClassifierOptions, type ClassifierOptions } from './classifier.js';
import { defaultRulesPath, loadRulesFile, type Rules } from './engine/index.js';
import { attachIngest, defaultIngestLimits, type IngestLimits } from './ingest.js';
import { applyConnectionLimits } from './ingest/connection-limits.js';
import { attachLive } from './live.js';
import { CollectorMetrics } from './metrics.js';
import { packageVersion } from '../proto/package-info.js';
import { dashboardDir, uplotDistDir } from './paths.js';
import { renderMetrics } from './prometheus.js';
import { SqliteStore } from './store/sqlite.js';
import { enrollSecretPath, loadOrCreateSecret } from './secret.js';
import { isLoopback, loadTls, selfSignedTls } from './tls.js';
import { isProtectedPath, requestToken, roleOf, type AuthConfig } from './auth.js';
import { dirname, join } from 'node:path';
import type { Store } from './store/store.js';
import { collectorKeyPath, loadOrCreateKey } from './report/sign.js';
import type { AgentKeys } from '../proto/chain.js';

export interface CollectorOptions {
  host: string;
  port: number;
  dbPath: string;
  /** Rules file; default: the bundled collector/engine/rules/default.yaml. Reloaded when it changes. */
  rulesPath?: string;
  limits?: Partial<IngestLimits>;
  /** TLS: certificate and key files, or `selfSigned` to generate a pair beside the database. */
  tls?: { certFile: string; keyFile: string } | { selfSigned: true };
  /** Accept agents over plain ws:// on a non-loopback address (not recommended). */
  allowPlain?: boolean;
  /** Require API tokens even on loopback (e.g. behind a reverse proxy or an SSH tunnel). */
  requireTokens?: boolean;
  /** API tokens, required when bound to a non-loopback address (default: generated beside the database). */
  viewerToken?: string;
  adminToken?: string;
  /**
   * Enrollment secret new agents must prove; default: read from (or created in) the file
   * `enroll-secret` beside the database, mode 0600.
   */
  enrollSecret?: string;
  classifier?: Partial<ClassifierOptions>;
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
  metrics: CollectorMetrics;
  close(): Promise<void>;
}

/** A host counts as online when it sent data within this long. */
const ONLINE_WITHIN_MS = 30_000;

export async function startCollector(opts: CollectorOptions): Promise<RunningCollector> {
  const logger = opts.logger ?? silentLogger();
  // Everything that can refuse the configuration runs before anything is opened or watched.
  const loopback = isLoopback(opts.host);
  const tls = !opts.tls ? null : 'selfSigned' in opts.tls ? await selfSignedTls(opts.dbPath, [opts.host]) : loadTls(opts.tls.certFile, opts.tls.keyFile);
  if (!tls && !loopback && !opts.allowPlain) {
    throw new Error(`refusing to take agents over plain ws:// on ${opts.host}: give --tls-cert and --tls-key, or --tls-self-signed (or --allow-plain to accept the risk)`);
  }
  const tokens = !loopback || opts.requireTokens === true;
  const auth: AuthConfig = {
    required: tokens,
    viewerToken: tokens ? (opts.viewerToken ?? loadOrCreateSecret(join(dirname(opts.dbPath), 'viewer-token'))) : null,
    adminToken: tokens ? (opts.adminToken ?? loadOrCreateSecret(join(dirname(opts.dbPath), 'admin-token'))) : null,
  };
  const secretFile = opts.enrollSecret ? null : enrollSecretPath(opts.dbPath);
  const enrollSecret = opts.enrollSecret ?? loadOrCreateSecret(secretFile!);
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

  const store = new SqliteStore(opts.dbPath);
  const metrics = new CollectorMetrics();
  const classifier = new Classifier(store, () => rules, { ...defaultClassifierOptions, ...opts.classifier });
  const limits: IngestLimits = { ...defaultIngestLimits, ...opts.limits };
  const version = packageVersion();

  const app = Fastify({ logger: false, ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}) });
  app.addHook('onRequest', async (req, reply) => {
    if (!auth.required || !isProtectedPath(req.url)) return;
    const role = roleOf(auth, requestToken(req.raw));
    if (!role) return reply.status(401).header('www-authenticate', 'Bearer').send({ error: 'a viewer or admin token is required (Authorization: Bearer …)' });
    if (role !== 'admin' && req.method !== 'GET' && req.method !== 'HEAD') return reply.status(403).send({ error: 'this needs the admin token' });
  });
  await app.register(fastifyStatic, { root: dashboardDir, prefix: '/assets/', index: false });
  await app.register(fastifyStatic, { root: uplotDistDir, prefix: '/vendor/uplot/', decorateReply: false });
  app.get('/', (_req, reply) => reply.sendFile('index.html'));
  app.get('/healthz', async () => ({ ok: true, rulesVersion: rules.version }));
  let reportKeys: AgentKeys | null = null;
  registerApi(app, {
    store,
    classifier,
    logger: logger.child({ part: 'api' }),
    onlineWithinMs: ONLINE_WITHIN_MS,
    reportKeys: () => (reportKeys ??= loadOrCreateKey(collectorKeyPath(opts.dbPath))),
    reportRules: () => rules,
  });

  const fleet = (): Promise<unknown[]> => fleetSummary(store, Date.now(), ONLINE_WITHIN_MS);
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(renderMetrics(metrics, await store.listHosts(), Date.now())));

  // WebSockets: compression off (it costs ~18x throughput), frames capped at the ingest limit.
  const ingestWss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: limits.maxFrameBytes });
  const liveWss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 });
  const live = attachLive(liveWss, fleet);
  const perHost = new Map<string, Promise<unknown>>();
  const ingest = attachIngest(ingestWss, {
    store,
    logger: logger.child({ part: 'ingest' }),
    metrics,
    limits,
    version,
    enrollSecret,
    onStored(hostId: string, samples: ISample[]) {
      live.changed(hostId);
      // One evaluation at a time per host, in arrival order.
      const next = (perHost.get(hostId) ?? Promise.resolve())
        .then(() => classifier.add(hostId, samples))
        .then((v) => v && live.changed(hostId))
        .catch((err: Error) => logger.error({ reason: 'classify_failed', hostId, err: err.message }, 'classification failed'));
      perHost.set(hostId, next);
    },
  });
  applyConnectionLimits(app.server, limits, ingest.preAuth, metrics, logger.child({ part: 'connections' }));
  app.server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    const wss = path === '/ingest' ? ingestWss : path === '/live' ? liveWss : null;
    if (!wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // Agents authenticate in the protocol itself; dashboards with a token.
    if (wss === liveWss && !roleOf(auth, requestToken(req))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    live.close();
    await store.close();
    throw err;
  }
  watchFile(rulesPath, { interval: 2000 }, onRulesChange);
  const port = (app.server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  if (tls) logger.info({ fingerprint: tls.fingerprint }, 'TLS enabled; agents pin this fingerprint with --pin');
  logger.info({ host: opts.host, port, db: opts.dbPath, rules: rulesPath, rulesVersion: rules.version, enrollSecretFile: secretFile }, 'collector listening');

  let closing: Promise<void> | null = null;
  return {
    url: `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`,
    tlsFingerprint: tls?.fingerprint ?? null,
    enrollSecretFile: secretFile,
    port,
    store,
    metrics,
    close() {
      closing ??= (async () => {
        unwatchFile(rulesPath, onRulesChange);
        live.close();
        for (const ws of ingestWss.clients) ws.close(1001, 'collector shutting down');
        for (const ws of liveWss.clients) ws.terminate();
        await app.close();
        await Promise.allSettled(perHost.values());
        await store.close();
      })();
      return closing;
    },
  };
}
