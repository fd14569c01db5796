// `assay verify`: a report passes only when (1) its signature over the canonical JSON holds,
// (2) for a collector report, every embedded batch carries a valid agent signature, its sample
// bytes match the signed digest and the batches form one hash chain, and (3) every derived
// figure and the statement are exactly what derive.ts computes from the embedded data.
import { canonicalize } from './canonical.js';
import { checkChain } from './chain-check.js';
import { deriveHost, deriveStatement } from './derive.js';
import { reportSignatureValid } from './sign.js';
import { REPORT_FORMAT, type HostSection, type Report } from './types.js';

export interface VerifyOptions {
  /** The signer key expected (fingerprint `SHA256:…` or hex public key). */
  expectKey?: string;
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  passed: string[];
  signer: string | null;
  statement: string | null;
}

/** Paths where two JSON values differ (at most `max`). */
export function differences(a: unknown, b: unknown, path = '', max = 8, out: string[] = []): string[] {
  if (out.length >= max) return out;
  if (canonicalize(a ?? null) === canonicalize(b ?? null)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k, max, out);
    return out;
  }
  out.push(`${path || '(root)'}: report says ${JSON.stringify(a)?.slice(0, 80)}, data gives ${JSON.stringify(b)?.slice(0, 80)}`);
  return out;
}

export function verifyReport(value: unknown, opts: VerifyOptions = {}): VerifyResult {
  const failures: string[] = [];
  const passed: string[] = [];
  const report = value as Report;
  if (!report || typeof report !== 'object' || report.format !== REPORT_FORMAT || !Array.isArray(report.hosts) || !report.period) {
    return { ok: false, failures: [`not an ${REPORT_FORMAT} report`], passed, signer: null, statement: null };
  }
  const signer = typeof report.signer?.fingerprint === 'string' ? report.signer.fingerprint : null;
  try {
    if (reportSignatureValid(report)) passed.push(`${report.kind} signature by ${signer} over the canonical JSON`);
    else failures.push('report signature does not verify: the report was changed after signing');
  } catch (err) {
    failures.push(`report signature unreadable: ${(err as Error).message}`);
  }
  if (report.signer?.role !== report.kind) failures.push(`signer role ${report.signer?.role} does not match report kind ${report.kind}`);
  if (opts.expectKey) {
    const want = opts.expectKey.trim();
    if (want === signer || want.toLowerCase() === report.signer?.publicKey) passed.push('signer is the expected key');
    else failures.push(`signed by ${signer}, not by the expected key ${want}`);
  }
  for (const [i, h] of report.hosts.entries()) failures.push(...checkHost(report, h, i, passed));
  try {
    const diffs = differences(report.statement, deriveStatement(report.hosts, report.period), 'statement');
    if (diffs.length) failures.push(...diffs.map((d) => `statement does not follow from the data: ${d}`));
    else passed.push(`statement follows from the data: ${report.statement.aiOnly ? 'AI-only holds' : 'AI-only does not hold'}`);
  } catch (err) {
    failures.push(`statement could not be recomputed: ${(err as Error).message}`);
  }
  return { ok: failures.length === 0, failures, passed, signer, statement: typeof report.statement?.text === 'string' ? report.statement.text : null };
}

function checkHost(report: Report, h: HostSection, i: number, passed: string[]): string[] {
  const id = h?.input?.identity?.id ?? `host ${i + 1}`;
  const failures: string[] = [];
  try {
    if (report.kind === 'collector') {
      if (!Array.isArray(h.input.batches) || h.input.samples !== undefined) failures.push(`${id}: a collector report carries the agent's signed batches`);
      const problems = checkChain(h.input);
      if (problems.length) failures.push(...problems);
      else passed.push(`${id}: ${h.input.batches?.length ?? 0} batches signed by agent key ${h.input.identity.fingerprint}, digests and chain links hold`);
    } else if (typeof h.input.samples !== 'string' || h.input.batches !== undefined) {
      failures.push(`${id}: a scan report carries its samples directly`);
    }
    const derived = deriveHost(h.input, report.period, report.thresholds);
    const diffs = differences(h.derived, derived, `${id}.derived`);
    if (diffs.length) failures.push(...diffs.map((d) => `figure does not follow from the data: ${d}`));
    else passed.push(`${id}: every figure recomputed from ${derived.samples} samples and ${h.input.verdicts.length} verdicts matches`);
  } catch (err) {
    failures.push(`${id}: data unreadable: ${(err as Error).message}`);
  }
  return failures;
}
