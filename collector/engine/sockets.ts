// Socket table -> per-process network features. Only sockets with an owning pid are attributed;
// a port means something only next to the process that holds it.
import type { ISample, ISocket } from '../../proto/codec.js';
import type { PeerFeature, ProcessSocketFeatures } from './feature-types.js';
import { num } from './stats.js';

function state(s: ISocket): string {
  return (s.state ?? '').toUpperCase();
}

function isUdp(s: ISocket): boolean {
  return (s.protocol ?? '').toLowerCase().startsWith('udp');
}

/** TCP LISTEN, or a bound UDP socket with no peer (UDP has no LISTEN state). "0A" is /proc's hex. */
export function isListening(s: ISocket): boolean {
  const st = state(s);
  if (st === 'LISTEN' || st === '0A') return num(s.localPort) > 0;
  return isUdp(s) && (st === 'UNCONN' || st === '07' || st === '') && num(s.remotePort) === 0 && num(s.localPort) > 0;
}

export function isEstablished(s: ISocket): boolean {
  const st = state(s);
  return (st === 'ESTABLISHED' || st === '01') && num(s.remotePort) > 0 && (s.remoteAddress ?? '') !== '';
}

export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.') || a === 'localhost' || a === '0:0:0:0:0:0:0:1';
}

export interface SocketIndex {
  available: boolean;
  ownerAvailable: boolean;
  /** Per sample index: does the sample carry any socket (listed, or counted in socket_attribution.unowned_omitted)? */
  sampled: boolean[];
  /** Per sample index: did the agent map every process's sockets (Sample.socket_attribution.complete)? */
  complete: boolean[];
  byPid: Map<number, { sampleIndex: number; socket: ISocket }[]>;
  /** Local port -> pids holding it (listening, or serving an accepted connection): who is at the far end of a loopback connection. */
  pidsByPort: Map<number, Set<number>>;
}

export function indexSockets(samples: readonly ISample[]): SocketIndex {
  const byPid = new Map<number, { sampleIndex: number; socket: ISocket }[]>();
  const sampled: boolean[] = [];
  const complete: boolean[] = [];
  let available = false;
  let ownerAvailable = false;
  const pidsByPort = new Map<number, Set<number>>();
  samples.forEach((sample, i) => {
    const sockets = sample.sockets ?? [];
    // Sockets the agent counted instead of listing (unowned TIME_WAIT and the like) were read too.
    const read = sockets.length > 0 || (sample.socketAttribution?.unownedOmitted ?? []).some((c) => num(c?.count) > 0);
    sampled.push(read);
    complete.push(sample.socketAttribution?.complete === true);
    if (read) available = true;
    for (const socket of sockets) {
      if (!socket) continue;
      const pid = num(socket.pid);
      if (pid <= 0) continue;
      ownerAvailable = true;
      if (!isUdp(socket) && (isListening(socket) || isEstablished(socket))) {
        const port = num(socket.localPort);
        let pids = pidsByPort.get(port);
        if (!pids) pidsByPort.set(port, (pids = new Set()));
        if (pids.size < 64) pids.add(pid);
      }
      let list = byPid.get(pid);
      if (!list) byPid.set(pid, (list = []));
      list.push({ sampleIndex: i, socket });
    }
  });
  return { available, ownerAvailable, sampled, complete, byPid, pidsByPort };
}

export const NO_SOCKETS: ProcessSocketFeatures = {
  listenPorts: [],
  outboundPeers: [],
  inboundMax: 0,
  remoteAddresses: 0,
  remotePorts: [],
  samplesWithSockets: 0,
};

/** Network features of one process over [first, last] sample indices (pids are reused, so bound by lifetime). */
export function processSockets(index: SocketIndex, pid: number, first: number, last: number, ephemeralPortMin = 32768): ProcessSocketFeatures {
  const entries = (index.byPid.get(pid) ?? []).filter((e) => e.sampleIndex >= first && e.sampleIndex <= last);
  let samplesWithSockets = 0;
  for (let i = first; i <= last; i++) if (index.sampled[i] || index.complete[i]) samplesWithSockets++;
  if (entries.length === 0) return { ...NO_SOCKETS, samplesWithSockets };

  const listen = new Set<number>();
  for (const { socket } of entries) if (isListening(socket)) listen.add(num(socket.localPort));

  // A process talking to itself (PyTorch's TCPStore on MASTER_PORT, a loopback control pipe)
  // has a socket pair whose far end is one of its own local endpoints: neither peer nor client.
  // Only loopback pairs are checked: that is where self-connections live, and it keeps the
  // index small on hosts with thousands of sockets.
  const own = new Set<string>();
  for (const { sampleIndex, socket } of entries) if (isLoopback(socket.localAddress ?? '')) own.add(`${sampleIndex}|${socket.localAddress ?? ''}|${num(socket.localPort)}`);

  const peerSeen = new Map<string, { address: string; port: number; samples: Set<number> }>();
  const inboundPerSample = new Map<number, number>();
  const remote = new Set<string>();
  for (const { sampleIndex, socket } of entries) {
    if (!isEstablished(socket)) continue;
    const address = socket.remoteAddress ?? '';
    const loopback = isLoopback(address);
    if (loopback && own.has(`${sampleIndex}|${address}|${num(socket.remotePort)}`)) continue;
    if (!loopback) remote.add(address);
    // Accepted, not dialled: the local end is the service port (this process listens on it, or
    // it is below the ephemeral range while the far end is in it: a PostgreSQL backend serving
    // the connection its postmaster accepted).
    const local = num(socket.localPort);
    if (listen.has(local) || (local > 0 && local < ephemeralPortMin && num(socket.remotePort) >= ephemeralPortMin)) {
      inboundPerSample.set(sampleIndex, (inboundPerSample.get(sampleIndex) ?? 0) + 1);
      continue;
    }
    const port = num(socket.remotePort);
    const id = `${address}|${port}`;
    let peer = peerSeen.get(id);
    if (!peer) peerSeen.set(id, (peer = { address, port, samples: new Set() }));
    peer.samples.add(sampleIndex);
  }
  const outboundPeers: PeerFeature[] = [...peerSeen.values()]
    .map((p) => ({
      address: p.address,
      port: p.port,
      loopback: isLoopback(p.address),
      partnerPids: isLoopback(p.address) ? [...(index.pidsByPort.get(p.port) ?? [])].filter((x) => x !== pid).sort((a, b) => a - b) : [],
      presence: samplesWithSockets > 0 ? Math.min(1, p.samples.size / samplesWithSockets) : 0,
    }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  return {
    listenPorts: [...listen].sort((a, b) => a - b),
    outboundPeers,
    inboundMax: Math.max(0, ...inboundPerSample.values()),
    remoteAddresses: remote.size,
    remotePorts: [...new Set(outboundPeers.map((p) => p.port))].sort((a, b) => a - b),
    samplesWithSockets,
  };
}
