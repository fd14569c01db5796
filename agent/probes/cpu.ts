// CPU utilisation from /proc/stat tick counters (the aggregate `cpu` line and one `cpuN` per core).
// First call: primes the counters and returns {} (no cpu field); later calls return percentages
// of the interval since the previous call.
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe, readText, round } from './util.js';

/** Tick counters of one /proc/stat cpu line (USER_HZ units). */
interface Ticks {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

interface CpuReading {
  total: Ticks;
  cores: Map<number, Ticks>;
}

/**
 * Parses the numeric fields after the label. Needs at least user..idle (4 fields); later fields
 * appeared in newer kernels and default to 0. Returns undefined for a truncated/garbled line.
 */
function parseTicks(fields: string[]): Ticks | undefined {
  if (fields.length < 4) return undefined;
  const n = fields.slice(0, 8).map(Number);
  if (n.some((x) => !Number.isFinite(x) || x < 0)) return undefined;
  // guest and guest_nice are already included in user and nice, so they are not added again.
  return { user: n[0]!, nice: n[1]!, system: n[2]!, idle: n[3]!, iowait: n[4] ?? 0, irq: n[5] ?? 0, softirq: n[6] ?? 0, steal: n[7] ?? 0 };
}

export function parseProcStat(text: string): CpuReading | undefined {
  let total: Ticks | undefined;
  const cores = new Map<number, Ticks>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const fields = line.trim().split(/\s+/);
    const label = fields.shift()!;
    const ticks = parseTicks(fields);
    if (label === 'cpu') total = ticks;
    else if (ticks) {
      const idx = Number(label.slice(3));
      // A garbled per-core line is skipped (that core reads 0) rather than failing the probe.
      if (Number.isInteger(idx)) cores.set(idx, ticks);
    }
  }
  return total ? { total, cores } : undefined;
}

function sum(t: Ticks): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

function diff(a: Ticks, b: Ticks): Ticks {
  const d = (x: number, y: number): number => Math.max(0, x - y);
  return {
    user: d(a.user, b.user), nice: d(a.nice, b.nice), system: d(a.system, b.system), idle: d(a.idle, b.idle),
    iowait: d(a.iowait, b.iowait), irq: d(a.irq, b.irq), softirq: d(a.softirq, b.softirq), steal: d(a.steal, b.steal),
  };
}

/** Busy share in percent: everything except idle and iowait (a CPU waiting on I/O is idle). */
function busyPct(d: Ticks): number {
  const all = sum(d);
  return all > 0 ? round((100 * (all - d.idle - d.iowait)) / all, 2) : 0;
}

export function cpuDelta(cur: CpuReading, prev: CpuReading): assay.v1.Cpu.$Properties {
  const d = diff(cur.total, prev.total);
  const all = sum(d);
  const pct = (x: number): number => (all > 0 ? round((100 * x) / all, 2) : 0);
  const maxCore = Math.max(-1, ...cur.cores.keys());
  const perCorePct: number[] = [];
  for (let i = 0; i <= maxCore; i++) {
    const c = cur.cores.get(i);
    const p = prev.cores.get(i);
    perCorePct.push(c && p ? busyPct(diff(c, p)) : 0);
  }
  return {
    totalPct: busyPct(d),
    userPct: pct(d.user),
    nicePct: pct(d.nice),
    systemPct: pct(d.system),
    iowaitPct: pct(d.iowait),
    irqPct: pct(d.irq + d.softirq),
    stealPct: pct(d.steal),
    perCorePct,
  };
}

export const cpuProbe: ProbeFactory = (config) => {
  const path = join(config.procRoot, 'stat');
  let prev: CpuReading | undefined;
  return guardedProbe('cpu', () => {
    const cur = parseProcStat(readText(path));
    if (!cur) return unavailable(`malformed ${path}: no valid cpu line`);
    const last = prev;
    prev = cur;
    return last ? { cpu: cpuDelta(cur, last) } : {};
  });
};
