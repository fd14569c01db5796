// `assay scan`: the whole pipeline folded into one process for an auditor on a site visit —
// probes → sampler → engine → signed report — with no collector, no spool and no network.
import { hostname } from 'node:os';
import { collectInventory } from '../probes/inventory.js';
import { createProbes } from '../probes/index.js';
import { defaultProbeConfig, type ProbeConfig } from '../probes/probe.js';
import { Sampler } from '../sampler.js';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { defaultRulesPath, evaluate, loadRulesFile } from '../../collector/engine/index.js';
import { assembleReport, inventorySummary } from '../../collector/report/build.js';
import { packSamples } from '../../collector/report/framing.js';
import type { Report, StoredVerdictJson, Thresholds } from '../../collector/report/types.js';
import { replay } from '../../collector/replay.js';
import { HostWindow } from '../../collector/window.js';
import { generateAgentKeys, type AgentKeys } from '../../proto/chain.js';
import { decodeSample, encodeSample, type ISample } from '../../proto/codec.js';
import { packageVersion } from '../../proto/package-info.js';

export interface ScanOptions {
  durationMs: number;
  intervalMs?: number;
  probeConfig?: Partial<ProbeConfig>;
  rulesPath?: string;
  thresholds?: Partial<Thresholds>;
  /** Signing key; default: a fresh one for this scan. */
  keys?: AgentKeys;
  /** Called after each sample (progress display). */
  onSample?: (n: number, total: number, sample: ISample) => void;
}

export interface ScanResult {
  report: Report;
  keys: AgentKeys;
}

export async function runScan(opts: ScanOptions): Promise<ScanResult> {
  const intervalMs = opts.intervalMs ?? 1000;
  const config: ProbeConfig = { ...defaultProbeConfig, ...opts.probeConfig };
  const rules = loadRulesFile(opts.rulesPath ?? defaultRulesPath);
  const sampler = new Sampler(createProbes(config));
  const inventory = await collectInventory(config).catch(() => null);
  await sampler.sample(Date.now()); // primes the counter-based probes
  const total = Math.max(1, Math.round(opts.durationMs / intervalMs));
  const bytes: Uint8Array[] = [];
  let next = Date.now() + intervalMs;
  for (let i = 0; i < total; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    next += intervalMs;
    const sample = await sampler.sample(Date.now());
    bytes.push(encodeSample(sample));
    opts.onSample?.(i + 1, total, sample);
  }
  // The engine sees exactly the bytes the report carries, as a verifier will.
  const samples = bytes.map((b) => decodeSample(b));
  const verdicts: StoredVerdictJson[] = replay(samples, rules, defaultClassifierOptions, inventory).map((s) => ({ tsMs: s.tsMs, verdict: s.verdict }));
  const lastTs = samples.at(-1)?.tsMs ?? 0;
  if ((verdicts.at(-1)?.tsMs ?? 0) < lastTs) {
    const window = new HostWindow(defaultClassifierOptions.windowMs);
    window.inventory = inventory;
    window.add(samples);
    verdicts.push({ tsMs: lastTs, verdict: evaluate(window.view(), rules) });
  }
  const keys = opts.keys ?? generateAgentKeys();
  const host = hostname();
  const period = { fromMs: samples[0]?.tsMs ?? Date.now(), toMs: lastTs + intervalMs };
  const report = assembleReport(
    'scan',
    [
      {
        identity: { id: `scan:${host}`, hostname: host, agentVersion: packageVersion(), publicKey: null, fingerprint: null },
        inventory: inventorySummary(inventory),
        samples: packSamples(bytes),
        verdicts,
      },
    ],
    period,
    opts.thresholds,
    keys,
    Date.now(),
  );
  return { report, keys };
}
