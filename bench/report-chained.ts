// What chained batches (encoding 4) change in a signed report: the recorded server host sealed
// twice, as keyframes (encoding 3, what agents send now) and chained (encoding 4, a keyframe every
// CHAIN_MAX_BATCHES batches), each committed to a real SqliteStore; a report over a period that
// starts mid-chain built from each and verified. Prints the report's bytes (per sample), its
// context batches, and the time to build and to verify; checks that both reports verify and give
// the same figures (exit 1 if not). Not a timed test.
//
//   node dist/bench/report-chained.js [--trace FILE] [--samples 600] [--batch 5]
//
// The trace's samples quantized as the agent sends them (agent/quantize.ts), process signatures
// in full (no references), one sample a second.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealBatch } from '../agent/batch.js';
import { quantizeSample } from '../agent/quantize.js';
import { buildReport } from '../collector/report/build.js';
import type { Report } from '../collector/report/types.js';
import { verifyReport } from '../collector/report/verify.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../proto/chain.js';
import { encodeSample, type ISample } from '../proto/codec.js';
import { BatchEncoding, CHAIN_MAX_BATCHES } from '../proto/payload.js';
import { readTraceSamples } from './payload-sizes.js';

function flag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
}

const AGENT = 'server-host';

async function sealInto(dir: string, samples: ISample[], encoding: number, per: number): Promise<{ store: SqliteStore; payloadBytes: number }> {
  const store = new SqliteStore(join(dir, `enc${encoding}.db`));
  store.db.pragma('synchronous = OFF');
  const keys = generateAgentKeys();
  await store.upsertHost({ agentId: AGENT, hostname: AGENT, agentVersion: '0.1.0', publicKey: keys.publicKey, inventory: { cpuModel: 'recorded', cpuLogicalCores: 2 } }, samples[0]!.tsMs! - 60_000);
  let prevHash: Uint8Array = new Uint8Array();
  let prior: Uint8Array | null = null;
  let payloadBytes = 0;
  for (let i = 0, n = 0; i < samples.length; i += per, n++) {
    const chunk = samples.slice(i, i + per);
    const bytes = chunk.map(encodeSample);
    const seqs = chunk.map((_, j) => i + j + 1);
    const sealedMs = chunk.at(-1)!.tsMs! + 200;
    const chained = encoding === BatchEncoding.BATCH_ENCODING_CHAINED && n % CHAIN_MAX_BATCHES !== 0;
    const sealed = sealBatch({ agentId: AGENT, seqs, samples: bytes, prevHash, sealedMs, encoding, prior: chained ? prior : null }, (h) => signBytes(keys, h));
    payloadBytes += sealed.payload.length;
    const res = await store.appendBatch(
      AGENT,
      { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: chunk.map((sample, j) => ({ seq: seqs[j]!, sample })), gaps: [] },
      sealedMs + 50,
    );
    if (res.status !== 'stored') throw new Error(`batch ${n + 1} not stored: ${res.status}`);
    prevHash = sealed.hash;
    prior = bytes.at(-1)!;
  }
  return { store, payloadBytes };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const traceFile = flag(args, '--trace', 'bench/data/server-host.trace.ndjson.gz');
  const per = Number(flag(args, '--batch', '5'));
  const trace = readTraceSamples(traceFile).map(quantizeSample);
  const n = Math.min(Number(flag(args, '--samples', String(trace.length))), trace.length);
  const t0 = Date.UTC(2026, 11, 1);
  const samples = trace.slice(0, n).map((s, i) => ({ ...s, tsMs: t0 + i * 1000 }));
  // From the 11th batch's third sample on: the period's first batch is chained, 10 batches after its keyframe.
  const period = { fromMs: t0 + (10 * per + 2) * 1000, toMs: t0 + (n - 1) * 1000 };
  const dir = mkdtempSync(join(tmpdir(), 'assay-report-chained-'));
  const keys = generateAgentKeys();
  console.log(`report over chained batches: trace ${traceFile}, ${n} samples at 1 Hz in batches of ${per}, period from sample ${10 * per + 3} to ${n}; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const reports: Report[] = [];
  let ok = true;
  try {
    for (const [name, encoding] of [['keyframes (encoding 3)', BatchEncoding.BATCH_ENCODING_COLUMNAR], ['chained (encoding 4)', BatchEncoding.BATCH_ENCODING_CHAINED]] as const) {
      const { store, payloadBytes } = await sealInto(dir, samples, encoding, per);
      const t1 = performance.now();
      const report = await buildReport(store, { hostIds: [AGENT], ...period, keys, nowMs: t0 + 86_400_000 });
      const buildMs = performance.now() - t1;
      await store.close();
      const text = JSON.stringify(report);
      const t2 = performance.now();
      const v = verifyReport(JSON.parse(text));
      const verifyMs = performance.now() - t2;
      const h = report.hosts[0]!;
      const batches = h.input.batches!;
      const context = batches.filter((b) => b.context);
      const contextBytes = context.reduce((a, b) => a + JSON.stringify(b).length, 0);
      console.log(`${name.padEnd(24)} stored payloads ${(payloadBytes / n).toFixed(0)} B/sample; report ${text.length} B (${(text.length / h.derived.samples).toFixed(0)} B per sample of the period, ${h.derived.samples} samples), ${batches.length} batches of which ${context.length} context (${contextBytes} B); build ${buildMs.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms: ${v.ok ? 'PASS' : `FAIL ${v.failures.join('; ')}`}`);
      ok &&= v.ok;
      reports.push(report);
    }
    const [k, c] = reports.map((r) => JSON.stringify({ ...r.hosts[0]!.derived, chain: null }));
    const same = k === c;
    console.log(`figures (every derived figure but the chain summary) equal: ${same}`);
    ok &&= same;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!ok) process.exitCode = 1;
}

await main();
