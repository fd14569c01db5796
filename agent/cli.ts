// The agent's commands: `assay agent` (sample this host and stream to a collector) and
// `assay record` (write the same sample stream to a trace file).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { MIN_INTERVAL_MS, timerDurationArg, applyConfigFile, durationArg, intArg, onSignals, withConfig } from '../proto/cli-kit.js';
import { checkOutputPath } from '../proto/out-path.js';

const wsUrlArg = (v: string): string => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${v}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new InvalidArgumentError('collector URL must start with ws:// or wss://');
  return v;
};

interface AgentFlags {
  collector: string;
  interval: number;
  batchInterval: number;
  stateDir: string;
  procRoot: string;
  sysRoot: string;
  nvidiaSmi: string;
  maxProcesses: number;
  maxSpoolSamples: number;
  maxSpoolAge: number;
  enrollSecretFile?: string;
  pin?: string;
  ca?: string;
  allowPlain?: boolean;
  logLevel: string;
}

function agentOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--collector <url>', 'collector ingest URL').argParser(wsUrlArg).default('ws://127.0.0.1:7300/ingest').env('ASSAY_COLLECTOR'))
    .addOption(new Option('--interval <seconds>', 'sampling interval (seconds, or 500ms, 2s, 1m)').argParser(timerDurationArg(MIN_INTERVAL_MS)).default(1000, '1').env('ASSAY_INTERVAL'))
    .addOption(new Option('--batch-interval <seconds>', 'how often batches are sent').argParser(timerDurationArg(MIN_INTERVAL_MS)).default(5000, '5').env('ASSAY_BATCH_INTERVAL'))
    .addOption(new Option('--state-dir <dir>', 'agent identity and spool directory').default('./data/agent').env('ASSAY_STATE_DIR'))
    .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc').env('ASSAY_PROC_ROOT'))
    .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys').env('ASSAY_SYS_ROOT'))
    .addOption(new Option('--nvidia-smi <path>', 'nvidia-smi executable').default('nvidia-smi').env('ASSAY_NVIDIA_SMI'))
    .addOption(new Option('--max-processes <n>', 'most processes reported per sample').argParser(intArg('max-processes', 1, 10_000)).default(64).env('ASSAY_MAX_PROCESSES'))
    .addOption(new Option('--max-spool-samples <n>', 'most unsent samples kept on disk (then thinned, then dropped, as recorded gaps)').argParser(intArg('max-spool-samples', 10, 100_000_000)).default(7 * 24 * 3600).env('ASSAY_MAX_SPOOL_SAMPLES'))
    .addOption(new Option('--max-spool-age <d>', 'oldest unsent sample kept').argParser(durationArg).default(7 * 24 * 3600_000, '7d').env('ASSAY_MAX_SPOOL_AGE'))
    .addOption(new Option('--pin <fingerprint>', 'pin the collector\'s TLS certificate (sha256:AB:CD:…, printed by the collector)').env('ASSAY_PIN'))
    .addOption(new Option('--ca <file>', 'CA certificate (PEM) that signed the collector\'s certificate').env('ASSAY_CA'))
    .addOption(new Option('--allow-plain', 'allow plain ws:// to a non-loopback collector').env('ASSAY_ALLOW_PLAIN'))
    .addOption(new Option('--enroll-secret-file <file>', 'file holding the collector\'s enrollment secret (or set ASSAY_ENROLL_SECRET); needed for the first connection').env('ASSAY_ENROLL_SECRET_FILE'));
}

export function registerAgentCommands(program: Command): void {
  withConfig(agentOptions(program.command('agent').description('run the agent: sample this host and stream to a collector'))).action(async (_o, cmd: Command) => {
    applyConfigFile(cmd);
    const f = cmd.opts<AgentFlags>();
    // The secret comes from a file or the environment, never from argv (visible in ps).
    const enrollSecret = f.enrollSecretFile ? readFileSync(f.enrollSecretFile, 'utf8').trim() : process.env.ASSAY_ENROLL_SECRET;
    const { startAgent } = await import('./agent.js');
    const { createAgentLogger } = await import('./log.js');
    const agent = await startAgent({
      collectorUrl: f.collector,
      intervalMs: f.interval,
      batchIntervalMs: f.batchInterval,
      stateDir: f.stateDir,
      spoolLimits: { maxSamples: f.maxSpoolSamples, maxAgeMs: f.maxSpoolAge },
      ...(enrollSecret ? { enrollSecret } : {}),
      ...(f.pin ? { pin: f.pin } : {}),
      ...(f.ca ? { wsOptions: { ca: readFileSync(f.ca, 'utf8') } } : {}),
      ...(f.allowPlain ? { allowPlain: true } : {}),
      probeConfig: { procRoot: f.procRoot, sysRoot: f.sysRoot, nvidiaSmi: f.nvidiaSmi, maxProcesses: f.maxProcesses },
      logger: createAgentLogger('agent', f.logLevel),
    });
    onSignals(() => agent.stop());
  });

  program
    .command('record')
    .description('record this machine\'s sample stream (what the agent would send) into a trace file')
    .requiredOption('--label <class>', 'what the recorded workload really is (e.g. pow-mining)')
    .requiredOption('--out <file>', 'trace file to write (NDJSON)')
    .addOption(new Option('--duration <d>', 'how long to record').argParser(durationArg).default(60_000, '60s'))
    .addOption(new Option('--interval <seconds>', 'sampling interval').argParser(timerDurationArg(MIN_INTERVAL_MS)).default(1000, '1'))
    .addOption(new Option('--provenance <kind>', 'how the workload was produced').choices(['real', 'emulated', 'synthetic', 'real-gpu']).default('real'))
    .option('--description <text>', 'what ran and how', '')
    .option('--evasion <name>', 'the evasion this trace exercises, if any')
    .addOption(new Option('--proc-root <dir>', 'procfs root').default('/proc'))
    .addOption(new Option('--sys-root <dir>', 'sysfs root').default('/sys'))
    .action(async (o: { label: string; out: string; duration: number; interval: number; provenance: 'real'; description: string; evasion?: string; procRoot: string; sysRoot: string }) => {
      checkOutputPath(o.out, 'trace file');
      const { recordTrace } = await import('./record.js');
      const tty = process.stderr.isTTY;
      const r = await recordTrace({
        out: o.out,
        label: o.label,
        durationMs: o.duration,
        intervalMs: o.interval,
        provenance: o.provenance,
        description: o.description,
        ...(o.evasion ? { evasion: o.evasion } : {}),
        probeConfig: { procRoot: o.procRoot, sysRoot: o.sysRoot },
        onSample: (n, total) => {
          if (tty) process.stderr.write(`\rrecording ${o.label}: ${n}/${total} samples`);
        },
      });
      process.stderr.write(`${tty ? '\n' : ''}wrote ${r.samples} samples to ${o.out}\n`);
    });
}
