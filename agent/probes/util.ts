// Small helpers shared by the probes: safe procfs reads, counter rates, the never-throw wrapper.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Probe, ProbeOutput, Unavailable } from './probe.js';
import { unavailable } from './probe.js';

/**
 * Reads a small procfs/sysfs file synchronously. Sync is deliberate: these files are generated
 * in memory by the kernel, a read costs a few microseconds and avoids promise overhead per file.
 */
export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Like readText, but `undefined` when the file cannot be read (gone, no permission, ...). */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readlinkOptional(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Node's errno code (`ENOENT`, `EACCES`, ...) or undefined for other errors. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short human reason for an error, used in `unavailable(...)`. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Numeric directory names under procRoot, i.e. the visible processes (thread groups). */
export function listPids(procRoot: string): number[] {
  const pids: number[] = [];
  const names = readdirSync(procRoot);
  // Indexed, not for-of: no iterator result per entry while this runs unoptimized.
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/**
 * Per-second rate of a monotonically increasing counter. A counter that went backwards (device
 * re-created, counter reset) yields 0 for this interval rather than a huge bogus value.
 */
export function perSecond(cur: number, prev: number, dtSec: number): number {
  if (!(dtSec > 0) || cur < prev) return 0;
  return (cur - prev) / dtSec;
}

/** Rounds to `digits` decimals so outputs are stable and tests can compare exactly. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Parses `Key:   123 kB` lines (meminfo, status) into a map of the first number on each line. */
export function parseKeyNumbers(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const n = Number.parseInt(line.slice(colon + 1).trim(), 10);
    if (Number.isFinite(n)) out.set(line.slice(0, colon), n);
  }
  return out;
}

/**
 * The `nth` (0-based) number after `key` (e.g. "VmRSS:", "Uid:") where `key` starts a line of
 * `text`, or undefined. For the few fields a probe needs out of a status-style file, a targeted
 * search instead of a map of every line (parseKeyNumbers): no per-line strings, several times
 * cheaper on /proc/PID/status. Values are unsigned decimal integers.
 */
export function lineNumber(text: string, key: string, nth = 0): number | undefined {
  let at: number;
  if (text.startsWith(key)) at = key.length;
  else {
    const i = text.indexOf(`\n${key}`);
    if (i < 0) return undefined;
    at = i + 1 + key.length;
  }
  for (let k = 0; ; k++) {
    let c = text.charCodeAt(at);
    while (c === 32 || c === 9) c = text.charCodeAt(++at);
    let n = 0;
    const start = at;
    while (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      c = text.charCodeAt(++at);
    }
    if (at === start) return undefined;
    if (k === nth) return n;
  }
}

/**
 * Wraps a collect function so the probe can never throw into the sampler: any exception
 * becomes `unavailable(reason)`.
 */
export function guardedProbe(name: string, collect: (nowMs: number) => Promise<ProbeOutput | Unavailable> | ProbeOutput | Unavailable): Probe {
  return {
    name,
    async collect(nowMs: number): Promise<ProbeOutput | Unavailable> {
      try {
        return await collect(nowMs);
      } catch (err) {
        return unavailable(reasonOf(err));
      }
    },
  };
}
