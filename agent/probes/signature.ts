// Pure parsers for the parts of a ProcessSignature (used by processes.ts).
import { basename } from 'node:path';

/** Command line with NULs as spaces, cut to `maxBytes` bytes without splitting a UTF-8 character. */
export function formatCmdline(raw: Buffer, maxBytes: number): { cmdline: string; truncated: boolean } {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--; // the kernel ends every argument with NUL
  let buf = raw.subarray(0, end);
  let truncated = false;
  if (buf.length > maxBytes) {
    truncated = true;
    let cut = maxBytes;
    // Step back over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character start.
    while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--;
    buf = buf.subarray(0, cut);
  }
  const out = Buffer.from(buf); // a copy: the caller's buffer is left alone
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = 0x20;
  return { cmdline: out.toString('utf8'), truncated };
}

/** Shared objects: libfoo.so, libcuda.so.1, libcudart.so.12.2.140, addon.node. */
const LIB = /\.so(\.\d+)*$|\.node$/;

/** Basenames of shared objects mapped by the process (from /proc/PID/maps), deduped and sorted. */
export function parseLibs(maps: string): string[] {
  const libs = new Set<string>();
  for (const line of maps.split('\n')) {
    // Most lines map no shared object (anonymous memory, the executable, data files): a name
    // LIB matches contains ".so" or ".node", so other lines skip the regex.
    if (!line.includes('.so') && !line.includes('.node')) continue;
    // address perms offset dev inode [pathname]; the pathname may contain spaces.
    const m = line.match(/^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/);
    if (!m) continue;
    const path = m[1]!.replace(/ \(deleted\)$/, '');
    const name = basename(path);
    if (LIB.test(name)) libs.add(name);
  }
  return [...libs].sort();
}

/** Longest environment an agent will look at; names beyond this are ignored. */
const MAX_ENV_NAMES = 512;

/** Variable NAMES from /proc/PID/environ, deduped and sorted. Values are never kept. */
export function parseEnvNames(environ: Buffer): string[] {
  const names = new Set<string>();
  let start = 0;
  while (start < environ.length && names.size < MAX_ENV_NAMES) {
    let end = environ.indexOf(0, start);
    if (end < 0) end = environ.length;
    const eq = environ.indexOf(0x3d /* = */, start);
    if (eq > start && eq < end) names.add(environ.toString('utf8', start, eq));
    start = end + 1;
  }
  return [...names].sort();
}

/**
 * The cgroup path that says where the process lives: the cgroup v2 line (`0::/path`) when it is
 * not the root, otherwise the first v1 line with a non-root path, otherwise "/".
 */
export function pickCgroup(text: string): string {
  const entries = text
    .split('\n')
    .map((l) => l.match(/^(\d+):([^:]*):(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ id: m[1]!, path: m[3]! }));
  const unified = entries.find((e) => e.id === '0');
  if (unified && unified.path !== '/') return unified.path;
  return entries.find((e) => e.path !== '/' && e.path !== '')?.path ?? unified?.path ?? '';
}

const CONTAINER_PATTERNS: RegExp[] = [
  /(?:docker-|cri-containerd-|crio-|libpod-)([0-9a-f]{64})\.scope/, // systemd cgroup driver
  /\/(?:docker|libpod|crio)\/([0-9a-f]{64})(?:\/|$)/, // cgroupfs driver
  /kubepods\S*\/([0-9a-f]{64})(?:\/|$)/, // kubernetes, cgroupfs driver
];

/** Container id from a /proc/PID/cgroup text (any line), or "" for processes outside containers. */
export function containerIdFromCgroup(text: string): string {
  for (const line of text.split('\n')) {
    for (const re of CONTAINER_PATTERNS) {
      const m = line.match(re);
      if (m) return m[1]!;
    }
  }
  return '';
}
