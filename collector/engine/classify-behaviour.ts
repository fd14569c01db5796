// Behaviour evidence: what a process DOES over the window. The code decides whether a predicate
// holds (with the rules' thresholds); the rules decide what it is worth to each class.
import { bytes, evidence, list, pct, round, type ScoredEvidence } from './classify-evidence.js';
import type { HostFeatures, PeriodFeature, ProcessFeatures } from './feature-types.js';
import type { BehaviourId, Rules } from './rules/schema.js';
import { median, repeatedBurstSize } from './stats.js';
import type { EvidenceProcess, ScoredClass } from './types.js';

interface Observation {
  value: string | number | boolean;
  detail: string;
}

type Predicate = (p: ProcessFeatures, h: HostFeatures, r: Rules) => Observation | null;

function secs(ms: number): string {
  return `${round(ms / 1000, 1)} s`;
}

function periodText(period: PeriodFeature): string {
  return `period ${secs(period.ms)} (${round(period.samples, 1)} samples, strength ${round(period.strength, 2)})`;
}

function busy(p: ProcessFeatures, r: Rules): boolean {
  return p.cpu.mean >= r.thresholds.busy.processCpuPct;
}

/** Busy on CPU, or credited with a share of a busy GPU (a GPU miner idles its CPU). */
function active(p: ProcessFeatures, h: HostFeatures, r: Rules): boolean {
  return busy(p, r) || (p.gpu.utilShare > 0 && gpusOf(p, h).some((g) => g.util.mean >= r.thresholds.idle.gpuUtilPct));
}

function shapeKnown(p: ProcessFeatures, r: Rules): boolean {
  return p.samplesPresent >= r.thresholds.busy.minSamplesPresent;
}

function flat(p: ProcessFeatures, r: Rules): boolean {
  const f = r.thresholds.flat;
  // "Flat" is a claim about minutes of hashing: a build step busy for 6 s is not flat.
  return busy(p, r) && p.samplesPresent >= f.minSamplesPresent && p.cpu.cv <= f.maxCv && p.cpu.flatness >= f.minFlatness;
}

/**
 * "No socket" means "no network" only where the process's socket list is known to be complete
 * (its fds were read, or the agent mapped every socket); a socket attributed to it is evidence
 * whatever the attribution status.
 */
function socketsKnown(p: ProcessFeatures): boolean {
  return p.socketsKnown;
}

/** A rate per second of CPU the process burns (`whenIdle` where it burns none). */
function perCpuSecond(p: ProcessFeatures, perSec: number, whenIdle: number): number {
  return p.cpu.mean > 0 ? perSec / (p.cpu.mean / 100) : whenIdle;
}

/** Bytes read and written (files, pipes, sockets via read/write) per second of CPU it burns. */
function ioPerCpuSecond(p: ProcessFeatures): number {
  return perCpuSecond(p, p.io.readBytesPerSec + p.io.writeBytesPerSec + p.io.rcharPerSec + p.io.wcharPerSec, Infinity);
}

/**
 * Always runnable on a saturated host: the process is busy in (nearly) every sample while the
 * host's CPU is at its ceiling, so its own CPU varies only because other work takes its turn (a
 * hasher beside a build, a miner on a loaded server). Flatness cannot be seen under contention;
 * this is the same claim made robust to it. Not claimed when the process is already flat.
 */
function contended(p: ProcessFeatures, h: HostFeatures, r: Rules): { share: number; samples: number } | null {
  const t = r.thresholds.flat;
  if (!busy(p, r) || p.samplesPresent < t.minSamplesPresent || flat(p, r)) return null;
  let n = 0;
  let both = 0;
  for (let i = p.firstIndex; i <= p.lastIndex; i++) {
    const hostPct = h.cpu.series[i];
    const own = p.cpu.series[i - p.firstIndex];
    if (hostPct === undefined || own === undefined) continue;
    n++;
    if (hostPct >= t.contendedHostPct && own >= r.thresholds.busy.processCpuPct) both++;
  }
  return n >= t.minSamplesPresent && both / n >= t.minFlatness ? { share: both / n, samples: n } : null;
}

/** Computing without pause: flat, or always runnable on a saturated host. */
function computeBound(p: ProcessFeatures, h: HostFeatures, r: Rules): boolean {
  return flat(p, r) || contended(p, h, r) !== null;
}

/** Working steadily (flat or contended now, or steady over the long horizon): what hashing does. */
function steady(p: ProcessFeatures, h: HostFeatures, r: Rules): boolean {
  return computeBound(p, h, r) || steadyAveraged(p, r) !== null;
}

function steadyAveraged(p: ProcessFeatures, r: Rules): ProcessFeatures['history'][number] | null {
  if (!busy(p, r) || flat(p, r)) return null;
  const t = r.thresholds.flat;
  const hz = p.history.find((x) => x.bucketMs >= t.averagedBucketMs && x.presentMs >= t.averagedMinMs && x.cpu.mean >= r.thresholds.busy.processCpuPct);
  return hz && hz.cpu.cv <= t.maxCv ? hz : null;
}

/** Computing for (nearly) the whole window, or always runnable on a saturated host. */
function sustainedCpu(p: ProcessFeatures, h: HostFeatures, r: Rules): boolean {
  return busy(p, r) && (p.cpu.dutyCycle >= r.thresholds.sustained.minDutyCycle || contended(p, h, r) !== null);
}

/** Sustained compute with almost no I/O per CPU-second (a hasher works from memory). */
function lowIo(p: ProcessFeatures, h: HostFeatures, r: Rules): boolean {
  const sustained = sustainedCpu(p, h, r) || (active(p, h, r) && !busy(p, r));
  return sustained && shapeKnown(p, r) && ioPerCpuSecond(p) < r.thresholds.io.lowBytesPerCpuSec;
}

/** Visibly offline: its socket list is known and holds no connection and no listener. */
function offline(p: ProcessFeatures): boolean {
  return socketsKnown(p) && p.sockets.outboundPeers.length === 0 && p.sockets.inboundMax === 0 && p.sockets.listenPorts.length === 0;
}

function gpusOf(p: ProcessFeatures, h: HostFeatures): HostFeatures['gpus'] {
  return h.gpus.filter((g) => p.gpu.gpuIds.includes(g.id));
}

function inStepRange(period: PeriodFeature | null, r: Rules): period is PeriodFeature {
  return !!period && period.ms >= r.thresholds.steps.minMs && period.ms <= r.thresholds.steps.maxMs;
}

/**
 * Busy again and again on a long horizon: a CPU or storage-read period on the bucket series and
 * a busy p95 there (a WindowPoSt worker between its 30 min deadlines, a Chia harvester).
 */
export function recurrentBurst(p: ProcessFeatures, r: Rules): { horizon: string; period: PeriodFeature; what: string } | null {
  for (const hz of p.history) {
    if (hz.cpu.p95 < r.thresholds.busy.processCpuPct) continue;
    const hit = hz.cpu.period ? { what: 'CPU', period: hz.cpu.period } : hz.read.period && hz.read.p95 >= r.thresholds.io.periodicReadMinBytesPerSec ? { what: 'storage reads', period: hz.read.period } : null;
    if (hit && hit.period.ms > r.thresholds.steps.maxMs) return { horizon: hz.name, ...hit };
  }
  return null;
}

function outboundAddresses(p: ProcessFeatures): number {
  return new Set(p.sockets.outboundPeers.filter((x) => !x.loopback).map((x) => x.address)).size;
}

const PREDICATES: Record<BehaviourId, Predicate> = {
  'cpu-flat': (p, _h, r) =>
    flat(p, r)
      ? { value: round(p.cpu.cv, 3), detail: `CPU flat at ${pct(p.cpu.mean)} of a core (CV ${round(p.cpu.cv, 3)}, ${pct(p.cpu.flatness * 100)} of samples in band) over ${p.samplesPresent} samples` }
      : null,
  // Duty-cycled second to second (cpulimit's SIGSTOP/SIGCONT, a miner's own throttle) yet steady
  // once averaged over the long horizon's buckets: a hasher working at a capped constant rate.
  'cpu-steady-averaged': (p, _h, r) => {
    const hz = steadyAveraged(p, r);
    if (!hz) return null;
    return { value: round(hz.cpu.cv, 3), detail: `CPU varies second to second but is steady at ${pct(hz.cpu.mean)} of a core averaged over ${secs(hz.bucketMs)} buckets (CV ${round(hz.cpu.cv, 3)} over ${secs(hz.presentMs)}): a capped constant rate` };
  },
  'cpu-contended': (p, h, r) => {
    const c = contended(p, h, r);
    return c
      ? { value: round(c.share, 2), detail: `busy in ${pct(c.share * 100)} of ${c.samples} samples while the host's CPU was at its ceiling (≥ ${pct(r.thresholds.flat.contendedHostPct)}): computing without pause, its CPU shared with other work (CV ${round(p.cpu.cv, 2)})` }
      : null;
  },
  hugepages: (p, h, r) =>
    computeBound(p, h, r) && h.memory.hugepagesInUseMax > 0
      ? { value: h.memory.hugepagesInUseMax, detail: `host has ${h.memory.hugepagesInUseMax} huge pages in use while this process computes flat` }
      : null,
  'few-long-lived-peers': (p, h, r) => {
    const t = r.thresholds.peers;
    const peers = p.sockets.outboundPeers;
    if (!active(p, h, r) || p.sockets.inboundMax > 0 || peers.length === 0 || peers.length > t.fewMax) return null;
    // A pool answers a share now and then; a local server this process keeps busy is a database
    // or cache under its benchmark client.
    const busyPartner = (x: (typeof peers)[number]): boolean => h.processes.some((q) => x.partnerPids.includes(q.pid) && busy(q, r));
    const lasting = peers.filter((x) => x.presence >= t.longLivedFraction && !busyPartner(x));
    if (lasting.length === 0) return null;
    return { value: list(lasting.map((x) => `${x.address}:${x.port}`)), detail: `keeps ${lasting.length} long-lived outbound connection(s) (${list(lasting.map((x) => `${x.address}:${x.port}`))}) and serves no clients` };
  },
  // An offline tool (stress-ng, a compiler, an encoder): no connection AND no listening socket. A
  // daemon that listens (a node's RPC/P2P port) is networked even while nobody is connected.
  'no-peers': (p, h, r) =>
    active(p, h, r) && offline(p)
      ? { value: 0, detail: 'busy with no network connection and no listening socket at all' }
      : null,
  // Per CPU-second, not per second: a hasher moves almost nothing however hard it works, an
  // encoder, a compiler or a database moves bytes in proportion to its CPU.
  'low-io': (p, h, r) => {
    if (!lowIo(p, h, r)) return null;
    const per = ioPerCpuSecond(p);
    return { value: Math.round(per), detail: `busy with almost no I/O: ${bytes(per)} read+written (files, pipes, sockets) per CPU-second` };
  },
  // RandomX keeps a 256 MiB cache or a 2 GiB dataset resident (in huge pages when it can, which
  // RSS does not count) and touches it at random, with no I/O: a large working set that is
  // neither streamed from nor to anywhere. sha256d/scrypt miners are tiny: supporting only.
  'hash-memory': (p, h, r) =>
    steady(p, h, r) && lowIo(p, h, r) && p.memoryBytesMax >= r.thresholds.memory.hashWorkingSetBytes && p.memoryBytesMax <= r.thresholds.memory.hashWorkingSetMaxBytes
      ? { value: p.memoryBytesMax, detail: `keeps ${bytes(p.memoryBytesMax)} resident (RSS + huge pages) while computing steadily with almost no I/O` }
      : null,
  // A listening service with many established client connections is a server (a database, a
  // key-value store, a web service), whatever its CPU shape: a pool client dials one connection out.
  // A forked backend (PostgreSQL, one process per client) serves the connection its parent
  // accepted without listening itself: a server too.
  'many-clients': (p, _h, r) => {
    const s = p.sockets;
    if (s.listenPorts.length > 0 && s.inboundMax >= r.thresholds.peers.serverMinClients) return { value: s.inboundMax, detail: `serves up to ${s.inboundMax} client connections at once on ${list(s.listenPorts)}` };
    if (s.listenPorts.length === 0 && s.inboundMax > 0) return { value: s.inboundMax, detail: `serves ${s.inboundMax} accepted client connection(s) without listening itself (a forked server backend)` };
    return null;
  },
  // Extended counters (agents from 2026-12): a hashing thread never blocks, a server or client
  // blocks on epoll/IO for every request.
  'blocks-often': (p, _h, r) => {
    const e = p.ext;
    if (!e || !busy(p, r)) return null;
    const per = perCpuSecond(p, e.voluntaryCtxswPerSec, 0);
    return per >= r.thresholds.ext.blockingCtxswPerCpuSec ? { value: Math.round(per), detail: `blocks ${Math.round(per)} times per CPU-second (voluntary context switches): waits on I/O or requests` } : null;
  },
  // A hasher faults its dataset in once; a memory stressor or an allocator-heavy program keeps faulting.
  'faults-often': (p, _h, r) => {
    const e = p.ext;
    if (!e || !busy(p, r)) return null;
    const per = perCpuSecond(p, e.minfltPerSec + e.majfltPerSec, 0);
    return per >= r.thresholds.ext.faultsPerCpuSec ? { value: Math.round(per), detail: `${Math.round(per)} page faults per CPU-second after warm-up: keeps mapping new memory` } : null;
  },
  'write-bound': (p, h, r) => {
    const per = perCpuSecond(p, p.io.writeBytesPerSec, 0);
    return active(p, h, r) && per >= r.thresholds.io.writeBoundBytesPerCpuSec ? { value: Math.round(per), detail: `writes ${bytes(per)} per CPU-second: output-bound, like sealing` } : null;
  },
  // Checkpoints: write bursts on a training-step-like period (seconds to minutes), quiet between.
  'periodic-writes': (p, h, r) => {
    const w = p.io.write;
    const t = r.thresholds.io;
    return active(p, h, r) && inStepRange(w.period, r) && w.p95 >= t.periodicWriteMinBytesPerSec && w.dutyCycle <= t.periodicWriteMaxDuty
      ? { value: round(w.period.ms), detail: `writes in periodic bursts: ${periodText(w.period)}, p95 ${bytes(w.p95)}/s, writing ${pct(w.dutyCycle * 100)} of the time` }
      : null;
  },
  // A training loop persists the same state (weights, optimiser) again and again: storage-write
  // bursts of one repeated size with quiet samples between, while it computes without pause.
  // A snapshot shorter than the sampling interval still shows: a sample holds zero, one or two
  // of them. An encoder or compressor streams output whose size follows its input; a burner or a
  // hasher persists nothing.
  'checkpoint-writes': (p, h, r) => {
    const t = r.thresholds.io;
    if (!sustainedCpu(p, h, r) || !shapeKnown(p, r)) return null;
    const q = repeatedBurstSize(p.io.write.series, {
      minBurst: t.checkpointMinBytes,
      minBursts: t.checkpointMinBursts,
      minQuietShare: t.checkpointMinQuietShare,
      tolerance: t.checkpointSizeTolerance,
      maxMultiple: t.checkpointMaxMultiple,
    });
    return q
      ? { value: Math.round(q.quantum), detail: `writes ${q.bursts} bursts of one repeated size (${bytes(q.quantum)} or a whole multiple, within ${pct(t.checkpointSizeTolerance * 100)}), quiet in ${pct(q.quietShare * 100)} of samples, while computing without pause: state snapshots` }
      : null;
  },
  'many-peers': (p, _h, r) => {
    const t = r.thresholds.peers;
    const out = outboundAddresses(p);
    return p.sockets.remoteAddresses >= t.manyMin && out >= t.manyMinOutbound
      ? { value: p.sockets.remoteAddresses, detail: `talks to ${p.sockets.remoteAddresses} distinct remote addresses, dialling ${out} itself (peer-to-peer)` }
      : null;
  },
  'serves-clients': (p) =>
    p.sockets.listenPorts.length > 0 && p.sockets.inboundMax > 0
      ? { value: p.sockets.inboundMax, detail: `listens on ${list(p.sockets.listenPorts)} with up to ${p.sockets.inboundMax} client connection(s)` }
      : null,
  bursty: (p, h, r) => {
    const t = r.thresholds.bursty;
    const g = gpusOf(p, h).find((x) => x.util.cv >= t.minCv && x.util.dutyCycle <= t.maxDutyCycle && x.util.p95 >= r.thresholds.idle.gpuUtilPct);
    if (g) return { value: round(g.util.cv, 2), detail: `GPU ${g.id} bursty (CV ${round(g.util.cv, 2)}, busy ${pct(g.util.dutyCycle * 100)} of the time)` };
    const c = p.cpu;
    return shapeKnown(p, r) && c.p95 >= r.thresholds.busy.processCpuPct && c.cv >= t.minCv && c.dutyCycle <= t.maxDutyCycle
      ? { value: round(c.cv, 2), detail: `CPU comes in bursts (CV ${round(c.cv, 2)}, busy ${pct(c.dutyCycle * 100)} of the time, p95 ${pct(c.p95)})` }
      : null;
  },
  sustained: (p, h, r) => {
    const min = r.thresholds.sustained.minDutyCycle;
    const g = gpusOf(p, h).find((x) => x.util.mean >= r.thresholds.idle.gpuUtilPct && x.util.dutyCycle >= min);
    if (g) return { value: round(g.util.dutyCycle, 2), detail: `GPU ${g.id} busy ${pct(g.util.dutyCycle * 100)} of the window` };
    return busy(p, r) && shapeKnown(p, r) && p.cpu.dutyCycle >= min ? { value: round(p.cpu.dutyCycle, 2), detail: `computes for ${pct(p.cpu.dutyCycle * 100)} of the window` } : null;
  },
  'step-periodic': (p, _h, r) =>
    busy(p, r) && inStepRange(p.cpu.period, r) ? { value: round(p.cpu.period.ms), detail: `CPU step-periodic: ${periodText(p.cpu.period)}` } : null,
  'checkpoint-bursts': (p, _h, r) => {
    const t = r.thresholds.io;
    const w = p.io.write;
    return w.p95 >= t.minBurstBytesPerSec && w.p95 >= t.burstRatio * median(w.series)
      ? { value: Math.round(w.p95), detail: `writes in bursts (p95 ${bytes(w.p95)}/s against a median of ${bytes(median(w.series))}/s)${w.period ? `, ${periodText(w.period)}` : ''}` }
      : null;
  },
  'chain-slot-period': (p, _h, r) => {
    // Two cycles are enough where the process visibly networks (listens for RPC/P2P or dials
    // peers): that agrees with a chain; elsewhere a period needs the usual minCycles.
    const networked = p.sockets.listenPorts.length > 0 || p.sockets.outboundPeers.length > 0;
    const period = p.cpu.period ?? (networked ? p.cpuFewCyclesPeriod : null);
    if (!period || p.cpu.p95 < r.thresholds.period.minActivePct) return null;
    // A chain node always networks (P2P, RPC): a slot-paced timer in an offline tool is not a chain.
    if (socketsKnown(p) && !networked) return null;
    // Work on every slot, or on every other slot (heavier and lighter blocks alternating makes the
    // autocorrelation peak at two slots): both are slot-paced.
    for (const k of [1, 2]) {
      const hit = r.thresholds.chainPeriods.find((c) => Math.abs(period.ms - k * c.ms) <= k * c.toleranceMs);
      if (hit) return { value: round(period.ms), detail: `CPU ${periodText(period)} matches ${k === 1 ? 'the' : `${k} x the`} ${hit.name} (${secs(hit.ms)})` };
    }
    return null;
  },
  // Sealing writes far more than it reads (layers out of one sector in); a content-addressed
  // store adding and serving blocks reads about as much as it writes (rchar counts page-cache and
  // socket reads too).
  // A plotter sorts its tables on disk and reads them back (about as much read as written), yet it
  // has no network: the store that reads what it writes serves peers. Offline, the bytes written
  // per CPU-second tell proof encoding (an expensive hash per byte: tens of MiB) from data movers
  // (cp, tar, decompressors: hundreds of MiB to GiB).
  'heavy-writes': (p, h, r) => {
    const t = r.thresholds.io;
    const reads = Math.max(p.io.readBytesPerSec, p.io.rcharPerSec);
    if (!active(p, h, r) || p.cpu.mean < t.heavyWriteMinCpuPct) return null;
    const ratio = reads > 0 ? `${round(p.io.writeBytesPerSec / reads, 1)}x` : 'far more than';
    if (p.io.writeBytesPerSec >= t.heavyWriteBytesPerSec && p.io.writeBytesPerSec >= t.sealWriteReadRatio * reads)
      return { value: Math.round(p.io.writeBytesPerSec), detail: `writes ${bytes(p.io.writeBytesPerSec)}/s to storage while computing, ${ratio} what it reads` };
    // Per CPU-second, like write-bound: a plotter sharing its cores writes less per second, not per unit of work.
    const perCpu = perCpuSecond(p, p.io.writeBytesPerSec, Infinity);
    return offline(p) && shapeKnown(p, r) && perCpu >= t.writeBoundBytesPerCpuSec && perCpu <= t.heavyWriteMaxBytesPerCpuSec
      ? { value: Math.round(p.io.writeBytesPerSec), detail: `writes ${bytes(p.io.writeBytesPerSec)}/s to storage while computing (${bytes(perCpu)} per CPU-second, ${ratio} what it reads back) with no network at all` }
      : null;
  },
  'periodic-reads': (p, _h, r) => {
    const rd = p.io.read.period ? p.io.read : p.io.readAny;
    return rd.period && rd.p95 >= r.thresholds.io.periodicReadMinBytesPerSec
      ? { value: round(rd.period.ms), detail: `reads come periodically${rd === p.io.readAny ? ' (read syscalls, page cache included)' : ''}: ${periodText(rd.period)}, p95 ${bytes(rd.p95)}/s` }
      : null;
  },
  'recurrent-bursts': (p, _h, r) => {
    const b = recurrentBurst(p, r);
    return b ? { value: round(b.period.ms), detail: `busy in recurring bursts over the ${b.horizon} horizon: ${b.what} ${periodText(b.period)}` } : null;
  },
  'large-memory': (p, _h, r) =>
    p.rssBytesMax >= r.thresholds.memory.largeRssBytes ? { value: p.rssBytesMax, detail: `resident memory ${bytes(p.rssBytesMax)}` } : null,
  'gpu-flat-saturated': (p, h, r) => {
    const t = r.thresholds.gpu;
    const g = gpusOf(p, h).find((x) => x.util.mean >= t.saturatedUtilPct && x.util.cv <= t.flatMaxCv && x.pcieRxBytesPerSec < t.lowPcieBytesPerSec);
    return g ? { value: round(g.util.mean, 1), detail: `GPU ${g.id} pinned at ${pct(g.util.mean)} (CV ${round(g.util.cv, 3)}) with PCIe RX ${bytes(g.pcieRxBytesPerSec)}/s` } : null;
  },
  'gpu-step-periodic': (p, h, r) => {
    const g = gpusOf(p, h).find((x) => x.util.mean >= r.thresholds.idle.gpuUtilPct && inStepRange(x.util.period, r));
    return g?.util.period ? { value: round(g.util.period.ms), detail: `GPU ${g.id} utilisation step-periodic: ${periodText(g.util.period)}` } : null;
  },
  'gpu-memory-heavy': (p, _h, r) =>
    p.gpu.memShareOfGpu >= r.thresholds.gpu.heavyMemShare
      ? { value: round(p.gpu.memShareOfGpu, 2), detail: `holds ${pct(p.gpu.memShareOfGpu * 100)} of a GPU's memory (${bytes(p.gpu.memBytesMax)})` }
      : null,
};

/** Identity weight per class, which requiresIdentity behaviour needs before it counts. */
function identityWeight(ev: readonly ScoredEvidence[]): Map<ScoredClass, number> {
  const out = new Map<ScoredClass, number>();
  for (const e of ev) if (e.weight > 0 && (e.origin === 'identity' || e.origin === 'name')) out.set(e.supports, (out.get(e.supports) ?? 0) + e.weight);
  return out;
}

export function behaviourEvidence(p: ProcessFeatures, h: HostFeatures, rules: Rules, identity: readonly ScoredEvidence[]): ScoredEvidence[] {
  const out: ScoredEvidence[] = [];
  const who: EvidenceProcess = { pid: p.pid, name: p.name };
  const gate = identityWeight(identity);
  const observed = new Map<BehaviourId, Observation>();
  for (const id of Object.keys(PREDICATES) as BehaviourId[]) {
    const obs = rules.behaviour[id] ? PREDICATES[id](p, h, rules) : null;
    if (obs) observed.set(id, obs);
  }
  // A behaviour voids others' counter-evidence only where it counts itself: one that waits for
  // identity it lacks proves nothing (2026.12.5: a miner writing fixed-size files is no trainer).
  const counts = (id: BehaviourId): boolean => {
    const rule = rules.behaviour[id];
    return !!rule && Object.entries(rule.weights).some(([c, w]) => w > 0 && (!rule.requiresIdentity || (gate.get(c as ScoredClass) ?? 0) >= rules.scoring.identityGate));
  };
  for (const [id, obs] of observed) {
    const rule = rules.behaviour[id];
    if (!rule) continue;
    // Counter-evidence that other evidence disproves: "no network" clears an offline tool of
    // suspicion, not an executable that carries a miner's stratum client; "almost no I/O" says
    // nothing against training once its checkpoints are seen.
    const voided =
      rule.voidedBy.length > 0 &&
      (identity.some((e) => e.weight > 0 && rule.voidedBy.includes(e.signal)) || [...observed.keys()].some((o) => rule.voidedBy.includes(`beh.${o}`) && counts(o)));
    for (const [c, w] of Object.entries(rule.weights) as [ScoredClass, number][]) {
      if (w === 0) continue;
      // A positive weight that needs identity waits for it; counter-evidence always counts.
      if (rule.requiresIdentity && w > 0 && (gate.get(c) ?? 0) < rules.scoring.identityGate) continue;
      if (w < 0 && voided) continue;
      out.push(evidence('behaviour', `beh.${id}`, obs.value, c, w, w > 0 ? obs.detail : `${obs.detail}, which counts against ${c}`, who));
    }
  }
  // Say so when the network shape could not count: "no peers" was neither seen nor ruled out.
  if (active(p, h, rules) && !socketsKnown(p) && p.sockets.listenPorts.length === 0 && p.sockets.outboundPeers.length === 0 && p.sockets.inboundMax === 0) {
    out.push(evidence('behaviour', 'net.unknown', false, 'general', 0, 'network unknown: this process\'s sockets were not read (old agent or no fd access), so "no connection at all" is not used', who));
  }
  return out;
}
