// What the samples of the period show besides classes: the busiest processes, listening ports
// and peers, GPUs, and what the agent could not read.
import type { IProcessSignature } from '../../proto/codec.js';
import { processKey } from '../engine/types.js';
import type { SampleRow } from './decode.js';
import type { GpuSummary, NetworkSummary, TopProcess } from './types.js';

const TOP_PROCESSES = 12;
const MAX_LISTENING = 50;
const TOP_PEERS = 20;

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Signatures travel once per process; collect them from every decoded sample (in and around the period). */
export function signaturesOf(rows: readonly SampleRow[]): Map<string, IProcessSignature> {
  const m = new Map<string, IProcessSignature>();
  for (const r of rows) for (const p of r.sample.processes ?? []) if (p.signature && !m.has(processKey(p.pid ?? 0, p.startTimeTicks ?? 0))) m.set(processKey(p.pid ?? 0, p.startTimeTicks ?? 0), p.signature);
  return m;
}

export function topProcesses(rows: readonly SampleRow[], signatures: ReadonlyMap<string, IProcessSignature>): TopProcess[] {
  const acc = new Map<string, { pid: number; name: string; cpu: number; n: number }>();
  for (const r of rows) {
    for (const p of r.sample.processes ?? []) {
      const key = processKey(p.pid ?? 0, p.startTimeTicks ?? 0);
      const a = acc.get(key) ?? { pid: p.pid ?? 0, name: p.name ?? '', cpu: 0, n: 0 };
      a.cpu += p.cpuPct ?? 0;
      a.n += 1;
      acc.set(key, a);
    }
  }
  const total = Math.max(1, rows.length);
  return [...acc.entries()]
    .map(([key, a]) => {
      const sig = signatures.get(key);
      return { pid: a.pid, name: a.name, cpuPctMean: a.cpu / total, samples: a.n, exe: sig?.exe ?? '', exeSha256: sig?.exeSha256 ?? '', cmdline: sig?.cmdline ?? '' };
    })
    .sort((x, y) => y.cpuPctMean - x.cpuPctMean || x.pid - y.pid)
    .slice(0, TOP_PROCESSES);
}

export function network(rows: readonly SampleRow[]): NetworkSummary {
  const names = new Map<number, string>();
  for (const r of rows) for (const p of r.sample.processes ?? []) if (p.pid) names.set(p.pid, p.name ?? '');
  const listening = new Map<string, { protocol: string; port: number; process: string }>();
  const peers = new Map<string, { address: string; port: number; samples: number; process: string }>();
  for (const r of rows) {
    const seen = new Set<string>();
    for (const s of r.sample.sockets ?? []) {
      const proc = s.pid ? (names.get(s.pid) ?? `pid ${s.pid}`) : '';
      if (s.state === 'LISTEN' || (s.state === 'UNCONN' && s.localPort)) {
        const k = `${s.protocol}:${s.localPort}`;
        if (!listening.has(k)) listening.set(k, { protocol: s.protocol ?? '', port: s.localPort ?? 0, process: proc });
      } else if (s.state === 'ESTABLISHED' && s.remoteAddress) {
        const k = `${s.remoteAddress}:${s.remotePort}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const e = peers.get(k) ?? { address: s.remoteAddress, port: s.remotePort ?? 0, samples: 0, process: proc };
        e.samples += 1;
        peers.set(k, e);
      }
    }
  }
  return {
    listening: [...listening.values()].sort((a, b) => a.port - b.port || byText(a.protocol, b.protocol)).slice(0, MAX_LISTENING),
    peers: [...peers.values()].sort((a, b) => b.samples - a.samples || byText(a.address, b.address) || a.port - b.port).slice(0, TOP_PEERS),
  };
}

export function gpus(rows: readonly SampleRow[]): GpuSummary[] {
  const acc = new Map<number, { name: string; util: number; n: number; power: number; pn: number }>();
  for (const r of rows) {
    for (const g of r.sample.gpus ?? []) {
      const a = acc.get(g.index ?? 0) ?? { name: g.name ?? '', util: 0, n: 0, power: 0, pn: 0 };
      a.util += g.utilPct ?? 0;
      a.n += 1;
      if (g.powerWatts) {
        a.power += g.powerWatts;
        a.pn += 1;
      }
      acc.set(g.index ?? 0, a);
    }
  }
  return [...acc.entries()]
    .sort(([x], [y]) => x - y)
    .map(([index, a]) => ({ index, name: a.name, utilPctMean: a.util / a.n, powerWattsMean: a.pn ? a.power / a.pn : null }));
}

export function unavailable(rows: readonly SampleRow[]): Array<{ probe: string; reason: string; samples: number }> {
  const acc = new Map<string, { probe: string; reason: string; samples: number }>();
  for (const r of rows) {
    for (const u of r.sample.unavailable ?? []) {
      const k = `${u.probe}\0${u.reason}`;
      const e = acc.get(k) ?? { probe: u.probe ?? '', reason: u.reason ?? '', samples: 0 };
      e.samples += 1;
      acc.set(k, e);
    }
  }
  return [...acc.values()].sort((a, b) => byText(a.probe, b.probe) || byText(a.reason, b.reason));
}
