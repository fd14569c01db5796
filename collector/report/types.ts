// The report format shared by `assay report` (collector) and `assay scan` (one local run).
//
// A report has two halves per host: `input`, the data it rests on (signed batches with the exact
// sample bytes, or a scan's samples, and the verdicts), and `derived`, every figure and statement
// computed from that input by derive.ts. The whole report is canonical JSON signed by the
// collector's (or the scan's) Ed25519 key; `assay verify` checks that signature, the agents'
// signatures and hash chain, and recomputes `derived` with the same code, so a changed number
// fails even when the file is re-signed with another key.
import type { Evidence, EvidenceProcess, Verdict, WorkloadClass } from '../engine/types.js';

// 2: reports name the rules that made their verdicts (`rules`); scan reports carry those rules.
export const REPORT_FORMAT = 'assay-report/2';

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
}

export const DEFAULT_THRESHOLDS: Thresholds = { minCoverage: 0.99, maxNonAiShare: 0.01, maxNonAiRunMs: 5 * 60_000 };

export interface Period {
  fromMs: number;
  toMs: number;
}

/** A batch exactly as the agent signed it; `samples` is base64 of gzip(for each sample: u32be length || bytes). */
export interface ReportBatch {
  header: string;
  signature: string;
  receivedMs: number;
  samples: string;
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
  /** Scan reports: the run's samples, framed and gzipped like a batch's (no agent signature). */
  samples?: string;
  /** Verdicts in the period, plus the last one before it (it applies at the start). */
  verdicts: StoredVerdictJson[];
}

export type GapCause = 'agent_down' | 'spool_thinned' | 'spool_full' | 'clock_jump' | string;

export interface ReportGap {
  fromMs: number;
  toMs: number;
  durationMs: number;
  cause: GapCause;
  detail: string;
}

export interface Coverage {
  periodMs: number;
  coveredMs: number;
  ratio: number;
  gaps: ReportGap[];
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
  batches: Array<{ hash: string; prevHash: string; seqs: number; firstSeq: number; lastSeq: number; gaps: number }>;
}

export interface NonAi {
  share: number;
  longestRunMs: number;
  runs: Array<{ fromMs: number; toMs: number; class: string }>;
}

export interface Statement {
  aiOnly: boolean;
  text: string;
  reasons: string[];
}

export interface HostDerived {
  intervalMs: number;
  samples: number;
  coverage: Coverage;
  classes: ClassShare[];
  energy: Energy;
  nonAi: NonAi;
  aiShare: number;
  timeline: TimelineSpan[];
  evidence: EvidenceEntry[];
  topProcesses: TopProcess[];
  network: NetworkSummary;
  gpus: GpuSummary[];
  unavailable: Array<{ probe: string; reason: string; samples: number }>;
  series: Series;
  chain: ChainSummary | null;
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
  format: typeof REPORT_FORMAT;
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
