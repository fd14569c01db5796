// A stored period written with the store API exactly as ingest writes it: an enrolled agent's
// signed batches in one hash chain, a time hole (agent down), a declared spool_thinned gap, RAPL
// power in every sample, and verdicts with a mixed interval that hides a miner.
import { join } from 'node:path';
import { after, before } from 'node:test';
import { sealBatch } from '../../agent/batch.js';
import { buildReport } from '../../collector/report/build.js';
import type { Report } from '../../collector/report/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { tempDir } from '../helpers/env.js';
import type { Verdict } from '../../collector/engine/types.js';
import type { Store } from '../../collector/store/store.js';
import { generateAgentKeys, signBytes, type AgentKeys } from '../../proto/chain.js';
import { encodeSample, type ISample } from '../../proto/codec.js';

export const T0 = 1_800_000_000_000;
export const S = 1000;

export function sample(tsMs: number, seq: number, watts = 100): ISample {
  return {
    tsMs,
    cpu: { totalPct: 40 + (seq % 10) },
    memory: { totalBytes: 64 * 2 ** 30, usedBytes: 20 * 2 ** 30, availableBytes: 44 * 2 ** 30 },
    load: { load1: 2 },
    power: [{ domain: 'package-0', source: 'rapl', watts }],
    processes: [
      { pid: 4242, ppid: 1, name: 'python3', startTimeTicks: 77, cpuPct: 90, rssBytes: 2 ** 30, threads: 12, ...(seq === 1 ? { signature: { cmdline: 'python3 train.py', exe: '/usr/bin/python3.11', exeSha256: 'ab'.repeat(32), libs: ['libcudnn.so.9'] } } : {}) },
    ],
    sockets: [
      { protocol: 'tcp', localAddress: '0.0.0.0', localPort: 29500, state: 'LISTEN', pid: 4242 },
      { protocol: 'tcp', localAddress: '10.0.0.5', localPort: 40000, remoteAddress: '10.0.0.6', remotePort: 29500, state: 'ESTABLISHED', pid: 4242 },
    ],
  };
}

export function verdict(cls: Verdict['class'], tsMs: number, parts: Verdict['parts'] = [], confidence = 0.8): Verdict {
  const supports = cls === 'mixed' ? 'ai-training' : cls;
  return {
    class: cls,
    confidence,
    scores: { 'ai-training': 0.8, 'ai-inference': 0, 'chain-validation': 0, 'storage-proving': 0, 'pow-mining': cls === 'pow-mining' ? 0.9 : 0, general: 0, idle: 0 },
    parts,
    evidence: [
      { signal: 'lib.ai', value: 'libcudnn.so.9', supports: 'ai-training', weight: 0.5, detail: 'maps cuDNN', process: { pid: 4242, name: 'python3' } },
      ...(supports !== 'ai-training' ? [{ signal: 'test.behaviour', value: 1, supports, weight: 0.3, detail: `behaves like ${supports}`, process: { pid: 4242, name: 'python3' } }] : []),
    ],
    window: { fromMs: tsMs - 120_000, toMs: tsMs, samples: 120 },
    unavailable: [],
    rulesVersion: 'test',
  };
}

export interface Agent {
  id: string;
  keys: AgentKeys;
  head: Uint8Array;
}

export async function enroll(store: Store, id: string, atMs = T0): Promise<Agent> {
  const keys = generateAgentKeys();
  await store.upsertHost({ agentId: id, hostname: `${id}.example`, agentVersion: '0.1.0', publicKey: keys.publicKey, inventory: { cpuModel: 'Test CPU', cpuLogicalCores: 8, memoryTotalBytes: 64 * 2 ** 30, kernel: '6.1' } }, atMs);
  return { id, keys, head: new Uint8Array() };
}

/** Seals and commits samples in batches of `per`, received right after their last sample. */
export async function commit(store: Store, a: Agent, rows: Array<{ seq: number; tsMs: number; watts?: number }>, gaps: Array<{ fromSeq: number; toSeq: number; fromMs: number; toMs: number; cause: string; samples: number }> = [], per = 50): Promise<void> {
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const samples = chunk.map((r) => ({ seq: r.seq, sample: sample(r.tsMs, r.seq, r.watts) }));
    const g = i === 0 ? gaps : [];
    const sealed = sealBatch({ agentId: a.id, seqs: chunk.map((r) => r.seq), samples: samples.map((s) => encodeSample(s.sample)), prevHash: a.head, gaps: g, sealedMs: chunk.at(-1)!.tsMs }, (h) => signBytes(a.keys, h));
    const res = await store.appendBatch(
      a.id,
      { hash: sealed.hash, prevHash: a.head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: g },
      chunk.at(-1)!.tsMs + 500,
    );
    if (res.status !== 'stored') throw new Error(`batch not stored: ${res.status}`);
    a.head = sealed.hash;
  }
}

export const range = (fromSeq: number, toSeq: number, t: (seq: number) => number): Array<{ seq: number; tsMs: number }> =>
  Array.from({ length: toSeq - fromSeq + 1 }, (_, i) => ({ seq: fromSeq + i, tsMs: t(fromSeq + i) }));

/**
 * Host "gappy", period [T0, T0 + 600 s):
 *   seq 1–200     T0 + 0…199 s
 *   (agent down   T0 + 200…260 s)
 *   seq 201–400   T0 + 260…459 s
 *   seq 401–420   declared spool_thinned, T0 + 460…479 s
 *   seq 421–540   T0 + 480…599 s
 * verdicts: ai-training at T0, mixed (70 % training, 30 % pow-mining) at T0 + 300 s, ai-training at T0 + 360 s.
 */
export async function gappyHost(store: Store): Promise<Agent> {
  const a = await enroll(store, 'gappy');
  await commit(store, a, range(1, 200, (s) => T0 + (s - 1) * S));
  await commit(store, a, range(201, 400, (s) => T0 + 260 * S + (s - 201) * S));
  await commit(store, a, range(421, 540, (s) => T0 + 480 * S + (s - 421) * S), [{ fromSeq: 401, toSeq: 420, fromMs: T0 + 460 * S, toMs: T0 + 479 * S, cause: 'spool_thinned', samples: 20 }]);
  await store.putVerdict(a.id, T0, verdict('ai-training', T0));
  await store.putVerdict(a.id, T0 + 300 * S, verdict('mixed', T0 + 300 * S, [
    { class: 'ai-training', share: 0.7, processes: [{ pid: 4242, name: 'python3' }] },
    { class: 'pow-mining', share: 0.3, processes: [{ pid: 999, name: 'kworker' }] },
  ]));
  await store.putVerdict(a.id, T0 + 360 * S, verdict('ai-training', T0 + 360 * S));
  return a;
}

/** A host sampled every second for `seconds`, one verdict class throughout. */
export async function steadyHost(store: Store, id: string, cls: Verdict['class'], seconds: number): Promise<Agent> {
  const a = await enroll(store, id);
  await commit(store, a, range(1, seconds, (s) => T0 + (s - 1) * S));
  await store.putVerdict(a.id, T0 - 30 * S, verdict(cls, T0 - 30 * S));
  return a;
}

/**
 * A host sampled every second over [T0, T0 + seconds), with the verdicts given as
 * [seconds from T0, class, confidence] (the first applies from the start).
 */
export async function scriptedHost(store: Store, id: string, seconds: number, verdicts: Array<[number, Verdict['class'], number]>): Promise<Agent> {
  const a = await enroll(store, id);
  await commit(store, a, range(1, seconds, (s) => T0 + (s - 1) * S));
  for (const [at, cls, confidence] of verdicts) await store.putVerdict(a.id, T0 + at * S, verdict(cls, T0 + at * S, [], confidence));
  return a;
}

/**
 * A host enrolled at T0 + enrolledAt s whose agent sampled every second from T0 + firstAt s to the
 * end of [T0, T0 + 600 s), training throughout.
 */
export async function lateHost(store: Store, id: string, enrolledAt: number, firstAt: number): Promise<Agent> {
  const a = await enroll(store, id, T0 + enrolledAt * S);
  await commit(store, a, range(1, 600 - firstAt, (s) => T0 + (firstAt + s - 1) * S));
  await store.putVerdict(a.id, T0 + firstAt * S, verdict('ai-training', T0 + firstAt * S));
  return a;
}

/**
 * Registers before/after hooks in the calling suite: a fresh store holding gappyHost, and its
 * report over T0 .. T0 + 600 s signed with `keys`. `current()` is the report once built.
 */
export function useGappyReport(prefix: string, keys: AgentKeys): { current(): Report; store(): SqliteStore } {
  const tmp = tempDir(prefix);
  let store: SqliteStore | undefined;
  let report: Report | undefined;
  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'assay.db'));
    await gappyHost(store);
    report = await buildReport(store, { hostIds: ['gappy'], fromMs: T0, toMs: T0 + 600 * S, keys });
  });
  after(async () => {
    await store?.close();
    tmp.cleanup();
  });
  return {
    current(): Report {
      if (!report) throw new Error('the gappy report is built in a before hook');
      return report;
    },
    store(): SqliteStore {
      if (!store) throw new Error('the gappy store is opened in a before hook');
      return store;
    },
  };
}
