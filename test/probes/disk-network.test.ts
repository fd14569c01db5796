import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { diskProbe, isPartitionOfListed } from '../../agent/probes/disk.js';
import { networkProbe } from '../../agent/probes/network.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { config, copyFixture, write } from './tree.js';

const t = copyFixture('proc-a');
after(t.cleanup);

/** Replaces the counters of one diskstats line, keeping the others. */
function setDisk(name: string, counters: number[]): void {
  const path = join(t.dir, 'diskstats');
  const lines = readFileSync(path, 'utf8').split('\n').map((l) => {
    const f = l.trim().split(/\s+/);
    return f[2] === name ? [f[0], f[1], name, ...counters].join(' ') : l;
  });
  write(t.dir, 'diskstats', lines.join('\n'));
}

test('disk: whole disks only, rates from the second reading', async () => {
  const probe = diskProbe(config({ procRoot: t.dir }));
  assert.deepEqual(await probe.collect(10_000), {});
  // nvme0n1: +1000 reads, +8000 sectors read, +500 writes, +4000 sectors written, +250 ms io_ticks.
  setDisk('nvme0n1', [101000, 2000, 8008000, 50000, 200500, 3000, 16004000, 90000, 0, 300250, 140000, 0, 0, 0, 0, 1000, 500]);
  // sda counters went backwards (device reset): 0 rather than a negative or huge rate.
  setDisk('sda', [10, 0, 80, 9, 3, 0, 24, 5, 0, 12, 14, 0, 0, 0, 0, 0, 0]);
  const out = await probe.collect(11_000);
  const zero = { readBytesPerSec: 0, writeBytesPerSec: 0, readsPerSec: 0, writesPerSec: 0, busyPct: 0 };
  // loop*, zram0, sr0 skipped; nvme0n1p*, sda1 skipped (their disk is listed); the 3-field sdb line is malformed.
  assert.deepEqual(out, {
    disks: [
      { device: 'nvme0n1', readBytesPerSec: 4096000, writeBytesPerSec: 2048000, readsPerSec: 1000, writesPerSec: 500, busyPct: 25 },
      { device: 'nvme1n1', ...zero },
      { device: 'sda', ...zero },
      { device: 'dm-0', ...zero },
    ],
  });
  // Two seconds later with 3000 ms of io_ticks (several requests in flight): rates halve, busy caps at 100.
  setDisk('nvme0n1', [103000, 2000, 8024000, 50000, 200500, 3000, 16004000, 90000, 0, 303250, 140000, 0, 0, 0, 0, 1000, 500]);
  const out2 = await probe.collect(13_000);
  assert.ok(!isUnavailable(out2));
  assert.deepEqual(out2.disks?.[0], { device: 'nvme0n1', readBytesPerSec: 4096000, writeBytesPerSec: 0, readsPerSec: 1000, writesPerSec: 0, busyPct: 100 });
});

test('disk: partition rule', () => {
  const names = new Set(['sda', 'sda1', 'nvme0n1', 'nvme0n1p2', 'nvme0n10', 'mmcblk0', 'mmcblk0p1', 'md0', 'dm-0', 'xvdp1']);
  assert.equal(isPartitionOfListed('sda1', names), true);
  assert.equal(isPartitionOfListed('nvme0n1p2', names), true);
  assert.equal(isPartitionOfListed('mmcblk0p1', names), true);
  assert.equal(isPartitionOfListed('nvme0n10', names), false); // namespace 10, not partition 0 of nvme0n1
  assert.equal(isPartitionOfListed('nvme0n1', names), false);
  assert.equal(isPartitionOfListed('md0', names), false);
  assert.equal(isPartitionOfListed('xvdp1', names), false); // its disk xvdp is not listed
  assert.equal(isPartitionOfListed('dm-0', names), false);
});

test('network: per-second rates, lo skipped, missing file unavailable', async () => {
  const n = copyFixture('proc-a');
  try {
    const probe = networkProbe(config({ procRoot: n.dir }));
    assert.deepEqual(await probe.collect(5000), {});
    const dev = readFileSync(join(n.dir, 'net', 'dev'), 'utf8').replace(
      /^ {2}eth0:.*$/m,
      '  eth0: 216376255  161530    0    0    0     0          0        12 47098100  142850    0    0    0     0       0          0',
    );
    write(n.dir, 'net/dev', dev);
    const out = await probe.collect(7000); // 2 s later
    const zero = { rxBytesPerSec: 0, txBytesPerSec: 0, rxPacketsPerSec: 0, txPacketsPerSec: 0 };
    assert.deepEqual(out, {
      net: [
        { iface: 'eth0', rxBytesPerSec: 625000, txBytesPerSec: 125000, rxPacketsPerSec: 500, txPacketsPerSec: 250 },
        { iface: 'docker0', ...zero },
        { iface: 'veth3f2a1b0', ...zero },
      ],
    });
    rmSync(join(n.dir, 'net', 'dev'));
    const gone = await probe.collect(8000);
    assert.ok(isUnavailable(gone));
  } finally {
    n.cleanup();
  }
});
