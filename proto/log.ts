// Structured logging shared by every subcommand: one JSON line per event on stderr (pino), so
// logs stay machine-readable; every reject carries a `reason` code. ASSAY_LOG_LEVEL sets the level.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.ASSAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { component: name }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
