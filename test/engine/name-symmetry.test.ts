// Issue 8: names are symmetric (identity is capped both ways, behaviour carries every verdict),
// hashing is told from other CPU burners by what it does, and "no network" counts only where the
// agent knows it. Each window is built as the agent would send it (build-window.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesPath, evaluate, loadRulesFile, type Verdict } from '../../collector/engine/index.js';
import { stabilize, type StabilityState } from '../../collector/engine/stabilize.js';
import { buildWindow, noise, spikes, type ProcSpec } from './build-window.js';
import { stressNg, torchTrainingCpu, xmrig } from './workloads.js';
import { run, show, has } from './verdict.js';

const rules = loadRulesFile(defaultRulesPath);
const MiB = 2 ** 20;
const GiB = 2 ** 30;




/** A CPU miner with no pool connection visible (benchmark mode / pool hidden), 2.3 GiB RandomX dataset. */
function hasher(over: Partial<ProcSpec> = {}): ProcSpec {
  const n = noise(5, 1.2);
  return { pid: 4300, name: 'worker', cpu: (i) => 197 + n(i), rssBytes: 2300 * MiB, threads: 3, rcharBps: () => 100, wcharBps: () => 50, signature: { cmdline: 'worker', exe: '/opt/app/worker', libs: ['libc.so.6', 'libm.so.6'] }, ...over };
}

describe('names are symmetric: identity can tip a verdict, never make or unmake one', () => {
  it('stress-ng renamed python3 on an old agent (network unknown) stays general', () => {
    const v = run({ samples: 60, attribution: 'unknown', procs: stressNg({ renamed: true }) });
    assert.equal(v.class, 'general', show(v));
    assert.ok(!has(v, 'beh.no-peers'), show(v));
    assert.ok(v.scores['pow-mining'] < rules.scoring.minProcessScore, show(v));
  });

  it('a miner renamed ffmpeg (no librandomx, benign-tool name) is still pow-mining', () => {
    const v = run({ samples: 60, procs: [{ ...xmrig({ name: 'ffmpeg', cmdline: 'ffmpeg -i input.mp4 -c:v libx264 out.mp4' }), signature: { cmdline: 'ffmpeg -i input.mp4 -c:v libx264 out.mp4', exe: '/usr/bin/ffmpeg', libs: ['libc.so.6', 'libavcodec.so.59', 'libx264.so.164'] } }] });
    assert.equal(v.class, 'pow-mining', show(v));
    assert.ok(has(v, 'sig.benign-cpu-tools'), `the benign name is still listed as counter-evidence\n${show(v)}`);
  });

  it('a miner renamed ffmpeg with no network visible (old agent) is still pow-mining', () => {
    const v = run({ samples: 60, attribution: 'unknown', procs: [hasher({ name: 'ffmpeg', signature: { cmdline: 'ffmpeg -i a.mp4 b.mp4', exe: '/usr/bin/ffmpeg', libs: ['libc.so.6', 'libavcodec.so.59'] } })] });
    assert.equal(v.class, 'pow-mining', show(v));
  });

  it('a pool miner renamed python3 that maps ML libraries and carries torchrun env is pow-mining, not AI', () => {
    const libs = ['libc.so.6', 'libpython3.11.so.1.0', 'libtorch_cpu.so', 'libc10.so', 'libtorch_python.so', 'libtorch.so', 'libgomp-a34b3233.so.1'];
    const env = ['PATH', 'HOME', 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'OMP_NUM_THREADS'];
    const m = { ...xmrig({ name: 'python3' }), signature: { cmdline: 'python3 train.py --epochs 10', exe: '/usr/bin/python3.11', libs, envNames: env } };
    const v = run({ samples: 90, procs: [m] });
    assert.equal(v.class, 'pow-mining', show(v));
    assert.ok(v.scores['ai-training'] < rules.scoring.minProcessScore, show(v));
    // The same disguise without a visible pool (old agent): behaviour still outweighs the libraries.
    const quiet = run({ samples: 90, attribution: 'unknown', procs: [hasher({ name: 'python3', signature: m.signature })] });
    assert.equal(quiet.class, 'pow-mining', show(quiet));
  });

  it('identity is clamped per class: piling up AI libraries and env does not push pow-mining below -identityCap', () => {
    const v = run({ samples: 60, procs: [{ ...xmrig({ name: 'python3' }), signature: { cmdline: 'python3', exe: '/usr/bin/python3', libs: ['libtorch_cpu.so', 'libcudnn.so.9', 'libnccl.so.2', 'libonnxruntime.so'], envNames: ['RANK', 'WORLD_SIZE', 'NCCL_DEBUG'] } }] });
    const identity = v.evidence.filter((e) => e.process?.pid === 4242 && e.supports === 'pow-mining' && e.signal.startsWith('sig.')).reduce((s, e) => s + e.weight, 0);
    assert.ok(identity < -rules.scoring.identityCap, `raw identity ${identity} is below the cap, so the clamp matters`);
    assert.equal(v.class, 'pow-mining', show(v));
  });

  it('a name alone never makes a class: xmrig that does not hash is below the floor', () => {
    const v = run({ samples: 60, procs: [{ pid: 77, name: 'xmrig', cpu: () => 20, readBps: () => 5e6, signature: { cmdline: './xmrig -o stratum+tcp://pool.example.org:3333', exe: '/tmp/xmrig', libs: ['libc.so.6'] } }] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(v.scores['pow-mining'] <= rules.scoring.belowFloorCap, show(v));
  });
});

describe('hashing versus servers and other CPU burners', () => {
  /** A database / key-value server under its benchmark: flat busy CPU, send/recv (no rchar), many clients. */
  function server(extended: boolean): ProcSpec {
    const n = noise(33, 1);
    return {
      pid: 6100,
      name: 'app',
      cpu: (i) => 150 + n(i),
      rssBytes: 1.5 * GiB,
      threads: 8,
      listen: [6379],
      conns: () => Array.from({ length: 50 }, (_, k) => ({ remote: '127.0.0.1', remotePort: 50000 + k, local: '127.0.0.1', localPort: 6379 })),
      ...(extended ? { ext: { voluntaryCtxswPerSec: 40000, nonvoluntaryCtxswPerSec: 300, busyThreads: 2 } } : {}),
      signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] },
    };
  }

  it('a busy server with many inbound client connections is never pow-mining (old agent)', () => {
    const v = run({ samples: 60, attribution: 'unknown', procs: [server(false)] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(has(v, 'beh.many-clients'), show(v));
  });

  it('... nor with the extended counters, where it also blocks thousands of times per CPU-second', () => {
    const v = run({ samples: 60, procs: [server(true)] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(has(v, 'beh.blocks-often'), show(v));
  });

  it('a benchmark client with two long-lived connections to a busy local database is no pool client, and the backends are servers', () => {
    const n = noise(35, 1);
    // pgbench -c 2 over TCP: two loopback connections to 5432, send/recv (no rchar), flat CPU.
    const client: ProcSpec = { pid: 6200, name: 'app', cpu: (i) => 38 + n(i), rssBytes: 8 * MiB, conns: () => [{ remote: '127.0.0.1', remotePort: 5432, local: '127.0.0.1', localPort: 41000 }, { remote: '127.0.0.1', remotePort: 5432, local: '127.0.0.1', localPort: 41001 }], signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } };
    const postmaster: ProcSpec = { pid: 6300, name: 'app', cpu: () => 0.5, listen: [5432], signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } };
    // Each backend serves the connection its postmaster accepted: local 5432, no listener of its own.
    const backend = (pid: number, port: number): ProcSpec => ({ pid, name: 'app', cpu: (i) => 30 + n(i + pid), rssBytes: 280 * MiB, conns: () => [{ remote: '127.0.0.1', remotePort: port, local: '127.0.0.1', localPort: 5432 }], signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } });
    const v = run({ samples: 60, attribution: 'unknown', procs: [client, postmaster, backend(6301, 41000), backend(6302, 41001)] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(!has(v, 'beh.few-long-lived-peers'), show(v));
    // A read-only backend moves nothing through rchar and keeps shared buffers resident, like a hash dataset: serving its client is what rules mining out.
    assert.ok(has(v, 'beh.many-clients', 6301), show(v));
  });

  it('a miner talking to an idle stratum endpoint on loopback keeps its pool shape', () => {
    const stratum: ProcSpec = { pid: 6400, name: 'app', cpu: () => 0.3, listen: [3333], signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } };
    const m = xmrig({ name: 'app', pool: { remote: '127.0.0.1', remotePort: 3333, local: '127.0.0.1', localPort: 42000 } });
    const v = run({ samples: 60, attribution: 'unknown', procs: [stratum, { ...m, signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } }] });
    assert.ok(has(v, 'beh.few-long-lived-peers', 4242), show(v));
    assert.equal(v.class, 'pow-mining', show(v));
  });

  it('a memory stressor (GiB resident, flat, no I/O, no network known) that keeps faulting is not pow-mining', () => {
    const n = noise(44, 0.8);
    const vm: ProcSpec = { pid: 7100, name: 'app', cpu: (i) => 99 + n(i), rssBytes: 2 * GiB, ext: { minfltPerSec: 250000, voluntaryCtxswPerSec: 1 }, signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } };
    const v = run({ samples: 60, attribution: 'unknown', procs: [vm] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(has(v, 'beh.faults-often'), show(v));
  });

  it('a miner faulting its dataset in for its first 15 s is not "faulting often"', () => {
    const m = hasher({ ext: { voluntaryCtxswPerSec: 4 } });
    const w = buildWindow({ samples: 60, attribution: 'unknown', procs: [m] });
    w.samples.forEach((s, i) => {
      for (const p of s.processes ?? []) if (p.pid === 4300) p.minfltPerSec = i < 15 ? 35000 : 2;
    });
    const v = evaluate(w, rules);
    assert.ok(!has(v, 'beh.faults-often'), show(v));
    assert.equal(v.class, 'pow-mining', show(v));
  });

  it('extended counters unavailable (old agent) are never read as 0: no blocks-often / faults-often evidence either way', () => {
    const v = run({ samples: 60, attribution: 'unknown', procs: [hasher()] });
    assert.ok(!has(v, 'beh.blocks-often') && !has(v, 'beh.faults-often'), show(v));
    assert.equal(v.class, 'pow-mining', show(v));
    assert.ok(has(v, 'beh.hash-memory') && has(v, 'beh.low-io'), show(v));
  });

  it('RandomX in huge pages (small RSS, GiB of HugetlbPages) still shows a hash-sized working set', () => {
    const v = run({ samples: 60, attribution: 'unknown', procs: [hasher({ rssBytes: 40 * MiB, ext: { hugetlbBytes: 2.3 * GiB, voluntaryCtxswPerSec: 5 } })] });
    assert.ok(has(v, 'beh.hash-memory'), show(v));
    assert.equal(v.class, 'pow-mining', show(v));
  });

  it('an mmapped model or data file in RSS is not a hash dataset: with the extended counters only anonymous memory counts', () => {
    const n = noise(12, 1);
    const llm: ProcSpec = { pid: 7300, name: 'app', cpu: (i) => 196 + n(i), rssBytes: 4 * GiB, ext: { rssAnonBytes: 200 * MiB, voluntaryCtxswPerSec: 3 }, signature: { cmdline: 'app', exe: '/usr/bin/app', libs: ['libc.so.6'] } };
    const v = run({ samples: 60, attribution: 'unknown', procs: [llm] });
    assert.ok(!has(v, 'beh.hash-memory'), show(v));
    assert.notEqual(v.class, 'pow-mining', show(v));
  });

  it('a single-thread sha256d miner in benchmark mode: general by behaviour alone, pow-mining with an exe marker (the documented limit)', () => {
    const n = noise(9, 0.5);
    const bench = (markers: string[]): ProcSpec => ({ pid: 7200, name: 'app', cpu: (i) => 99.5 + n(i), rssBytes: 6 * MiB, ext: { voluntaryCtxswPerSec: 1, busyThreads: 1 }, signature: { cmdline: 'app --benchmark', exe: '/opt/app', libs: ['libc.so.6'], exeMarkers: markers } });
    const plain = run({ samples: 60, attribution: 'unknown', procs: [bench([])] });
    assert.equal(plain.class, 'general', show(plain));
    const marked = run({ samples: 60, attribution: 'unknown', procs: [bench(['pow-mining:sha256d-midstate'])] });
    assert.equal(marked.class, 'pow-mining', show(marked));
    assert.ok(has(marked, 'sig.miner-exe-markers'), show(marked));
  });
});

describe('socket attribution is explicit', () => {
  it('no-peers counts only where the agent read the sockets; otherwise the evidence says network unknown', () => {
    const known = run({ samples: 60, procs: stressNg({ renamed: true }) });
    assert.ok(has(known, 'beh.no-peers', 8001), show(known));
    assert.ok(!known.unavailable.includes('sockets.attribution'), show(known));
    const unknown = run({ samples: 60, attribution: 'unknown', procs: stressNg({ renamed: true }) });
    assert.ok(!has(unknown, 'beh.no-peers'), show(unknown));
    assert.ok(has(unknown, 'net.unknown', 8001), show(unknown));
    assert.ok(unknown.unavailable.includes('sockets.attribution'), show(unknown));
  });

  it('a process whose fds could not be read gets no no-peers even where others were read', () => {
    const procs = stressNg({ renamed: true }).map((p) => (p.pid === 8001 ? { ...p, socketView: 'unreadable' as const } : p));
    const v = evaluate({ ...buildWindow({ samples: 60, attribution: 'unknown', procs }) }, rules);
    assert.ok(!has(v, 'beh.no-peers', 8001), show(v));
    const read = procs.map((p) => ({ ...p, socketView: 'read' as const }));
    assert.ok(has(evaluate(buildWindow({ samples: 60, attribution: 'unknown', procs: read }), rules), 'beh.no-peers', 8001));
  });
});

describe('AI behaviour without AI identity', () => {
  /** Training in a framework that maps no native ML library: sustained compute, data reads, a checkpoint every 10 s. */
  function jsTraining(checkpoints: boolean): ProcSpec {
    const n = noise(61, 4);
    return {
      pid: 5300,
      name: 'node',
      cpu: (i) => 185 + n(i),
      rssBytes: 900 * MiB,
      threads: 4,
      readBps: () => 2 * MiB,
      writeBps: checkpoints ? spikes(10, 1, 0, 40 * MiB, 4) : () => 0,
      signature: { cmdline: 'node app.js', exe: '/usr/bin/node', libs: ['libc.so.6', 'libstdc++.so.6'] },
    };
  }

  it('reaches ai-training when the behaviour is clearly there (sustained compute + periodic checkpoints + data reads)', () => {
    const v = run({ samples: 90, procs: [jsTraining(true)] });
    assert.equal(v.class, 'ai-training', show(v));
    assert.ok(has(v, 'beh.periodic-writes'), show(v));
  });

  it('stays general with sustained compute alone (a build, an encoder look the same)', () => {
    const v = run({ samples: 90, procs: [jsTraining(false)] });
    assert.equal(v.class, 'general', show(v));
  });

  it('mapped AI libraries alone do not make an idle-ish python process ai-training', () => {
    const t = torchTrainingCpu();
    const v = run({ samples: 60, procs: [{ ...t, cpu: () => 12, writeBps: () => 0, readBps: () => 0 }] });
    assert.notEqual(v.class, 'ai-training', show(v));
  });
});

describe('time to a published verdict from a cold start', () => {
  const p = rules.stability;
  const raw = (cls: Verdict['class']): Verdict => ({ ...run({ samples: 1, procs: [] }), class: cls });

  it('the first specialised class after a placeholder start is published after coldConfirmMs, a later change after confirmMs', () => {
    let st: StabilityState | null = null;
    let t = 0;
    const step = (cls: Verdict['class']): Verdict => {
      const r = stabilize(st, raw(cls), t, p);
      st = r.state;
      t += 5000;
      return r.verdict;
    };
    assert.equal(step('general').class, 'general');
    assert.equal(step('general').class, 'general');
    assert.equal(step('pow-mining').class, 'general');
    // coldConfirmMs (5 s) later: published.
    assert.ok(p.coldConfirmMs <= 5000 && p.coldConfirmMs < p.confirmMs);
    assert.equal(step('pow-mining').class, 'pow-mining');
    for (let k = 0; k < 6; k++) assert.equal(step('pow-mining').class, 'pow-mining');
    // Established now: a change needs the full confirmMs.
    assert.equal(step('general').class, 'pow-mining');
    assert.equal(step('general').class, 'pow-mining');
    assert.equal(step('general').class, 'general');
  });

  it('one stray raw verdict from a cold start is not published', () => {
    let st: StabilityState | null = null;
    const seq: Verdict['class'][] = ['general', 'pow-mining', 'general', 'general', 'pow-mining', 'general'];
    const published = seq.map((cls, i) => {
      const r = stabilize(st, raw(cls), i * 5000, p);
      st = r.state;
      return r.verdict.class;
    });
    assert.ok(!published.includes('pow-mining'), published.join(' '));
  });

  it('the cold-start rule ends after coldMs', () => {
    let st: StabilityState | null = stabilize(null, raw('general'), 0, p).state;
    const late = p.coldMs + 1000;
    st = stabilize(st, raw('pow-mining'), late, p).state;
    const r = stabilize(st, raw('pow-mining'), late + p.coldConfirmMs, p);
    assert.equal(r.verdict.class, 'general');
  });
});
