// `assay scan`: the whole pipeline folded into one process for an auditor on a site visit —
// probes → sampler → engine → signed report — with no collector, no spool and no network.
import { hostname } from 'node:os';
import { collectInventory } from '../probes/inventory.js';
import { createProbes } from '../probes/index.js';
import { defaultProbeConfig, type ProbeConfig } from '../probes/probe.js';
import { Sampler } from '../sampler.js';
import { defaultRulesPath, loadRulesFile, type Rules } from '../../collector/engine/index.js';
import { assembleReport, embeddedRules, engineInventory, inventorySummary, packSamples, scanVerdicts, type Report, type Thresholds } from '../../collector/report/index.js';
import { generateAgentKeys, type AgentKeys } from '../../proto/chain.js';
import { decodeSample, encodeSample, type IInventory, type ISample } from '../../proto/codec.js';
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
  const keys = opts.keys ?? generateAgentKeys();
  const report = scanReport(bytes, inventory, rules, { thresholds: opts.thresholds, keys, intervalMs, nowMs: Date.now(), host: hostname() });
  return { report, keys };
}

export interface ScanReportOptions {
  thresholds: Partial<Thresholds> | undefined;
  keys: AgentKeys;
  intervalMs: number;
  nowMs: number;
  host: string;
}

/**
 * A scan's signed report from the exact bytes of its samples. The engine sees those bytes and the
 * inventory summary the report carries, at the rules the report carries, as a verifier will.
 */
export function scanReport(bytes: readonly Uint8Array[], inventory: IInventory | null, rules: Rules, o: ScanReportOptions): Report {
  const samples = bytes.map((b) => decodeSample(b));
  const inventorySeen = inventorySummary(inventory);
  const verdicts = scanVerdicts(samples, rules, engineInventory(inventorySeen));
  const lastTs = samples.at(-1)?.tsMs ?? 0;
  const period = { fromMs: samples[0]?.tsMs ?? o.nowMs, toMs: lastTs + o.intervalMs };
  return assembleReport(
    'scan',
    [
      {
        identity: { id: `scan:${o.host}`, hostname: o.host, agentVersion: packageVersion(), publicKey: null, fingerprint: null },
        inventory: inventorySeen,
        samples: packSamples(bytes),
        verdicts,
      },
    ],
    period,
    o.thresholds,
    embeddedRules(rules),
    o.keys,
    o.nowMs,
  );
}
