// The report commands: `assay report` (a signed report from the collector's database) and
// `assay verify` (check one offline). The statement's threshold flags are shared with `assay scan`.
import { Option, type Command } from 'commander';
import { collect, durationArg, fractionArg, say, sayErr } from '../../proto/cli-kit.js';
import { DATA_DIR_HELP, DB_HELP, reportMaxBytesOption } from '../cli.js';
import { checkOutputPath } from '../../proto/out-path.js';
import { oneLine } from '../../proto/term.js';
import { PAGE_NAME, checkJsonReportName } from './page-name.js';

export interface ThresholdFlags {
  minCoverage?: number;
  maxNonAiShare?: number;
  maxNonAiRun?: number;
  minConfidence?: number;
}

export function thresholdOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--min-coverage <fraction>', 'least share of the period with samples for the AI-only statement (default 0.99)').argParser(fractionArg('min-coverage')))
    .addOption(new Option('--max-non-ai-share <fraction>', 'largest share of non-AI work allowed (default 0.01)').argParser(fractionArg('max-non-ai-share')))
    .addOption(new Option('--max-non-ai-run <d>', 'longest single stretch of non-AI verdicts allowed (default 5m)').argParser(durationArg))
    .addOption(new Option('--min-confidence <fraction>', 'least verdict confidence for non-AI time to count as confident; below it the time is doubtful: listed apart, and over the limits it makes the answer "cannot-say" (default 0.3)').argParser(fractionArg('min-confidence')));
}

export const thresholdsOf = (o: ThresholdFlags): Record<string, number> => ({
  ...(o.minCoverage !== undefined ? { minCoverage: o.minCoverage } : {}),
  ...(o.maxNonAiShare !== undefined ? { maxNonAiShare: o.maxNonAiShare } : {}),
  ...(o.maxNonAiRun !== undefined ? { maxNonAiRunMs: o.maxNonAiRun } : {}),
  ...(o.minConfidence !== undefined ? { minConfidence: o.minConfidence } : {}),
});

/** --format, else HTML for a page name (.html, .htm, .xhtml … any case), else JSON. */
const formatOf = (format: string | undefined, out: string | undefined): 'json' | 'html' => (format === 'html' || format === 'json' ? format : out && PAGE_NAME.test(out) ? 'html' : 'json');

export function registerReportCommands(program: Command): void {
  thresholdOptions(
    program
      .command('report')
      .description('a signed report for one or more hosts over a period: coverage and gaps, time and energy per class, evidence, the hash chain, and the AI-only statement')
      .requiredOption('--host <id-or-name>', 'agent id or hostname (repeat for a group of hosts)', collect)
      .option('--from <time>', 'start: ISO date or Unix ms (default: 24 h before --to)')
      .option('--to <time>', 'end: ISO date or Unix ms (default: now)')
      .option('--out <file>', 'write the report here (default: standard output)')
      .addOption(new Option('--rules <file>', 'the rules file the collector runs with, named in the report by hash (default: the bundled rules)').env('ASSAY_RULES'))
      .addOption(new Option('--format <format>', 'json or html (default: from --out, else json)').choices(['json', 'html']))
      .addOption(new Option('--db <path>', DB_HELP).default('./data/assay.db').env('ASSAY_DB'))
      .addOption(new Option('--data-dir <dir>', `${DATA_DIR_HELP}: the collector key that signs reports is there`).env('ASSAY_DATA_DIR'))
      .addOption(reportMaxBytesOption()),
  ).action(async (o: ThresholdFlags & { host: string[]; from?: string; to?: string; out?: string; format?: string; db: string; dataDir?: string; rules?: string; reportMaxBytes: number }) => {
    const [{ openStore, filesAnchor }, { buildReport }, { collectorKeyPath, loadOrCreateKey }, { reportPeriod }, { renderHtml }, { writeFileSync }, { loadRulesFile }] = await Promise.all([
      import('../dbfile.js'),
      import('./build.js'),
      import('./sign.js'),
      import('./period.js'),
      import('./render-html.js'),
      import('node:fs'),
      import('../engine/index.js'),
    ]);
    if (o.out) checkOutputPath(o.out, 'report file');
    if (o.out && formatOf(o.format, o.out) === 'json') checkJsonReportName(o.out, '--out');
    const period = reportPeriod(o.from, o.to, Date.now());
    const store = await openStore(o.db, { write: false });
    try {
      const { resolveHostIds } = await import('./resolve-hosts.js');
      const report = await buildReport(store, { hostIds: await resolveHostIds(store, o.host), ...period, thresholds: thresholdsOf(o), keys: loadOrCreateKey(collectorKeyPath(filesAnchor(o.db, o.dataDir))), ...(o.rules ? { rules: loadRulesFile(o.rules) } : {}), maxSignedBytes: o.reportMaxBytes });
      const text = formatOf(o.format, o.out) === 'html' ? renderHtml(report) : JSON.stringify(report) + '\n';
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
      const st = report.statement;
      sayErr(`${oneLine(st.text)}\n${[...st.reasons.map((r) => `  - ${r}`), ...st.notes.map((n) => `  note: ${n}`)].map((l) => `${oneLine(l)}\n`).join('')}signed by collector key ${report.signer.fingerprint}${o.out ? `; wrote ${o.out}` : ''}\n`);
    } finally {
      await store.close();
    }
  });

  program
    .command('verify')
    .description('check a report (JSON or HTML): its signature, the agents\' signatures and hash chain, fingerprints computed from the keys, verdicts re-derived from the samples (scan reports), every figure and the statement, and that an HTML page is exactly the rendering of its embedded report; exit 0 pass, 1 fail')
    .argument('<file>', 'report file')
    .option('--key <fingerprint>', 'the signer key you expect (SHA256:… fingerprint or hex public key)')
    .option('--json', 'print the result as JSON')
    .option('--strict', 'a warning fails too (exit 1): e.g. figures that rest on roll-ups, not on signed bytes')
    .action(async (file: string, o: { key?: string; json?: boolean; strict?: boolean }) => {
      const [{ verifyReportBytes }, { readFileSync }] = await Promise.all([import('./verify-file.js'), import('node:fs')]);
      let result;
      try {
        result = verifyReportBytes(readFileSync(file), { fileName: file, ...(o.key !== undefined ? { expectKey: o.key } : {}) });
      } catch (err) {
        result = { ok: false, failures: [`cannot read ${file}: ${(err as Error).message}`], passed: [], warnings: [], signer: null, statement: null };
      }
      // A warning is a figure the signatures cannot vouch for (roll-ups kept after the raw
      // attestation window): the headline says so, and --strict makes it a failure.
      const warned = result.warnings.length;
      const ok = result.ok && !(o.strict && warned > 0);
      if (o.json) process.stdout.write(JSON.stringify({ ...result, ...(o.strict ? { ok, strict: true } : {}) }, null, 2) + '\n');
      else {
        const plural = `${warned} warning${warned === 1 ? '' : 's'}`;
        const head = !result.ok ? 'FAIL' : warned === 0 ? 'PASS' : ok ? `PASS with ${plural}` : `FAIL (--strict: ${plural})`;
        say(`${head}: ${file}\n`);
        // Each result on one line: strings from the file (ids, hostnames, a forged headline) may not
        // print lines of their own, such as a "PASS:" under this FAIL.
        for (const p of result.passed) say(`  ok    ${oneLine(p)}\n`);
        for (const f of result.failures) say(`  FAIL  ${oneLine(f)}\n`);
        for (const w of result.warnings) say(`  WARN  ${oneLine(w)}\n`);
        if (result.statement) say(`statement: ${oneLine(result.statement)}${result.ok ? '' : ' (NOT verified)'}\n`);
        if (result.ok && o.key === undefined) say(`note: signed by ${oneLine(String(result.signer))}; compare it with the key you expect (or pass --key)\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}
