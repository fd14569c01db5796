// parseSocketTable reads /proc/net/{tcp,udp}{,6} line by line without splitting every field of
// every line (agent cost, issue 10). The rows it gives must be exactly those of the plain
// split-based parser it replaced, kept here as the reference, on real and malformed tables.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeEndpoint, stateName } from '../../agent/probes/inet.js';
import { parseSocketTable, type SocketRow } from '../../agent/probes/sockets.js';
import { fixtures } from '../helpers/env.js';

/** The parser as it was before (2026.12 stop 13): split each line at whitespace. */
function referenceParse(text: string, protocol: string, netNs: number): SocketRow[] {
  const rows: SocketRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = decodeEndpoint(f[1]!);
    const remote = decodeEndpoint(f[2]!);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isSafeInteger(inode)) continue;
    rows.push({ protocol, localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, state: stateName(protocol, f[3]!), inode, netNs });
  }
  return rows;
}

const readable = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

test('socket tables: the line parser gives exactly the rows of the split-based parser', () => {
  const tables: Array<[string, string]> = [];
  for (const pid of ['1', '2345']) for (const proto of ['tcp', 'tcp6']) tables.push([proto, readFileSync(join(fixtures, 'proc-a', pid, 'net', proto), 'utf8')]);
  // This host's live tables too (whatever sockets it has now).
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const live = readable(join('/proc/net', proto));
    if (live !== undefined) tables.push([proto, live]);
  }
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const row = '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 30002 1 0000000000000000 100 0 0 10 0';
  tables.push(
    ['tcp', ''], // empty file
    ['tcp', header.trimEnd()], // header only, no newline
    ['tcp', header], // header only
    ['tcp', row], // no header line: the first line is always taken as the header
    ['tcp', `${header}${row}`], // no final newline
    ['tcp', `${header}${row}\r\n${row.replace('30002', '30003')}\n`], // CRLF
    ['tcp', `${header}\t${row.replace(/ +/g, '\t')}\n`], // tabs
    ['tcp', `${header}\n\n   \n${row}\n`], // blank lines
    ['tcp', `${header}   0: 0100007F:1F90 00000000:0000 0A\n`], // too few fields
    ['tcp', `${header}${row.replace('0100007F:1F90', 'zz:1F90')}\n`], // bad address
    ['tcp', `${header}${row.replace('0100007F:1F90', '0100007F:1FFFF')}\n`], // port out of range
    ['tcp', `${header}${row.replace('30002', 'x')}\n`], // bad inode
    ['udp6', `${header}${row.replace('0100007F:1F90', '00000000000000000000000001000000:0035').replace(' 0A ', ' 07 ')}\n`],
  );
  for (const [i, [proto, text]] of tables.entries()) {
    assert.deepEqual(parseSocketTable(text, proto, 4026531833), referenceParse(text, proto, 4026531833), `table ${i} (${proto})`);
  }
  // The synthetic rows above are really parsed (the comparison is not of two empty lists).
  assert.equal(parseSocketTable(`${header}${row}\r\n${row.replace('30002', '30003')}\n`, 'tcp', 1).length, 2);
});
