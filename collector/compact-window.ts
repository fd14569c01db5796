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
// sample in full, in arrival order (its horizons no longer than the window keep no buckets: they
// are folded again from the window's samples, in arrival order, at each evaluation). The engine's output is identical (test/collector/compact-window.test.ts).
//
// Signatures are not held here: a process's signature is sent once, stored with its batch, and
// read back from the store for the processes in the window when the host is evaluated
// (Classifier). Signatures that arrived within the window travel in its chunks and win over the
// stored ones, as the latest one sent wins in HostWindow.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { assay, type IInventory, type IProcessSignature, type ISample } from '../proto/codec.js';
import protobuf from 'protobufjs/minimal.js';
import { HistoryAccumulator, type HorizonSpec } from './engine/accumulate.js';
import { isEstablished, isListening } from './engine/sockets.js';

const { Reader, Writer } = protobuf;
type Writer = protobuf.Writer;
type Long = protobuf.Long;
import { processKey, type EngineWindow } from './engine/types.js';

/** zlib level of the chunks: 1 costs ~1/3 of level 6's time for ~7 % more bytes. */
const CHUNK_LEVEL = 1;

interface Chunk {
  /** tsMs of each sample in the chunk, in chunk order. */
  ts: number[];
  /** Raw deflate of the engine samples (one message of repeated samples), as latin1 (one byte per char, on the V8 heap). */
  data: string;
}

/**
 * Writes a sample cut down to the fields the engine's window features read (collector/engine:
 * features.ts, features-process.ts, sockets.ts) as a Sample message, straight from the decoded
 * sample (no intermediate objects); the long-horizon history is fed the full sample before this.
 * Dropped: per-disk and per-interface detail beyond the byte rates (and whether an interface is
 * loopback), load, swap, clocks and temperatures, non-RAPL power readings, process
 * ppid/uid/state/policy, signature fields the engine does not read (exe_sha256, container id,
 * netns), socket inodes and namespaces, and sockets with no owner that neither listen nor carry
 * an established connection (unowned TIME_WAIT rows: the engine attributes only owned sockets;
 * of unowned ones it reads listening ports, remote addresses of established connections, and
 * whether the sample had any socket at all, kept as one empty entry). Scalars at their default
 * are left out (proto3: they read back as the same default); messages whose presence the engine
 * tests (cpu, memory, socket attribution, a process's signature) are written even when empty.
 * Field numbers: proto/assay.proto.
 */
function writeEngineSample(w: Writer, s: ISample): void {
  const u64 = (tag: number, v: number | Long | null | undefined): void => void (v ? w.uint32(tag).uint64(v) : 0);
  const u32 = (tag: number, v: number | null | undefined): void => void (v ? w.uint32(tag).uint32(v) : 0);
  const f32 = (tag: number, v: number | null | undefined): void => void (v != null && v !== 0 ? w.uint32(tag).float(v) : 0);
  const f64 = (tag: number, v: number | null | undefined): void => void (v != null && v !== 0 ? w.uint32(tag).double(v) : 0);
  const str = (tag: number, v: string | null | undefined): void => void (v ? w.uint32(tag).string(v) : 0);
  u64(8, s.tsMs);
  if (s.cpu) {
    w.uint32(18).fork();
    f32(13, s.cpu.totalPct);
    const cores = s.cpu.perCorePct ?? [];
    if (cores.length) {
      w.uint32(58).fork();
      for (const c of cores) w.float(c);
      w.ldelim();
    }
    w.ldelim();
  }
  if (s.memory) {
    w.uint32(26).fork();
    u64(8, s.memory.totalBytes);
    u64(24, s.memory.usedBytes);
    u32(56, s.memory.hugepagesTotal);
    u32(64, s.memory.hugepagesFree);
    w.ldelim();
  }
  for (const d of s.disks ?? []) {
    w.uint32(42).fork();
    f64(17, d.readBytesPerSec);
    f64(25, d.writeBytesPerSec);
    w.ldelim();
  }
  for (const n of s.net ?? []) {
    w.uint32(50).fork();
    if (n.iface === 'lo') str(10, 'lo');
    f64(17, n.rxBytesPerSec);
    f64(25, n.txBytesPerSec);
    w.ldelim();
  }
  for (const g of s.gpus ?? []) {
    w.uint32(58).fork();
    u32(8, g.index);
    str(18, g.uuid);
    str(26, g.name);
    f32(37, g.utilPct);
    f32(45, g.memUtilPct);
    u64(48, g.memUsedBytes);
    u64(56, g.memTotalBytes);
    f32(69, g.powerWatts);
    f64(105, g.pcieTxBytesPerSec);
    f64(113, g.pcieRxBytesPerSec);
    w.ldelim();
  }
  // Only RAPL readings count (features.ts raplWatts); GPU power is read from the GPUs.
  for (const p of s.power ?? []) {
    if ((p.source ?? '').toLowerCase() !== 'rapl') continue;
    w.uint32(66).fork();
    str(18, p.source);
    f32(29, p.watts);
    w.ldelim();
  }
  for (const p of s.processes ?? []) {
    w.uint32(74).fork();
    u32(8, p.pid);
    str(26, p.name);
    u64(32, p.startTimeTicks);
    f32(45, p.cpuPct);
    u64(48, p.rssBytes);
    u32(56, p.threads);
    f64(65, p.readBytesPerSec);
    f64(73, p.writeBytesPerSec);
    f64(81, p.rcharPerSec);
    f64(89, p.wcharPerSec);
    const sig = p.signature;
    if (sig) {
      // What the engine reads of a signature (features-process.ts toSignature, hasContent).
      w.uint32(114).fork();
      str(10, sig.cmdline);
      str(18, sig.exe);
      for (const l of sig.libs ?? []) w.uint32(34).string(l);
      for (const e of sig.envNames ?? []) w.uint32(42).string(e);
      str(50, sig.cgroup);
      for (const m of sig.exeMarkers ?? []) w.uint32(82).string(m);
      w.ldelim();
    }
    if (p.extended) w.uint32(120).bool(true);
    f64(129, p.minfltPerSec);
    f64(137, p.majfltPerSec);
    f64(145, p.voluntaryCtxswPerSec);
    f64(153, p.nonvoluntaryCtxswPerSec);
    if (p.nice) w.uint32(160).sint32(p.nice);
    u32(176, p.busyThreads);
    u64(184, p.rssAnonBytes);
    u64(192, p.hugetlbBytes);
    if (p.socketView) w.uint32(200).int32(p.socketView);
    w.ldelim();
  }
  let kept = 0;
  for (const k of s.sockets ?? []) {
    if (!k || ((k.pid ?? 0) <= 0 && !isListening(k) && !isEstablished(k))) continue;
    kept++;
    w.uint32(82).fork();
    str(10, k.protocol);
    str(18, k.localAddress);
    u32(24, k.localPort);
    str(34, k.remoteAddress);
    u32(40, k.remotePort);
    str(50, k.state);
    u32(56, k.pid);
    w.ldelim();
  }
  // "The sample had sockets" is read (a socket-less sample is "not read"): one empty entry says it.
  if (kept === 0 && (s.sockets ?? []).length > 0) w.uint32(82).fork().ldelim();
  for (const g of s.gpuProcesses ?? []) {
    w.uint32(90).fork();
    u32(8, g.pid);
    str(18, g.gpuUuid);
    u64(24, g.usedMemoryBytes);
    w.ldelim();
  }
  for (const u of s.unavailable ?? []) {
    w.uint32(98).fork();
    str(10, u.probe);
    w.ldelim();
  }
  if (s.socketAttribution) {
    w.uint32(114).fork();
    if (s.socketAttribution.complete) w.uint32(8).bool(true);
    // Sockets the agent counted instead of listing: the engine reads that some were (sockets.ts).
    for (const c of s.socketAttribution.unownedOmitted ?? []) {
      if (!c || !c.count) continue;
      w.uint32(50).fork();
      str(10, c.protocol);
      str(18, c.state);
      u32(24, c.count);
      w.ldelim();
    }
    w.ldelim();
  }
}

/** The sample as the compact window keeps it (decoded again): what the engine reads of it. */
export function engineSample(s: ISample): assay.v1.Sample {
  const w = Writer.create();
  writeEngineSample(w, s);
  return assay.v1.Sample.decode(w.finish());
}

function encodeChunk(samples: readonly ISample[]): Chunk {
  // One message of repeated samples (field 1), each length-delimited.
  const w = Writer.create();
  for (const s of samples) {
    w.uint32(10).fork();
    writeEngineSample(w, s);
    w.ldelim();
  }
  return { ts: samples.map((s) => s.tsMs ?? 0), data: deflateRawSync(w.finish(), { level: CHUNK_LEVEL }).toString('latin1') };
}

function decodeChunk(c: Chunk): assay.v1.Sample[] {
  const r = Reader.create(inflateRawSync(Buffer.from(c.data, 'latin1')));
  const out: assay.v1.Sample[] = [];
  while (r.pos < r.len) {
    r.uint32(); // field 1, length-delimited
    out.push(assay.v1.Sample.decode(r, r.uint32()));
  }
  return out;
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
  /** The same samples in the order they were added (the history's derived horizons fold them so). */
  arrival: ISample[];
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
    // Horizons no longer than the window (the 60 s one) are folded again from the window's
    // samples at each evaluation instead of being held twice.
    this.history = new HistoryAccumulator(horizons, windowMs);
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
    const arrival = rows.map((r) => r.s);
    rows.sort((a, b) => a.t - b.t);
    const samples = rows.map((r) => r.s);
    return { samples, carried, keys: liveKeys(samples), arrival };
  }

  /** The engine's input: the decoded window, signatures from `stored` overlaid by those carried in the window. */
  view(w: WindowSamples, stored: ReadonlyMap<string, IProcessSignature> = new Map()): EngineWindow {
    const signatures = new Map<string, IProcessSignature>();
    for (const k of w.keys) {
      const sig = w.carried.get(k) ?? stored.get(k);
      if (sig) signatures.set(k, sig);
    }
    return { samples: w.samples, signatures, inventory: this.inventory, history: this.history.view(w.keys, w.arrival) };
  }
}
