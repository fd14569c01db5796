// Where the corpus lives and which files are traces: found at run time, so a newly recorded
// trace is evaluated and tested without editing any list.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const TRACE_SUFFIX = '.trace.ndjson';

export function corpusDirs(repoRoot: string): { real: string; synthetic: string } {
  return { real: join(repoRoot, 'test', 'corpus'), synthetic: join(repoRoot, 'test', 'corpus', 'synthetic') };
}

/** Trace files directly in `dir` (not recursive), sorted; none when the folder is missing. */
export function traceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(TRACE_SUFFIX))
    .sort()
    .map((f) => join(dir, f));
}
