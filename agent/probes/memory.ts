// Memory from /proc/meminfo. No state: every call returns a full reading.
import { join } from 'node:path';
import type { assay } from '../../proto/codec.js';
import type { ProbeFactory } from './probe.js';
import { unavailable } from './probe.js';
import { guardedProbe, parseKeyNumbers, readText } from './util.js';

export function parseMeminfo(text: string): assay.v1.Memory.$Properties | undefined {
  const kv = parseKeyNumbers(text);
  const kb = (key: string): number => (kv.get(key) ?? 0) * 1024;
  const total = kv.get('MemTotal');
  if (total === undefined || total <= 0) return undefined;
  // MemAvailable exists since Linux 3.14; before that free + buffers + cached is the usual estimate.
  const available = kv.has('MemAvailable') ? kb('MemAvailable') : kb('MemFree') + kb('Buffers') + kb('Cached');
  const totalBytes = total * 1024;
  return {
    totalBytes,
    availableBytes: available,
    // "used" as procps free(1) defines it today: what is not available to new allocations.
    usedBytes: Math.max(0, totalBytes - available),
    swapTotalBytes: kb('SwapTotal'),
    swapUsedBytes: Math.max(0, kb('SwapTotal') - kb('SwapFree')),
    cachedBytes: kb('Cached'),
    hugepagesTotal: kv.get('HugePages_Total') ?? 0,
    hugepagesFree: kv.get('HugePages_Free') ?? 0,
    hugepageSizeBytes: kb('Hugepagesize'),
  };
}

export const memoryProbe: ProbeFactory = (config) => {
  const path = join(config.procRoot, 'meminfo');
  return guardedProbe('memory', () => {
    const memory = parseMeminfo(readText(path));
    return memory ? { memory } : unavailable(`malformed ${path}: no MemTotal`);
  });
};
