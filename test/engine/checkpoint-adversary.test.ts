// Rules 2026.12.5: writing files on a rhythm is free to any program. Rules 2026.12.3 let a
// storage-write burst of one repeated size (checkpoint-writes), seen three times in a busy process,
// count as training and cancel low-io's counter-weight; periodic-writes and checkpoint-bursts
// already counted for training on their own. An adversary (a miner) and an unlucky benign user
// (a stress tool, a compressor, an encoder writing segments) get them by writing a fixed-size file
// every few seconds. These tests replay REAL recorded traces with such writes injected into one
// process's samples (storage writes and write syscalls, every N samples), as recorded and
// name-blind (bench/name-blind.ts), through the collector's replay (window, cadence, hysteresis).
// At 2026.12.4 the miner and burner attacks below were published ai-training for most of their trace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nameBlindSamples } from '../../bench/name-blind.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { replay } from '../../collector/replay.js';
import type { ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);
const MiB = 2 ** 20;

interface Injection {
  /** Process (by pid) that writes the files. */
  pid: number;
  /** Bytes written in each burst sample. */
  bytes: number;
  /** One burst every this many samples. */
  every: number;
}

/** A copy of the samples with a fixed-size write injected into one process every `every` samples. */
function withSnapshots(samples: readonly ISample[], inj: Injection): ISample[] {
  let touched = 0;
  const out = samples.map((s, i) => {
    const c = JSON.parse(JSON.stringify(s)) as ISample;
    if (i % inj.every !== 0) return c;
    for (const p of c.processes ?? []) {
      if (p.pid !== inj.pid) continue;
      p.writeBytesPerSec = (p.writeBytesPerSec ?? 0) + inj.bytes;
      p.wcharPerSec = (p.wcharPerSec ?? 0) + inj.bytes;
      touched++;
    }
    return c;
  });
  assert.ok(touched >= 10, `pid ${inj.pid} got ${touched} injected bursts: the injection is not vacuous`);
  return out;
}

interface Published {
  classes: Map<string, number>;
  steps: number;
}

async function publish(trace: string, inj: Injection, blind: boolean): Promise<Published> {
  const { header, samples } = await readTrace(join(repoRoot, trace));
  let ss = withSnapshots(samples, inj);
  if (blind) ss = nameBlindSamples(ss);
  const steps = replay(ss, rules, undefined, header.inventory);
  const classes = new Map<string, number>();
  for (const st of steps) {
    const v = st.verdict;
    const parts = v.class === 'mixed' ? v.parts.map((x) => x.class) : [v.class];
    const key = v.class === 'mixed' ? `mixed(${parts.join('+')})` : v.class;
    classes.set(key, (classes.get(key) ?? 0) + 1);
  }
  return { classes, steps: steps.length };
}

const show = (p: Published): string => JSON.stringify(Object.fromEntries(p.classes));
const aiAlone = (p: Published): number => p.classes.get('ai-training') ?? 0;

// Real traces (test/corpus, bench/heldout); the pid is the workload's own process in that trace.
const MINERS: [string, number][] = [
  ['test/corpus/pow-mining-monerod-regtest.trace.ndjson', 6598],
  ['test/corpus/evasion-miner-renamed-python3.trace.ndjson', 16671],
  ['test/corpus/evasion-miner-throttled-30pct.trace.ndjson', 17135],
  ['bench/heldout/pow-mining-cpuminer-scrypt-bench.trace.ndjson', 21068],
];
const BENIGN: [string, number][] = [
  ['test/corpus/general-stress-ng-cpu.trace.ndjson', 7565],
  ['bench/heldout/general-xz-renamed-python3.trace.ndjson', 13014],
  ['test/corpus/general-ffmpeg-x264.trace.ndjson', 27319],
  ['bench/heldout/general-openssl-speed.trace.ndjson', 13291],
];
// Bursts that fire checkpoint-writes alone (below periodic-writes' 1 MiB/s). Bursts of 1 MiB and
// more also fire periodic-writes, which counted for training without identity before 2026.12.3
// and still does: see the engine README ("Still open: write rhythms without identity").
const SHAPES: Omit<Injection, 'pid'>[] = [
  { bytes: 0.2 * MiB, every: 3 },
  { bytes: 0.5 * MiB, every: 2 },
  { bytes: 0.125 * MiB, every: 4 },
];

describe('a miner that writes a fixed-size file every few seconds is not published as training', () => {
  for (const [trace, pid] of MINERS)
    for (const shape of SHAPES)
      for (const blind of [false, true])
        it(`${trace.split('/').pop()} + ${shape.bytes / MiB} MiB every ${shape.every} s${blind ? ', name-blind' : ''}`, async () => {
          const p = await publish(trace, { pid, ...shape }, blind);
          assert.ok(p.steps >= 15, `${p.steps} steps`);
          assert.equal(aiAlone(p), 0, `published ai-training: ${show(p)}`);
        });
});

describe('benign CPU work that writes equal-sized chunks on a rhythm is not published as training', () => {
  for (const [trace, pid] of BENIGN)
    for (const shape of SHAPES)
      it(`${trace.split('/').pop()} + ${shape.bytes / MiB} MiB every ${shape.every} s`, async () => {
        const p = await publish(trace, { pid, ...shape }, false);
        assert.equal(aiAlone(p), 0, `published ai-training: ${show(p)}`);
        for (const c of ['pow-mining', 'chain-validation']) assert.equal(p.classes.get(c) ?? 0, 0, `published ${c}: ${show(p)}`);
      });
});

describe('training that carries AI identity still counts its checkpoints', () => {
  it('the corpus PyTorch CPU training job (checkpoints every ~9 s) is published ai-training, as recorded', async () => {
    const { header, samples } = await readTrace(join(repoRoot, 'test/corpus/ai-training-pytorch-cpu.trace.ndjson'));
    const steps = replay(samples, rules, undefined, header.inventory);
    const ai = steps.filter((s) => s.verdict.class === 'ai-training').length;
    assert.ok(ai >= steps.length * 0.8, `${ai} of ${steps.length} steps ai-training`);
    assert.ok(steps.some((s) => s.raw.evidence.some((e) => e.signal === 'beh.checkpoint-writes' && e.weight > 0)), 'checkpoint-writes counts there');
  });
});
