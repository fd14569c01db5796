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

const LIST_FIELD_SET: ReadonlySet<string> = new Set(LIST_FIELDS);

const TIMED_OUT = Symbol('timed out');

export class Sampler {
  constructor(private readonly probes: Probe[]) {}

  /** One sample at `nowMs`. Never throws: a failing probe becomes an `unavailable` entry. */
  async sample(nowMs: number): Promise<ISample> {
    const out: ISample = { tsMs: nowMs, unavailable: [] };
    // One deadline for every probe of this sample (they all start now): one timer per sample, not one per probe.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), PROBE_TIMEOUT_MS)));
    let parts: { probe: Probe; part: Awaited<ReturnType<Probe['collect']>> }[];
    try {
      parts = await Promise.all(
        this.probes.map(async (probe) => {
          try {
            const part = await Promise.race([probe.collect(nowMs), deadline]);
            return { probe, part: part === TIMED_OUT ? { unavailable: `probe ${probe.name} took longer than ${PROBE_TIMEOUT_MS} ms` } : part };
          } catch (err) {
            return { probe, part: { unavailable: (err as Error).message } };
          }
        }),
      );
    } finally {
      clearTimeout(timer);
    }
    for (const { probe, part } of parts) {
      if (isUnavailable(part)) {
        out.unavailable!.push({ probe: probe.name, reason: part.unavailable });
        continue;
      }
      // for-in walks a probe's part in the same order as Object.entries did, without an array of pairs per probe per second.
      for (const key in part) {
        const value = (part as Record<string, unknown>)[key];
        if (value === undefined || value === null) continue;
        if (LIST_FIELD_SET.has(key)) {
          const list = ((out as Record<string, unknown[]>)[key] ??= []);
          for (const item of value as unknown[]) list.push(item);
        } else {
          (out as Record<string, unknown>)[key] = value;
        }
      }
    }
    return quantizeSample(out);
  }
}
