// Signature-list matching: which of a list's values a process shows, as the observed text.
import type { ProcessFeatures } from './feature-types.js';
import type { SignatureList } from './rules/schema.js';

/** /proc/PID/comm is cut to 15 bytes: "nimbus_beacon_node" shows as "nimbus_beacon_n". */
const COMM_MAX = 15;

type Test = (text: string) => string | null;

function globToRegExp(glob: string, flags: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function compileValue(list: SignatureList, raw: string): Test {
  const fold = (s: string): string => (list.caseSensitive ? s : s.toLowerCase());
  const value = fold(raw);
  switch (list.match) {
    case 'exact':
      return (t) => (fold(t) === value ? t : null);
    case 'prefix':
      return (t) => (fold(t).startsWith(value) ? t : null);
    case 'substring':
      return (t) => (fold(t).includes(value) ? raw : null);
    case 'glob': {
      const re = globToRegExp(raw, list.caseSensitive ? '' : 'i');
      return (t) => (re.test(t) ? t : null);
    }
    case 'regex': {
      // Validated by the schema at load time; a hand-built Rules object may still hold a bad one.
      let re: RegExp | null = null;
      try {
        re = new RegExp(raw, list.caseSensitive ? '' : 'i');
      } catch {
        re = null;
      }
      return (t) => (re ? (re.exec(t)?.[0] ?? null) : null);
    }
  }
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/** comm, exe basename and argv[0] basename: a renamed binary changes all three, a symlink only some. */
export function nameCandidates(p: ProcessFeatures): string[] {
  const out = new Set<string>();
  if (p.name) out.add(p.name);
  if (p.signature?.exe) out.add(basename(p.signature.exe.replace(/ \(deleted\)$/, '')));
  const argv0 = p.signature?.cmdline.trim().split(/[\s\0]+/)[0];
  if (argv0) out.add(basename(argv0));
  out.delete('');
  return [...out];
}

function texts(list: SignatureList, p: ProcessFeatures): string[] {
  const sig = p.signature;
  switch (list.kind) {
    case 'name':
      return nameCandidates(p);
    case 'cmdline':
      // NUL-separated argv from /proc reads as spaces for matching.
      return sig?.cmdline ? [sig.cmdline.replace(/\0/g, ' ')] : [];
    case 'lib':
      return sig?.libs ?? [];
    case 'env':
      return sig?.envNames ?? [];
    case 'cgroup':
      return sig?.cgroup ? [sig.cgroup] : [];
    case 'exe-marker':
      return sig?.exeMarkers ?? [];
  }
}

// A list's compiled tests, made once per list object (rules are replaced whole on reload, never
// edited), not once per process per evaluation: compiling was a tenth of the engine's time.
// Keyed by the list and checked against its values array, so a hand-built list given new values
// is compiled again.
const compiled = new WeakMap<SignatureList, { values: readonly string[]; tests: Array<{ value: string; test: Test }> }>();
function compiledTests(list: SignatureList): Array<{ value: string; test: Test }> {
  const hit = compiled.get(list);
  if (hit && hit.values === list.values) return hit.tests;
  const tests = list.values.map((v) => ({ value: v, test: compileValue(list, v) }));
  compiled.set(list, { values: list.values, tests });
  return tests;
}

/** Observed texts matching the list (deduplicated, in a stable order). */
export function matchList(list: SignatureList, p: ProcessFeatures): string[] {
  const candidates = texts(list, p);
  if (candidates.length === 0) return [];
  const tests = compiledTests(list);
  const found = new Set<string>();
  for (const text of candidates) {
    for (const { value, test } of tests) {
      const hit = test(text);
      // For names the whole name reads better than the fragment a regex matched.
      if (hit !== null) found.add(list.kind === 'name' ? text : hit);
      else if (list.kind === 'name' && list.match === 'exact' && text.length === COMM_MAX && (list.caseSensitive ? value : value.toLowerCase()).startsWith(list.caseSensitive ? text : text.toLowerCase())) {
        found.add(text);
      }
    }
  }
  return [...found].sort();
}
