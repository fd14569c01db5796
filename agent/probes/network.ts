// Network interface throughput from /proc/net/dev (the agent's own network namespace; run the
// agent in the host namespace to see the host's interfaces). `lo` is skipped.
// First call: primes the counters and returns {} (no net field); later calls return per-second rates.
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { guardedProbe, perSecond, readText, round } from './util.js';

interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue; // the two header lines have no colon
    const iface = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    // 8 receive columns then 8 transmit columns.
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.set(iface, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}

export const networkProbe: ProbeFactory = (config) => {
  const path = join(config.procRoot, 'net', 'dev');
  let prev: Map<string, NetCounters> | undefined;
  let prevMs = 0;
  return guardedProbe('network', (nowMs) => {
    const cur = parseNetDev(readText(path));
    const last = prev;
    const dtSec = (nowMs - prevMs) / 1000;
    prev = cur;
    prevMs = nowMs;
    if (!last || !(dtSec > 0)) return {};
    const net: assay.v1.NetInterface.$Properties[] = [];
    for (const [iface, c] of cur) {
      const p = last.get(iface);
      if (iface === 'lo' || !p) continue;
      net.push({
        iface,
        rxBytesPerSec: round(perSecond(c.rxBytes, p.rxBytes, dtSec)),
        txBytesPerSec: round(perSecond(c.txBytes, p.txBytes, dtSec)),
        rxPacketsPerSec: round(perSecond(c.rxPackets, p.rxPackets, dtSec)),
        txPacketsPerSec: round(perSecond(c.txPackets, p.txPackets, dtSec)),
      });
    }
    return { net };
  });
};
