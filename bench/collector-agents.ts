// Collector ingest under many agents, over real WebSockets with real signed, hash-chained
// schema-3 batches (a compressed payload signed through its digest, as the agent
// sends) of recorded samples: by default the server-like trace bench/data/server-host.trace.ndjson.gz
// (~62 processes and ~114 sockets per sample); the table says what the samples held.
// Every agent enrolls with its own Ed25519 key; keys and chains are made beforehand in worker
// threads, so during the measurement this process only sends prepared bytes and reads acks. The
// collector runs as its own process (`assay collector`), measured from /proc.
//
//   (a) throughput: N agents (2000) each send their next batch as soon as the previous one is
//       acked, for a bounded time: samples/s acked, p50/p99 ack latency, collector CPU and RSS.
//   (b) connected: N agents (10000) at 1 Hz, one batch of 5 samples every 5 s each, staggered,
//       for a bounded time: collector RSS, ack latency, CPU.
//
//   npm run build && node dist/bench/collector-agents.js [--mode a|b|both] [--agents N]
//     [--seconds S] [--batch-samples K] [--traces file,file|dir] [--addresses 32] [--cli dist/cli.js]
//     [--profile DIR]  (the collector runs with --cpu-prof; the profile lands in DIR)
//     [--db sqlite|postgres|postgres://…]   (postgres: a throwaway cluster from Debian's server
//     binaries with fsync on, as test/helpers/postgres.ts starts; a URL: an existing, empty database)
//     [-- extra collector flags]
// Prints one table at the end (and the machine's loadavg). Bounded: agents, batches per agent
// and seconds are capped; the collector and its database are removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { storedSampleCount } from '../collector/store/sample-figures.js';
import { storedSampleCount as pgStoredSampleCount } from '../collector/store/postgres-figures.js';
import pg from 'pg';
import WebSocket from 'ws';
import { enrollProof, helloSigningBytes, signBytes, type AgentKeys } from '../proto/chain.js';
import { assay, decodeCollectorMessage, encodeAgentMessage, type IInventory } from '../proto/codec.js';
import { freePort } from '../test/helpers/env.js';
import { startPostgres, type PgCluster } from '../test/helpers/postgres.js';
import { buildPayloads, buildPools, describeTraces, keysOf, traceInventory, type AgentChain, type PoolSpec, type PregenRequest } from './agents-pregen.js';
import { CLK_TCK, cpuTicks, rssMb } from './proc-stats.js';

const SECRET = 'bench-enroll-secret-0123456789';
const here = fileURLToPath(new URL('.', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- arguments ----
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const extraCollectorArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const opt = (name: string): string | undefined => {
  const i = own.indexOf(`--${name}`);
  return i >= 0 ? own[i + 1] : undefined;
};
const num = (name: string, def: number, min: number, max: number): number => {
  const v = opt(name);
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
  return Math.floor(n);
};
const mode = opt('mode') ?? 'both';
const dbArg = opt('db') ?? 'sqlite';
if (!['sqlite', 'postgres'].includes(dbArg) && !/^postgres(ql)?:\/\//.test(dbArg)) throw new Error('--db is sqlite, postgres or a postgres:// URL');
/** The throwaway cluster for --db postgres (started once, before the first collector). */
let cluster: PgCluster | null = null;
if (!['a', 'b', 'both'].includes(mode)) throw new Error('--mode is a, b or both');
const cli = resolve(opt('cli') ?? join(here, '..', 'cli.js'));
const addresses = num('addresses', 32, 1, 200);
const workers = num('workers', 2, 1, 8);
const traceArg = opt('traces') ?? join(here, '..', '..', 'bench', 'data', 'server-host.trace.ndjson.gz');
const profileDir = opt('profile');
const traces = traceArg
  .split(',')
  .flatMap((p) => (existsSync(p) && statSync(p).isDirectory() ? readdirSync(p).filter((f) => /\.trace\.ndjson(\.gz)?$/.test(f)).sort().map((f) => join(p, f)) : [p]));
if (traces.length === 0) throw new Error(`no traces in ${traceArg}`);

interface ModeSpec {
  name: string;
  agents: number;
  seconds: number;
  batchSamples: number;
  /** null: next batch as soon as the previous is acked; else one batch per this many ms. */
  periodMs: number | null;
  batches: number;
  firstTsMs: number;
  stepMs: number;
  /** Leading seconds left out of the throughput figure (connections warming up). */
  warmupS: number;
}

function modeA(t0: number): ModeSpec {
  const agents = num('agents', 2000, 1, 5000);
  const seconds = num('seconds', 15, 3, 120);
  const batchSamples = num('batch-samples', 5, 1, 500);
  // Enough batches for each agent to sustain 1.5x 60,000 samples/s for the whole run, at most 400.
  const batches = Math.min(400, Math.ceil((1.5 * 60_000 * seconds) / (agents * batchSamples)));
  const total = batches * batchSamples;
  // A backlog replayed from the recent past: all sample times within the last 200 s.
  const stepMs = Math.min(1000, Math.floor(200_000 / total));
  return { name: 'a', agents, seconds, batchSamples, periodMs: null, batches, firstTsMs: t0 - total * stepMs, stepMs, warmupS: 2 };
}

function modeB(t0: number): ModeSpec {
  const agents = num('agents', 10_000, 1, 12_000);
  const seconds = num('seconds', 60, 10, 300);
  const batchSamples = num('batch-samples', 5, 1, 500);
  const periodMs = batchSamples * 1000;
  const batches = Math.ceil((seconds * 1000) / periodMs) + 1;
  return { name: 'b', agents, seconds, batchSamples, periodMs, batches, firstTsMs: t0, stepMs: 1000, warmupS: 0 };
}

// ---- the collector ----
interface Collector {
  proc: ChildProcess;
  pid: number;
  port: number;
  dir: string;
  /** The collector's --db: a SQLite file in `dir`, or a PostgreSQL URL. */
  db: string;
  stderr: string[];
}

/** Where this run's collector stores: a fresh SQLite file, or a fresh PostgreSQL database. */
async function runDb(dir: string): Promise<string> {
  if (dbArg === 'sqlite') return join(dir, 'c.db');
  if (dbArg !== 'postgres') return dbArg;
  cluster ??= await startPostgres({ fsync: true });
  return cluster.createDatabase('assay_bench');
}

async function startCollector(maxAgents: number): Promise<Collector> {
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-agents-'));
  const port = await freePort();
  const db = await runDb(dir);
  const args = [
    // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the collector
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []),
    cli, 'collector', '--port', String(port), '--db', db, '--data-dir', dir, '--log-level', process.env.BENCH_LOG ?? 'error',
    '--max-agents', String(maxAgents + 100),
    // The bench replays minutes of samples quickly; timestamps are checked, but loosely.
    '--max-clock-skew', '15m',
    ...extraCollectorArgs,
  ];
  // File descriptors: one per agent connection plus the database; raise the soft limit to the hard one.
  const proc = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ASSAY_ENROLL_SECRET: SECRET },
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.length < 500 && stderr.push(d.toString()));
  const c = { proc, pid: proc.pid!, port, dir, db, stderr };
  // Ready when /healthz answers (at most 30 s), not after a guessed sleep.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited (${proc.exitCode}): ${stderr.join('')}`);
    const ok = await new Promise<boolean>((res) => {
      const req = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return c;
    if (Date.now() > deadline) throw new Error('collector not ready within 30 s');
    await sleep(100);
  }
}

/**
 * The collector's /metrics counters (name -> value, unlabelled ones), and when the answer arrived
 * (performance.now()). Under load a scrape waits seconds for the collector's event loop, so rates
 * are taken over the time between two answers, not over the time the bench slept.
 */
interface Scrape {
  m: Map<string, number>;
  atMs: number;
}
function scrape(port: number): Promise<Scrape> {
  return new Promise((res) => {
    const done = (m: Map<string, number>) => res({ m, atMs: performance.now() });
    const req = get({ host: '127.0.0.1', port, path: '/metrics', timeout: 20_000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => done(new Map(body.split('\n').filter((l) => /^assay_\w+ /.test(l)).map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]))));
    });
    req.on('error', () => done(new Map()));
    req.on('timeout', () => req.destroy());
  });
}

async function stopCollector(c: Collector): Promise<number | null> {
  if (c.proc.exitCode === null) {
    c.proc.kill('SIGTERM');
    await Promise.race([once(c.proc, 'exit'), sleep(15_000)]);
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }
  let stored: number | null = null;
  try {
    if (c.db.startsWith('postgres')) {
      const client = new pg.Client({ connectionString: c.db });
      await client.connect();
      stored = await pgStoredSampleCount(client);
      await client.end();
    } else {
      const db = new Database(c.db, { readonly: true });
      stored = storedSampleCount(db);
      db.close();
    }
  } catch {
    stored = null;
  }
  rmSync(c.dir, { recursive: true, force: true });
  return stored;
}

// ---- pre-generation in worker threads ----
async function pregenerate(spec: PoolSpec, payloads: Uint8Array[][], agents: number, idPrefix: string): Promise<AgentChain[]> {
  const per = Math.ceil(agents / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const req: PregenRequest = { spec, payloads, from: w * per, to: Math.min(agents, (w + 1) * per), idPrefix };
      if (req.from >= req.to) return Promise.resolve([] as AgentChain[]);
      const worker = new Worker(join(here, 'agents-pregen.js'), { workerData: { pregen: req } });
      // Bounded: a worker that neither answers nor fails within 5 minutes is stopped (a run once
      // waited 10 minutes on a worker that never started its work).
      return new Promise<AgentChain[]>((res, rej) => {
        const timer = setTimeout(() => {
          rej(new Error(`pregen worker for agents ${req.from}-${req.to - 1} gave no answer within 300 s`));
          void worker.terminate();
        }, 300_000);
        worker.once('message', (m: AgentChain[]) => (clearTimeout(timer), res(m)));
        worker.once('error', (err) => (clearTimeout(timer), rej(err)));
        worker.once('exit', (code) => (clearTimeout(timer), rej(new Error(`pregen worker exited ${code} without an answer`))));
      });
    }),
  );
  return parts.flat();
}

// ---- simulated agents ----
class Histogram {
  private readonly v: Float64Array;
  n = 0;
  constructor(capacity: number) {
    this.v = new Float64Array(capacity);
  }
  add(x: number): void {
    if (this.n < this.v.length) this.v[this.n++] = x;
  }
  q(p: number): number {
    if (this.n === 0) return NaN;
    const s = this.v.subarray(0, this.n).slice().sort();
    return s[Math.min(this.n - 1, Math.floor(p * this.n))]!;
  }
  max(): number {
    return this.n ? this.v.subarray(0, this.n).reduce((a, b) => Math.max(a, b), 0) : NaN;
  }
}

interface RunState {
  acceptedSamples: number;
  windowSamples: number;
  windowFrom: number;
  windowTo: number;
  latency: Histogram;
  closes: Map<string, number>;
  stopped: boolean;
}

class BenchAgent {
  ws!: WebSocket;
  next = 0;
  sentAt = 0;
  inFlight = false;
  ready!: Promise<void>;
  private keys: AgentKeys;

  constructor(
    readonly chain: AgentChain,
    private readonly payloads: Uint8Array[],
    private readonly hello: (keys: AgentKeys, nonce: Uint8Array) => Uint8Array,
    private readonly st: RunState,
    private readonly onAck: (a: BenchAgent) => void,
    readonly offset: number,
  ) {
    this.keys = keysOf(chain);
  }

  connect(url: string, localAddress: string): Promise<void> {
    this.ws = new WebSocket(url, { perMessageDeflate: false, localAddress, maxPayload: 1 << 20, generateMask: (m: Buffer) => void m.fill(0) });
    this.ready = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${this.chain.agentId}: no welcome within 60 s`)), 60_000);
      this.ws.on('message', (data: Buffer) => {
        const m = decodeCollectorMessage(data);
        if (m.body === 'challenge') this.ws.send(this.hello(this.keys, m.challenge!.nonce!));
        else if (m.body === 'welcome') {
          clearTimeout(timer);
          res();
        } else if (m.body === 'ack') this.acked(m.ack!);
      });
      this.ws.on('close', (code, reason) => {
        clearTimeout(timer);
        if (!this.st.stopped) {
          const k = `${code} ${reason.toString().slice(0, 60)}`;
          this.st.closes.set(k, (this.st.closes.get(k) ?? 0) + 1);
        }
        rej(new Error(`${this.chain.agentId}: closed ${code} ${reason.toString()}`));
      });
      this.ws.on('error', () => undefined);
    });
    return this.ready;
  }

  get done(): boolean {
    return this.next >= this.chain.headerEnds.length;
  }

  send(): void {
    const j = this.next++;
    const { headers, headerEnds, signatures } = this.chain;
    const header = headers.subarray(j === 0 ? 0 : headerEnds[j - 1], headerEnds[j]);
    const frame = encodeAgentMessage({ batch: { header, signature: signatures.subarray(j * 64, j * 64 + 64), payload: this.payloads[j]! } });
    this.inFlight = true;
    this.sentAt = performance.now();
    this.ws.send(frame);
  }

  private acked(ack: assay.v1.IAck): void {
    const now = performance.now();
    this.inFlight = false;
    const st = this.st;
    st.acceptedSamples += ack.accepted ?? 0;
    // Throughput and latency of the acks that arrive within the window (whenever their batch was sent).
    if (now >= st.windowFrom && now <= st.windowTo) {
      st.windowSamples += ack.accepted ?? 0;
      st.latency.add(now - this.sentAt);
    }
    this.onAck(this);
  }
}

interface Row {
  mode: string;
  agents: number;
  connected: number;
  batchSamples: number;
  bytesPerSample: number;
  payloadBytesPerSample: number;
  connectS: number;
  windowS: number;
  samplesPerS: number;
  batchesPerS: number;
  p50: number;
  p99: number;
  maxLat: number;
  cpuPct: number;
  rssMax: number;
  rssEnd: number;
  rssIdle: number;
  genCpuPct: number;
  acked: number;
  stored: number | null;
  closes: string;
  /** Seconds between the /metrics answers the rates below are taken over. */
  metricsS: number;
  groupsPerS: number;
  writesPerGroup: number;
  classifyTurnsPerS: number;
  classifiedPerS: number;
  /** Samples stored per second by /metrics over the same interval (cross-checks the acked figure). */
  storedPerS: number;
  classifyDropped: number;
  classifyBacklog: number;
  /** Collector CPU time per 1000 samples acked in the window (less sensitive to other load than samples/s). */
  cpuMsPer1k: number;
  /** Hosts waiting for classification when the wait after the run ended (0: all classified). */
  backlogAfter: number;
  /** Samples classified from the start of the run to the end of the wait. */
  classifiedAll: number;
  /** Collector CPU from the start of the run to the end of the wait, per 1000 samples acked in the run (ack path and classification). */
  cpuMsPer1kAll: number;
  /** Hosts with a verdict after the run, and how long after the run the last one took. */
  withVerdict: number;
  verdictWaitS: number;
}

/** Hosts in the collector's fleet list that have a published class. */
function verdictCount(port: number): Promise<number> {
  return new Promise((res) => {
    const req = get({ host: '127.0.0.1', port, path: '/api/hosts', timeout: 20_000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => {
        try {
          res((JSON.parse(body) as { hosts: Array<{ class: string | null }> }).hosts.filter((h) => h.class !== null).length);
        } catch {
          res(0);
        }
      });
    });
    req.on('error', () => res(0));
    req.on('timeout', () => req.destroy());
  });
}

async function runMode(spec: ModeSpec): Promise<Row> {
  const poolSpec: PoolSpec = { traces, batchSamples: spec.batchSamples, batches: spec.batches, firstTsMs: spec.firstTsMs, stepMs: spec.stepMs };
  const tPre = Date.now();
  const pools = buildPools(poolSpec);
  const payloads = buildPayloads(pools);
  const chains = await pregenerate(poolSpec, payloads, spec.agents, `bench-${spec.name}-`);
  const nSamples = pools.flat(2).length;
  const bytesPerSample = pools.flat(2).reduce((a, s) => a + s.length, 0) / nSamples;
  const payloadBytesPerSample = payloads.flat().reduce((a, p) => a + p.length, 0) / nSamples;
  console.error(`mode ${spec.name}: ${spec.agents} agents x ${spec.batches} signed batches of ${spec.batchSamples} samples prepared in ${((Date.now() - tPre) / 1000).toFixed(1)} s`);
  const inventory: IInventory | undefined = traces.length ? traceInventory(traces[0]!) : undefined;
  const hello = (chain: AgentChain) => (keys: AgentKeys, nonce: Uint8Array): Uint8Array =>
    encodeAgentMessage({
      hello: {
        agentId: chain.agentId,
        hostname: `bench-${chain.agentId}`,
        agentVersion: '0.1.0',
        intervalMs: 1000,
        inventory,
        publicKey: keys.publicKey,
        nonceSignature: signBytes(keys, helloSigningBytes(nonce, chain.agentId, keys.publicKey)),
        enrollProof: enrollProof(SECRET, chain.agentId, keys.publicKey),
        timeMs: Date.now(),
      },
    });

  const c = await startCollector(spec.agents);
  const st: RunState = { acceptedSamples: 0, windowSamples: 0, windowFrom: Infinity, windowTo: Infinity, latency: new Histogram(spec.agents * spec.batches), closes: new Map(), stopped: false };
  let running = false;
  const onAck = (a: BenchAgent): void => {
    if (!running || a.done) return;
    if (spec.periodMs === null) {
      if (performance.now() < st.windowTo) a.send();
    } else if (a.next <= due(a)) a.send(); // late: its turn came while it waited for this ack
  };
  let startAt = 0;
  // Periodic agents send batch j at startAt + offset + j periods (offsets spread over one period).
  const due = (a: BenchAgent, now = performance.now()): number => Math.floor((now - startAt - a.offset) / spec.periodMs!);
  const agents = chains.map((ch, i) => new BenchAgent(ch, payloads[i % payloads.length]!, hello(ch), st, onAck, Math.random() * (spec.periodMs ?? 0)));
  const url = `ws://127.0.0.1:${c.port}/ingest`;
  let stored: number | null = null;
  try {
    const rssIdle = rssMb(c.pid);
    // Connect and enroll with bounded concurrency, spread over loopback source addresses so the
    // per-address pre-auth cap (32) is respected, as many agents behind their own addresses would.
    const tConn = performance.now();
    let connected = 0;
    let cursor = 0;
    const CONCURRENCY = Math.min(256, addresses * 16);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < agents.length) {
          const i = cursor++;
          try {
            await agents[i]!.connect(url, `127.0.0.${10 + (i % addresses)}`);
            connected++;
          } catch {
            // counted in closes
          }
        }
      }),
    );
    const connectS = (performance.now() - tConn) / 1000;
    console.error(`mode ${spec.name}: ${connected}/${agents.length} agents connected and enrolled in ${connectS.toFixed(1)} s`);
    const live = agents.filter((a) => a.ws.readyState === WebSocket.OPEN);

    // Counters from /metrics over the whole run (read before it starts: under load a scrape can take seconds).
    const m0 = await scrape(c.port);
    // ---- the measured run ----
    running = true;
    startAt = performance.now();
    st.windowFrom = startAt + spec.warmupS * 1000;
    st.windowTo = startAt + spec.seconds * 1000;
    let rssMax = 0;
    let cpu0 = 0;
    // From the start of the run: with what classification did after it (below), the CPU every sample cost.
    const cpuRun0 = cpuTicks(c.pid);
    let gen0 = process.cpuUsage();
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, rssMb(c.pid))), 500);
    const cpuStart = setTimeout(() => {
      cpu0 = cpuTicks(c.pid);
      gen0 = process.cpuUsage();
    }, spec.warmupS * 1000);
    if (spec.periodMs === null) for (const a of live) a.send();
    // Periodic agents: each sends batch j at its offset + j periods (scanned every 20 ms).
    const tick =
      spec.periodMs === null
        ? null
        : setInterval(() => {
            const now = performance.now();
            if (now >= st.windowTo) return;
            for (const a of live) if (!a.inFlight && !a.done && a.next <= due(a, now) && a.ws.readyState === WebSocket.OPEN) a.send();
          }, 20);
    await sleep(spec.seconds * 1000);
    const cpu1 = cpuTicks(c.pid);
    const gen1 = process.cpuUsage(gen0);
    const m1 = await scrape(c.port);
    // The counters' interval: from the answer before the run to the answer after it.
    const metricsS = (m1.atMs - m0.atMs) / 1000;
    const d = (k: string): number => (m1.m.get(k) ?? NaN) - (m0.m.get(k) ?? NaN);
    const windowS = spec.seconds - spec.warmupS;
    if (tick) clearInterval(tick);
    clearTimeout(cpuStart);
    running = false;
    // Let batches in flight be acked (bounded), then read the figures.
    for (let i = 0; i < 100 && live.some((a) => a.inFlight && a.ws.readyState === WebSocket.OPEN); i++) await sleep(100);
    // Every host that sent must get a verdict within a bounded time after the run (classification
    // is rate-limited per host and coalesced, off the ack path): poll the fleet list, at most 60 s.
    const tVerdicts = performance.now();
    let withVerdict = 0;
    let after: Scrape = m1;
    for (let i = 0; i < 60 && performance.now() - tVerdicts < 60_000; i++) {
      withVerdict = await verdictCount(c.port);
      after = await scrape(c.port);
      // Done when every host has a verdict and nothing waits for classification any more.
      if (withVerdict >= live.length && after.m.get('assay_classify_backlog_hosts') === 0) break;
      await sleep(1000);
    }
    const verdictWaitS = (performance.now() - tVerdicts) / 1000;
    const cpuAll = cpuTicks(c.pid) - cpuRun0;
    clearInterval(rssTimer);
    const rssEnd = rssMb(c.pid);
    rssMax = Math.max(rssMax, rssEnd);
    st.stopped = true;
    for (const a of agents) a.ws.terminate();
    stored = await stopCollector(c);
    return {
      mode: spec.name,
      agents: spec.agents,
      connected,
      batchSamples: spec.batchSamples,
      bytesPerSample,
      payloadBytesPerSample,
      connectS,
      windowS,
      samplesPerS: st.windowSamples / windowS,
      batchesPerS: st.latency.n / windowS,
      p50: st.latency.q(0.5),
      p99: st.latency.q(0.99),
      maxLat: st.latency.max(),
      cpuPct: ((cpu1 - cpu0) / CLK_TCK / windowS) * 100,
      cpuMsPer1k: ((cpu1 - cpu0) / CLK_TCK) * 1000 / (st.windowSamples / 1000),
      rssMax,
      rssEnd,
      rssIdle,
      genCpuPct: ((gen1.user + gen1.system) / 1e6 / windowS) * 100,
      acked: st.acceptedSamples,
      stored,
      closes: [...st.closes].map(([k, n]) => `${n}x ${k}`).join('; ') || 'none',
      metricsS,
      groupsPerS: d('assay_group_commits_total') / metricsS,
      writesPerGroup: d('assay_group_commit_writes_total') / d('assay_group_commits_total'),
      classifyTurnsPerS: d('assay_classify_turns_total') / metricsS,
      classifiedPerS: d('assay_classify_samples_total') / metricsS,
      storedPerS: d('assay_samples_stored_total') / metricsS,
      classifyDropped: d('assay_classify_dropped_samples_total'),
      classifyBacklog: m1.m.get('assay_classify_backlog_hosts') ?? NaN,
      backlogAfter: after.m.get('assay_classify_backlog_hosts') ?? NaN,
      classifiedAll: (after.m.get('assay_classify_samples_total') ?? NaN) - (m0.m.get('assay_classify_samples_total') ?? NaN),
      cpuMsPer1kAll: ((cpuAll / CLK_TCK) * 1000) / (st.acceptedSamples / 1000),
      withVerdict,
      verdictWaitS,
    };
  } finally {
    st.stopped = true;
    for (const a of agents) a.ws?.terminate();
    if (c.proc.exitCode === null) await stopCollector(c).catch(() => null);
    if (c.stderr.length) console.error(`collector stderr: ${c.stderr.join('').slice(0, 2000)}`);
  }
}

const described = describeTraces(traces);
const rows: Row[] = [];
const t0 = Date.now();
if (mode === 'a' || mode === 'both') rows.push(await runMode(modeA(t0)));
if (mode === 'b' || mode === 'both') rows.push(await runMode(modeB(Date.now())));

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
await (cluster as PgCluster | null)?.stop();
console.log(`\ncollector ingest: ${cli}; store: ${dbArg === 'sqlite' ? 'SQLite' : dbArg === 'postgres' ? 'PostgreSQL (throwaway cluster, fsync on)' : 'PostgreSQL (given URL)'}`);
console.log(`traces: ${traces.length} (${traces.map((t) => t.split('/').pop()).slice(0, 3).join(', ')}${traces.length > 3 ? ', …' : ''}); loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(
  `samples: recorded ones as the agent sends them now (its socket selection and rounding of rates), re-stamped: ${described.processes.toFixed(1)} processes and ${described.sockets.toFixed(1)} sockets ` +
    `(${described.recordedSockets.toFixed(1)} recorded) per sample on average (${described.samples} recorded); ` +
    `batches are schema 3 (signed compressed payload, as the agent sends): B/sample = protobuf of one complete sample, payload B/sample = signed payload bytes per sample`,
);
const header = ['mode', 'agents', 'conn', 'smp/batch', 'B/sample', 'payload B/sample', 'connect s', 'window s', 'samples/s', 'batches/s', 'ack p50 ms', 'ack p99 ms', 'ack max ms', 'coll CPU %', 'CPU ms/1k smp', 'RSS max MB', 'RSS end MB', 'RSS idle MB', 'gen CPU %', 'metrics s', 'stored smp/s', 'commits/s', 'writes/commit', 'classify turns/s', 'classified smp/s', 'dropped smp', 'classify backlog', 'hosts w/ verdict', 'verdicts after s', 'backlog after', 'classified smp', 'CPU ms/1k all', 'acked', 'in db'];
const table = rows.map((r) => [
  r.mode === 'a' ? 'a (max)' : 'b (1 Hz)', String(r.agents), String(r.connected), String(r.batchSamples), f(r.bytesPerSample), f(r.payloadBytesPerSample), f(r.connectS, 1), f(r.windowS),
  f(r.samplesPerS), f(r.batchesPerS), f(r.p50, 1), f(r.p99, 1), f(r.maxLat, 1), f(r.cpuPct), f(r.cpuMsPer1k, 1), f(r.rssMax), f(r.rssEnd), f(r.rssIdle), f(r.genCpuPct), f(r.metricsS, 1), f(r.storedPerS), f(r.groupsPerS, 2), f(r.writesPerGroup, 1), f(r.classifyTurnsPerS, 2), f(r.classifiedPerS, 1), f(r.classifyDropped), f(r.classifyBacklog), `${r.withVerdict}/${r.connected}`, f(r.verdictWaitS, 1), f(r.backlogAfter), f(r.classifiedAll), f(r.cpuMsPer1kAll, 1), String(r.acked), String(r.stored ?? '?'),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
for (const line of [header, ...table]) console.log(line.map((x, i) => x.padStart(widths[i]!)).join('  '));
for (const r of rows) if (r.closes !== 'none') console.log(`mode ${r.mode}: connections closed by the collector: ${r.closes}`);
console.log('coll CPU: collector process, % of one core over the window; CPU ms/1k smp: its CPU time per 1000 samples acked; gen CPU: this load generator;');
console.log('metrics s: the interval between the /metrics answers before and after the run (longer than the run: under load an answer waits for the collector); stored smp/s, commits/s and classify figures: /metrics counters over that interval;');
console.log('dropped smp: samples not classified because the classify queue was over its byte bound (overload); hosts w/ verdict: hosts with a published class once the run ended, verdicts after s: how long after the end the last one took (at most 60 s waited);');
console.log('backlog after: hosts still waiting for classification when the wait ended; classified smp: samples classified from the start of the run to then; CPU ms/1k all: collector CPU over that span per 1000 samples acked (ack path and classification: under a flood classification runs mostly after it, outside the window of CPU ms/1k smp);');
console.log('acked = samples acked, in db = sample rows after the run.');
