// Runs the evaluation over a set of trace files (used by `npm run eval`, bench/eval.ts, and by the
// held-out scoring, bench/heldout.ts): each trace is replayed as the collector would, once per
// mode (as recorded, name-blind), and scored against its label.
//
// Labels never reach the engine: each trace is split (eval-classify.ts) into what the collector
// would see and the truth, which is joined to the verdicts afterwards (eval-score.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { defaultRulesPath, loadRulesFile, type Rules } from '../collector/engine/index.js';
import { readTrace } from '../proto/trace.js';
import { corpusDirs, traceFiles } from './corpus-files.js';
import { classifyTrace, EVAL_MODES, splitTrace, type EvalMode } from './eval-classify.js';
import { loadInfluence, staleKeys, type Influence } from './eval-influence.js';
import { groupMetrics, scoreTrace, type GroupMetrics, type TraceScore } from './eval-score.js';

export interface ScoreGroup {
  name: string;
  metrics: GroupMetrics;
  scores: TraceScore[];
}

/** The scores of one run over all traces (one presentation of the samples). */
export interface ModeRun {
  mode: EvalMode;
  scores: TraceScore[];
  groups: ScoreGroup[];
}

export interface EvalResult {
  rulesVersion: string;
  rulesSha256: string;
  runs: ModeRun[];
  /** test/corpus/influence.yaml: which rules each trace influenced when it was added. */
  influence: Influence;
  /** Influence keys that no longer name anything in the rules. */
  staleInfluenceKeys: string[];
}

export interface LoadedRules {
  rules: Rules;
  version: string;
  sha256: string;
  /** The rules file's text (what the hash is of). */
  text: string;
}

const GROUPS: { name: string; provenances: string[] }[] = [
  { name: 'real', provenances: ['real', 'real-gpu'] },
  { name: 'emulated', provenances: ['emulated'] },
  { name: 'synthetic', provenances: ['synthetic'] },
];

export function loadRules(file = defaultRulesPath): LoadedRules {
  const rules = loadRulesFile(file);
  const bytes = readFileSync(file);
  return { rules, version: rules.version, sha256: createHash('sha256').update(bytes).digest('hex'), text: bytes.toString('utf8') };
}

export function groupScores(scores: readonly TraceScore[]): ScoreGroup[] {
  return GROUPS.map((g) => {
    const members = scores.filter((s) => g.provenances.includes(s.provenance));
    return { name: g.name, metrics: groupMetrics(members), scores: members };
  });
}

/** A trace file and the name it is reported under. */
export interface TraceRef {
  path: string;
  name: string;
}

/**
 * Scores each trace in each mode. A trace is read once; its samples go to the engine, its header
 * stays with the scorer.
 */
export async function evaluateTraces(files: readonly TraceRef[], rules: Rules, modes: readonly EvalMode[] = EVAL_MODES): Promise<ModeRun[]> {
  const byMode = new Map<EvalMode, TraceScore[]>(modes.map((m) => [m, []]));
  for (const f of files) {
    const { input, truth } = splitTrace(f.name, await readTrace(f.path));
    const firstTs = input.samples[0]?.tsMs ?? 0;
    for (const mode of modes) byMode.get(mode)?.push(scoreTrace(truth, firstTs, classifyTrace(input, rules, mode)));
  }
  return modes.map((mode) => {
    const scores = byMode.get(mode) ?? [];
    return { mode, scores, groups: groupScores(scores) };
  });
}

export function corpusTraceRefs(repoRoot: string): TraceRef[] {
  const dirs = corpusDirs(repoRoot);
  return [...traceFiles(dirs.real), ...traceFiles(dirs.synthetic)].map((path) => ({ path, name: relative(dirs.real, path) }));
}

export async function evaluateCorpus(repoRoot: string, rulesFile = defaultRulesPath): Promise<EvalResult> {
  const loaded = loadRules(rulesFile);
  const files = corpusTraceRefs(repoRoot);
  if (files.length === 0) throw new Error(`no traces in ${corpusDirs(repoRoot).real}`);
  const runs = await evaluateTraces(files, loaded.rules);
  const influence = loadInfluence(repoRoot);
  return { rulesVersion: loaded.version, rulesSha256: loaded.sha256, runs, influence, staleInfluenceKeys: staleKeys(influence, loaded.text) };
}

