// The collector's commands: `assay collector`, `assay start` (a collector plus a local agent
// process), `assay replay`, `assay agents …` (enrolment on the database folder) and `assay rules check`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MIN_INTERVAL_MS, applyConfigFile, durationArg, intArg, listArgOf, onSignals, say, sayErr, timerDurationArg, withConfig } from '../proto/cli-kit.js';
import { createLogger } from '../proto/log.js';
import { oneLine } from '../proto/term.js';
import { defaultClassifierOptions } from './classifier-options.js';
import { defaultIngestLimits } from './ingest/limits.js';
import { defaultLiveOptions } from './live.js';
import { defaultRetentionOptions } from './store/retention.js';
import { defaultGroupCommit } from './store/commit-queue.js';
import { DEFAULT_REPORT_MAX_SIGNED_BYTES } from './report/budget.js';

/** The top-level CLI (dist/cli.js): `assay start` runs the local agent through it as its own process. */
const topLevelCli = fileURLToPath(new URL('../cli.js', import.meta.url));

/** What --db takes, for every command's help. */
export const DB_HELP = 'SQLite database file, or postgres://user[:password]@host[:port]/database';
export const DATA_DIR_HELP = 'folder for secrets, tokens, keys and the self-signed certificate (default: the SQLite file\'s folder; ./data with a postgres:// URL)';

interface CollectorFlags {
  webhookUrl?: string;
  webhookSecretFile?: string;
  webhookMaxQueue: number;
  offlineAfter: number;
  host: string;
  port: number;
  db: string;
  dataDir?: string;
  verdictLease: number;
  rules?: string;
  maxFrameBytes: number;
  maxBatchSamples: number;
  maxAgents: number;
  rateLimit: number;
  maxClockSkew: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  allowPlain?: boolean;
  requireTokens?: boolean;
  publicHost?: string[];
  maxEnrollments?: number;
  helloTimeout: number;
  idleTimeout: number;
  maxPreauthPerAddress: number;
  maxPreauthTotal: number;
  maxLiveClients: number;
  hostIdleEvict: number;
  maxHostsInMemory: number;
  liveMaxBufferedBytes: number;
  enrollFailuresPerMin: number;
  rawRetention: number;
  rollupRetention: number;
  groupCommitMs: number;
  reportMaxBytes: number;
  logLevel: string;
}

/**
 * --public-host: host names or IP addresses as a browser's Host header carries them. A URL or a
 * name with a port (`https://assay.example:7300`) never matched, and browsers were then told to
 * "add it with --public-host", which the operator had done.
 */
const publicHostArg = listArgOf((n) => {
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(n) && !/^\[?[0-9A-Fa-f:.]+\]?$/.test(n)) {
    throw new InvalidArgumentError(`${JSON.stringify(n)} is not a host name or IP address (no scheme, port or path: e.g. assay.example.com)`);
  }
});

/** --report-max-bytes, shared by the collector (GET /api/hosts/:id/report) and `assay report`. */
export const reportMaxBytesOption = (): Option =>
  new Option('--report-max-bytes <n>', 'signed batch bytes one report may embed (a 1 Hz host stores ~1.7 MB an hour; building a report takes ~80 bytes of memory per signed byte): a longer period is refused with the longest that fits')
    .argParser(intArg('report-max-bytes', 100_000, 1_000_000_000))
    .default(DEFAULT_REPORT_MAX_SIGNED_BYTES)
    .env('ASSAY_REPORT_MAX_BYTES');

function collectorOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--host <addr>', 'address to listen on').default('127.0.0.1').env('ASSAY_HOST'))
    .addOption(new Option('--port <n>', 'TCP port (0 = any free port)').argParser(intArg('port', 0, 65535)).default(7300).env('ASSAY_PORT'))
    .addOption(new Option('--db <path>', DB_HELP).default('./data/assay.db').env('ASSAY_DB'))
    .addOption(new Option('--data-dir <dir>', DATA_DIR_HELP).env('ASSAY_DATA_DIR'))
    .addOption(new Option('--verdict-lease <d>', 'with several collectors on one database: how long one collector\'s claim to make a host\'s verdicts lasts unrenewed (another takes over after it)').argParser(durationArg).default(30_000, '30s').env('ASSAY_VERDICT_LEASE'))
    .addOption(new Option('--rules <file>', 'rules file (default: the bundled rules); reloaded when it changes').env('ASSAY_RULES'))
    .addOption(new Option('--max-frame-bytes <n>', 'largest agent frame accepted').argParser(intArg('max-frame-bytes', 1024, 256 * 1024 * 1024)).default(4 * 1024 * 1024).env('ASSAY_MAX_FRAME_BYTES'))
    .addOption(new Option('--max-batch-samples <n>', 'most samples in one agent batch').argParser(intArg('max-batch-samples', 1, 100_000)).default(1000).env('ASSAY_MAX_BATCH_SAMPLES'))
    .addOption(new Option('--max-agents <n>', 'most agents connected at once').argParser(intArg('max-agents', 1, 1_000_000)).default(10_000).env('ASSAY_MAX_AGENTS'))
    .addOption(new Option('--rate-limit <n>', 'samples per second one agent may send on average (bursts up to 100000 for catch-up)').argParser(intArg('rate-limit', 1, 1_000_000)).default(50).env('ASSAY_RATE_LIMIT'))
    .addOption(new Option('--max-clock-skew <d>', 'largest accepted difference between agent and collector clocks').argParser(durationArg).default(300_000, '5m').env('ASSAY_MAX_CLOCK_SKEW'))
    .addOption(new Option('--tls-cert <file>', 'TLS certificate (PEM) for https/wss').env('ASSAY_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'TLS private key (PEM)').env('ASSAY_TLS_KEY'))
    .addOption(new Option('--tls-self-signed', 'generate a self-signed certificate beside the database (agents pin its fingerprint)').env('ASSAY_TLS_SELF_SIGNED'))
    .addOption(new Option('--allow-plain', 'accept agents over plain ws:// on a non-loopback address').env('ASSAY_ALLOW_PLAIN'))
    .addOption(new Option('--require-tokens', 'require API tokens even on loopback (always required on other addresses; tokens in viewer-token / admin-token beside the database, or ASSAY_VIEWER_TOKEN / ASSAY_ADMIN_TOKEN, at least 16 characters)').env('ASSAY_REQUIRE_TOKENS'))
    .addOption(new Option('--public-host <names>', 'comma-separated host names browsers reach the collector by (besides localhost, 127.0.0.1, ::1 and the --host address); other Host headers are refused').argParser(publicHostArg).env('ASSAY_PUBLIC_HOST'))
    .addOption(new Option('--max-enrollments <n>', 'accept new agents only while fewer than this many have enrolled (revoked ones count)').argParser(intArg('max-enrollments', 0, 10_000_000)).env('ASSAY_MAX_ENROLLMENTS'))
    .addOption(new Option('--hello-timeout <d>', 'an /ingest connection that has not authenticated within this long is closed').argParser(timerDurationArg()).default(defaultIngestLimits.helloTimeoutMs, '10s').env('ASSAY_HELLO_TIMEOUT'))
    .addOption(new Option('--idle-timeout <d>', 'a TCP connection that has not sent a complete request header within this long is dropped').argParser(timerDurationArg()).default(defaultIngestLimits.idleTimeoutMs, '10s').env('ASSAY_IDLE_TIMEOUT'))
    .addOption(new Option('--max-preauth-per-address <n>', 'most unauthenticated connections (HTTP, or /ingest before hello) one remote address may hold; raise it behind a reverse proxy').argParser(intArg('max-preauth-per-address', 1, 1_000_000)).default(defaultIngestLimits.maxPreAuthPerAddress).env('ASSAY_MAX_PREAUTH_PER_ADDRESS'))
    .addOption(new Option('--max-preauth-total <n>', 'most unauthenticated connections from all addresses together').argParser(intArg('max-preauth-total', 1, 10_000_000)).default(defaultIngestLimits.maxPreAuthTotal).env('ASSAY_MAX_PREAUTH_TOTAL'))
    .addOption(new Option('--max-live-clients <n>', 'most dashboard /live sockets at once').argParser(intArg('max-live-clients', 1, 1_000_000)).default(defaultIngestLimits.maxLiveClients).env('ASSAY_MAX_LIVE_CLIENTS'))
    .addOption(new Option('--host-idle-evict <d>', 'a host that sent nothing for this long leaves the classifier\'s memory (rebuilt from the database when it returns)').argParser(durationArg).default(defaultClassifierOptions.idleEvictMs, '10m').env('ASSAY_HOST_IDLE_EVICT'))
    .addOption(new Option('--max-hosts-in-memory <n>', 'most hosts whose engine window is held in memory (the least recently heard from leave first)').argParser(intArg('max-hosts-in-memory', 1, 10_000_000)).default(defaultClassifierOptions.maxHosts).env('ASSAY_MAX_HOSTS_IN_MEMORY'))
    .addOption(new Option('--live-max-buffered-bytes <n>', 'a dashboard with more than this many bytes unsent is skipped (changes coalesce), and closed after 30 s over it').argParser(intArg('live-max-buffered-bytes', 1024, 1024 * 1024 * 1024)).default(defaultLiveOptions.maxBufferedBytes).env('ASSAY_LIVE_MAX_BUFFERED_BYTES'))
    .addOption(new Option('--raw-retention <d>', 'attestation window: raw signed batches and per-sample rows older than this are deleted (reports over older periods rest on roll-ups and say so)').argParser(durationArg).default(defaultRetentionOptions.rawMs, '35d').env('ASSAY_RAW_RETENTION'))
    .addOption(new Option('--rollup-retention <d>', '1-minute and 1-hour roll-ups, thinned verdicts and gaps older than this are deleted').argParser(durationArg).default(defaultRetentionOptions.rollupMs, '400d').env('ASSAY_ROLLUP_RETENTION'))
    .addOption(reportMaxBytesOption())
    .addOption(new Option('--offline-after <d>', 'a host that sent no data for this long shows as offline (its own tile; its last figures marked old)').argParser(durationArg).default(30_000, '30s').env('ASSAY_OFFLINE_AFTER'))
    .addOption(new Option('--webhook-url <url>', 'POST a signed JSON event here when a host\'s class changes into non-AI work or back (https, or http to loopback)').env('ASSAY_WEBHOOK_URL'))
    .addOption(new Option('--webhook-secret-file <file>', 'file holding the webhook\'s HMAC-SHA256 secret (at least 16 printable characters; needed with --webhook-url)').env('ASSAY_WEBHOOK_SECRET_FILE'))
    .addOption(new Option('--webhook-max-queue <n>', 'webhook events waiting for delivery at most (the oldest is dropped beyond, and counted)').argParser(intArg('webhook-max-queue', 1, 1_000_000)).default(1000).env('ASSAY_WEBHOOK_MAX_QUEUE'))
    .addOption(new Option('--group-commit-ms <ms>', 'longest an agent batch waits for others to share its synced commit (0: only those already received)').argParser(intArg('group-commit-ms', 0, 1000)).default(defaultGroupCommit.maxDelayMs).env('ASSAY_GROUP_COMMIT_MS'))
    .addOption(new Option('--enroll-failures-per-min <n>', 'failed enrollments one address may make per minute on average (burst of the same size)').argParser(intArg('enroll-failures-per-min', 1, 1_000_000)).default(defaultIngestLimits.enrollFailuresPerMin).env('ASSAY_ENROLL_FAILURES_PER_MIN'));
}

function webhookSecret(read: (file: string) => string, file: string): string {
  try {
    return read(file);
  } catch (err) {
    throw new Error(`--webhook-secret-file ${file}: ${(err as Error).message.replace(`${file} `, '')}`);
  }
}

async function runCollector(f: CollectorFlags): Promise<{ url: string; enrollSecretFile: string | null; tlsFingerprint: string | null; collectorId: string; close(): Promise<void> }> {
  const [{ startCollector }, { readSecret }] = await Promise.all([import('./server.js'), import('./secret.js')]);
  if (f.webhookUrl && !f.webhookSecretFile) throw new Error('--webhook-url needs --webhook-secret-file (the secret that signs each event)');
  if (f.webhookSecretFile && !f.webhookUrl) throw new Error('--webhook-secret-file needs --webhook-url');
  // TLS: a certificate and its key, or a self-signed pair; never half of one or both at once.
  if (f.tlsCert && !f.tlsKey) throw new Error('--tls-cert needs --tls-key (the private key of that certificate)');
  if (f.tlsKey && !f.tlsCert) throw new Error('--tls-key needs --tls-cert (the certificate of that key)');
  if (f.tlsCert && f.tlsSelfSigned) throw new Error('--tls-self-signed and --tls-cert exclude each other: give a certificate and key, or let the collector make a self-signed pair');
  return startCollector({
    ...(f.webhookUrl && f.webhookSecretFile ? { webhook: { url: f.webhookUrl, secret: webhookSecret(readSecret, f.webhookSecretFile), maxQueue: f.webhookMaxQueue } } : {}),
    onlineWithinMs: f.offlineAfter,
    host: f.host,
    port: f.port,
    dbPath: f.db,
    ...(f.dataDir ? { dataDir: f.dataDir } : {}),
    verdictLeaseMs: f.verdictLease,
    ...(f.rules ? { rulesPath: f.rules } : {}),
    limits: {
      maxFrameBytes: f.maxFrameBytes,
      maxBatchSamples: f.maxBatchSamples,
      maxAgents: f.maxAgents,
      rateSamplesPerSec: f.rateLimit,
      maxClockSkewMs: f.maxClockSkew,
      helloTimeoutMs: f.helloTimeout,
      idleTimeoutMs: f.idleTimeout,
      maxPreAuthPerAddress: f.maxPreauthPerAddress,
      maxPreAuthTotal: f.maxPreauthTotal,
      maxLiveClients: f.maxLiveClients,
      enrollFailuresPerMin: f.enrollFailuresPerMin,
      enrollFailureBurst: f.enrollFailuresPerMin,
    },
    classifier: { idleEvictMs: f.hostIdleEvict, maxHosts: f.maxHostsInMemory },
    live: { maxBufferedBytes: f.liveMaxBufferedBytes },
    retention: { rawMs: f.rawRetention, rollupMs: f.rollupRetention },
    groupCommit: { maxDelayMs: f.groupCommitMs },
    reportMaxBytes: f.reportMaxBytes,
    ...(process.env.ASSAY_ENROLL_SECRET ? { enrollSecret: process.env.ASSAY_ENROLL_SECRET } : {}),
    ...(process.env.ASSAY_VIEWER_TOKEN ? { viewerToken: process.env.ASSAY_VIEWER_TOKEN } : {}),
    ...(process.env.ASSAY_ADMIN_TOKEN ? { adminToken: process.env.ASSAY_ADMIN_TOKEN } : {}),
    ...(f.tlsCert || f.tlsKey ? { tls: { certFile: f.tlsCert ?? '', keyFile: f.tlsKey ?? '' } } : f.tlsSelfSigned ? { tls: { selfSigned: true as const } } : {}),
    ...(f.allowPlain ? { allowPlain: true } : {}),
    ...(f.requireTokens ? { requireTokens: true } : {}),
    ...(f.publicHost ? { publicHosts: f.publicHost } : {}),
    ...(f.maxEnrollments !== undefined ? { maxEnrollments: f.maxEnrollments } : {}),
    logger: createLogger('collector', f.logLevel),
  });
}

export function registerCollectorCommands(program: Command): void {
  withConfig(collectorOptions(program.command('collector').description('run the collector: agent ingest, store, classifier, API and dashboard'))).action(async (_o, cmd: Command) => {
    applyConfigFile(cmd);
    const c = await runCollector(cmd.opts<CollectorFlags>());
    process.stderr.write(`assay collector listening on ${c.url} (dashboard ${c.url}/ , agents ${c.url.replace(/^http/, 'ws')}/ingest)\n`);
    if (c.enrollSecretFile) process.stderr.write(`enrollment secret for new agents: ${c.enrollSecretFile}\n`);
    if (c.tlsFingerprint) process.stderr.write(`TLS certificate fingerprint (agents: --pin ${c.tlsFingerprint})\n`);
    // Several collectors may share a PostgreSQL database: this one's name in its verdict leases.
    if (/^postgres(ql)?:\/\//i.test(cmd.opts<CollectorFlags>().db)) process.stderr.write(`collector id ${c.collectorId} (shares the database; verdict leases held under this name)\n`);
    onSignals(() => c.close());
  });

  withConfig(
    collectorOptions(program.command('start').description('quick start: a collector with the dashboard plus an agent for this machine'))
      .addOption(new Option('--state-dir <dir>', 'state directory of the local agent').default('./data/agent').env('ASSAY_STATE_DIR'))
      .addOption(new Option('--interval <seconds>', 'sampling interval of the local agent').argParser(timerDurationArg(MIN_INTERVAL_MS)).default(1000, '1').env('ASSAY_INTERVAL')),
  ).action(async (_o, cmd: Command) => {
    applyConfigFile(cmd);
    const f = cmd.opts<CollectorFlags & { stateDir: string; interval: number }>();
    const c = await runCollector(f);
    const ingest = `${c.url.replace(/^http/, 'ws')}/ingest`;
    // The agent runs as its own process, as it would on any other server, with its Node settings.
    const { AGENT_ENV, AGENT_NODE_FLAGS } = await import('../agent/runtime.js');
    const child = spawn(
      process.execPath,
      [
        ...AGENT_NODE_FLAGS,
        topLevelCli,
        ...['agent', '--collector', ingest, '--state-dir', f.stateDir, '--interval', `${f.interval}ms`, '--log-level', f.logLevel],
        ...(c.tlsFingerprint ? ['--pin', c.tlsFingerprint] : []),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...AGENT_ENV, ...(c.enrollSecretFile ? { ASSAY_ENROLL_SECRET_FILE: c.enrollSecretFile } : {}) } },
    );
    process.stderr.write(`\nAssay is running.\n  dashboard: ${c.url}/\n  API:       ${c.url}/api/hosts\n  metrics:   ${c.url}/metrics\n  agents:    ${ingest}\nPress Ctrl+C to stop.\n\n`);
    child.on('exit', (code) => process.stderr.write(`local agent exited (${code})\n`));
    onSignals(async () => {
      child.kill('SIGTERM');
      await c.close();
    });
  });

  program
    .command('replay')
    .description('feed a trace through the engine as if live and print the verdicts')
    .argument('<file>', 'trace file')
    .addOption(new Option('--window <d>', 'engine window').argParser(durationArg).default(120_000, '120s'))
    .addOption(new Option('--every <d>', 'evaluation cadence').argParser(durationArg).default(5_000, '5s'))
    .option('--rules <file>', 'rules file (default: the bundled rules)')
    .option('--json', 'print every verdict as JSON lines')
    .action(async (file: string, o: { window: number; every: number; rules?: string; json?: boolean }) => {
      const [{ readTrace }, { replay }, engine] = await Promise.all([import('../proto/trace.js'), import('./replay.js'), import('./engine/index.js')]);
      const { header, samples } = await readTrace(file);
      const rulesData = engine.loadRulesFile(o.rules ?? engine.defaultRulesPath);
      const steps = replay(samples, rulesData, { windowMs: o.window, everyMs: o.every }, header.inventory);
      if (o.json) {
        for (const s of steps) process.stdout.write(JSON.stringify(s) + '\n');
        return;
      }
      const t0 = samples[0]?.tsMs ?? 0;
      say(`${oneLine(`${file}: label ${header.label} (${header.provenance}), ${samples.length} samples`)}\n`);
      let prev = '';
      for (const s of steps) {
        if (s.verdict.class === prev) continue;
        prev = s.verdict.class;
        say(`  +${((s.tsMs - t0) / 1000).toFixed(0).padStart(4)} s  ${s.verdict.class.padEnd(17)} ${(s.verdict.confidence * 100).toFixed(0)} %\n`);
      }
      const last = steps.at(-1)?.verdict;
      if (last) {
        say(`final: ${last.class} (${(last.confidence * 100).toFixed(0)} %)\n`);
        for (const e of [...last.evidence].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 8)) {
          say(`${oneLine(`  ${e.supports.padEnd(17)} ${e.weight.toFixed(2).padStart(6)}  ${e.detail}${e.process ? ` [${e.process.name} ${e.process.pid}]` : ''}`)}\n`);
        }
      }
    });

  const agents = program.command('agents').description('list and revoke enrolled agents, rotate the enrollment secret (works on the database folder; a running collector sees changes at once)');
  agents
    .command('list')
    .description('enrolled agents with key fingerprints, last seen and status')
    .addOption(new Option('--db <path>', DB_HELP).default('./data/assay.db').env('ASSAY_DB'))
    .option('--json', 'print JSON')
    .action(async (o: { db: string; json?: boolean }) => {
      const [{ openStore }, { fingerprint }] = await Promise.all([import('./dbfile.js'), import('../proto/chain.js')]);
      const store = await openStore(o.db, { write: false });
      const hosts = await store.listHosts();
      await store.close();
      const rows = hosts.map((h) => ({
        id: h.id,
        hostname: h.hostname,
        key: h.publicKey ? fingerprint(h.publicKey) : null,
        enrolled: h.enrolledMs ? new Date(h.enrolledMs).toISOString() : null,
        lastSeen: new Date(h.lastSeenMs).toISOString(),
        lastSeq: h.lastSeq,
        status: h.revokedMs ? `revoked ${new Date(h.revokedMs).toISOString()}` : 'active',
      }));
      if (o.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else {
        // A header row and aligned columns; agent-chosen text stays in its cell (newlines escaped too).
        const table = [['ID', 'HOSTNAME', 'KEY', 'LAST SEEN', 'SEQ', 'STATUS'], ...rows.map((r) => [r.id, r.hostname, r.key ?? '-', r.lastSeen, String(r.lastSeq), r.status].map((cell) => oneLine(cell)))];
        const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
        for (const row of table) say(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
        if (rows.length === 0) say('(no agents enrolled yet)\n');
      }
    });
  agents
    .command('revoke')
    .description('refuse an agent from now on (its connection is closed at its next batch)')
    .argument('<id>', 'agent id')
    .addOption(new Option('--db <path>', DB_HELP).default('./data/assay.db').env('ASSAY_DB'))
    .action(async (id: string, o: { db: string }) => {
      const { openStore } = await import('./dbfile.js');
      const store = await openStore(o.db, { write: true, mustExist: true });
      const known = await store.getHost(id);
      const changed = known ? await store.revokeAgent(id, Date.now()) : false;
      await store.close();
      if (!known) {
        sayErr(`no agent ${id} in ${o.db}\n`);
        process.exitCode = 1;
      } else say(changed ? `revoked ${id}\n` : `${id} was already revoked\n`);
    });

  agents
    .command('rotate-secret')
    .description('replace the enrollment secret beside the database with a new one; a running collector takes it within seconds, enrolled agents are not affected, new agents need the new secret')
    .addOption(new Option('--db <path>', `${DB_HELP} (the secret is the file enroll-secret beside a SQLite file, else in --data-dir)`).default('./data/assay.db').env('ASSAY_DB'))
    .addOption(new Option('--data-dir <dir>', DATA_DIR_HELP).env('ASSAY_DATA_DIR'))
    .action(async (o: { db: string; dataDir?: string }) => {
      const [{ checkDbPath, filesAnchor }, { enrollSecretPath, rotateSecret }] = await Promise.all([import('./dbfile.js'), import('./secret.js')]);
      checkDbPath(o.db);
      const file = enrollSecretPath(filesAnchor(o.db, o.dataDir));
      // A mistyped --db or --data-dir must not "rotate" a secret no collector reads: the real one
      // would stay valid while the operator is told it was replaced.
      if (!existsSync(file)) {
        throw new Error(`no enrollment secret at ${file} to rotate: give the --db (and --data-dir) the collector runs with; a collector writes the file on its first start (one given ASSAY_ENROLL_SECRET keeps none: change that variable instead)`);
      }
      rotateSecret(file);
      say(`new enrollment secret written to ${file} (mode 0600); give it to agents that have not enrolled yet\n`);
    });

  const rules = program.command('rules').description('work with rules files');
  rules
    .command('check')
    .description('validate a rules file; prints the problems and exits 1 if there are any')
    .argument('<file>', 'rules file (YAML)')
    .action(async (file: string) => {
      const { loadRulesFile } = await import('./engine/index.js');
      try {
        const r = loadRulesFile(file);
        say(`${file}: ok (rules version ${r.version})\n`);
      } catch (err) {
        sayErr(`${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
