// Agents side by side (two builds, or one build with other Node settings), for A/B figures on a
// shared, noisy machine: one agent after the other (bench/agent-cost.ts) moves with whatever else
// the machine does, while agents run over the same window see the same load. Each agent runs in its
// own pid namespace (unshare --pid --mount-proc; needs root) holding the same quiet processes
// (WORKLOAD below: idle sleepers and shells, idle multi-threaded node processes, one process using
// ~4 % of a core, one listening socket), so the agents sample the same number of processes and no
// new executables (another helper's build, a test's chromium) to hash. All of them stream to one
// collector at 1 Hz. Not a test: prints figures.
//   npm run build && node dist/bench/agent-side-by-side.js [seconds=90] [--warm 20] [--variant SPEC]...
// SPEC is name|dist|flags|env: dist a build's dist folder (default this build's), flags the node
// flags (default agent/runtime.ts' AGENT_NODE_FLAGS), env extra environment over AGENT_ENV
// (KEY=value, space-separated). Without --variant: this build's launcher settings twice (how far
// two identical agents differ: the noise). e.g.
//   --variant 'main|/work/main/dist' --variant 'new|'   (main's build against this one, each with
//   this build's settings; pass flags to use another's)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_ENV, AGENT_NODE_FLAGS } from '../agent/runtime.js';
import { freePort } from '../test/helpers/env.js';
import { CLK_TCK, rssMb, userSystemTicks } from './proc-stats.js';

const WORKLOAD = `
for i in $(seq 1 30); do sleep infinity & done
for i in $(seq 1 5); do bash -c 'while true; do sleep 3600; done' & done
for i in 1 2 3; do "$NODE" -e 'setInterval(() => {}, 1000)' & done
"$NODE" -e 'const fs = require("fs"); setInterval(() => { const t = Date.now(); while (Date.now() - t < 40); fs.writeFileSync(process.env.SCRATCH, String(t)); }, 1000)' &
"$NODE" -e 'require("net").createServer().listen(0, "127.0.0.1")' &
sleep 2
exec "$@"
`;

const args = process.argv.slice(2);
const opt = (name: string): string[] => args.flatMap((a, i) => (a === name && args[i + 1] !== undefined ? [args[i + 1]!] : []));
const seconds = Math.min(Math.max(Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 90), 10), 600);
const warm = Math.min(Math.max(Number(opt('--warm')[0] ?? 20), 5), 600);
const thisDist = fileURLToPath(new URL('..', import.meta.url));
interface Variant {
  name: string;
  dist: string;
  flags: string[];
  env: Record<string, string>;
  pid?: number;
}
const specs = opt('--variant');
const variants: Variant[] = (specs.length > 0 ? specs : ['a|', 'b|']).map((spec) => {
  const [name, dist, flags, env] = spec.split('|');
  return {
    name: name!,
    dist: dist || thisDist,
    flags: flags ? flags.split(/\s+/).filter(Boolean) : [...AGENT_NODE_FLAGS],
    env: Object.fromEntries((env ?? '').split(/\s+/).filter(Boolean).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])),
  };
});
if (new Set(variants.map((v) => v.name)).size !== variants.length) throw new Error('variant names must differ');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'assay-side-'));
const children: ChildProcess[] = [];

/** The agent's node process (host pid) inside a namespace: argv[0] is node, and its state dir is `stateDir`. */
function agentPid(stateDir: string): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0] === process.execPath && argv.includes(stateDir) && argv.some((a) => a.endsWith(join('agent', 'main.js')))) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Minor page faults of the whole process (/proc/PID/stat minflt): each is a page the agent touched fresh, often one V8 or malloc gave back and took again. */
function minorFaults(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[7]);
}

/**
 * CPU time of all the process's threads in ns (/proc/PID/task/TID/schedstat, first field: the
 * scheduler's run time, exact to the ns where utime+stime come in 10 ms ticks).
 */
function runNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // exited meanwhile
    }
  }
  return ns;
}

/** CPU ticks of the main thread and of the others together. */
function threadTicks(pid: number): { main: number; others: number } {
  let others = 0;
  let main = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const t = Number(f[11]) + Number(f[12]);
      if (Number(tid) === pid) main = t;
      else others += t;
    } catch {
      // exited meanwhile
    }
  }
  return { main, others };
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) if (c.exitCode === null) process.kill(-c.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

try {
  const port = await freePort();
  const collector = spawn(process.execPath, [join(variants[0]!.dist, 'cli.js'), 'collector', '--port', String(port), '--db', join(dir, 'c.db'), '--log-level', 'warn'], { stdio: 'ignore', detached: true });
  children.push(collector);
  await sleep(3000);
  for (const v of variants) {
    const stateDir = join(dir, v.name);
    const argv = [process.execPath, ...v.flags, join(v.dist, 'agent', 'main.js'), '--collector', `ws://127.0.0.1:${port}/ingest`, '--interval', '1', '--state-dir', stateDir, '--enroll-secret-file', join(dir, 'enroll-secret'), '--log-level', 'warn'];
    const c = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'bash', '-c', WORKLOAD, 'workload', ...argv], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...AGENT_ENV, ...v.env, NODE: process.execPath, SCRATCH: join(dir, `${v.name}.scratch`) },
      detached: true,
    });
    children.push(c);
  }
  // Bounded wait for every agent to be running.
  for (let i = 0; i < 100 && variants.some((v) => v.pid === undefined); i++) {
    await sleep(100);
    for (const v of variants) v.pid ??= agentPid(join(dir, v.name));
  }
  const missing = variants.filter((v) => v.pid === undefined);
  if (missing.length > 0) throw new Error(`agent(s) ${missing.map((v) => v.name).join(', ')} not running (unshare needs root)`);
  await sleep(warm * 1000);
  for (const v of variants) if (agentPid(join(dir, v.name)) !== v.pid) throw new Error(`agent ${v.name} exited during the warm-up`);

  const load0 = loadavg();
  const t0 = variants.map((v) => ({ ...userSystemTicks(v.pid!), threads: threadTicks(v.pid!), faults: minorFaults(v.pid!), ns: runNs(v.pid!) }));
  const rss: number[][] = variants.map(() => []);
  const w0 = Date.now();
  for (let i = 1; i <= seconds; i++) {
    variants.forEach((v, k) => rss[k]!.push(rssMb(v.pid!)));
    await sleep(Math.max(0, w0 + i * 1000 - Date.now()));
  }
  const wallSec = (Date.now() - w0) / 1000;
  const t1 = variants.map((v) => ({ ...userSystemTicks(v.pid!), threads: threadTicks(v.pid!), faults: minorFaults(v.pid!), ns: runNs(v.pid!) }));
  const load1 = loadavg();
  const pct = (ticks: number) => ((ticks / CLK_TCK / wallSec) * 100).toFixed(3);
  console.log(`agents side by side, each in a pid namespace holding the same processes, ${seconds} s from ${warm} s after start (node ${process.version})`);
  console.log(`  loadavg at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  variants.forEach((v, k) => {
    const a = t0[k]!;
    const b = t1[k]!;
    const sorted = [...rss[k]!].sort((x, y) => x - y);
    const status = readFileSync(`/proc/${v.pid}/status`, 'utf8').match(/^(RssAnon|RssFile):.*$/gm)?.map((l) => l.replace(/\s+/g, ' ')).join(', ');
    console.log(
      `  ${v.name.padEnd(10)} CPU ${pct(b.user + b.system - a.user - a.system)} % (run time ${((b.ns - a.ns) / 1e7 / wallSec).toFixed(3)} %; user ${pct(b.user - a.user)}, system ${pct(b.system - a.system)}; main thread ${pct(b.threads.main - a.threads.main)}, others ${pct(b.threads.others - a.threads.others)})` +
        `  RSS median ${sorted[sorted.length >> 1]!.toFixed(1)} MB, max ${sorted.at(-1)!.toFixed(1)}  (${status}), ${((b.faults - a.faults) / wallSec).toFixed(0)} page faults/s`,
    );
    console.log(`  ${''.padEnd(10)} ${v.dist} ${v.flags.join(' ')} ${Object.entries(v.env).map(([key, val]) => `${key}=${val}`).join(' ')}`);
  });
} finally {
  for (const c of children.reverse()) {
    try {
      process.kill(-c.pid!, 'SIGKILL'); // the namespace's whole process group
    } catch {
      // already gone
    }
  }
  await sleep(1000);
  rmSync(dir, { recursive: true, force: true });
}
