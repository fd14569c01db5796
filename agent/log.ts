// The agent daemon's log: the same JSON lines on stderr as the other commands' pino logger
// (proto/log.ts: {"level":30,"time":"<ISO>","component":"agent","name":"agent",...fields,"msg":"…"}),
// written by a few lines of code instead of pino. pino loads ~35 modules (its transports pull in
// worker_threads and thread-stream), which the agent, logging a handful of lines a day, kept for
// its whole life: measured 0.7 MB of RSS (agent cost, issue 10; 0.3 MB of V8 heap, the rest the
// node binary's pages for those built-in modules). test/agent/log.test.ts compares its lines with
// pino's for the same calls.
import { writeSync } from 'node:fs';
import { isoTimestamp } from '../proto/log-time.js';

/** What the agent's modules call (pino's Logger has these too, so tests may pass one). */
export interface AgentLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** pino's level numbers. */
export const LOG_LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** A field value as pino writes it: JSON, non-finite numbers as null; functions and undefined are left out. */
function jsonValue(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (typeof v === 'bigint') return String(v); // pino (safe-stable-stringify) writes a bare number
  try {
    return JSON.stringify(v) ?? undefined;
  } catch {
    return JSON.stringify(String(v)); // a cycle: the agent logs flat fields, this is a safety net
  }
}

/** An Error under `err`, as pino's standard serializer writes it: type, message, stack, then its own fields (code, errno, …). */
function errFields(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: typeof e.constructor === 'function' ? e.constructor.name : e.name, message: e.message, stack: e.stack };
  for (const key in e) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (out[key] === undefined && !(v instanceof Error)) out[key] = v;
  }
  return out;
}

/** One line: the prefix (level, time, bindings), then each field, then msg, as pino orders them. */
export function logLine(level: number, timeMs: number, bindings: string, fields: Record<string, unknown>, msg: string | undefined): string {
  let line = `{"level":${level},"time":"${isoTimestamp(timeMs)}"${bindings}`;
  for (const key of Object.keys(fields)) {
    const raw = fields[key];
    const v = jsonValue(key === 'err' && raw instanceof Error ? errFields(raw) : raw);
    if (v !== undefined) line += `,${JSON.stringify(key)}:${v}`;
  }
  if (msg !== undefined) line += `,"msg":${JSON.stringify(msg)}`;
  return `${line}}\n`;
}

/** Most EAGAIN retries of one line (a non-blocking stderr whose reader is slow), 10 ms apart. */
const MAX_EAGAIN_RETRIES = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `bytes` (a pipe may take part of it), as pino's sync destination does. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  let retries = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++retries > MAX_EAGAIN_RETRIES) throw err;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

/**
 * A logger writing to `fd` (stderr by default) synchronously, like pino.destination({ sync: true }):
 * a line is out before the call returns, so nothing is lost when the process exits.
 */
export function createAgentLogger(name: string, level = process.env.ASSAY_LOG_LEVEL ?? 'info', fd = 2): AgentLogger {
  const min = LOG_LEVELS[level];
  if (min === undefined) throw new Error(`unknown level ${level}`);
  const bindings = `,"component":${JSON.stringify(name)},"name":${JSON.stringify(name)}`;
  const at = (n: number) =>
    n < min
      ? () => undefined
      : (fields: Record<string, unknown>, msg: string) => {
          writeAll(fd, Buffer.from(logLine(n, Date.now(), bindings, fields, msg)));
        };
  return { debug: at(LOG_LEVELS.debug!), info: at(LOG_LEVELS.info!), warn: at(LOG_LEVELS.warn!), error: at(LOG_LEVELS.error!) };
}

/** A logger that drops everything (tests, library use). */
export function silentAgentLogger(): AgentLogger {
  const drop = (): void => undefined;
  return { debug: drop, info: drop, warn: drop, error: drop };
}
