// Re-checks a collector report's hash-chain segment: every batch signed by the agent's enrolled
// key, its payload (or v2 samples) matching the signed digest and decoding to as many samples as
// it signed, each batch linked to the one before, and (format 6) each chained payload decoding
// against the last sample of the batch before it, and context batches only before the period.
import { batchHash, safeEqual, sha256, verifySignature } from '../../proto/chain.js';
import { assay } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, isPayloadEncoding } from '../../proto/payload.js';
import { chainProblem, decodeReportBatch, unpackSamples } from './framing.js';
import type { HostInput, Period } from './types.js';

const CONTEXT_IN_PERIOD = 'marked as context (decoded only for the batch after it), but it holds samples in the period, which would then count in no figure';

export interface ChainCheck {
  problems: string[];
  /** How many leading batches are context (ReportBatch.context), decoded only for the batch after them. */
  context: number;
}

export function checkChain(input: HostInput, period: Period): ChainCheck {
  const problems: string[] = [];
  const id = input.identity.id;
  const batches = input.batches ?? [];
  if (!input.identity.publicKey) return { problems: [`${id}: no agent public key in the report`], context: 0 };
  // A chained batch decodes against at most CHAIN_MAX_BATCHES - 1 batches before it (ingest
  // refuses longer chains), so an honest report embeds no more context than that. More is refused
  // before anything is decoded: a crafted report would otherwise make verify inflate any number of
  // batches that count in no figure.
  const leading = batches.findIndex((b) => (b as { context?: unknown }).context !== true);
  const contextBatches = leading < 0 ? batches.length : leading;
  if (contextBatches > CHAIN_MAX_BATCHES - 1) {
    return { problems: [`${id}: ${contextBatches} context batches before the period; a chained batch decodes against at most ${CHAIN_MAX_BATCHES - 1}`], context: contextBatches };
  }
  const key = Buffer.from(input.identity.publicKey, 'hex');
  let prevHash: Buffer | null = null;
  let prevLastSeq = 0;
  // The prior the next batch decodes against (null: none), and whether this batch's samples were read.
  let prior: Uint8Array | null = null;
  let prevOk = true;
  let context = 0;
  const inPeriod = (samples: readonly assay.v1.ISample[]): boolean => samples.some((s) => (s.tsMs ?? 0) >= period.fromMs && (s.tsMs ?? 0) <= period.toMs);
  batches.forEach((b, i) => {
    const at = `${id}: batch ${i + 1}/${batches.length}`;
    const headerBytes = Buffer.from(b.header, 'base64');
    const isContext = (b as { context?: unknown }).context;
    if (isContext !== undefined && isContext !== true) problems.push(`${at}: context is ${JSON.stringify(isContext)}, not true or absent`);
    if (isContext === true) {
      if (context !== i) problems.push(`${at}: a context batch after the period's first batch (context batches come first, only to decode the chained batch after them)`);
      context++;
    }
    let header: assay.v1.BatchHeader;
    try {
      header = assay.v1.BatchHeader.decode(headerBytes);
    } catch (err) {
      problems.push(`${at}: header does not decode (${(err as Error).message})`);
      prior = null;
      prevOk = false;
      return;
    }
    if (header.agentId !== id) problems.push(`${at}: header names agent ${header.agentId}, not ${id}`);
    if (!verifySignature(key, headerBytes, Buffer.from(b.signature, 'base64'))) problems.push(`${at}: agent signature does not verify`);
    let read = false;
    try {
      const signedCount = (header.seqs ?? []).length;
      const encoding = header.encoding ?? BatchEncoding.BATCH_ENCODING_SAMPLES;
      if (typeof b.payload === 'string' && b.samples === undefined) {
        // Schema 3: the digest covers the compressed payload exactly as embedded; every sample in
        // it is then inflated (bounded), its delta runs expanded (or, chained, its first sample
        // rebuilt against the prior) and decoded.
        if (!isPayloadEncoding(encoding)) problems.push(`${at}: a payload, but the signed header says encoding ${encoding}`);
        if (!safeEqual(sha256(Buffer.from(b.payload, 'base64')), header.payloadDigest ?? new Uint8Array())) problems.push(`${at}: payload does not match the signed digest`);
        else {
          const d = decodeReportBatch(b, prior);
          const n = d.samples.length;
          if (n !== signedCount) problems.push(`${at}: ${n} samples for ${signedCount} signed sequence numbers`);
          if (isContext === true && inPeriod(d.samples)) problems.push(`${at}: ${CONTEXT_IN_PERIOD}`);
          prior = d.last;
          read = true;
        }
      } else if (typeof b.samples === 'string' && b.payload === undefined) {
        if (encoding !== BatchEncoding.BATCH_ENCODING_SAMPLES) problems.push(`${at}: samples, but the signed header says encoding ${encoding}`);
        const { framed, samples } = unpackSamples(b.samples, signedCount);
        if (!safeEqual(sha256(framed), header.samplesDigest ?? new Uint8Array())) problems.push(`${at}: sample bytes do not match the signed digest`);
        if (samples.length !== signedCount) problems.push(`${at}: ${samples.length} samples for ${signedCount} signed sequence numbers`);
        else {
          const d = decodeReportBatch(b, prior);
          if (isContext === true && inPeriod(d.samples)) problems.push(`${at}: ${CONTEXT_IN_PERIOD}`);
          prior = d.last;
          read = true;
        }
      } else {
        problems.push(`${at}: a batch carries either its payload or its samples`);
      }
    } catch (err) {
      problems.push(`${at}: ${chainProblem(err, i, prevOk)}`);
    }
    if (!read) prior = null;
    prevOk = read;
    const prev = Buffer.from(header.prevHash ?? new Uint8Array());
    if (prevHash && !safeEqual(prev, prevHash)) problems.push(`${at}: prev_hash does not link to the batch before it (batch missing, reordered or spliced)`);
    const seqs = (header.seqs ?? []).map(Number);
    if (seqs.length && seqs[0]! <= prevLastSeq) problems.push(`${at}: sequence numbers go back (${seqs[0]} after ${prevLastSeq})`);
    if (seqs.length) prevLastSeq = seqs.at(-1)!;
    prevHash = batchHash(headerBytes);
  });
  if (context > 0 && context === batches.length) problems.push(`${id}: every batch is marked as context: the report holds no batch of the period`);
  return { problems, context };
}
