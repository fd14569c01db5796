#!/usr/bin/env node
// `assay`: one CLI, one subcommand per part. Parsing and configuration only: the work is done
// by agent/ and collector/. Precedence: flag > ASSAY_* environment variable > --config file > default.
import { defaultIngestLimits } from './collector/ingest/limits.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseBool } from './proto/bool.js';
import { parseDurationMs } from './proto/duration.js';
import { checkOutputPath } from './proto/out-path.js';
import { termSafe } from './proto/term.js';
import { createLogger } from './proto/log.js';
import { packageVersion } from './proto/package-info.js';

const intArg =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
const durationArg = (v: string): number => {
  try {
    const ms = parseDurationMs(v);
    if (ms <= 0) throw new Error('must be positive');
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};
const wsUrlArg = (v: string): string => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${v}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new InvalidArgumentError('collector URL must start with ws:// or wss://');
  return v;
};

const listArg = (v: string): string[] => v.split(',').map((x) => x.trim()).filter(Boolean);

/** Options every long-running command shares. */
function withConfig(cmd: Command): Command {
  return cmd
    .addOption(new Option('--config <file>', 'YAML or JSON file with option values (keys as the long flags, camelCase)').env('ASSAY_CONFIG'))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info').env('ASSAY_LOG_LEVEL'));
}

/** Human-readable output: data from agents and report files never reaches the terminal raw. */
const say = (text: string): boolean => process.stdout.write(termSafe(text));
const sayErr = (text: string): boolean => process.stderr.write(termSafe(text));

/**
 * Commander sets a boolean flag to true whenever its environment variable exists, whatever its
 * value: parse the value strictly instead (ASSAY_ALLOW_PLAIN=false is false, =maybe an error).
 */
function strictEnvBooleans(cmd: Command): void {
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (opt.isBoolean() && opt.envVar && cmd.getOptionValueSource(key) === 'env') {
      cmd.setOptionValueWithSource(key, parseBool(`${opt.envVar} (--${opt.long?.replace(/^--/, '')})`, process.env[opt.envVar]), 'env');
    }
  }
}

/** Fills options left at their default from the --config file, so flags and env still win. */
function applyConfigFile(cmd: Command): void {
  strictEnvBooleans(cmd);
  const file = cmd.opts<{ config?: string }>().config;
  if (!file) return;
  let values: Record<string, unknown>;
  try {
    values = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof values !== 'object' || Array.isArray(values)) throw new Error(`config file ${file}: expected a mapping of option names to values`);
  const known = new Map(cmd.options.map((o) => [o.attributeName(), o]));
  for (const [key, raw] of Object.entries(values)) {
    const opt = known.get(key);
    if (!opt || key === 'config') throw new Error(`config file ${file}: unknown option "${key}" (known: ${[...known.keys()].filter((k) => k !== 'config').join(', ')})`);
    if (cmd.getOptionValueSource(key) !== 'default' && cmd.getOptionValueSource(key) !== undefined) continue;
    let value: unknown = raw;
    try {
      if (opt.isBoolean()) value = parseBool(`option ${key}`, raw);
      else if (opt.parseArg) value = opt.parseArg(String(raw), undefined);
    } catch (err) {
      throw new Error(`config file ${file}: ${key}: ${(err as Error).message}`);
    }
    cmd.setOptionValueWithSource(key, value, 'config');
  }
}

const program = new Command('assay')
  .description('Workload fingerprinting: tells AI training, inference, chain validation, storage proving and PoW mining apart by behaviour.')
  .version(packageVersion())
  // Errors read like every other Assay error ("assay: …") and end with a pointer to the help,
  // not the whole usage text (subcommands inherit both settings).
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'assay: ')) })
  .showHelpAfterError("(see 'assay <command> --help')")
  .enablePositionalOptions();

interface CollectorFlags {
  host: string;
  port: number;
  db: string;
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
  enrollFailuresPerMin: number;
  logLevel: string;
}

function collectorOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--host <addr>', 'address to listen on').default('127.0.0.1').env('ASSAY_HOST'))
    .addOption(new Option('--port <n>', 'TCP port (0 = any free port)').argParser(intArg('port', 0, 65535)).default(7300).env('ASSAY_PORT'))
    .addOption(new Option('--db <path>', 'SQLite database file').default('./data/assay.db').env('ASSAY_DB'))
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
    .addOption(new Option('--public-host <names>', 'comma-separated host names browsers reach the collector by (besides localhost, 127.0.0.1, ::1 and the --host address); other Host headers are refused').argParser(listArg).env('ASSAY_PUBLIC_HOST'))
    .addOption(new Option('--max-enrollments <n>', 'accept new agents only while fewer than this many have enrolled (revoked ones count)').argParser(intArg('max-enrollments', 0, 10_000_000)).env('ASSAY_MAX_ENROLLMENTS'))
    .addOption(new Option('--hello-timeout <d>', 'an /ingest connection that has not authenticated within this long is closed').argParser(durationArg).default(defaultIngestLimits.helloTimeoutMs, '10s').env('ASSAY_HELLO_TIMEOUT'))
    .addOption(new Option('--idle-timeout <d>', 'a TCP connection that has not sent a complete request header within this long is dropped').argParser(durationArg).default(defaultIngestLimits.idleTimeoutMs, '10s').env('ASSAY_IDLE_TIMEOUT'))
    .addOption(new Option('--max-preauth-per-address <n>', 'most unauthenticated connections (HTTP, or /ingest before hello) one remote address may hold; raise it behind a reverse proxy').argParser(intArg('max-preauth-per-address', 1, 1_000_000)).default(defaultIngestLimits.maxPreAuthPerAddress).env('ASSAY_MAX_PREAUTH_PER_ADDRESS'))
    .addOption(new Option('--max-preauth-total <n>', 'most unauthenticated connections from all addresses together').argParser(intArg('max-preauth-total', 1, 10_000_000)).default(defaultIngestLimits.maxPreAuthTotal).env('ASSAY_MAX_PREAUTH_TOTAL'))
    .addOption(new Option('--max-live-clients <n>', 'most dashboard /live sockets at once').argParser(intArg('max-live-clients', 1, 1_000_000)).default(defaultIngestLimits.maxLiveClients).env('ASSAY_MAX_LIVE_CLIENTS'))
    .addOption(new Option('--enroll-failures-per-min <n>', 'failed enrollments one address may make per minute on average (burst of the same size)').argParser(intArg('enroll-failures-per-min', 1, 1_000_000)).default(defaultIngestLimits.enrollFailuresPerMin).env('ASSAY_ENROLL_FAILURES_PER_MIN'));
}

async function runCollector(f: CollectorFlags): Promise<{ url: string; enrollSecretFile: string | null; tlsFingerprint: string | null; close(): Promise<void> }> {
  const { startCollector } = await import('./collector/server.js');
  return startCollector({
    host: f.host,
    port: f.port,
    dbPath: f.db,
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

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void stop().then(() => process.exit(0));
    });
  }
}

withConfig(collectorOptions(program.command('collector').description('run the collector: agent ingest, store, classifier, API and dashboard'))).action(async (_o, cmd: Command) => {
  applyConfigFile(cmd);
  const c = await runCollector(cmd.opts<CollectorFlags>());
  process.stderr.write(`assay collector listening on ${c.url} (dashboard ${c.url}/ , agents ${c.url.replace(/^http/, 'ws')}/ingest)\n`);
  if (c.enrollSecretFile) process.stderr.write(`enrollment secret for new agents: ${c.enrollSecretFile}\n`);
  if (c.tlsFingerprint) process.stderr.write(`TLS certificate fingerprint (agents: --pin ${c.tlsFingerprint})\n`);
  onSignals(() => c.close());
});

interface AgentFlags {
  collector: string;
  interval: number;
  batchInterval: number;
  stateDir: string;
  procRoot: string;
  sysRoot: string;
  nvidiaSmi: string;
  maxProcesses: number;
  maxSpoolSamples: number;
  maxSpoolAge: number;
  enrollSecretFile?: string;
  pin?: string;
  ca?: string;
  allowPlain?: boolean;
  logLevel: string;
}

function agentOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--collector <url>', 'collector ingest URL').argParser(wsUrlArg).default('ws://127.0.0.1:7300/ingest').env('ASSAY_COLLECTOR'))
    .addOption(new Option('--interval <seconds>', 'sampling interval (seconds, or 500ms, 2s, 1m)').argParser(durationArg).default(1000, '1').env('ASSAY_INTERVAL'))
    .addOption(new Option('--batch-interval <seconds>', 'how often batches are sent').argParser(durationArg).default(5000, '5').env('ASSAY_BATCH_INTERVAL'))
    .addOption(new Option('--state-dir <dir>', 'agent identity and spool directory').default('./data/agent').env('ASSAY_STATE_DIR'))
    .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc').env('ASSAY_PROC_ROOT'))
    .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys').env('ASSAY_SYS_ROOT'))
    .addOption(new Option('--nvidia-smi <path>', 'nvidia-smi executable').default('nvidia-smi').env('ASSAY_NVIDIA_SMI'))
    .addOption(new Option('--max-processes <n>', 'most processes reported per sample').argParser(intArg('max-processes', 1, 10_000)).default(64).env('ASSAY_MAX_PROCESSES'))
    .addOption(new Option('--max-spool-samples <n>', 'most unsent samples kept on disk (then thinned, then dropped, as recorded gaps)').argParser(intArg('max-spool-samples', 10, 100_000_000)).default(7 * 24 * 3600).env('ASSAY_MAX_SPOOL_SAMPLES'))
    .addOption(new Option('--max-spool-age <d>', 'oldest unsent sample kept').argParser(durationArg).default(7 * 24 * 3600_000, '7d').env('ASSAY_MAX_SPOOL_AGE'))
    .addOption(new Option('--pin <fingerprint>', 'pin the collector\'s TLS certificate (sha256:AB:CD:…, printed by the collector)').env('ASSAY_PIN'))
    .addOption(new Option('--ca <file>', 'CA certificate (PEM) that signed the collector\'s certificate').env('ASSAY_CA'))
    .addOption(new Option('--allow-plain', 'allow plain ws:// to a non-loopback collector').env('ASSAY_ALLOW_PLAIN'))
    .addOption(new Option('--enroll-secret-file <file>', 'file holding the collector\'s enrollment secret (or set ASSAY_ENROLL_SECRET); needed for the first connection').env('ASSAY_ENROLL_SECRET_FILE'));
}

withConfig(agentOptions(program.command('agent').description('run the agent: sample this host and stream to a collector'))).action(async (_o, cmd: Command) => {
  applyConfigFile(cmd);
  const f = cmd.opts<AgentFlags>();
  // The secret comes from a file or the environment, never from argv (visible in ps).
  const enrollSecret = f.enrollSecretFile ? readFileSync(f.enrollSecretFile, 'utf8').trim() : process.env.ASSAY_ENROLL_SECRET;
  const { startAgent } = await import('./agent/agent.js');
  const agent = await startAgent({
    collectorUrl: f.collector,
    intervalMs: f.interval,
    batchIntervalMs: f.batchInterval,
    stateDir: f.stateDir,
    spoolLimits: { maxSamples: f.maxSpoolSamples, maxAgeMs: f.maxSpoolAge },
    ...(enrollSecret ? { enrollSecret } : {}),
    ...(f.pin ? { pin: f.pin } : {}),
    ...(f.ca ? { wsOptions: { ca: readFileSync(f.ca, 'utf8') } } : {}),
    ...(f.allowPlain ? { allowPlain: true } : {}),
    probeConfig: { procRoot: f.procRoot, sysRoot: f.sysRoot, nvidiaSmi: f.nvidiaSmi, maxProcesses: f.maxProcesses },
    logger: createLogger('agent', f.logLevel),
  });
  onSignals(() => agent.stop());
});

withConfig(
  collectorOptions(program.command('start').description('quick start: a collector with the dashboard plus an agent for this machine'))
    .addOption(new Option('--state-dir <dir>', 'state directory of the local agent').default('./data/agent').env('ASSAY_STATE_DIR'))
    .addOption(new Option('--interval <seconds>', 'sampling interval of the local agent').argParser(durationArg).default(1000, '1').env('ASSAY_INTERVAL')),
).action(async (_o, cmd: Command) => {
  applyConfigFile(cmd);
  const f = cmd.opts<CollectorFlags & { stateDir: string; interval: number }>();
  const c = await runCollector(f);
  const ingest = `${c.url.replace(/^http/, 'ws')}/ingest`;
  // The agent runs as its own process, as it would on any other server.
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      ...['agent', '--collector', ingest, '--state-dir', f.stateDir, '--interval', `${f.interval}ms`, '--log-level', f.logLevel],
      ...(c.tlsFingerprint ? ['--pin', c.tlsFingerprint] : []),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...(c.enrollSecretFile ? { ASSAY_ENROLL_SECRET_FILE: c.enrollSecretFile } : {}) } },
  );
  process.stderr.write(`\nAssay is running.\n  dashboard: ${c.url}/\n  API:       ${c.url}/api/hosts\n  metrics:   ${c.url}/metrics\n  agents:    ${ingest}\nPress Ctrl+C to stop.\n\n`);
  child.on('exit', (code) => process.stderr.write(`local agent exited (${code})\n`));
  onSignals(async () => {
    child.kill('SIGTERM');
    await c.close();
  });
});

program
  .command('record')
  .description('record this machine\'s sample stream (what the agent would send) into a trace file')
  .requiredOption('--label <class>', 'what the recorded workload really is (e.g. pow-mining)')
  .requiredOption('--out <file>', 'trace file to write (NDJSON)')
  .addOption(new Option('--duration <d>', 'how long to record').argParser(durationArg).default(60_000, '60s'))
  .addOption(new Option('--interval <seconds>', 'sampling interval').argParser(durationArg).default(1000, '1'))
  .addOption(new Option('--provenance <kind>', 'how the workload was produced').choices(['real', 'emulated', 'synthetic', 'real-gpu']).default('real'))
  .option('--description <text>', 'what ran and how', '')
  .option('--evasion <name>', 'the evasion this trace exercises, if any')
  .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc'))
  .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys'))
  .action(async (o: { label: string; out: string; duration: number; interval: number; provenance: 'real'; description: string; evasion?: string; procRoot: string; sysRoot: string }) => {
    checkOutputPath(o.out, 'trace file');
    const { recordTrace } = await import('./agent/record.js');
    const tty = process.stderr.isTTY;
    const r = await recordTrace({
      out: o.out,
      label: o.label,
      durationMs: o.duration,
      intervalMs: o.interval,
      provenance: o.provenance,
      description: o.description,
      ...(o.evasion ? { evasion: o.evasion } : {}),
      probeConfig: { procRoot: o.procRoot, sysRoot: o.sysRoot },
      onSample: (n, total) => {
        if (tty) process.stderr.write(`\rrecording ${o.label}: ${n}/${total} samples`);
      },
    });
    process.stderr.write(`${tty ? '\n' : ''}wrote ${r.samples} samples to ${o.out}\n`);
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
    const [{ readTrace }, { replay }, engine] = await Promise.all([import('./proto/trace.js'), import('./collector/replay.js'), import('./collector/engine/index.js')]);
    const { header, samples } = await readTrace(file);
    const rulesData = engine.loadRulesFile(o.rules ?? engine.defaultRulesPath);
    const steps = replay(samples, rulesData, { windowMs: o.window, everyMs: o.every }, header.inventory);
    if (o.json) {
      for (const s of steps) process.stdout.write(JSON.stringify(s) + '\n');
      return;
    }
    const t0 = samples[0]?.tsMs ?? 0;
    say(`${file}: label ${header.label} (${header.provenance}), ${samples.length} samples\n`);
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
        say(`  ${e.supports.padEnd(17)} ${e.weight.toFixed(2).padStart(6)}  ${e.detail}${e.process ? ` [${e.process.name} ${e.process.pid}]` : ''}\n`);
      }
    }
  });

const fractionArg = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

interface ThresholdFlags {
  minCoverage?: number;
  maxNonAiShare?: number;
  maxNonAiRun?: number;
  minConfidence?: number;
}

function thresholdOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--min-coverage <fraction>', 'least share of the period with samples for the AI-only statement (default 0.99)').argParser(fractionArg('min-coverage')))
    .addOption(new Option('--max-non-ai-share <fraction>', 'largest share of non-AI work allowed (default 0.01)').argParser(fractionArg('max-non-ai-share')))
    .addOption(new Option('--max-non-ai-run <d>', 'longest single stretch of non-AI verdicts allowed (default 5m)').argParser(durationArg))
    .addOption(new Option('--min-confidence <fraction>', 'least verdict confidence for non-AI time to count as confident; below it the time is doubtful: listed apart, and over the limits it makes the answer "cannot-say" (default 0.3)').argParser(fractionArg('min-confidence')));
}

const thresholdsOf = (o: ThresholdFlags): Record<string, number> => ({
  ...(o.minCoverage !== undefined ? { minCoverage: o.minCoverage } : {}),
  ...(o.maxNonAiShare !== undefined ? { maxNonAiShare: o.maxNonAiShare } : {}),
  ...(o.maxNonAiRun !== undefined ? { maxNonAiRunMs: o.maxNonAiRun } : {}),
  ...(o.minConfidence !== undefined ? { minConfidence: o.minConfidence } : {}),
});

const formatOf = (format: string | undefined, out: string | undefined): 'json' | 'html' => (format === 'html' || format === 'json' ? format : out?.endsWith('.html') ? 'html' : 'json');

thresholdOptions(
  program
    .command('report')
    .description('a signed report for one or more hosts over a period: coverage and gaps, time and energy per class, evidence, the hash chain, and the AI-only statement')
    .requiredOption('--host <id-or-name>', 'agent id or hostname (repeat for a group of hosts)', collect)
    .option('--from <time>', 'start: ISO date or Unix ms (default: 24 h before --to)')
    .option('--to <time>', 'end: ISO date or Unix ms (default: now)')
    .option('--out <file>', 'write the report here (default: standard output)')
    .addOption(new Option('--rules <file>', 'the rules file the collector runs with, named in the report by hash (default: the bundled rules)').env('ASSAY_RULES'))
    .addOption(new Option('--format <format>', 'json or html (default: from --out, else json)').choices(['json', 'html']))
    .addOption(new Option('--db <path>', 'SQLite database file').default('./data/assay.db').env('ASSAY_DB')),
).action(async (o: ThresholdFlags & { host: string[]; from?: string; to?: string; out?: string; format?: string; db: string; rules?: string }) => {
  const [{ openStore }, { buildReport }, { collectorKeyPath, loadOrCreateKey }, { reportPeriod }, { renderHtml }, { writeFileSync }, { loadRulesFile }] = await Promise.all([
    import('./collector/dbfile.js'),
    import('./collector/report/build.js'),
    import('./collector/report/sign.js'),
    import('./collector/report/period.js'),
    import('./collector/report/render-html.js'),
    import('node:fs'),
    import('./collector/engine/index.js'),
  ]);
  if (o.out) checkOutputPath(o.out, 'report file');
  const period = reportPeriod(o.from, o.to, Date.now());
  const store = openStore(o.db, { write: false });
  try {
    const { resolveHostIds } = await import('./collector/report/resolve-hosts.js');
    const report = await buildReport(store, { hostIds: await resolveHostIds(store, o.host), ...period, thresholds: thresholdsOf(o), keys: loadOrCreateKey(collectorKeyPath(o.db)), ...(o.rules ? { rules: loadRulesFile(o.rules) } : {}) });
    const text = formatOf(o.format, o.out) === 'html' ? renderHtml(report) : JSON.stringify(report) + '\n';
    if (o.out) writeFileSync(o.out, text);
    else process.stdout.write(text);
    const st = report.statement;
    sayErr(`${st.text}\n${[...st.reasons.map((r) => `  - ${r}`), ...st.notes.map((n) => `  note: ${n}`)].map((l) => `${l}\n`).join('')}signed by collector key ${report.signer.fingerprint}${o.out ? `; wrote ${o.out}` : ''}\n`);
  } finally {
    await store.close();
  }
});

program
  .command('verify')
  .description('check a report (JSON or HTML): its signature, the agents\' signatures and hash chain, fingerprints computed from the keys, verdicts re-derived from the samples (scan reports), every figure and the statement, and that an HTML page is exactly the rendering of its embedded report; exit 0 pass, 1 fail')
  .argument('<file>', 'report file')
  .option('--key <fingerprint>', 'the signer key you expect (SHA256:… fingerprint or hex public key)')
  .option('--json', 'print the result as JSON')
  .action(async (file: string, o: { key?: string; json?: boolean }) => {
    const [{ verifyReportBytes }, { readFileSync }] = await Promise.all([import('./collector/report/verify-file.js'), import('node:fs')]);
    let result;
    try {
      result = verifyReportBytes(readFileSync(file), { fileName: file, ...(o.key ? { expectKey: o.key } : {}) });
    } catch (err) {
      result = { ok: false, failures: [`cannot read ${file}: ${(err as Error).message}`], passed: [], warnings: [], signer: null, statement: null };
    }
    if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      say(`${result.ok ? 'PASS' : 'FAIL'}: ${file}\n`);
      for (const p of result.passed) say(`  ok    ${p}\n`);
      for (const f of result.failures) say(`  FAIL  ${f}\n`);
      for (const w of result.warnings) say(`  WARN  ${w}\n`);
      if (result.statement) say(`statement: ${result.statement}${result.ok ? '' : ' (NOT verified)'}\n`);
      if (result.ok && !o.key) say(`note: signed by ${result.signer}; compare it with the key you expect (or pass --key)\n`);
    }
    process.exitCode = result.ok ? 0 : 1;
  });

thresholdOptions(
  program
    .command('scan')
    .description('sample this machine for a while with every probe (no collector, no network) and print what it is doing; writes the same signed report as `assay report`')
    .addOption(new Option('--duration <d>', 'how long to sample').argParser(durationArg).default(120_000, '2m'))
    .addOption(new Option('--interval <seconds>', 'sampling interval').argParser(durationArg).default(1000, '1'))
    .option('--json <file>', 'write the signed JSON report')
    .option('--html <file>', 'write the HTML report')
    .option('--key <file>', 'sign with this Ed25519 key (PEM) instead of a fresh one')
    .option('--rules <file>', 'rules file (default: the bundled rules)')
    .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc'))
    .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys'))
    .addOption(new Option('--nvidia-smi <path>', 'nvidia-smi executable').default('nvidia-smi'))
    .addOption(new Option('--max-processes <n>', 'most processes kept per sample').argParser(intArg('max-processes', 1, 10_000)).default(64)),
).action(
  async (o: ThresholdFlags & { duration: number; interval: number; json?: string; html?: string; key?: string; rules?: string; procRoot: string; sysRoot: string; nvidiaSmi: string; maxProcesses: number }) => {
    const [{ runScan }, { scanSummary }, { createProgress }, { renderHtml }, { keysFromPem }, { readFileSync: read, writeFileSync }] = await Promise.all([
      import('./agent/scan/scan.js'),
      import('./agent/scan/summary.js'),
      import('./agent/scan/progress.js'),
      import('./collector/report/render-html.js'),
      import('./proto/chain.js'),
      import('node:fs'),
    ]);
    for (const f of [o.json, o.html]) if (f) checkOutputPath(f, 'report file');
    const progress = createProgress();
    const { report } = await runScan({
      durationMs: o.duration,
      intervalMs: o.interval,
      probeConfig: { procRoot: o.procRoot, sysRoot: o.sysRoot, nvidiaSmi: o.nvidiaSmi, maxProcesses: o.maxProcesses },
      thresholds: thresholdsOf(o),
      ...(o.rules ? { rulesPath: o.rules } : {}),
      ...(o.key ? { keys: keysFromPem(read(o.key, 'utf8')) } : {}),
      onSample: (n, total, sample) => progress.update(n, total, sample),
    });
    progress.stop();
    say('\n' + scanSummary(report));
    if (o.json) writeFileSync(o.json, JSON.stringify(report) + '\n');
    if (o.html) writeFileSync(o.html, renderHtml(report));
    process.stdout.write(`\nreport signed with scan key ${report.signer.fingerprint}${o.key ? '' : ' (generated for this scan)'}\n`);
    for (const f of [o.json, o.html]) if (f) process.stdout.write(`wrote ${f} (check it with: assay verify ${f})\n`);
  },
);

const agents = program.command('agents').description('list and revoke enrolled agents, rotate the enrollment secret (works on the database folder; a running collector sees changes at once)');
agents
  .command('list')
  .description('enrolled agents with key fingerprints, last seen and status')
  .addOption(new Option('--db <path>', 'SQLite database file').default('./data/assay.db').env('ASSAY_DB'))
  .option('--json', 'print JSON')
  .action(async (o: { db: string; json?: boolean }) => {
    const [{ openStore }, { fingerprint }] = await Promise.all([import('./collector/dbfile.js'), import('./proto/chain.js')]);
    const store = openStore(o.db, { write: false });
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
      // A header row and aligned columns; agent-chosen text is made terminal-safe by say().
      const table = [['ID', 'HOSTNAME', 'KEY', 'LAST SEEN', 'SEQ', 'STATUS'], ...rows.map((r) => [r.id, r.hostname, r.key ?? '-', r.lastSeen, String(r.lastSeq), r.status].map((cell) => termSafe(cell)))];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
      for (const row of table) say(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
      if (rows.length === 0) say('(no agents enrolled yet)\n');
    }
  });
agents
  .command('revoke')
  .description('refuse an agent from now on (its connection is closed at its next batch)')
  .argument('<id>', 'agent id')
  .addOption(new Option('--db <path>', 'SQLite database file').default('./data/assay.db').env('ASSAY_DB'))
  .action(async (id: string, o: { db: string }) => {
    const { openStore } = await import('./collector/dbfile.js');
    const store = openStore(o.db, { write: true, mustExist: true });
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
  .addOption(new Option('--db <path>', 'SQLite database file (the secret is the file enroll-secret beside it)').default('./data/assay.db').env('ASSAY_DB'))
  .action(async (o: { db: string }) => {
    const [{ checkDbPath }, { enrollSecretPath, rotateSecret }] = await Promise.all([import('./collector/dbfile.js'), import('./collector/secret.js')]);
    checkDbPath(o.db);
    const file = enrollSecretPath(o.db);
    rotateSecret(file);
    say(`new enrollment secret written to ${file} (mode 0600); give it to agents that have not enrolled yet\n`);
  });

const rules = program.command('rules').description('work with rules files');
rules
  .command('check')
  .description('validate a rules file; prints the problems and exits 1 if there are any')
  .argument('<file>', 'rules file (YAML)')
  .action(async (file: string) => {
    const { loadRulesFile } = await import('./collector/engine/index.js');
    try {
      const r = loadRulesFile(file);
      say(`${file}: ok (rules version ${r.version})\n`);
    } catch (err) {
      sayErr(`${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });

program.parseAsync(process.argv).catch((err: Error) => {
  sayErr(`assay: ${err.message}\n`);
  process.exit(1);
});
