// Per-process activity from /proc/PID/{stat,status,io} and, once per process, its signature
// (cmdline, exe + sha256, mapped libraries, env var names, cgroup/container, net namespace), with
// the sample's sockets attributed to their processes (sockets.ts) so that each reported process
// says whether its socket list is complete (socket_view) and the sample says whether the
// attribution as a whole is (socket_attribution).
//
// Extended counters (Process.extended): page faults and context switches per second, nice,
// scheduling policy, anonymous and hugetlb memory, busy threads (threads.ts). Context switches are
// the leader thread's (/proc/PID/status) plus, for processes whose threads threads.ts walks (>= 20 %
// of a core), the other threads' (whole process; a single-threaded process's leader is the whole
// process; other multi-threaded processes: leader only). extended = true only
// when the rates are real: the process was reported in an earlier sample (its counters were read
// then), or it started during the interval (all its counts belong to the interval). The first
// time an older process is reported, its counters are read (the baseline) but extended = false,
// which the engine treats as "unavailable"; the gauges (nice, policy, memory) are filled anyway.
//
// First call: primes CPU tick counters and returns {} (no processes, no processesTotal).
// Later calls report the busiest maxProcesses processes (CPU share, then RSS) with rates over the
// interval; processesTotal counts every user-space process seen. Kernel threads are never reported.
// A process's signature is attached the first time this probe instance reports it (pid + start
// time identify it across pid reuse).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assay } from '../../proto/codec.js';
import { ExeHasher } from './exe-hash.js';
import type { Probe, ProbeConfig, ProbeFactory, ProbeOutput } from './probe.js';
import { isUnavailable } from './probe.js';
import { containerIdFromCgroup, formatCmdline, parseEnvNames, parseLibs, pickCgroup } from './signature.js';
import { linkInode, SocketTracker } from './sockets.js';
import { BusyThreads, type ThreadCtxsw } from './threads.js';
import { guardedProbe, listPids, parseKeyNumbers, perSecond, readOptional, readlinkOptional, round } from './util.js';

/** PF_KTHREAD in /proc/PID/stat flags. */
const PF_KTHREAD = 0x00200000;
const AT_CLKTCK = 17;

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  threads: number;
  startTicks: number;
  rssPages: number;
  minflt: number;
  majflt: number;
  nice: number;
  /** Scheduling policy (field 41); undefined on kernels whose stat line is shorter. */
  policy: number | undefined;
}

/** Parses /proc/PID/stat; comm is in parentheses and may itself contain spaces and ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(' ');
  if (f.length < 22) return undefined;
  const num = (i: number): number => Number(f[i]);
  const s: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: num(1),
    flags: num(6),
    cpuTicks: num(11) + num(12),
    threads: num(17),
    startTicks: num(19),
    rssPages: num(21),
    minflt: num(7),
    majflt: num(9),
    nice: num(16),
    policy: f.length > 38 && Number.isFinite(num(38)) ? num(38) : undefined,
  };
  return [s.pid, s.ppid, s.flags, s.cpuTicks, s.threads, s.startTicks, s.rssPages, s.minflt, s.majflt, s.nice].every(Number.isFinite) ? s : undefined;
}

export function isKernelThread(s: ProcStat): boolean {
  return s.pid === 2 || s.ppid === 2 || (s.flags & PF_KTHREAD) !== 0;
}

interface IoCounters {
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

function parseIo(text: string | undefined): IoCounters | undefined {
  if (text === undefined) return undefined;
  const kv = parseKeyNumbers(text);
  const get = (k: string): number | undefined => kv.get(k);
  const [rchar, wchar, readBytes, writeBytes] = [get('rchar'), get('wchar'), get('read_bytes'), get('write_bytes')];
  if (rchar === undefined || wchar === undefined || readBytes === undefined || writeBytes === undefined) return undefined;
  return { rchar, wchar, readBytes, writeBytes };
}

/**
 * USER_HZ from the agent's own aux vector (AT_CLKTCK); 100 on every mainstream Linux, and the
 * fallback when auxv cannot be read (e.g. a fixture tree).
 */
export function clockTicksPerSecond(procRoot: string): number {
  try {
    const auxv = readFileSync(join(procRoot, 'self', 'auxv'));
    for (let off = 0; off + 16 <= auxv.length; off += 16) {
      const type = auxv.readBigUInt64LE(off);
      if (type === 0n) break;
      if (type === BigInt(AT_CLKTCK)) {
        const hz = Number(auxv.readBigUInt64LE(off + 8));
        return hz > 0 ? hz : 100;
      }
    }
  } catch {
    // fall through
  }
  return 100;
}

/** Event counters behind the extended rates. */
interface EventCounters {
  minflt: number;
  majflt: number;
  voluntaryCtxsw: number;
  nonvoluntaryCtxsw: number;
}

interface ProcState {
  cpuTicks: number;
  io?: { counters: IoCounters; ms: number };
  events?: { counters: EventCounters; ms: number };
  signatureSent: boolean;
  /** The signature being built, once per process (a slow one rides on a later sample); kept by reference across samples. */
  signature?: { built: Promise<void>; ready?: assay.v1.ProcessSignature.$Properties };
}

export interface ProcessesProbeOptions {
  /** Shared exe hasher (tests inspect its counter). */
  hasher?: ExeHasher;
  /** Socket table refresh period (tests: 0 = every call). */
  socketRefreshMs?: number;
  /** Longest wait for new signatures in one sample (default SIGNATURE_WAIT_MS). */
  signatureWaitMs?: number;
}

/** Well under the sampler's 2 s probe timeout. */
export const SIGNATURE_WAIT_MS = 1000;

const VIEW = {
  read: assay.v1.SocketView.SOCKET_VIEW_READ,
  unreadable: assay.v1.SocketView.SOCKET_VIEW_UNREADABLE,
} as const;

export function createProcessesProbe(config: ProbeConfig, opts: ProcessesProbeOptions = {}): Probe {
  const root = config.procRoot;
  const hasher = opts.hasher ?? new ExeHasher();
  const hz = clockTicksPerSecond(root);
  const sockets = new SocketTracker(config, { refreshMs: opts.socketRefreshMs });
  const busyThreads = new BusyThreads(root, hz);
  const signatureWaitMs = opts.signatureWaitMs ?? SIGNATURE_WAIT_MS;
  /** Keyed by "pid:startTicks" so a reused pid starts afresh. */
  let states = new Map<string, ProcState>();
  let prevMs: number | undefined;

  async function signatureOf(pid: number): Promise<assay.v1.ProcessSignature.$Properties> {
    const dir = join(root, String(pid));
    const readBuf = (name: string): Buffer | undefined => {
      try {
        return readFileSync(join(dir, name));
      } catch {
        return undefined;
      }
    };
    const { cmdline, truncated } = formatCmdline(readBuf('cmdline') ?? Buffer.alloc(0), config.maxCmdlineBytes);
    const cgroupText = readOptional(join(dir, 'cgroup')) ?? '';
    const exe = await hasher.inspect(join(dir, 'exe'));
    return {
      cmdline,
      cmdlineTruncated: truncated,
      exe: readlinkOptional(join(dir, 'exe')) ?? '',
      exeSha256: exe.sha256,
      exeMarkers: exe.markers,
      libs: parseLibs(readOptional(join(dir, 'maps')) ?? ''),
      envNames: parseEnvNames(readBuf('environ') ?? Buffer.alloc(0)),
      cgroup: pickCgroup(cgroupText),
      containerId: containerIdFromCgroup(cgroupText),
      netNs: linkInode(readlinkOptional(join(dir, 'ns', 'net')), 'net') ?? 0,
    };
  }

  return guardedProbe('processes', async (nowMs) => {
    const seen: { stat: ProcStat; key: string }[] = [];
    for (const pid of listPids(root)) {
      const text = readOptional(join(root, String(pid), 'stat'));
      const stat = text === undefined ? undefined : parseProcStat(text);
      if (!stat || isKernelThread(stat)) continue;
      seen.push({ stat, key: `${pid}:${stat.startTicks}` });
    }

    const last = states;
    const lastMs = prevMs;
    const next = new Map<string, ProcState>(); // processes that vanished are forgotten here
    for (const { stat, key } of seen) {
      const old = last.get(key);
      next.set(key, { cpuTicks: stat.cpuTicks, io: old?.io, events: old?.events, signatureSent: old?.signatureSent ?? false, signature: old?.signature });
    }
    states = next;
    prevMs = nowMs;
    const dtSec = lastMs === undefined ? 0 : (nowMs - lastMs) / 1000;
    if (!(dtSec > 0)) return {};

    const ranked = seen.map(({ stat, key }) => {
      // Not seen last time = started during the interval, so all its ticks belong to it.
      const prevTicks = last.get(key)?.cpuTicks ?? 0;
      return { stat, key, isNew: !last.has(key), cpuPct: round((100 * perSecond(stat.cpuTicks, prevTicks, dtSec)) / hz, 2) };
    });
    ranked.sort((a, b) => b.cpuPct - a.cpuPct || b.stat.rssPages - a.stat.rssPages || a.stat.pid - b.stat.pid);

    const processes: assay.v1.Process.$Properties[] = [];
    const reported: { pid: number; key: string }[] = [];
    const awaited: { proc: assay.v1.Process.$Properties; state: ProcState }[] = [];
    busyThreads.begin();
    for (const r of ranked) {
      if (processes.length >= config.maxProcesses) break;
      const { pid } = r.stat;
      const dir = join(root, String(pid));
      const status = readOptional(join(dir, 'status'));
      if (status === undefined) continue; // exited since its stat was read
      const kv = parseKeyNumbers(status);
      // Effective uid (second Uid: column), as ps and top show it.
      const uid = Number(status.match(/^Uid:\s+\d+\s+(\d+)/m)?.[1] ?? 0);
      const state = states.get(r.key)!;
      const threads = busyThreads.count(pid, r.key, r.cpuPct, r.stat.threads, dtSec, r.isNew);
      const proc: assay.v1.Process.$Properties = {
        pid,
        ppid: r.stat.ppid,
        name: r.stat.comm,
        startTimeTicks: r.stat.startTicks,
        cpuPct: r.cpuPct,
        rssBytes: (kv.get('VmRSS') ?? 0) * 1024,
        threads: r.stat.threads,
        state: r.stat.state,
        uid,
        ...ioRates(parseIo(readOptional(join(dir, 'io'))), state, r.isNew, nowMs, lastMs!),
        ...extendedCounters(r.stat, kv, state, r.isNew, nowMs, lastMs!, threads.otherCtxsw),
        busyThreads: threads.busy,
      };
      processes.push(proc);
      reported.push({ pid, key: r.key });
      if (!state.signatureSent) {
        if (!state.signature) {
          const building: NonNullable<ProcState['signature']> = { built: signatureOf(pid).then((sig) => void (building.ready = sig)) };
          state.signature = building;
        }
        awaited.push({ proc, state });
      }
    }
    busyThreads.end();

    const out: ProbeOutput = { processes, processesTotal: seen.length };
    const reading = sockets.read(nowMs, seen.map((x) => ({ pid: x.stat.pid, key: x.key })), reported);
    if (isUnavailable(reading)) {
      out.unavailable = [{ probe: 'sockets', reason: reading.unavailable }];
      out.socketAttribution = { complete: false, reason: reading.unavailable };
    } else {
      out.sockets = reading.sockets;
      out.socketAttribution = reading.attribution;
      for (const [i, proc] of processes.entries()) proc.socketView = VIEW[reading.views.get(reported[i]!.key)!];
    }
    // A large new executable (hash + marker scan, ~6 ms/MiB) must not hold the sample past the
    // sampler's probe timeout: signatures not ready in SIGNATURE_WAIT_MS are sent with a later
    // sample (the read goes on and is cached).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(awaited.map((a) => a.state.signature!.built)), new Promise((r) => (timer = setTimeout(r, signatureWaitMs)))]);
    clearTimeout(timer);
    for (const { proc, state } of awaited) {
      const ready = state.signature!.ready;
      if (!ready) continue; // still building: a later sample carries it
      proc.signature = ready;
      state.signatureSent = true;
      state.signature = undefined;
    }
    return out;
  });
}

/**
 * Page-fault and context-switch rates since this process's counters were last read, with the
 * gauges read alongside (see the top of this file for when `extended` is true). Needs the stat
 * line's policy field and the status ctxt lines; without them extended stays false. The kept
 * ctxsw counters are the leader's; `otherCtxsw` (the other threads' switches over this sample's
 * interval, when threads.ts walked them) is added to the leader's delta.
 */
function extendedCounters(
  stat: ProcStat,
  status: Map<string, number>,
  state: ProcState,
  isNew: boolean,
  nowMs: number,
  lastMs: number,
  otherCtxsw: ThreadCtxsw | undefined,
) {
  const vol = status.get('voluntary_ctxt_switches');
  const nonvol = status.get('nonvoluntary_ctxt_switches');
  if (vol === undefined || nonvol === undefined || stat.policy === undefined) return { extended: false };
  const cur: EventCounters = { minflt: stat.minflt, majflt: stat.majflt, voluntaryCtxsw: vol, nonvoluntaryCtxsw: nonvol };
  const prev = state.events ?? (isNew ? { counters: { minflt: 0, majflt: 0, voluntaryCtxsw: 0, nonvoluntaryCtxsw: 0 }, ms: lastMs } : undefined);
  state.events = { counters: cur, ms: nowMs };
  const dt = prev ? (nowMs - prev.ms) / 1000 : 0;
  const rate = (k: keyof EventCounters, others = 0): number => (prev && dt > 0 ? round(perSecond(cur[k], prev.counters[k], dt) + others / dt) : 0);
  return {
    extended: prev !== undefined,
    minfltPerSec: rate('minflt'),
    majfltPerSec: rate('majflt'),
    voluntaryCtxswPerSec: rate('voluntaryCtxsw', otherCtxsw?.voluntary),
    nonvoluntaryCtxswPerSec: rate('nonvoluntaryCtxsw', otherCtxsw?.nonvoluntary),
    nice: stat.nice,
    schedPolicy: stat.policy,
    rssAnonBytes: (status.get('RssAnon') ?? 0) * 1024,
    hugetlbBytes: (status.get('HugetlbPages') ?? 0) * 1024,
  };
}

/**
 * io rates since the last io reading of this process. /proc/PID/io needs ptrace rights (root or
 * same user); unreadable → zeros. A process reported for the first time gets zeros unless it
 * started during this interval (then all of its counters belong to the interval).
 */
function ioRates(cur: IoCounters | undefined, state: ProcState, isNew: boolean, nowMs: number, lastMs: number) {
  const zero = { readBytesPerSec: 0, writeBytesPerSec: 0, rcharPerSec: 0, wcharPerSec: 0 };
  if (!cur) return zero;
  const prev = state.io ?? (isNew ? { counters: { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 }, ms: lastMs } : undefined);
  state.io = { counters: cur, ms: nowMs };
  if (!prev) return zero;
  const dt = (nowMs - prev.ms) / 1000;
  return {
    readBytesPerSec: round(perSecond(cur.readBytes, prev.counters.readBytes, dt)),
    writeBytesPerSec: round(perSecond(cur.writeBytes, prev.counters.writeBytes, dt)),
    rcharPerSec: round(perSecond(cur.rchar, prev.counters.rchar, dt)),
    wcharPerSec: round(perSecond(cur.wchar, prev.counters.wchar, dt)),
  };
}

export const processesProbe: ProbeFactory = (config) => createProcessesProbe(config);
