import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cpuProbe } from '../../agent/probes/cpu.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { config, copyFixture, write } from './tree.js';

const t = copyFixture('proc-a');
after(t.cleanup);

test('cpu: first call primes, second returns shares of the interval', async () => {
  const probe = cpuProbe(config({ procRoot: t.dir }));
  assert.equal(probe.name, 'cpu');
  assert.deepEqual(await probe.collect(1000), {});
  // Deltas against the fixture: user 200 nice 10 system 80 idle 600 iowait 60 irq 10 softirq 30
  // steal 10 = 1000 ticks. cpu2's line is truncated (reads 0).
  write(t.dir, 'stat', [
    'cpu  10200 510 3080 80600 1060 210 330 110 0 0',
    'cpu0 2600 100 820 20050 260 50 90 30 0 0', // +200 ticks, idle 50 iowait 10 → 70 %
    'cpu1 2600 150 700 20100 300 50 70 30 0 0', // only idle moved → 0 %
    'cpu2 2400',
    'cpu3 2550 155 770 20150 280 60 85 30 0 0', // +280, idle 150 iowait 30 → 100/280
    'procs_running 2',
    '',
  ].join('\n'));
  const out = await probe.collect(2000);
  assert.deepEqual(out, {
    cpu: { totalPct: 34, userPct: 20, nicePct: 1, systemPct: 8, iowaitPct: 6, irqPct: 4, stealPct: 1, perCorePct: [70, 0, 0, 35.71] },
  });
});

test('cpu: truncated aggregate line and missing file are unavailable, never thrown', async () => {
  const c = copyFixture('proc-a');
  try {
    const probe = cpuProbe(config({ procRoot: c.dir }));
    write(c.dir, 'stat', 'cpu  10200 510\ncpu0 1 2 3 4\n');
    const bad = await probe.collect(1000);
    assert.ok(isUnavailable(bad) && /no valid cpu line/.test(bad.unavailable), JSON.stringify(bad));
    rmSync(join(c.dir, 'stat'));
    const gone = await probe.collect(2000);
    assert.ok(isUnavailable(gone) && /ENOENT/.test(gone.unavailable), JSON.stringify(gone));
  } finally {
    c.cleanup();
  }
});
