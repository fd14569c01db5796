// Scoring of replayed traces against their labels: pure functions shared by `npm run eval`
// (bench/eval.ts) and the corpus regression test.
import type { ReplayStep } from '../collector/replay.js';
import type { Verdict } from '../collector/engine/types.js';
import type { TraceTruth } from './eval-classify.js';

/** Labels of legitimate work that must never be called mining or chain validation (a compile, an encode, a database, stress-ng, idle, AI work). */
export const BENIGN_LABELS: ReadonlySet<string> = new Set(['general', 'idle', 'ai-training', 'ai-inference']);
/** The engine's fall-back classes: often right at the first evaluation, so time-to-correct is also reported without them. */
export const DEFAULT_LABELS: ReadonlySet<string> = new Set(['general', 'idle']);
/** Classes a benign trace must never be given. */
export const ALARM_CLASSES: ReadonlySet<string> = new Set(['pow-mining', 'chain-validation']);
export const REAL_PROVENANCES: ReadonlySet<string> = new Set(['real', 'real-gpu']);

/**
 * An evasion counts only on a trace recorded from real programs. Synthetic traces are built from
 * documented shapes and carry miner names and pool URLs in their command lines, and an emulated
 * stand-in is our own program: catching those proves nothing about evasion.
 */
export function countsAsEvasion(t: Pick<TraceTruth, 'evasion' | 'provenance'>): boolean {
  return !!t.evasion && REAL_PROVENANCES.has(t.provenance);
}

/** A trace with a miner in it: labelled pow-mining, or mixed with pow-mining among its expected parts. */
export function hasMiner(t: Pick<TraceTruth, 'label' | 'expectParts'>): boolean {
  return t.label === 'pow-mining' || (t.expectParts ?? []).includes('pow-mining');
}

/** The label is met: the class matches and, for `mixed`, every expected part is listed. */
export function matchesLabel(header: { label: string; expectParts?: readonly string[] | undefined }, v: Pick<Verdict, 'class' | 'parts'>): boolean {
  if (v.class !== header.label) return false;
  const want = header.expectParts ?? [];
  return want.every((c) => v.parts.some((p) => p.class === c));
}

/** One published verdict of the replay (what the collector would show at that moment). */
export interface PublishedStep {
  tsMs: number;
  class: string;
  confidence: number;
}

export interface TraceScore {
  file: string;
  label: string;
  expectParts: string[];
  provenance: string;
  evasion: string | null;
  /** The evasion counts in the "evasions caught" figure (countsAsEvasion). */
  countedEvasion: boolean;
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
  /** Seconds from the first sample to the first correct published verdict; null if never. */
  firstCorrectSec: number | null;
  /** Once first correct, the published verdict never left the label. */
  stayedCorrect: boolean;
  /** Published classes in order of appearance (changes only). */
  changes: string[];
  /** Alarm classes (pow-mining, chain-validation) a benign trace was EVER published as. */
  alarms: string[];
  /** Every published verdict, in order (the classification itself, before any label is joined). */
  published: PublishedStep[];
}

/** Joins a trace's truth to the verdicts its samples were given (the classification never saw the truth). */
export function scoreTrace(truth: TraceTruth, firstTsMs: number, steps: readonly ReplayStep[]): TraceScore {
  const last = steps.at(-1)?.verdict;
  const correct = steps.map((s) => matchesLabel(truth, s.verdict));
  let from = correct.length;
  while (from > 0 && correct[from - 1]) from--;
  const first = correct.indexOf(true);
  const half = steps.slice(Math.floor(steps.length / 2));
  const counts = new Map<string, number>();
  for (const s of half) counts.set(s.verdict.class, (counts.get(s.verdict.class) ?? 0) + 1);
  const majority = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? 'none';
  const majorityStep = half.find((s) => s.verdict.class === majority);
  const changes: string[] = [];
  for (const s of steps) if (changes.at(-1) !== s.verdict.class) changes.push(s.verdict.class);
  const benign = BENIGN_LABELS.has(truth.label);
  const at = (i: number): number => ((steps[i]?.tsMs ?? firstTsMs) - firstTsMs) / 1000;
  return {
    file: truth.file,
    label: truth.label,
    expectParts: [...(truth.expectParts ?? [])],
    provenance: truth.provenance,
    evasion: truth.evasion,
    countedEvasion: countsAsEvasion(truth),
    samples: steps.length > 0 ? (steps.at(-1)?.verdict.window.samples ?? 0) : 0,
    final: last?.class ?? 'none',
    finalConfidence: last?.confidence ?? 0,
    finalCorrect: !!last && matchesLabel(truth, last),
    lastHalfMajority: majority,
    lastHalfCorrect: !!majorityStep && matchesLabel(truth, majorityStep.verdict),
    timeToCorrectSec: from < steps.length ? at(from) : null,
    firstCorrectSec: first >= 0 ? at(first) : null,
    stayedCorrect: first >= 0 && first === from,
    changes,
    alarms: benign ? [...new Set(steps.map((s) => s.verdict.class).filter((c) => ALARM_CLASSES.has(c)))] : [],
    published: steps.map((s) => ({ tsMs: s.tsMs, class: s.verdict.class, confidence: s.verdict.confidence })),
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
  /** The same over traces whose label is not a fall-back class (general/idle are often right at the first evaluation). */
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
    medianTimeToCorrectSpecialisedSec: medianOf(scores.filter((s) => !DEFAULT_LABELS.has(s.label)).map((s) => s.timeToCorrectSec).filter((t): t is number => t !== null)),
    maxTimeToCorrectSec: times.length > 0 ? Math.max(...times) : null,
    neverCorrect: scores.length - times.length,
  };
}
