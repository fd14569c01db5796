// `assay scan`: sample this machine with every probe for a while (no collector, no network) and
// write the same signed report as `assay report`.
import { Option, type Command } from 'commander';
import { MIN_INTERVAL_MS, timerDurationArg, durationArg, intArg, say } from '../../proto/cli-kit.js';
import { resolve } from 'node:path';
import { checkOutputPath } from '../../proto/out-path.js';
import { checkJsonReportName, thresholdOptions, thresholdsOf, type ThresholdFlags } from '../../collector/report/index.js';

export function registerScanCommands(program: Command): void {
  thresholdOptions(
    program
      .command('scan')
      .description('sample this machine for a while with every probe (no collector, no network) and print what it is doing; writes the same signed report as `assay report`')
      .addOption(new Option('--duration <d>', 'how long to sample').argParser(durationArg).default(120_000, '2m'))
      .addOption(new Option('--interval <seconds>', 'sampling interval').argParser(timerDurationArg(MIN_INTERVAL_MS)).default(1000, '1'))
      .option('--json <file>', 'write the signed JSON report')
      .option('--html <file>', 'write the HTML report')
      .option('--key <file>', 'sign with this Ed25519 key (PEM) instead of a fresh one')
      .option('--rules <file>', 'rules file (default: the bundled rules)')
      .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc'))
      .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys'))
      .addOption(new Option('--nvidia-smi <path>', 'nvidia-smi executable').default('nvidia-smi'))
      .addOption(new Option('--max-processes <n>', 'most processes kept per sample').argParser(intArg('max-processes', 1, 10_000)).default(64)),
  ).action(
    async (o: ThresholdFlags & { duration: number; interval: number; json?: string; html?: string; key?: string; rules?: string; procRoot: string; sysRoot: string; nvidiaSmi: string; maxProcesses: number }) => {
      const [{ runScan }, { scanSummary }, { createProgress }, { renderHtml }, { keysFromPem }, { readFileSync: read, writeFileSync }] = await Promise.all([
        import('./scan.js'),
        import('./summary.js'),
        import('./progress.js'),
        import('../../collector/report/render-html.js'),
        import('../../proto/chain.js'),
        import('node:fs'),
      ]);
      for (const f of [o.json, o.html]) if (f) checkOutputPath(f, 'report file');
      if (o.json) checkJsonReportName(o.json, '--json');
      if (o.json && o.html && resolve(o.json) === resolve(o.html)) throw new Error(`--json and --html name the same file (${o.json}): one report would overwrite the other`);
      // Read before the scan, and said in words (OpenSSL's own is "DECODER routines::unsupported").
      let keys: ReturnType<typeof keysFromPem> | undefined;
      if (o.key) {
        let pem: string;
        try {
          pem = read(o.key, 'utf8');
        } catch (err) {
          throw new Error(`--key ${o.key}: ${(err as Error).message}`);
        }
        try {
          keys = keysFromPem(pem);
        } catch (err) {
          throw new Error(`--key ${o.key}: not an Ed25519 private key in PEM form (-----BEGIN PRIVATE KEY-----, e.g. from openssl genpkey -algorithm ed25519): ${(err as Error).message}`);
        }
      }
      const progress = createProgress();
      const { report } = await runScan({
        durationMs: o.duration,
        intervalMs: o.interval,
        probeConfig: { procRoot: o.procRoot, sysRoot: o.sysRoot, nvidiaSmi: o.nvidiaSmi, maxProcesses: o.maxProcesses },
        thresholds: thresholdsOf(o),
        ...(o.rules ? { rulesPath: o.rules } : {}),
        ...(keys ? { keys } : {}),
        onSample: (n, total, sample) => progress.update(n, total, sample),
      });
      progress.stop();
      say('\n' + scanSummary(report));
      if (o.json) writeFileSync(o.json, JSON.stringify(report) + '\n');
      if (o.html) writeFileSync(o.html, renderHtml(report));
      process.stdout.write(`\nreport signed with scan key ${report.signer.fingerprint}${o.key ? '' : ' (generated for this scan)'}\n`);
      for (const f of [o.json, o.html]) if (f) process.stdout.write(`wrote ${f} (check it with: assay verify ${f})\n`);
    },
  );
}
