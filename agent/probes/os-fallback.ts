// Fallback probes for hosts without procfs (macOS, BSDs; or a --proc-root that holds no stat
// file): CPU, memory and load from node-os-utils, which reads each platform's own sources
// (macOS: `top -l 1 -n 0`, sysctl and vm_stat; Linux: its own /proc reads; Windows: WMI). The
// registry (index.ts) picks these instead of the procfs probes of the same name when
// procRoot/stat is absent; on a Linux host with /proc the module is never loaded.
//
// Differences from the procfs probes, as the samples show them:
// - CPU is node-os-utils' own short measurement (two /proc/stat reads 200 ms apart on Linux, one
//   `top` sample on macOS), not the whole interval since the previous sample; nice and steal
//   are not given (0).
// - Memory has no hugepage figures (0); load has no runnable/blocked task counts (0).
// A call that node-os-utils reports as failed becomes `unavailable` with its message, like any
// procfs probe that cannot read its file.
import type { OSUtils } from 'node-os-utils';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe, round } from './util.js';

let instance: Promise<OSUtils> | undefined;
/** One node-os-utils instance for the three probes, loaded on first use, its cache off (every sample reads afresh). */
function osUtils(): Promise<OSUtils> {
  return (instance ??= import('node-os-utils').then((m) => new m.OSUtils({ cacheEnabled: false })));
}

/** node-os-utils' result envelope: data, or an error with a message. */
interface Result<T> {
  success: boolean;
  data?: T;
  error?: { message?: string; code?: string };
}

function failed(what: string, r: Result<unknown>): string {
  return `node-os-utils ${what} failed: ${r.error?.message ?? r.error?.code ?? 'no reason given'}`;
}

const bytes = (x: { bytes?: number } | undefined): number => Math.max(0, Math.round(x?.bytes ?? 0));
const pct = (x: number | undefined): number => (Number.isFinite(x) ? round(Math.min(100, Math.max(0, x!)), 2) : 0);

export const osCpuProbe: ProbeFactory = () =>
  guardedProbe('cpu', async () => {
    const r = (await (await osUtils()).cpu.usageDetailed()) as Result<{
      overall?: number; user?: number; system?: number; iowait?: number; irq?: number; softirq?: number; cores?: number[];
    }>;
    if (!r.success || !r.data) return unavailable(failed('cpu.usageDetailed', r));
    const d = r.data;
    const cpu: assay.v1.Cpu.$Properties = {
      totalPct: pct(d.overall),
      userPct: pct(d.user),
      nicePct: 0,
      systemPct: pct(d.system),
      iowaitPct: pct(d.iowait),
      irqPct: pct((d.irq ?? 0) + (d.softirq ?? 0)),
      stealPct: 0,
      perCorePct: (d.cores ?? []).map(pct),
    };
    return { cpu };
  });

export const osMemoryProbe: ProbeFactory = () =>
  guardedProbe('memory', async () => {
    const os = await osUtils();
    const [info, swap] = await Promise.all([
      os.memory.info() as Promise<Result<{ total?: { bytes?: number }; available?: { bytes?: number }; used?: { bytes?: number }; cached?: { bytes?: number } }>>,
      os.memory.swap() as Promise<Result<{ total?: { bytes?: number }; used?: { bytes?: number } }>>,
    ]);
    if (!info.success || !info.data) return unavailable(failed('memory.info', info));
    const totalBytes = bytes(info.data.total);
    if (totalBytes <= 0) return unavailable('node-os-utils memory.info gave no total');
    const availableBytes = Math.min(totalBytes, bytes(info.data.available));
    // Swap is a bonus: without it the memory figures still stand.
    const sw = swap.success ? swap.data : undefined;
    const memory: assay.v1.Memory.$Properties = {
      totalBytes,
      availableBytes,
      usedBytes: Math.max(0, totalBytes - availableBytes),
      swapTotalBytes: bytes(sw?.total),
      swapUsedBytes: bytes(sw?.used),
      cachedBytes: bytes(info.data.cached),
      hugepagesTotal: 0,
      hugepagesFree: 0,
      hugepageSizeBytes: 0,
    };
    return { memory };
  });

export const osLoadProbe: ProbeFactory = () =>
  guardedProbe('load', async () => {
    const r = (await (await osUtils()).cpu.loadAverage()) as Result<{ load1?: number; load5?: number; load15?: number }>;
    if (!r.success || !r.data) return unavailable(failed('cpu.loadAverage', r));
    const { load1, load5, load15 } = r.data;
    if (![load1, load5, load15].every((x) => Number.isFinite(x))) return unavailable('node-os-utils cpu.loadAverage gave no numbers');
    return { load: { load1: load1!, load5: load5!, load15: load15!, procsRunning: 0, procsBlocked: 0 } };
  });
