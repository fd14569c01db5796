// busy_threads: how many of a process's threads used >= 50 % of a core over the interval, from
// /proc/PID/task/TID/stat utime+stime deltas.
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
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readOptional } from './util.js';

export const BUSY_THREAD_PCT = 50;
export const BUSY_PROCESS_MIN_PCT = 20;
export const MAX_THREADS_READ = 256;

/** utime + stime of a /proc/PID/task/TID/stat line (fields 14 and 15). */
function threadTicks(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  const t = Number(f[11]) + Number(f[12]);
  return Number.isFinite(t) ? t : undefined;
}

export class BusyThreads {
  /** "pid:start:tid" → utime+stime at the last sample. */
  private ticks = new Map<string, number>();
  private next = new Map<string, number>();
  /** Thread stat files read (benchmarks and tests look at it). */
  threadsRead = 0;

  constructor(private readonly procRoot: string, private readonly hz: number) {}

  /** Threads whose ticks are kept for the next sample. */
  get tracked(): number {
    return this.ticks.size;
  }

  /** Call once per sample before `count`. */
  begin(): void {
    this.next = new Map();
  }

  /** Call once per sample after the last `count`: threads not read this sample are forgotten. */
  end(): void {
    this.ticks = this.next;
  }

  /** Busy threads of one process (`key` = "pid:startTicks") over `dtSec`. */
  count(pid: number, key: string, cpuPct: number, threads: number, dtSec: number): number {
    if (cpuPct < BUSY_PROCESS_MIN_PCT || !(dtSec > 0)) return 0;
    if (threads <= 1) return cpuPct >= BUSY_THREAD_PCT ? 1 : 0;
    const dir = join(this.procRoot, String(pid), 'task');
    let tids: string[];
    try {
      tids = readdirSync(dir);
    } catch {
      return 0; // exited meanwhile
    }
    let busy = 0;
    for (const tid of tids.slice(0, MAX_THREADS_READ)) {
      const text = readOptional(join(dir, tid, 'stat'));
      this.threadsRead++;
      const t = text === undefined ? undefined : threadTicks(text);
      if (t === undefined) continue;
      const tkey = `${key}:${tid}`;
      this.next.set(tkey, t);
      const prev = this.ticks.get(tkey);
      if (prev !== undefined && t >= prev && (100 * (t - prev)) / this.hz / dtSec >= BUSY_THREAD_PCT) busy++;
    }
    return busy;
  }
}
