// `assay report`: gathers a period's data for some hosts from the store (the hash-chain segment
// with every sample's exact signed bytes, the declared gaps, the verdicts), derives every figure
// with derive.ts, and signs the whole as canonical JSON.
import { fingerprint, type AgentKeys } from '../../proto/chain.js';
import type { IInventory } from '../../proto/codec.js';
import { BatchEncoding, unframeSamples } from '../../proto/payload.js';
import { packageVersion } from '../../proto/package-info.js';
import type { Store, StoredBatch } from '../store/store.js';
import { deriveHost, deriveStatement } from './derive.js';
import type { Rules } from '../engine/index.js';
import { packSamples, reportBatchSamples } from './framing.js';
import { referencedDigests } from '../signature-refs.js';
import { rollupsFor } from './rollups.js';
import { bundledRules, collectorRules } from './rules-id.js';
import { signReport, signerOf } from './sign.js';
import { DEFAULT_THRESHOLDS, REPORT_FORMAT, type HostInput, type HostSection, type Period, type Report, type ReportBatch, type ReportInventory, type ReportRules, type Thresholds } from './types.js';

export interface ReportOptions {
  hostIds: string[];
  fromMs: number;
  toMs: number;
  thresholds?: Partial<Thresholds>;
  /** The collector's key (sign.ts loadOrCreateKey(collectorKeyPath(db))). */
  keys: AgentKeys;
  /** The rules the collector classifies with (default: the bundled rules); named in the report if its verdicts name their version. */
  rules?: Rules;
  nowMs?: number;
}

export function inventorySummary(inv: IInventory | null | undefined): ReportInventory | null {
  if (!inv) return null;
  return {
    cpuModel: inv.cpuModel ?? '',
    logicalCores: inv.cpuLogicalCores ?? 0,
    memoryTotalBytes: Number(inv.memoryTotalBytes ?? 0),
    gpus: (inv.gpus ?? []).map((g) => `${g.vendor ?? ''} ${g.model ?? ''}`.trim()),
    kernel: inv.kernel ?? '',
  };
}

/** The chain segment holding every sample of the period: walked back from the newest one by prev_hash. */
async function segment(store: Store, hostId: string, period: Period): Promise<StoredBatch[]> {
  const range = await store.seqRange(hostId, period.fromMs, period.toMs);
  if (!range) return [];
  const out: StoredBatch[] = [];
  let b = await store.batchContaining(hostId, range.maxSeq);
  const seen = new Set<string>();
  while (b) {
    const key = Buffer.from(b.hash).toString('hex');
    if (seen.has(key)) throw new Error(`hash chain of ${hostId} loops at ${key}`);
    seen.add(key);
    out.push(b);
    if ((b.samples > 0 && b.firstSeq <= range.minSeq) || b.prevHash.length === 0) break;
    b = await store.batchByHash(hostId, b.prevHash);
  }
  return out.reverse();
}

/** A stored batch as the report embeds it: the payload exactly as signed (v2: its samples, gzipped). */
function reportBatch(b: StoredBatch): ReportBatch {
  const base = { header: Buffer.from(b.header).toString('base64'), signature: Buffer.from(b.signature).toString('base64'), receivedMs: b.receivedMs };
  if (b.encoding === BatchEncoding.BATCH_ENCODING_SAMPLES) return { ...base, samples: packSamples(unframeSamples(b.payload)) };
  return { ...base, payload: Buffer.from(b.payload).toString('base64') };
}

export async function hostInput(store: Store, hostId: string, period: Period): Promise<HostInput> {
  const host = await store.getHost(hostId);
  if (!host) throw new Error(`unknown host ${hostId}`);
  const batches = (await segment(store, hostId, period)).map(reportBatch);
  // The bytes of every signature the batches send by reference, so the report decodes offline.
  const refs = new Map<string, Uint8Array>();
  for (const b of batches) for (const [hex, d] of referencedDigests(reportBatchSamples(b))) refs.set(hex, d); // a batch at a time
  const blobs = refs.size ? await store.signatureBlobs([...refs.values()]) : new Map<string, Uint8Array>();
  const signatures = Object.fromEntries([...blobs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([hex, bytes]) => [hex, Buffer.from(bytes).toString('base64')]));
  const before = await store.verdictBefore(hostId, period.fromMs);
  const within = await store.verdicts(hostId, period.fromMs, period.toMs, 1_000_000);
  const rollups = await rollupsFor(store, hostId, period);
  return {
    identity: {
      id: host.id,
      hostname: host.hostname,
      agentVersion: host.agentVersion,
      publicKey: host.publicKey ? Buffer.from(host.publicKey).toString('hex') : null,
      fingerprint: host.publicKey ? fingerprint(host.publicKey) : null,
    },
    inventory: inventorySummary(host.inventory),
    batches,
    ...(blobs.size ? { signatures } : {}),
    verdicts: [...(before ? [before] : []), ...within].map((v) => ({ tsMs: v.tsMs, verdict: v.verdict })),
    enrolledMs: host.enrolledMs ?? host.firstSeenMs,
    ...(rollups ? { rollups } : {}),
  };
}

/** Derives, states and signs a report from its hosts' inputs (collector reports and scans alike). */
export function assembleReport(
  kind: Report['kind'],
  inputs: HostInput[],
  period: Period,
  thresholds: Partial<Thresholds> | undefined,
  rules: ReportRules,
  keys: AgentKeys,
  nowMs: number,
): Report {
  const t: Thresholds = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const hosts: HostSection[] = inputs.map((input) => ({ input, derived: deriveHost(input, period, t) }));
  return signReport(
    {
      format: REPORT_FORMAT,
      kind,
      generatedMs: nowMs,
      generator: `assay ${packageVersion()}`,
      period,
      thresholds: t,
      rules,
      hosts,
      statement: deriveStatement(hosts, period),
      signer: signerOf(keys, kind),
    },
    keys,
  );
}

export async function buildReport(store: Store, opts: ReportOptions): Promise<Report> {
  if (opts.hostIds.length === 0) throw new Error('a report needs at least one host');
  if (!(opts.toMs > opts.fromMs)) throw new Error('the report period must end after it starts');
  const period = { fromMs: opts.fromMs, toMs: opts.toMs };
  const inputs: HostInput[] = [];
  for (const id of opts.hostIds) inputs.push(await hostInput(store, id, period));
  const rules = collectorRules(opts.rules ?? bundledRules().rules, inputs.flatMap((i) => i.verdicts));
  return assembleReport('collector', inputs, period, opts.thresholds, rules, opts.keys, opts.nowMs ?? Date.now());
}
