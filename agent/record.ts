// `assay record`: the agent's own sampling, written to a trace file instead of a collector.
import { hostname } from 'node:os';
import { TraceWriter, type TraceHeader } from '../proto/trace.js';
import { collectInventory } from './probes/inventory.js';
import { createProbes } from './probes/index.js';
import { defaultProbeConfig, type ProbeConfig } from './probes/probe.js';
import { Sampler } from './sampler.js';

export interface RecordOptions {
  out: string;
  label: string;
  durationMs: number;
  intervalMs: number;
  provenance?: TraceHeader['provenance'];
  description?: string;
  evasion?: string;
  probeConfig?: Partial<ProbeConfig>;
  /** Called after each sample with the count so far (progress display). */
  onSample?: (count: number, total: number) => void;
}

export async function recordTrace(opts: RecordOptions): Promise<{ samples: number }> {
  const config: ProbeConfig = { ...defaultProbeConfig, ...opts.probeConfig };
  const sampler = new Sampler(createProbes(config));
  const inventory = await collectInventory(config).catch(() => null);
  const writer = new TraceWriter(opts.out, {
    label: opts.label,
    provenance: opts.provenance ?? 'real',
    description: opts.description ?? '',
    recordedAtMs: Date.now(),
    intervalMs: opts.intervalMs,
    hostname: hostname(),
    inventory,
    ...(opts.evasion ? { evasion: opts.evasion } : {}),
  });
  await sampler.sample(Date.now()); // primes counter-based probes
  const total = Math.max(1, Math.round(opts.durationMs / opts.intervalMs));
  let next = Date.now() + opts.intervalMs;
  for (let i = 0; i < total; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    next += opts.intervalMs;
    writer.write(await sampler.sample(Date.now()));
    opts.onSample?.(i + 1, total);
  }
  await writer.close();
  return { samples: writer.count };
}
