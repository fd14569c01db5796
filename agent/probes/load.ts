// Load averages from /proc/loadavg, runnable/blocked task counts from /proc/stat. No state.
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe, readOptional, readText } from './util.js';

export function parseLoad(loadavg: string, stat: string | undefined): assay.v1.Load.$Properties | undefined {
  // "0.07 0.23 0.12 1/83 6425"
  const f = loadavg.trim().split(/\s+/);
  const [load1, load5, load15] = f.slice(0, 3).map(Number);
  if (f.length < 3 || ![load1, load5, load15].every((x) => Number.isFinite(x))) return undefined;
  const fromStat = (key: string): number | undefined => {
    const m = stat?.match(new RegExp(`^${key} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  // loadavg's "running/total" field counts running tasks too; used when /proc/stat is unreadable.
  const running = fromStat('procs_running') ?? Number(f[3]?.split('/')[0] ?? 0);
  return {
    load1: load1!,
    load5: load5!,
    load15: load15!,
    procsRunning: Number.isFinite(running) ? running : 0,
    procsBlocked: fromStat('procs_blocked') ?? 0,
  };
}

export const loadProbe: ProbeFactory = (config) => {
  const loadPath = join(config.procRoot, 'loadavg');
  const statPath = join(config.procRoot, 'stat');
  return guardedProbe('load', () => {
    const load = parseLoad(readText(loadPath), readOptional(statPath));
    return load ? { load } : unavailable(`malformed ${loadPath}`);
  });
};
