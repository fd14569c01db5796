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

/**
 * Resident memory of a process by mapping (/proc/PID/smaps Rss, kB): file mappings by file name
 * (the node binary, native addons, libraries), "[heap]" (malloc's brk heap) and "anon" (everything
 * else anonymous: V8's heap, thread stacks, malloc's mmaps).
 */
export function rssByMapping(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!.trim();
      name = path === '' || (path.startsWith('[') && path !== '[heap]') ? 'anon' : path;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(name, (out.get(name) ?? 0) + Number(rss[1]));
  }
  return out;
}
