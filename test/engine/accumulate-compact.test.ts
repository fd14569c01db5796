// The long-horizon accumulator keeps its buckets' processes in parallel arrays (issue 10: one per
// connected host); its view must equal, figure for figure, the one of the Map-of-objects
// accumulator it replaced (test/helpers/accumulate-reference.ts): recorded traces looped for
// 70 minutes at 1 Hz (every horizon full and rolling), with late, repeated and out-of-order
// samples and a gap longer than the shortest horizon.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HistoryAccumulator } from '../../collector/engine/accumulate.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { processKey } from '../../collector/engine/types.js';
import { decodeSample, encodeSample, type ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { HistoryAccumulator as Reference } from '../helpers/accumulate-reference.js';
import { repoRoot } from '../helpers/env.js';

const horizons = loadRulesFile(defaultRulesPath).history.horizons;

function compare(a: HistoryAccumulator, b: Reference, keys: Set<string>, what: string, recent: ISample[] | null = null): void {
  assert.deepEqual(a.view(keys, recent), b.view(keys), `${what}: view of the window's processes`);
  assert.deepEqual(a.view(null, recent), b.view(), `${what}: view of every process`);
}

describe('compact long-horizon history', () => {
  for (const name of ['test/corpus/general-cpp-compile', 'bench/heldout/general-redis-benchmark', 'bench/heldout/storage-proving-chiapos-plot', 'test/corpus/idle']) {
    it(`same view as the reference accumulator over 70 minutes: ${name}`, async () => {
      const { samples } = await readTrace(join(repoRoot, `${name}.trace.ndjson`));
      const wire = samples.map((s) => encodeSample(s));
      const t0 = 1_795_000_000_000;
      const a = new HistoryAccumulator(horizons);
      const b = new Reference(horizons);
      // Derives the horizons no longer than 120 s (the 60 s one) from the samples of the last 120 s.
      const d = new HistoryAccumulator(horizons, 120_000);
      assert.ok(d.derives && !a.derives);
      const added: ISample[] = [];
      const feed = (s: ISample): void => {
        a.add(decodeSample(encodeSample(s)));
        b.add(decodeSample(encodeSample(s)));
        d.add(decodeSample(encodeSample(s)));
        added.push(s);
        if (added.length > 400) added.splice(0, 200);
      };
      let checks = 0;
      for (let k = 0; k < 70 * 60; k++) {
        // A 90 s gap at 20 min (the 60 s horizon restarts); a late sample (10 s back) every 97 s,
        // the same sample again every 131 s.
        if (k >= 1200 && k < 1290) continue;
        const s = { ...decodeSample(wire[k % wire.length]!), tsMs: t0 + k * 1000 };
        feed(s);
        if (k % 97 === 0 && k > 10) feed({ ...decodeSample(wire[(k - 10) % wire.length]!), tsMs: t0 + (k - 10) * 1000 + 500 });
        if (k % 131 === 0) feed(s);
        if (k % 600 === 599 || k === 1290 || k === 4199) {
          const live = new Set((s.processes ?? []).map((p) => processKey(p.pid ?? 0, p.startTimeTicks ?? 0)));
          compare(a, b, live, `${name} at ${k} s`);
          const newest = Math.max(...added.map((x) => x.tsMs ?? 0));
          compare(d, b, live, `${name} at ${k} s, derived`, added.filter((x) => (x.tsMs ?? 0) >= newest - 120_000));
          assert.throws(() => d.view(live), /derived/);
          checks++;
        }
      }
      assert.ok(checks >= 7);
    });
  }
});
