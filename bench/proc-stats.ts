// What a benchmark reads about another process from /proc: CPU ticks and resident memory.
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/PID/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** utime + stime of a process, in clock ticks. */
export function cpuTicks(pid: number, path = `/proc/${pid}/stat`): number {
  // Fields after the parenthesised comm: utime and stime are the 12th and 13th.
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** utime and stime of a process, in clock ticks. */
export function userSystemTicks(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), system: Number(f[12]) };
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
