// Per-thread counters of busy processes, from one walk of /proc/PID/task:
// - busy_threads: how many of a process's threads used >= 50 % of a core over the interval, from
//   /proc/PID/task/TID/stat utime+stime deltas;
// - the context switches of the process's other threads (not the leader) over the interval, from
//   the voluntary/nonvoluntary_ctxt_switches lines of /proc/PID/task/TID/status. /proc/PID/status
//   shows the thread-group leader's counts only (fs/proc/array.c prints the task's own nvcsw and
//   nivcsw), so a busy multi-threaded process whose leader sleeps would show ~0 switches.
//   processes.ts adds these to the leader's counts.
//
// Cost is bounded three ways: only processes using >= BUSY_PROCESS_MIN_PCT of a core are read (a
// process under 50 % cannot have a thread over 50 %, so below 20 % the answer 0 is exact, not a
// guess), a single-threaded process needs no task read at all (its one thread is the process), and
// at most MAX_THREADS_READ threads are read per process. Per-thread ticks live in one map that is
// rebuilt every sample, so it holds only threads read in the last sample.
//
// A thread seen for the first time has no previous reading and does not count as busy in that
// sample (its ticks since it started cannot be placed in the interval): a process's busy threads
// show from its second sample at >= 20 %.
//
// Context switches are summed over the threads present in both readings (delta per thread, and a
// thread whose count went backwards, a reused tid, adds 0): a thread that exits during the interval
// drops out of the sum instead of making it go down (a rate from process-wide totals would turn
// negative, or clamp to a false 0, whenever a thread with many switches exits). The cost is that
// the switches of a thread born or exited within the interval are not counted, and in a process's
// first sample at >= 20 % only its leader's are (no thread was read before), except for a process
// born in the interval, whose threads all count from zero.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isProcfs, KeptFiles } from './proc-files.js';

export const BUSY_THREAD_PCT = 50;
export const BUSY_PROCESS_MIN_PCT = 20;
export const MAX_THREADS_READ = 256;
/** Most thread stat (and as many status) descriptors kept open between samples (proc-files.ts). */
export const MAX_KEPT_THREAD_FILES = 1024;

/** utime + stime of a /proc/PID/task/TID/stat line (fields 14 and 15). */
function threadTicks(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  const t = Number(f[11]) + Number(f[12]);
  return Number.isFinite(t) ? t : undefined;
}

/** Reads only the two ctxt lines of a /proc/PID/task/TID/status file: [voluntary, nonvoluntary]. */
export function parseCtxsw(text: string): [number, number] | undefined {
  const value = (key: string): number => {
    const at = text.indexOf(key); // keys start a line: the leading \n keeps "voluntary" out of "nonvoluntary"
    return at < 0 ? Number.NaN : Number.parseInt(text.slice(at + key.length, at + key.length + 24).trim(), 10);
  };
  const v = value('\nvoluntary_ctxt_switches:');
  const n = value('\nnonvoluntary_ctxt_switches:');
  return Number.isFinite(v) && Number.isFinite(n) ? [v, n] : undefined;
}

/** Context switches of a process's non-leader threads over the interval. */
export interface ThreadCtxsw {
  voluntary: number;
  nonvoluntary: number;
}

export interface ThreadReading {
  readonly busy: number;
  /** Set only when the threads were walked; undefined: the leader's counts are all there is. */
  readonly otherCtxsw: ThreadCtxsw | undefined;
}

/**
 * The readings of a process whose threads are not walked (most, every second), shared: no object
 * per process per sample, and one shape with the walked readings.
 */
const NONE_BUSY: ThreadReading = Object.freeze({ busy: 0, otherCtxsw: undefined });
const ONE_BUSY: ThreadReading = Object.freeze({ busy: 1, otherCtxsw: undefined });

/** One thread's counters at the last sample (either file may have been unreadable). */
interface ThreadCounters {
  ticks?: number;
  ctxsw?: [number, number];
}

export class BusyThreads {
  /** "pid:start:tid" → counters at the last sample. */
  private last = new Map<string, ThreadCounters>();
  private next = new Map<string, ThreadCounters>();
  /** Thread stat files read (benchmarks and tests look at it). */
  threadsRead = 0;
  /** Thread status files read for context switches (the leader's is never read here). */
  statusRead = 0;

  /** Busy threads are read every sample while busy: through kept descriptors, like processes.ts. */
  private readonly statFiles: KeptFiles;
  private readonly statusFiles: KeptFiles;

  constructor(private readonly procRoot: string, private readonly hz: number) {
    const procfs = isProcfs(procRoot);
    this.statFiles = new KeptFiles(procfs, MAX_KEPT_THREAD_FILES);
    this.statusFiles = new KeptFiles(procfs, MAX_KEPT_THREAD_FILES);
  }

  /** Threads whose ticks are kept for the next sample. */
  get tracked(): number {
    return this.last.size;
  }

  /** Call once per sample before `count`. */
  begin(): void {
    this.next.clear();
  }

  /** Call once per sample after the last `count`: threads not read this sample are forgotten. */
  end(): void {
    // The two maps swap roles (no new map per sample); begin() empties the one to fill.
    const last = this.last;
    this.last = this.next;
    this.next = last;
    this.statFiles.prune();
    this.statusFiles.prune();
  }

  /**
   * Busy threads and other threads' context switches of one process (`key` = "pid:startTicks")
   * over `dtSec`; `bornInInterval`: the process started during the interval, so its threads'
   * context switches all belong to it.
   */
  count(pid: number, key: string, cpuPct: number, threads: number, dtSec: number, bornInInterval = false): ThreadReading {
    if (cpuPct < BUSY_PROCESS_MIN_PCT || !(dtSec > 0)) return NONE_BUSY;
    if (threads <= 1) return cpuPct >= BUSY_THREAD_PCT ? ONE_BUSY : NONE_BUSY;
    const dir = join(this.procRoot, String(pid), 'task');
    let tids: string[];
    try {
      tids = readdirSync(dir);
    } catch {
      return NONE_BUSY; // exited meanwhile
    }
    const leader = String(pid);
    let busy = 0;
    const otherCtxsw: ThreadCtxsw = { voluntary: 0, nonvoluntary: 0 };
    for (const tid of tids.slice(0, MAX_THREADS_READ)) {
      const tkey = `${key}:${tid}`;
      const prev = this.last.get(tkey);
      const cur: ThreadCounters = { ticks: undefined, ctxsw: undefined };
      const tidNum = Number(tid);
      const text = this.statFiles.read(tidNum, () => join(dir, tid, 'stat'));
      this.threadsRead++;
      cur.ticks = text === undefined ? undefined : threadTicks(text);
      if (cur.ticks !== undefined && prev?.ticks !== undefined && cur.ticks >= prev.ticks && (100 * (cur.ticks - prev.ticks)) / this.hz / dtSec >= BUSY_THREAD_PCT) busy++;
      if (tid !== leader) {
        const status = this.statusFiles.read(tidNum, () => join(dir, tid, 'status'));
        this.statusRead++;
        cur.ctxsw = status === undefined ? undefined : parseCtxsw(status);
        const base = prev?.ctxsw ?? (bornInInterval ? [0, 0] : undefined);
        if (cur.ctxsw && base) {
          otherCtxsw.voluntary += Math.max(0, cur.ctxsw[0] - base[0]);
          otherCtxsw.nonvoluntary += Math.max(0, cur.ctxsw[1] - base[1]);
        }
      }
      if (cur.ticks !== undefined || cur.ctxsw !== undefined) this.next.set(tkey, cur);
    }
    return { busy, otherCtxsw };
  }
}
