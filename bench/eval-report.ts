// Renders an evaluation (bench/eval-run.ts) as Markdown: the headline targets (PASS/FAIL), the
// evasions, the two runs side by side, then per run and provenance group the confusion matrix,
// per-class precision/recall and each trace; last, which rules each trace influenced. The held-out
// report (bench/heldout-report.ts) reuses the per-run tables.
import type { EvalMode } from './eval-classify.js';
import type { EvalResult, ModeRun, ScoreGroup } from './eval-run.js';
import { BENIGN_LABELS, hasMiner, type GroupMetrics, type TraceScore } from './eval-score.js';

const f2 = (x: number): string => x.toFixed(2);
const secs = (x: number | null): string => (x === null ? '—' : `${x.toFixed(0)} s`);

export const MODE_TITLE: Record<EvalMode, string> = {
  recorded: 'as recorded',
  'name-blind': 'name-blind (comm, exe, argv, exe hash, GPU process names neutral)',
};

/** Headline targets of issue 8, all on real traces. */
export const TARGETS = { nameBlindMacroF1: 0.9, maxTimeToCorrectSec: 30 } as const;

export interface Target {
  name: string;
  /** null: not applicable (nothing to judge it on, e.g. no miner among held-out traces). */
  pass: boolean | null;
  detail: string;
}

function realGroup(run: ModeRun | undefined): ScoreGroup | undefined {
  return run?.groups.find((g) => g.name === 'real');
}

/** Benign traces that were ever published as pow-mining or chain-validation. */
export function benignAlarms(scores: readonly TraceScore[]): TraceScore[] {
  return scores.filter((s) => BENIGN_LABELS.has(s.label) && s.alarms.length > 0);
}

export function headlineTargets(runs: readonly ModeRun[]): Target[] {
  const recorded = realGroup(runs.find((r) => r.mode === 'recorded'));
  const blind = realGroup(runs.find((r) => r.mode === 'name-blind'));
  const targets: Target[] = [];
  if (blind && blind.scores.length) {
    targets.push({
      name: `name-blind macro-F1 ≥ ${TARGETS.nameBlindMacroF1} on real traces`,
      pass: blind.metrics.macroF1 >= TARGETS.nameBlindMacroF1,
      detail: `${f2(blind.metrics.macroF1)} over ${blind.metrics.traces} traces`,
    });
  }
  const alarmRuns = runs.map((r) => ({ mode: r.mode, alarms: benignAlarms(realGroup(r)?.scores ?? []) }));
  targets.push({
    name: 'zero benign real traces ever published as pow-mining or chain-validation, in either run',
    pass: alarmRuns.every((a) => a.alarms.length === 0),
    detail: alarmRuns.map((a) => `${a.mode}: ${a.alarms.length}${a.alarms.length ? ` (${a.alarms.map((s) => `${s.file} → ${s.alarms.join(', ')}`).join('; ')})` : ''}`).join('; '),
  });
  if (blind) {
    const miners = blind.scores.filter(hasMiner);
    const missed = miners.filter((s) => !s.finalCorrect);
    targets.push({
      name: 'every real miner trace caught name-blind',
      pass: miners.length === 0 ? null : missed.length === 0,
      detail: `${miners.length - missed.length} of ${miners.length}${missed.length ? ` (missed: ${missed.map((s) => `${s.file} → ${s.final}`).join('; ')})` : ''}`,
    });
  }
  if (recorded && recorded.scores.length) {
    const m = recorded.metrics;
    const slow = recorded.scores.filter((s) => s.timeToCorrectSec === null || s.timeToCorrectSec > TARGETS.maxTimeToCorrectSec);
    targets.push({
      name: `max time to the correct verdict ≤ ${TARGETS.maxTimeToCorrectSec} s on real traces (as recorded)`,
      pass: slow.length === 0,
      detail: `max ${secs(m.maxTimeToCorrectSec)}${m.neverCorrect ? `, never correct: ${m.neverCorrect}` : ''}${slow.length ? ` (over: ${slow.map((s) => `${s.file} ${secs(s.timeToCorrectSec)}`).join('; ')})` : ''}${blind ? `; name-blind max ${secs(blind.metrics.maxTimeToCorrectSec)}${blind.metrics.neverCorrect ? `, never correct ${blind.metrics.neverCorrect}` : ''}` : ''}`,
    });
  }
  return targets;
}

export function renderTargets(targets: readonly Target[]): string[] {
  return targets.map((t) => `- **${t.pass === null ? 'N/A' : t.pass ? 'PASS' : 'FAIL'}** ${t.name}: ${t.detail}`);
}

function confusion(m: GroupMetrics): string[] {
  const head = `| label \\ verdict | ${m.classes.join(' | ')} |`;
  const sep = `|---|${m.classes.map(() => '---:').join('|')}|`;
  const rows = m.classes
    .filter((l) => m.perClass.find((p) => p.class === l)?.support)
    .map((l) => `| **${l}** | ${m.classes.map((p) => String(m.confusion[l]?.[p] ?? 0)).join(' | ')} |`);
  return [head, sep, ...rows];
}

function perClass(m: GroupMetrics): string[] {
  return ['| class | precision | recall | F1 | traces |', '|---|---:|---:|---:|---:|', ...m.perClass.map((p) => `| ${p.class} | ${f2(p.precision)} | ${f2(p.recall)} | ${f2(p.f1)} | ${p.support} |`)];
}

function alarmCell(s: TraceScore): string {
  if (!BENIGN_LABELS.has(s.label)) return '—';
  return s.alarms.length ? `**${s.alarms.join(', ')}**` : 'never';
}

function labelOf(s: TraceScore): string {
  return s.expectParts.length ? `${s.label} (${s.expectParts.join(' + ')})` : s.label;
}

export function traceTable(scores: readonly TraceScore[]): string[] {
  return [
    '| trace | label | final (confidence) | correct | first correct | stayed correct | correct for good from | benign ever pow/chain | published sequence |',
    '|---|---|---|:-:|---:|:-:|---:|---|---|',
    ...scores.map(
      (s) =>
        `| ${s.file}${s.evasion ? ` *(evasion: ${s.evasion})*` : ''} | ${labelOf(s)} | ${s.final} (${f2(s.finalConfidence)}) | ${s.finalCorrect ? '✔' : '✘'} | ${secs(s.firstCorrectSec)} | ${s.firstCorrectSec === null ? '—' : s.stayedCorrect ? 'yes' : 'no'} | ${secs(s.timeToCorrectSec)} | ${alarmCell(s)} | ${s.changes.join(' → ')} |`,
    ),
  ];
}

export function groupSummary(g: ScoreGroup): string {
  const m = g.metrics;
  return `macro-F1 **${f2(m.macroF1)}**, accuracy ${f2(m.accuracy)} (${g.scores.filter((s) => s.finalCorrect).length}/${m.traces}); time to the correct verdict: median ${secs(m.medianTimeToCorrectSec)} (labels other than general/idle: ${secs(m.medianTimeToCorrectSpecialisedSec)}), max ${secs(m.maxTimeToCorrectSec)}${m.neverCorrect ? `, never correct: ${m.neverCorrect}` : ''}; benign ever published as pow-mining/chain-validation: ${benignAlarms(g.scores).length}`;
}

export function groupSection(heading: string, g: ScoreGroup): string[] {
  if (g.scores.length === 0) return [heading, '', '_none_', ''];
  return [heading, '', groupSummary(g), '', ...confusion(g.metrics), '', ...perClass(g.metrics), '', ...traceTable(g.scores), ''];
}

/** The per-group tables of one run. */
export function runSection(run: ModeRun, level: string): string[] {
  return [`${level} Run: ${MODE_TITLE[run.mode]}`, '', ...run.groups.flatMap((g) => groupSection(`${level}# ${g.name} traces (${run.mode})`, g))];
}

/** One line per trace: the final verdict in each run. */
export function sideBySide(runs: readonly ModeRun[]): string[] {
  const first = runs[0];
  if (!first) return [];
  return [
    `| trace | provenance | label | ${runs.map((r) => r.mode).join(' | ')} |`,
    `|---|---|---|${runs.map(() => '---').join('|')}|`,
    ...first.scores.map((s, i) => `| ${s.file} | ${s.provenance} | ${labelOf(s)} | ${runs.map((r) => {
      const t = r.scores[i];
      return t ? `${t.finalCorrect ? '✔' : '✘'} ${t.final} (${f2(t.finalConfidence)}, ${secs(t.timeToCorrectSec)})` : '—';
    }).join(' | ')} |`),
  ];
}

/** Traces whose verdict, confidence or timing moves when names are taken away. */
export function nameDependence(runs: readonly ModeRun[]): string[] {
  const rec = runs.find((r) => r.mode === 'recorded');
  const blind = runs.find((r) => r.mode === 'name-blind');
  if (!rec || !blind) return [];
  const rows = rec.scores.flatMap((a, i) => {
    const b = blind.scores[i];
    if (!b) return [];
    const what: string[] = [];
    if (a.final !== b.final || a.finalCorrect !== b.finalCorrect) what.push(`final ${a.final} → **${b.final}**${b.finalCorrect ? '' : ' (wrong)'}`);
    if (a.finalConfidence - b.finalConfidence >= 0.1) what.push(`confidence ${f2(a.finalConfidence)} → ${f2(b.finalConfidence)}`);
    if (a.timeToCorrectSec !== b.timeToCorrectSec) what.push(`correct for good from ${secs(a.timeToCorrectSec)} → ${secs(b.timeToCorrectSec)}`);
    if (b.alarms.length > a.alarms.length) what.push(`published as **${b.alarms.join(', ')}**`);
    return what.length ? [`- ${a.file} (${a.provenance}, ${labelOf(a)}): ${what.join('; ')}`] : [];
  });
  return rows.length ? rows : ['- nothing: every trace gets the same final verdict, confidence (±0.1) and timing without names'];
}

function evasions(runs: readonly ModeRun[]): string[] {
  const first = runs[0];
  const rows = first ? first.scores.map((s, i) => ({ s, i })).filter(({ s }) => s.evasion) : [];
  const caught = (r: ModeRun): string => {
    const counted = r.scores.filter((s) => s.countedEvasion);
    return `${r.mode}: ${counted.filter((s) => s.finalCorrect).length} of ${counted.length}`;
  };
  return [
    `Evasions caught, **real traces only**: ${runs.map(caught).join('; ')}. Synthetic traces are built from documented shapes and keep miner names and pool URLs in their command lines, and emulated ones are our own stand-ins: they are listed but not counted.`,
    '',
    ...(rows.length
      ? [
          `| trace | evasion | provenance | counted | ${runs.map((r) => r.mode).join(' | ')} |`,
          `|---|---|---|---|${runs.map(() => '---').join('|')}|`,
          ...rows.map(({ s, i }) => `| ${s.file} | ${s.evasion} | ${s.provenance} | ${s.countedEvasion ? 'yes' : 'no'} | ${runs.map((r) => {
            const t = r.scores[i];
            return t ? `${t.finalCorrect ? 'caught' : '**missed**'} (${t.final})` : '—';
          }).join(' | ')} |`),
        ]
      : ['_none_']),
  ];
}

function influenceSection(r: EvalResult): string[] {
  const first = r.runs[0];
  if (!first) return [];
  const stale = new Set(r.staleInfluenceKeys);
  const rows = first.scores.map((s) => {
    const entries = r.influence.traces.get(s.file);
    const cell =
      entries === undefined
        ? '_not recorded_'
        : entries.length === 0
          ? 'none'
          : entries.map((e) => `\`${e.key}\`${stale.has(e.key) ? ' *(no longer in the rules)*' : ''}: ${e.reason}${e.commit ? ` (${e.commit})` : ''}`).join('<br>');
    return `| ${s.file} | ${cell} |`;
  });
  const tuned = first.scores.filter((s) => (r.influence.traces.get(s.file)?.length ?? 0) > 0).length;
  return [
    '## Out-of-sample status: which rules each trace influenced',
    '',
    `The rules are hand-tuned data, not a fitted model, so leave-one-workload-out is reported as data (test/corpus/influence.yaml): the rules keys each trace made someone change when it was added. **Every figure above is in-sample**: all corpus traces were available while the rules were written, and ${tuned} of ${first.scores.length} demonstrably moved a weight, threshold or list. A trace's own score says nothing about unseen work on the keys it influenced. The held-out score (\`npm run eval -- --heldout\`, bench/heldout-report.md) is the out-of-sample figure.`,
    '',
    '| trace | rules keys it influenced (reason, commit) |',
    '|---|---|',
    ...rows,
    '',
  ];
}

export function renderReport(r: EvalResult): string {
  const groupLine = (run: ModeRun): string[] =>
    run.groups.map((g) => `- ${run.mode}, ${g.name}: ${g.scores.length ? groupSummary(g) : 'none'}`);
  const lines = [
    '# Assay engine evaluation',
    '',
    `Generated by \`npm run eval\` (bench/eval.ts) with rules ${r.rulesVersion} (collector/engine/rules/default.yaml, SHA-256 \`${r.rulesSha256}\`). Each trace is replayed as the collector sees it live (120 s window, an evaluation every 5 s, long-horizon history, verdict hysteresis), **twice**: as recorded, and name-blind — every process's comm, exe path, command line and exe hash and every GPU process name replaced by one neutral value (bench/name-blind.ts; libraries, environment variable names, cgroups, sockets and binary-content markers are kept). The engine gets only the samples, interval and inventory; the label is joined afterwards. A trace's score is the **published verdict at the end of the trace**; for \`mixed\` labels the expected parts must be listed. "First correct" is the first correct published verdict; "correct for good from" is the moment from which it stays correct. Benign labels: ${[...BENIGN_LABELS].join(', ')}. Real, emulated and synthetic traces are scored separately; all figures here are in-sample (last section).`,
    '',
    '## Headline targets (real traces)',
    '',
    ...renderTargets(headlineTargets(r.runs)),
    '',
    ...r.runs.flatMap(groupLine),
    '',
    '## What depends on names (as recorded → name-blind)',
    '',
    ...nameDependence(r.runs),
    '',
    '## Evasions',
    '',
    ...evasions(r.runs),
    '',
    '## Both runs side by side (final verdict, confidence, correct for good from)',
    '',
    ...sideBySide(r.runs),
    '',
    ...r.runs.flatMap((run) => runSection(run, '##')),
    ...influenceSection(r),
  ];
  return lines.join('\n') + '\n';
}
