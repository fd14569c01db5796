// The host page's process and GPU tables: what the host's processes hold now (the last seconds of
// samples), with the class the engine gave each one and the libraries and sockets that counted.
// Pure: samples, signatures, the verdict and the rules in, a bounded table out.
import type { IProcessSignature, ISample } from '../proto/codec.js';
import type { Rules } from './engine/rules/schema.js';
import { processKey, type Verdict } from './engine/types.js';

/** Seconds of samples the figures are averaged over (ending at the newest sample). */
export const PROCESS_WINDOW_MS = 30_000;
/** Rows at most: the busiest processes, then any the verdict's evidence names. */
export const MAX_PROCESS_ROWS = 40;
const MAX_PEERS = 8;
const MAX_PORTS = 8;

export interface ProcessRow {
  pid: number;
  name: string;
  exe: string;
  cmdline: string;
  /** The engine's class for the process (evidence proc.share/proc.group), else the class its evidence supports most, else null. */
  class: string | null;
  classSource: 'engine' | 'evidence' | null;
  /** Mean CPU over the window in % of one core. */
  cpuPct: number;
  /** cpuPct over the host's capacity (cores x 100 %), 0..1. */
  cpuShare: number;
  /** GPU memory the process holds (newest sample), and its share of all GPUs' memory, 0..1 (null: no GPU data). */
  gpuMemBytes: number;
  gpuShare: number | null;
  gpus: number[];
  rssBytes: number;
  /** rss over the host's memory, 0..1 (null: total unknown). */
  memShare: number | null;
  /** Library matches in the verdict's evidence (signature lists of kind lib) for this process. */
  libs: string[];
  listenPorts: number[];
  /** Established remote endpoints, `address:port`, most recent first. */
  peers: string[];
  peersTotal: number;
  /** The process is named in the current verdict's evidence. */
  inEvidence: boolean;
}

export interface GpuRow {
  index: number;
  uuid: string;
  name: string;
  utilPct: number;
  memUsedBytes: number;
  memTotalBytes: number;
  powerWatts: number | null;
  powerLimitWatts: number | null;
  temperatureC: number | null;
  processes: Array<{ pid: number; name: string; memBytes: number }>;
}

export interface HostProcesses {
  /** Newest sample's time and the averaging window's start (0 when there are no samples). */
  tsMs: number;
  fromMs: number;
  samples: number;
  cores: number;
  /** Processes seen in the newest sample before the agent's per-sample cap. */
  processesTotal: number;
  processes: ProcessRow[];
  gpus: GpuRow[];
}

const finite = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export function hostProcesses(
  samples: readonly ISample[],
  signatures: ReadonlyMap<string, IProcessSignature>,
  verdict: Verdict | null,
  rules: Rules,
  inventoryCores = 0,
): HostProcesses {
  const newest = samples.at(-1);
  if (!newest) return { tsMs: 0, fromMs: 0, samples: 0, cores: inventoryCores, processesTotal: 0, processes: [], gpus: [] };
  const tsMs = finite(newest.tsMs);
  const fromMs = tsMs - PROCESS_WINDOW_MS;
  const win = samples.filter((s) => finite(s.tsMs) >= fromMs);
  const cores = inventoryCores || newest.cpu?.perCorePct?.length || 1;
  const memTotal = finite(newest.memory?.totalBytes);

  // CPU: mean over the window's samples (absent = 0); identity and memory: newest appearance.
  const acc = new Map<string, { pid: number; name: string; start: number; cpuSum: number; rss: number }>();
  for (const s of win) {
    for (const p of s.processes ?? []) {
      const k = processKey(finite(p.pid), finite(p.startTimeTicks));
      const a = acc.get(k) ?? { pid: finite(p.pid), name: p.name ?? '', start: finite(p.startTimeTicks), cpuSum: 0, rss: 0 };
      a.cpuSum += finite(p.cpuPct);
      a.rss = finite(p.rssBytes);
      a.name = p.name ?? a.name;
      acc.set(k, a);
    }
  }
  const livePids = new Set((newest.processes ?? []).map((p) => finite(p.pid)));

  // GPUs from the newest sample; per-process GPU memory by uuid (or index).
  const gpuList = newest.gpus ?? [];
  const gpuTotal = gpuList.reduce((s, g) => s + finite(g.memTotalBytes), 0);
  const gpuIndexOf = new Map(gpuList.map((g) => [g.uuid || `index:${finite(g.index)}`, finite(g.index)]));
  const gpuMem = new Map<number, { bytes: number; gpus: Set<number> }>();
  for (const gp of newest.gpuProcesses ?? []) {
    const pid = finite(gp.pid);
    const m = gpuMem.get(pid) ?? { bytes: 0, gpus: new Set<number>() };
    m.bytes += finite(gp.usedMemoryBytes);
    const idx = gpuIndexOf.get(gp.gpuUuid ?? '');
    if (idx !== undefined) m.gpus.add(idx);
    gpuMem.set(pid, m);
  }

  // Sockets over the window: listening ports and established peers per pid.
  const listen = new Map<number, Set<number>>();
  const peers = new Map<number, Map<string, number>>();
  for (const s of win) {
    for (const so of s.sockets ?? []) {
      const pid = finite(so.pid);
      if (!pid) continue;
      if (so.state === 'LISTEN' || (so.state === 'UNCONN' && !so.remotePort)) {
        const set = listen.get(pid) ?? new Set<number>();
        set.add(finite(so.localPort));
        listen.set(pid, set);
      } else if (so.state === 'ESTABLISHED' && so.remoteAddress) {
        const m = peers.get(pid) ?? new Map<string, number>();
        m.set(`${so.remoteAddress}:${finite(so.remotePort)}`, finite(s.tsMs));
        peers.set(pid, m);
      }
    }
  }

  // The verdict's word on each process: its class and the libraries that counted.
  const evidence = verdict?.evidence ?? [];
  const engineClass = new Map<number, string>();
  // A group entry (many small "cc1" processes) gives its class to every process of that name.
  const groupClass = new Map<string, string>();
  const support = new Map<number, Map<string, number>>();
  const libs = new Map<number, Set<string>>();
  for (const e of evidence) {
    if (!e.process) continue;
    const pid = e.process.pid;
    if (e.signal === 'proc.share') engineClass.set(pid, e.supports);
    else if (e.signal === 'proc.group') groupClass.set(e.process.name, e.supports);
    else if (e.weight > 0) {
      const m = support.get(pid) ?? new Map<string, number>();
      m.set(e.supports, (m.get(e.supports) ?? 0) + e.weight);
      support.set(pid, m);
    }
    const sig = e.signal.startsWith('sig.') ? rules.signatures[e.signal.slice(4)] : undefined;
    if (sig?.kind === 'lib' && e.weight !== 0) {
      const set = libs.get(pid) ?? new Set<string>();
      for (const x of String(e.value).replace(/ \(\+\d+ more\)$/, '').split(', ')) if (x) set.add(x);
      libs.set(pid, set);
    }
  }
  const named = new Set(evidence.flatMap((e) => (e.process ? [e.process.pid] : [])));

  const rows: ProcessRow[] = [];
  for (const [k, a] of acc) {
    if (!livePids.has(a.pid)) continue;
    const sig = signatures.get(k);
    const cpuPct = a.cpuSum / win.length;
    const g = gpuMem.get(a.pid);
    let cls: string | null = engineClass.get(a.pid) ?? groupClass.get(a.name) ?? null;
    let source: ProcessRow['classSource'] = cls ? 'engine' : null;
    if (!cls) {
      const best = [...(support.get(a.pid) ?? new Map<string, number>())].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
      if (best) {
        cls = best[0];
        source = 'evidence';
      }
    }
    const pm = peers.get(a.pid) ?? new Map<string, number>();
    rows.push({
      pid: a.pid,
      name: a.name,
      exe: sig?.exe ?? '',
      cmdline: sig?.cmdline ?? '',
      class: cls,
      classSource: source,
      cpuPct,
      cpuShare: cpuPct / (cores * 100),
      gpuMemBytes: g?.bytes ?? 0,
      gpuShare: gpuList.length ? (gpuTotal > 0 ? (g?.bytes ?? 0) / gpuTotal : 0) : null,
      gpus: [...(g?.gpus ?? [])].sort((x, y) => x - y),
      rssBytes: a.rss,
      memShare: memTotal > 0 ? a.rss / memTotal : null,
      libs: [...(libs.get(a.pid) ?? [])].sort(),
      listenPorts: [...(listen.get(a.pid) ?? [])].sort((x, y) => x - y).slice(0, MAX_PORTS),
      peers: [...pm].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, MAX_PEERS).map(([p]) => p),
      peersTotal: pm.size,
      inEvidence: named.has(a.pid),
    });
  }
  const weight = (r: ProcessRow): number => r.cpuShare + (r.gpuShare ?? 0) + (r.memShare ?? 0) * 0.1;
  rows.sort((x, y) => weight(y) - weight(x) || x.pid - y.pid);
  const top = rows.slice(0, MAX_PROCESS_ROWS);
  // A process the verdict names (a parked miner) stays in the table however little it uses.
  for (const r of rows.slice(MAX_PROCESS_ROWS)) if (r.inEvidence && top.length < MAX_PROCESS_ROWS * 2) top.push(r);

  const names = new Map(rows.map((r) => [r.pid, r.name]));
  const gpus: GpuRow[] = gpuList.map((g) => {
    const id = g.uuid || `index:${finite(g.index)}`;
    return {
      index: finite(g.index),
      uuid: g.uuid ?? '',
      name: g.name ?? '',
      utilPct: finite(g.utilPct),
      memUsedBytes: finite(g.memUsedBytes),
      memTotalBytes: finite(g.memTotalBytes),
      powerWatts: g.powerWatts ? finite(g.powerWatts) : null,
      powerLimitWatts: g.powerLimitWatts ? finite(g.powerLimitWatts) : null,
      temperatureC: g.temperatureCelsius ? finite(g.temperatureCelsius) : null,
      processes: (newest.gpuProcesses ?? [])
        .filter((gp) => (gp.gpuUuid ?? '') === id || (!gp.gpuUuid && gpuList.length === 1))
        .map((gp) => ({ pid: finite(gp.pid), name: gp.name || names.get(finite(gp.pid)) || '', memBytes: finite(gp.usedMemoryBytes) }))
        .sort((x, y) => y.memBytes - x.memBytes || x.pid - y.pid),
    };
  });
  return { tsMs, fromMs: finite(win[0]?.tsMs), samples: win.length, cores, processesTotal: finite(newest.processesTotal) || (newest.processes ?? []).length, processes: top, gpus };
}
