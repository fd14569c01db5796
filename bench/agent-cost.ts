// What the agent costs the host it watches, side by side with Debian's prometheus-node-exporter
// (the usual "what does a metrics agent cost" yardstick), over the same window of the same run:
// the agent samples at 1 Hz and streams to a local collector; node_exporter (default collectors,
// on 127.0.0.1) is scraped at 1 Hz by this bench. CPU is the share of one core from
// /proc/PID/stat utime+stime deltas; RSS is VmRSS, read every second. Not a test: prints figures.
//   npm run build && node dist/bench/agent-cost.js [seconds=90] [--node-defaults]
//   ASSAY_BENCH_CLI=/old/checkout/dist/cli.js node dist/bench/agent-cost.js 90 --node-defaults
// The agent runs as the daemon launcher runs it (node with agent/runtime.ts' settings on
// dist/agent/main.js, the agent's commands only); --node-defaults runs it as plain
// `node cli.js agent` for comparison. Beside them, the floor: an empty Node process
// (`node -e 'setInterval(() => {}, 1000)'`, with the agent's settings) measured in the same window,
// so the reader sees how much of the agent's RSS is Node itself.
// node_exporter: `apt-get install prometheus-node-exporter` (or NODE_EXPORTER=/path/to/binary);
// without it the agent's figures are printed alone and the comparison is marked missing.
// Every wait is for readiness (collector listening, agent's first batch stored and its start-up
// work done, node_exporter answering /metrics), bounded in time; the measured window starts only
// once both are ready. The agent's start-up (module loading, inventory, hashing every executable
// it sees for the first time: a one-off per executable version) is reported apart.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_ENV, AGENT_NODE_FLAGS } from '../agent/runtime.js';
import { freePort } from '../test/helpers/env.js';
import { CLK_TCK, cpuTicks, rssByMapping, rssMb, userSystemTicks } from './proc-stats.js';

const args = process.argv.slice(2);
const nodeDefaults = args.includes('--node-defaults');
const seconds = Math.min(Math.max(Number(args.find((a) => !a.startsWith('--')) ?? 90) || 90, 10), 600);
// ASSAY_BENCH_CLI: another build's dist/cli.js (e.g. a checkout of an older commit) for before/after.
const cli = process.env.ASSAY_BENCH_CLI ?? fileURLToPath(new URL('../cli.js', import.meta.url));
/** The daemon launcher next to that cli.js (older builds without it: `cli.js agent`). */
const launcher = join(dirname(cli), 'agent', 'main.js');
const agentEntry = !nodeDefaults && existsSync(launcher) ? [launcher] : [cli, 'agent'];

/**
 * The Node flags and environment the measured build's launcher applies (its shebang line,
 * `#!/usr/bin/env -S VAR=value … node --flag …`), so another build is measured with its own
 * settings; this build's agent/runtime.ts when there is no launcher.
 */
function launcherSettings(): { flags: string[]; env: Record<string, string> } {
  if (nodeDefaults) return { flags: [], env: {} };
  const first = existsSync(launcher) ? readFileSync(launcher, 'utf8').split('\n', 1)[0]! : '';
  const m = /^#!\S*env -S (.*)$/.exec(first);
  if (!m) return { flags: [...AGENT_NODE_FLAGS], env: { ...AGENT_ENV } };
  const words = m[1]!.trim().split(/\s+/);
  const at = words.findIndex((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  const env = Object.fromEntries(words.slice(0, at).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  return { flags: words.slice(at + 1), env };
}
const settings = launcherSettings();
const nodeExporterBin = process.env.NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter';
const READY_TIMEOUT_MS = 30_000;
/** Start-up is over when the agent used under this share of a core over SETTLE_WINDOW_S seconds. */
const SETTLE_CPU_PCT = 10;
const SETTLE_WINDOW_S = 3;
const SETTLE_TIMEOUT_S = 120;
/** Targets from issue 10 (this 2-core machine). */
/** Before the window, after node_exporter and the floor start: see where these are used. */
const QUIET_MIN_S = 2;
const QUIET_RUN_S = 3;
const QUIET_TICKS = 3;
const QUIET_TIMEOUT_S = 30;
const TARGET_CPU_PCT = 0.5;
const TARGET_RSS_MB = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it returns a value, or throws after `ms`. */
async function ready<T>(what: string, ms: number, check: () => Promise<T | undefined>, child?: ChildProcess): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: process exited (${child.exitCode})`);
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`${what}: not ready within ${ms / 1000} s`);
}

/** Waits until `child` writes a line matching `re` on stderr. */
function stderrLine(child: ChildProcess, re: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${READY_TIMEOUT_MS / 1000} s:\n${err}`)), READY_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d).slice(-4096);
      if (re.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${err}`));
    });
  });
}

interface Watch {
  name: string;
  pid: number;
  ticks0: number;
  rss: number[];
}

const watch = (name: string, pid: number): Watch => ({ name, pid, ticks0: cpuTicks(pid), rss: [] });

/**
 * CPU ticks of a process's main thread and of its other threads together (V8's worker: optimizing
 * compiler, concurrent marking and sweeping; libuv's pool). Threads that exited in between are
 * not counted on either side.
 */
function threadTicks(pid: number): { main: number; others: number } {
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (Number(tid) === pid) continue;
    try {
      others += cpuTicks(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    } catch {
      // exited meanwhile
    }
  }
  return { main: cpuTicks(pid, `/proc/${pid}/task/${pid}/stat`), others };
}

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-'));
const children: ChildProcess[] = [];
// Interrupted (Ctrl-C, kill): stop the collector, agent, node_exporter and floor first.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
const start = (cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  children.push(c);
  // Keep draining stderr so a chatty child never blocks on a full pipe.
  c.stderr!.on('data', () => undefined);
  return c;
};

try {
  const load0 = loadavg();
  const port = await freePort();
  const collector = start(process.execPath, [cli, 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'info']);
  await stderrLine(collector, /listening/, 'collector');
  const api = `http://127.0.0.1:${port}`;

  // The agent as an operator starts it (`assay agent`), enrolling with the collector's secret.
  const t0 = Date.now();
  const agent = start(
    process.execPath,
    [...settings.flags, ...agentEntry, '--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', '1', '--state-dir', join(dir, 'agent'), '--enroll-secret-file', join(dir, 'enroll-secret'), '--log-level', 'warn'],
    settings.env,
  );
  // Ready = its first batch is stored (start-up, inventory and the first exe hashes are behind it).
  const hostId = await ready('agent (first batch stored)', READY_TIMEOUT_MS, async () => {
    const { hosts } = (await (await fetch(`${api}/api/hosts`)).json()) as { hosts: { id: string }[] };
    return hosts[0]?.id;
  }, agent);
  // Start-up work (first exe hashes) settles: SETTLE_WINDOW_S seconds under SETTLE_CPU_PCT.
  const ticks: number[] = [cpuTicks(agent.pid!)];
  let settled = false;
  for (let i = 0; i < SETTLE_TIMEOUT_S && !settled; i++) {
    await sleep(1000);
    ticks.push(cpuTicks(agent.pid!));
    const n = ticks.length - 1;
    settled = n >= SETTLE_WINDOW_S && ((ticks[n]! - ticks[n - SETTLE_WINDOW_S]!) / CLK_TCK / SETTLE_WINDOW_S) * 100 < SETTLE_CPU_PCT;
  }
  const startup = { seconds: (Date.now() - t0) / 1000, cpuSeconds: cpuTicks(agent.pid!) / CLK_TCK, settled };
  const lastSeq = async (): Promise<number> => ((await (await fetch(`${api}/api/hosts/${hostId}`)).json()) as { lastSeq: number }).lastSeq;

  let exporter: ChildProcess | undefined;
  let metricsUrl = '';
  if (existsSync(nodeExporterBin)) {
    const nePort = await freePort();
    exporter = start(nodeExporterBin, [`--web.listen-address=127.0.0.1:${nePort}`]);
    metricsUrl = `http://127.0.0.1:${nePort}/metrics`;
    // Ready = a full scrape answers (the first scrape also sets up every collector).
    await ready('node_exporter (/metrics)', READY_TIMEOUT_MS, async () => {
      const r = await fetch(metricsUrl);
      const body = await r.text();
      return r.ok ? body : undefined;
    }, exporter);
  }

  // The floor: Node itself, doing nothing, started like the agent.
  const floor = start(process.execPath, [...settings.flags, '-e', 'setInterval(() => {}, 1000)'], settings.env);
  await ready('empty node', READY_TIMEOUT_MS, async () => (rssMb(floor.pid!) > 0 ? true : undefined), floor);
  // node_exporter and the floor are new processes to the agent: at its next sample it hashes their
  // executables (a one-off per executable version, like those of its start-up; node_exporter's
  // 13.7 MB binary took ~50 ms of CPU here). The window starts once that is behind it: after at
  // least QUIET_MIN_S seconds, QUIET_RUN_S seconds in a row under QUIET_TICKS ticks each (bounded).
  const quiet0 = cpuTicks(agent.pid!);
  const q0 = Date.now();
  let quietRun = 0;
  let last = quiet0;
  for (let i = 1; i <= QUIET_TIMEOUT_S && !(i > QUIET_MIN_S && quietRun >= QUIET_RUN_S); i++) {
    await sleep(1000);
    const now = cpuTicks(agent.pid!);
    quietRun = now - last <= QUIET_TICKS ? quietRun + 1 : 0;
    last = now;
  }
  const quiet = { seconds: (Date.now() - q0) / 1000, ticks: last - quiet0, met: quietRun >= QUIET_RUN_S };

  const watches = [watch('assay agent', agent.pid!), ...(exporter ? [watch('node_exporter', exporter.pid!)] : []), watch('node (empty)', floor.pid!)];
  const agentSplit0 = userSystemTicks(agent.pid!);
  const agentThreads0 = threadTicks(agent.pid!);
  const seq0 = await lastSeq();
  /** The agent's CPU ticks at the end of each second of the window (where in the window its CPU went). */
  const perSecond: number[] = [cpuTicks(agent.pid!)];
  const w0 = Date.now();
  let scrapes = 0;
  let scrapeFailures = 0;
  let scrapeBytes = 0;
  // One tick per second on a fixed schedule: scrape node_exporter, read both RSS figures.
  for (let i = 1; i <= seconds; i++) {
    const due = w0 + i * 1000;
    if (exporter) {
      try {
        const r = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
        const body = await r.text();
        if (r.ok) {
          scrapes++;
          scrapeBytes += body.length;
        } else scrapeFailures++;
      } catch {
        scrapeFailures++;
      }
    }
    for (const w of watches) w.rss.push(rssMb(w.pid));
    perSecond.push(cpuTicks(agent.pid!));
    await sleep(Math.max(0, due - Date.now()));
  }
  const wallSec = (Date.now() - w0) / 1000;
  const agentSplit1 = userSystemTicks(agent.pid!);
  const agentThreads1 = threadTicks(agent.pid!);
  const streamed = (await lastSeq()) - seq0;
  const load1 = loadavg();

  const rows = watches.map((w) => {
    const cpuPct = ((cpuTicks(w.pid) - w.ticks0) / CLK_TCK / wallSec) * 100;
    const rss = [...w.rss].sort((a, b) => a - b);
    return { name: w.name, cpuPct, rssEnd: w.rss.at(-1)!, rssMedian: rss[Math.floor(rss.length / 2)]!, rssMax: rss.at(-1)! };
  });
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(`agent vs node_exporter, both at 1 Hz, same ${f(wallSec, 0)} s window (${cpus().length} CPUs, node ${process.version}, agent ${cli})`);
  console.log(`  agent started ${nodeDefaults ? 'with Node defaults (--node-defaults)' : `as the daemon launcher does: ${settings.flags.join(' ')} ${Object.entries(settings.env).map(([k, v]) => `${k}=${v}`).join(' ')}`} ${agentEntry.join(' ')}`);
  console.log(`  agent start-up: ${f(startup.cpuSeconds)} s of CPU in its first ${f(startup.seconds, 0)} s (modules, inventory, first hash of every executable)${startup.settled ? '' : `; NOT settled under ${SETTLE_CPU_PCT} % within ${SETTLE_TIMEOUT_S} s`}`);
  console.log(`  before the window: ${f(quiet.seconds, 0)} s for the agent to take in node_exporter and the floor (${f(quiet.ticks / CLK_TCK)} s of CPU: first hash of their executables)${quiet.met ? '' : `; NOT quiet (${QUIET_RUN_S} s in a row under ${QUIET_TICKS} ticks) within ${QUIET_TIMEOUT_S} s`}`);
  console.log(`  loadavg at start ${load0.map((x) => f(x)).join(' ')}, at end ${load1.map((x) => f(x)).join(' ')}  (other work on the machine inflates both figures)`);
  console.log(`  ${'process'.padEnd(16)}${'CPU % of a core'.padStart(16)}${'RSS end MB'.padStart(12)}${'RSS median'.padStart(12)}${'RSS max'.padStart(10)}`);
  for (const r of rows) console.log(`  ${r.name.padEnd(16)}${f(r.cpuPct, 3).padStart(16)}${f(r.rssEnd, 1).padStart(12)}${f(r.rssMedian, 1).padStart(12)}${f(r.rssMax, 1).padStart(10)}`);
  const a = rows[0]!;
  const ne = exporter ? rows[1] : undefined;
  const empty = rows.at(-1)!;
  const pct = (ticks: number) => f((ticks / CLK_TCK / wallSec) * 100, 3);
  console.log(`  agent CPU split: user ${pct(agentSplit1.user - agentSplit0.user)} %, system ${pct(agentSplit1.system - agentSplit0.system)} % (system: the kernel generating /proc files for it)`);
  const fifth = Math.max(1, Math.floor(perSecond.length / 5));
  const parts = Array.from({ length: 5 }, (_, k) => perSecond[Math.min(perSecond.length - 1, (k + 1) * fifth)]! - perSecond[k * fifth]!);
  console.log(`  agent CPU ticks by fifth of the window: ${parts.join(' ')} (a one-off, e.g. hashing a new executable, shows as one high fifth)`);
  console.log(`  agent CPU by thread: main ${pct(agentThreads1.main - agentThreads0.main)} %, others ${pct(agentThreads1.others - agentThreads0.others)} % (V8's optimizing compiler and concurrent GC, libuv's pool)`);
  console.log(`  floor: an empty node process with the same settings holds ${f(empty.rssMedian, 1)} MB (median); the agent's own share is ${f(a.rssMedian - empty.rssMedian, 1)} MB`);
  if (ne) {
    console.log(`  ratio agent/node_exporter: CPU ${f(a.cpuPct / Math.max(ne.cpuPct, 1e-9))}x, RSS (median) ${f(a.rssMedian / ne.rssMedian)}x`);
    console.log(`  node_exporter scrapes: ${scrapes} ok, ${scrapeFailures} failed, ${f(scrapeBytes / Math.max(scrapes, 1) / 1024, 1)} KiB each`);
  } else {
    console.log(`  node_exporter: not found at ${nodeExporterBin} (apt-get install prometheus-node-exporter, or NODE_EXPORTER=path): no comparison`);
  }
  console.log(`  agent streamed ${streamed} samples to the collector in the window${streamed < seconds / 2 ? '  (NOT streaming steadily: the figures above are not the streaming cost)' : ''}`);
  const ok = (b: boolean) => (b ? 'met' : 'NOT met');
  console.log(`  targets: CPU <= ${TARGET_CPU_PCT} % ${ok(a.cpuPct <= TARGET_CPU_PCT)}; RSS <= ${TARGET_RSS_MB} MB (median) ${ok(a.rssMedian <= TARGET_RSS_MB)}${ne ? `; CPU <= node_exporter's ${ok(a.cpuPct <= ne.cpuPct)}` : ''}`);
  const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8').match(/^(RssAnon|RssFile):.*$/gm)?.map((l) => l.replace(/\s+/g, ' '));
  console.log(`  agent memory at end: ${status?.join(', ')} (RssFile is mostly the node binary's pages)`);
  // Where the agent's resident memory is, beside the empty node's (same moment, same settings):
  // the node binary's pages the agent touches beyond the floor's (more of V8's compiler, built-in
  // modules, crypto, zlib), native addons, malloc's heap, V8's heap and the rest.
  const mine = rssByMapping(agent.pid!);
  const base = rssByMapping(floor.pid!);
  const mb = (kb: number) => f(kb / 1024, 1);
  const byName = [...mine.entries()].sort((x, y) => y[1] - x[1]);
  const shown = byName.slice(0, 6).map(([name, kb]) => `${name.split('/').at(-1)} ${mb(kb)}${base.has(name) ? ` (${mb(base.get(name)!)})` : ''}`);
  const rest = byName.slice(6).reduce((sum, [, kb]) => sum + kb, 0);
  console.log(`  agent RSS by mapping, MB (the empty node's in brackets): ${shown.join(', ')}, other ${mb(rest)}`);
} finally {
  for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGTERM');
  // Bounded: a child that ignores SIGTERM for 5 s is killed.
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null
        ? new Promise<void>((r) => {
            const t = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => (clearTimeout(t), r()));
          })
        : undefined,
    ),
  );
  rmSync(dir, { recursive: true, force: true });
}
