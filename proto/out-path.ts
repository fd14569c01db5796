// Commands that work for a while and then write a file (scan samples for minutes, record for
// the whole duration, report reads a long period) check where they will write BEFORE they start,
// so a typo costs nothing: the folder must exist and be writable, and an existing path must be a
// writable file. Nothing is created here.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function checkOutputPath(file: string, what = 'output file'): void {
  const path = resolve(file);
  const dir = dirname(path);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new Error(`${what} ${file}: folder ${dir} does not exist`);
  }
  if (!dirStat.isDirectory()) throw new Error(`${what} ${file}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${what} ${file}: folder ${dir} is not writable`);
  }
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // a new file in a writable folder
  }
  if (!st.isFile()) throw new Error(`${what} ${file}: exists and is not a regular file`);
  try {
    accessSync(path, constants.W_OK);
  } catch {
    throw new Error(`${what} ${file}: not writable`);
  }
}
