// Host inventory, collected once at agent start (never in the 1 Hz path): CPU, OS, memory, GPUs,
// disks, virtualisation. systeminformation does the heavy lifting; every call has its own timeout
// and falls back to node:os / procfs so a hung lspci or smartctl cannot hold the agent.
// systeminformation (~25 modules, several MB of heap and RSS once loaded) is loaded only while the
// inventory is taken and forgotten afterwards (proto/transient-require.ts): a process that never
// takes an inventory never loads it, and the agent, which takes one at start, does not keep it.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Systeminformation } from 'systeminformation';
import type { assay, IInventory } from '../../proto/codec.js';
import { withTransientModule } from '../../proto/transient-require.js';
import type { ProbeConfig } from './probe.js';

/** CPU flags that matter for classification (hashing/crypto and vector units). ARM's sha2 included. */
export const RELEVANT_CPU_FLAGS = ['sha_ni', 'aes', 'avx2', 'avx512f', 'bmi2', 'adx', 'sha2'] as const;
export const INVENTORY_CALL_TIMEOUT_MS = 5000;

/** The systeminformation calls used; tests substitute failing or slow ones. */
export interface InventorySource {
  cpu(): Promise<Systeminformation.CpuData>;
  osInfo(): Promise<Systeminformation.OsData>;
  graphics(): Promise<Systeminformation.GraphicsData>;
  diskLayout(): Promise<Systeminformation.DiskLayoutData[]>;
  mem(): Promise<Systeminformation.MemData>;
  system(): Promise<Systeminformation.SystemData>;
}

export interface InventoryOptions {
  source?: InventorySource;
  timeoutMs?: number;
}

type Si = typeof import('systeminformation');

const sourceOf = (si: Si): InventorySource => ({
  cpu: () => si.cpu(),
  osInfo: () => si.osInfo(),
  graphics: () => si.graphics(),
  diskLayout: () => si.diskLayout(),
  mem: () => si.mem(),
  system: () => si.system(),
});

/** Resolves to the call's value, or undefined if it fails or takes longer than timeoutMs. */
async function within<T>(call: () => Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    // Not unref'd: the timer is what guarantees this settles even if nothing else keeps Node alive.
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([call().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface CpuinfoFacts {
  flags: string[];
  vendor: string;
  model: string;
  physicalCores: number;
}

/** Relevant flags, vendor, model and physical core count from /proc/cpuinfo. */
export function parseCpuinfo(text: string): CpuinfoFacts {
  const field = (name: string): string | undefined => text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  // x86 lists "flags", arm64 "Features".
  const present = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/));
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const phys = block.match(/^physical id\s*:\s*(\d+)/m)?.[1];
    const core = block.match(/^core id\s*:\s*(\d+)/m)?.[1];
    if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
  }
  return {
    flags: RELEVANT_CPU_FLAGS.filter((f) => present.has(f)),
    vendor: field('vendor_id') ?? field('CPU implementer') ?? '',
    model: field('model name') ?? '',
    physicalCores: cores.size,
  };
}

export async function collectInventory(config: ProbeConfig, opts: InventoryOptions = {}): Promise<IInventory> {
  if (opts.source) return inventoryFrom(opts.source, config, opts.timeoutMs ?? INVENTORY_CALL_TIMEOUT_MS);
  return withTransientModule<Si, Promise<IInventory>>('systeminformation', (si) => inventoryFrom(sourceOf(si), config, opts.timeoutMs ?? INVENTORY_CALL_TIMEOUT_MS));
}

async function inventoryFrom(src: InventorySource, config: ProbeConfig, t: number): Promise<IInventory> {
  const [cpu, osInfo, graphics, disks, mem, system] = await Promise.all([
    within(() => src.cpu(), t),
    within(() => src.osInfo(), t),
    within(() => src.graphics(), t),
    within(() => src.diskLayout(), t),
    within(() => src.mem(), t),
    within(() => src.system(), t),
  ]);
  let cpuinfo: CpuinfoFacts = { flags: [], vendor: '', model: '', physicalCores: 0 };
  try {
    cpuinfo = parseCpuinfo(readFileSync(join(config.procRoot, 'cpuinfo'), 'utf8'));
  } catch {
    // not Linux, or a fixture without cpuinfo: flags stay empty
  }
  const osCpus = os.cpus();
  const logical = osCpus.length;

  const gpus: assay.v1.GpuInfo.$Properties[] = (graphics?.controllers ?? []).map((c) => ({
    vendor: c.vendor ?? '',
    model: c.model || c.name || '',
    // systeminformation reports VRAM in MiB.
    vramBytes: (c.memoryTotal ?? c.vram ?? 0) * 1024 * 1024,
    bus: c.pciBus || c.busAddress || c.bus || '',
    uuid: '',
  }));
  const diskInfos: assay.v1.DiskInfo.$Properties[] = (disks ?? []).map((d) => ({
    device: d.device ?? '',
    type: d.type ?? '',
    name: d.name ?? '',
    sizeBytes: d.size ?? 0,
    interfaceType: d.interfaceType ?? '',
  }));

  return {
    cpuModel: cpu ? `${cpu.manufacturer} ${cpu.brand}`.trim() : cpuinfo.model || osCpus[0]?.model || '',
    cpuVendor: cpu?.vendor || cpuinfo.vendor,
    cpuPhysicalCores: cpu?.physicalCores || cpuinfo.physicalCores || logical,
    cpuLogicalCores: cpu?.cores || logical,
    cpuFlags: cpuinfo.flags,
    memoryTotalBytes: mem?.total || os.totalmem(),
    osPlatform: osInfo?.platform || os.platform(),
    osDistro: osInfo?.distro ?? '',
    osRelease: osInfo?.release ?? '',
    kernel: osInfo?.kernel || os.release(),
    arch: osInfo?.arch || os.arch(),
    gpus,
    disks: diskInfos,
    virtual: system?.virtual ?? false,
  };
}
