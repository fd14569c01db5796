// Builders for realistic engine windows: a host spec with per-sample functions becomes the
// Samples an agent would send. Deterministic (seeded noise) so that every run sees the same data.
import type { IProcessSignature, ISample, ISocket } from '../../proto/codec.js';
import type { EngineWindow } from '../../collector/engine/types.js';

/** mulberry32: a tiny seeded PRNG, so "noise" is the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform noise in [-amp, amp]. */
export function noise(seed: number, amp: number): (i: number) => number {
  const r = rng(seed);
  const cache: number[] = [];
  return (i) => {
    while (cache.length <= i) cache.push((r() * 2 - 1) * amp);
    return cache[i] ?? 0;
  };
}

export interface Conn {
  remote: string;
  remotePort: number;
  localPort?: number;
  local?: string;
  protocol?: string;
}

export interface ProcSpec {
  pid: number;
  name: string;
  start?: number;
  /** % of one core at sample i. */
  cpu: (i: number) => number;
  rssBytes?: number;
  threads?: number;
  readBps?: (i: number) => number;
  writeBps?: (i: number) => number;
  rcharBps?: (i: number) => number;
  wcharBps?: (i: number) => number;
  signature?: IProcessSignature;
  /** TCP listening ports. */
  listen?: number[];
  udp?: number[];
  /** Established connections at sample i. */
  conns?: (i: number) => Conn[];
  gpu?: { uuid: string; memBytes: number };
  /** Sample range [from, to) in which the process exists (default: whole window). */
  from?: number;
  to?: number;
  /** Extended counters (Process.extended, agents from 2026-12), per second; absent = old agent. */
  ext?: ExtSpec;
  /** Process.socket_view for this process (default: from the host's `attribution`). */
  socketView?: 'unknown' | 'read' | 'unreadable';
}

export interface ExtSpec {
  minfltPerSec?: number;
  majfltPerSec?: number;
  voluntaryCtxswPerSec?: number;
  nonvoluntaryCtxswPerSec?: number;
  busyThreads?: number;
  hugetlbBytes?: number;
  /** RssAnon (default: the process's rssBytes, all anonymous). */
  rssAnonBytes?: number;
  nice?: number;
}

export interface GpuSpec {
  uuid: string;
  name?: string;
  util: (i: number) => number;
  memUtil?: (i: number) => number;
  memUsedBytes: number;
  memTotalBytes: number;
  powerWatts?: (i: number) => number;
  pcieRxBps?: (i: number) => number;
}

export interface HostSpec {
  samples: number;
  intervalMs?: number;
  cores?: number;
  procs: ProcSpec[];
  hugepages?: { total: number; free: number };
  gpus?: GpuSpec[];
  rapl?: (i: number) => number;
  /** Put signatures in the map (default) or in the first sample's process entries. */
  signaturesIn?: 'map' | 'sample';
  /** Leave out the background sshd/agent processes and their sockets. */
  bare?: boolean;
  /**
   * Socket attribution the agent reports: 'complete' (default: a root agent that read every fd
   * and network namespace; Sample.socket_attribution.complete and every process socket_view READ)
   * or 'unknown' (an old agent: no attribution fields, as in the recorded corpus).
   */
  attribution?: 'complete' | 'unknown';
}

const SOCKET_VIEW = { unknown: 0, read: 1, unreadable: 2 } as const;

const T0 = 1_767_225_600_000;

/** sshd and the Assay agent: always there on a real host, almost idle. */
function background(seed: number): ProcSpec[] {
  const n = noise(seed, 0.3);
  return [
    { pid: 812, name: 'sshd', cpu: () => 0, listen: [22], signature: { cmdline: 'sshd: /usr/sbin/sshd -D', exe: '/usr/sbin/sshd', libs: ['libc.so.6', 'libcrypto.so.3'] } },
    {
      pid: 901,
      name: 'assay-agent',
      cpu: (i) => 0.8 + n(i),
      conns: () => [{ remote: '10.0.0.1', remotePort: 7600 }],
      signature: { cmdline: 'node /opt/assay/dist/cli.js agent', exe: '/usr/bin/node', libs: ['libc.so.6', 'libnode.so.115'] },
    },
  ];
}

function socketsFor(p: ProcSpec, i: number): ISocket[] {
  const out: ISocket[] = [];
  for (const port of p.listen ?? []) out.push({ protocol: 'tcp', localAddress: '0.0.0.0', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', pid: p.pid });
  for (const port of p.udp ?? []) out.push({ protocol: 'udp', localAddress: '0.0.0.0', localPort: port, remoteAddress: '0.0.0.0', remotePort: 0, state: 'UNCONN', pid: p.pid });
  (p.conns?.(i) ?? []).forEach((c, k) => {
    out.push({
      protocol: c.protocol ?? 'tcp',
      localAddress: c.local ?? '10.0.0.9',
      localPort: c.localPort ?? 40000 + ((p.pid * 31 + k) % 20000),
      remoteAddress: c.remote,
      remotePort: c.remotePort,
      state: 'ESTABLISHED',
      pid: p.pid,
    });
  });
  return out;
}

export function buildWindow(spec: HostSpec): EngineWindow {
  const cores = spec.cores ?? 2;
  const interval = spec.intervalMs ?? 1000;
  const procs = spec.bare ? spec.procs : [...background(7), ...spec.procs];
  const attribution = spec.attribution ?? 'complete';
  const signatures = new Map<string, IProcessSignature>();
  const samples: ISample[] = [];
  for (let i = 0; i < spec.samples; i++) {
    const live = procs.filter((p) => i >= (p.from ?? 0) && i < (p.to ?? spec.samples));
    const cpuSum = live.reduce((s, p) => s + Math.max(0, p.cpu(i)), 0);
    const total = Math.min(100, cpuSum / cores + 0.3);
    const hp = spec.hugepages ?? { total: 0, free: 0 };
    samples.push({
      tsMs: T0 + i * interval,
      cpu: { totalPct: total, userPct: total * 0.9, systemPct: total * 0.1, perCorePct: new Array(cores).fill(total) },
      memory: { totalBytes: 8 * 2 ** 30, availableBytes: 4 * 2 ** 30, usedBytes: 4 * 2 ** 30, hugepagesTotal: hp.total, hugepagesFree: hp.free, hugepageSizeBytes: 2 * 2 ** 20 },
      load: { load1: cpuSum / 100 },
      disks: [
        {
          device: 'nvme0n1',
          readBytesPerSec: live.reduce((s, p) => s + (p.readBps?.(i) ?? 0), 0),
          writeBytesPerSec: live.reduce((s, p) => s + (p.writeBps?.(i) ?? 0), 0),
        },
      ],
      net: [{ iface: 'eth0', rxBytesPerSec: 2000, txBytesPerSec: 1500 }],
      gpus: (spec.gpus ?? []).map((g, k) => ({
        index: k,
        uuid: g.uuid,
        name: g.name ?? 'NVIDIA H100 80GB HBM3',
        utilPct: g.util(i),
        memUtilPct: g.memUtil?.(i) ?? 0,
        memUsedBytes: g.memUsedBytes,
        memTotalBytes: g.memTotalBytes,
        powerWatts: g.powerWatts?.(i) ?? 0,
        pcieRxBytesPerSec: g.pcieRxBps?.(i) ?? 0,
        vendor: 'nvidia',
      })),
      power: spec.rapl ? [{ domain: 'package-0', source: 'rapl', watts: spec.rapl(i) }] : [],
      processes: live.map((p) => {
        const first = i === (p.from ?? 0);
        return {
          pid: p.pid,
          ppid: 1,
          name: p.name,
          startTimeTicks: p.start ?? 1000 + p.pid,
          cpuPct: Math.max(0, p.cpu(i)),
          rssBytes: p.rssBytes ?? 50 * 2 ** 20,
          threads: p.threads ?? 1,
          readBytesPerSec: p.readBps?.(i) ?? 0,
          writeBytesPerSec: p.writeBps?.(i) ?? 0,
          rcharPerSec: p.rcharBps?.(i) ?? p.readBps?.(i) ?? 0,
          wcharPerSec: p.wcharBps?.(i) ?? p.writeBps?.(i) ?? 0,
          ...(first && spec.signaturesIn === 'sample' && p.signature ? { signature: p.signature } : {}),
          ...(p.ext
            ? {
                extended: true,
                minfltPerSec: p.ext.minfltPerSec ?? 0,
                majfltPerSec: p.ext.majfltPerSec ?? 0,
                voluntaryCtxswPerSec: p.ext.voluntaryCtxswPerSec ?? 0,
                nonvoluntaryCtxswPerSec: p.ext.nonvoluntaryCtxswPerSec ?? 0,
                busyThreads: p.ext.busyThreads ?? 0,
                hugetlbBytes: p.ext.hugetlbBytes ?? 0,
                rssAnonBytes: p.ext.rssAnonBytes ?? p.rssBytes ?? 50 * 2 ** 20,
                nice: p.ext.nice ?? 0,
              }
            : {}),
          socketView: SOCKET_VIEW[p.socketView ?? (attribution === 'complete' ? 'read' : 'unknown')],
        };
      }),
      sockets: live.flatMap((p) => socketsFor(p, i)),
      gpuProcesses: live.filter((p) => p.gpu).map((p) => ({ pid: p.pid, gpuUuid: p.gpu?.uuid, usedMemoryBytes: p.gpu?.memBytes, name: p.name })),
      unavailable: [],
      processesTotal: live.length,
      ...(attribution === 'complete' ? { socketAttribution: { complete: true, processesRead: live.length, processesUnreadable: 0, namespacesRead: 1 } } : {}),
    });
  }
  if (spec.signaturesIn !== 'sample') for (const p of procs) if (p.signature) signatures.set(`${p.pid}:${p.start ?? 1000 + p.pid}`, p.signature);
  return { samples, signatures };
}

/** A periodic spike train: `high` for `width` samples every `period`, else `low`. */
export function spikes(period: number, width: number, low: number, high: number, phase = 0): (i: number) => number {
  return (i) => (((i + phase) % period) < width ? high : low);
}
