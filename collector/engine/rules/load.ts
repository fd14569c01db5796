// Rules loader: the only engine file that does I/O. Parses YAML, validates against the schema and
// reports every problem by entry path (and line) so that a person can fix the file at once.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { rulesSchema, type Rules } from './schema.js';

/** The rules shipped with Assay; the build copies rules/*.yaml next to the compiled loader. */
export const defaultRulesPath: string = fileURLToPath(new URL('./default.yaml', import.meta.url));

export interface RulesIssue {
  /** Entry path, e.g. `signatures.miner-names.values[3]`; empty for the whole file. */
  path: string;
  line?: number;
  message: string;
}

export class RulesError extends Error {
  constructor(
    readonly sourceName: string,
    readonly issues: RulesIssue[],
  ) {
    super(formatIssues(sourceName, issues));
    this.name = 'RulesError';
  }
}

const MAX_ISSUES_IN_MESSAGE = 10;

function formatIssues(sourceName: string, issues: RulesIssue[]): string {
  const lines = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => {
    const where = i.line === undefined ? sourceName : `${sourceName}:${i.line}`;
    return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
  });
  if (issues.length > MAX_ISSUES_IN_MESSAGE) lines.push(`... and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`);
  return lines.join('\n');
}

/** `['signatures', 'miner-names', 'values', 3]` -> `signatures.miner-names.values[3]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Line of the deepest existing node on `path`, so that a missing key points at its parent. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let len = path.length; len >= 0; len--) {
    const node = doc.getIn(path.slice(0, len) as unknown[], true);
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] | null }).range;
      if (range) return counter.linePos(range[0]).line;
    }
  }
  return undefined;
}

function zodIssues(doc: Document, counter: LineCounter, issues: readonly z.core.$ZodIssue[]): RulesIssue[] {
  return issues.map((issue) => {
    // Zod says "Invalid input: expected string, received number"; the prefix adds nothing here.
    let message = issue.message.replace(/^Invalid input: /, '');
    let path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      path = [...issue.path, issue.keys[0] ?? ''];
    }
    return { path: formatPath(issue.path), line: lineOf(doc, counter, path), message };
  });
}

/** Parses and validates rules text. `sourceName` names the file in error messages. */
export function parseRules(text: string, sourceName = 'rules.yaml'): Rules {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RulesError(
      sourceName,
      doc.errors.map((e) => {
        const at = counter.linePos(e.pos[0]);
        return { path: '', line: at.line, message: `YAML syntax error at line ${at.line}, column ${at.col}: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new RulesError(sourceName, [{ path: '', message: 'expected a mapping at the top level' }]);
  }
  const parsed = rulesSchema.safeParse(data);
  if (!parsed.success) throw new RulesError(sourceName, zodIssues(doc, counter, parsed.error.issues));
  return parsed.data;
}

/** Reads and validates a rules file; throws RulesError (bad content) or the fs error (unreadable). */
export function loadRulesFile(path: string | URL): Rules {
  const file = typeof path === 'string' ? path : fileURLToPath(path);
  return parseRules(readFileSync(file, 'utf8'), basename(file));
}
