// TCP/UDP sockets, read per network namespace and attributed to their owning process.
//
// Processes are grouped by /proc/PID/ns/net (`net:[inode]`) and each namespace's tables are read
// once through one of its pids (/proc/PID/net/tcp ...), so containers' sockets are not invisible.
// Owners come from /proc/PID/fd/* links `socket:[inode]`; that scan is the expensive part, so
// inode→pids answers are cached and fds are only scanned again when a reported socket is unknown
// (the reported processes first, the others only if a socket is still unowned), plus once for
// each process the caller reports (its view: were its fds readable at all). A socket shared by a
// reported and an unreported process may so be known by its reported holder only.
// The agent runs SocketTracker inside the processes probe; createSocketsProbe is the tracker alone.
//
// Cost: reading /proc/net/tcp{,6} walks the kernel's whole TCP hash table on every read(), however
// few sockets exist (about 2 ms per walk on a 24 GiB host; the empty read() that usually ends a
// file would walk it a second time, which readProcTable avoids), and the table is shared by all
// namespaces. So the tables are
// re-read at most every TABLE_REFRESH_MS, and only when the namespaces' socket counters moved
// (net/sockstat in-use and TIME_WAIT counts, net/snmp TCP opens, resets and established count: a
// few cheap counters); while they stay still the tables are re-read every TABLE_MAX_AGE_MS anyway
// (a listener closed and another opened between two reads leaves the counts alike). In between,
// the last rows are reported again (owners re-checked each time). Each process's network
// namespace link is read once and again every TABLE_MAX_AGE_MS, not at every refresh.
//
// Reported: every listening socket (TCP LISTEN, UDP UNCONN), up to MAX_LISTENING, then up to
// MAX_OTHER others, ESTABLISHED first. pid 0 = owner unknown (no owner at all for inode 0 rows,
// gone, or not ours to inspect: a non-root agent sees only its own processes' fds and
// namespaces); the reading's views and attribution say which processes' lists are exact.
// Left out: sockets with no owner that are neither listening nor ESTABLISHED (TIME_WAIT and the
// other closing states; on a busy host most rows are ownerless TIME_WAIT). Nothing reads them:
// the engine attributes only owned sockets to processes and takes only unowned listeners and
// established peers into host features, the dashboard and reports show listeners and
// established peers. They are counted per protocol and state instead
// (SocketAttribution.unowned_omitted). Ownerless inode 0 rows are left out before the cap, so
// they no longer crowd owned sockets out of it.
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import { decodeEndpoint, stateName } from './inet.js';
import { readProcTable } from './proc-files.js';
import type { Probe, ProbeConfig, ProbeFactory } from './probe.js';
import { isUnavailable, unavailable, type Unavailable } from './probe.js';
import { errnoCode, guardedProbe, listPids, readOptional, readlinkOptional } from './util.js';

export const MAX_LISTENING = 1024;
export const MAX_OTHER = 256;
export const TABLE_REFRESH_MS = 5000;
/** Longest the tables are reused while the socket counters stay still (and the age of a cached namespace link). */
export const TABLE_MAX_AGE_MS = 30_000;
const PROTOCOLS = ['tcp', 'tcp6', 'udp', 'udp6'] as const;

/** One row of a socket table, before pid attribution. */
export interface SocketRow {
  protocol: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  inode: number;
  netNs: number;
}

/** Inode out of a `net:[4026531833]` or `socket:[12345]` link target. */
export function linkInode(target: string | undefined, kind: string): number | undefined {
  if (!target?.startsWith(`${kind}:[`) || !target.endsWith(']')) return undefined;
  const n = Number(target.slice(kind.length + 2, -1));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Scratch for the first ten fields of a table line (reused: tables are read every few seconds). */
const tableFields: string[] = new Array<string>(10);

/**
 * Splits `line` at runs of spaces and tabs into `out` (up to out.length fields); returns how
 * many it found. Same fields as line.trim().split(/\s+/) without a string per remaining field.
 */
function leadingFields(line: string, out: string[]): number {
  let n = 0;
  let i = 0;
  const end = line.length;
  while (n < out.length) {
    while (i < end && isBlank(line.charCodeAt(i))) i++;
    if (i >= end) break;
    const start = i;
    while (i < end && !isBlank(line.charCodeAt(i))) i++;
    out[n++] = line.slice(start, i);
  }
  return n;
}

const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 11 || c === 12;

export function parseSocketTable(text: string, protocol: string, netNs: number): SocketRow[] {
  const rows: SocketRow[] = [];
  const addresses = new Map<string, string | undefined>();
  const f = tableFields;
  // Line by line without splitting the table; the first line is the header.
  let at = text.indexOf('\n') + 1;
  while (at > 0 && at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.slice(at, nl);
    at = nl + 1;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if (leadingFields(line, f) < 10) continue;
    const local = decodeEndpoint(f[1]!, addresses);
    const remote = decodeEndpoint(f[2]!, addresses);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isSafeInteger(inode)) continue;
    rows.push({
      protocol,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: stateName(protocol, f[3]!),
      inode,
      netNs,
    });
  }
  return rows;
}

function isListening(r: { state?: string | null }): boolean {
  return r.state === 'LISTEN' || r.state === 'UNCONN';
}

/**
 * Whether a socket row is reported only when it has an owner: neither listening nor ESTABLISHED
 * (TIME_WAIT, CLOSE_WAIT, FIN_WAIT1, ...). See the top of this file.
 */
export function ownedOnly(r: { state?: string | null }): boolean {
  return !isListening(r) && r.state !== 'ESTABLISHED';
}

/**
 * Splits attributed sockets into those reported and the count of those left out (unowned rows of
 * states `ownedOnly` names), per protocol and state, sorted; `ownerless` are rows known to have
 * no owner that are counted among the left out without being looked at again (the agent's inode
 * 0 closing rows, thousands on a busy host). The agent applies it to every reading; tests and
 * bench/payload-sizes.ts apply it to recorded traces.
 */
export function omitUnowned<T extends { protocol?: string | null; state?: string | null; pid?: number | null }>(
  sockets: readonly T[],
  ownerless: readonly { protocol?: string | null; state?: string | null }[] = [],
): { kept: T[]; omitted: assay.v1.ISocketCount[] } {
  const kept: T[] = [];
  const counts = new Map<string, assay.v1.ISocketCount>();
  const count = (s: { protocol?: string | null; state?: string | null }): void => {
    const protocol = s.protocol ?? '';
    const state = s.state ?? '';
    const k = `${protocol}\0${state}`;
    const c = counts.get(k);
    if (c) c.count = (c.count ?? 0) + 1;
    else counts.set(k, { protocol, state, count: 1 });
  };
  for (const s of ownerless) count(s);
  for (const s of sockets) {
    if (s.pid || !ownedOnly(s)) kept.push(s);
    else count(s);
  }
  const omitted = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  return { kept, omitted };
}

/** The sockets worth reporting, in the order described at the top of this file. */
export function selectSockets(rows: SocketRow[]): SocketRow[] {
  const listening = rows.filter(isListening).slice(0, MAX_LISTENING);
  const others = rows.filter((r) => !isListening(r));
  const established = others.filter((r) => r.state === 'ESTABLISHED');
  const rest = others.filter((r) => r.state !== 'ESTABLISHED');
  return [...listening, ...[...established, ...rest].slice(0, MAX_OTHER)];
}

export interface SocketsProbeOptions {
  /** Minimum age of the cached tables before they are read again (0: every call). */
  refreshMs?: number;
}

/** Whether a process's fd table could be read, as the proto's SocketView names it. */
export type FdView = 'read' | 'unreadable';

/** A process the caller reports and wants a socket view for (key = "pid:startTicks"). */
export interface Watched {
  pid: number;
  key: string;
}

export interface SocketReading {
  sockets: assay.v1.Socket.$Properties[];
  /** View of each watched process's fd table (key → view). */
  views: Map<string, FdView>;
  attribution: assay.v1.SocketAttribution.$Properties;
}

/**
 * Socket tables and their owners, kept across samples. `read(nowMs, pids, watched)` is called once
 * per sample by the processes probe, which reports each watched process's socket view: the
 * process's sockets in the sample are all of them (view "read") or unknown ("unreadable").
 *
 * Why a socket can have pid 0 (measured on the corpus host, running as root): inode 0 rows
 * (TIME_WAIT, closing) have no owner at all, and a few processes hide their fd links even from
 * root (the sandbox's init: readdir works, readlink fails with EACCES). Both are reported as such
 * (attribution incomplete, that process "unreadable") instead of being silently dropped.
 */
export class SocketTracker {
  private readonly root: string;
  private readonly refreshMs: number;
  private tables: { rows: SocketRow[]; nsPids: Map<number, number[]>; nsUnknown: number; readMs: number } | undefined;
  /**
   * inode → pids holding it (a listener shared by forked workers has several), kept across
   * samples; entries die with their socket or process.
   */
  private readonly owners = new Map<number, number[]>();
  /** Inodes whose owner a full scan could not find; not rescanned while the socket lives. */
  private readonly unowned = new Set<number>();
  /** "pid:startTicks" → fd table view from its last scan; pruned to the processes alive. */
  private fdViews = new Map<string, FdView>();
  /** "pid:startTicks" → its network namespace inode (undefined: unreadable) and when it was read. */
  private readonly nsOf = new Map<string, { ns: number | undefined; readMs: number }>();
  /** Socket counters of every namespace at the last table read; undefined: not readable. */
  private counters: string | undefined;
  /** Socket tables read so far (tests). */
  tableReads = 0;

  constructor(config: ProbeConfig, opts: SocketsProbeOptions = {}) {
    this.root = config.procRoot;
    this.refreshMs = opts.refreshMs ?? TABLE_REFRESH_MS;
  }

  /** Whether the tables must be read again now (see the top of this file). */
  private due(nowMs: number): boolean {
    const t = this.tables;
    if (!t || this.refreshMs === 0 || nowMs < t.readMs) return true;
    const age = nowMs - t.readMs;
    if (age < this.refreshMs) return false;
    if (age >= Math.max(this.refreshMs, TABLE_MAX_AGE_MS)) return true;
    const now = this.readCounters(t.nsPids);
    return now === undefined || now !== this.counters;
  }

  /**
   * The namespaces' socket counters as one string: sockstat(6) in-use and TIME_WAIT counts and the
   * TCP open/reset/established counters of snmp, read through one pid per namespace (or procRoot/net).
   */
  private readCounters(nsPids: Map<number, number[]>): string | undefined {
    const dirs = nsPids.size > 0 ? [...nsPids.values()].map((pids) => pids.map((pid) => join(this.root, String(pid), 'net'))) : [[join(this.root, 'net')]];
    const parts: string[] = [];
    for (const candidates of dirs) {
      let part: string | undefined;
      for (const dir of candidates) {
        part = socketCounters(readOptional(join(dir, 'sockstat')), readOptional(join(dir, 'sockstat6')), readOptional(join(dir, 'snmp')));
        if (part !== undefined) break;
      }
      if (part === undefined) return undefined;
      parts.push(part);
    }
    return parts.join('|');
  }

  /**
   * One reading. `pids` are the processes alive (user space, each with its key), `watched` the
   * ones whose view the caller reports. Unavailable when no socket table can be read at all.
   */
  read(nowMs: number, pids: Watched[], watched: Watched[]): SocketReading | Unavailable {
    const byPid = new Map(pids.map((p) => [p.pid, p.key]));
    if (this.due(nowMs)) {
      const read = this.readNamespaces([...pids].sort((a, b) => a.pid - b.pid), nowMs);
      if (!read.readAny) {
        this.tables = undefined;
        return unavailable(`cannot read socket tables under ${this.root}`);
      }
      this.tableReads++;
      this.tables = { rows: read.rows, nsPids: read.nsPids, nsUnknown: read.nsUnknown, readMs: nowMs };
      this.counters = this.readCounters(read.nsPids);
    }
    const { rows, nsPids } = this.tables!;

    const live = new Set(rows.map((r) => r.inode));
    for (const [inode, holders] of this.owners) {
      const alive = live.has(inode) ? holders.filter((pid) => byPid.has(pid)) : [];
      if (alive.length === 0) this.owners.delete(inode);
      else if (alive.length < holders.length) this.owners.set(inode, alive);
    }
    for (const inode of this.unowned) if (!live.has(inode)) this.unowned.delete(inode);
    const aliveKeys = new Set(byPid.values());
    for (const key of this.fdViews.keys()) if (!aliveKeys.has(key)) this.fdViews.delete(key);

    // Ownerless rows (inode 0) of owned-only states never get an owner: out before the cap.
    const selected = selectSockets(rows.filter((r) => r.inode !== 0 || !ownedOnly(r)));
    // inode 0 = no owner at all (TIME_WAIT and friends).
    const missing = selected.filter((r) => r.inode !== 0 && !this.owners.has(r.inode) && !this.unowned.has(r.inode));
    if (missing.length > 0) {
      const nsToScan = new Set(missing.map((r) => r.netNs));
      const scanPids = nsPids.size > 0 ? [...nsToScan].flatMap((ns) => nsPids.get(ns) ?? []) : [...byPid.keys()];
      // Processes known to hide their fds are not asked again (readdir of thousands of fds for nothing).
      const candidates = scanPids.filter((pid) => this.fdViews.get(byPid.get(pid)!) !== 'unreadable');
      // The reported (busiest) processes first: new connections are mostly theirs, and once every
      // missing socket is found the other processes' fd tables need not be read this time.
      const reportedPids = new Set(watched.map((w) => w.pid));
      this.scanFds(candidates.filter((pid) => reportedPids.has(pid)), byPid);
      if (missing.some((r) => !this.owners.has(r.inode))) this.scanFds(candidates.filter((pid) => !reportedPids.has(pid)), byPid);
      for (const r of missing) if (!this.owners.has(r.inode)) this.unowned.add(r.inode);
    }
    // A watched process never scanned yet: scan it once (its sockets may all be known through
    // another sharer, or it may have none; either way its view must come from its own fd table).
    const unscanned = watched.filter((w) => !this.fdViews.has(w.key)).map((w) => w.pid);
    if (unscanned.length > 0) this.scanFds(unscanned, byPid);

    const views = new Map<string, FdView>();
    for (const w of watched) views.set(w.key, this.fdViews.get(w.key) ?? 'unreadable');
    // A shared socket goes to a watched (reported) holder if there is one, else the lowest pid.
    const watchedPids = new Set(watched.map((w) => w.pid));
    const ownerOf = (inode: number): number => {
      const holders = this.owners.get(inode);
      return holders?.find((pid) => watchedPids.has(pid)) ?? holders?.[0] ?? 0;
    };
    // Unowned rows of owned-only states are counted, not reported (inode 0 ones among all rows,
    // the others once their owner is known to be none).
    const { kept: sockets, omitted } = omitUnowned(
      selected.map((r) => ({ ...r, pid: ownerOf(r.inode) })),
      rows.filter((r) => r.inode === 0 && ownedOnly(r)),
    );
    // Dropped rows that could have an owner (inode 0 rows never have one, e.g. TIME_WAIT).
    const ownable = (list: SocketRow[]): number => list.reduce((n, r) => n + (r.inode !== 0 ? 1 : 0), 0);
    return { sockets, views, attribution: this.attribution(watched, views, ownable(rows) - ownable(selected), omitted) };
  }

  private attribution(watched: Watched[], views: Map<string, FdView>, dropped: number, omitted: assay.v1.ISocketCount[]): assay.v1.SocketAttribution.$Properties {
    const { nsPids, nsUnknown } = this.tables!;
    const unreadable = watched.filter((w) => views.get(w.key) === 'unreadable');
    const reasons: string[] = [];
    if (unreadable.length > 0) {
      const sample = unreadable.slice(0, 5).map((w) => w.pid).join(', ');
      reasons.push(`${unreadable.length} reported process(es) with unreadable fds (pid ${sample}${unreadable.length > 5 ? ', ...' : ''})`);
    }
    if (nsPids.size === 0) reasons.push('no network namespace link readable: only the agent\'s own namespace was read');
    else if (nsUnknown > 0) reasons.push(`${nsUnknown} process(es) in an unknown network namespace`);
    if (dropped > 0) reasons.push(`${dropped} owned socket(s) over the per-sample cap not reported`);
    return {
      complete: reasons.length === 0,
      processesRead: watched.length - unreadable.length,
      processesUnreadable: unreadable.length,
      namespacesRead: Math.max(1, nsPids.size),
      reason: reasons.join('; '),
      unownedOmitted: omitted,
    };
  }

  private readNamespaces(pids: Watched[], nowMs: number): { rows: SocketRow[]; nsPids: Map<number, number[]>; nsUnknown: number; readAny: boolean } {
    const root = this.root;
    const nsPids = new Map<number, number[]>();
    let nsUnknown = 0;
    const alive = new Set<string>();
    for (const { pid, key } of pids) {
      alive.add(key);
      let cached = this.nsOf.get(key);
      if (!cached || !(nowMs - cached.readMs < TABLE_MAX_AGE_MS) || nowMs < cached.readMs) {
        cached = { ns: linkInode(readlinkOptional(join(root, String(pid), 'ns', 'net')), 'net'), readMs: nowMs };
        this.nsOf.set(key, cached);
      }
      const ns = cached.ns;
      if (ns === undefined) {
        nsUnknown++;
        continue;
      }
      const group = nsPids.get(ns);
      if (group) group.push(pid);
      else nsPids.set(ns, [pid]);
    }
    for (const key of this.nsOf.keys()) if (!alive.has(key)) this.nsOf.delete(key);
    const rows: SocketRow[] = [];
    let readAny = false;
    const readTables = (dir: string, ns: number): boolean => {
      let ok = false;
      for (const proto of PROTOCOLS) {
        const text = readProcTable(join(dir, proto));
        if (text === undefined) continue; // e.g. no IPv6 in this kernel/namespace
        ok = true;
        rows.push(...parseSocketTable(text, proto, ns));
      }
      return ok;
    };
    for (const ns of [...nsPids.keys()].sort((a, b) => a - b)) {
      // Any pid of the namespace will do; try the next one if the first exited meanwhile.
      let done = false;
      for (const pid of nsPids.get(ns)!) {
        if (readTables(join(root, String(pid), 'net'), ns)) {
          readAny = done = true;
          break;
        }
      }
      if (!done) {
        // Its sockets are unknown: count its processes as in an unknown namespace.
        nsUnknown += nsPids.get(ns)!.length;
        nsPids.delete(ns);
      }
    }
    if (!readAny) {
      // No namespace link readable at all: fall back to the agent's own namespace.
      const ns = linkInode(readlinkOptional(join(root, 'self', 'ns', 'net')), 'net') ?? 0;
      readAny = readTables(join(root, 'net'), ns);
    }
    return { rows, nsPids, nsUnknown, readAny };
  }

  /**
   * Scans fd links of `pids`, records socket holders (kept in pid order) and each
   * process's view: unreadable when its fd directory or any link in it cannot be read (EACCES even
   * as root for some processes; gone = unreadable too). A link that vanished meanwhile (fd closed)
   * is fine.
   */
  private scanFds(pids: number[], byPid: Map<number, string>): void {
    for (const pid of [...pids].sort((a, b) => a - b)) {
      const key = byPid.get(pid);
      const view = scanFdTable(join(this.root, String(pid), 'fd'), (inode) => {
        const holders = this.owners.get(inode);
        if (!holders) this.owners.set(inode, [pid]);
        else if (!holders.includes(pid)) {
          holders.push(pid);
          holders.sort((a, b) => a - b);
        }
      });
      if (key !== undefined) this.fdViews.set(key, view);
    }
  }
}

/**
 * The counters that move when sockets come, go or connect: in-use and TIME_WAIT counts of
 * sockstat and sockstat6, and snmp's TCP ActiveOpens, PassiveOpens, AttemptFails, EstabResets and
 * CurrEstab. Undefined when sockstat or snmp is unreadable (then the tables are read every refresh).
 */
export function socketCounters(sockstat: string | undefined, sockstat6: string | undefined, snmp: string | undefined): string | undefined {
  if (sockstat === undefined || snmp === undefined) return undefined;
  const kept: string[] = [];
  for (const line of `${sockstat}\n${sockstat6 ?? ''}`.split('\n')) {
    const m = line.match(/^(TCP6?|UDP6?|UDPLITE6?|RAW6?): (.*)$/);
    if (!m) continue;
    const f = m[2]!.split(' ');
    for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'inuse' || f[i] === 'tw') kept.push(`${m[1]}.${f[i]}=${f[i + 1]}`);
  }
  const tcp = snmp.split('\n').filter((l) => l.startsWith('Tcp: '));
  if (tcp.length < 2) return undefined;
  const names = tcp[0]!.split(' ');
  const values = tcp[1]!.split(' ');
  for (const name of ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab']) {
    const i = names.indexOf(name);
    if (i > 0) kept.push(`${name}=${values[i]}`);
  }
  return kept.join(' ');
}

/** Reads every link of one fd directory, calling `onSocket` per socket inode. */
export function scanFdTable(fdDir: string, onSocket: (inode: number) => void): FdView {
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return 'unreadable'; // not ours to inspect, or exited
  }
  for (const fd of fds) {
    let target: string;
    try {
      // fd names are plain numbers: no path.join (normalisation) per descriptor.
      target = readlinkSync(`${fdDir}/${fd}`);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // closed meanwhile
      return 'unreadable';
    }
    const inode = linkInode(target, 'socket');
    if (inode !== undefined) onSocket(inode);
  }
  return 'read';
}

/**
 * The tracker on its own, as a probe (tests, benchmarks): every user-space process is watched.
 * The agent itself runs the tracker inside the processes probe, which knows which processes it
 * reports.
 */
export function createSocketsProbe(config: ProbeConfig, opts: SocketsProbeOptions = {}): Probe {
  const tracker = new SocketTracker(config, opts);
  return guardedProbe('sockets', (nowMs) => {
    const pids = listPids(config.procRoot).map((pid) => ({ pid, key: String(pid) }));
    const r = tracker.read(nowMs, pids, []);
    return isUnavailable(r) ? r : { sockets: r.sockets };
  });
}

export const socketsProbe: ProbeFactory = (config) => createSocketsProbe(config);
