// TCP/UDP sockets, read per network namespace and attributed to their owning process.
//
// Processes are grouped by /proc/PID/ns/net (`net:[inode]`) and each namespace's tables are read
// once through one of its pids (/proc/PID/net/tcp ...), so containers' sockets are not invisible.
// Owners come from /proc/PID/fd/* links `socket:[inode]`; that scan is the expensive part, so
// inode→pid answers are cached and fds are only scanned again when a reported socket is unknown.
//
// Cost: reading /proc/net/tcp{,6} walks the kernel's whole TCP hash table on every read(), however
// few sockets exist (about 2.4 ms per read on a 24 GiB host, twice per file because of the EOF
// read), and the table is shared by all namespaces. So the tables are re-read at most every
// TABLE_REFRESH_MS; in between, the last rows are reported again (owners re-checked each time).
//
// Reported: every listening socket (TCP LISTEN, UDP UNCONN), up to MAX_LISTENING, then up to
// MAX_OTHER others, ESTABLISHED first. pid 0 = owner unknown (gone, or not ours to inspect: a
// non-root agent sees only its own processes' fds and namespaces).
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import { decodeEndpoint, stateName } from './inet.js';
import type { Probe, ProbeConfig, ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe, listPids, readOptional, readlinkOptional } from './util.js';

export const MAX_LISTENING = 1024;
export const MAX_OTHER = 256;
export const TABLE_REFRESH_MS = 5000;
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

export function parseSocketTable(text: string, protocol: string, netNs: number): SocketRow[] {
  const rows: SocketRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = decodeEndpoint(f[1]!);
    const remote = decodeEndpoint(f[2]!);
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

function isListening(r: SocketRow): boolean {
  return r.state === 'LISTEN' || r.state === 'UNCONN';
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

export function createSocketsProbe(config: ProbeConfig, opts: SocketsProbeOptions = {}): Probe {
  const root = config.procRoot;
  const refreshMs = opts.refreshMs ?? TABLE_REFRESH_MS;
  let tables: { rows: SocketRow[]; nsPids: Map<number, number[]>; readMs: number } | undefined;
  /** inode → owning pid, kept across samples; entries die with their socket or process. */
  const owners = new Map<number, number>();
  /** Inodes whose owner a full scan could not find; not rescanned while the socket lives. */
  const unowned = new Set<number>();

  function readNamespaces(pids: number[]): { rows: SocketRow[]; nsPids: Map<number, number[]>; readAny: boolean } {
    const nsPids = new Map<number, number[]>();
    for (const pid of pids) {
      const ns = linkInode(readlinkOptional(join(root, String(pid), 'ns', 'net')), 'net');
      if (ns === undefined) continue;
      const group = nsPids.get(ns);
      if (group) group.push(pid);
      else nsPids.set(ns, [pid]);
    }
    const rows: SocketRow[] = [];
    let readAny = false;
    const readTables = (dir: string, ns: number): boolean => {
      let ok = false;
      for (const proto of PROTOCOLS) {
        const text = readOptional(join(dir, proto));
        if (text === undefined) continue; // e.g. no IPv6 in this kernel/namespace
        ok = true;
        rows.push(...parseSocketTable(text, proto, ns));
      }
      return ok;
    };
    for (const ns of [...nsPids.keys()].sort((a, b) => a - b)) {
      // Any pid of the namespace will do; try the next one if the first exited meanwhile.
      for (const pid of nsPids.get(ns)!) {
        if (readTables(join(root, String(pid), 'net'), ns)) {
          readAny = true;
          break;
        }
      }
    }
    if (!readAny) {
      // No namespace link readable at all: fall back to the agent's own namespace.
      const ns = linkInode(readlinkOptional(join(root, 'self', 'ns', 'net')), 'net') ?? 0;
      readAny = readTables(join(root, 'net'), ns);
    }
    return { rows, nsPids, readAny };
  }

  /** Scans fd links of `pids` and records socket owners (lowest pid wins for shared sockets). */
  function scanFds(pids: number[]): void {
    for (const pid of pids) {
      const fdDir = join(root, String(pid), 'fd');
      let fds: string[];
      try {
        fds = readdirSync(fdDir);
      } catch {
        continue; // not ours to inspect, or exited
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(join(fdDir, fd));
        } catch {
          continue;
        }
        const inode = linkInode(target, 'socket');
        if (inode !== undefined && !owners.has(inode)) owners.set(inode, pid);
      }
    }
  }

  return guardedProbe('sockets', (nowMs) => {
    const pids = listPids(root).sort((a, b) => a - b);
    if (!tables || !(nowMs - tables.readMs < refreshMs) || nowMs < tables.readMs) {
      const read = readNamespaces(pids);
      if (!read.readAny) {
        tables = undefined;
        return unavailable(`cannot read socket tables under ${root}`);
      }
      tables = { rows: read.rows, nsPids: read.nsPids, readMs: nowMs };
    }
    const { rows, nsPids } = tables;

    const alive = new Set(pids);
    const live = new Set(rows.map((r) => r.inode));
    for (const [inode, pid] of owners) if (!live.has(inode) || !alive.has(pid)) owners.delete(inode);
    for (const inode of unowned) if (!live.has(inode)) unowned.delete(inode);

    const selected = selectSockets(rows);
    // inode 0 = no owner at all (TIME_WAIT and friends).
    const missing = selected.filter((r) => r.inode !== 0 && !owners.has(r.inode) && !unowned.has(r.inode));
    if (missing.length > 0) {
      const nsToScan = new Set(missing.map((r) => r.netNs));
      const scanPids = nsPids.size > 0 ? [...nsToScan].flatMap((ns) => nsPids.get(ns) ?? []) : pids;
      scanFds(scanPids);
      for (const r of missing) if (!owners.has(r.inode)) unowned.add(r.inode);
    }

    const sockets: assay.v1.Socket.$Properties[] = selected.map((r) => ({ ...r, pid: owners.get(r.inode) ?? 0 }));
    return { sockets };
  });
}

export const socketsProbe: ProbeFactory = (config) => createSocketsProbe(config);
