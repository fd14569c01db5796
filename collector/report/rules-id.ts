// Which rules made a report's verdicts: their version and a SHA-256 of their canonical JSON (the
// parsed, validated rules, so the YAML's comments and layout do not count). Scan reports carry
// the rules themselves; collector reports name them (types.ts ReportRules).
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { defaultRulesPath, loadRulesFile, parseRules, type Rules } from '../engine/index.js';
import { canonicalize } from './canonical.js';
import type { ReportRules, StoredVerdictJson } from './types.js';

/** Largest unzipped rules data a report may carry (the bundled rules are ~30 KB). */
const MAX_RULES_BYTES = 4 * 1024 * 1024;

export function rulesHash(rules: Rules): string {
  return createHash('sha256').update(canonicalize(rules), 'utf8').digest('hex');
}

/** A scan report's rules: identity plus the rules themselves. */
export function embeddedRules(rules: Rules): ReportRules {
  const data = gzipSync(Buffer.from(canonicalize(rules), 'utf8'), { level: 9 }).toString('base64');
  return { version: rules.version, sha256: rulesHash(rules), data };
}

/**
 * A collector report's rules: `rules` (those the collector runs now) are named by hash only if
 * every verdict of the report says it was made with their version; otherwise the versions the
 * verdicts name, without a hash.
 */
export function collectorRules(rules: Rules, verdicts: readonly StoredVerdictJson[]): ReportRules {
  const versions = [...new Set(verdicts.map((v) => v.verdict.rulesVersion))].sort();
  if (versions.every((v) => v === rules.version)) return { version: rules.version, sha256: rulesHash(rules) };
  return { version: versions.join(', '), sha256: null };
}

/** The rules a report carries, validated and checked against the hash it states; throws with the reason. */
export function rulesFromReport(r: ReportRules): Rules {
  if (typeof r?.data !== 'string') throw new Error('the report does not carry its rules');
  const json = gunzipSync(Buffer.from(r.data, 'base64'), { maxOutputLength: MAX_RULES_BYTES }).toString('utf8');
  // JSON is YAML: the same loader validates them, naming any bad entry.
  const rules = parseRules(json, 'embedded rules');
  const hash = rulesHash(rules);
  if (hash !== r.sha256) throw new Error(`the embedded rules hash to ${hash}, not to the stated ${r.sha256}`);
  if (rules.version !== r.version) throw new Error(`the embedded rules are version ${rules.version}, not the stated ${r.version}`);
  return rules;
}

let bundled: { rules: Rules; sha256: string } | null = null;

/** The rules shipped with this build (read once). */
export function bundledRules(): { rules: Rules; sha256: string } {
  if (!bundled) {
    const rules = loadRulesFile(defaultRulesPath);
    bundled = { rules, sha256: rulesHash(rules) };
  }
  return bundled;
}
