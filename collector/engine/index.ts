// The classifier engine: evaluate(window, rules) = classify(features(window), rules).
//
// Pure (no I/O except loadRulesFile, no clock, no globals) and deterministic, so a recorded trace
// gives the same verdict in a test and in production.
//
// An empty window (no samples) gives class `idle` with confidence 0 and unavailable ['samples']:
// "nothing seen" must never read as a confident verdict, and callers get a Verdict, not a throw.
import { classify } from './classify.js';
import { featureOptions } from './features-series.js';
import { features } from './features.js';
import type { Rules } from './rules/schema.js';
import type { EngineWindow, Verdict } from './types.js';
import type { IdentityMemo } from './classify-identity.js';

/** `memo`: the caller's identity-evidence memo (classify-identity.ts), kept across calls; the verdict is the same without it. */
export function evaluate(window: EngineWindow, rules: Rules, memo?: IdentityMemo): Verdict {
  return classify(features(window, featureOptions(rules)), rules, memo);
}

export { IdentityMemo } from './classify-identity.js';

export { classify } from './classify.js';
export { features } from './features.js';
export { DEFAULT_FEATURE_OPTIONS, featureOptions, type FeatureOptions } from './features-series.js';
export { dominantPeriod, autocorrelation, type Period, type PeriodOptions } from './periodicity.js';
export { loadRulesFile, parseRules, defaultRulesPath, RulesError, type RulesIssue } from './rules/load.js';
export { RULES_SCHEMA, BEHAVIOUR_IDS, type Rules, type BehaviourId, type SignatureList, type PortList } from './rules/schema.js';
export type * from './feature-types.js';
export * from './types.js';
