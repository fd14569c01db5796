// Binary-content markers: the shipped file validates, bad files fail with clear errors, the
// streaming matcher finds patterns anywhere (chunk seams included), benign binaries of this image
// carry no pow-mining marker, and the processes probe reports markers in the signature.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtures, tempDir } from '../helpers/env.js';
import { ExeHasher } from '../../agent/probes/exe-hash.js';
import { ExeMarkerSet, ExeMarkersError, loadExeMarkers, parseExeMarkers, type ExeMarker } from '../../agent/probes/exe-markers.js';
import { isUnavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe } from '../../agent/probes/processes.js';
import { config, copyFixture } from './tree.js';

const dir = join(fixtures, 'exe-markers');
const shipped = loadExeMarkers();

test('exe markers: the shipped file validates, every marker cites a source, pow markers need two strings', () => {
  assert.ok(shipped.length >= 5);
  for (const m of shipped) {
    assert.ok(m.source.length > 20, m.id);
    if (m.id.startsWith('pow-mining:')) assert.ok(m.minMatches >= 2, m.id);
  }
});

test('exe markers: invalid files are rejected with every problem named', () => {
  const bad = (yaml: string, ...expected: RegExp[]) => {
    assert.throws(
      () => parseExeMarkers(yaml, 'bad.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ExeMarkersError);
        assert.match(err.message, /^invalid exe markers in bad\.yaml:/);
        for (const re of expected) assert.match(err.message, re);
        return true;
      },
    );
  };
  const one = (m: string) => `version: 1\nmarkers:\n  - ${m}\n`;
  bad(one('{id: "pow-mining:x", patterns: ["stratum+tcp://"], minMatches: 1, source: "s"}'), /marker pow-mining:x: a pow-mining marker needs minMatches >= 2/);
  bad(one('{id: "pow-mining:x", patterns: ["abc", "stratum+tcp://"], minMatches: 2, source: "s"}'), /pattern "abc" is 3 bytes/);
  bad(one('{id: "pow-mining:x", patterns: ["xmrig.com", "donate.xmrig.com"], minMatches: 2, source: "s"}'), /"xmrig.com" is part of "donate.xmrig.com"/);
  bad(one('{id: "pow-mining:x", patterns: ["mining.submit", "mining.notify"], minMatches: 3, source: "s"}'), /minMatches 3 exceeds its 2 pattern/);
  bad(one('{id: "crypto:x", patterns: ["mining.submit"], minMatches: 1, source: "s"}'), /markers\.0\.id: expected "<class>:<name>"/);
  bad(one('{id: "chain-validation:x", patterns: ["getpeerinfo"], minMatches: 1, source: ""}'), /names its source/);
  bad(one('{id: "chain-validation:x", patterns: ["getpeerinfo"], minMatches: 1, source: "s", weight: 3}'), /weight/);
  bad(
    `version: 1\nmarkers:\n  - {id: "chain-validation:x", patterns: ["getpeerinfo"], minMatches: 1, source: "s"}\n  - {id: "chain-validation:x", patterns: ["getblockchaininfo"], minMatches: 1, source: "s"}\n`,
    /marker chain-validation:x: duplicate id/,
  );
  bad('version: 1\nmarkers: [\n', /YAML/);
  bad('version: 2\nmarkers: []\n', /version/);
});

async function markersOf(path: string, set = new ExeMarkerSet(shipped)): Promise<string[]> {
  const facts = await new ExeHasher(undefined, set).inspect(path);
  assert.match(facts.sha256, /^[0-9a-f]{64}$/, `${path} was read`);
  return facts.markers;
}

test('exe markers: fixture executables match only with enough distinct strings', async () => {
  assert.deepEqual(await markersOf(join(dir, 'pool-client')), ['pow-mining:stratum-v1-client']);
  assert.deepEqual(await markersOf(join(dir, 'one-scheme')), [], 'one pool string alone is not a marker');
  assert.deepEqual(await markersOf(join(dir, 'chain-node')), ['chain-validation:bitcoin-family-node']);
});

test('exe markers: a pattern across a 1 MiB read boundary is found; bytes past the scan cap are not searched', async () => {
  const t = tempDir();
  try {
    const chunk = 1024 * 1024;
    const file = join(t.dir, 'seam');
    const buf = Buffer.alloc(2 * chunk + 100, 0x41);
    buf.write('mining.subscribe', chunk - 7); // straddles the first 1 MiB read
    buf.write('mining.notify', 2 * chunk + 10);
    writeFileSync(file, buf);
    assert.deepEqual(await markersOf(file), ['pow-mining:stratum-v1-client']);
    assert.deepEqual(await markersOf(file, new ExeMarkerSet(shipped, 2 * chunk)), [], 'second string beyond the cap');
    // A seam shorter than the longest pattern: the file read in tiny pieces still matches.
    const set = new ExeMarkerSet(shipped);
    const scan = set.scanner();
    const text = Buffer.from('..mining.submit..mining.notify..');
    for (let i = 0; i < text.length; i += 3) scan.update(text.subarray(i, i + 3));
    assert.deepEqual(scan.result(), ['pow-mining:stratum-v1-client']);
  } finally {
    t.cleanup();
  }
});

test('exe markers: benign binaries of this image carry no pow-mining marker', async () => {
  const candidates = ['/bin/ls', process.execPath, '/usr/bin/python3', '/usr/bin/gcc', '/usr/bin/perl', '/usr/bin/bash', '/usr/bin/openssl', '/usr/bin/curl', '/usr/bin/stress-ng'];
  const present = candidates.filter((p) => existsSync(p));
  assert.ok(present.length >= 4, `benign binaries found: ${present.join(', ')}`);
  for (const p of present) {
    const found = await markersOf(p);
    assert.deepEqual(found.filter((id) => id.startsWith('pow-mining:')), [], `${p}: ${found.join(', ')}`);
  }
});

test('exe markers: the processes probe puts them in the signature (surviving a rename)', async () => {
  const t = copyFixture('proc-a');
  try {
    // pid 2345's exe link points at _exe/xmrig; give that file a pool client's strings.
    writeFileSync(join(t.dir, '_exe', 'xmrig'), readFileSync(join(dir, 'pool-client')));
    const probe = createProcessesProbe(config({ procRoot: t.dir }), { socketRefreshMs: 0 });
    await probe.collect(1000);
    const out = await probe.collect(2000);
    assert.ok(!isUnavailable(out));
    const byPid = (pid: number) => out.processes!.find((p) => p.pid === pid)!.signature!;
    assert.deepEqual(byPid(2345).exeMarkers, ['pow-mining:stratum-v1-client']);
    assert.deepEqual(byPid(1234).exeMarkers, []);
  } finally {
    t.cleanup();
  }
});

test('exe markers: the marker set compiles each distinct pattern once', () => {
  const markers: ExeMarker[] = [
    { id: 'pow-mining:a', patterns: ['mining.submit', 'mining.notify'], minMatches: 2, source: 's' },
    { id: 'pow-mining:b', patterns: ['mining.notify', 'stratum+tcp://'], minMatches: 2, source: 's' },
  ];
  const set = new ExeMarkerSet(markers);
  assert.equal(set.patterns.length, 3);
  assert.deepEqual(set.matches(new Set([0, 1])), ['pow-mining:a']);
  assert.deepEqual(set.matches(new Set([0, 1, 2])), ['pow-mining:a', 'pow-mining:b']);
});

test('exe hasher: concurrent reads of different files (one at a time, one buffer) all come out right', async () => {
  const t = tempDir();
  try {
    const { createHash } = await import('node:crypto');
    const files = [0, 1, 2, 3].map((i) => {
      const file = join(t.dir, `f${i}`);
      const body = Buffer.alloc(1024 * 1024 + 77 * i, 0x30 + i);
      if (i === 2) body.write('mining.subscribe mining.notify', 1024 * 1024 - 3);
      writeFileSync(file, body);
      return { file, sha: createHash('sha256').update(body).digest('hex') };
    });
    const hasher = new ExeHasher();
    const got = await Promise.all(files.map((f) => hasher.inspect(f.file)));
    assert.deepEqual(got.map((g) => g.sha256), files.map((f) => f.sha));
    assert.deepEqual(got.map((g) => g.markers), [[], [], ['pow-mining:stratum-v1-client'], []]);
    assert.equal(hasher.computed, 4);
  } finally {
    t.cleanup();
  }
});
