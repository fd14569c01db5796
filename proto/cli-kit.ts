// Pieces every part's command module shares: argument parsers, the --config file, terminal-safe
// output, signal handling. Each part registers its own commands (agent/cli.ts, collector/cli.ts,
// collector/report/cli.ts, agent/scan/cli.ts); cli.ts only dispatches.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parseBool } from './bool.js';
import { parseDurationMs } from './duration.js';
import { packageVersion } from './package-info.js';
import { termSafe } from './term.js';
import { withTransientModule } from './transient-require.js';

/**
 * The `assay` program before any command is registered: errors read like every other Assay error
 * ("assay: …") and end with a pointer to the help, not the whole usage text (subcommands inherit
 * both settings). cli.ts registers every part's commands; the agent's daemon launcher
 * (agent/main.ts) only the agent's, so the daemon never loads the collector's modules.
 */
export function assayProgram(): Command {
  return new Command('assay')
    .description('Workload fingerprinting: tells AI training, inference, chain validation, storage proving and PoW mining apart by behaviour.')
    .version(packageVersion())
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'assay: ')) })
    .showHelpAfterError("(see 'assay <command> --help')")
    .enablePositionalOptions();
}

/** Parses argv with `program`; a failing command prints "assay: <message>" and exits 1. */
export function runProgram(program: Command, argv: string[] = process.argv): void {
  // A reader that stops early (`assay verify r.json | head -1`) closes the pipe: stop quietly with
  // the status a shell gives a command whose pipe closed (141 = 128 + SIGPIPE, never 0 for output
  // cut off) instead of an unhandled 'error' event and a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(141);
  });
  program.parseAsync(argv).catch((err: Error) => {
    sayErr(`assay: ${err.message}\n`);
    process.exit(1);
  });
}

/**
 * A decimal number as a person writes one. `Number()` alone takes '' and '  ' as 0 (an unset
 * variable: `ASSAY_PORT=` listened on a random port, `--min-coverage ""` asked for 0 % coverage)
 * and 0x/0o/0b spellings (`--port 0x1C94` listened on 7316).
 */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const decimal = (v: string): number => (DECIMAL.test(v) ? Number(v) : NaN);

export const intArg =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = decimal(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
export const durationArg = (v: string): number => {
  try {
    const ms = parseDurationMs(v);
    if (ms <= 0) throw new Error('must be positive');
    if (!Number.isSafeInteger(Math.round(ms))) throw new Error(`${v} is too long`);
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/**
 * Shortest sampling or batch interval the CLI takes: 10 samples a second already costs an agent
 * ten times its usual CPU, and `--interval 1ms` only had the collector refuse it (rate limit).
 */
export const MIN_INTERVAL_MS = 100;

/** The longest delay a Node timer keeps (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration that becomes a timer's delay (timeouts, sampling and batch intervals): at least
 * `minMs`, and at most MAX_TIMER_MS, since Node fires a longer timer at once (--idle-timeout 30d
 * made the collector drop every connection 1 ms after it opened).
 */
export const timerDurationArg =
  (minMs = 1) =>
  (v: string): number => {
    const ms = durationArg(v);
    if (ms < minMs) throw new InvalidArgumentError(`must be at least ${minMs} ms`);
    if (ms > MAX_TIMER_MS) throw new InvalidArgumentError(`must be at most 24d (${MAX_TIMER_MS} ms, the longest timer Node keeps; a longer one would fire at once)`);
    return ms;
  };

/** Parsers of comma lists: a config file may give these options a YAML list instead. */
const listParsers = new WeakSet<object>();

/** A comma-separated list, each item checked by `check` (which throws InvalidArgumentError). */
export function listArgOf(check: (item: string) => void = () => undefined): (v: string) => string[] {
  const parse = (v: string): string[] => {
    const items = v.split(',').map((x) => x.trim()).filter(Boolean);
    items.forEach(check);
    return items;
  };
  listParsers.add(parse);
  return parse;
}

export const listArg = listArgOf();

/** Options every long-running command shares. */
export function withConfig(cmd: Command): Command {
  return cmd
    .addOption(new Option('--config <file>', 'YAML or JSON file with option values (keys as the long flags, camelCase)').env('ASSAY_CONFIG'))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info').env('ASSAY_LOG_LEVEL'));
}

/** Human-readable output: data from agents and report files never reaches the terminal raw. */
export const say = (text: string): boolean => process.stdout.write(termSafe(text));
export const sayErr = (text: string): boolean => process.stderr.write(termSafe(text));

/**
 * Commander sets a boolean flag to true whenever its environment variable exists, whatever its
 * value: parse the value strictly instead (ASSAY_ALLOW_PLAIN=false is false, =maybe an error).
 */
function strictEnvBooleans(cmd: Command): void {
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (opt.isBoolean() && opt.envVar && cmd.getOptionValueSource(key) === 'env') {
      cmd.setOptionValueWithSource(key, parseBool(`${opt.envVar} (--${opt.long?.replace(/^--/, '')})`, process.env[opt.envVar]), 'env');
    }
  }
}

/**
 * A config value for an option that takes one: what the same text on the command line gives. An
 * empty value (`db:`), a mapping, or a list for anything but a comma list was passed on as it was
 * and failed far away ("Cannot read properties of null (reading 'trim')", "The \"path\" argument
 * must be of type string"), naming neither the file nor the option.
 */
function optionText(opt: Option, key: string, raw: unknown): unknown {
  if (raw === null || raw === undefined) throw new Error(`no value (write ${key}: <value>, or leave the line out)`);
  let text: string;
  if (Array.isArray(raw) && opt.parseArg && listParsers.has(opt.parseArg) && raw.every((x) => typeof x === 'string' || typeof x === 'number')) text = raw.join(',');
  else if (typeof raw === 'string' || typeof raw === 'number') text = String(raw);
  else throw new Error(`expected one value, not ${Array.isArray(raw) ? 'a list' : typeof raw === 'object' ? 'a mapping' : JSON.stringify(raw)}`);
  return opt.parseArg ? opt.parseArg(text, undefined) : text;
}

/** Fills options left at their default from the --config file, so flags and env still win. */
export function applyConfigFile(cmd: Command): void {
  strictEnvBooleans(cmd);
  const file = cmd.opts<{ config?: string }>().config;
  if (!file) return;
  let values: Record<string, unknown>;
  try {
    // yaml only while the file is read (a daemon keeps no parser it will not use again).
    const text = readFileSync(file, 'utf8');
    values = (withTransientModule<typeof import('yaml'), unknown>('yaml', (y) => y.parse(text)) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof values !== 'object' || Array.isArray(values)) throw new Error(`config file ${file}: expected a mapping of option names to values`);
  const known = new Map(cmd.options.map((o) => [o.attributeName(), o]));
  for (const [key, raw] of Object.entries(values)) {
    const opt = known.get(key);
    if (!opt || key === 'config') throw new Error(`config file ${file}: unknown option "${key}" (known: ${[...known.keys()].filter((k) => k !== 'config').join(', ')})`);
    if (cmd.getOptionValueSource(key) !== 'default' && cmd.getOptionValueSource(key) !== undefined) continue;
    let value: unknown = raw;
    try {
      if (opt.isBoolean()) value = parseBool(`option ${key}`, raw);
      else value = optionText(opt, key, raw);
    } catch (err) {
      throw new Error(`config file ${file}: ${key}: ${(err as Error).message}`);
    }
    cmd.setOptionValueWithSource(key, value, 'config');
  }
}

export function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void stop().then(() => process.exit(0));
    });
  }
}

export const fractionArg = (name: string) => (v: string): number => {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
