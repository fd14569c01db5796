// Verify's check of a report's verdicts against its samples. A scan report carries its rules, so
// its verdicts are re-made with the very code `assay scan` made them with (rederive.ts) and must
// match exactly. A collector report names its rules; its verdicts also rest on classifier state
// the report does not embed, so verify says plainly that they were not re-derived, and why.
import type { Rules } from '../engine/index.js';
import { canonicalize } from './canonical.js';
import { decodeInput } from './decode.js';
import { differences } from './diff.js';
import { iso } from './html-util.js';
import { engineInventory, scanVerdicts } from './rederive.js';
import { bundledRules, rulesFromReport } from './rules-id.js';
import type { HostSection, Report, StoredVerdictJson } from './types.js';

export interface CheckLines {
  failures: string[];
  passed: string[];
  warnings: string[];
}

const short = (hash: string | null): string => (hash ? `sha256 ${hash.slice(0, 16)}…` : 'no hash');

/** The first verdict where the report and the engine disagree, in words; null when they agree. */
export function firstVerdictDifference(stated: readonly StoredVerdictJson[], derived: readonly StoredVerdictJson[]): string | null {
  const n = Math.max(stated.length, derived.length);
  for (let i = 0; i < n; i++) {
    const a = stated[i];
    const b = derived[i];
    if (!a) return `the report holds ${stated.length} verdicts, the engine gives ${derived.length} (verdict ${i + 1}: ${b!.verdict.class} at ${iso(b!.tsMs)})`;
    if (!b) return `the report holds ${stated.length} verdicts, the engine gives ${derived.length} (verdict ${i + 1} in the report: ${a.verdict?.class} at ${iso(a.tsMs)})`;
    if (canonicalize(a) === canonicalize(b)) continue;
    const at = `verdict ${i + 1}/${n} at ${iso(a.tsMs)}`;
    if (a.tsMs !== b.tsMs || a.verdict?.class !== b.verdict.class) return `${at}: report says ${a.verdict?.class}, engine gives ${b.verdict.class} at ${iso(b.tsMs)}`;
    return `${at}: ${differences(a, b, 'verdict', 3).join('; ')}`;
  }
  return null;
}

export function checkVerdicts(report: Report, h: HostSection, id: string, out: CheckLines): void {
  if (report.kind === 'scan') checkScanVerdicts(report, h, id, out);
  else checkCollectorVerdicts(report, h, id, out);
}

function checkScanVerdicts(report: Report, h: HostSection, id: string, out: CheckLines): void {
  let rules: Rules;
  try {
    rules = rulesFromReport(report.rules);
  } catch (err) {
    out.failures.push(`${id}: verdicts cannot be re-derived: ${(err as Error).message}`);
    return;
  }
  const samples = decodeInput(h.input).rows.map((r) => r.sample);
  const derived = scanVerdicts(samples, rules, engineInventory(h.input.inventory));
  const diff = firstVerdictDifference(h.input.verdicts, derived);
  const label = `rules ${rules.version} (${short(report.rules.sha256)})`;
  if (diff) out.failures.push(`${id}: verdicts do not follow from the samples at ${label}: ${diff}`);
  else out.passed.push(`${id}: all ${derived.length} verdicts re-derived from the ${samples.length} samples with the embedded ${label}`);
  const bundled = bundledRules();
  if (report.rules.sha256 !== bundled.sha256) out.warnings.push(`${id}: the scan used rules ${rules.version} (${short(report.rules.sha256)}), not this build's rules ${bundled.rules.version} (${short(bundled.sha256)})`);
}

function checkCollectorVerdicts(report: Report, h: HostSection, id: string, out: CheckLines): void {
  const r = report.rules;
  // With a hash, every verdict names that version; without one (the rules were reloaded), the
  // report lists the versions its verdicts name (collectorRules in rules-id.ts), and each verdict's
  // must be among them: a report that says "rules 2026.12.2" over verdicts of other rules fails.
  const listed = r.sha256 !== null ? new Set([r.version]) : new Set(String(r.version).split(', '));
  const other = h.input.verdicts.findIndex((v) => !listed.has(v.verdict?.rulesVersion));
  if (other >= 0) {
    const v = h.input.verdicts[other]!;
    out.failures.push(`${id}: verdict ${other + 1} at ${iso(v.tsMs)} names rules ${v.verdict?.rulesVersion}, but the report says its verdicts were made with rules ${r.version}`);
    return;
  }
  const bundled = bundledRules();
  let why: string;
  if (r.sha256 === null) why = `the rules that made them (version ${r.version}) are not identified by a hash`;
  else if (r.sha256 !== bundled.sha256) why = `rules ${r.sha256} not available (this build's rules are ${bundled.rules.version}, ${short(bundled.sha256)})`;
  else why = `rules ${r.version} (${short(r.sha256)}) are this build's, but a collector's verdicts also rest on state the report does not embed (process signatures sent before its chain segment, up to an hour of history, hysteresis since the collector started)`;
  out.warnings.push(`${id}: verdicts not re-derived: ${why}`);
}
