import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtures } from '../helpers/env.js';
import { loadProbe } from '../../agent/probes/load.js';
import { memoryProbe } from '../../agent/probes/memory.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { config, copyFixture, write } from './tree.js';

const procA = join(fixtures, 'proc-a');

test('memory: meminfo fields in bytes, used = total - available', async () => {
  const out = await memoryProbe(config({ procRoot: procA })).collect(1000);
  assert.deepEqual(out, {
    memory: {
      totalBytes: 65536000 * 1024, // 67108864000
      availableBytes: 40000000 * 1024,
      usedBytes: 25536000 * 1024,
      swapTotalBytes: 8388604 * 1024,
      swapUsedBytes: 388604 * 1024,
      cachedBytes: 18000000 * 1024,
      hugepagesTotal: 1024,
      hugepagesFree: 512,
      hugepageSizeBytes: 2097152,
    },
  });
});

test('memory: without MemAvailable (old kernels) falls back to free + buffers + cached', async () => {
  const t = copyFixture('proc-a');
  try {
    const text = readFileSync(join(procA, 'meminfo'), 'utf8').replace(/^MemAvailable:.*\n/m, '');
    write(t.dir, 'meminfo', text);
    const out = await memoryProbe(config({ procRoot: t.dir })).collect(1000);
    assert.ok(!isUnavailable(out));
    assert.equal(out.memory?.availableBytes, (20000000 + 100000 + 18000000) * 1024);
    write(t.dir, 'meminfo', 'garbage\n');
    const bad = await memoryProbe(config({ procRoot: t.dir })).collect(2000);
    assert.ok(isUnavailable(bad) && /MemTotal/.test(bad.unavailable));
  } finally {
    t.cleanup();
  }
});

test('load: loadavg plus procs_running/blocked from stat', async () => {
  const out = await loadProbe(config({ procRoot: procA })).collect(1000);
  assert.deepEqual(out, { load: { load1: 2.5, load5: 1.75, load15: 0.9, procsRunning: 3, procsBlocked: 1 } });
});

test('load: without /proc/stat uses loadavg running count; malformed loadavg is unavailable', async () => {
  const t = copyFixture('proc-a');
  try {
    rmSync(join(t.dir, 'stat'));
    write(t.dir, 'loadavg', '0.50 0.40 0.30 7/412 1\n');
    const probe = loadProbe(config({ procRoot: t.dir }));
    assert.deepEqual(await probe.collect(1000), { load: { load1: 0.5, load5: 0.4, load15: 0.3, procsRunning: 7, procsBlocked: 0 } });
    write(t.dir, 'loadavg', '0.50 x\n');
    const bad = await probe.collect(2000);
    assert.ok(isUnavailable(bad), JSON.stringify(bad));
    rmSync(join(t.dir, 'loadavg'));
    assert.ok(isUnavailable(await probe.collect(3000)));
  } finally {
    t.cleanup();
  }
});
