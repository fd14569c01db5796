// Structured logging shared by every subcommand: one JSON line per event on stderr (pino), so
// logs stay machine-readable; every reject carries a `reason` code. ASSAY_LOG_LEVEL sets the level.
import { pino, type Logger } from 'pino';
import { isoTimestamp } from './log-time.js';

export type { Logger };

/** pino's timestamp hook: the same `,"time":"…Z"` as pino.stdTimeFunctions.isoTime. */
const isoTime = (): string => `,"time":"${isoTimestamp(Date.now())}"`;

export function createLogger(name: string, level = process.env.ASSAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { component: name }, timestamp: isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
