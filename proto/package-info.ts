// The installed package's root and version, for both agent and collector.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/proto/package-info.js; the package root is two levels up.
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let version: string | undefined;
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
