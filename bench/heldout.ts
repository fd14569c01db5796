// Held-out scoring (`npm run eval -- --heldout [DIR] [--rescore]`): traces of workloads the rules
// were never tuned on (bench/heldout/) are scored ONCE at the rules version in use, as recorded and
// name-blind, and that first score is frozen in bench/heldout-report.md together with the rules
// version, the SHA-256 of the rules file and of each trace, and the date.
//
// States, keyed by the traces' SHA-256 (a re-recorded trace is a new trace):
// - a trace never scored before is scored and its score frozen (first scoring);
// - when every trace in DIR already has a frozen score, the run is REFUSED (scoring again after
//   looking at the misses would be in-sample) unless --rescore is given;
// - --rescore scores every trace in DIR again and records that as "after tuning (in-sample)";
//   the frozen scores are never changed or dropped.
// The report carries its own state (a JSON block at its end); a report file without that block
// is never overwritten.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { traceFiles } from './corpus-files.js';
import type { EvalMode } from './eval-classify.js';
import { evaluateTraces, type LoadedRules } from './eval-run.js';
import type { TraceScore } from './eval-score.js';
import { renderHeldoutReport, heldoutSummary } from './heldout-report.js';

export interface HeldoutTrace {
  file: string;
  sha256: string;
}

/** One scoring run over some held-out traces. */
export interface HeldoutScoring {
  date: string;
  rulesVersion: string;
  rulesSha256: string;
  traces: HeldoutTrace[];
  runs: { mode: EvalMode; scores: TraceScore[] }[];
}

export interface HeldoutState {
  format: 'assay-heldout';
  version: 1;
  /** First scorings, in order: each trace appears in exactly one. */
  frozen: HeldoutScoring[];
  /** The latest --rescore of every trace in DIR (in-sample once anyone has looked at the frozen misses). */
  afterTuning: HeldoutScoring | null;
}

export class HeldoutRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeldoutRefused';
  }
}

const STATE_OPEN = '<!-- assay-heldout-state';
const STATE_CLOSE = '-->';

export function embedState(state: HeldoutState): string {
  // "--" can only occur inside JSON strings, where \u002d reads back as "-": the comment stays closed.
  return `${STATE_OPEN}\n${JSON.stringify(state).replace(/--/g, '-\\u002d')}\n${STATE_CLOSE}\n`;
}

/** The state embedded in a held-out report; throws when the report has none or it is damaged. */
export function extractState(file: string, text: string): HeldoutState {
  const at = text.lastIndexOf(STATE_OPEN);
  const end = at >= 0 ? text.indexOf(`\n${STATE_CLOSE}`, at) : -1;
  if (at < 0 || end < 0) throw new HeldoutRefused(`${file} exists but holds no held-out state block: not overwriting it (move it away if it is not a held-out report)`);
  let state: HeldoutState;
  try {
    state = JSON.parse(text.slice(at + STATE_OPEN.length, end)) as HeldoutState;
  } catch (err) {
    throw new HeldoutRefused(`${file}: held-out state block is damaged (${(err as Error).message}): not overwriting it`);
  }
  if (state.format !== 'assay-heldout' || state.version !== 1 || !Array.isArray(state.frozen)) throw new HeldoutRefused(`${file}: unknown held-out state format: not overwriting it`);
  return state;
}

const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Published steps are not kept in the report's state: the changes and timings are. */
const compact = (s: TraceScore): TraceScore => ({ ...s, published: [] });

async function score(files: readonly { path: string; trace: HeldoutTrace }[], rules: LoadedRules, now: Date): Promise<HeldoutScoring> {
  const runs = await evaluateTraces(files.map((f) => ({ path: f.path, name: f.trace.file })), rules.rules);
  return {
    date: now.toISOString(),
    rulesVersion: rules.version,
    rulesSha256: rules.sha256,
    traces: files.map((f) => f.trace),
    runs: runs.map((r) => ({ mode: r.mode, scores: r.scores.map(compact) })),
  };
}

export interface HeldoutOptions {
  /** Folder of held-out traces (*.trace.ndjson). */
  dir: string;
  /** Report to write (bench/heldout-report.md). */
  reportFile: string;
  rescore: boolean;
  rules: LoadedRules;
  /** Clock, for tests. */
  now?: Date;
}

export interface HeldoutOutcome {
  state: HeldoutState;
  report: string;
  /** What this run did, one line. */
  summary: string;
  newlyFrozen: number;
  rescored: boolean;
}

export async function runHeldout(opts: HeldoutOptions): Promise<HeldoutOutcome> {
  const now = opts.now ?? new Date();
  const paths = traceFiles(opts.dir);
  if (paths.length === 0) throw new Error(`no held-out traces (*.trace.ndjson) in ${opts.dir}`);
  const files = paths.map((path) => ({ path, trace: { file: basename(path), sha256: sha256File(path) } }));
  const state: HeldoutState = existsSync(opts.reportFile) ? extractState(opts.reportFile, readFileSync(opts.reportFile, 'utf8')) : { format: 'assay-heldout', version: 1, frozen: [], afterTuning: null };
  const scored = new Set(state.frozen.flatMap((f) => f.traces.map((t) => t.sha256)));
  const fresh = files.filter((f) => !scored.has(f.trace.sha256));
  if (fresh.length === 0 && !opts.rescore) {
    const last = state.frozen.at(-1);
    throw new HeldoutRefused(
      `every trace in ${opts.dir} already has a frozen score in ${opts.reportFile} (last first-scoring ${last?.date ?? '?'} at rules ${last?.rulesVersion ?? '?'}): scoring them again is in-sample. Pass --rescore to add an "after tuning (in-sample)" score; the frozen score stays.`,
    );
  }
  if (fresh.length > 0) state.frozen.push(await score(fresh, opts.rules, now));
  if (opts.rescore) state.afterTuning = await score(files, opts.rules, now);
  const report = renderHeldoutReport(state) + '\n' + embedState(state);
  writeFileSync(opts.reportFile, report);
  const summary = `wrote ${opts.reportFile}: ${fresh.length} trace(s) scored for the first time and frozen at rules ${opts.rules.version}${opts.rescore ? `; all ${files.length} rescored as "after tuning (in-sample)"` : ''}. ${heldoutSummary(state)}`;
  return { state, report, summary, newlyFrozen: fresh.length, rescored: opts.rescore };
}
