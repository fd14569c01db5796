// `npm run eval`: replays every corpus trace (test/corpus/ recorded here, test/corpus/synthetic/
// regenerated first by synth-gpu.ts) through the engine exactly as the collector would (window,
// cadence, history, hysteresis), twice — as recorded and name-blind (bench/name-blind.ts) —
// scores the published verdicts against the trace labels, prints the report and writes it to
// bench/eval-report.md. Real, emulated and synthetic traces are scored separately; the headline
// targets are on real traces (bench/eval-report.ts).
//
// `npm run eval -- --heldout [DIR] [--rescore]` scores the held-out traces (bench/heldout/ by
// default) once at the current rules and writes bench/heldout-report.md (bench/heldout.ts).
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { corpusDirs } from './corpus-files.js';
import { headlineTargets, renderReport, renderTargets } from './eval-report.js';
import { evaluateCorpus, loadRules } from './eval-run.js';
import { runHeldout } from './heldout.js';
import { writeSyntheticTraces } from './synth-gpu.js';

interface Args {
  heldout: string | null;
  rescore: boolean;
}

function parseArgs(argv: readonly string[], root: string): Args {
  const args: Args = { heldout: null, rescore: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rescore') args.rescore = true;
    else if (a === '--heldout') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        args.heldout = next;
        i++;
      } else args.heldout = join(root, 'bench', 'heldout');
    } else throw new Error(`unknown argument ${JSON.stringify(a)} (usage: eval [--heldout [DIR]] [--rescore])`);
  }
  if (args.rescore && !args.heldout) throw new Error('--rescore applies to --heldout only');
  return args;
}

async function main(): Promise<void> {
  const root = process.env.ASSAY_REPO_ROOT ?? process.cwd();
  const args = parseArgs(process.argv.slice(2), root);
  if (args.heldout) {
    const out = await runHeldout({ dir: args.heldout, reportFile: join(root, 'bench', 'heldout-report.md'), rescore: args.rescore, rules: loadRules() });
    process.stdout.write(out.report);
    process.stderr.write(`\n${out.summary}\n`);
    return;
  }
  const files = await writeSyntheticTraces(corpusDirs(root).synthetic);
  process.stderr.write(`regenerated ${files.length} synthetic traces\n`);
  const result = await evaluateCorpus(root);
  const report = renderReport(result);
  writeFileSync(join(root, 'bench', 'eval-report.md'), report);
  process.stdout.write(report);
  process.stderr.write(`\nwrote bench/eval-report.md (${result.runs[0]?.scores.length ?? 0} traces, ${result.runs.length} runs, rules ${result.rulesVersion})\n${renderTargets(headlineTargets(result.runs)).join('\n')}\n`);
}

if (process.argv[1] && basename(process.argv[1]) === 'eval.js') {
  main().catch((err: Error) => {
    process.stderr.write(`eval: ${err.message}\n`);
    process.exit(1);
  });
}
