// The floor of the collector's ack path, in one process, without sockets: on real signed batches
// (the same pregeneration as bench/collector-agents.ts: recorded samples as the agent sends them,
// schema-3 brotli payloads, Ed25519-signed hash-chained headers), each step that
// collector/ingest/connection.ts onBatch runs before a batch is acked, timed per batch:
//
//   envelope decode   decodeAgentMessage of the WebSocket frame
//   header            BatchHeader.decode, the sequence checks, batchHash (the ack's chain head)
//   payload digest    SHA-256 of the payload, compared with the signed digest
//   Ed25519 verify    the header's signature (the agent's key imported once per connection)
//   light read        payloadSamples (brotli, or deflate over the prior for chained batches; the columns read through),
//                     readLightSamples (every sample read from the columns) and the last sample rebuilt (the next batch's prior)
//   SQLite append     SqliteStore.appendBatch through its commit queue, in group commits of N
//                     batches (a real file, WAL, synchronous=FULL, as the collector runs it)
//   ack encode        encodeCollectorMessage of the ack
//
// and, after the ack on the same event loop (not needed to ack, but paid per batch by a
// collector that classifies everything it stores), in a phase of its own once the batches are
// stored: the full decode of the payload the classify queue does (decodePayload +
// validateSample), and the collector's Classifier.add of those samples (compact window, the
// engine at its cadence: with samples 1 s apart, one evaluation per 5-sample batch, as for a live
// agent at 1 Hz; its verdict written through the same store).
// Prints microseconds per batch per step and the ceiling they imply in samples/s per core (one
// core doing nothing else: no WebSocket framing, no event loop, no classification). This is the
// honest floor for what one collector process can ack, whatever the scheduling around it.
//
//   npm run build && node dist/bench/ingest-floor.js [--agents 100] [--batches 10]
//     [--batch-samples 5] [--groups 1,10,100,500] [--traces file,...]
//
// Bounded: agents x batches batches per group size (at most 5000 x 200); the database files are
// removed afterwards. Prints the machine's loadavg: the figures are CPU time on a shared machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchHash, publicKeyFromRaw, safeEqual, sha256, verifySignature } from '../proto/chain.js';
import { assay, decodeAgentMessage, decodeSample, encodeAgentMessage, encodeCollectorMessage, SCHEMA_VERSION } from '../proto/codec.js';
import { decodeFrames, lastFrame, lastSample, payloadChained, payloadFrames, payloadInflateLimit, payloadSamples } from '../proto/payload.js';
import { readLightSamples } from '../collector/ingest/light-sample.js';
import { defaultIngestLimits } from '../collector/ingest/limits.js';
import { SqliteStore } from '../collector/store/sqlite.js';
import type { IncomingBatch } from '../collector/store/store.js';
import { validateSample } from '../collector/validate.js';
import { Classifier } from '../collector/classifier.js';
import { defaultRulesPath, loadRulesFile } from '../collector/engine/index.js';
import { buildPayloads, buildPools, pregenerate, type PoolSpec } from './agents-pregen.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, def: number, min: number, max: number): number => {
  const v = opt(name);
  const n = v === undefined ? def : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}]`);
  return Math.floor(n);
};
const agents = num('agents', 100, 1, 5000);
const batches = num('batches', 10, 1, 200);
const batchSamples = num('batch-samples', 5, 1, 500);
const groups = (opt('groups') ?? '1,10,100,500').split(',').map(Number);
if (groups.some((g) => !Number.isInteger(g) || g < 1 || g > 1000)) throw new Error('--groups: group sizes in [1, 1000]');
const traces = (opt('traces') ?? join(here, '..', '..', 'bench', 'data', 'server-host.trace.ndjson.gz')).split(',');

const STEPS = ['envelope decode', 'header', 'payload digest', 'Ed25519 verify', 'light read', 'SQLite append', 'ack encode'] as const;
type Step = (typeof STEPS)[number];
const AFTER = 'classify decode';
const ENGINE = 'classify (engine)';
const rules = loadRulesFile(defaultRulesPath);

// ---- prepared batches: real signed chains, as the bench's agents send them ----
const now = Date.now();
const total = batches * batchSamples;
const spec: PoolSpec = { traces, batchSamples, batches, firstTsMs: now - total * 1000, stepMs: 1000 };
const tPre = performance.now();
const payloads = buildPayloads(buildPools(spec));
const chains = pregenerate({ spec, payloads, from: 0, to: agents, idPrefix: 'floor-' });
// frames[j][a]: agent a's batch j, as the WebSocket message it sends.
const frames = Array.from({ length: batches }, (_, j) =>
  chains.map((ch, a) =>
    encodeAgentMessage({
      batch: {
        header: ch.headers.subarray(j === 0 ? 0 : ch.headerEnds[j - 1], ch.headerEnds[j]),
        signature: ch.signatures.subarray(j * 64, j * 64 + 64),
        payload: payloads[a % payloads.length]![j]!,
      },
    }),
  ),
);
const payloadBytes = payloads.flat().reduce((s, p) => s + p.length, 0) / (payloads.length * batches);
console.error(`${agents} agents x ${batches} batches of ${batchSamples} samples prepared in ${((performance.now() - tPre) / 1000).toFixed(1)} s`);

const inflateLimit = payloadInflateLimit(defaultIngestLimits.maxFrameBytes);
/** Each simulated agent's last sample, as the ingest connection keeps it (the prior of its next chained batch), and the same for the classify pass. */
const lightTails = new Map<number, Uint8Array | null>();
const classifyTails = new Map<number, Uint8Array | null>();
/** The light read as ingest does it (collector/ingest/connection.ts onBatch): the samples read from the columns, the last one rebuilt (the next batch's prior). */
function lightRead(agent: number, encoding: number, payload: Uint8Array, seqs: readonly number[]): IncomingBatch['samples'] {
  const read = payloadSamples(encoding, payload, inflateLimit, seqs.length, payloadChained(encoding, payload) ? (lightTails.get(agent) ?? null) : null);
  const samples = readLightSamples(read, seqs, true);
  const last = lastSample(read);
  lightTails.set(agent, last ? Uint8Array.from(last) : null);
  return samples.map(({ sample }, i) => ({ seq: seqs[i]!, sample }));
}

interface Pass {
  group: number;
  us: Record<Step | typeof AFTER | typeof ENGINE, number>;
  /** Wall time per batch of the group commits (fsync waits included). */
  appendWallUs: number;
  batches: number;
  samples: number;
  /** Whether this pass ran the classification phase. */
  classified: boolean;
}

/** One pass over every prepared batch with group commits of `group` batches, into a fresh database. */
async function pass(group: number, classify: boolean): Promise<Pass> {
  const dir = mkdtempSync(join(tmpdir(), 'assay-ingest-floor-'));
  // The collector's store, as it opens it; groups cut by count only (the bench decides the size).
  // maxDelayMs 0: a group is cut when full (the bench submits `group` appends at once) or after
  // the current I/O phase (the hellos, the last partial group).
  const store = new SqliteStore(join(dir, 'c.db'), { groupCommit: { maxItems: group, maxWeight: Number.MAX_SAFE_INTEGER, maxDelayMs: 0 } });
  const us = Object.fromEntries([...STEPS, AFTER, ENGINE].map((s) => [s, 0])) as Record<Step | typeof AFTER | typeof ENGINE, number>;
  const classifier = new Classifier(store, () => rules, {}, () => now);
  let n = 0;
  let samples = 0;
  let appendWallUs = 0;
  try {
    await Promise.all(chains.map((ch) => store.upsertHost({ agentId: ch.agentId, hostname: ch.agentId, agentVersion: 'floor', publicKey: ch.publicKey }, now)));
    const keys = chains.map((ch) => publicKeyFromRaw(ch.publicKey));
    // CPU time of this process (all its threads: GC helpers count, they are the collector's CPU
    // too), not wall time: the machine is shared, and wall time would count others' work. The
    // SQLite append's wall time (fsync waits included) is kept beside it.
    let t = 0;
    const cpu = (): number => {
      const u = process.cpuUsage();
      return u.user + u.system;
    };
    const lap = (step: Step | typeof AFTER | typeof ENGINE): void => {
      const t1 = cpu();
      us[step] += t1 - t;
      t = t1;
    };
    // Batch j of every agent, then j+1 (each agent's chain in order), cut into groups of `group`.
    const all = frames.flatMap((row, j) => row.map((frame, a) => ({ frame, a, j })));
    // What the classification phase reads of each stored batch, as the classify queue keeps it
    // (collector/ingest/connection.ts CommittedBatch): not the ack path's samples, which the
    // collector drops once the batch is stored (kept here, they were a heap the ack path's
    // young-generation GC copied and promoted batch after batch, charged to the steps measured).
    const committed: Array<{ a: number; encoding: number; payload: Uint8Array; seqs: number[] }> = [];
    for (let g = 0; g < all.length; g += group) {
      const slice = all.slice(g, g + group);
      const ready: Array<{ a: number; batch: IncomingBatch; seqs: number[] }> = [];
      for (const { frame, a } of slice) {
        t = cpu();
        const msg = decodeAgentMessage(frame);
        const signed = msg.batch!;
        lap('envelope decode');
        const headerBytes = signed.header!;
        const header = assay.v1.BatchHeader.decode(headerBytes);
        if (header.agentId !== chains[a]!.agentId) throw new Error('wrong agent');
        const seqs = (header.seqs ?? []).map(Number);
        for (let i = 0; i < seqs.length; i++) if (!Number.isSafeInteger(seqs[i]) || seqs[i]! < 1 || (i > 0 && seqs[i]! <= seqs[i - 1]!)) throw new Error('bad seqs');
        const hash = batchHash(headerBytes);
        lap('header');
        const payload = signed.payload!;
        if (!safeEqual(sha256(payload), header.payloadDigest ?? new Uint8Array())) throw new Error('digest mismatch');
        lap('payload digest');
        if (!verifySignature(keys[a]!, headerBytes, signed.signature!)) throw new Error('bad signature');
        lap('Ed25519 verify');
        const encoding = header.encoding!;
        const batch: IncomingBatch = {
          hash,
          prevHash: header.prevHash ?? new Uint8Array(),
          header: headerBytes,
          signature: signed.signature!,
          encoding,
          payload,
          samples: lightRead(a, encoding, payload, seqs),
          gaps: [],
        };
        lap('light read');
        ready.push({ a, batch, seqs });
      }
      t = cpu();
      const wall0 = performance.now();
      const results = await Promise.all(ready.map((r) => store.appendBatch(chains[r.a]!.agentId, r.batch, now)));
      appendWallUs += (performance.now() - wall0) * 1000;
      lap('SQLite append');
      for (const [i, r] of results.entries()) {
        if (r.status !== 'stored') throw new Error(`batch not stored: ${r.status}`);
        encodeCollectorMessage({ ack: { lastSeq: r.lastSeq, accepted: r.accepted, duplicates: r.duplicates, chainHead: ready[i]!.batch.hash } }, SCHEMA_VERSION);
        samples += r.accepted;
        n++;
      }
      lap('ack encode');
      if (classify) committed.push(...ready.map((r) => ({ a: r.a, encoding: r.batch.encoding, payload: r.batch.payload, seqs: r.seqs })));
    }
    // After the ack, in a phase of its own (its garbage would otherwise be collected, and its GC
    // time counted, inside the ack path's steps): what the classify queue decodes of each stored
    // batch, then the classifier, batch by batch in arrival order.
    if (classify) {
      for (const r of committed) {
        t = cpu();
        // As the classify queue decodes: each batch with the last sample of the agent's batch before (encoding 4).
        const frames = payloadFrames(r.encoding, r.payload, inflateLimit, Infinity, payloadChained(r.encoding, r.payload) ? (classifyTails.get(r.a) ?? null) : null);
        classifyTails.set(r.a, lastFrame(frames));
        const decoded = decodeFrames(r.encoding, frames, decodeSample);
        decoded.forEach((x, i) => validateSample(x, r.seqs[i]!));
        lap(AFTER);
        await classifier.add(chains[r.a]!.agentId, decoded);
        lap(ENGINE);
      }
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const k of Object.keys(us) as Array<Step | typeof AFTER | typeof ENGINE>) us[k] /= n;
  return { group, us, appendWallUs: appendWallUs / n, batches: n, samples, classified: classify };
}

// One warm-up pass (JIT, page cache) that is not reported, then each group size; the
// classification phase once, in the last pass (it does not depend on the group size).
await pass(Math.max(...groups), false);
const passes: Pass[] = [];
for (const [i, g] of groups.entries()) passes.push(await pass(g, i === groups.length - 1));
const last = passes.at(-1)!;

const f = (x: number, d = 1) => x.toFixed(d);
const perBatch = last.samples / last.batches;
console.log(`\ningest floor: ${agents} agents x ${batches} batches of ${batchSamples} samples (${f(payloadBytes / batchSamples, 0)} payload B/sample), ${traces.map((t) => t.split('/').pop()).join(', ')}; loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('CPU microseconds per batch (process.cpuUsage: this process, all its threads, GC included), by step and group-commit size');
const header = ['step', ...passes.map((p) => `group ${p.group}`)];
const rows: string[][] = STEPS.map((s) => [s, ...passes.map((p) => f(p.us[s]))]);
const ackUs = (p: Pass): number => STEPS.reduce((a, s) => a + p.us[s], 0);
rows.push(['(SQLite wall)', ...passes.map((p) => f(p.appendWallUs))]);
rows.push(['= ack path', ...passes.map((p) => f(ackUs(p)))]);
rows.push(['ceiling smp/s/core', ...passes.map((p) => f((1e6 / ackUs(p)) * (p.samples / p.batches), 0))]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const line of [header, ...rows]) console.log(line.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  '));
console.log('(SQLite wall): wall time per batch of the group commits, fsync waits included (not in the sums: a collector does other work while it waits only with an async store);');
console.log('ceiling smp/s/core: samples per second one core could ack doing only these steps (no sockets, no event loop, no classification).');
const all = ackUs(last) + last.us[AFTER] + last.us[ENGINE];
console.log(
  `after the ack (measured once, after the group-${last.group} pass): classify decode ${f(last.us[AFTER])} us/batch, Classifier + engine ${f(last.us[ENGINE])} us/batch ` +
    `(one evaluation per batch, a live 1 Hz agent); ack path + classification ${f(all)} us/batch = ceiling ${f((1e6 / all) * perBatch, 0)} samples/s per core.`,
);
