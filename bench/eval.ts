// `npm run eval`: replays every corpus trace (test/corpus/ recorded here, test/corpus/synthetic/
// regenerated first by synth-gpu.ts) through the engine exactly as the collector would (window,
// cadence, history, hysteresis), scores the published verdicts against the trace labels, prints
// the report and writes it to bench/eval-report.md. Real, emulated and synthetic traces are
// scored separately; macro-F1 on real traces is the headline.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultClassifierOptions } from '../collector/classifier.js';
import { defaultRulesPath, loadRulesFile } from '../collector/engine/index.js';
import { replay } from '../collector/replay.js';
import { readTrace } from '../proto/trace.js';
import { corpusDirs, traceFiles } from './corpus-files.js';
import { groupMetrics, type GroupMetrics, type TraceScore, scoreTrace, BENIGN_LABELS } from './eval-score.js';
import { renderReport } from './eval-report.js';
import { writeSyntheticTraces } from './synth-gpu.js';

export interface EvalResult {
  rulesVersion: string;
  scores: TraceScore[];
  groups: { name: string; metrics: GroupMetrics; scores: TraceScore[] }[];
}

const GROUPS: { name: string; provenances: string[] }[] = [
  { name: 'real', provenances: ['real', 'real-gpu'] },
  { name: 'emulated', provenances: ['emulated'] },
  { name: 'synthetic', provenances: ['synthetic'] },
];

export async function evaluateCorpus(repoRoot: string, rulesFile = defaultRulesPath): Promise<EvalResult> {
  const rules = loadRulesFile(rulesFile);
  const dirs = corpusDirs(repoRoot);
  const scores: TraceScore[] = [];
  for (const file of [...traceFiles(dirs.real), ...traceFiles(dirs.synthetic)]) {
    const { header, samples } = await readTrace(file);
    const steps = replay(samples, rules, defaultClassifierOptions, header.inventory);
    const rel = file.startsWith(dirs.synthetic) ? `synthetic/${basename(file)}` : basename(file);
    scores.push(scoreTrace(rel, header, samples[0]?.tsMs ?? 0, steps));
  }
  const groups = GROUPS.map((g) => {
    const members = scores.filter((s) => g.provenances.includes(s.provenance));
    return { name: g.name, metrics: groupMetrics(members), scores: members };
  });
  return { rulesVersion: rules.version, scores, groups };
}

async function main(): Promise<void> {
  const root = process.env.ASSAY_REPO_ROOT ?? process.cwd();
  const files = await writeSyntheticTraces(corpusDirs(root).synthetic);
  process.stderr.write(`regenerated ${files.length} synthetic traces\n`);
  const result = await evaluateCorpus(root);
  const report = renderReport(result);
  writeFileSync(join(root, 'bench', 'eval-report.md'), report);
  process.stdout.write(report);
  const benignAlarms = result.scores.filter((s) => BENIGN_LABELS.has(s.label) && s.alarms.length > 0).length;
  process.stderr.write(`\nwrote bench/eval-report.md (${result.scores.length} traces, ${benignAlarms} benign with alarms)\n`);
}

if (process.argv[1] && basename(process.argv[1]) === 'eval.js') {
  main().catch((err: Error) => {
    process.stderr.write(`eval: ${err.message}\n`);
    process.exit(1);
  });
}
