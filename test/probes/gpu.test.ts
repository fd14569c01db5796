import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { fixtures, tempDir } from '../helpers/env.js';
import { amdGpuProbe } from '../../agent/probes/gpu-amd.js';
import { nvidiaGpuProbe, parseAppsCsv } from '../../agent/probes/gpu-nvidia.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { ABSENT_RETRY_MS } from '../../agent/probes/smi.js';
import { config } from './tree.js';

const nvidiaSmi = join(fixtures, 'gpu', 'bin', 'nvidia-smi');
const rocmSmi = join(fixtures, 'gpu', 'bin', 'rocm-smi');
const MIB = 1024 * 1024;

afterEach(() => {
  delete process.env.ASSAY_FAKE_SMI; // the fake tools read their scenario from the environment
});

test('nvidia: 8x H100 recording → gpus, power readings, compute processes', async () => {
  const out = await nvidiaGpuProbe(config({ nvidiaSmi })).collect(1000);
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  assert.equal(out.gpus?.length, 8);
  assert.deepEqual(out.gpus?.[0], {
    index: 0, uuid: 'GPU-9f1c4e2a-3b7d-8c5e-1a2f-6d4b8e0c7a13', name: 'NVIDIA H100 80GB HBM3', vendor: 'nvidia',
    utilPct: 98, memUtilPct: 41, memUsedBytes: 74215 * MIB, memTotalBytes: 81559 * MIB,
    powerWatts: 652.31, powerLimitWatts: 700, smClockMhz: 1980, memClockMhz: 2619, temperatureCelsius: 67,
  });
  assert.equal(out.gpus?.[7]?.smClockMhz, 1950);
  assert.equal(out.power?.length, 8);
  assert.deepEqual(out.power?.[2], { domain: 'gpu-2', source: 'nvidia-smi', watts: 671.9 });
  assert.deepEqual(out.gpuProcesses, [
    { pid: 1234, name: '/usr/bin/python3.11', gpuUuid: 'GPU-9f1c4e2a-3b7d-8c5e-1a2f-6d4b8e0c7a13', usedMemoryBytes: 73680 * MIB },
    { pid: 1234, name: '/usr/bin/python3.11', gpuUuid: 'GPU-2d8e6b1f-7c4a-9e3d-5b0c-8f1a2e4d6c97', usedMemoryBytes: 73680 * MIB },
    { pid: 1235, name: 'python3 -c from x, y import z', gpuUuid: 'GPU-5a3c9d7e-1f2b-4e8a-9c6d-3b7f0e2a1d58', usedMemoryBytes: 73678 * MIB },
    { pid: 4242, name: '[Not Found]', gpuUuid: 'GPU-c7e1a4b8-6d2f-3a9c-8e5b-1f0d7c3a2e64', usedMemoryBytes: 0 },
  ]);
});

test('nvidia: [N/A] and [Not Supported] values are left out', async () => {
  process.env.ASSAY_FAKE_SMI = 'na';
  const out = await nvidiaGpuProbe(config({ nvidiaSmi })).collect(1000);
  assert.deepEqual(out, {
    gpus: [{
      index: 0, uuid: 'GPU-0e7c3b5a-9d1f-4a6e-b2c8-7f5d3e1a9b04', name: 'NVIDIA A100-SXM4-40GB', vendor: 'nvidia',
      utilPct: 0, memUtilPct: 0, memUsedBytes: 4 * MIB, memTotalBytes: 40960 * MIB, smClockMhz: 1410, memClockMhz: 1215,
    }],
    gpuProcesses: [],
    power: [],
  });
  assert.deepEqual(parseAppsCsv('No running processes found\n'), []);
});

test('nvidia: garbage output, driver failure and timeout are unavailable', async () => {
  process.env.ASSAY_FAKE_SMI = 'garbage';
  const garbage = await nvidiaGpuProbe(config({ nvidiaSmi })).collect(1000);
  assert.ok(isUnavailable(garbage) && /unparseable nvidia-smi output/.test(garbage.unavailable), JSON.stringify(garbage));
  process.env.ASSAY_FAKE_SMI = 'fail';
  const fail = await nvidiaGpuProbe(config({ nvidiaSmi })).collect(1000);
  assert.ok(isUnavailable(fail) && /couldn't communicate with the NVIDIA driver/.test(fail.unavailable), JSON.stringify(fail));
  process.env.ASSAY_FAKE_SMI = 'hang';
  const hang = await nvidiaGpuProbe(config({ nvidiaSmi })).collect(1000);
  assert.ok(isUnavailable(hang) && /timed out/.test(hang.unavailable), JSON.stringify(hang));
});

test('nvidia: not installed → no GPUs, no error, and not spawned again until the retry interval', async () => {
  const t = tempDir();
  try {
    const probe = nvidiaGpuProbe(config({ nvidiaSmi: join(t.dir, 'bin', 'nvidia-smi') }));
    assert.deepEqual(await probe.collect(1000), {});
    cpSync(join(fixtures, 'gpu'), t.dir, { recursive: true }); // now it is installed...
    assert.deepEqual(await probe.collect(2000), {}); // ...but still believed absent
    const later = await probe.collect(1000 + ABSENT_RETRY_MS);
    assert.ok(!isUnavailable(later));
    assert.equal(later.gpus?.length, 8);
  } finally {
    t.cleanup();
  }
});

test('amd: rocm-smi JSON → gpus and power; N/A left out; absent and garbage handled', async () => {
  const out = await amdGpuProbe(config({ rocmSmi })).collect(1000);
  assert.deepEqual(out, {
    gpus: [
      {
        index: 0, vendor: 'amd', uuid: '0x8d2f5a1c7e3b9046', name: 'AMD Instinct MI250X', utilPct: 87, memUtilPct: 62,
        powerWatts: 412, temperatureCelsius: 61, memTotalBytes: 68702699520, memUsedBytes: 42596073062,
      },
      {
        index: 1, vendor: 'amd', uuid: '0x1a4c9e7f3b2d8065', name: 'AMD Instinct MI250X', memUtilPct: 0,
        temperatureCelsius: 39, memTotalBytes: 68702699520, memUsedBytes: 11337728,
      },
    ],
    power: [{ domain: 'gpu-0', source: 'rocm-smi', watts: 412 }],
  });
  assert.deepEqual(await amdGpuProbe(config({ rocmSmi: '/nonexistent/rocm-smi' })).collect(1000), {});
  process.env.ASSAY_FAKE_SMI = 'garbage';
  const garbage = await amdGpuProbe(config({ rocmSmi })).collect(1000);
  assert.ok(isUnavailable(garbage) && /unparseable rocm-smi/.test(garbage.unavailable));
});
