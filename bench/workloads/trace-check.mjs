// Checks a recorded corpus trace for foreign load: prints the busiest processes (mean CPU over
// the trace, % of one core) and exits 1 when a process that is not part of the recorded
// workload (a compiler run by someone else: tsc; a test runner: node --test; a browser:
// chromium/playwright; npm) took a significant share — more than --max-foreign-pct of one core
// on average, or (above 3 %) more than a fifth of all busy CPU in a light trace — so
// bench/record-corpus.sh re-records.
// With --busy REGEX it also checks that the workload really ran: the processes whose name or
// command line match REGEX must average at least --busy-min (default 20) % of one core; and it
// reports how many samples carry extended process counters (agents from schema 2).
// Usage: node bench/workloads/trace-check.mjs FILE [--max-foreign-pct 15] [--busy REGEX [--busy-min 20]]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const i = process.argv.indexOf('--max-foreign-pct');
const maxForeign = i > 0 ? Number(process.argv[i + 1]) : 15;
const opt = (name) => { const k = process.argv.indexOf(name); return k > 0 ? process.argv[k + 1] : undefined; };
const busyRe = opt('--busy') ? new RegExp(opt('--busy')) : null;
const busyMin = Number(opt('--busy-min') ?? 20);
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
const header = JSON.parse(lines[0]);
const procs = new Map(); // pid -> {name, cmd, sum}
let n = 0, cpuSum = 0, cores = 1, extendedSamples = 0;
for (const l of lines.slice(1)) {
  const s = JSON.parse(l).sample;
  n++;
  cpuSum += s.cpu?.totalPct ?? 0;
  cores = Math.max(cores, s.cpu?.perCorePct?.length ?? 1);
  if ((s.processes ?? []).some((p) => p.extended === true)) extendedSamples++;
  for (const p of s.processes ?? []) {
    const e = procs.get(p.pid) ?? { name: p.name, cmd: '', sum: 0 };
    if (p.signature?.cmdline) e.cmd = p.signature.cmdline;
    e.sum += p.cpuPct ?? 0;
    procs.set(p.pid, e);
  }
}
const FOREIGN = /(^|[\s/])tsc(\s|$)|--test\b|\.test\.js|chrom(e|ium)|playwright|headless_shell|npm (run|test|exec)|npx |esbuild|vitest|mocha/;
const top = [...procs.entries()].map(([pid, e]) => ({ pid, ...e, mean: e.sum / Math.max(1, n) })).sort((a, b) => b.mean - a.mean);
console.log(`${file}: ${header.label} (${header.provenance}${header.evasion ? ', evasion ' + header.evasion : ''}), ${n} samples, mean host CPU ${(cpuSum / Math.max(1, n)).toFixed(1)} %`);
for (const p of top.slice(0, 8)) console.log(`  ${p.mean.toFixed(1).padStart(6)} %  ${String(p.pid).padStart(7)}  ${p.name.padEnd(16)} ${p.cmd.slice(0, 100)}`);
console.log(`samples with extended process counters: ${extendedSamples} of ${n}`);
let busyOk = true;
if (busyRe) {
  const busy = top.filter((p) => busyRe.test(p.name) || busyRe.test(p.cmd)).reduce((a, p) => a + p.mean, 0);
  console.log(`workload processes /${busyRe.source}/: ${busy.toFixed(1)} % of one core (minimum ${busyMin} %)`);
  busyOk = busy >= busyMin;
}
const foreign = top.filter((p) => FOREIGN.test(p.cmd || p.name) || ['tsc', 'chromium', 'chrome', 'headless_shell'].includes(p.name));
const foreignPct = foreign.reduce((a, p) => a + p.mean, 0);
const busyPct = (cpuSum / Math.max(1, n)) * cores; // all busy CPU, % of one core
if (foreignPct > maxForeign || (foreignPct > 3 && foreignPct > 0.2 * busyPct)) {
  console.log(`FOREIGN LOAD ${foreignPct.toFixed(1)} % of one core: ${foreign.map((p) => `${p.name}[${p.pid}] ${p.mean.toFixed(1)} %`).join(', ')}`);
  process.exit(1);
}
if (!busyOk) { console.log('WORKLOAD NOT BUSY: re-record'); process.exit(1); }
console.log(`foreign load ${foreignPct.toFixed(1)} % of one core of ${busyPct.toFixed(1)} % busy (limits: ${maxForeign} %, or a fifth of the busy CPU): ok`);
