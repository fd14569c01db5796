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
// time identify it across pid reuse), and again when it is reported and its signature was last
// sent more than signatureResendMs ago (a day): the collector's retention deletes the signature
// of a process first seen before the raw window that is not in the newest batch, and a process
// outside the busiest maxProcesses at that moment may still run; re-sent, it is stored again.
// With config.sentSignatures (the agent streaming to a collector) a new process's signature that
// is byte-identical to one sent in full recently is sent as a reference (../signature-refs.ts).
//
// Cost (this runs every second for every process): stat, status and io are read through
// descriptors kept open between samples (proc-files.ts), the stat line is parsed in one pass
// without splitting it, only the six status fields used are looked up, and per-process state is
// updated in place rather than rebuilt each sample. A kernel thread's stat is read once: while it
// lives (its comm, kept open, still reads) it is skipped (KernelThreads below).
//
// Idle processes (most of a host's): status and io are not read again while the process provably
// did not run (reuseFigures below). /proc/PID/schedstat (the leader thread's run time and run
// count, ~5x cheaper to generate than status) is read first; when it, the whole process's fault
// counters (stat) and, for io, its single thread are unchanged since the last full read, the
// figures of that read are reused: they are the ones a new read would give (see reuseFigures for
// why, and for the one field, HugetlbPages, whose exactness rests on FULL_READ_MAX_AGE_MS).
// VmRSS and RssAnon are mm-wide and can change without the process running (reclaim, a process
// sharing its mm): they come from /proc/PID/statm (same counters as status, exact) at every sample.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assay } from '../../proto/codec.js';
import { ExeHasher } from './exe-hash.js';
import type { Probe, ProbeConfig, ProbeFactory, ProbeOutput } from './probe.js';
import { isUnavailable } from './probe.js';
import { containerIdFromCgroup, formatCmdline, parseEnvNames, parseLibs, pickCgroup } from './signature.js';
import { linkInode, SocketTracker } from './sockets.js';
import { BusyThreads, type ThreadCtxsw } from './threads.js';
import { KeptProcFiles } from './proc-files.js';
import { guardedProbe, lineNumber, listPids, perSecond, readOptional, readlinkOptional, round } from './util.js';

/** PF_KTHREAD in /proc/PID/stat flags. */
const PF_KTHREAD = 0x00200000;
const AT_CLKTCK = 17;
const AT_PAGESZ = 6;

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

/** Indices (after the ")" closing comm) of the /proc/PID/stat fields read, and the count needed. */
const F = { ppid: 1, flags: 6, minflt: 7, majflt: 9, utime: 11, stime: 12, nice: 16, threads: 17, start: 19, rss: 21, policy: 38 } as const;
const MIN_STAT_FIELDS = 22;
/** Scratch for one line's numeric fields (reused: this runs for every process every second). */
const statFields = new Float64Array(F.policy + 1);

/**
 * Parses /proc/PID/stat; comm is in parentheses and may itself contain spaces and ')'. Reads the
 * space-separated fields in one pass without splitting the line into strings (called for every
 * process every second). A field that is not a decimal integer reads as NaN.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  let end = text.length;
  while (end > close && (text.charCodeAt(end - 1) === 10 || text.charCodeAt(end - 1) === 32)) end--;
  let at = close + 2;
  let state = '';
  let count = 0;
  while (at < end && count <= F.policy) {
    let stop = text.indexOf(' ', at);
    if (stop < 0 || stop > end) stop = end;
    if (count === 0) state = text.slice(at, stop);
    else {
      let i = at;
      const neg = text.charCodeAt(i) === 45;
      if (neg) i++;
      let n = i < stop ? 0 : Number.NaN;
      for (; i < stop; i++) {
        const c = text.charCodeAt(i);
        if (c < 48 || c > 57) {
          n = Number.NaN;
          break;
        }
        n = n * 10 + (c - 48);
      }
      statFields[count] = neg ? -n : n;
    }
    count++;
    at = stop + 1;
  }
  if (count < MIN_STAT_FIELDS) return undefined;
  const s: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state,
    ppid: statFields[F.ppid]!,
    flags: statFields[F.flags]!,
    cpuTicks: statFields[F.utime]! + statFields[F.stime]!,
    threads: statFields[F.threads]!,
    startTicks: statFields[F.start]!,
    rssPages: statFields[F.rss]!,
    minflt: statFields[F.minflt]!,
    majflt: statFields[F.majflt]!,
    nice: statFields[F.nice]!,
    policy: count > F.policy && Number.isFinite(statFields[F.policy]!) ? statFields[F.policy]! : undefined,
  };
  // Checked one by one: an array of the ten for .every() was an allocation per process per second.
  const finite =
    Number.isFinite(s.pid) && Number.isFinite(s.ppid) && Number.isFinite(s.flags) && Number.isFinite(s.cpuTicks) && Number.isFinite(s.threads) &&
    Number.isFinite(s.startTicks) && Number.isFinite(s.rssPages) && Number.isFinite(s.minflt) && Number.isFinite(s.majflt) && Number.isFinite(s.nice);
  return finite ? s : undefined;
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
  const [rchar, wchar, readBytes, writeBytes] = [lineNumber(text, 'rchar:'), lineNumber(text, 'wchar:'), lineNumber(text, 'read_bytes:'), lineNumber(text, 'write_bytes:')];
  if (rchar === undefined || wchar === undefined || readBytes === undefined || writeBytes === undefined) return undefined;
  return { rchar, wchar, readBytes, writeBytes };
}

/** The /proc/PID/status fields the probe uses (the whole file has ~55 lines). */
export interface StatusFields {
  rssKb?: number;
  /** Effective uid (the second Uid: column), as ps and top show it. */
  uid?: number;
  voluntaryCtxsw?: number;
  nonvoluntaryCtxsw?: number;
  rssAnonKb?: number;
  hugetlbKb?: number;
}

export function parseStatus(text: string): StatusFields {
  return {
    rssKb: lineNumber(text, 'VmRSS:'),
    uid: lineNumber(text, 'Uid:', 1),
    voluntaryCtxsw: lineNumber(text, 'voluntary_ctxt_switches:'),
    nonvoluntaryCtxsw: lineNumber(text, 'nonvoluntary_ctxt_switches:'),
    rssAnonKb: lineNumber(text, 'RssAnon:'),
    hugetlbKb: lineNumber(text, 'HugetlbPages:'),
  };
}

/**
 * USER_HZ from the agent's own aux vector (AT_CLKTCK); 100 on every mainstream Linux, and the
 * fallback when auxv cannot be read (e.g. a fixture tree).
 */
export function clockTicksPerSecond(procRoot: string): number {
  return auxvValue(procRoot, AT_CLKTCK) ?? 100;
}

/**
 * The page size in kB (AT_PAGESZ of the agent's aux vector: /proc/PID/statm counts pages of this
 * size); 4 when auxv cannot be read (a fixture tree).
 */
export function pageKb(procRoot: string): number {
  const bytes = auxvValue(procRoot, AT_PAGESZ);
  return bytes !== undefined && bytes >= 1024 ? bytes / 1024 : 4;
}

function auxvValue(procRoot: string, wanted: number): number | undefined {
  try {
    const auxv = readFileSync(join(procRoot, 'self', 'auxv'));
    for (let off = 0; off + 16 <= auxv.length; off += 16) {
      const type = auxv.readBigUInt64LE(off);
      if (type === 0n) break;
      if (type === BigInt(wanted)) {
        const v = Number(auxv.readBigUInt64LE(off + 8));
        return v > 0 ? v : undefined;
      }
    }
  } catch {
    // fall through
  }
  return undefined;
}

/**
 * VmRSS and RssAnon in kB from /proc/PID/statm ("size resident shared text lib data dt", in
 * pages): resident is VmRSS, resident - shared (file + shmem pages) is RssAnon; the kernel fills
 * both files from the same mm counters. Undefined when the line is malformed.
 */
export function parseStatm(text: string, kbPerPage: number): { rssKb: number; rssAnonKb: number } | undefined {
  // The second and third space-separated fields, found without splitting the line (this runs for
  // every reported process every second); the same values as text.trim().split(' ')[1] and [2].
  const t = text.trim();
  const a = t.indexOf(' ');
  const b = a < 0 ? -1 : t.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const c = t.indexOf(' ', b + 1);
  const resident = Number(t.slice(a + 1, b));
  const shared = Number(t.slice(b + 1, c < 0 ? t.length : c));
  if (!Number.isSafeInteger(resident) || !Number.isSafeInteger(shared) || shared > resident) return undefined;
  return { rssKb: resident * kbPerPage, rssAnonKb: (resident - shared) * kbPerPage };
}

/** Event counters behind the extended rates. */
interface EventCounters {
  minflt: number;
  majflt: number;
  voluntaryCtxsw: number;
  nonvoluntaryCtxsw: number;
}

/** What the last full read of a process's status and io gave, and the gate readings taken before it. */
interface FullRead {
  ms: number;
  /** /proc/PID/schedstat as read just before status and io. */
  schedstat: string;
  minflt: number;
  majflt: number;
  threads: number;
  status: StatusFields;
  io: IoCounters | undefined;
}

/**
 * Longest a reported process's status and io figures are reused without a full read (see
 * reuseFigures): bounds how long HugetlbPages can lag the two changes the gate cannot see.
 */
export const FULL_READ_MAX_AGE_MS = 30_000;

/**
 * Whether the status and io figures of `full` are still exact now, so that neither file needs
 * reading (see the top of this file). Exactness, field by field, when /proc/PID/schedstat (the
 * leader's run time and number of times it was scheduled) is unchanged since just before `full`
 * was read, and the whole process's minflt and majflt (stat) are too:
 * - Uid and the voluntary/nonvoluntary context switches of status are the leader's own: creds
 *   change only by the task itself (commit_creds acts on current) and a context switch is counted
 *   when the task is switched out, which means it was scheduled in (run count moves). Exact.
 * - io counters are the whole process's: every thread adds to its own, and an exiting thread's
 *   are added to the process's. With one thread at the full read and the leader not run since,
 *   no other thread can have been created (only a thread of the process creates one), so nothing
 *   added to them. Exact; a multi-threaded process's io is read every sample.
 * - HugetlbPages (mm-wide): a thread of the process faulting a huge page counts a fault (minflt
 *   or majflt move). Not seen by the gate: a hugetlbfs file of the process truncated by another
 *   process, a process sharing the mm (CLONE_VM without CLONE_THREAD) faulting huge pages, a
 *   debugger writing into its memory. Those are reflected within FULL_READ_MAX_AGE_MS. The engine
 *   reads it only as a maximum over the window (hugetlbBytesMax).
 * - VmRSS and RssAnon are read from statm every sample (not reused).
 * A schedstat of "0 0 0" (kernels without scheduler statistics print that) never passes.
 */
export function reuseFigures(full: FullRead | undefined, schedstat: string | undefined, stat: ProcStat, nowMs: number): 'all' | 'status' | 'none' {
  if (full === undefined || schedstat === undefined || !(nowMs >= full.ms && nowMs - full.ms < FULL_READ_MAX_AGE_MS)) return 'none';
  if (schedstat !== full.schedstat || !/[1-9]/.test(schedstat)) return 'none';
  if (stat.minflt !== full.minflt || stat.majflt !== full.majflt) return 'none';
  return stat.threads === 1 && full.threads === 1 ? 'all' : 'status';
}

/**
 * Kernel threads seen before, not read again while they live. /proc/PID/stat of every pid is read
 * every second, and on a typical host most pids are kernel threads (63 of ~100 here), never
 * reported. A kernel thread stays one for its life, and its pid number can belong to another task
 * only once it is reaped; its /proc/PID/comm, kept open, then fails to read (ESRCH: a kept
 * descriptor belongs to the task it was opened for, proc-files.ts) and the pid is read in full
 * again. comm is about the cheapest file procfs generates: measured on this host, 63 kernel
 * threads read through kept descriptors took 75-100 us a pass for comm against 240-260 us for
 * stat, before parsing. Where descriptors are not kept (not procfs, over the bounds) every pid's
 * stat is read, as before.
 */
export class KernelThreads {
  private readonly known = new Set<number>();
  /** Pids not read in full because they are known kernel threads still alive (tests, benchmarks). */
  skipped = 0;

  constructor(
    private readonly comm: KeptProcFiles,
    private readonly stat: KeptProcFiles,
  ) {}

  /** Whether `pid` is a kernel thread seen before that still lives (its stat need not be read). */
  still(pid: number): boolean {
    if (!this.known.has(pid)) return false;
    if (this.comm.readKept(pid) !== undefined) {
      this.skipped++;
      return true;
    }
    this.known.delete(pid);
    return false;
  }

  /**
   * `pid`'s stat, just read through a kept descriptor, says it is a kernel thread: keep its comm
   * open. Its stat is read once more through the same descriptor after comm is opened by name: if
   * that task still lives then, comm was opened on it (its pid number cannot have moved on yet).
   */
  add(pid: number): void {
    if (!this.stat.isKept(pid)) return;
    if (this.comm.readPid(pid) === undefined || !this.comm.isKept(pid)) return;
    const text = this.stat.readKept(pid);
    const again = text === undefined ? undefined : parseProcStat(text);
    if (again !== undefined && isKernelThread(again)) this.known.add(pid);
  }

  /** Call once per sample: forgets the pids no longer listed (their comm was not read). */
  prune(): void {
    this.comm.prune();
    this.known.forEach((pid) => {
      if (!this.comm.isKept(pid)) this.known.delete(pid);
    });
  }
}

interface ProcState {
  pid: number;
  /** "pid:startTicks": identifies the process across pid reuse (sockets and threads use it too). */
  key: string;
  startTicks: number;
  cpuTicks: number;
  /** utime+stime at the previous sample; undefined: not seen then (started during the interval). */
  prevTicks?: number;
  /** The sample that last saw the process (states not seen in the current one are dropped). */
  seenGen: number;
  /** This sample's stat reading. */
  stat?: ProcStat;
  cpuPct: number;
  /** The last full read of status and io (reuseFigures), with what it was gated on. */
  full?: FullRead;
  /** io counters at their last reading, and when (updated in place). */
  io?: IoCounters & { ms: number };
  /** Event counters at their last reading, and when (updated in place). */
  events?: EventCounters & { ms: number };
  signatureSent: boolean;
  /** When its signature was last sent (sample time). */
  signatureSentMs: number;
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
  /** A reported process's signature is sent again once this long has passed (default SIGNATURE_RESEND_MS). */
  signatureResendMs?: number;
  /** Counts of figures reused instead of read (reuseFigures), kept up to date by the probe (tests, benchmarks). */
  reads?: ProcessReads;
  /** Receives the probe's KernelThreads (tests, benchmarks: how many stat reads it saved). */
  onKernelThreads?: (k: KernelThreads) => void;
}

/** Reported processes' status and io files not read because their figures were reused. */
export interface ProcessReads {
  /** Samples of a process whose status was reused (VmRSS and RssAnon read from statm). */
  reusedStatus: number;
  /** Of those, samples whose io counters were reused too. */
  reusedIo: number;
}

/** A day: well inside the collector's raw window (35 days by default, at least a day). */
export const SIGNATURE_RESEND_MS = 24 * 3600_000;

/** Most /proc/PID/stat descriptors kept open (one per process; beyond it, opened per read). */
export const MAX_KEPT_STAT = 4096;

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
  const signatureResendMs = opts.signatureResendMs ?? SIGNATURE_RESEND_MS;
  /** Keyed by pid; a state whose start time differs belongs to an earlier process (pid reused) and is replaced. */
  const states = new Map<number, ProcState>();
  let generation = 0;
  let prevMs: number | undefined;
  const statFiles = new KeptProcFiles(root, 'stat', MAX_KEPT_STAT);
  const statusFiles = new KeptProcFiles(root, 'status', config.maxProcesses);
  const ioFiles = new KeptProcFiles(root, 'io', config.maxProcesses);
  const schedFiles = new KeptProcFiles(root, 'schedstat', config.maxProcesses);
  const statmFiles = new KeptProcFiles(root, 'statm', config.maxProcesses);
  const kernelThreads = new KernelThreads(new KeptProcFiles(root, 'comm', MAX_KEPT_STAT), statFiles);
  opts.onKernelThreads?.(kernelThreads);
  const kbPerPage = pageKb(root);
  const reads = opts.reads ?? { reusedStatus: 0, reusedIo: 0 };

  /**
   * Status fields and io counters of a reported process: reused from its last full read while
   * reuseFigures allows (VmRSS and RssAnon then from statm), else read. Undefined: the process
   * exited since its stat was read.
   */
  function figuresOf(state: ProcState, stat: ProcStat, nowMs: number): { status: StatusFields; io: IoCounters | undefined } | undefined {
    const { pid } = state;
    // Before status and io: a run after this read shows in the next sample's schedstat.
    const schedstat = schedFiles.readPid(pid);
    const full = state.full;
    const reuse = reuseFigures(full, schedstat, stat, nowMs);
    if (reuse !== 'none') {
      const statmText = statmFiles.readPid(pid);
      const mem = statmText === undefined ? undefined : parseStatm(statmText, kbPerPage);
      if (mem !== undefined) {
        // The fields in parseStatus' order (one shape with a full read's; no spread per process per second).
        const last = full!.status;
        const status: StatusFields = { rssKb: mem.rssKb, uid: last.uid, voluntaryCtxsw: last.voluntaryCtxsw, nonvoluntaryCtxsw: last.nonvoluntaryCtxsw, rssAnonKb: mem.rssAnonKb, hugetlbKb: last.hugetlbKb };
        reads.reusedStatus++;
        if (reuse === 'all') {
          reads.reusedIo++;
          return { status, io: full!.io };
        }
        return { status, io: parseIo(ioFiles.readPid(pid)) };
      }
    }
    const statusText = statusFiles.readPid(pid);
    if (statusText === undefined) return undefined;
    const status = parseStatus(statusText);
    const io = parseIo(ioFiles.readPid(pid));
    state.full = schedstat === undefined ? undefined : { ms: nowMs, schedstat, minflt: stat.minflt, majflt: stat.majflt, threads: stat.threads, status, io };
    return { status, io };
  }

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
    const gen = ++generation;
    const seen: ProcState[] = [];
    // The loops below are indexed (and Maps walked by forEach), not for-of: this closure runs once
    // a second, so V8 optimizes it only minutes after start, and until then every for-of step
    // allocated an iterator result (measured: ~40 KB/s of the agent's ~490 KB/s of garbage).
    const pids = listPids(root);
    for (let p = 0; p < pids.length; p++) {
      const pid = pids[p]!;
      if (kernelThreads.still(pid)) continue;
      const text = statFiles.readPid(pid);
      const stat = text === undefined ? undefined : parseProcStat(text);
      if (!stat) continue;
      if (isKernelThread(stat)) {
        kernelThreads.add(pid);
        continue;
      }
      let state = states.get(pid);
      if (state === undefined || state.startTicks !== stat.startTicks) {
        // Not seen last time = started during the interval (prevTicks undefined: all its ticks belong to it).
        state = { pid, key: `${pid}:${stat.startTicks}`, startTicks: stat.startTicks, cpuTicks: stat.cpuTicks, seenGen: gen, cpuPct: 0, signatureSent: false, signatureSentMs: 0 };
        states.set(pid, state);
      } else {
        state.prevTicks = state.cpuTicks;
        state.cpuTicks = stat.cpuTicks;
      }
      state.seenGen = gen;
      state.stat = stat;
      seen.push(state);
    }
    // Processes that vanished (or whose stat could not be read) are forgotten here.
    states.forEach((state, pid) => {
      if (state.seenGen !== gen) states.delete(pid);
    });
    statFiles.prune();
    kernelThreads.prune();

    const lastMs = prevMs;
    prevMs = nowMs;
    const dtSec = lastMs === undefined ? 0 : (nowMs - lastMs) / 1000;
    if (!(dtSec > 0)) return {};

    for (let i = 0; i < seen.length; i++) {
      const st = seen[i]!;
      st.cpuPct = round((100 * perSecond(st.cpuTicks, st.prevTicks ?? 0, dtSec)) / hz, 2);
    }
    seen.sort((a, b) => b.cpuPct - a.cpuPct || b.stat!.rssPages - a.stat!.rssPages || a.pid - b.pid);

    const processes: assay.v1.Process.$Properties[] = [];
    const reported: ProcState[] = [];
    const awaited: { proc: assay.v1.Process.$Properties; state: ProcState }[] = [];
    busyThreads.begin();
    for (let i = 0; i < seen.length; i++) {
      const state = seen[i]!;
      if (processes.length >= config.maxProcesses) break;
      const { pid, key } = state;
      const stat = state.stat!;
      const isNew = state.prevTicks === undefined;
      const figures = figuresOf(state, stat, nowMs);
      if (figures === undefined) continue; // exited since its stat was read
      const { status } = figures;
      const threads = busyThreads.count(pid, key, state.cpuPct, stat.threads, dtSec, isNew);
      // Every Process is built by this one literal, every field present in the same order (the
      // order the earlier spreads gave), so all of them share one hidden class: Process.encode and
      // quantize.ts see one shape instead of the several that conditional spreads made (each a
      // polymorphic access and, as shapes came and went, deopts and recompiles). A field the
      // sample does not carry stays undefined, which protobufjs skips exactly like an absent one.
      const proc: assay.v1.Process.$Properties = {
        pid,
        ppid: stat.ppid,
        name: stat.comm,
        startTimeTicks: stat.startTicks,
        cpuPct: state.cpuPct,
        rssBytes: (status.rssKb ?? 0) * 1024,
        threads: stat.threads,
        state: stat.state,
        uid: status.uid ?? 0,
        readBytesPerSec: 0,
        writeBytesPerSec: 0,
        rcharPerSec: 0,
        wcharPerSec: 0,
        extended: false,
        minfltPerSec: undefined,
        majfltPerSec: undefined,
        voluntaryCtxswPerSec: undefined,
        nonvoluntaryCtxswPerSec: undefined,
        nice: undefined,
        schedPolicy: undefined,
        rssAnonBytes: undefined,
        hugetlbBytes: undefined,
        busyThreads: threads.busy,
        socketView: undefined,
        signature: undefined,
      };
      setIoRates(proc, figures.io, state, isNew, nowMs, lastMs!);
      setExtendedCounters(proc, stat, status, state, isNew, nowMs, lastMs!, threads.otherCtxsw);
      processes.push(proc);
      reported.push(state);
      if (!state.signatureSent || nowMs - state.signatureSentMs >= signatureResendMs) {
        if (!state.signature) {
          const building: NonNullable<ProcState['signature']> = { built: signatureOf(pid).then((sig) => void (building.ready = sig)) };
          state.signature = building;
        }
        awaited.push({ proc, state });
      }
    }
    busyThreads.end();
    statusFiles.prune();
    ioFiles.prune();
    schedFiles.prune();
    statmFiles.prune();

    const out: ProbeOutput = { processes, processesTotal: seen.length };
    const reading = sockets.read(nowMs, seen, reported);
    if (isUnavailable(reading)) {
      out.unavailable = [{ probe: 'sockets', reason: reading.unavailable }];
      out.socketAttribution = { complete: false, reason: reading.unavailable };
    } else {
      out.sockets = reading.sockets;
      out.socketAttribution = reading.attribution;
      for (let i = 0; i < processes.length; i++) processes[i]!.socketView = VIEW[reading.views.get(reported[i]!.key)!];
    }
    // A large new executable (hash + marker scan, ~6 ms/MiB) must not hold the sample past the
    // sampler's probe timeout: signatures not ready in SIGNATURE_WAIT_MS are sent with a later
    // sample (the read goes on and is cached).
    if (awaited.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(awaited.map((a) => a.state.signature!.built)), new Promise((r) => (timer = setTimeout(r, signatureWaitMs)))]);
      clearTimeout(timer);
    }
    for (const { proc, state } of awaited) {
      const ready = state.signature!.ready;
      if (!ready) continue; // still building: a later sample carries it
      // Streaming to a collector, a new process's signature byte-identical to one sent in full
      // recently goes as a reference (agent/signature-refs.ts); a process's resend goes in full.
      proc.signature = config.sentSignatures ? config.sentSignatures.attach(ready, nowMs, !state.signatureSent) : ready;
      state.signatureSent = true;
      state.signatureSentMs = nowMs;
      state.signature = undefined;
    }
    return out;
  });
}

/**
 * Page-fault and context-switch rates since this process's counters were last read, with the
 * gauges read alongside (see the top of this file for when `extended` is true), written into
 * `proc`. Needs the stat line's policy field and the status ctxt lines; without them extended
 * stays false and the other fields unset. The kept ctxsw counters are the leader's; `otherCtxsw`
 * (the other threads' switches over this sample's interval, when threads.ts walked them) is added
 * to the leader's delta. The process's kept counters are updated in place (no objects per sample).
 */
function setExtendedCounters(
  proc: assay.v1.Process.$Properties,
  stat: ProcStat,
  status: StatusFields,
  state: ProcState,
  isNew: boolean,
  nowMs: number,
  lastMs: number,
  otherCtxsw: ThreadCtxsw | undefined,
): void {
  const vol = status.voluntaryCtxsw;
  const nonvol = status.nonvoluntaryCtxsw;
  if (vol === undefined || nonvol === undefined || stat.policy === undefined) return;
  let events = state.events;
  let had = events !== undefined;
  if (events === undefined) {
    // First reading: a process started during the interval has all its counts in it (a zero baseline at the last sample).
    events = state.events = { minflt: 0, majflt: 0, voluntaryCtxsw: 0, nonvoluntaryCtxsw: 0, ms: lastMs };
    had = isNew;
  }
  const dt = had ? (nowMs - events.ms) / 1000 : 0;
  const live = had && dt > 0;
  proc.extended = had;
  proc.minfltPerSec = live ? round(perSecond(stat.minflt, events.minflt, dt)) : 0;
  proc.majfltPerSec = live ? round(perSecond(stat.majflt, events.majflt, dt)) : 0;
  proc.voluntaryCtxswPerSec = live ? round(perSecond(vol, events.voluntaryCtxsw, dt) + (otherCtxsw === undefined ? 0 : otherCtxsw.voluntary) / dt) : 0;
  proc.nonvoluntaryCtxswPerSec = live ? round(perSecond(nonvol, events.nonvoluntaryCtxsw, dt) + (otherCtxsw === undefined ? 0 : otherCtxsw.nonvoluntary) / dt) : 0;
  proc.nice = stat.nice;
  proc.schedPolicy = stat.policy;
  proc.rssAnonBytes = (status.rssAnonKb ?? 0) * 1024;
  proc.hugetlbBytes = (status.hugetlbKb ?? 0) * 1024;
  events.minflt = stat.minflt;
  events.majflt = stat.majflt;
  events.voluntaryCtxsw = vol;
  events.nonvoluntaryCtxsw = nonvol;
  events.ms = nowMs;
}

/**
 * io rates since the last io reading of this process, written into `proc` (which starts at zeros).
 * /proc/PID/io needs ptrace rights (root or same user); unreadable → zeros. A process reported for
 * the first time gets zeros unless it started during this interval (then all of its counters
 * belong to the interval). The kept counters are updated in place.
 */
function setIoRates(proc: assay.v1.Process.$Properties, cur: IoCounters | undefined, state: ProcState, isNew: boolean, nowMs: number, lastMs: number): void {
  if (!cur) return;
  let io = state.io;
  let had = io !== undefined;
  if (io === undefined) {
    io = state.io = { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0, ms: lastMs };
    had = isNew;
  }
  if (had) {
    const dt = (nowMs - io.ms) / 1000;
    proc.readBytesPerSec = round(perSecond(cur.readBytes, io.readBytes, dt));
    proc.writeBytesPerSec = round(perSecond(cur.writeBytes, io.writeBytes, dt));
    proc.rcharPerSec = round(perSecond(cur.rchar, io.rchar, dt));
    proc.wcharPerSec = round(perSecond(cur.wchar, io.wchar, dt));
  }
  io.rchar = cur.rchar;
  io.wchar = cur.wchar;
  io.readBytes = cur.readBytes;
  io.writeBytes = cur.writeBytes;
  io.ms = nowMs;
}

export const processesProbe: ProbeFactory = (config) => createProcessesProbe(config);
