import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtures } from '../helpers/env.js';
import { decodeEndpoint, stateName } from '../../agent/probes/inet.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { createSocketsProbe, MAX_OTHER, omitUnowned, socketCounters, SocketTracker, socketsProbe, TABLE_MAX_AGE_MS, TABLE_REFRESH_MS } from '../../agent/probes/sockets.js';
import { config, copyFixture, write } from './tree.js';

const HOST = 4026531833;
const CONTAINER = 4026532500;

test('inet: hex endpoints decode (little-endian words), states are named', () => {
  assert.deepEqual(decodeEndpoint('0100007F:0050'), { address: '127.0.0.1', port: 80 });
  assert.deepEqual(decodeEndpoint('077100CB:0D05'), { address: '203.0.113.7', port: 3333 });
  assert.deepEqual(decodeEndpoint('00000000000000000000000000000000:0016'), { address: '::', port: 22 });
  assert.deepEqual(decodeEndpoint('00000000000000000000000001000000:0277'), { address: '::1', port: 631 });
  assert.deepEqual(decodeEndpoint('B80D0120000000000000000001000000:01BB'), { address: '2001:db8::1', port: 443 });
  assert.deepEqual(decodeEndpoint('0000000000000000FFFF00000400000A:1F91'), { address: '::ffff:10.0.0.4', port: 8081 });
  assert.deepEqual(decodeEndpoint('000080FE000000000000000001000000:0000'), { address: 'fe80::1', port: 0 }); // link-local
  assert.deepEqual(decodeEndpoint('B80D01200000010000000000000000AB:0001'), { address: '2001:db8:1::ab00:0', port: 1 });
  assert.equal(decodeEndpoint('zzzz:0050'), undefined);
  assert.equal(decodeEndpoint('0100007F'), undefined);
  assert.equal(stateName('tcp', '0A'), 'LISTEN');
  assert.equal(stateName('tcp6', '06'), 'TIME_WAIT');
  assert.equal(stateName('udp', '07'), 'UNCONN');
  assert.equal(stateName('udp6', '01'), 'ESTABLISHED');
});

test('sockets: every namespace read once, owners from fd links, listeners first', async () => {
  const out = await socketsProbe(config({ procRoot: join(fixtures, 'proc-a') })).collect(1000);
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  const s = (protocol: string, localAddress: string, localPort: number, remoteAddress: string, remotePort: number, state: string, pid: number, inode: number, netNs: number) =>
    ({ protocol, localAddress, localPort, remoteAddress, remotePort, state, inode, netNs, pid });
  assert.deepEqual(out.sockets, [
    // listening, host namespace (through pid 1's net/), then the container's (through pid 2345)
    s('tcp', '0.0.0.0', 22, '0.0.0.0', 0, 'LISTEN', 410, 20001, HOST),
    s('tcp', '127.0.0.1', 8080, '0.0.0.0', 0, 'LISTEN', 1234, 30002, HOST),
    s('tcp6', '::', 22, '::', 0, 'LISTEN', 410, 20002, HOST),
    s('udp', '0.0.0.0', 68, '0.0.0.0', 0, 'UNCONN', 0, 40001, HOST), // no visible owner
    s('udp', '127.0.0.1', 29001, '0.0.0.0', 0, 'UNCONN', 1234, 30004, HOST),
    s('tcp', '0.0.0.0', 8080, '0.0.0.0', 0, 'LISTEN', 2345, 50002, CONTAINER),
    // established
    s('tcp', '10.0.0.4', 54321, '10.0.0.5', 29500, 'ESTABLISHED', 1234, 30001, HOST),
    s('tcp', '10.0.0.4', 22, '192.168.0.100', 50000, 'ESTABLISHED', 0, 20003, HOST),
    s('tcp6', '::ffff:10.0.0.4', 8081, '::ffff:10.0.0.5', 49152, 'ESTABLISHED', 1234, 30003, HOST),
    s('tcp6', '2001:db8::1', 443, '2001:db8::2', 40960, 'ESTABLISHED', 1234, 30005, HOST),
    s('tcp', '172.17.0.2', 40000, '203.0.113.7', 3333, 'ESTABLISHED', 2345, 50001, CONTAINER),
    // other states: the one here (TIME_WAIT, inode 0) has no owner, so it is counted, not listed
  ]);
});

test('sockets: owners are cached, new sockets trigger a rescan', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = createSocketsProbe(config({ procRoot: t.dir }), { refreshMs: 0 });
    await probe.collect(1000);
    // The fd link goes away but the socket lives: the cached owner is kept (no rescan needed).
    rmSync(join(t.dir, '1234', 'fd', '3'));
    // A new connection owned by the worker 1235 appears.
    const tcp = readFileSync(join(t.dir, '1', 'net', 'tcp'), 'utf8');
    write(t.dir, '1/net/tcp', `${tcp}   5: 0400000A:D433 0500000A:733C 01 00000000:00000000 00:00000000 00000000  1000        0 30006 1 0000000000000000 20 4 30 10 -1\n`);
    symlinkSync('socket:[30006]', join(t.dir, '1235', 'fd', '10'));
    const out = await probe.collect(2000);
    assert.ok(!isUnavailable(out));
    const pidOf = (inode: number) => out.sockets?.find((x) => x.inode === inode)?.pid;
    assert.equal(pidOf(30001), 1234);
    assert.equal(pidOf(30006), 1235);
  } finally {
    t.cleanup();
  }
});

test('sockets: falls back to procRoot/net when no namespace link is readable; unavailable when nothing is', async () => {
  const t = copyFixture('proc-a');
  try {
    for (const pid of ['1', '410', '1234', '1235', '2345', '2346']) rmSync(join(t.dir, pid, 'ns'), { recursive: true });
    const probe = createSocketsProbe(config({ procRoot: t.dir }), { refreshMs: 0 });
    const none = await probe.collect(1000);
    assert.ok(isUnavailable(none) && /cannot read socket tables/.test(none.unavailable), JSON.stringify(none));
    mkdirSync(join(t.dir, 'self', 'ns'), { recursive: true });
    symlinkSync('net:[4026531999]', join(t.dir, 'self', 'ns', 'net'));
    write(t.dir, 'net/tcp', readFileSync(join(t.dir, '1', 'net', 'tcp'), 'utf8'));
    const out = await probe.collect(2000);
    assert.ok(!isUnavailable(out));
    assert.equal(out.sockets?.length, 4, 'the unowned TIME_WAIT row is counted, not listed');
    assert.ok(out.sockets?.every((x) => x.netNs === 4026531999));
    assert.equal(out.sockets?.find((x) => x.inode === 20001)?.pid, 410); // all pids scanned
  } finally {
    t.cleanup();
  }
});

test('sockets: tables are re-read only every TABLE_REFRESH_MS (the read walks the kernel hash table)', async () => {
  const t = copyFixture('proc-a');
  try {
    const probe = socketsProbe(config({ procRoot: t.dir }));
    const count = async (nowMs: number): Promise<number | undefined> => {
      const out = await probe.collect(nowMs);
      assert.ok(!isUnavailable(out));
      return out.sockets?.length;
    };
    assert.equal(await count(1000), 11);
    write(t.dir, '1/net/udp', readFileSync(join(t.dir, '1', 'net', 'udp'), 'utf8') + '  103: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40002 2 0000000000000000 0\n');
    assert.equal(await count(1000 + TABLE_REFRESH_MS - 1), 11, 'cached rows reported again');
    assert.equal(await count(1000 + TABLE_REFRESH_MS), 12);
  } finally {
    t.cleanup();
  }
});

const SOCKSTAT = (inuse: number, tw: number) => `sockets: used 40\nTCP: inuse ${inuse} orphan 0 tw ${tw} alloc 6 mem 64\nUDP: inuse 1 mem 0\n`;
const SNMP = (opens: number) =>
  'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n' +
  `Tcp: 1 200 120000 -1 ${opens} 7 0 0 4 ${opens * 1000} 5000 0 0 0 0\n`;

test('socket counters: in-use, TIME_WAIT and TCP open counters, not traffic; unreadable files give none', () => {
  const a = socketCounters(SOCKSTAT(6, 3), 'TCP6: inuse 2\nUDP6: inuse 0\n', SNMP(10));
  assert.equal(a, 'TCP.inuse=6 TCP.tw=3 UDP.inuse=1 TCP6.inuse=2 UDP6.inuse=0 ActiveOpens=10 PassiveOpens=7 AttemptFails=0 EstabResets=0 CurrEstab=4');
  // InSegs moved (traffic) but no socket came or went: same counters.
  assert.equal(socketCounters(SOCKSTAT(6, 3), 'TCP6: inuse 2\nUDP6: inuse 0\n', SNMP(10).replace(' 10000 ', ' 99999 ')), a);
  assert.notEqual(socketCounters(SOCKSTAT(7, 3), 'TCP6: inuse 2\nUDP6: inuse 0\n', SNMP(10)), a);
  assert.equal(socketCounters(undefined, undefined, SNMP(1)), undefined);
  assert.equal(socketCounters(SOCKSTAT(1, 0), undefined, undefined), undefined);
});

test('sockets: while the socket counters stay still the tables wait TABLE_MAX_AGE_MS; when they move, TABLE_REFRESH_MS', async () => {
  const t = copyFixture('proc-a');
  try {
    // Counters readable in both namespaces (through pid 1 and pid 2345).
    for (const pid of ['1', '2345']) {
      write(t.dir, `${pid}/net/sockstat`, SOCKSTAT(6, 0));
      write(t.dir, `${pid}/net/snmp`, SNMP(10));
    }
    const tracker = new SocketTracker(config({ procRoot: t.dir }));
    const pids = [1, 410, 1234, 1235, 2345, 2346].map((pid) => ({ pid, key: `${pid}:1` }));
    const rows = (nowMs: number): number => {
      const r = tracker.read(nowMs, pids, []);
      assert.ok(!isUnavailable(r));
      return r.sockets.length;
    };
    assert.equal(rows(1000), 11);
    assert.equal(tracker.tableReads, 1);
    write(t.dir, '1/net/udp', readFileSync(join(t.dir, '1', 'net', 'udp'), 'utf8') + '  103: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 40002 2 0000000000000000 0\n');
    // The new socket did not move the counters (a listener swapped for another would not): kept until the max age.
    assert.equal(rows(1000 + TABLE_REFRESH_MS), 11);
    assert.equal(rows(1000 + TABLE_MAX_AGE_MS - 1), 11);
    assert.equal(tracker.tableReads, 1);
    assert.equal(rows(1000 + TABLE_MAX_AGE_MS), 12);
    assert.equal(tracker.tableReads, 2);
    // A new connection in the container's namespace moves its counters: read at the next refresh.
    write(t.dir, '2345/net/snmp', SNMP(11));
    assert.equal(rows(1000 + TABLE_MAX_AGE_MS + TABLE_REFRESH_MS - 1), 12);
    assert.equal(tracker.tableReads, 2);
    rows(1000 + TABLE_MAX_AGE_MS + TABLE_REFRESH_MS);
    assert.equal(tracker.tableReads, 3);
    // Counters unreadable in one namespace: back to every TABLE_REFRESH_MS.
    rmSync(join(t.dir, '2345', 'net', 'snmp'));
    rows(1000 + TABLE_MAX_AGE_MS + 2 * TABLE_REFRESH_MS);
    assert.equal(tracker.tableReads, 4);
  } finally {
    t.cleanup();
  }
});

test('sockets: unowned rows that are neither listening nor ESTABLISHED are counted per protocol and state, not listed', () => {
  const t = copyFixture('proc-a');
  try {
    const row = (i: number, state: string, inode: number) =>
      `  ${200 + i}: 0400000A:${(40000 + i).toString(16).toUpperCase()} 0500000A:01BB ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
    const row6 = (i: number, state: string) =>
      `  ${300 + i}: 0000000000000000FFFF00000400000A:${(45000 + i).toString(16).toUpperCase()} 0000000000000000FFFF00000500000A:01BB ${state} 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1\n`;
    // More ownerless TIME_WAIT rows than the per-sample cap holds: they must not crowd out the
    // owned CLOSE_WAIT row (they used to fill the cap first, in table order).
    let tcp = readFileSync(join(t.dir, '1', 'net', 'tcp'), 'utf8');
    for (let i = 0; i < MAX_OTHER + 40; i++) tcp += row(i, '06', 0);
    tcp += row(1000, '08', 71001); // CLOSE_WAIT, no process holds it
    tcp += row(1001, '08', 71002); // CLOSE_WAIT held by 1234
    tcp += row(1002, '04', 0); // FIN_WAIT1, ownerless
    write(t.dir, '1/net/tcp', tcp);
    write(t.dir, '1/net/tcp6', readFileSync(join(t.dir, '1', 'net', 'tcp6'), 'utf8') + row6(0, '06') + row6(1, '06'));
    symlinkSync('socket:[71002]', join(t.dir, '1234', 'fd', '10'));
    const tracker = new SocketTracker(config({ procRoot: t.dir }));
    const pids = [1, 410, 1234, 1235, 2345, 2346].map((pid) => ({ pid, key: `${pid}:1` }));
    const r = tracker.read(1000, pids, pids);
    assert.ok(!isUnavailable(r));
    // Listed: what the fixture lists without its TIME_WAIT row (11), plus the owned CLOSE_WAIT.
    assert.equal(r.sockets.length, 12);
    assert.deepEqual(r.sockets.filter((s) => s.state === 'CLOSE_WAIT').map((s) => [s.inode, s.pid]), [[71002, 1234]]);
    assert.ok(r.sockets.every((s) => s.pid !== 0 || s.state === 'LISTEN' || s.state === 'UNCONN' || s.state === 'ESTABLISHED'));
    // Unowned listeners and established peers stay listed (the engine's host features read them).
    assert.ok(r.sockets.some((s) => s.pid === 0 && s.state === 'UNCONN'));
    assert.ok(r.sockets.some((s) => s.pid === 0 && s.state === 'ESTABLISHED'));
    assert.deepEqual(r.attribution.unownedOmitted, [
      { protocol: 'tcp', state: 'CLOSE_WAIT', count: 1 },
      { protocol: 'tcp', state: 'FIN_WAIT1', count: 1 },
      { protocol: 'tcp', state: 'TIME_WAIT', count: MAX_OTHER + 40 + 1 }, // + the fixture's own row
      { protocol: 'tcp6', state: 'TIME_WAIT', count: 2 },
    ]);
    // Nothing owned was cut, so the attribution stays complete.
    assert.equal(r.attribution.complete, true, r.attribution.reason ?? '');
  } finally {
    t.cleanup();
  }
});

test('omitUnowned: keeps owned rows of any state and every listener or established peer, in order', () => {
  const s = (protocol: string, state: string, pid: number) => ({ protocol, state, pid });
  const { kept, omitted } = omitUnowned([
    s('tcp', 'TIME_WAIT', 0), s('tcp', 'LISTEN', 0), s('udp', 'UNCONN', 0), s('tcp', 'TIME_WAIT', 7), s('tcp', 'ESTABLISHED', 0),
    s('tcp6', 'TIME_WAIT', 0), s('tcp', 'TIME_WAIT', 0), s('tcp', 'SYN_SENT', 0),
  ]);
  assert.deepEqual(kept, [s('tcp', 'LISTEN', 0), s('udp', 'UNCONN', 0), s('tcp', 'TIME_WAIT', 7), s('tcp', 'ESTABLISHED', 0)]);
  assert.deepEqual(omitted, [{ protocol: 'tcp', state: 'SYN_SENT', count: 1 }, { protocol: 'tcp', state: 'TIME_WAIT', count: 2 }, { protocol: 'tcp6', state: 'TIME_WAIT', count: 1 }]);
});
