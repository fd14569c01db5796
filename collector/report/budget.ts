// How much a report may embed. A report holds every signed byte of its period (base64 in JSON,
// and the HTML page embeds that JSON), and building one decodes every sample to derive its
// figures: measured on a 1 Hz host of the recorded trace (bench/report-size.ts), 1.7 MB of signed
// batches per host-hour make a 2.9 MB report and cost ~135 MB of the builder's peak RSS. A 7-day
// report of such a host would be a ~480 MB string (near V8's largest, ~537M characters) and
// ~20 GB of memory: the collector fails every host it serves. So a report whose period holds more
// signed bytes than the limit is refused before it is built, with the longest period that fits.
import { CHAIN_MAX_BATCHES } from '../../proto/payload.js';
import type { Store, StoredBatch } from '../store/store.js';
import type { Period } from './types.js';

/** Default: signed batch bytes (payload, header, signature) one report may embed, all hosts together. */
export const DEFAULT_REPORT_MAX_SIGNED_BYTES = 16_000_000;

/** Too many signed bytes for one report: say how many, the limit, and how long a period fits. */
export class ReportTooLarge extends Error {
  constructor(
    readonly signedBytes: number,
    readonly limitBytes: number,
    readonly period: Period,
    /** The longest period (ms) that fits at the rate of this one, floor 1 minute. */
    readonly fitsMs: number,
    estimated: boolean,
  ) {
    super(
      `this report would embed ${estimated ? 'about ' : 'over '}${mb(signedBytes)} of signed batches, over the limit of ${mb(limitBytes)} a report may hold ` +
        `(--report-max-bytes / ASSAY_REPORT_MAX_BYTES): ask for periods of at most ${span(fitsMs)} each (several reports, each verified on its own)`,
    );
    this.name = 'ReportTooLarge';
  }
}

const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

function span(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The longest period at this period's rate of signed bytes that stays within the limit. */
export function fittingMs(signedBytes: number, limitBytes: number, period: Period): number {
  const ms = period.toMs - period.fromMs;
  return Math.max(60_000, Math.floor((ms * limitBytes) / Math.max(1, signedBytes) / 60_000) * 60_000);
}

export const signedBytesOf = (b: { header: Uint8Array; signature: Uint8Array; payload: Uint8Array }): number => b.header.length + b.signature.length + b.payload.length;

/** Batches read at each end of a host's period for the estimate: two chain cycles, keyframes and chained batches in their share. */
const ESTIMATE_BATCHES = 2 * (CHAIN_MAX_BATCHES + 1);

/**
 * The signed bytes a report of these hosts over the period would embed, estimated before the
 * period is read: per host, the samples the period's sequence numbers span times the signed
 * bytes per sample of up to ESTIMATE_BATCHES batches at each end of it (indexed reads, at most
 * 2 x ESTIMATE_BATCHES batches held). Refuses (ReportTooLarge) past `limitBytes`. The build
 * counts the real bytes as it reads them (build.ts SignedBudget), so a period whose estimate is
 * low still stops at the limit.
 */
export async function checkReportBudget(store: Store, hostIds: readonly string[], period: Period, limitBytes: number): Promise<number> {
  let total = 0;
  for (const id of hostIds) {
    const range = await store.seqRange(id, period.fromMs, period.toMs);
    if (!range) continue;
    let bytes = 0;
    let samples = 0;
    const seen = new Set<number>();
    const count = (b: StoredBatch): void => {
      if (seen.has(b.firstSeq)) return;
      seen.add(b.firstSeq);
      bytes += signedBytesOf(b);
      samples += b.samples;
    };
    // Forward from the first sample, back from the last.
    let b = await store.batchContaining(id, range.minSeq);
    for (let i = 0; b && i < ESTIMATE_BATCHES && b.firstSeq <= range.maxSeq; i++) {
      count(b);
      b = await store.batchContaining(id, b.lastSeq + 1);
    }
    b = await store.batchContaining(id, range.maxSeq);
    for (let i = 0; b && i < ESTIMATE_BATCHES && b.lastSeq >= range.minSeq && !seen.has(b.firstSeq); i++) {
      count(b);
      b = b.prevHash.length ? await store.batchByHash(id, b.prevHash) : null;
    }
    if (samples > 0) total += (bytes / samples) * (range.maxSeq - range.minSeq + 1);
  }
  if (total > limitBytes) throw new ReportTooLarge(Math.round(total), limitBytes, period, fittingMs(total, limitBytes, period), true);
  return Math.round(total);
}
