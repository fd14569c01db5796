// Runs every registered probe once per tick and merges their parts into one Sample, with the
// figures the engine does not need at full precision rounded (quantize.ts) so that unchanged
// processes stay byte-identical from one sample to the next and compress away.
import type { ISample } from '../proto/codec.js';
import { isUnavailable, type Probe } from './probes/probe.js';
import { quantizeSample } from './quantize.js';

/** Longest a probe may take before its part of the sample is reported unavailable. */
const PROBE_TIMEOUT_MS = 2_000;

/** List fields several probes may contribute to (e.g. power from RAPL and from GPUs). */
const LIST_FIELDS = ['disks', 'net', 'gpus', 'power', 'processes', 'sockets', 'gpuProcesses', 'unavailable'] as const;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export class Sampler {
  constructor(private readonly probes: Probe[]) {}

  /** One sample at `nowMs`. Never throws: a failing probe becomes an `unavailable` entry. */
  async sample(nowMs: number): Promise<ISample> {
    const out: ISample = { tsMs: nowMs, unavailable: [] };
    const parts = await Promise.all(
      this.probes.map(async (probe) => {
        try {
          return { probe, part: await withTimeout(probe.collect(nowMs), PROBE_TIMEOUT_MS, `probe ${probe.name}`) };
        } catch (err) {
          return { probe, part: { unavailable: (err as Error).message } };
        }
      }),
    );
    for (const { probe, part } of parts) {
      if (isUnavailable(part)) {
        out.unavailable!.push({ probe: probe.name, reason: part.unavailable });
        continue;
      }
      for (const [key, value] of Object.entries(part) as Array<[keyof ISample, unknown]>) {
        if (value === undefined || value === null) continue;
        if ((LIST_FIELDS as readonly string[]).includes(key)) {
          const list = ((out as Record<string, unknown[]>)[key] ??= []);
          list.push(...(value as unknown[]));
        } else {
          (out as Record<string, unknown>)[key] = value;
        }
      }
    }
    return quantizeSample(out);
  }
}
