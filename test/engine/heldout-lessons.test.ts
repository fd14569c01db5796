// Mechanisms added after the held-out set's first (frozen) scoring at rules 2026.12.1
// (bench/heldout-report.md): a miner sharing a saturated host is not flat, and a benchmark-mode
// miner has no network. Both are tested on constructed windows, and so is the benign side of each.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesPath, evaluate, loadRulesFile } from '../../collector/engine/index.js';
import { buildWindow, noise, type ProcSpec } from './build-window.js';
import { stressNg, xmrig } from './workloads.js';
import { show, has } from './verdict.js';

const rules = loadRulesFile(defaultRulesPath);
const MiB = 2 ** 20;



/** The other half of a saturated 2-core host: a build taking whatever the first process leaves. */
function rest(of: (i: number) => number, pid = 6100): ProcSpec {
  return { pid, name: 'make', cpu: (i) => Math.max(0, 200 - of(i)), rssBytes: 400 * MiB, rcharBps: () => 4e6, wcharBps: () => 2e6, signature: { cmdline: 'make -j2', exe: '/usr/bin/make', libs: ['libc.so.6'] } };
}

describe('contention: a process that never pauses on a saturated host', () => {
  // Swings between 60 % and 150 % of a core as the build's demand changes.
  const swing = (i: number): number => 105 + 45 * Math.sin(i / 3);

  it('a pool miner whose CPU varies only because a build shares the cores is pow-mining', () => {
    const miner = { ...xmrig({ name: 'python3' }), cpu: swing };
    const v = evaluate(buildWindow({ samples: 90, procs: [miner, rest(swing)] }), rules);
    assert.ok(has(v, 'beh.cpu-contended'), show(v));
    assert.ok(!has(v, 'beh.cpu-flat'), show(v));
    assert.ok(v.class === 'pow-mining' || (v.class === 'mixed' && v.parts.some((p) => p.class === 'pow-mining')), show(v));
  });

  it('the same swing on a host with spare CPU is not contended (it breathes on its own)', () => {
    const half = (i: number): number => swing(i) / 2;
    const miner = { ...xmrig({ name: 'python3' }), cpu: half };
    const v = evaluate(buildWindow({ samples: 90, procs: [miner] }), rules);
    assert.ok(!has(v, 'beh.cpu-contended'), show(v));
  });

  it('stress-ng renamed, sharing a saturated host, stays general where its sockets were read', () => {
    const workers = stressNg({ renamed: true }).map((p) => (p.pid === 8000 ? p : { ...p, cpu: (i: number) => swing(i) / 2 }));
    const v = evaluate(buildWindow({ samples: 90, procs: [...workers, rest(swing)] }), rules);
    assert.equal(v.class, 'general', show(v));
  });
});

describe('no network: an offline tool, unless its executable carries a miner', () => {
  const n = noise(7, 1);
  const bench = (markers: string[]): ProcSpec => ({
    pid: 7100,
    name: 'app',
    cpu: (i) => 96 + n(i),
    rssBytes: 11 * MiB,
    threads: 3,
    rcharBps: () => 100,
    wcharBps: () => 50,
    signature: { cmdline: 'app', exe: '/opt/app/app', libs: ['libc.so.6', 'libcurl.so.4', 'libjansson.so.4'], exeMarkers: markers },
  });

  it('a benchmark-mode miner (tiny memory, flat, no socket) whose binary has a stratum client is pow-mining', () => {
    const v = evaluate(buildWindow({ samples: 90, procs: [bench(['pow-mining:stratum-v1-client'])] }), rules);
    assert.equal(v.class, 'pow-mining', show(v));
    assert.ok(!v.evidence.some((e) => e.signal === 'beh.no-peers' && e.supports === 'pow-mining'), `no-peers is voided by the marker\n${show(v)}`);
  });

  it('the same behaviour without a marker (a CPU stressor, renamed) stays general: no-peers counts', () => {
    const v = evaluate(buildWindow({ samples: 90, procs: [bench([])] }), rules);
    assert.equal(v.class, 'general', show(v));
    assert.ok(has(v, 'beh.no-peers'), show(v));
  });

  it('a marker of another class does not void no-peers for pow-mining', () => {
    const v = evaluate(buildWindow({ samples: 90, procs: [bench(['chain-validation:evm-node'])] }), rules);
    assert.notEqual(v.class, 'pow-mining', show(v));
  });
});
