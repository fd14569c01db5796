// Leave-one-workload-out, as data: the rules are frozen data tuned by hand, so instead of re-fitting
// without each trace the eval reports which rules keys each corpus trace influenced when it was
// added (test/corpus/influence.yaml). A trace with entries is in-sample for those keys: its score
// says nothing about how the rules do on unseen work. A trace without an entry was never checked.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface InfluenceEntry {
  /** Dotted path into the rules file, e.g. `thresholds.io.heavyWriteBytesPerSec`. */
  key: string;
  /** One line: what the trace made someone change, and why. */
  reason: string;
  /** Commit that made the change, where known. */
  commit?: string;
}

export interface Influence {
  file: string;
  /** Trace file name (as reported by the eval) → the rules keys it influenced; [] = checked, none. */
  traces: Map<string, InfluenceEntry[]>;
}

export class InfluenceError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'InfluenceError';
  }
}

export function influencePath(repoRoot: string): string {
  return join(repoRoot, 'test', 'corpus', 'influence.yaml');
}

const KEY = /^[A-Za-z][\w-]*(\.[\w-]+)*$/;

/** Parses and checks influence data; a malformed entry throws naming the trace and entry. */
export function parseInfluence(file: string, text: string): Influence {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InfluenceError(file, `not valid YAML: ${(err as Error).message}`);
  }
  const traces = (doc as { traces?: unknown } | null)?.traces;
  if (typeof traces !== 'object' || traces === null || Array.isArray(traces)) throw new InfluenceError(file, 'expected a "traces" mapping (trace file → list of {key, reason})');
  const out = new Map<string, InfluenceEntry[]>();
  for (const [trace, list] of Object.entries(traces as Record<string, unknown>)) {
    if (list === null) {
      out.set(trace, []);
      continue;
    }
    if (!Array.isArray(list)) throw new InfluenceError(file, `${trace}: expected a list of {key, reason} ([] when it influenced nothing)`);
    out.set(
      trace,
      list.map((e: unknown, i) => {
        const o = e as Record<string, unknown> | null;
        const where = `${trace}[${i}]`;
        if (typeof o !== 'object' || o === null) throw new InfluenceError(file, `${where}: expected {key, reason}`);
        if (typeof o.key !== 'string' || !KEY.test(o.key)) throw new InfluenceError(file, `${where}: key must be a dotted rules path, got ${JSON.stringify(o.key)}`);
        if (typeof o.reason !== 'string' || !o.reason.trim() || o.reason.includes('\n')) throw new InfluenceError(file, `${where}: reason must be one non-empty line`);
        if (o.commit !== undefined && (typeof o.commit !== 'string' || !/^[0-9a-f]{7,40}$/.test(o.commit))) throw new InfluenceError(file, `${where}: commit must be a git hash`);
        const unknown = Object.keys(o).filter((k) => !['key', 'reason', 'commit'].includes(k));
        if (unknown.length) throw new InfluenceError(file, `${where}: unknown field ${unknown.join(', ')}`);
        return { key: o.key, reason: o.reason.trim(), ...(o.commit ? { commit: o.commit as string } : {}) };
      }),
    );
  }
  return { file, traces: out };
}

/** The corpus's influence data; none recorded (no file) gives an empty map. */
export function loadInfluence(repoRoot: string): Influence {
  const file = influencePath(repoRoot);
  if (!existsSync(file)) return { file, traces: new Map() };
  return parseInfluence(file, readFileSync(file, 'utf8'));
}

/** Keys that name nothing in the rules file (renamed or removed since the trace was added). */
export function staleKeys(influence: Influence, rulesText: string): string[] {
  const rules = parse(rulesText) as unknown;
  const resolves = (key: string): boolean => {
    let node: unknown = rules;
    for (const part of key.split('.')) {
      if (typeof node !== 'object' || node === null || !(part in node)) return false;
      node = (node as Record<string, unknown>)[part];
    }
    return true;
  };
  return [...new Set([...influence.traces.values()].flat().map((e) => e.key))].filter((k) => !resolves(k)).sort();
}
