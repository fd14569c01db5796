// CPU cost of one engine evaluation of a host's window, as the Classifier makes it: the compact
// window decoded (CompactWindow.samples + view) and evaluate() with the identity memo. A trace is
// fed to a CompactWindow sample by sample; at every evaluation point (everyMs of sample time
// apart, once the window is full) the decode and the engine are timed separately (process CPU
// time, all threads: GC counted). Prints µs per evaluation and the machine's loadavg.
//   node dist/bench/eval-cost.js [--traces a.trace.ndjson.gz,...] [--rounds 3]
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompactWindow } from '../collector/compact-window.js';
import { defaultClassifierOptions } from '../collector/classifier-options.js';
import { defaultRulesPath, evaluate, IdentityMemo, loadRulesFile } from '../collector/engine/index.js';
import { readTrace } from '../proto/trace.js';
import type { IInventory, ISample } from '../proto/codec.js';
import { sentSamples } from './agents-pregen.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const traces = (opt('traces') ?? join(here, '..', '..', 'bench', 'data', 'server-host.trace.ndjson.gz')).split(',');
const rounds = Math.max(1, Math.min(20, Number(opt('rounds') ?? 3)));
const rules = loadRulesFile(defaultRulesPath);
const { windowMs, everyMs } = defaultClassifierOptions;
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

let decodeUs = 0;
let engineUs = 0;
let evaluations = 0;
let procs = 0;
let sampleCount = 0;
const memo = new IdentityMemo();
/** Per round: engine and decode µs per evaluation (the least loaded round is the best estimate on a shared machine). */
const perRound: { engine: number; decode: number }[] = [];
for (let round = 0; round < rounds; round++) {
  const before = { engineUs, decodeUs, evaluations };
  for (const file of traces) {
    // A .gz trace (bench/data) as the agent sends it today (as bench/ingest-floor feeds it); a corpus trace as recorded.
    const trace: { samples: ISample[]; inventory: IInventory | null } = file.endsWith('.gz')
      ? { samples: sentSamples(file), inventory: null }
      : await readTrace(file).then((t) => ({ samples: t.samples, inventory: t.header.inventory ?? null }));
    const window = new CompactWindow(windowMs, rules.history.horizons);
    window.inventory = trace.inventory;
    const first = trace.samples[0]?.tsMs ?? 0;
    let lastEval = 0;
    for (const s of trace.samples) {
      window.add([s]);
      const ts = s.tsMs ?? 0;
      if (ts - first < windowMs || ts - lastEval < everyMs) continue;
      lastEval = ts;
      const t0 = cpu();
      const decoded = window.samples();
      const view = window.view(decoded);
      const t1 = cpu();
      const v = evaluate(view, rules, memo);
      const t2 = cpu();
      if (!v.class) throw new Error('no class');
      decodeUs += t1 - t0;
      engineUs += t2 - t1;
      evaluations++;
      sampleCount += view.samples.length;
      procs += view.samples.reduce((a, x) => a + (x.processes ?? []).length, 0) / Math.max(1, view.samples.length);
    }
  }
  const n = Math.max(1, evaluations - before.evaluations);
  perRound.push({ engine: (engineUs - before.engineUs) / n, decode: (decodeUs - before.decodeUs) / n });
}
if (evaluations === 0) throw new Error('no evaluation: traces shorter than the window');
const f = (x: number): string => (x / evaluations).toFixed(0);
console.log(`${evaluations} evaluations over ${traces.length} trace(s) x ${rounds} round(s); window ${(sampleCount / evaluations).toFixed(0)} samples x ${(procs / evaluations).toFixed(0)} processes`);
console.log(`per evaluation (CPU): decode ${f(decodeUs)} us, engine ${f(engineUs)} us, total ${f(decodeUs + engineUs)} us`);
const best = perRound.reduce((a, b) => (b.engine + b.decode < a.engine + a.decode ? b : a));
console.log(`best round (CPU): decode ${best.decode.toFixed(0)} us, engine ${best.engine.toFixed(0)} us, total ${(best.decode + best.engine).toFixed(0)} us`);
console.log(`loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
