// The probe registry: every 1 Hz probe, in one table (like node_exporter's collector list).
// On hosts without procfs (procRoot/stat absent, e.g. macOS) a probe that reads procfs is replaced
// by its `fallback` (os-fallback.ts: CPU, memory and load through node-os-utils), or, without one,
// by a probe that reports itself unavailable each sample ("no procfs under …"), so the samples say
// what is missing instead of showing empty tables.
// The inventory (inventory.ts) is collected once at start and is deliberately not listed here.
// Sockets are read by the processes probe (sockets.ts' SocketTracker): it reports, per process,
// whether that process's socket list is complete, so it must know which processes it reports.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpuProbe } from './cpu.js';
import { diskProbe } from './disk.js';
import { amdGpuProbe } from './gpu-amd.js';
import { nvidiaGpuProbe } from './gpu-nvidia.js';
import { loadProbe } from './load.js';
import { memoryProbe } from './memory.js';
import { networkProbe } from './network.js';
import { osCpuProbe, osLoadProbe, osMemoryProbe } from './os-fallback.js';
import { raplProbe } from './power-rapl.js';
import type { Probe, ProbeConfig, ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe } from './util.js';
import { processesProbe } from './processes.js';

export interface ProbeEntry {
  name: string;
  factory: ProbeFactory;
  /** Reads procRoot (needs procfs). */
  procfs?: true;
  /** Used instead of `factory` on hosts without procfs. */
  fallback?: ProbeFactory;
}

export const probeTable: ReadonlyArray<ProbeEntry> = [
  { name: 'cpu', factory: cpuProbe, procfs: true, fallback: osCpuProbe },
  { name: 'memory', factory: memoryProbe, procfs: true, fallback: osMemoryProbe },
  { name: 'load', factory: loadProbe, procfs: true, fallback: osLoadProbe },
  { name: 'disk', factory: diskProbe, procfs: true },
  { name: 'network', factory: networkProbe, procfs: true },
  { name: 'processes', factory: processesProbe, procfs: true },
  { name: 'gpu-nvidia', factory: nvidiaGpuProbe },
  { name: 'gpu-amd', factory: amdGpuProbe },
  { name: 'power-rapl', factory: raplProbe },
];

/** Whether procRoot is a procfs the Linux probes can read (its stat file exists). */
export function hasProcfs(config: ProbeConfig): boolean {
  return existsSync(join(config.procRoot, 'stat'));
}

/**
 * One fresh instance of every registered probe (each keeps its own previous reading): the procfs
 * ones, or their fallbacks where procRoot has no procfs.
 */
export function createProbes(config: ProbeConfig): Probe[] {
  if (hasProcfs(config)) return probeTable.map((p) => p.factory(config));
  const reason = `no procfs under ${config.procRoot}`;
  return probeTable.map((p) => (!p.procfs ? p.factory(config) : p.fallback ? p.fallback(config) : guardedProbe(p.name, () => unavailable(reason))));
}

export { defaultProbeConfig, isUnavailable, unavailable } from './probe.js';
export type { Probe, ProbeConfig, ProbeFactory, ProbeOutput, Unavailable } from './probe.js';
