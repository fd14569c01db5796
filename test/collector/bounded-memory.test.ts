// Issue 10: every per-host structure of the classifier is bounded. Hosts fed nothing for
// idleEvictMs leave memory, at most maxHosts are held (least recently fed go first), a host that
// returns is rebuilt from the store (a real SQLite file, real recorded samples from
// test/corpus) to the same verdicts it would have had, and a rebuild reads the signatures of the
// processes in its window only, not every process the host ever ran.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sealBatch } from '../../agent/batch.js';
import { Classifier, type ClassifierStore } from '../../collector/classifier.js';
import { defaultRulesPath, loadRulesFile, type Verdict } from '../../collector/engine/index.js';
import { processKey } from '../../collector/engine/types.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { HostWindow } from '../../collector/window.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay, decodeSample, type ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot, tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';

const rules = loadRulesFile(defaultRulesPath);
const keys = generateAgentKeys();

/** A store holding hosts whose batches are appended as ingest does (signed, chained). */
class Fleet {
  readonly store: SqliteStore;
  private readonly heads = new Map<string, { hash: Uint8Array; seq: number }>();
  constructor(path: string) {
    this.store = new SqliteStore(path);
  }
  /** Stores samples for a host; returns them decoded from the stored bytes (what onStored hands the classifier). */
  async append(hostId: string, samples: ISample[]): Promise<ISample[]> {
    if (!this.heads.has(hostId)) {
      await this.store.upsertHost({ ...fullHello(hostId), hostname: hostId }, 1);
      this.heads.set(hostId, { hash: new Uint8Array(), seq: 0 });
    }
    const head = this.heads.get(hostId)!;
    const incoming = samples.map((s, i) => ({ seq: head.seq + 1 + i, bytes: assay.v1.Sample.encode(assay.v1.Sample.fromObject(s)).finish() }));
    const sealed = sealBatch({ agentId: hostId, seqs: incoming.map((x) => x.seq), samples: incoming.map((x) => x.bytes), prevHash: head.hash, gaps: [], sealedMs: 1 }, (h) => signBytes(keys, h));
    const decoded = incoming.map((x) => decodeSample(x.bytes));
    const r = await this.store.appendBatch(
      hostId,
      { hash: sealed.hash, prevHash: head.hash, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: incoming.map((x, i) => ({ seq: x.seq, sample: decoded[i]! })), gaps: [] },
      2,
    );
    assert.equal(r.status, 'stored');
    this.heads.set(hostId, { hash: sealed.hash, seq: head.seq + samples.length });
    return decoded;
  }
}

const clock = (t = 1_000_000): { now: () => number; advance: (ms: number) => void } => ({ now: () => t, advance: (ms) => void (t += ms) });

/**
 * Consecutive 1 Hz samples of one process each (cheap hosts for the eviction tests); as the agent
 * does, only a process's first sample carries its signature.
 */
const tiny = (t0: number, n: number, pid = 4242): ISample[] =>
  Array.from({ length: n }, (_, i) => {
    const s = fullSample(t0 + i * 1000, pid);
    if (i > 0) for (const p of s.processes ?? []) delete p.signature;
    return s;
  });

describe('classifier memory is bounded', () => {
  it('a host fed nothing for idleEvictMs is dropped (on the next add or the timer\'s evict), and rebuilt when it returns', async () => {
    const tmp = tempDir();
    const fleet = new Fleet(join(tmp.dir, 'a.db'));
    const c0 = clock();
    const c = new Classifier(fleet.store, () => rules, { idleEvictMs: 60_000 }, c0.now);
    try {
      const t0 = 1_795_000_000_000;
      await c.add('quiet', await fleet.append('quiet', tiny(t0, 5)));
      await c.add('busy', await fleet.append('busy', tiny(t0, 5)));
      assert.equal(c.size, 2);
      c0.advance(59_000);
      await c.add('busy', await fleet.append('busy', tiny(t0 + 5000, 5)));
      assert.ok(c.holds('quiet'), 'not yet quiet for a minute');
      c0.advance(2_000);
      await c.add('busy', await fleet.append('busy', tiny(t0 + 10_000, 5)));
      assert.equal(c.holds('quiet'), false, 'quiet for 61 s: dropped at the next add of any host');
      assert.deepEqual(c.evicted, { idle: 1, cap: 0 });
      c0.advance(61_000);
      c.evict(); // the collector's timer: nothing else arrives
      assert.equal(c.size, 0);
      assert.deepEqual(c.evicted, { idle: 2, cap: 0 });
      const rebuiltBefore = c.rebuilt;
      await c.add('quiet', await fleet.append('quiet', tiny(t0 + 65_000, 5)));
      assert.ok(c.holds('quiet'));
      assert.equal(c.rebuilt, rebuiltBefore + 1, 'rebuilt from the store');
    } finally {
      await fleet.store.close();
      tmp.cleanup();
    }
  });

  it('at most maxHosts are held; the least recently fed go first', async () => {
    const tmp = tempDir();
    const fleet = new Fleet(join(tmp.dir, 'a.db'));
    const c = new Classifier(fleet.store, () => rules, { maxHosts: 3 });
    try {
      const t0 = 1_795_000_000_000;
      for (const id of ['h1', 'h2', 'h3']) await c.add(id, await fleet.append(id, tiny(t0, 3)));
      await c.add('h1', await fleet.append('h1', tiny(t0 + 3000, 3))); // h1 is now the most recently fed
      for (const id of ['h4', 'h5']) await c.add(id, await fleet.append(id, tiny(t0, 3)));
      assert.equal(c.size, 3);
      assert.deepEqual(['h1', 'h2', 'h3', 'h4', 'h5'].filter((id) => c.holds(id)), ['h1', 'h4', 'h5']);
      assert.deepEqual(c.evicted, { idle: 0, cap: 2 });
      // 200 more hosts come and go: never more than 3 held.
      let most = 0;
      for (let i = 0; i < 200; i++) {
        await c.add(`x${i}`, await fleet.append(`x${i}`, tiny(t0, 1)));
        most = Math.max(most, c.size);
      }
      assert.equal(most, 3);
      assert.equal(c.evicted.cap, 202);
    } finally {
      await fleet.store.close();
      tmp.cleanup();
    }
  });

  for (const trace of ['pow-mining-monerod-regtest', 'ai-training-pytorch-cpu', 'general-postgres-pgbench']) {
    it(`a host rebuilt after eviction publishes the same verdicts as one never evicted (${trace})`, async () => {
      const { samples } = await readTrace(join(repoRoot, 'test', 'corpus', `${trace}.trace.ndjson`));
      assert.ok(samples.length >= 60, 'a real trace');
      const tmp = tempDir();
      const kept = new Fleet(join(tmp.dir, 'kept.db'));
      const cycled = new Fleet(join(tmp.dir, 'cycled.db'));
      const c1 = clock();
      const c2 = clock();
      // everyMs 1 s: both evaluate at every batch (a rebuilt host evaluates at once, and the
      // trace's timestamps are not exactly 5 s apart per batch). A 30 s window: the agent sends a
      // process's signature with its first sample only, so a window rebuilt after the first 30 s
      // must get the signatures of long-running processes from the store.
      const o = { idleEvictMs: 60_000, everyMs: 1000, windowMs: 30_000 };
      const never = new Classifier(kept.store, () => rules, o, c1.now);
      const evicted = new Classifier(cycled.store, () => rules, o, c2.now);
      try {
        // Batches of 5 samples, as agents send them; the second classifier loses the host halfway
        // (and again three quarters in), the first never does.
        const cuts = new Set([Math.floor(samples.length / 10) * 5, Math.floor((samples.length * 3) / 20) * 5]);
        const pairs: Array<[Verdict | null, Verdict | null]> = [];
        let afterCut = false;
        for (let i = 0; i < samples.length; i += 5) {
          const batch = samples.slice(i, i + 5);
          if (cuts.has(i)) {
            c2.advance(61_000);
            evicted.evict();
            assert.equal(evicted.holds('h'), false);
            afterCut = true;
          }
          const a = await never.add('h', await kept.append('h', batch));
          const b = await evicted.add('h', await cycled.append('h', batch));
          if (afterCut) pairs.push([a, b]);
        }
        assert.equal(evicted.evicted.idle, 2);
        assert.ok(pairs.length >= 4, `${pairs.length} evaluations after the first eviction`);
        for (const [i, [a, b]] of pairs.entries()) {
          assert.ok(a && b, `both evaluated at step ${i}`);
          assert.equal(b.class, a.class, `step ${i}: rebuilt ${b.class}, never evicted ${a.class}`);
          assert.equal(b.confidence, a.confidence, `step ${i}: confidence`);
          assert.deepEqual(b.scores, a.scores, `step ${i}: scores`);
        }
        assert.equal(evicted.current('h')?.class, never.current('h')?.class);
      } finally {
        await kept.store.close();
        await cycled.store.close();
        tmp.cleanup();
      }
    });
  }

  it('a rebuild reads the signatures of the processes in its window only, not of every process ever seen', async () => {
    const tmp = tempDir();
    const fleet = new Fleet(join(tmp.dir, 'a.db'));
    const asked: string[][] = [];
    // The real store, with its calls counted (signaturesOf is the only signature read a classifier has).
    const counted: ClassifierStore = {
      getHost: (id) => fleet.store.getHost(id),
      samples: (...a) => fleet.store.samples(...a),
      verdicts: (...a) => fleet.store.verdicts(...a),
      putVerdict: (...a) => fleet.store.putVerdict(...a),
      signaturesOf: (id, keys) => (asked.push([...keys]), fleet.store.signaturesOf(id, keys)),
    };
    const c0 = clock();
    const c = new Classifier(counted, () => rules, { idleEvictMs: 60_000, windowMs: 120_000 }, c0.now);
    try {
      // Two hours of a host where every minute's process is a new one (a build farm, cron jobs):
      // 120 distinct signatures stored, then a last minute with one long-lived process.
      const t0 = 1_795_000_000_000;
      for (let m = 0; m < 120; m++) await fleet.append('h', tiny(t0 + m * 60_000, 60, 10_000 + m));
      assert.equal((await fleet.store.signatures('h')).size, 120);
      const last = await fleet.append('h', tiny(t0 + 120 * 60_000, 5, 99_999));
      await c.add('h', last);
      // The window (120 s back from the newest sample) holds three processes: the last two
      // minute-processes and the new one. Only 10118's signature is not in a windowed sample (its
      // first sample is older than the window): that one key is all the store is asked for.
      assert.deepEqual(asked, [[processKey(10_118, 123456789)]]);
      // The window holds 120 s of samples (56 of 10118's minute, 60 of 10119's, 5 of the new one);
      // no signature is held between evaluations: each one reads those of its window's processes.
      assert.equal(c.windowSize('h'), 56 + 60 + 5);
    } finally {
      await fleet.store.close();
      tmp.cleanup();
    }
  });

  it('a window keeps the signatures of processes seen within 1.5 windows, however many processes the host runs', () => {
    const w = new HostWindow(60_000);
    const t0 = 1_795_000_000_000;
    let most = 0;
    // 30 minutes at 1 Hz, a new process every 5 s (each sample carries the new one's signature).
    for (let i = 0; i < 1800; i++) {
      w.add([fullSample(t0 + i * 1000, 20_000 + Math.floor(i / 5))]);
      most = Math.max(most, w.signatures.size);
    }
    // 60 s window = 12 processes, plus at most half a window (6) waiting for the next prune.
    assert.ok(most <= 12 + 6 + 1, `${most} signatures held at most`);
    assert.ok(w.signatures.size >= 12, 'the window\'s processes keep theirs');
  });
});
