// Block device throughput from /proc/diskstats.
// First call: primes the counters and returns {} (no disks field); later calls return per-second
// rates over the interval since the previous call (by nowMs).
//
// Which devices are reported:
//   * loop, ram, zram, floppy (fd) and optical (sr) devices are skipped: not real storage traffic;
//   * a partition is skipped when its whole disk is also listed, since the disk already counts
//     its partitions' I/O (sda1 under sda, nvme0n1p2 under nvme0n1, mmcblk0p1 under mmcblk0);
//   * device-mapper (dm-N) and md devices are kept: they are what LVM/RAID users recognise, even
//     though their I/O is also counted on the underlying disks.
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { guardedProbe, perSecond, readText, round } from './util.js';

interface DiskCounters {
  reads: number;
  readSectors: number;
  writes: number;
  writeSectors: number;
  ioTicksMs: number;
}

const SKIPPED = /^(loop|ram|zram|fd|sr)\d+$/;
/** /proc/diskstats always counts 512-byte sectors, whatever the device's real sector size. */
const SECTOR_BYTES = 512;

export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // major minor name + at least 11 counters (kernels before 4.18 have exactly 11).
    if (f.length < 14) continue;
    const name = f[2]!;
    const n = f.slice(3, 13).map(Number);
    if (n.some((x) => !Number.isFinite(x))) continue;
    out.set(name, { reads: n[0]!, readSectors: n[2]!, writes: n[4]!, writeSectors: n[6]!, ioTicksMs: n[9]! });
  }
  return out;
}

/** True when `name` is a partition of another device present in `names`. */
export function isPartitionOfListed(name: string, names: ReadonlySet<string>): boolean {
  // Disks whose name ends in a digit (nvme0n1, mmcblk0, md0) number partitions as pN; others (sda) as N.
  const m = name.match(/^(.*?\d)p\d+$/) ?? name.match(/^(.*\D)\d+$/);
  return m !== null && names.has(m[1]!);
}

export const diskProbe: ProbeFactory = (config) => {
  const path = join(config.procRoot, 'diskstats');
  let prev: Map<string, DiskCounters> | undefined;
  let prevMs = 0;
  return guardedProbe('disk', (nowMs) => {
    const cur = parseDiskstats(readText(path));
    const last = prev;
    const dtSec = (nowMs - prevMs) / 1000;
    prev = cur;
    prevMs = nowMs;
    if (!last || !(dtSec > 0)) return {};
    const names = new Set(cur.keys());
    const disks: assay.v1.Disk.$Properties[] = [];
    for (const [device, c] of cur) {
      if (SKIPPED.test(device) || isPartitionOfListed(device, names)) continue;
      const p = last.get(device);
      if (!p) continue; // appeared during this interval: rates start next time
      disks.push({
        device,
        readBytesPerSec: round(perSecond(c.readSectors, p.readSectors, dtSec) * SECTOR_BYTES),
        writeBytesPerSec: round(perSecond(c.writeSectors, p.writeSectors, dtSec) * SECTOR_BYTES),
        readsPerSec: round(perSecond(c.reads, p.reads, dtSec)),
        writesPerSec: round(perSecond(c.writes, p.writes, dtSec)),
        // io_ticks: milliseconds the device had I/O in flight; capped because of tick granularity.
        busyPct: round(Math.min(100, perSecond(c.ioTicksMs, p.ioTicksMs, dtSec) / 10), 2),
      });
    }
    return { disks };
  });
};
