// Pre-generation for bench/collector-agents.ts: sample pools built from recorded traces, and each
// simulated agent's key and chain of real signed batches (agent/batch.ts sealBatch, Ed25519,
// SHA-256 hash chain) carrying schema-3 payloads (chained columnar, as the agent seals them: proto/payload.ts encodePayload).
// Every agent replaying trace t sends the same samples in batch j, so each batch's payload is
// compressed once and signed into every such agent's chain (its own header: agent id, seqs,
// previous hash). Run in worker threads before the measurement, so the load generator only sends
// bytes and reads acks while the collector is measured.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { sealBatch } from '../agent/batch.js';
import { CHAIN_MAX_BATCHES, encodePayload } from '../proto/payload.js';
import { generateAgentKeys, signBytes, type AgentKeys } from '../proto/chain.js';
import { assay, encodeSample, type IInventory, type ISample } from '../proto/codec.js';
import { quantizeSample } from '../agent/quantize.js';
import { asSentSockets } from './payload-sizes.js';

export interface PoolSpec {
  traces: string[];
  /** Samples per batch. */
  batchSamples: number;
  /** Batches per agent. */
  batches: number;
  /** Timestamp of each agent's first sample, and the step between samples. */
  firstTsMs: number;
  stepMs: number;
}

function traceLines(file: string): string[] {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter((l) => l.trim() !== '');
}

/** Recorded samples of a trace file (.ndjson or .ndjson.gz; its header line skipped), as decoded protobuf objects. */
export function traceSamples(file: string): ISample[] {
  return traceLines(file).slice(1).map((l) => assay.v1.Sample.fromObject((JSON.parse(l) as { sample: Record<string, unknown> }).sample));
}

/**
 * A trace's samples as the agent sends them today, not as recorded: its socket selection
 * (agent/probes/sockets.ts omitUnowned: unowned closing sockets counted, not listed, through
 * bench/payload-sizes.ts asSentSockets) and its rounding of rates (agent/quantize.ts). Replaying
 * the recorded samples sent ~200 sockets and ~1,460 B of payload per sample (encoding 2) where the agent sends
 * ~1,050 B, so the collector was measured on more bytes and rows than it gets.
 */
export function sentSamples(file: string): ISample[] {
  return traceSamples(file).map((s) => quantizeSample(asSentSockets(s)));
}

/** The inventory in a trace's header line (what the recorded agent's hello carried), if any. */
export function traceInventory(file: string): IInventory | undefined {
  return (JSON.parse(traceLines(file)[0] ?? '{}') as { inventory?: IInventory }).inventory;
}

/** What the traces' samples hold on average as sent: processes and sockets listed per sample, and sockets recorded. */
export function describeTraces(files: readonly string[]): { samples: number; processes: number; sockets: number; recordedSockets: number } {
  let n = 0;
  let processes = 0;
  let sockets = 0;
  let recordedSockets = 0;
  for (const f of files) {
    for (const s of traceSamples(f)) {
      n++;
      recordedSockets += s.sockets?.length ?? 0;
      const sent = quantizeSample(asSentSockets(s));
      processes += sent.processes?.length ?? 0;
      sockets += sent.sockets?.length ?? 0;
    }
  }
  const per = (x: number): number => x / Math.max(1, n);
  return { samples: n, processes: per(processes), sockets: per(sockets), recordedSockets: per(recordedSockets) };
}

/**
 * pools[t][j]: the encoded samples of batch j for agents replaying trace t (as sent: sentSamples), re-stamped from
 * firstTsMs (the trace is replayed in a loop when the run is longer than the recording).
 * Deterministic, so the worker that signs and the process that sends build the same bytes.
 */
export function buildPools(spec: PoolSpec): Uint8Array[][][] {
  return spec.traces.map((file) => {
    const sent = sentSamples(file);
    if (sent.length === 0) throw new Error(`${file}: no samples`);
    return Array.from({ length: spec.batches }, (_, j) =>
      Array.from({ length: spec.batchSamples }, (_, i) => {
        const k = j * spec.batchSamples + i;
        return encodeSample({ ...sent[k % sent.length]!, tsMs: spec.firstTsMs + k * spec.stepMs });
      }),
    );
  });
}

/**
 * payloads[t][j]: batch j of trace t as the agent sends it (proto/payload.ts encodePayload),
 * chained as agent/spool.ts chains (encoding 4: against the last sample of batch j - 1, a keyframe
 * every CHAIN_MAX_BATCHES): every agent sends its batches in order from 0, so each one's chain holds.
 */
export function buildPayloads(pools: Uint8Array[][][]): Uint8Array[][] {
  return pools.map((batches) => batches.map((samples, j) => encodePayload(samples, undefined, j % CHAIN_MAX_BATCHES === 0 ? null : batches[j - 1]!.at(-1)!)));
}

export interface PregenRequest {
  spec: PoolSpec;
  /** buildPayloads(buildPools(spec)), made once by the caller. */
  payloads: Uint8Array[][];
  /** Agent indices [from, to) this worker prepares; agent i replays trace i % traces. */
  from: number;
  to: number;
  idPrefix: string;
}

/** One agent's identity and its whole chain: headers concatenated, 64-byte signatures. */
export interface AgentChain {
  agentId: string;
  privateKeyDer: Uint8Array;
  publicKey: Uint8Array;
  headers: Uint8Array;
  headerEnds: Uint32Array;
  signatures: Uint8Array;
}

export function pregenerate(req: PregenRequest): AgentChain[] {
  const out: AgentChain[] = [];
  const { batches, batchSamples } = req.spec;
  for (let a = req.from; a < req.to; a++) {
    const keys = generateAgentKeys();
    const agentId = `${req.idPrefix}${a}`;
    const payloads = req.payloads[a % req.payloads.length]!;
    const headers: Uint8Array[] = [];
    const signatures = new Uint8Array(batches * 64);
    let prevHash: Uint8Array = new Uint8Array();
    for (let j = 0; j < batches; j++) {
      const seqs = Array.from({ length: batchSamples }, (_, i) => j * batchSamples + i + 1);
      // Schema 3, as the agent seals: the payload made once per (trace, batch), the header per agent.
      const sealed = sealBatch({ agentId, seqs, samples: [], payload: payloads[j]!, prevHash, sealedMs: req.spec.firstTsMs + (j + 1) * batchSamples * req.spec.stepMs }, (h) => signBytes(keys, h));
      headers.push(sealed.header);
      signatures.set(sealed.signature, j * 64);
      prevHash = sealed.hash;
    }
    const headerEnds = new Uint32Array(batches);
    let end = 0;
    headers.forEach((h, j) => (headerEnds[j] = end += h.length));
    out.push({ agentId, privateKeyDer: keys.privateKey.export({ format: 'der', type: 'pkcs8' }), publicKey: keys.publicKey, headers: Buffer.concat(headers), headerEnds, signatures });
  }
  return out;
}

/** Rebuilds an agent's keys from what a worker sent back. */
export function keysOf(chain: AgentChain): AgentKeys {
  return { privateKey: createPrivateKey({ key: Buffer.from(chain.privateKeyDer), format: 'der', type: 'pkcs8' }), publicKey: Buffer.from(chain.publicKey) };
}

if (!isMainThread && parentPort && (workerData as { pregen?: PregenRequest } | null)?.pregen) {
  const chains = pregenerate((workerData as { pregen: PregenRequest }).pregen);
  parentPort.postMessage(chains);
}
