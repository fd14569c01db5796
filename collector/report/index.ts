// The report's public face: what other parts (`assay scan` in agent/scan/) build a signed report
// from, without reaching into the report's modules or the collector's store. The collector's
// own commands and routes use the modules directly.
export { assembleReport, inventorySummary } from './build.js';
export { thresholdOptions, thresholdsOf, type ThresholdFlags } from './cli.js';
export { packSamples } from './framing.js';
export { engineInventory, scanVerdicts } from './rederive.js';
export { embeddedRules } from './rules-id.js';
export { checkJsonReportName } from './page-name.js';
export type { Report, Thresholds } from './types.js';
/** One sample's chart figures, as reports and the collector's charts compute them. */
export { summarize } from '../store/store.js';
