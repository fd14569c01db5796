// The report format shared by `assay report` (collector) and `assay scan` (one local run).
//
// A report has two halves per host: `input`, the data it rests on (signed batches with the exact
// sample bytes, or a scan's samples, and the verdicts), and `derived`, every figure and statement
// computed from that input by derive.ts. The whole report is canonical JSON signed by the
// collector's (or the scan's) Ed25519 key; `assay verify` checks that signature, the agents'
// signatures and hash chain, and recomputes `derived` with the same code, so a changed number
// fails even when the file is re-signed with another key.
import type { ReportRollups, RollupFigures } from './rollups.js';
import type { Evidence, EvidenceProcess, Verdict, WorkloadClass } from '../engine/types.js';

// 2: reports name the rules that made their verdicts (`rules`); scan reports carry those rules.
// 3: the statement is a verdict with its shares (statement.ts), not a boolean; confidence splits
//    non-AI time into confident and doubtful; time before the agent's enrollment is not a gap.
// 5: a collector report carries the bytes of the process signatures its batches reference
//    (HostInput.signatures), checked against their digests.
// 6: chained batches (encoding 4): the segment reaches back to a batch that is not chained, the
//    batches before the period marked `context` (ReportBatch.context, ChainSummary), decoded in
//    chain order; a segment whose chain back is broken leaves its undecodable batches out and says
//    so (ReportRollups.undecodable).
export const REPORT_FORMAT = 'assay-report/6';
/** Formats `assay verify` reads: 3 (every batch's samples gzipped), 4 (schema-3 batches' payloads as signed), 5 (referenced signatures) and 6 (chained batches with their context). */
export const REPORT_FORMATS_READ: readonly string[] = ['assay-report/3', 'assay-report/4', 'assay-report/5', REPORT_FORMAT];

/** Classes that contradict an "AI only" statement. */
export const NON_AI_CLASSES = ['pow-mining', 'chain-validation', 'storage-proving'] as const;
export const AI_CLASSES = ['ai-training', 'ai-inference'] as const;

export interface Thresholds {
  /** Least share of the period with samples for the statement to hold (0..1). */
  minCoverage: number;
  /** Largest share of the covered time a non-AI class (or a non-AI part of a mixed verdict) may hold (0..1). */
  maxNonAiShare: number;
  /** Longest single stretch of non-AI verdicts allowed (ms). */
  maxNonAiRunMs: number;
  /**
   * Least verdict confidence (0..1) for non-AI time to count as confident. Non-AI time below it is
   * doubtful: reported apart, and above maxNonAiShare (or in a stretch over maxNonAiRunMs) it makes
   * the answer "cannot-say" instead of "ai-only" (never a pass).
   */
  minConfidence: number;
}

// minConfidence 0.3: the lowest final confidence of a correct non-AI verdict on a recorded trace in
// bench/eval-report.md (rules 2026.12.1) is 0.37 (storage-proving, emulated) and 0.38 on a real one
// (chain-validation, ethereumjs); the spurious storage-proving blip during `npm install`
// had 0.16. (The generic-runtime chain evasion ends at 0.24: doubtful, so "cannot-say", not a pass.)
export const DEFAULT_THRESHOLDS: Thresholds = { minCoverage: 0.99, maxNonAiShare: 0.01, maxNonAiRunMs: 5 * 60_000, minConfidence: 0.3 };

export interface Period {
  fromMs: number;
  toMs: number;
}

/**
 * A batch exactly as the agent signed it. A schema-3 batch carries `payload`: base64 of the
 * exact bytes its header's payload_digest hashes (raw deflate of the delta-encoded framed
 * samples, proto/payload.ts). A v2 batch carries `samples`: base64 of gzip(for each sample:
 * u32be length || bytes), the bytes its samples_digest hashes.
 */
export interface ReportBatch {
  header: string;
  signature: string;
  receivedMs: number;
  samples?: string;
  payload?: string;
  /**
   * A context batch (format 6): before the period, embedded only because the batch after it is
   * chained (encoding 4: its first sample is encoded against this batch's last one), so that the
   * report decodes offline. Its samples, gaps and signatures count in no figure; `assay verify`
   * checks it like any batch, and that context batches come first and hold no sample in the period.
   */
  context?: true;
}

export interface ReportIdentity {
  id: string;
  hostname: string;
  agentVersion: string;
  /** Ed25519 public key (hex) recorded at enrollment; null for a scan. */
  publicKey: string | null;
  fingerprint: string | null;
}

export interface ReportInventory {
  cpuModel: string;
  logicalCores: number;
  memoryTotalBytes: number;
  gpus: string[];
  kernel: string;
}

export interface StoredVerdictJson {
  tsMs: number;
  verdict: Verdict;
}

export interface HostInput {
  identity: ReportIdentity;
  inventory: ReportInventory | null;
  /** Collector reports: the hash-chain segment covering the period (oldest first). */
  batches?: ReportBatch[];
  /**
   * Collector reports whose batches send process signatures by reference (ProcessSignature.same_as,
   * agents from 2026-12-07): each referenced signature's canonical bytes (base64) by their SHA-256
   * (hex), as the collector resolved them; `assay verify` checks every digest. Absent when no
   * batch references one; a reference the collector could not resolve is absent too (its process
   * shows without a signature, as it did in the collector).
   */
  signatures?: Record<string, string>;
  /** Scan reports: the run's samples, framed and gzipped like a batch's (no agent signature). */
  samples?: string;
  /** Verdicts in the period, plus the last one before it (it applies at the start). */
  verdicts: StoredVerdictJson[];
  /**
   * Collector reports: when the collector enrolled the agent (its first Hello). Time before the
   * agent's first sample ever (or before this, when earlier) is "before enrollment", not a gap, but
   * only when the report's chain segment starts at the agent's chain start (coverage.ts).
   */
  enrolledMs?: number | null;
  /**
   * Collector reports over a period that reaches before the raw attestation window: the
   * collector's roll-ups for that span (report/rollups.ts). Absent otherwise.
   */
  rollups?: ReportRollups;
}

export type GapCause = 'agent_down' | 'spool_thinned' | 'spool_full' | 'clock_jump' | string;

export interface ReportGap {
  fromMs: number;
  toMs: number;
  durationMs: number;
  cause: GapCause;
  detail: string;
}

/** The part of the period before the agent was enrolled: not monitored, so neither covered nor a gap. */
export interface BeforeEnrollment {
  fromMs: number;
  toMs: number;
  durationMs: number;
}

export interface Coverage {
  /** The period after enrollment (the whole period when the agent was enrolled before it). */
  periodMs: number;
  coveredMs: number;
  ratio: number;
  gaps: ReportGap[];
  beforeEnrollment: BeforeEnrollment | null;
}

export interface ClassShare {
  class: WorkloadClass | 'unclassified';
  timeMs: number;
  timeShare: number;
  energyKwh: number | null;
  energyShare: number | null;
}

export interface Energy {
  available: boolean;
  totalKwh: number | null;
  /** Covered time with a power reading (ms). */
  measuredMs: number;
  note: string;
}

export interface TimelineSpan {
  fromMs: number;
  toMs: number;
  class: WorkloadClass;
  confidence: number;
  verdicts: number;
}

export interface EvidenceEntry {
  fromMs: number;
  toMs: number;
  class: WorkloadClass;
  confidence: number;
  verdictTsMs: number;
  evidence: Evidence[];
  parts: Array<{ class: string; share: number; processes: EvidenceProcess[] }>;
}

export interface TopProcess {
  pid: number;
  name: string;
  cpuPctMean: number;
  samples: number;
  exe: string;
  exeSha256: string;
  cmdline: string;
}

export interface NetworkSummary {
  listening: Array<{ protocol: string; port: number; process: string }>;
  peers: Array<{ address: string; port: number; samples: number; process: string }>;
}

export interface GpuSummary {
  index: number;
  name: string;
  utilPctMean: number;
  powerWattsMean: number | null;
}

export interface Series {
  tsMs: number[];
  cpuPct: Array<number | null>;
  gpuPct: Array<number | null>;
  powerWatts: Array<number | null>;
}

export interface ChainSummary {
  /** prev_hash of the first batch of the segment (hex; empty when the chain starts there). */
  startsAfter: string;
  /** Hash of the last batch of the segment: the chain head at the end of the period. */
  head: string;
  /** `context`: a context batch (ReportBatch.context), decoded only for the batch after it. */
  batches: Array<{ hash: string; prevHash: string; seqs: number; firstSeq: number; lastSeq: number; gaps: number; context?: true }>;
}

/** A stretch of non-AI verdicts, all confident or all doubtful (below thresholds.minConfidence). */
export interface NonAiRun {
  fromMs: number;
  toMs: number;
  class: string;
  doubtful: boolean;
  /** Lowest and highest confidence of the verdicts in the stretch. */
  lowestConfidence: number;
  highestConfidence: number;
  verdicts: number;
  /** The strongest evidence of the stretch's most confident verdict, and the processes of its non-AI parts. */
  evidence: Evidence[];
  processes: EvidenceProcess[];
}

export interface NonAi {
  /** Share of the covered time with confident non-AI work. */
  share: number;
  /** Share of the covered time with doubtful non-AI work. */
  doubtfulShare: number;
  /** Longest stretch of confident non-AI verdicts (ms). */
  longestRunMs: number;
  /** Longest stretch of non-AI verdicts whatever their confidence (ms). */
  longestAnyRunMs: number;
  /** How many stretches there are; `runs` lists the longest MAX_RUNS (statement.ts) in time order. */
  runCount: number;
  runs: NonAiRun[];
}

export const STATEMENT_VERDICTS = ['ai-only', 'no-non-ai-no-ai', 'non-ai-found', 'cannot-say', 'insufficient-coverage'] as const;
export type StatementVerdict = (typeof STATEMENT_VERDICTS)[number];

/** The statement's figures: coverage of the period, and shares of the covered time (summing to 1). */
export interface StatementShares {
  coverage: number;
  ai: number;
  nonAi: number;
  doubtfulNonAi: number;
  idleGeneral: number;
  unclassified: number;
}

export interface Statement {
  verdict: StatementVerdict;
  /** The verdict with its numbers, e.g. "AI-only: 97.2 % AI, 0.0 % non-AI, …, coverage 99.6 %". */
  headline: string;
  /** The headline with the hosts and the period. */
  text: string;
  shares: StatementShares;
  /** Why the verdict is not "ai-only" (empty for "ai-only"). */
  reasons: string[];
  /** What a reader must know besides: doubtful time within the thresholds, hosts without AI work. */
  notes: string[];
}

export interface HostDerived {
  intervalMs: number;
  samples: number;
  coverage: Coverage;
  classes: ClassShare[];
  energy: Energy;
  nonAi: NonAi;
  aiShare: number;
  /** Share of the covered time that is idle or general work (incl. such parts of mixed verdicts). */
  idleGeneralShare: number;
  timeline: TimelineSpan[];
  evidence: EvidenceEntry[];
  topProcesses: TopProcess[];
  network: NetworkSummary;
  gpus: GpuSummary[];
  unavailable: Array<{ probe: string; reason: string; samples: number }>;
  series: Series;
  chain: ChainSummary | null;
  /** Present only with input.rollups: figures that rest on roll-ups, not on signed bytes. */
  rollups?: RollupFigures;
  statement: Statement;
}

export interface HostSection {
  input: HostInput;
  derived: HostDerived;
}

/**
 * The rules that made a report's verdicts. `sha256` is SHA-256 (hex) of the canonical JSON
 * (canonical.ts) of the parsed, validated rules, so comments and layout of the YAML do not count.
 * A scan report carries the rules themselves in `data` (gzip of that canonical JSON, base64), so
 * its verdicts can always be re-derived. A collector report names them only: `sha256` is null
 * when the report's verdicts name a rules version other than the rules the report was built with
 * (the collector reloaded its rules), so the exact rules are unknown.
 */
export interface ReportRules {
  version: string;
  sha256: string | null;
  data?: string;
}

export interface Signer {
  role: 'collector' | 'scan';
  publicKey: string;
  fingerprint: string;
}

export interface Report {
  format: string;
  kind: 'collector' | 'scan';
  generatedMs: number;
  generator: string;
  period: Period;
  thresholds: Thresholds;
  rules: ReportRules;
  hosts: HostSection[];
  statement: Statement;
  signer: Signer;
  /** Ed25519 over the canonical JSON of the report without this field (base64). */
  signature: string;
}

export type UnsignedReport = Omit<Report, 'signature'>;
