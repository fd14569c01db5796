// The classifier's per-host window held compactly (issue 10: 10,000 connected hosts in 1.5 GB).
// A decoded sample costs ~5.6x its protobuf bytes on the heap (~50 KB for a real 9 KB sample:
// an object per process and socket, a fresh string per address), so a 120 s window of decoded
// samples held ~5 MB per host. Here each batch's samples are cut down on entry to what the
// engine reads (engineSample below), re-encoded, framed and deflated into one chunk kept as a
// one-byte string (no Buffer per chunk): ~400 B per sample. The engine's input is rebuilt by
// decoding the chunks when the host is evaluated (evaluations are rate-limited by the classify
// queue, so decoding is paid per evaluation, not per sample).
//
// Same semantics as HostWindow (window.ts, which `assay replay` and reports still use): a
// timestamp already in the window is ignored, samples may arrive in any order, the window keeps
// samples no older than windowMs before the newest, the long-horizon history is fed every new
// sample in full, in arrival order. The engine's output is identical (test/collector/compact-window.test.ts).
//
// Signatures are not held here: a process's signature is sent once, stored with its batch, and
// read back from the store for the processes in the window when the host is evaluated
// (Classifier). Signatures that arrived within the window travel in its chunks and win over the
// stored ones, as the latest one sent wins in HostWindow.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { assay, type IInventory, type IProcessSignature, type ISample } from '../proto/codec.js';
import { frameSamples, unframeSamples } from '../proto/payload.js';
import { HistoryAccumulator, type HistoryView, type HorizonSpec } from './engine/accumulate.js';
import { isEstablished, isListening } from './engine/sockets.js';
import { processKey, type EngineWindow } from './engine/types.js';

/** zlib level of the chunks: 1 costs ~1/3 of level 6's time for ~7 % more bytes. */
const CHUNK_LEVEL = 1;

interface Chunk {
  /** tsMs of each sample in the chunk, in chunk order. */
  ts: number[];
  /** Raw deflate of the framed engine samples, as latin1 (one byte per char, on the V8 heap). */
  data: string;
}

const signatureOf = (sig: IProcessSignature): assay.v1.IProcessSignature => ({
  // What the engine reads (features-process.ts toSignature/hasContent).
  cmdline: sig.cmdline ?? '',
  exe: sig.exe ?? '',
  libs: sig.libs ?? [],
  envNames: sig.envNames ?? [],
  cgroup: sig.cgroup ?? '',
  exeMarkers: sig.exeMarkers ?? [],
});

/**
 * A sample cut down to the fields the engine's window features read (collector/engine:
 * features.ts, features-process.ts, sockets.ts); the long-horizon history is fed the full sample
 * before this. Dropped: per-disk and per-interface detail beyond the byte rates (and whether an
 * interface is loopback), load, swap, clocks and temperatures, process ppid/uid/state/policy,
 * signature fields the engine does not read (exe_sha256, container id, netns), and sockets with
 * no owner that neither listen nor carry an established connection (unowned TIME_WAIT rows: the
 * engine attributes only owned sockets; of unowned ones it reads listening ports, remote
 * addresses of established connections, and whether the sample had any socket at all, kept as
 * one empty entry).
 */
export function engineSample(s: ISample): assay.v1.ISample {
  const out: assay.v1.ISample = { tsMs: s.tsMs ?? 0 };
  if (s.cpu) out.cpu = { totalPct: s.cpu.totalPct ?? 0, perCorePct: s.cpu.perCorePct ?? [] };
  if (s.memory) out.memory = { totalBytes: s.memory.totalBytes ?? 0, usedBytes: s.memory.usedBytes ?? 0, hugepagesTotal: s.memory.hugepagesTotal ?? 0, hugepagesFree: s.memory.hugepagesFree ?? 0 };
  out.disks = (s.disks ?? []).map((d) => ({ readBytesPerSec: d.readBytesPerSec ?? 0, writeBytesPerSec: d.writeBytesPerSec ?? 0 }));
  out.net = (s.net ?? []).map((n) => ({ iface: n.iface === 'lo' ? 'lo' : '', rxBytesPerSec: n.rxBytesPerSec ?? 0, txBytesPerSec: n.txBytesPerSec ?? 0 }));
  out.gpus = (s.gpus ?? []).map((g) => ({
    index: g.index ?? 0, uuid: g.uuid ?? '', name: g.name ?? '', utilPct: g.utilPct ?? 0, memUtilPct: g.memUtilPct ?? 0, memUsedBytes: g.memUsedBytes ?? 0,
    memTotalBytes: g.memTotalBytes ?? 0, powerWatts: g.powerWatts ?? 0, pcieTxBytesPerSec: g.pcieTxBytesPerSec ?? 0, pcieRxBytesPerSec: g.pcieRxBytesPerSec ?? 0,
  }));
  // Only RAPL readings count (features.ts raplWatts); GPU power is read from the GPUs.
  out.power = (s.power ?? []).filter((p) => (p.source ?? '').toLowerCase() === 'rapl').map((p) => ({ source: p.source ?? '', watts: p.watts ?? 0 }));
  out.processes = (s.processes ?? []).map((p) => ({
    pid: p.pid ?? 0, startTimeTicks: p.startTimeTicks ?? 0, name: p.name ?? '', cpuPct: p.cpuPct ?? 0, rssBytes: p.rssBytes ?? 0, threads: p.threads ?? 0,
    readBytesPerSec: p.readBytesPerSec ?? 0, writeBytesPerSec: p.writeBytesPerSec ?? 0, rcharPerSec: p.rcharPerSec ?? 0, wcharPerSec: p.wcharPerSec ?? 0,
    ...(p.signature ? { signature: signatureOf(p.signature) } : {}),
    extended: p.extended ?? false, minfltPerSec: p.minfltPerSec ?? 0, majfltPerSec: p.majfltPerSec ?? 0, voluntaryCtxswPerSec: p.voluntaryCtxswPerSec ?? 0,
    nonvoluntaryCtxswPerSec: p.nonvoluntaryCtxswPerSec ?? 0, nice: p.nice ?? 0, busyThreads: p.busyThreads ?? 0, rssAnonBytes: p.rssAnonBytes ?? 0,
    hugetlbBytes: p.hugetlbBytes ?? 0, socketView: p.socketView ?? 0,
  }));
  const sockets: assay.v1.ISocket[] = [];
  for (const k of s.sockets ?? []) {
    if (!k || ((k.pid ?? 0) <= 0 && !isListening(k) && !isEstablished(k))) continue;
    sockets.push({ protocol: k.protocol ?? '', localAddress: k.localAddress ?? '', localPort: k.localPort ?? 0, remoteAddress: k.remoteAddress ?? '', remotePort: k.remotePort ?? 0, state: k.state ?? '', pid: k.pid ?? 0 });
  }
  // "The sample had sockets" is read (a socket-less sample is "not read"): one empty entry says it.
  if (sockets.length === 0 && (s.sockets ?? []).length > 0) sockets.push({});
  out.sockets = sockets;
  out.gpuProcesses = (s.gpuProcesses ?? []).map((g) => ({ pid: g.pid ?? 0, gpuUuid: g.gpuUuid ?? '', usedMemoryBytes: g.usedMemoryBytes ?? 0 }));
  out.unavailable = (s.unavailable ?? []).map((u) => ({ probe: u.probe ?? '' }));
  if (s.socketAttribution) out.socketAttribution = { complete: s.socketAttribution.complete ?? false };
  return out;
}

function encodeChunk(samples: readonly ISample[]): Chunk {
  const framed = frameSamples(samples.map((s) => assay.v1.Sample.encode(engineSample(s)).finish()));
  return { ts: samples.map((s) => s.tsMs ?? 0), data: deflateRawSync(framed, { level: CHUNK_LEVEL }).toString('latin1') };
}

function decodeChunk(c: Chunk): assay.v1.Sample[] {
  return unframeSamples(inflateRawSync(Buffer.from(c.data, 'latin1'))).map((b) => assay.v1.Sample.decode(b));
}

/** Keys of the processes in samples. */
export function liveKeys(samples: readonly ISample[]): Set<string> {
  const live = new Set<string>();
  for (const s of samples) for (const p of s.processes ?? []) live.add(processKey(p.pid ?? 0, p.startTimeTicks ?? 0));
  return live;
}

/** The window decoded for one evaluation: samples in time order, and the signatures they carry. */
export interface WindowSamples {
  samples: ISample[];
  /** Signatures sent within the window, the latest sent per process (arrival order). */
  carried: Map<string, IProcessSignature>;
  /** Processes present in the samples. */
  keys: Set<string>;
}

export class CompactWindow {
  private chunks: Chunk[] = [];
  inventory: IInventory | null = null;
  private readonly history: HistoryAccumulator;
  /** Samples older than this are out of the window (newest - windowMs after the last add). */
  private horizonMs = -Infinity;
  private newest = -Infinity;
  private count = 0;

  constructor(
    private readonly windowMs: number,
    horizons: readonly HorizonSpec[] = [],
  ) {
    this.history = new HistoryAccumulator(horizons);
  }

  /** Feeds only the long-horizon history (e.g. older samples reloaded after a restart). */
  addHistory(samples: readonly ISample[]): void {
    for (const s of samples) this.history.add(s);
  }

  /** Adds samples (any order; a timestamp already in the window is ignored) and drops those too old. */
  add(samples: readonly ISample[]): void {
    const known = new Set<number>();
    for (const c of this.chunks) for (const t of c.ts) if (t >= this.horizonMs) known.add(t);
    const fresh: ISample[] = [];
    for (const s of samples) {
      const t = s.tsMs ?? 0;
      if (known.has(t)) continue;
      known.add(t);
      this.history.add(s);
      fresh.push(s);
      if (t > this.newest) this.newest = t;
    }
    if (fresh.length === 0) return;
    this.horizonMs = this.newest - this.windowMs;
    const kept = fresh.filter((s) => (s.tsMs ?? 0) >= this.horizonMs);
    if (kept.length) this.chunks.push(encodeChunk(kept));
    // A chunk goes once its newest sample is out; older samples of a kept chunk are skipped on decode.
    this.chunks = this.chunks.filter((c) => c.ts.some((t) => t >= this.horizonMs));
    this.count = 0;
    for (const c of this.chunks) for (const t of c.ts) if (t >= this.horizonMs) this.count++;
  }

  /** Newest sample time, 0 when empty. */
  get newestMs(): number {
    return this.count ? this.newest : 0;
  }

  /** Samples in the window. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the window's chunks (their one-byte strings and timestamps). */
  get chunkBytes(): number {
    return this.chunks.reduce((a, c) => a + c.data.length + 8 * c.ts.length, 0);
  }

  /** Decodes the window: what one evaluation reads. */
  samples(): WindowSamples {
    const rows: Array<{ t: number; s: ISample }> = [];
    const carried = new Map<string, IProcessSignature>();
    for (const c of this.chunks) {
      const decoded = decodeChunk(c);
      for (let i = 0; i < decoded.length; i++) {
        const t = c.ts[i]!;
        if (t < this.horizonMs) continue;
        const s = decoded[i]!;
        rows.push({ t, s });
        for (const p of s.processes ?? []) if (p.signature) carried.set(processKey(p.pid ?? 0, p.startTimeTicks ?? 0), p.signature);
      }
    }
    rows.sort((a, b) => a.t - b.t);
    const samples = rows.map((r) => r.s);
    return { samples, carried, keys: liveKeys(samples) };
  }

  /** The engine's input: the decoded window, signatures from `stored` overlaid by those carried in the window. */
  view(w: WindowSamples, stored: ReadonlyMap<string, IProcessSignature> = new Map()): EngineWindow {
    const signatures = new Map<string, IProcessSignature>();
    for (const k of w.keys) {
      const sig = w.carried.get(k) ?? stored.get(k);
      if (sig) signatures.set(k, sig);
    }
    return { samples: w.samples, signatures, inventory: this.inventory, history: this.historyView(w.keys) };
  }

  historyView(keys: ReadonlySet<string>): HistoryView {
    return this.history.view(keys);
  }
}
