// `assay report`: gathers a period's data for some hosts from the store (the hash-chain segment
// with every sample's exact signed bytes and, for chained batches, the context they decode
// against; the declared gaps, the verdicts), derives every figure with derive.ts, and signs the
// whole as canonical JSON.
import { fingerprint, type AgentKeys } from '../../proto/chain.js';
import type { IInventory } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_WALK_LIMIT, payloadChained, unframeSamples } from '../../proto/payload.js';
import { packageVersion } from '../../proto/package-info.js';
import type { Store, StoredBatch } from '../store/store.js';
import { deriveHost, deriveStatement } from './derive.js';
import type { Rules } from '../engine/index.js';
import { packSamples, reportChainSamples } from './framing.js';
import { referencedDigests } from '../signature-refs.js';
import { rollupsFor } from './rollups.js';
import { bundledRules, collectorRules } from './rules-id.js';
import { signReport, signerOf } from './sign.js';
import { DEFAULT_REPORT_MAX_SIGNED_BYTES, ReportTooLarge, checkReportBudget, fittingMs, signedBytesOf } from './budget.js';
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
  /** Signed batch bytes the report may embed, all hosts together (budget.ts; default DEFAULT_REPORT_MAX_SIGNED_BYTES). */
  maxSignedBytes?: number;
}

/**
 * The signed bytes a report has read so far against its limit: the estimate (budget.ts) refuses a
 * period before anything is read; this stops a build whose estimate was low as soon as the bytes
 * it read pass the limit, so the memory a report takes stays bounded either way.
 */
export class SignedBudget {
  used = 0;
  constructor(readonly limitBytes: number, readonly period: Period) {}
  take(b: StoredBatch): void {
    this.used += signedBytesOf(b);
    if (this.used <= this.limitBytes) return;
    // The rate so far: what was read covers the period back from its end to this batch.
    const covered = { fromMs: Math.max(this.period.fromMs, Math.min(b.receivedMs, this.period.toMs - 60_000)), toMs: this.period.toMs };
    const fits = Math.min(fittingMs(this.used, this.limitBytes, covered), this.period.toMs - this.period.fromMs);
    throw new ReportTooLarge(this.used, this.limitBytes, this.period, fits, false);
  }
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

/**
 * What a report embeds of a host's chain: the batches holding every sample of the period, and
 * before them, when the first is chained (encoding 4), its context back to a batch that is not
 * chained, so an offline verifier decodes every batch (`context` of them, oldest first).
 * `undecodable`: the leading chained batches of the period whose chain back is broken (a batch on
 * it deleted by retention, never stored, or beyond CHAIN_WALK_LIMIT): left out, their time said
 * to rest on roll-ups (rollups.ts).
 */
interface Segment {
  batches: StoredBatch[];
  context: number;
  undecodable: StoredBatch[];
}

const hashKey = (h: Uint8Array): string => Buffer.from(h).toString('hex');
const chained = (b: StoredBatch): boolean => payloadChained(b.encoding, b.payload);

/** The chain segment holding every sample of the period: walked back from the newest one by prev_hash. */
async function segment(store: Store, hostId: string, period: Period, budget: SignedBudget): Promise<Segment> {
  const range = await store.seqRange(hostId, period.fromMs, period.toMs);
  if (!range) return { batches: [], context: 0, undecodable: [] };
  const out: StoredBatch[] = [];
  let b = await store.batchContaining(hostId, range.maxSeq);
  const seen = new Set<string>();
  while (b) {
    const key = hashKey(b.hash);
    if (seen.has(key)) throw new Error(`hash chain of ${hostId} loops at ${key}`);
    seen.add(key);
    budget.take(b);
    out.push(b);
    if ((b.samples > 0 && b.firstSeq <= range.minSeq) || b.prevHash.length === 0) break;
    b = await store.batchByHash(hostId, b.prevHash);
  }
  const batches = out.reverse();
  const first = batches[0];
  if (!first || !chained(first)) return { batches, context: 0, undecodable: [] };
  // Its context: back by prev_hash to a batch that is not chained, as far as readers walk.
  const context: StoredBatch[] = [];
  let prev = first.prevHash.length ? await store.batchByHash(hostId, first.prevHash) : null;
  while (prev && context.length < CHAIN_WALK_LIMIT && !seen.has(hashKey(prev.hash))) {
    seen.add(hashKey(prev.hash));
    budget.take(prev);
    context.push(prev);
    if (!chained(prev)) return { batches: [...context.reverse(), ...batches], context: context.length, undecodable: [] };
    prev = prev.prevHash.length ? await store.batchByHash(hostId, prev.prevHash) : null;
  }
  // Broken: the period's batches up to its first one that is not chained cannot be decoded.
  const keyframe = batches.findIndex((x) => !chained(x));
  const cut = keyframe < 0 ? batches.length : keyframe;
  return { batches: batches.slice(cut), context: 0, undecodable: batches.slice(0, cut) };
}

/** A stored batch as the report embeds it: the payload exactly as signed (v2: its samples, gzipped). */
function reportBatch(b: StoredBatch, context: boolean): ReportBatch {
  const base = { header: Buffer.from(b.header).toString('base64'), signature: Buffer.from(b.signature).toString('base64'), receivedMs: b.receivedMs, ...(context ? { context: true as const } : {}) };
  if (b.encoding === BatchEncoding.BATCH_ENCODING_SAMPLES) return { ...base, samples: packSamples(unframeSamples(b.payload)) };
  return { ...base, payload: Buffer.from(b.payload).toString('base64') };
}

export async function hostInput(store: Store, hostId: string, period: Period, budget: SignedBudget): Promise<HostInput> {
  const host = await store.getHost(hostId);
  if (!host) throw new Error(`unknown host ${hostId}`);
  const seg = await segment(store, hostId, period, budget);
  const batches = seg.batches.map((b, i) => reportBatch(b, i < seg.context));
  // The bytes of every signature the batches of the period send by reference, so the report
  // decodes offline; and the time of its first sample (where undecodable batches end).
  const refs = new Map<string, Uint8Array>();
  let firstMs: number | null = null;
  let i = 0;
  for (const samples of reportChainSamples(batches)) {
    if (i++ < seg.context) continue;
    firstMs ??= samples[0]?.tsMs ?? null;
    for (const [hex, d] of referencedDigests(samples)) refs.set(hex, d); // a batch at a time
  }
  const blobs = refs.size ? await store.signatureBlobs([...refs.values()]) : new Map<string, Uint8Array>();
  const signatures = Object.fromEntries([...blobs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([hex, bytes]) => [hex, Buffer.from(bytes).toString('base64')]));
  const before = await store.verdictBefore(hostId, period.fromMs);
  const within = await store.verdicts(hostId, period.fromMs, period.toMs, 1_000_000);
  const lost = seg.undecodable;
  const rollups = await rollupsFor(
    store,
    hostId,
    period,
    lost.length ? { batches: lost.length, firstSeq: lost[0]!.firstSeq, lastSeq: lost.at(-1)!.lastSeq, untilMs: firstMs ?? period.toMs } : undefined,
  );
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
  const limit = opts.maxSignedBytes ?? DEFAULT_REPORT_MAX_SIGNED_BYTES;
  // Refused before anything is read when the estimate is over; counted while read otherwise.
  await checkReportBudget(store, opts.hostIds, period, limit);
  const budget = new SignedBudget(limit, period);
  const inputs: HostInput[] = [];
  for (const id of opts.hostIds) inputs.push(await hostInput(store, id, period, budget));
  const rules = collectorRules(opts.rules ?? bundledRules().rules, inputs.flatMap((i) => i.verdicts));
  return assembleReport('collector', inputs, period, opts.thresholds, rules, opts.keys, opts.nowMs ?? Date.now());
}
