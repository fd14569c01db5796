// The probe registry: every 1 Hz probe, in one table (like node_exporter's collector list).
// The inventory (inventory.ts) is collected once at start and is deliberately not listed here.
// Sockets are read by the processes probe (sockets.ts' SocketTracker): it reports, per process,
// whether that process's socket list is complete, so it must know which processes it reports.
import { cpuProbe } from './cpu.js';
import { diskProbe } from './disk.js';
import { amdGpuProbe } from './gpu-amd.js';
import { nvidiaGpuProbe } from './gpu-nvidia.js';
import { loadProbe } from './load.js';
import { memoryProbe } from './memory.js';
import { networkProbe } from './network.js';
import { raplProbe } from './power-rapl.js';
import type { Probe, ProbeConfig, ProbeFactory } from './probe.js';
import { processesProbe } from './processes.js';

export const probeTable: ReadonlyArray<{ name: string; factory: ProbeFactory }> = [
  { name: 'cpu', factory: cpuProbe },
  { name: 'memory', factory: memoryProbe },
  { name: 'load', factory: loadProbe },
  { name: 'disk', factory: diskProbe },
  { name: 'network', factory: networkProbe },
  { name: 'processes', factory: processesProbe },
  { name: 'gpu-nvidia', factory: nvidiaGpuProbe },
  { name: 'gpu-amd', factory: amdGpuProbe },
  { name: 'power-rapl', factory: raplProbe },
];

/** One fresh instance of every registered probe (each keeps its own previous reading). */
export function createProbes(config: ProbeConfig): Probe[] {
  return probeTable.map((p) => p.factory(config));
}

export { defaultProbeConfig, isUnavailable, unavailable } from './probe.js';
export type { Probe, ProbeConfig, ProbeFactory, ProbeOutput, Unavailable } from './probe.js';
