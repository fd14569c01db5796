// The classifier's options and defaults, apart from the classifier so the CLI reads them without
// loading the engine.
export interface ClassifierOptions {
  /** Length of the window the engine sees. */
  windowMs: number;
  /** Least time between two evaluations of one host. */
  everyMs: number;
  /** A verdict is stored whenever the published class changes (after hysteresis), and at least this often. */
  persistEveryMs: number;
  /** A host fed nothing for this long (collector clock) is dropped from memory. */
  idleEvictMs: number;
  /** Most hosts held in memory; past it the least recently fed one is dropped. */
  maxHosts: number;
}

export const defaultClassifierOptions: ClassifierOptions = { windowMs: 120_000, everyMs: 5_000, persistEveryMs: 60_000, idleEvictMs: 10 * 60_000, maxHosts: 10_000 };
