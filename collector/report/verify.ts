// `assay verify`: a report passes only when (1) its signature over the canonical JSON holds,
// (2) for a collector report, every embedded batch carries a valid agent signature, its sample
// bytes match the signed digest and the batches form one hash chain, (3) every fingerprint it
// shows is the fingerprint of the key beside it, (4) its verdicts are what the engine gives from
// its samples at the rules it carries (scan reports; collector reports get a warning saying why
// not), and (5) every derived figure and the statement are exactly what derive.ts computes from
// the embedded data. An HTML report must also be byte for byte what the renderer makes of its
// embedded JSON (verify-file.ts).
import { fingerprint } from '../../proto/chain.js';
import { checkChain } from './chain-check.js';
import { unknownFields } from './known-fields.js';
import { reportChainSamples } from './framing.js';
import { checkEmbeddedSignatures } from './signatures.js';
import { referencedDigests } from '../signature-refs.js';
import { deriveHost, deriveStatement } from './derive.js';
import { differences } from './diff.js';
import { reportSignatureValid } from './sign.js';
import { REPORT_FORMAT, REPORT_FORMATS_READ, type HostSection, type Report } from './types.js';
import { checkVerdicts, type CheckLines } from './verdict-check.js';

export { differences } from './diff.js';

export interface VerifyOptions {
  /** The signer key expected (fingerprint `SHA256:…` or hex public key). */
  expectKey?: string;
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  passed: string[];
  /** Checks that could not be made (not a pass, not a failure), with the reason. */
  warnings: string[];
  /** The signer's fingerprint, computed from its public key (never read from the file). */
  signer: string | null;
  statement: string | null;
}

/** Fingerprint of a hex public key; null when it is not one. */
function keyFingerprint(hex: unknown): string | null {
  if (typeof hex !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(hex)) return null;
  return fingerprint(Buffer.from(hex, 'hex'));
}

export function verifyReport(value: unknown, opts: VerifyOptions = {}): VerifyResult {
  const out: CheckLines = { failures: [], passed: [], warnings: [] };
  const report = value as Report;
  if (!report || typeof report !== 'object' || !REPORT_FORMATS_READ.includes(report.format) || !Array.isArray(report.hosts) || !report.period) {
    return { ok: false, failures: [`not an ${REPORT_FORMAT} (or ${REPORT_FORMATS_READ.filter((f) => f !== REPORT_FORMAT).join(', ')}) report`], passed: [], warnings: [], signer: null, statement: null };
  }
  const signer = keyFingerprint(report.signer?.publicKey);
  if (signer === null) out.failures.push('the signer public key is not a hex key');
  else if (report.signer.fingerprint !== signer) out.failures.push(`signer.fingerprint ${JSON.stringify(report.signer.fingerprint)} is not the fingerprint of the signer key (${signer})`);
  try {
    if (reportSignatureValid(report)) out.passed.push(`${report.kind} signature by ${signer} over the canonical JSON`);
    else out.failures.push('report signature does not verify: the report was changed after signing');
  } catch (err) {
    out.failures.push(`report signature unreadable: ${(err as Error).message}`);
  }
  if (report.signer?.role !== report.kind) out.failures.push(`signer role ${report.signer?.role} does not match report kind ${report.kind}`);
  if (opts.expectKey !== undefined) {
    // The prefix in any case (`sha256:…` as people type it); the base64 after it is exact.
    const want = opts.expectKey.trim().replace(/^sha256:/i, 'SHA256:');
    // `--key "$EXPECTED"` with the variable unset must not quietly verify against no key at all.
    if (want === '') out.failures.push('--key is empty: give the SHA256:… fingerprint or hex public key of the signer you expect');
    else if (signer !== null && (want === signer || want.toLowerCase() === report.signer.publicKey)) out.passed.push('signer is the expected key');
    else out.failures.push(`signed by ${signer}, not by the expected key ${want}`);
  }
  out.failures.push(...unknownFields(report));
  const rulesOk = rulesShape(report, out);
  for (const [i, h] of report.hosts.entries()) checkHost(report, h, i, rulesOk, out);
  try {
    const diffs = differences(report.statement, deriveStatement(report.hosts, report.period), 'statement');
    if (diffs.length) out.failures.push(...diffs.map((d) => `statement does not follow from the data: ${d}`));
    else out.passed.push(`statement follows from the data: ${report.statement.headline}`);
  } catch (err) {
    out.failures.push(`statement could not be recomputed: ${(err as Error).message}`);
  }
  const statement = typeof report.statement?.text === 'string' ? report.statement.text : null;
  return { ok: out.failures.length === 0, ...out, signer, statement };
}

function rulesShape(report: Report, out: CheckLines): boolean {
  const r = report.rules as Partial<Report['rules']> | undefined;
  const ok = !!r && typeof r.version === 'string' && (r.sha256 === null || (typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256)));
  if (!ok) out.failures.push('the report does not say which rules made its verdicts (rules.version, rules.sha256)');
  return ok;
}

/** An identity's fingerprint must be computed from its key, never taken from the file. */
function checkIdentity(h: HostSection, id: string, out: CheckLines): string | null {
  const ident = h.input.identity;
  if (ident.publicKey === null) {
    if (ident.fingerprint !== null) out.failures.push(`${id}: identity.fingerprint ${JSON.stringify(ident.fingerprint)} without a public key`);
    return null;
  }
  const computed = keyFingerprint(ident.publicKey);
  if (computed === null) out.failures.push(`${id}: the agent public key is not a hex key`);
  else if (ident.fingerprint !== computed) out.failures.push(`${id}: identity.fingerprint ${JSON.stringify(ident.fingerprint)} is not the fingerprint of the embedded agent key (${computed})`);
  return computed;
}

/** Roll-up figures are checked for arithmetic only: say plainly that they are not signed data. */
function rollupWarning(id: string, h: HostSection): string {
  const r = h.input.rollups!;
  const from = new Date(h.derived.rollups?.fromMs ?? 0).toISOString();
  const to = new Date(h.derived.rollups?.toMs ?? 0).toISOString();
  return (
    `${id}: ${from} to ${to} rests on ${r.rows.length} ${r.resolution} roll-ups kept by the collector, not on signed samples ` +
    (r.undecodable
      ? `(${r.undecodable.batches} chained signed batches, seq ${r.undecodable.firstSeq}–${r.undecodable.lastSeq}, cannot be decoded: a batch they are encoded against was deleted` +
        `${r.undecodable.prunedBeforeMs !== undefined ? '; before them the raw signed batches were deleted after the attestation window' : ''})`
      : '(the raw signed batches were deleted after the attestation window)') +
    ': those figures are NOT re-derivable from signed bytes, ' +
    "only from the collector's word; that time counts as not covered"
  );
}

function checkHost(report: Report, h: HostSection, i: number, rulesOk: boolean, out: CheckLines): void {
  const id = h?.input?.identity?.id ?? `host ${i + 1}`;
  try {
    const agentKey = checkIdentity(h, id, out);
    if (report.kind === 'collector') {
      if (!Array.isArray(h.input.batches) || h.input.samples !== undefined) out.failures.push(`${id}: a collector report carries the agent's signed batches`);
      const { problems, context } = checkChain(h.input, report.period);
      const contextNote = context ? ` (the first ${context} before the period, embedded only to decode the chained batch after them)` : '';
      if (problems.length) out.failures.push(...problems);
      else out.passed.push(`${id}: ${h.input.batches?.length ?? 0} batches${contextNote} signed by agent key ${agentKey} (computed from the embedded key), digests and chain links hold`);
      if (!problems.length) {
        const named = new Set<string>();
        const batches = h.input.batches ?? [];
        let i = 0;
        for (const samples of reportChainSamples(batches)) { // a batch at a time
          if (batches[i++]!.context !== true) for (const hex of referencedDigests(samples).keys()) named.add(hex);
        }
        const sigs = checkEmbeddedSignatures(h.input, named);
        out.failures.push(...sigs.problems.map((p) => `${id}: ${p}`));
        out.warnings.push(...sigs.warnings.map((w) => `${id}: ${w}`));
        if (sigs.checked && !sigs.problems.length) out.passed.push(`${id}: ${sigs.checked} process signatures sent by reference match their digests`);
      }
    } else if (h.input.signatures !== undefined) {
      out.failures.push(`${id}: a scan report sends no signature by reference`);
    }
    if (report.kind !== 'collector' && (typeof h.input.samples !== 'string' || h.input.batches !== undefined)) {
      out.failures.push(`${id}: a scan report carries its samples directly`);
    }
    if (h.input.rollups !== undefined) {
      if (report.kind !== 'collector') out.failures.push(`${id}: only a collector report may carry roll-ups`);
      else out.warnings.push(rollupWarning(id, h));
    }
    if (rulesOk) checkVerdicts(report, h, id, out);
    const derived = deriveHost(h.input, report.period, report.thresholds);
    const diffs = differences(h.derived, derived, `${id}.derived`);
    if (diffs.length) out.failures.push(...diffs.map((d) => `figure does not follow from the data: ${d}`));
    else if (h.input.rollups) out.passed.push(`${id}: every figure recomputed from ${derived.samples} signed samples and ${h.input.verdicts.length} verdicts matches (the roll-up figures only as sums over the embedded roll-ups: see WARN)`);
    else out.passed.push(`${id}: every figure recomputed from ${derived.samples} samples and ${h.input.verdicts.length} verdicts matches`);
  } catch (err) {
    out.failures.push(`${id}: data unreadable: ${(err as Error).message}`);
  }
}
