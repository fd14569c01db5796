// Per-process activity from /proc/PID/{stat,status,io} and, once per process, its signature
// (cmdline, exe + sha256, mapped libraries, env var names, cgroup/container, net namespace).
//
// First call: primes CPU tick counters and returns {} (no processes, no processesTotal).
// Later calls report the busiest maxProcesses processes (CPU share, then RSS) with rates over the
// interval; processesTotal counts every user-space process seen. Kernel threads are never reported.
// A process's signature is attached the first time this probe instance reports it (pid + start
// time identify it across pid reuse).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import { ExeHasher } from './exe-hash.js';
import type { Probe, ProbeConfig, ProbeFactory } from './probe.js';
import { containerIdFromCgroup, formatCmdline, parseEnvNames, parseLibs, pickCgroup } from './signature.js';
import { linkInode } from './sockets.js';
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
  };
  return [s.pid, s.ppid, s.flags, s.cpuTicks, s.threads, s.startTicks, s.rssPages].every(Number.isFinite) ? s : undefined;
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

interface ProcState {
  cpuTicks: number;
  io?: { counters: IoCounters; ms: number };
  signatureSent: boolean;
}

export interface ProcessesProbeOptions {
  /** Shared exe hasher (tests inspect its counter). */
  hasher?: ExeHasher;
}

export function createProcessesProbe(config: ProbeConfig, opts: ProcessesProbeOptions = {}): Probe {
  const root = config.procRoot;
  const hasher = opts.hasher ?? new ExeHasher();
  const hz = clockTicksPerSecond(root);
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
    return {
      cmdline,
      cmdlineTruncated: truncated,
      exe: readlinkOptional(join(dir, 'exe')) ?? '',
      exeSha256: await hasher.hash(join(dir, 'exe')),
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
      next.set(key, { cpuTicks: stat.cpuTicks, io: old?.io, signatureSent: old?.signatureSent ?? false });
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
    const pending: Promise<void>[] = [];
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
      };
      processes.push(proc);
      if (!state.signatureSent) {
        state.signatureSent = true;
        pending.push(signatureOf(pid).then((sig) => void (proc.signature = sig)));
      }
    }
    await Promise.all(pending);
    return { processes, processesTotal: seen.length };
  });
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
