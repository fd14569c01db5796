// CPU/DRAM power from Intel RAPL energy counters (/sys/class/powercap/intel-rapl:N[:M]; the AMD
// RAPL driver exposes the same tree). Watts = energy delta / time delta.
//
// First call: primes the counters and returns {} (no power field). No powercap tree (VMs, ARM) →
// {} with no error. energy_uj is root-only since Linux 5.10 (CVE-2020-8694): when no counter
// can be read → unavailable('permission denied reading energy_uj').
//
// Domains: top-level zones by their name (package-0, package-1, psys); sub-zones qualified by
// their parent (package-0/core, package-0/uncore, package-0/dram). A package already includes
// its core/uncore sub-zones, so consumers must not add them up.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { errnoCode, guardedProbe, readOptional, readText, round } from './util.js';

interface Zone {
  id: string; // intel-rapl:0:1
  domain: string;
  maxRangeUj: number;
}

const ZONE = /^intel-rapl:\d+(:\d+)?$/;

/** Zones found under class/powercap, or undefined when there is no powercap/RAPL tree at all. */
export function discoverZones(dir: string): Zone[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => ZONE.test(e)).sort();
  } catch {
    return undefined;
  }
  if (entries.length === 0) return undefined;
  const names = new Map(entries.map((id) => [id, readOptional(join(dir, id, 'name'))?.trim() || id]));
  return entries.map((id) => {
    const parent = id.split(':').slice(0, 2).join(':');
    const domain = parent !== id ? `${names.get(parent) ?? parent}/${names.get(id)}` : names.get(id)!;
    const maxRangeUj = Number(readOptional(join(dir, id, 'max_energy_range_uj'))?.trim());
    return { id, domain, maxRangeUj: Number.isFinite(maxRangeUj) && maxRangeUj > 0 ? maxRangeUj : 0 };
  });
}

/** Energy used between two counter readings, allowing for one wraparound at max_energy_range_uj. */
export function energyDeltaUj(cur: number, prev: number, maxRangeUj: number): number | undefined {
  if (cur >= prev) return cur - prev;
  return maxRangeUj > 0 ? cur + maxRangeUj - prev : undefined;
}

export const raplProbe: ProbeFactory = (config) => {
  const dir = join(config.sysRoot, 'class', 'powercap');
  let zones: Zone[] | undefined;
  let discovered = false;
  let prev: Map<string, number> | undefined;
  let prevMs = 0;

  return guardedProbe('power-rapl', (nowMs) => {
    // Zones do not change while the host runs; look them up once.
    if (!discovered) {
      zones = discoverZones(dir);
      discovered = true;
    }
    if (!zones) return {};
    const cur = new Map<string, number>();
    let denied = 0;
    let lastError = '';
    for (const z of zones) {
      try {
        // readText, not readOptional: the errno matters here (permission vs missing).
        const text = readText(join(dir, z.id, 'energy_uj'));
        const uj = Number(text.trim());
        if (Number.isFinite(uj)) cur.set(z.id, uj);
        else lastError = `malformed ${z.id}/energy_uj`;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EACCES' || code === 'EPERM') denied++;
        lastError = `cannot read ${z.id}/energy_uj: ${code ?? String(err)}`;
      }
    }
    if (cur.size === 0) return unavailable(denied > 0 ? 'permission denied reading energy_uj' : lastError);

    const last = prev;
    const dtSec = (nowMs - prevMs) / 1000;
    prev = cur;
    prevMs = nowMs;
    if (!last || !(dtSec > 0)) return {};
    const power: assay.v1.PowerReading.$Properties[] = [];
    for (const z of zones) {
      const c = cur.get(z.id);
      const p = last.get(z.id);
      if (c === undefined || p === undefined) continue;
      const d = energyDeltaUj(c, p, z.maxRangeUj);
      if (d === undefined) continue;
      power.push({ domain: z.domain, source: 'rapl', watts: round(d / 1e6 / dtSec, 3) });
    }
    return { power };
  });
};
