// Loading a CommonJS package for one job and then letting it go. Used for what a long-running
// process needs once (the agent's inventory through systeminformation, its exe markers and a
// --config file through yaml): an ESM `import` keeps a package in the module map for the life of
// the process (its code, source text and module state: a few MB of heap each, measured in
// bench/agent-cost.ts), while a module removed from require's cache is collected once nothing
// holds it.
//
// Only the package's own files are removed from the cache (files under its directory that were
// not already cached before the call), so a module another part of the process required stays.
// The require function, and the parent module that records the package among its children, are
// made afresh per call and dropped with it.
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

/** The directory of package `name` (its package.json's), as resolved from this module. */
function packageDir(req: NodeJS.Require, name: string): string {
  try {
    return dirname(req.resolve(join(name, 'package.json')));
  } catch {
    // package.json not exported: the directory above node_modules/<name>/… of its main file.
    const main = req.resolve(name);
    const at = main.lastIndexOf(`${sep}node_modules${sep}${name}${sep}`);
    return at < 0 ? dirname(main) : main.slice(0, at + `${sep}node_modules${sep}${name}`.length);
  }
}

/**
 * Runs `use` with CommonJS package `name` loaded, then forgets the package's modules (after the
 * promise `use` returns settles, if it returns one). Whatever `use` returns must not keep
 * references into the package (plain data does not).
 */
export function withTransientModule<M, T>(name: string, use: (m: M) => T): T {
  const req = createRequire(import.meta.url);
  const dir = packageDir(req, name) + sep;
  const before = new Set(Object.keys(req.cache).filter((k) => k.startsWith(dir)));
  const forget = (): void => {
    for (const k of Object.keys(req.cache)) if (k.startsWith(dir) && !before.has(k)) delete req.cache[k];
  };
  let result: T;
  try {
    result = use(req(name) as M);
  } catch (err) {
    forget();
    throw err;
  }
  if (result instanceof Promise) return result.finally(forget) as T;
  forget();
  return result;
}

/** Module files of package `name` in require's cache (tests check that a transient use left none). */
export function cachedModuleFiles(name: string): string[] {
  const req = createRequire(import.meta.url);
  const dir = packageDir(req, name) + sep;
  return Object.keys(req.cache).filter((k) => k.startsWith(dir));
}
