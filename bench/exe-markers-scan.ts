// How specific are the exe markers? Scans every executable file under the given folders (default:
// the usual binary folders) with the agent's own marker set and prints each file that matches.
// Not a test: prints figures. npm run build && node dist/bench/exe-markers-scan.js [folder...]
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultExeMarkers } from '../agent/probes/exe-markers.js';

const set = defaultExeMarkers();
const folders = process.argv.length > 2 ? process.argv.slice(2) : ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin'];
const seen = new Set<number>();
const buf = Buffer.alloc(1 << 20);
let scanned = 0;
const hits: string[] = [];

for (const folder of folders) {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    continue;
  }
  for (const name of names) {
    const path = join(folder, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (!st.isFile() || (st.mode & 0o111) === 0 || seen.has(st.ino)) continue;
    seen.add(st.ino);
    const scanner = set.scanner();
    const fd = openSync(path, 'r');
    try {
      for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) scanner.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    scanned++;
    const found = scanner.result();
    if (found.length > 0) hits.push(`${path}: ${found.join(', ')}`);
  }
}
console.log(`${scanned} executables scanned in ${folders.join(' ')}; ${hits.length} carry a marker`);
for (const h of hits) console.log(`  ${h}`);
