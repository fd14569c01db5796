// A generated fleet written into a real SQLite store (the collector's own schema and code paths):
// hosts across every class and the pending state, some of them offline, each with signed batches
// of samples for its sparklines, its verdicts and a share of earlier class changes. Used by
// bench/fleet-view.ts and test/browser/fleet.test.ts.
import { randomBytes } from 'node:crypto';
import { sealBatch } from '../../agent/batch.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample, type ISample } from '../../proto/codec.js';
import { CLASSES, WORKLOAD_CLASSES, type Verdict, type WorkloadClass } from '../../collector/engine/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';

export interface FleetSpec {
  hosts: number;
  /** Every n-th host is offline (its last data hours old). */
  offlineEvery: number;
  /** Every n-th host has no verdict yet (pending). */
  pendingEvery: number;
  /** Samples per host, spread evenly over the 10 minutes before the host's last data (the sparklines' span). */
  samplesPerHost: number;
  /** Every n-th host changed class once before (feeds the class-change feed). */
  changedEvery: number;
  nowMs: number;
}

export const defaultFleetSpec = (nowMs: number): FleetSpec => ({ hosts: 5000, offlineEvery: 13, pendingEvery: 97, samplesPerHost: 12, changedEvery: 5, nowMs });

export interface GeneratedHost {
  id: string;
  hostname: string;
  class: WorkloadClass | null;
  online: boolean;
  lastSeenMs: number;
}

const SITES = ['fra1', 'ams2', 'iad3', 'sfo1', 'sin2'];
const ROLES: Record<WorkloadClass, string> = {
  'ai-training': 'train',
  'ai-inference': 'infer',
  'chain-validation': 'validator',
  'storage-proving': 'prover',
  'pow-mining': 'gpu',
  mixed: 'shared',
  idle: 'spare',
  general: 'app',
};

/** Offline hosts went silent this long ago at least (tests run with a shorter online window). */
export const OFFLINE_AGE_MS = 2 * 3600_000;

export function verdictOf(cls: WorkloadClass, tsMs: number, confidence: number): Verdict {
  const scores = Object.fromEntries([...WORKLOAD_CLASSES, 'idle'].map((c) => [c, c === cls ? confidence : 0.05])) as Verdict['scores'];
  const parts: Verdict['parts'] =
    cls === 'mixed'
      ? [
          { class: 'ai-training', share: 0.6, processes: [{ pid: 4711, name: 'python3' }] },
          { class: 'pow-mining', share: 0.35, processes: [{ pid: 4712, name: 'kworker' }] },
        ]
      : cls === 'idle'
        ? []
        : [{ class: cls === 'general' ? 'general' : (cls as Verdict['parts'][number]['class']), share: 0.9, processes: [{ pid: 1000, name: ROLES[cls] }] }];
  return { class: cls, confidence, scores, parts, evidence: [], window: { fromMs: tsMs - 120_000, toMs: tsMs, samples: 120 }, unavailable: [], rulesVersion: 'generated' };
}

function sampleFor(cls: WorkloadClass | null, tsMs: number, i: number, n: number): ISample {
  const wave = (Math.sin((i + n) / 3) + 1) / 2;
  const busy: Record<WorkloadClass, number> = { 'ai-training': 70, 'ai-inference': 45, 'chain-validation': 35, 'storage-proving': 60, 'pow-mining': 98, mixed: 85, idle: 2, general: 30 };
  const cpu = Math.min(100, (cls ? busy[cls] : 10) + wave * 10);
  const gpu = cls === 'ai-training' || cls === 'ai-inference' || cls === 'pow-mining' || cls === 'mixed' || cls === 'storage-proving';
  return {
    tsMs,
    cpu: { totalPct: cpu },
    load: { load1: cpu / 25 },
    memory: { usedBytes: 8e9 + wave * 4e9, totalBytes: 64e9 },
    gpus: gpu ? [{ index: 0, utilPct: Math.min(100, cpu + 5), memUsedBytes: 20e9 }] : [],
    power: gpu ? [{ domain: 'gpu0', watts: 150 + cpu * 2 }] : [{ domain: 'package-0', watts: 40 + cpu }],
  };
}

/**
 * Writes the fleet into the store at `dbPath` (created with the collector's schema) and returns
 * the hosts as generated. Bounded: `spec.hosts` hosts, `samplesPerHost` samples each.
 */
export async function generateFleet(dbPath: string, spec: FleetSpec): Promise<GeneratedHost[]> {
  const store = new SqliteStore(dbPath);
  // Generation only: one fsync per host would make 5,000 hosts take minutes on a slow disk.
  store.db.pragma('synchronous = OFF');
  const keys = generateAgentKeys();
  const out: GeneratedHost[] = [];
  try {
    for (let n = 0; n < spec.hosts; n++) {
      const id = `fleet-${String(n).padStart(5, '0')}-${randomBytes(3).toString('hex')}`;
      const pending = n % spec.pendingEvery === spec.pendingEvery - 1;
      const cls: WorkloadClass | null = pending ? null : CLASSES[n % CLASSES.length]!;
      const online = n % spec.offlineEvery !== spec.offlineEvery - 1;
      const lastSeenMs = online ? spec.nowMs - (n % 10) * 1000 : spec.nowMs - OFFLINE_AGE_MS - (n % 50) * 60_000;
      const hostname = `${cls ? ROLES[cls] : 'new'}-${SITES[n % SITES.length]}-${String(n).padStart(4, '0')}`;
      const firstMs = lastSeenMs - 3600_000;
      await store.upsertHost({ agentId: id, hostname, agentVersion: 'generated', publicKey: keys.publicKey }, firstMs);
      const samples = Array.from({ length: spec.samplesPerHost }, (_, i) => {
        const tsMs = lastSeenMs - Math.round(((spec.samplesPerHost - 1 - i) * 600_000) / spec.samplesPerHost);
        const sample = sampleFor(cls, tsMs, i, n);
        return { seq: i + 1, sample, bytes: encodeSample(sample) };
      });
      const sealed = sealBatch({ agentId: id, seqs: samples.map((s) => s.seq), samples: samples.map((s) => s.bytes), prevHash: new Uint8Array(), sealedMs: lastSeenMs }, (h) => signBytes(keys, h));
      await store.appendBatch(id, { hash: sealed.hash, prevHash: new Uint8Array(), header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples, gaps: [] }, lastSeenMs);
      if (cls) {
        if (n % spec.changedEvery === 0) {
          // An earlier class first (AI for the non-AI hosts, and the other way round), then the current one.
          const before: WorkloadClass = cls === 'pow-mining' || cls === 'chain-validation' || cls === 'storage-proving' || cls === 'mixed' ? 'ai-training' : 'pow-mining';
          await store.putVerdict(id, lastSeenMs - 3600_000 - n * 1000, verdictOf(before, lastSeenMs - 3600_000, 0.7));
        }
        // Current verdicts date from 10 to 40 min before the host's last data, so changes made
        // live by a test are the newest in the feed.
        const tsMs = lastSeenMs - 600_000 - (n % 30) * 60_000;
        await store.putVerdict(id, tsMs, verdictOf(cls, tsMs, 0.5 + (n % 50) / 100));
      }
      out.push({ id, hostname, class: cls, online, lastSeenMs });
    }
  } finally {
    store.db.pragma('synchronous = FULL');
    await store.close();
  }
  return out;
}
