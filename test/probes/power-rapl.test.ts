import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { energyDeltaUj, raplProbe } from '../../agent/probes/power-rapl.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { config, copyFixture, write } from './tree.js';

const Z = 'class/powercap';
const ZONES = ['intel-rapl:0', 'intel-rapl:0:0', 'intel-rapl:0:1', 'intel-rapl:1', 'intel-rapl:1:0'];

test('rapl: watts from energy deltas, wraparound handled, sub-zones qualified', async () => {
  const t = copyFixture('sys-rapl');
  try {
    const probe = raplProbe(config({ sysRoot: t.dir }));
    assert.deepEqual(await probe.collect(1000), {});
    // package-0 wrapped: 262143000000 → 99671150 with max 262143328850 = 100 J.
    write(t.dir, `${Z}/intel-rapl:0/energy_uj`, '99671150\n');
    write(t.dir, `${Z}/intel-rapl:0:0/energy_uj`, '50060000000\n'); // +60 J
    write(t.dir, `${Z}/intel-rapl:0:1/energy_uj`, '12012500000\n'); // +12.5 J
    write(t.dir, `${Z}/intel-rapl:1/energy_uj`, '100080000000\n'); // +80 J
    write(t.dir, `${Z}/intel-rapl:1:0/energy_uj`, '9010000000\n'); // +10 J
    assert.deepEqual(await probe.collect(2000), {
      power: [
        { domain: 'package-0', source: 'rapl', watts: 100 },
        { domain: 'package-0/core', source: 'rapl', watts: 60 },
        { domain: 'package-0/dram', source: 'rapl', watts: 12.5 },
        { domain: 'package-1', source: 'rapl', watts: 80 },
        { domain: 'package-1/dram', source: 'rapl', watts: 10 },
      ],
    });
    write(t.dir, `${Z}/intel-rapl:1/energy_uj`, '100180000000\n'); // +100 J over 2 s
    const out = await probe.collect(4000);
    assert.ok(!isUnavailable(out));
    assert.deepEqual(out.power?.find((p) => p.domain === 'package-1'), { domain: 'package-1', source: 'rapl', watts: 50 });
    assert.equal(out.power?.find((p) => p.domain === 'package-0')?.watts, 0);
  } finally {
    t.cleanup();
  }
});

test('rapl: energy delta arithmetic', () => {
  assert.equal(energyDeltaUj(150, 100, 1000), 50);
  assert.equal(energyDeltaUj(10, 990, 1000), 20);
  assert.equal(energyDeltaUj(10, 990, 0), undefined); // unknown range: skip this interval
});

test('rapl: no powercap tree → {} without error', async () => {
  const probe = raplProbe(config({ sysRoot: '/nonexistent-sys' }));
  assert.deepEqual(await probe.collect(1000), {});
  assert.deepEqual(await probe.collect(2000), {});
});

test('rapl: unreadable energy_uj → unavailable with the reason', async () => {
  const t = copyFixture('sys-rapl');
  try {
    for (const z of ZONES) {
      rmSync(join(t.dir, Z, z, 'energy_uj'));
      mkdirSync(join(t.dir, Z, z, 'energy_uj')); // reading a directory fails (EISDIR)
    }
    const out = await raplProbe(config({ sysRoot: t.dir })).collect(1000);
    assert.ok(isUnavailable(out) && /EISDIR/.test(out.unavailable), JSON.stringify(out));
  } finally {
    t.cleanup();
  }
});

test('rapl: root-only energy_uj (Linux >= 5.10) → permission denied', async (t) => {
  const tree = copyFixture('sys-rapl');
  try {
    // As the kernel does it: energy_uj readable by root only.
    for (const z of ZONES) chmodSync(join(tree.dir, Z, z, 'energy_uj'), 0o400);
    chmodSync(tree.dir, 0o755);
    const probeUrl = new URL('../../agent/probes/power-rapl.js', import.meta.url).href;
    const script = `const m = await import(${JSON.stringify(probeUrl)}).catch(() => undefined);
      if (!m) { console.log('IMPORT_FAILED'); process.exit(0); }
      const out = await m.raplProbe(${JSON.stringify({ sysRoot: tree.dir })}).collect(1000);
      console.log(JSON.stringify(out));`;
    // Root reads anything, so as root the probe runs in a child as user nobody.
    const asRoot = process.getuid?.() === 0;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    const line = child.stdout.trim();
    if (line === 'IMPORT_FAILED' || child.status !== 0) {
      t.skip(`could not run the probe as an unprivileged user: ${line || child.stderr.trim().split('\n')[0]}`);
      return;
    }
    assert.deepEqual(JSON.parse(line), { unavailable: 'permission denied reading energy_uj' });
  } finally {
    tree.cleanup();
  }
});
