// Per-process features: processes are followed across samples by (pid, start time) so that a
// reused pid is a new process, and each series spans the process's lifetime in the window.
import type { IProcess, IProcessSignature, ISample } from '../../proto/codec.js';
import type { HistoryView } from './accumulate.js';
import type { ExtendedProcessFeatures, GpuFeatures, PeriodFeature, ProcessFeatures, ProcessSignatureFeatures } from './feature-types.js';
import { processHistory } from './features-history.js';
import { ownRateFeatures, ownSeriesFeatures, type FeatureOptions } from './features-series.js';
import { processSockets, type SocketIndex } from './sockets.js';
import { max, mean, median, num, percentile } from './stats.js';
import { processKey } from './types.js';

interface Track {
  key: string;
  pid: number;
  name: string;
  startTimeTicks: number;
  byIndex: Map<number, IProcess>;
  signature: IProcessSignature | null;
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

function toSignature(sig: IProcessSignature | null | undefined): ProcessSignatureFeatures | null {
  if (!sig) return null;
  return {
    cmdline: sig.cmdline ?? '',
    exe: sig.exe ?? '',
    libs: (sig.libs ?? []).filter((l): l is string => typeof l === 'string' && l !== '').map(basename),
    envNames: (sig.envNames ?? []).filter((e): e is string => typeof e === 'string' && e !== ''),
    cgroup: sig.cgroup ?? '',
    exeMarkers: (sig.exeMarkers ?? []).filter((m): m is string => typeof m === 'string' && m !== ''),
  };
}

/** Starts of isolated bursts: samples at or above max(minPct, half the p95) whose predecessor was below. */
function spikeStarts(xs: readonly number[], minLevel: number): number[] {
  const level = Math.max(minLevel, 0.5 * percentile(xs, 95));
  const starts: number[] = [];
  xs.forEach((x, i) => {
    if (x > 0 && x >= level && !((xs[i - 1] ?? 0) >= level)) starts.push(i);
  });
  return starts;
}

/**
 * A period from few cycles: a mostly quiet CPU series with isolated spikes (a chain node waking
 * each slot) whose spike-to-spike intervals all agree within one sample. Needs
 * opts.slotMinCycles intervals, or one fewer when every CPU spike comes with a write burst (the
 * node storing the block it just processed: a second signal that agrees). Autocorrelation needs
 * more cycles than that to rise above its noise.
 */
export function spikePeriod(cpu: readonly number[], writes: readonly number[], opts: FeatureOptions, intervalMs: number): PeriodFeature | null {
  const starts = spikeStarts(cpu, opts.periodMinPct);
  const gaps = starts.slice(1).map((s, i) => s - (starts[i] ?? 0));
  const writeStarts = spikeStarts(writes, 0);
  const withWrites = starts.length > 0 && starts.every((s) => writeStarts.some((w) => Math.abs(w - s) <= 1));
  if (gaps.length < Math.max(1, opts.slotMinCycles - (withWrites ? 1 : 0))) return null;
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = sorted[Math.floor(sorted.length / 2)] ?? 0;
  if (mid < opts.period.minLagSamples) return null;
  // A slot with nothing to do leaves a double gap: multiples of the period still agree.
  const single = gaps.filter((g) => Math.abs(g - mid) <= 1);
  const agree = gaps.every((g) => [1, 2, 3].some((k) => Math.abs(g - k * mid) <= k));
  if (!agree || single.length < Math.max(1, opts.slotMinCycles - (withWrites ? 1 : 0))) return null;
  const samples = single.reduce((a, b) => a + b, 0) / single.length;
  return { samples, ms: samples * intervalMs, strength: single.length / gaps.length };
}

/** Samples of a process before its counters count as warmed up (a miner faults its dataset in first). */
const WARM_UP_SAMPLES = 5;
/** Share of a process's samples in which its sockets must have been read for "none" to mean none. */
const SOCKETS_KNOWN_SHARE = 0.8;
const SOCKET_VIEW_READ = 1;

function extended(present: readonly IProcess[]): ExtendedProcessFeatures | null {
  const ext = present.filter((p) => p.extended === true);
  if (ext.length === 0) return null;
  const warm = ext.length > WARM_UP_SAMPLES ? ext.slice(WARM_UP_SAMPLES) : ext;
  return {
    samples: ext.length,
    // Medians: a miner faulting its 2 GiB dataset in for its first seconds (RandomX dataset
    // init) is a burst; a memory stressor or a server keeps it up all the time.
    minfltPerSec: median(warm.map((p) => num(p.minfltPerSec))),
    majfltPerSec: median(warm.map((p) => num(p.majfltPerSec))),
    voluntaryCtxswPerSec: median(ext.map((p) => num(p.voluntaryCtxswPerSec))),
    nonvoluntaryCtxswPerSec: median(ext.map((p) => num(p.nonvoluntaryCtxswPerSec))),
    busyThreadsMax: max(ext.map((p) => num(p.busyThreads))),
    hugetlbBytesMax: max(ext.map((p) => num(p.hugetlbBytes))),
    nice: mean(ext.map((p) => num(p.nice))),
  };
}

function hasContent(sig: IProcessSignature | null | undefined): sig is IProcessSignature {
  return !!sig && !!(sig.cmdline || sig.exe || (sig.libs ?? []).length || (sig.envNames ?? []).length || sig.cgroup || (sig.exeMarkers ?? []).length);
}

function collectTracks(samples: readonly ISample[]): Track[] {
  const tracks = new Map<string, Track>();
  samples.forEach((sample, i) => {
    for (const p of sample.processes ?? []) {
      if (!p) continue;
      const pid = num(p.pid);
      const start = num(p.startTimeTicks);
      const key = processKey(pid, start);
      let t = tracks.get(key);
      if (!t) tracks.set(key, (t = { key, pid, name: p.name ?? '', startTimeTicks: start, byIndex: new Map(), signature: null }));
      t.byIndex.set(i, p);
      if (!t.name && p.name) t.name = p.name;
      // The agent sends the signature once (first sample showing the process); keep the first.
      if (!t.signature && hasContent(p.signature)) t.signature = p.signature;
    }
  });
  return [...tracks.values()];
}

/** GPU memory each process held per GPU (max over the window), matched by pid within each sample. */
function gpuMemory(samples: readonly ISample[], tracks: readonly Track[], gpus: readonly GpuFeatures[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const onlyGpu = gpus.length === 1 ? gpus[0]?.id : undefined;
  samples.forEach((sample, i) => {
    const gps = sample.gpuProcesses ?? [];
    if (gps.length === 0) return;
    const keyByPid = new Map<number, string>();
    for (const t of tracks) if (t.byIndex.has(i)) keyByPid.set(t.pid, t.key);
    for (const gp of gps) {
      if (!gp) continue;
      const key = keyByPid.get(num(gp.pid));
      const gpuId = gp.gpuUuid || onlyGpu;
      if (!key || !gpuId) continue;
      let perGpu = out.get(key);
      if (!perGpu) out.set(key, (perGpu = new Map()));
      perGpu.set(gpuId, Math.max(perGpu.get(gpuId) ?? 0, num(gp.usedMemoryBytes)));
    }
  });
  return out;
}

export function processFeatures(
  samples: readonly ISample[],
  signatures: ReadonlyMap<string, IProcessSignature>,
  gpus: readonly GpuFeatures[],
  sockets: SocketIndex,
  opts: FeatureOptions,
  intervalMs: number,
  history: HistoryView | null = null,
): ProcessFeatures[] {
  const tracks = collectTracks(samples);
  const gpuMem = gpuMemory(samples, tracks, gpus);
  const memOnGpu = new Map<string, number>();
  for (const perGpu of gpuMem.values()) for (const [g, b] of perGpu) memOnGpu.set(g, (memOnGpu.get(g) ?? 0) + b);
  const gpuUtilTotal = gpus.reduce((s, g) => s + g.util.mean, 0);

  let cpuTotal = 0;
  for (const t of tracks) for (const p of t.byIndex.values()) cpuTotal += Math.max(0, num(p.cpuPct));
  const lastTs = num(samples[samples.length - 1]?.tsMs);
  let recentFrom = samples.length;
  while (recentFrom > 0 && num(samples[recentFrom - 1]?.tsMs) > lastTs - opts.recentShareMs) recentFrom--;
  // A process gone from the last few samples (it exited) holds no share of what the host does now.
  const goneBefore = samples.length - opts.goneAfterSamples;
  const recentCpu = (t: Track): number => {
    let s = 0;
    if (Math.max(...t.byIndex.keys()) < goneBefore) return 0;
    for (const [i, p] of t.byIndex) if (i >= recentFrom) s += Math.max(0, num(p.cpuPct));
    return s;
  };
  const recentTotal = tracks.reduce((s, t) => s + recentCpu(t), 0);

  const out = tracks.map((t): ProcessFeatures => {
    const indices = [...t.byIndex.keys()].sort((a, b) => a - b);
    const first = indices[0] ?? 0;
    const last = indices[indices.length - 1] ?? 0;
    // Between first and last sighting a missing sample is most likely the per-sample cap dropping
    // a quiet process, so gaps read as 0 rather than being skipped (keeps the series evenly spaced).
    const rows = new Array<IProcess | undefined>(last - first + 1).fill(undefined);
    for (const [i, p] of t.byIndex) rows[i - first] = p;
    const pick = (f: (p: IProcess) => number): number[] => {
      const xs = new Array<number>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const p = rows[i];
        xs[i] = p ? Math.max(0, num(f(p))) : 0;
      }
      return xs;
    };
    const cpu = pick((p) => num(p.cpuPct));
    const reads = pick((p) => num(p.readBytesPerSec));
    const writes = pick((p) => num(p.writeBytesPerSec));
    const present = [...t.byIndex.values()];
    const ext = extended(present);
    let read = 0;
    for (const [i, p] of t.byIndex) if (num(p.socketView) === SOCKET_VIEW_READ || sockets.complete[i] === true) read++;
    const perGpu = gpuMem.get(t.key) ?? new Map<string, number>();
    let memShareOfGpu = 0;
    let utilShare = 0;
    for (const [g, bytes] of perGpu) {
      const gpu = gpus.find((x) => x.id === g);
      if (gpu && gpu.memTotalBytes > 0) memShareOfGpu = Math.max(memShareOfGpu, bytes / gpu.memTotalBytes);
      const onGpu = memOnGpu.get(g) ?? 0;
      if (gpu && onGpu > 0 && gpuUtilTotal > 0) utilShare += (gpu.util.mean * (bytes / onGpu)) / gpuUtilTotal;
    }
    const cpuFeatures = ownSeriesFeatures(cpu, opts, intervalMs, (p95) => p95 >= opts.periodMinPct);
    const wakes = cpuFeatures.p95 >= opts.periodMinPct;
    return {
      key: t.key,
      pid: t.pid,
      name: t.name,
      startTimeTicks: t.startTimeTicks,
      samplesPresent: indices.length,
      firstIndex: first,
      lastIndex: last,
      // A process that never wakes up has no period worth the autocorrelation's cost; a chain
      // node that wakes briefly every slot does (periodMinPct is below the busy threshold).
      cpu: cpuFeatures,
      cpuFewCyclesPeriod: wakes && !cpuFeatures.period ? spikePeriod(cpu, pick((p) => num(p.writeBytesPerSec) + num(p.wcharPerSec)), opts, intervalMs) : null,
      cpuShare: cpuTotal > 0 ? present.reduce((s, p) => s + Math.max(0, num(p.cpuPct)), 0) / cpuTotal : 0,
      cpuShareRecent: recentTotal > 0 ? recentCpu(t) / recentTotal : 0,
      rssBytesMax: max(present.map((p) => num(p.rssBytes))),
      threadsMax: max(present.map((p) => num(p.threads))),
      io: {
        readBytesPerSec: mean(reads),
        writeBytesPerSec: mean(writes),
        rcharPerSec: mean(pick((p) => num(p.rcharPerSec))),
        wcharPerSec: mean(pick((p) => num(p.wcharPerSec))),
        read: ownRateFeatures(reads, opts, intervalMs),
        // Reads served from the page cache never reach read_bytes: a prover re-reading hot
        // plot/sector pages shows them in rchar only.
        readAny: ownRateFeatures(pick((p) => Math.max(num(p.readBytesPerSec), num(p.rcharPerSec))), opts, intervalMs),
        write: ownRateFeatures(writes, opts, intervalMs),
      },
      gpu: {
        memBytesMax: [...perGpu.values()].reduce((s, b) => s + b, 0),
        gpuIds: [...perGpu.keys()].sort(),
        memShareOfGpu: Math.min(1, memShareOfGpu),
        utilShare: Math.min(1, utilShare),
      },
      signature: toSignature(signatures.get(t.key) ?? t.signature),
      sockets: processSockets(sockets, t.pid, first, last, opts.ephemeralPortMin),
      socketsKnown: read >= SOCKETS_KNOWN_SHARE * indices.length,
      ext,
      // With the extended counters: anonymous resident memory + huge pages (a hash dataset is
      // anonymous; an mmapped model file or a database's file pages are not). Else RSS.
      // (Every live process has some anonymous memory: RssAnon 0 means "not read", so RSS stands in.)
      memoryBytesMax: max(present.map((p) => (p.extended ? (num(p.rssAnonBytes) > 0 ? num(p.rssAnonBytes) : num(p.rssBytes)) + num(p.hugetlbBytes) : num(p.rssBytes)))),
      history: processHistory(history, t.key, opts),
    };
  });
  return out.sort((a, b) => b.cpuShare - a.cpuShare || a.pid - b.pid || a.startTimeTicks - b.startTimeTicks);
}
