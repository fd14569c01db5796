// Scoring of replayed traces against their labels: pure functions shared by `npm run eval`
// (bench/eval.ts) and the corpus regression test.
import type { ReplayStep } from '../collector/replay.js';
import type { Verdict } from '../collector/engine/types.js';
import type { TraceHeader } from '../proto/trace.js';

/** Labels of benign look-alikes (a compile, an encode, a database, stress-ng, idle). */
export const BENIGN_LABELS: ReadonlySet<string> = new Set(['general', 'idle']);
/** Classes a benign trace must never be given. */
export const ALARM_CLASSES: ReadonlySet<string> = new Set(['pow-mining', 'chain-validation']);

/** The label is met: the class matches and, for `mixed`, every expected part is listed. */
export function matchesLabel(header: Pick<TraceHeader, 'label' | 'expectParts'>, v: Pick<Verdict, 'class' | 'parts'>): boolean {
  if (v.class !== header.label) return false;
  const want = header.expectParts ?? [];
  return want.every((c) => v.parts.some((p) => p.class === c));
}

export interface TraceScore {
  file: string;
  label: string;
  provenance: string;
  evasion: string | null;
  samples: number;
  /** Published class at the end of the trace (the score). */
  final: string;
  finalConfidence: number;
  finalCorrect: boolean;
  /** Most frequent published class over the last half of the evaluations. */
  lastHalfMajority: string;
  lastHalfCorrect: boolean;
  /** Seconds from the first sample until the published verdict is correct and stays so; null if never. */
  timeToCorrectSec: number | null;
  /** Published classes in order of appearance (changes only). */
  changes: string[];
  /** Published classes that are alarms on a benign trace (after the first evaluation). */
  alarms: string[];
}

export function scoreTrace(file: string, header: TraceHeader, firstTsMs: number, steps: readonly ReplayStep[]): TraceScore {
  const last = steps.at(-1)?.verdict;
  const correct = steps.map((s) => matchesLabel(header, s.verdict));
  let from = correct.length;
  while (from > 0 && correct[from - 1]) from--;
  const half = steps.slice(Math.floor(steps.length / 2));
  const counts = new Map<string, number>();
  for (const s of half) counts.set(s.verdict.class, (counts.get(s.verdict.class) ?? 0) + 1);
  const majority = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? 'none';
  const majorityStep = half.find((s) => s.verdict.class === majority);
  const changes: string[] = [];
  for (const s of steps) if (changes.at(-1) !== s.verdict.class) changes.push(s.verdict.class);
  const benign = BENIGN_LABELS.has(header.label);
  return {
    file,
    label: header.label,
    provenance: header.provenance,
    evasion: header.evasion ?? null,
    samples: steps.length > 0 ? (steps.at(-1)?.verdict.window.samples ?? 0) : 0,
    final: last?.class ?? 'none',
    finalConfidence: last?.confidence ?? 0,
    finalCorrect: !!last && matchesLabel(header, last),
    lastHalfMajority: majority,
    lastHalfCorrect: !!majorityStep && matchesLabel(header, majorityStep.verdict),
    timeToCorrectSec: from < steps.length ? ((steps[from]?.tsMs ?? firstTsMs) - firstTsMs) / 1000 : null,
    changes,
    alarms: benign ? [...new Set(steps.map((s) => s.verdict.class).filter((c) => ALARM_CLASSES.has(c)))] : [],
  };
}

export interface GroupMetrics {
  traces: number;
  classes: string[];
  /** confusion[label][predicted] = count (by final verdict). */
  confusion: Record<string, Record<string, number>>;
  perClass: { class: string; precision: number; recall: number; f1: number; support: number }[];
  macroF1: number;
  accuracy: number;
  medianTimeToCorrectSec: number | null;
  /** The same over traces whose label is not a benign one (general/idle are often right at the first evaluation). */
  medianTimeToCorrectSpecialisedSec: number | null;
  maxTimeToCorrectSec: number | null;
  neverCorrect: number;
}

function medianOf(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Confusion matrix and macro-F1 over the union of labels and predictions (a wrong class costs precision too). */
export function groupMetrics(scores: readonly TraceScore[]): GroupMetrics {
  const predictedOf = (s: TraceScore): string => (s.finalCorrect ? s.label : s.final === s.label ? `${s.final} (parts wrong)` : s.final);
  const classes = [...new Set([...scores.map((s) => s.label), ...scores.map(predictedOf)])].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const l of classes) confusion[l] = Object.fromEntries(classes.map((p) => [p, 0]));
  for (const s of scores) {
    const row = confusion[s.label];
    if (row) row[predictedOf(s)] = (row[predictedOf(s)] ?? 0) + 1;
  }
  const perClass = classes.map((c) => {
    const tp = confusion[c]?.[c] ?? 0;
    const predicted = classes.reduce((n, l) => n + (confusion[l]?.[c] ?? 0), 0);
    const support = classes.reduce((n, p) => n + (confusion[c]?.[p] ?? 0), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    return { class: c, precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  const times = scores.map((s) => s.timeToCorrectSec).filter((t): t is number => t !== null);
  return {
    traces: scores.length,
    classes,
    confusion,
    perClass,
    macroF1: perClass.length > 0 ? perClass.reduce((a, p) => a + p.f1, 0) / perClass.length : 0,
    accuracy: scores.length > 0 ? scores.filter((s) => s.finalCorrect).length / scores.length : 0,
    medianTimeToCorrectSec: medianOf(times),
    medianTimeToCorrectSpecialisedSec: medianOf(scores.filter((s) => !BENIGN_LABELS.has(s.label)).map((s) => s.timeToCorrectSec).filter((t): t is number => t !== null)),
    maxTimeToCorrectSec: times.length > 0 ? Math.max(...times) : null,
    neverCorrect: scores.length - times.length,
  };
}
