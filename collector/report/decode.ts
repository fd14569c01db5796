// Turns a report's input back into samples: the batches' payloads (or the scan's samples) decoded in
// chain order (a chained payload against the batch before it), the gaps the agent declared in its
// signed headers, and the chain they form. Context batches (ReportBatch.context) are decoded for
// the batch after them only.
import { batchHash } from '../../proto/chain.js';
import { assay, decodeSample, type ISample } from '../../proto/codec.js';
import { MAX_SCAN_SAMPLES, reportChainSamples, unpackSamples } from './framing.js';
import { resolveEmbedded } from './signatures.js';
import type { ChainSummary, HostInput } from './types.js';
import type { GapRecord } from '../store/store.js';

export interface SampleRow {
  seq: number;
  tsMs: number;
  /** When the collector committed the sample's batch (null for a scan). */
  receivedMs: number | null;
  sample: ISample;
}

/** A gap the agent declared in a signed batch header (the store's record of it). */
export type DeclaredGap = GapRecord;

export interface DecodedInput {
  /** Every sample of the input, in sequence (= the agent's sampling) order. */
  rows: SampleRow[];
  declaredGaps: DeclaredGap[];
  chain: ChainSummary | null;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function decodeInput(input: HostInput): DecodedInput {
  const rows: SampleRow[] = [];
  const declaredGaps: DeclaredGap[] = [];
  if (input.samples !== undefined) {
    unpackSamples(input.samples, MAX_SCAN_SAMPLES).samples.forEach((bytes, i) => {
      const sample = decodeSample(bytes);
      rows.push({ seq: i + 1, tsMs: sample.tsMs ?? 0, receivedMs: null, sample });
    });
  }
  let chain: ChainSummary | null = null;
  if (input.batches) {
    chain = { startsAfter: '', head: '', batches: [] };
    const decoded = reportChainSamples(input.batches);
    for (const b of input.batches) {
      const samples = decoded.next().value as assay.v1.Sample[];
      const headerBytes = Buffer.from(b.header, 'base64');
      const header = assay.v1.BatchHeader.decode(headerBytes);
      const seqs = (header.seqs ?? []).map(Number);
      // A context batch (before the period, embedded only so that the chained batch after it
      // decodes) adds nothing: no samples, no declared gaps, no signatures (build.ts segment).
      const context = b.context === true;
      if (!context) {
        samples.forEach((sample, i) => {
          rows.push({ seq: seqs[i] ?? 0, tsMs: sample.tsMs ?? 0, receivedMs: b.receivedMs, sample });
        });
        for (const g of header.gaps ?? []) {
          declaredGaps.push({ fromSeq: Number(g.fromSeq ?? 0), toSeq: Number(g.toSeq ?? 0), fromMs: Number(g.fromMs ?? 0), toMs: Number(g.toMs ?? 0), cause: g.cause ?? '', samples: g.samples ?? 0 });
        }
      }
      const hash = hex(batchHash(headerBytes));
      if (chain.batches.length === 0) chain.startsAfter = hex(header.prevHash ?? new Uint8Array());
      chain.batches.push({ hash, prevHash: hex(header.prevHash ?? new Uint8Array()), seqs: seqs.length, firstSeq: seqs[0] ?? 0, lastSeq: seqs.at(-1) ?? 0, gaps: (header.gaps ?? []).length, ...(context ? { context: true as const } : {}) });
      chain.head = hash;
    }
  }
  // Signatures sent by reference: the bytes the report carries for them (signatures.ts).
  resolveEmbedded(input, rows.map((r) => r.sample));
  rows.sort((a, b) => a.seq - b.seq);
  return { rows, declaredGaps, chain };
}
