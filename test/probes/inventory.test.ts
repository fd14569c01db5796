import assert from 'node:assert/strict';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Systeminformation } from 'systeminformation';
import { fixtures } from '../helpers/env.js';
import { collectInventory, type InventorySource } from '../../agent/probes/inventory.js';
import { config } from './tree.js';

const procRoot = join(fixtures, 'proc-a');
const FLAGS = ['sha_ni', 'aes', 'avx2', 'avx512f', 'bmi2', 'adx'];

/** Only the fields the inventory reads; the rest of systeminformation's shapes do not matter here. */
function stub<T>(value: Partial<T>): () => Promise<T> {
  return () => Promise.resolve(value as T);
}

test('inventory: systeminformation values mapped, flags from cpuinfo', async () => {
  const source: InventorySource = {
    cpu: stub<Systeminformation.CpuData>({ manufacturer: 'AMD', brand: 'EPYC 9654 96-Core Processor', vendor: 'AuthenticAMD', cores: 192, physicalCores: 96 }),
    osInfo: stub<Systeminformation.OsData>({ platform: 'linux', distro: 'Ubuntu', release: '22.04.4 LTS', kernel: '5.15.0-105-generic', arch: 'x64' }),
    graphics: stub<Systeminformation.GraphicsData>({
      controllers: [{ vendor: 'NVIDIA Corporation', model: 'NVIDIA H100 80GB HBM3', bus: 'PCI', pciBus: '00000000:18:00.0', vram: 81559, vramDynamic: false, memoryTotal: 81559 }],
      displays: [],
    }),
    diskLayout: stub<Systeminformation.DiskLayoutData[]>([
      { device: '/dev/nvme0n1', type: 'NVMe', name: 'SAMSUNG MZQL23T8HCLS-00A07', size: 3840755982336, interfaceType: 'PCIe' } as Systeminformation.DiskLayoutData,
    ]),
    mem: stub<Systeminformation.MemData>({ total: 1081965146112 }),
    system: stub<Systeminformation.SystemData>({ virtual: false }),
  };
  assert.deepEqual(await collectInventory(config({ procRoot }), { source }), {
    cpuModel: 'AMD EPYC 9654 96-Core Processor',
    cpuVendor: 'AuthenticAMD',
    cpuPhysicalCores: 96,
    cpuLogicalCores: 192,
    cpuFlags: FLAGS,
    memoryTotalBytes: 1081965146112,
    osPlatform: 'linux',
    osDistro: 'Ubuntu',
    osRelease: '22.04.4 LTS',
    kernel: '5.15.0-105-generic',
    arch: 'x64',
    gpus: [{ vendor: 'NVIDIA Corporation', model: 'NVIDIA H100 80GB HBM3', vramBytes: 81559 * 1024 * 1024, bus: '00000000:18:00.0', uuid: '' }],
    disks: [{ device: '/dev/nvme0n1', type: 'NVMe', name: 'SAMSUNG MZQL23T8HCLS-00A07', sizeBytes: 3840755982336, interfaceType: 'PCIe' }],
    virtual: false,
  });
});

test('inventory: failing or hanging systeminformation falls back to node:os and cpuinfo', async () => {
  const fail = (): Promise<never> => Promise.reject(new Error('boom'));
  const hang = (): Promise<never> => new Promise(() => undefined);
  const source: InventorySource = { cpu: hang, osInfo: fail, graphics: hang, diskLayout: fail, mem: hang, system: fail };
  const started = Date.now();
  const inv = await collectInventory(config({ procRoot }), { source, timeoutMs: 100 });
  assert.ok(Date.now() - started < 2000, 'timeouts bound the wait');
  assert.deepEqual(inv, {
    cpuModel: 'AMD EPYC 9654 96-Core Processor', // from the fixture's cpuinfo
    cpuVendor: 'AuthenticAMD',
    cpuPhysicalCores: 2, // two distinct (physical id, core id) pairs in the fixture
    cpuLogicalCores: os.cpus().length,
    cpuFlags: FLAGS,
    memoryTotalBytes: os.totalmem(),
    osPlatform: os.platform(),
    osDistro: '',
    osRelease: '',
    kernel: os.release(),
    arch: os.arch(),
    gpus: [],
    disks: [],
    virtual: false,
  });
});

test('inventory: real systeminformation on this machine', async () => {
  const inv = await collectInventory(config({}));
  assert.ok((inv.cpuLogicalCores ?? 0) >= 1);
  assert.ok((inv.memoryTotalBytes ?? 0) > 0);
  assert.equal(inv.osPlatform, 'linux');
  assert.ok(inv.kernel);
});
