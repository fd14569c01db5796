// The behaviour every Store must have. Each implementation's test file runs this suite.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assay } from '../../proto/codec.js';
import { summarize, type HostQuery, type Store, type IncomingBatch, type IncomingSample } from '../../collector/store/store.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, sha256, signBytes } from '../../proto/chain.js';
import { SentSignatures, signatureDigest } from '../../agent/signature-refs.js';
import type { Verdict } from '../../collector/engine/types.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, payloadChained } from '../../proto/payload.js';

const keys = generateAgentKeys();
const incoming = (firstSeq: number, n: number, t0 = 1_795_000_000_000): IncomingSample[] =>
  Array.from({ length: n }, (_, i) => {
    const sample = fullSample(t0 + (firstSeq + i) * 1000, 1000 + firstSeq + i);
    return { seq: firstSeq + i, sample };
  });

/** A signed batch of `samples` linked to `prevHash` (the shape ingest hands the store). */
function batchOf(samples: IncomingSample[], prevHash: Uint8Array = new Uint8Array(), gaps: IncomingBatch['gaps'] = []): IncomingBatch {
  const sealed = sealBatch(
    { agentId: 'h', seqs: samples.map((s) => s.seq), samples: samples.map((s) => assay.v1.Sample.encode(s.sample).finish()), prevHash, gaps, sealedMs: 1 },
    (h) => signBytes(keys, h),
  );
  return { hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps };
}

/** Sample `seq` of a chain test: the full sample plus workers whose figures move, so a chained batch has changes to carry. */
function chainSample(seq: number, tsMs: number): IncomingSample {
  const sample = fullSample(tsMs, 1000 + seq);
  sample.cpu = { ...sample.cpu, totalPct: (seq * 7) % 100 };
  sample.processes = [
    ...sample.processes!,
    ...Array.from({ length: 8 }, (_, k) => ({ pid: 200 + k, ppid: 1, name: `worker-${k}`, startTimeTicks: 5000 + k, cpuPct: (seq * (k + 1)) % 97, rssBytes: 1_000_000 * (k + 1) + seq * 4096, threads: 4, state: 'S' })),
  ];
  sample.processes[1]!.signature = { cmdline: 'worker --serve', exe: '/usr/bin/worker' };
  return { seq, sample };
}

/** A sealed batch, the complete bytes of its samples as the agent took them. */
export type ChainedBatch = IncomingBatch & { bytes: Uint8Array[] };

/**
 * Batches of `per` samples from seq `from` (sample `seq` at t0 + seq s, plus `batchGapMs` for each
 * batch before its own), sealed as the agent seals them (agent/spool.ts) with encoding 4: each
 * encoded against the last sample of the batch before while its chain holds fewer than
 * CHAIN_MAX_BATCHES, else a keyframe. `prior` and `inChain` continue a chain sealed before.
 */
export function chainedBatches(
  from: number,
  count: number,
  per: number,
  t0: number,
  { prevHash = new Uint8Array(), prior = null, inChain = prior ? 1 : 0, batchGapMs = 0 }: { prevHash?: Uint8Array; prior?: Uint8Array | null; inChain?: number; batchGapMs?: number } = {},
): ChainedBatch[] {
  const out: ChainedBatch[] = [];
  for (let b = 0; b < count; b++) {
    const samples = Array.from({ length: per }, (_, i) => chainSample(from + b * per + i, t0 + (from + b * per + i) * 1000 + b * batchGapMs));
    const bytes = samples.map((s) => assay.v1.Sample.encode(s.sample).finish());
    const chained = prior !== null && inChain < CHAIN_MAX_BATCHES;
    const sealed = sealBatch(
      { agentId: 'h', seqs: samples.map((s) => s.seq), samples: bytes, prevHash, sealedMs: 1, encoding: BatchEncoding.BATCH_ENCODING_CHAINED, prior: chained ? prior : null },
      (h) => signBytes(keys, h),
    );
    out.push({ hash: sealed.hash, prevHash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [], bytes });
    prevHash = sealed.hash;
    prior = bytes.at(-1)!;
    inChain = chained ? inChain + 1 : 1;
  }
  return out;
}

/** The samples read back, as their encoded bytes by seq. */
export const bytesBySeq = (rows: Array<{ seq: number; sample: assay.v1.ISample }>): Map<number, Buffer> => new Map(rows.map((r) => [r.seq, Buffer.from(assay.v1.Sample.encode(r.sample).finish())]));

/** Each batch's samples' bytes by seq. */
export const sealedBySeq = (batches: readonly ChainedBatch[]): Map<number, Buffer> => new Map(batches.flatMap((b) => b.samples.map((s, i): [number, Buffer] => [s.seq, Buffer.from(b.bytes[i]!)])));

const verdict = (cls: Verdict['class'], toMs: number): Verdict => ({
  class: cls,
  confidence: 0.8,
  scores: { 'ai-training': 0.8, 'ai-inference': 0, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': 0.1, general: 0, idle: 0 },
  parts: [],
  evidence: [{ signal: 'lib.ai', value: 'libcudnn.so.9', supports: 'ai-training', weight: 0.5, detail: 'maps cuDNN' }],
  window: { fromMs: toMs - 60_000, toMs, samples: 60 },
  unavailable: [],
  rulesVersion: 'test',
});


/** Sample `seq` at `tsMs` with one process, `pid`, carrying `signature` (full or by reference). */
function withSignature(seq: number, tsMs: number, pid: number, signature: assay.v1.IProcessSignature): IncomingSample {
  const sample = fullSample(tsMs, pid);
  sample.processes = [{ ...sample.processes![0]!, pid, signature }];
  return { seq, sample };
}
export function storeSuite(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  test(`${name}: batches extend the hash chain; the head resent is a duplicate, anything else is refused untouched`, async () => {
    const { store, cleanup } = await open();
    try {
      const host = await store.upsertHost(fullHello('h1'), 1000);
      assert.equal(host.lastSeq, 0);
      assert.deepEqual(Buffer.from(host.publicKey!), Buffer.alloc(32, 4), 'public key recorded at enrollment');
      const b1 = batchOf(incoming(1, 5));
      assert.deepEqual(await store.appendBatch('h1', b1, 2000), { status: 'stored', accepted: 5, duplicates: 0, lastSeq: 5, storedSeqs: [1, 2, 3, 4, 5] });
      assert.equal((await store.appendBatch('h1', b1, 2500)).status, 'duplicate');
      const b2 = batchOf(incoming(6, 2), b1.hash, [{ fromSeq: 8, toSeq: 9, fromMs: 5, toMs: 6, cause: 'spool_thinned', samples: 1 }]);
      assert.deepEqual(await store.appendBatch('h1', b2, 3000), { status: 'stored', accepted: 2, duplicates: 0, lastSeq: 7, storedSeqs: [6, 7] });
      assert.equal((await store.appendBatch('h1', b1, 3500)).status, 'replayed');
      assert.equal((await store.appendBatch('h1', batchOf(incoming(8, 1), b1.hash), 3600)).status, 'chain_break');
      assert.equal((await store.appendBatch('h1', batchOf(incoming(8, 1), new Uint8Array(32)), 3600)).status, 'chain_break');
      const h = await store.getHost('h1');
      assert.equal(h!.lastSeq, 7);
      assert.equal(h!.lastSeenMs, 3000);
      assert.deepEqual(Buffer.from(h!.chainHead!), b2.hash);
      assert.equal(h!.inventory!.cpuModel, 'AMD EPYC 7763 64-Core Processor');
      assert.deepEqual(await store.gaps('h1', 0, 10), [{ fromSeq: 8, toSeq: 9, fromMs: 5, toMs: 6, cause: 'spool_thinned', samples: 1 }]);
      assert.equal((await store.sampleSummaries('h1', 1_795_000_000_000, 1_795_000_100_000, 100)).length, 7);
      // Re-registering keeps the resume point and the enrolled key.
      const again = await store.upsertHost({ ...fullHello('h1'), publicKey: new Uint8Array(32).fill(9) }, 4000);
      assert.equal(again.lastSeq, 7);
      assert.deepEqual(Buffer.from(again.publicKey!), Buffer.alloc(32, 4));
      assert.equal(await store.revokeAgent('h1', 5000), true);
      assert.equal((await store.getHost('h1'))!.revokedMs, 5000);
      assert.equal(await store.revokeAgent('h1', 6000), false, 'revoking twice changes nothing');
      const after = await store.appendBatch('h1', batchOf(incoming(8, 1), b2.hash), 6500);
      assert.equal(after.status, 'revoked', 'no batch lands after a revocation');
      assert.equal(after.accepted, 0);
      await store.recordSecurityEvent({ tsMs: 7000, hostId: 'h1', peer: '127.0.0.1:1', reason: 'chain_break', detail: 'x' });
      assert.deepEqual((await store.securityEvents(10)).map((e) => e.reason), ['chain_break']);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: the fleet list pages, filters, sorts and searches; class changes are recorded beside verdicts`, async () => {
    const { store, cleanup } = await open();
    try {
      const t0 = 1_795_000_000_000;
      // Hosts a..f: names, last-seen times (d and e are stale before t0) and classes.
      const spec = [
        ['a', 'web-1', t0, 'general'],
        ['b', 'GPU-miner', t0 + 1, 'pow-mining'],
        ['c', 'gpu-train', t0 + 2, 'ai-training'],
        ['d', 'old_box', t0 - 100_000, 'pow-mining'],
        ['e', 'spare%', t0 - 200_000, null],
        ['f', 'new', t0 + 3, null],
      ] as const;
      for (const [id, hostname, seen, cls] of spec) {
        await store.upsertHost({ ...fullHello(id), hostname }, seen);
        if (cls) await store.putVerdict(id, seen, verdict(cls, seen));
      }
      const q: HostQuery = { onlineSinceMs: t0 - 1000, sort: 'hostname', desc: false, limit: 10, offset: 0 };
      const ids = async (over: Partial<HostQuery>): Promise<[number, string[]]> => {
        const r = await store.queryHosts({ ...q, ...over });
        return [r.total, r.hosts.map((h) => h.id)];
      };
      assert.deepEqual(await ids({}), [6, ['b', 'c', 'f', 'd', 'e', 'a']]);
      assert.deepEqual(await ids({ limit: 2, offset: 2 }), [6, ['f', 'd']]);
      assert.deepEqual(await ids({ desc: true, limit: 2 }), [6, ['a', 'e']]);
      assert.deepEqual(await ids({ classes: ['pow-mining'] }), [2, ['b', 'd']]);
      assert.deepEqual(await ids({ classes: ['pow-mining'], state: 'online' }), [1, ['b']]);
      assert.deepEqual(await ids({ classes: ['pending'] }), [2, ['f', 'e']]);
      assert.deepEqual(await ids({ state: 'offline' }), [2, ['d', 'e']]);
      assert.deepEqual(await ids({ search: 'gpu' }), [2, ['b', 'c']], 'case-insensitive');
      assert.deepEqual(await ids({ search: '%' }), [1, ['e']], 'wildcards are literal');
      assert.deepEqual(await ids({ search: '_' }), [1, ['d']]);
      assert.deepEqual(await ids({ sort: 'state' }), [6, ['b', 'c', 'f', 'a', 'd', 'e']], 'online first, then by name');
      assert.deepEqual(await ids({ sort: 'lastSeen', desc: true, limit: 3 }), [6, ['f', 'c', 'b']]);
      const counts = await store.hostCounts(t0 - 1000);
      const n = (cls: string | null, online: boolean): number => counts.find((c) => c.class === cls && c.online === online)?.hosts ?? 0;
      assert.deepEqual([n('pow-mining', true), n('pow-mining', false), n(null, true), n(null, false), n('general', true)], [1, 1, 1, 1, 1]);
      assert.equal(counts.find((c) => c.class === 'pow-mining' && c.online)!.nonAi, 1);

      // Changes: the first verdict, a new class; a refresh of the same class is no change.
      await store.putVerdict('a', t0 + 10, verdict('general', t0 + 10));
      await store.putVerdict('a', t0 + 20, verdict('pow-mining', t0 + 20));
      await store.putVerdict('a', t0 + 30, verdict('ai-training', t0 + 30));
      const all = await store.classChanges({ order: 'time', limit: 50, offset: 0 });
      assert.deepEqual(
        all.changes.filter((c) => c.hostId === 'a').map((c) => [c.tsMs, c.fromClass, c.toClass, c.nonAi, c.fromNonAi, c.hostname]),
        [
          [t0 + 30, 'pow-mining', 'ai-training', false, true, 'web-1'],
          [t0 + 20, 'general', 'pow-mining', true, false, 'web-1'],
          [t0, null, 'general', false, false, 'web-1'],
        ],
      );
      assert.equal(all.total, 6);
      const first = await store.classChanges({ order: 'nonAiFirst', limit: 50, offset: 0 });
      assert.deepEqual(first.changes.map((c) => c.nonAi || c.fromNonAi), [true, true, true, true, false, false]);
      const filtered = await store.classChanges({ order: 'time', classes: ['pow-mining'], search: 'WEB', limit: 1, offset: 1 });
      assert.equal(filtered.total, 2);
      assert.deepEqual(filtered.changes.map((c) => c.tsMs), [t0 + 20]);
      assert.equal((await store.getHost('a'))!.verdictNonAi, false);
      assert.equal((await store.getHost('b'))!.verdictNonAi, true);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a batch is all or nothing`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('h2'), 1000);
      // A batch the store cannot write (its payload is not bytes) must roll back the whole batch,
      // sample rows included.
      const batch = { ...batchOf(incoming(1, 4)), payload: { notBytes: true } as unknown as Uint8Array };
      await assert.rejects(store.appendBatch('h2', batch, 2000));
      assert.equal((await store.getHost('h2'))!.chainHead, null, 'chain head unchanged');
      assert.equal((await store.sampleSummaries('h2', 1_795_000_000_000, 1_795_000_100_000, 100)).length, 0);
      assert.equal((await store.getHost('h2'))!.lastSeq, 0);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: samples, summaries, signatures and verdicts read back by host and time range`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('h3'), 1000);
      await store.upsertHost({ ...fullHello('h4'), hostname: 'other' }, 1000);
      const t0 = 1_795_000_000_000;
      await store.appendBatch('h3', batchOf(incoming(1, 10, t0)), 2000);
      await store.appendBatch('h4', batchOf(incoming(1, 3, t0)), 2000);
      const sums = await store.sampleSummaries('h3', t0 + 3000, t0 + 6000, 100);
      assert.deepEqual(sums.map((s) => s.seq), [3, 4, 5, 6]);
      assert.equal(sums[0]!.cpuPct, 87.5);
      assert.equal(sums[0]!.gpuUtilPct, 97);
      assert.equal(sums[0]!.diskReadBytesPerSec, 1_500_000_000);
      // More samples than the limit: averaged into equal time buckets over the whole range.
      const bucketed = await store.sampleSummaries('h3', t0 + 1000, t0 + 10_000, 5);
      assert.deepEqual(bucketed.map((s) => s.seq), [2, 4, 6, 8, 10]);
      assert.deepEqual(bucketed.map((s) => s.tsMs), [t0 + 2000, t0 + 4000, t0 + 6000, t0 + 8000, t0 + 10_000]);
      assert.equal(bucketed[0]!.cpuPct, 87.5);
      const full = await store.samples('h3', t0 + 1000, t0 + 2000, 100);
      assert.deepEqual(full.map((r) => r.seq), [1, 2]);
      assert.equal(full[0]!.sample.processes![0]!.signature!.libs!.length, 4);
      const sigs = await store.signatures('h3');
      assert.equal(sigs.size, 10);
      assert.deepEqual(sigs.get('1001:123456789')!.envNames, ['LOCAL_RANK', 'MASTER_ADDR', 'RANK', 'WORLD_SIZE']);
      assert.equal((await store.signatures('h4')).size, 3);
      // Only the processes asked for (a rebuilt window's), unknown and malformed keys left out.
      const some = await store.signaturesOf('h3', ['1001:123456789', '1003:123456789', '9999:1', 'nonsense', '1001:123456789']);
      assert.deepEqual([...some.keys()].sort(), ['1001:123456789', '1003:123456789']);
      assert.deepEqual(some.get('1001:123456789')!.envNames, ['LOCAL_RANK', 'MASTER_ADDR', 'RANK', 'WORLD_SIZE']);
      assert.equal((await store.signaturesOf('h4', ['1001:123456789', '1005:123456789'])).size, 1, 'another host\'s processes are not this one\'s');
      await store.putVerdict('h3', t0 + 5000, verdict('ai-training', t0 + 5000));
      await store.putVerdict('h3', t0 + 9000, verdict('mixed', t0 + 9000));
      const vs = await store.verdicts('h3', t0, t0 + 10_000, 10);
      assert.deepEqual(vs.map((v) => [v.tsMs, v.verdict.class]), [[t0 + 5000, 'ai-training'], [t0 + 9000, 'mixed']]);
      assert.equal(vs[0]!.verdict.evidence[0]!.detail, 'maps cuDNN');
      // Class rows only: the newest `limit` of the range, oldest first.
      assert.deepEqual((await store.verdictClasses('h3', t0, t0 + 10_000, 10)).map((v) => [v.tsMs, v.class]), [[t0 + 5000, 'ai-training'], [t0 + 9000, 'mixed']]);
      assert.deepEqual((await store.verdictClasses('h3', t0, t0 + 10_000, 1)).map((v) => v.class), ['mixed']);
      const hosts = await store.listHosts();
      assert.deepEqual(hosts.map((h) => h.id).sort(), ['h3', 'h4']);
      assert.equal(hosts.find((h) => h.id === 'h3')!.verdictClass, 'mixed');
      assert.equal(hosts.find((h) => h.id === 'h4')!.verdictClass, null);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a signature sent by reference (same_as) is stored and read back as the one it names; a reference naming nothing is counted`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('h5'), 1000);
      const t0 = 1_795_000_000_000;
      // Batch 1: two processes with the signature in full, as protobuf bytes inside the payload.
      const b1 = batchOf(incoming(1, 2, t0));
      const first = await store.appendBatch('h5', b1, 2000);
      assert.equal(first.status, 'stored');
      assert.equal(first.signatures, undefined, 'no reference, nothing resolved');
      const sigA = b1.samples[0]!.sample.processes![0]!.signature!;
      const digestA = signatureDigest(sigA);
      // Batch 2: process 2003 refers to batch 1's signature; 2004 carries a new one in full that
      // 2005 refers to in the same batch; 2006 names a digest nothing carried.
      const sigB = { ...sigA, cmdline: 'python3 serve.py --port 8000', envNames: ['PORT'] };
      const digestB = signatureDigest(sigB);
      const unknown = Buffer.alloc(32, 7);
      const withSig = (seq: number, pid: number, signature: assay.v1.IProcessSignature): IncomingSample => {
        const sample = fullSample(t0 + seq * 1000, pid);
        sample.processes = [{ ...sample.processes![0]!, pid, signature }];
        return { seq, sample };
      };
      const b2 = batchOf(
        [withSig(3, 2003, { sameAs: digestA }), withSig(4, 2004, sigB), withSig(5, 2005, { sameAs: digestB }), withSig(6, 2006, { sameAs: unknown })],
        b1.hash,
      );
      const second = await store.appendBatch('h5', b2, 3000);
      assert.equal(second.status, 'stored');
      assert.equal(second.accepted, 4);
      assert.deepEqual([...second.signatures!.keys()].sort(), [digestA.toString('hex'), digestB.toString('hex')].sort());
      assert.equal(second.signatures!.get(digestA.toString('hex'))!.cmdline, sigA.cmdline);
      assert.equal(second.unresolvedSignatures, 1);
      // Read back as if sent in full: decoded samples, the process rows, the bytes by digest.
      const plain = (x: assay.v1.IProcessSignature | null | undefined): unknown => (x ? assay.v1.ProcessSignature.toObject(assay.v1.ProcessSignature.decode(assay.v1.ProcessSignature.encode(x).finish())) : x);
      const rows = await store.samples('h5', t0 + 3000, t0 + 6000, 100);
      assert.deepEqual(rows.map((r) => r.seq), [3, 4, 5, 6]);
      assert.deepEqual(plain(rows[0]!.sample.processes![0]!.signature), plain(sigA));
      assert.deepEqual(plain(rows[2]!.sample.processes![0]!.signature), plain(sigB));
      assert.equal(rows[3]!.sample.processes![0]!.signature ?? null, null, 'an unresolved reference leaves the process without a signature');
      const sigs = await store.signaturesOf('h5', ['2003:123456789', '2005:123456789', '2006:123456789']);
      assert.deepEqual([...sigs.keys()].sort(), ['2003:123456789', '2005:123456789']);
      assert.deepEqual(plain(sigs.get('2003:123456789')), plain(sigA));
      assert.equal(sigs.get('2005:123456789')!.cmdline, 'python3 serve.py --port 8000');
      const blobs = await store.signatureBlobs([digestA, digestB, unknown, digestA.subarray(0, 8)]);
      assert.deepEqual([...blobs.keys()].sort(), [digestA.toString('hex'), digestB.toString('hex')].sort());
      for (const [hex, bytes] of blobs) assert.equal(sha256(bytes).toString('hex'), hex, 'the bytes are the ones the digest names');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: env_names / libs sent by reference are written out; the signature's digest is the agent's, so a later whole reference resolves`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('l1'), 1000);
      const t0 = 1_795_000_000_000;
      const one = (seq: number, pid: number, signature: assay.v1.IProcessSignature): IncomingSample => withSignature(seq, t0 + seq * 1000, pid, signature);
      // The agent's own code decides what goes by reference.
      const sent = new SentSignatures();
      const sigA = fullSample(t0, 10).processes![0]!.signature!;
      const sigB = { ...sigA, cmdline: 'python3 eval.py' }; // same env names and libs as A
      const sigC = { ...sigA, cmdline: 'python3 other.py', libs: ['libfoo.so'] };
      const b1 = batchOf([one(1, 10, sent.attach(sigA, t0 + 1000, true))]);
      assert.equal((await store.appendBatch('l1', b1, t0 + 2000)).status, 'stored');
      const sentB = sent.attach(sigB, t0 + 2000, true);
      assert.ok(sentB.envNamesAs?.length && sentB.libsAs?.length, 'B sends both lists by reference');
      const sentC = sent.attach(sigC, t0 + 2500, true);
      const b2 = batchOf([one(2, 20, sentB), one(3, 30, sentC), one(4, 40, sent.attach({ ...sigB }, t0 + 3000, true)), one(5, 50, { ...sigA, envNames: [], envNamesAs: Buffer.alloc(32, 3) })], b1.hash);
      const res = await store.appendBatch('l1', b2, t0 + 5000);
      assert.equal(res.status, 'stored');
      assert.equal(res.unresolvedSignatures, 1, 'the list naming nothing stored');
      const plain = (x: assay.v1.IProcessSignature | null | undefined): unknown => (x ? assay.v1.ProcessSignature.toObject(assay.v1.ProcessSignature.decode(assay.v1.ProcessSignature.encode(x).finish())) : x);
      const rows = await store.samples('l1', t0 + 2000, t0 + 5000, 10);
      assert.deepEqual(plain(rows[0]!.sample.processes![0]!.signature), plain(sigB), 'lists written out');
      assert.deepEqual(plain(rows[1]!.sample.processes![0]!.signature), plain(sigC));
      assert.deepEqual(plain(rows[2]!.sample.processes![0]!.signature), plain(sigB), 'the whole reference to B resolved within the batch');
      assert.equal(rows[3]!.sample.processes![0]!.signature ?? null, null);
      const blobs = await store.signatureBlobs([signatureDigest(sigB), signatureDigest(sigC)]);
      assert.equal(blobs.size, 2, 'stored under the digests the agent computed');
      // A later batch refers to B as a whole: resolved from the store.
      const b3 = batchOf([one(6, 60, sent.attach({ ...sigB }, t0 + 6000, true))], b2.hash);
      const later = await store.appendBatch('l1', b3, t0 + 7000);
      assert.equal(later.unresolvedSignatures, undefined);
      assert.deepEqual(plain((await store.signaturesOf('l1', ['60:123456789'])).get('60:123456789')), plain(sigB));
    } finally {
      await cleanup();
    }
  });

  test(`${name}: retention keeps a signature an agent may still refer to, even under a raw window shorter than a day`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('r1'), 1);
      const t0 = 1_795_000_000_000;
      const hour = 3_600_000;
      const sigA = fullSample(t0, 10).processes![0]!.signature!;
      // Process 10 sends its signature in full and ends; 20 (another signature) runs on.
      const b1 = batchOf([withSignature(1, t0, 10, sigA)]);
      assert.equal((await store.appendBatch('r1', b1, t0 + 1000)).status, 'stored');
      const b2 = batchOf([withSignature(2, t0 + hour / 2, 20, { ...sigA, cmdline: 'other' })], b1.hash);
      assert.equal((await store.appendBatch('r1', b2, t0 + hour / 2 + 1000)).status, 'stored');
      // A one-hour raw window, two hours on: batch 1 and process 10's row are past it.
      const opts = retentionOptions({ rawMs: hour, rollupMs: 30 * hour });
      for (let done = false, n = 0; !done && n < 1000; n++) done = (await store.retentionStep(opts, t0 + 2 * hour)).done;
      assert.equal(await store.batchContaining('r1', 1), null, 'the raw batch went');
      // A new process refers to process 10's signature three hours after it was sent: resolved.
      const b3 = batchOf([withSignature(3, t0 + 3 * hour, 30, { sameAs: signatureDigest(sigA) })], b2.hash);
      const res = await store.appendBatch('r1', b3, t0 + 3 * hour + 1000);
      assert.equal(res.status, 'stored');
      assert.equal(res.unresolvedSignatures, undefined, 'the signature was kept for its references');
      assert.equal((await store.signaturesOf('r1', ['30:123456789'])).get('30:123456789')!.cmdline, sigA.cmdline);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a signature named for its lists by a kept batch outlives its own process and batch`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('r2'), 1);
      const t0 = 1_795_000_000_000;
      const hour = 3_600_000;
      const sent = new SentSignatures();
      const sigN = fullSample(t0, 10).processes![0]!.signature!;
      const b1 = batchOf([withSignature(1, t0, 10, sent.attach(sigN, t0, true))]);
      assert.equal((await store.appendBatch('r2', b1, t0 + 1000)).status, 'stored');
      // Twelve hours on, another command with N's environment and libraries: its lists name N.
      const sigX = { ...sigN, cmdline: 'python3 eval.py' };
      const sentX = sent.attach(sigX, t0 + 12 * hour, true);
      assert.ok(sentX.envNamesAs?.length);
      const b2 = batchOf([withSignature(2, t0 + 12 * hour, 20, sentX)], b1.hash);
      assert.equal((await store.appendBatch('r2', b2, t0 + 12 * hour + 1000)).status, 'stored');
      // A 20-hour raw window at t0 + 25 h: N's batch and process are past it, X's batch is not.
      const opts = retentionOptions({ rawMs: 20 * hour, rollupMs: 30 * hour });
      for (let done = false, n = 0; !done && n < 1000; n++) done = (await store.retentionStep(opts, t0 + 25 * hour)).done;
      assert.equal(await store.batchContaining('r2', 1), null);
      const rows = await store.samples('r2', t0 + 12 * hour, t0 + 12 * hour, 10);
      assert.deepEqual(rows[0]!.sample.processes![0]!.signature!.envNames, sigN.envNames, 'X still reads with the lists N had');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: roll-ups average the stored samples per minute and hour; charts over long ranges read them`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('r1'), 1);
      const t0 = Math.floor(1_795_000_000_000 / 3_600_000) * 3_600_000;
      // 150 samples every 30 s (75 minutes), batches of 4; the first batch again is a resend.
      const all = Array.from({ length: 150 }, (_, i) => {
        const sample = fullSample(t0 + i * 30_000, 1000 + i);
        sample.cpu = { ...sample.cpu, totalPct: (i * 13) % 100 };
        return { seq: i + 1, sample, bytes: assay.v1.Sample.encode(sample).finish() };
      });
      let prev: Uint8Array = new Uint8Array();
      for (let i = 0; i < all.length; i += 4) {
        const b = batchOf(all.slice(i, i + 4), prev);
        assert.equal((await store.appendBatch('r1', b, 5)).status, 'stored');
        if (i === all.length - 2) assert.equal((await store.appendBatch('r1', b, 6)).status, 'duplicate');
        prev = b.hash;
      }
      const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
      const minutes = await store.rollupRows('r1', '1m', t0, t0 + 75 * 60_000, 1000);
      assert.equal(minutes.length, 75);
      for (const m of minutes) {
        const raw = all.filter((x) => Math.floor(x.sample.tsMs! / 60_000) * 60_000 === m.startMs).map((x) => summarize(x.seq, x.sample));
        assert.equal(m.samples, raw.length);
        assert.ok(Math.abs(m.cpuPct - mean(raw.map((r) => r.cpuPct))) < 1e-9);
        assert.equal(m.cpuPctMax, Math.max(...raw.map((r) => r.cpuPct)));
        assert.ok(Math.abs(m.powerWatts! - mean(raw.map((r) => r.powerWatts!))) < 1e-9);
        assert.equal(m.lastSeq, Math.max(...raw.map((r) => r.seq)));
      }
      const hours = await store.rollupRows('r1', '1h', t0, t0 + 2 * 3_600_000, 10);
      assert.deepEqual(hours.map((h) => h.samples), [120, 30]);
      assert.ok(Math.abs(hours[0]!.cpuPct - mean(all.slice(0, 120).map((x) => x.sample.cpu!.totalPct!))) < 1e-9);
      // Two one-hour buckets: the hourly roll-ups' averages.
      const chart = await store.sampleSummaries('r1', t0, t0 + 2 * 3_600_000 - 1, 2);
      assert.deepEqual(chart.map((c) => c.seq), [120, 150]);
      assert.ok(Math.abs(chart[0]!.cpuPct - hours[0]!.cpuPct) < 1e-9);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: retention steps delete raw rows past the window in bounded steps and keep the roll-ups`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('p1'), 1);
      const day = 86_400_000;
      const t0 = 1_795_000_000_000;
      // Ten batches of 3 samples, one per day.
      let prev: Uint8Array = new Uint8Array();
      for (let d = 0; d < 10; d++) {
        const b = batchOf(incoming(d * 3 + 1, 3, t0 + d * day - (d * 3 + 1) * 1000), prev);
        assert.equal((await store.appendBatch('p1', b, t0 + d * day + 5000)).status, 'stored');
        prev = b.hash;
      }
      for (let d = 0; d < 10; d++) await store.putVerdict('p1', t0 + d * day, verdict('ai-training', t0 + d * day));
      assert.deepEqual(await store.retentionState('p1'), { rawPrunedMs: 0 });
      // Raw window 2 days at day 9.5: days 0-7 go.
      const opts = retentionOptions({ rawMs: 2 * day, rollupMs: 30 * day, stepRows: 4 });
      const now = t0 + 9 * day + day / 2;
      let steps = 0;
      for (let done = false; !done && steps < 1000; steps++) {
        const r = await store.retentionStep(opts, now);
        assert.ok(Object.values(r.deleted).reduce((a, b) => a + b, 0) <= 4);
        done = r.done;
      }
      assert.ok(steps >= 8, `${steps} steps`);
      assert.deepEqual(await store.retentionState('p1'), { rawPrunedMs: now - 2 * day });
      assert.deepEqual(await store.seqRange('p1', 0, t0 + 20 * day), { minSeq: 25, maxSeq: 30 });
      assert.equal(await store.batchContaining('p1', 24), null);
      assert.ok(await store.batchContaining('p1', 25));
      assert.equal((await store.rollupRows('p1', '1h', 0, t0 + 20 * day, 100)).length, 10, 'roll-ups outlive the raw rows');
      assert.equal((await store.verdicts('p1', 0, t0 + 20 * day, 100)).length, 10, 'one verdict an hour is within the refreshes kept');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: chained batches (encoding 4) read back exactly as sealed, whole or from a window starting mid-chain`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('c1'), 1);
      const t0 = 1_795_000_000_000;
      // 30 batches of 5 samples: keyframes at batches 0, 12 and 24, every other one chained.
      const batches = chainedBatches(1, 30, 5, t0);
      assert.deepEqual(batches.flatMap((b, i) => (payloadChained(b.encoding, b.payload) ? [] : [i])), [0, 12, 24]);
      for (const b of batches) assert.equal((await store.appendBatch('c1', b, t0 + b.samples.at(-1)!.seq * 1000 + 300)).status, 'stored');
      const sealed = sealedBySeq(batches);
      const all = await store.samples('c1', t0, t0 + 200_000, 1000);
      assert.deepEqual(bytesBySeq(all), sealed, 'every sample as the agent took it');
      // Seqs 48 to 67: from batch 9 (chained: the read walks back to batch 0) across the keyframe of batch 12.
      const mid = await store.samples('c1', t0 + 48_000, t0 + 67_000, 1000);
      assert.deepEqual(mid.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => 48 + i));
      for (const [seq, bytes] of bytesBySeq(mid)) assert.ok(bytes.equals(sealed.get(seq)!), `sample ${seq}`);
      // One sample from the middle of a batch whose keyframe is 11 batches back.
      const one = await store.samples('c1', t0 + 118_000, t0 + 118_000, 10);
      assert.deepEqual([...bytesBySeq(one)], [[118, sealed.get(118)]]);
      assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 0, samplesWithoutPrior: 0 });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a chained batch whose prior was never stored is left out of reads with the batches chained to it, and counted`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('c2'), 1);
      const t0 = 1_795_000_000_000;
      // The store holds the chain from batch 3 on: batch 2, which 3 is chained to, was never stored
      // (ingest now refuses such a batch, prior_unknown; a store written before it, or by hand, may
      // hold one). Batches 4 to 11 chain on from 3, 12 is a keyframe.
      const batches = chainedBatches(1, 20, 5, t0);
      for (const b of batches.slice(3)) assert.equal((await store.appendBatch('c2', b, t0 + b.samples.at(-1)!.seq * 1000 + 300)).status, 'stored');
      const readable = sealedBySeq(batches.slice(12));
      const all = await store.samples('c2', t0, t0 + 200_000, 1000);
      assert.deepEqual(bytesBySeq(all), readable, 'batches 12 to 19 read back exactly; 3 to 11 are left out');
      assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 9, samplesWithoutPrior: 45 });
      // A window inside the unreadable part reads nothing, and does not fail.
      assert.deepEqual(await store.samples('c2', t0 + 30_000, t0 + 40_000, 100), []);
      assert.equal(store.chainReads.batchesWithoutPrior, 12);
      // The chart figures were kept at ingest: the samples are there, only not decodable.
      assert.equal((await store.sampleSummaries('c2', t0 + 16_000, t0 + 100_000, 1000)).length, 85);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: raw retention keeps every batch a kept chained batch decodes against; the signature sweep reads a chained newest batch`, async () => {
    const { store, cleanup } = await open();
    try {
      await store.upsertHost(fullHello('c3'), 1);
      const t0 = 1_795_000_000_000;
      const day = 86_400_000;
      const hour = 3_600_000;
      // Batches 0 to 29 at t0 (keyframes 0, 12, 24); three days on, batches 30 to 35 chain on from 29
      // (its chain holds 6). Worker 200 (with a signature) runs throughout; process 1000 + seq only in its sample.
      const a = chainedBatches(1, 30, 5, t0);
      const b = chainedBatches(151, 6, 5, t0 + 3 * day, { prevHash: a.at(-1)!.hash, prior: a.at(-1)!.bytes.at(-1)!, inChain: 6 });
      assert.deepEqual(b.map((x) => payloadChained(x.encoding, x.payload)), [true, true, true, true, true, true], 'the later batches chain back to batch 24');
      for (const x of [...a, ...b]) assert.equal((await store.appendBatch('c3', x, x.samples.at(-1)!.sample.tsMs! + 300)).status, 'stored');
      // A one-hour raw window: everything of t0 is past it, but batch 30 decodes against 29, and so back to 24.
      const opts = retentionOptions({ rawMs: hour, rollupMs: 30 * day });
      const now = t0 + 3 * day + 10 * 60_000;
      for (let done = false, n = 0; !done && n < 1000; n++) done = (await store.retentionStep(opts, now)).done;
      assert.equal(await store.batchContaining('c3', 120), null, 'batch 23 went');
      assert.ok(await store.batchContaining('c3', 121), 'batch 24, the keyframe, is kept');
      const kept = await store.samples('c3', 0, Number.MAX_SAFE_INTEGER, 1000);
      assert.deepEqual(bytesBySeq(kept), sealedBySeq([...a.slice(24), ...b]), 'every kept batch reads back exactly');
      assert.deepEqual({ ...store.chainReads }, { batchesWithoutPrior: 0, samplesWithoutPrior: 0 });
      assert.deepEqual(await store.retentionState('c3'), { rawPrunedMs: now - hour });
      // The sweep read the newest (chained) batch: worker 200 runs in it and keeps its signature; process 1001 does not.
      const sigs = await store.signaturesOf('c3', ['200:5000', '1001:123456789']);
      assert.deepEqual([...sigs.keys()], ['200:5000']);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a lease is held by one holder at a time, renewed by it, and taken over when it lapses or is released`, async () => {
    const { store, cleanup } = await open();
    try {
      const first = await store.acquireLease('verdicts:h', 'A', 400);
      assert.equal(first.held, true);
      const other = await store.acquireLease('verdicts:h', 'B', 400);
      assert.deepEqual([other.held, other.holder, other.expiresMs], [false, 'A', first.expiresMs]);
      const renewed = await store.acquireLease('verdicts:h', 'A', 400);
      assert.equal(renewed.held, true);
      assert.ok(renewed.expiresMs >= first.expiresMs, 'renewal moves the expiry on');
      assert.equal((await store.acquireLease('verdicts:other', 'B', 400)).held, true, 'leases are per name');
      await new Promise((r) => setTimeout(r, 500));
      const taken = await store.acquireLease('verdicts:h', 'B', 400);
      assert.deepEqual([taken.held, taken.holder], [true, 'B'], 'lapsed: taken over');
      assert.equal((await store.acquireLease('verdicts:h', 'A', 60_000)).held, false);
      await store.releaseLeases('B');
      assert.equal((await store.acquireLease('verdicts:h', 'A', 60_000)).held, true, 'released: taken at once');
    } finally {
      await cleanup();
    }
  });
}
