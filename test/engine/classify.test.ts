// Classification of constructed windows that mimic each workload class.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRulesPath, loadRulesFile, type Verdict } from '../../collector/engine/index.js';
import { noise, type HostSpec } from './build-window.js';
import { ffmpeg, gccBuild, geth, GPU_UUID, gpuMiner, lodestar, lotusWorker, stressNg, torchTrainingCpu, torchTrainingGpu, vllmServer, xmrig } from './workloads.js';
import { run, show } from './verdict.js';

const rules = loadRulesFile(defaultRulesPath);
const GiB = 2 ** 30;



function expectClass(v: Verdict, cls: Verdict['class'], minConfidence = 0.5): void {
  assert.equal(v.class, cls, show(v));
  assert.ok(v.confidence >= minConfidence, `confidence ${v.confidence} < ${minConfidence}\n${show(v)}`);
  assert.ok(v.confidence <= 1);
}

describe('classify: AI', () => {
  it('PyTorch CPU training (libtorch_cpu, RANK env, step-periodic CPU) -> ai-training', () => {
    const v = run({ samples: 90, procs: [torchTrainingCpu()] });
    expectClass(v, 'ai-training');
    assert.ok(v.evidence.some((e) => e.signal === 'sig.ai-libs-cpu' && e.supports === 'ai-training'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.step-periodic'), show(v));
    assert.ok(v.scores['ai-training'] > v.scores['ai-inference'], show(v));
    assert.ok(v.scores['pow-mining'] < 0.2, show(v));
  });

  it('vLLM server with clients and a bursty GPU -> ai-inference', () => {
    const { proc, gpuUtil } = vllmServer();
    const v = run({
      samples: 90,
      procs: [proc],
      gpus: [{ uuid: 'GPU-7f3c2a10-0000-0000-0000-000000000001', util: gpuUtil, memUsedBytes: 73 * GiB, memTotalBytes: 80 * GiB, powerWatts: (i) => 90 + 4 * gpuUtil(i) }],
      rapl: () => 85,
    });
    expectClass(v, 'ai-inference');
    assert.ok(v.evidence.some((e) => e.signal === 'beh.serves-clients'), show(v));
    assert.ok(!v.unavailable.includes('gpu'), show(v));
  });
});

describe('classify: PoW mining', () => {
  it('xmrig flat at 100% with huge pages and one pool connection -> pow-mining', () => {
    const v = run({ samples: 60, procs: [xmrig()], hugepages: { total: 1280, free: 112 } });
    expectClass(v, 'pow-mining', 0.7);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.cpu-flat' && e.process?.name === 'xmrig'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.hugepages'), show(v));
  });

  it('the same miner renamed python3, config file instead of flags, no AI libs -> still pow-mining', () => {
    const miner = xmrig({ name: 'python3', cmdline: '/usr/local/bin/python3', pool: { remote: '51.15.65.182', remotePort: 3333 } });
    const v = run({ samples: 60, procs: [miner], hugepages: { total: 1280, free: 112 } });
    expectClass(v, 'pow-mining', 0.6);
    // Decided by behaviour, not by names: no name or cmdline signature matched.
    assert.ok(!v.evidence.some((e) => e.signal.startsWith('sig.') && e.supports === 'pow-mining' && e.weight > 0), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'port.stratum'), show(v));
  });

  it('miner throttled to ~30% of the host, disguised name, no huge pages -> still pow-mining', () => {
    const miner = xmrig({ name: 'kworker-helper', cpu: 60, cmdline: '/var/tmp/kworker-helper', pool: { remote: '51.15.65.182', remotePort: 14444 } });
    const v = run({ samples: 60, procs: [miner] });
    expectClass(v, 'pow-mining', 0.5);
  });

  it('a process named xmrig that is idle is not called a miner with confidence', () => {
    const parked = { ...xmrig({ cmdline: './xmrig' }), cpu: () => 0.1, conns: () => [] };
    const v = run({ samples: 60, procs: [parked] });
    assert.ok(v.class !== 'pow-mining' || v.confidence < 0.4, show(v));
    assert.equal(v.class, 'idle', show(v));
    // ... but the person reading the verdict sees it.
    assert.ok(v.evidence.some((e) => e.signal === 'sig.miner-names'), show(v));
    assert.ok(v.confidence < 0.95, show(v));
  });
});

describe('classify: GPU', () => {
  const gpu = (g: { util: (i: number) => number; pcieRxBps: (i: number) => number; memUtil?: (i: number) => number }, memUsedBytes: number): HostSpec['gpus'] => [
    { uuid: GPU_UUID, util: g.util, pcieRxBps: g.pcieRxBps, memUtil: g.memUtil, memUsedBytes, memTotalBytes: 80 * GiB, powerWatts: (i) => 100 + 2.5 * g.util(i) },
  ];

  it('GPU training (CUDA libs, torch.distributed, step-periodic GPU) -> ai-training', () => {
    const t = torchTrainingGpu();
    const v = run({ samples: 120, cores: 16, procs: [t.proc], gpus: gpu(t.gpu, 75 * GiB), rapl: () => 180 });
    expectClass(v, 'ai-training', 0.7);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.gpu-step-periodic'), show(v));
  });

  it('GPU miner renamed, CPU nearly idle, GPU pinned flat -> pow-mining', () => {
    const m = gpuMiner({ name: 'nvidia-persistenced2' });
    const v = run({ samples: 60, cores: 16, procs: [m.proc], gpus: gpu(m.gpu, 5.5 * GiB), rapl: () => 70 });
    expectClass(v, 'pow-mining', 0.6);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.gpu-flat-saturated'), show(v));
  });

  it('GPU miner with its pool on the command line -> pow-mining, confidently', () => {
    const m = gpuMiner();
    const v = run({ samples: 60, cores: 16, procs: [m.proc], gpus: gpu(m.gpu, 5.5 * GiB), rapl: () => 70 });
    expectClass(v, 'pow-mining', 0.8);
  });
});

describe('classify: mixed', () => {
  it('miner beside training -> mixed with both parts', () => {
    const v = run({
      samples: 90,
      cores: 4,
      procs: [torchTrainingCpu({ cores: 2 }), xmrig({ cpu: 196 })],
      hugepages: { total: 1280, free: 112 },
    });
    expectClass(v, 'mixed', 0.4);
    const classes = v.parts.map((p) => p.class);
    assert.ok(classes.includes('pow-mining') && classes.includes('ai-training'), show(v));
    const miner = v.parts.find((p) => p.class === 'pow-mining');
    assert.ok(miner && miner.share > 0.3 && miner.processes.some((p) => p.pid === 4242), show(v));
  });
});

describe('classify: chain validation', () => {
  it('geth + lodestar (as node) with many peers and 12 s slots -> chain-validation', () => {
    const v = run({ samples: 120, cores: 4, procs: [geth(), lodestar()] });
    expectClass(v, 'chain-validation', 0.6);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.chain-slot-period'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'sig.chain-client-cmdline' && e.process?.name === 'node'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.many-peers'), show(v));
    // Lodestar's P2P port 9000 is also a stratum port: it must not count for mining here.
    assert.ok(!v.evidence.some((e) => e.signal === 'port.stratum'), show(v));
  });
});

describe('classify: storage proving', () => {
  it('lotus-worker sealing (flat SHA-256 CPU, heavy writes, periodic reads) -> storage-proving', () => {
    const v = run({ samples: 60, procs: [lotusWorker()] });
    expectClass(v, 'storage-proving', 0.6);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.heavy-writes'), show(v));
    assert.ok(v.evidence.some((e) => e.signal === 'beh.periodic-reads'), show(v));
  });

  it('the same prover without names or env still leans storage-proving, not pow-mining', () => {
    const v = run({ samples: 60, procs: [lotusWorker({ identity: false })] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(v.scores['storage-proving'] > v.scores['pow-mining'], show(v));
  });
});

describe('classify: general', () => {
  it('gcc build -> general', () => {
    const v = run({ samples: 60, procs: gccBuild(60) });
    expectClass(v, 'general', 0.5);
  });

  it('ffmpeg transcode -> general', () => {
    const v = run({ samples: 60, procs: [ffmpeg()] });
    expectClass(v, 'general', 0.5);
    assert.ok(v.scores['pow-mining'] < 0.3, show(v));
  });

  it('stress-ng --cpu (flat 100% like hashing) -> general, not pow-mining', () => {
    const v = run({ samples: 60, procs: stressNg() });
    expectClass(v, 'general', 0.5);
    assert.ok(v.evidence.some((e) => e.signal === 'beh.no-peers'), show(v));
  });

  it('stress-ng renamed python3 -> still not pow-mining (no peers at all)', () => {
    const v = run({ samples: 60, procs: stressNg({ renamed: true }) });
    assert.equal(v.class, 'general', show(v));
  });
});

describe('classify: idle', () => {
  it('quiet host -> idle', () => {
    const n = noise(5, 0.4);
    const v = run({ samples: 60, procs: [{ pid: 1, name: 'systemd', cpu: (i) => 0.5 + n(i) }] });
    expectClass(v, 'idle', 0.7);
    assert.ok(v.scores.idle > 0.7, show(v));
  });

  it('a quiet host with a 1-core miner on 64 cores is mining, not idle', () => {
    const v = run({ samples: 60, cores: 64, procs: [xmrig({ cpu: 100 })], hugepages: { total: 1280, free: 112 } });
    assert.equal(v.class, 'pow-mining', show(v));
  });
});

describe('classify: names and ports never decide alone', () => {
  it('a busy, jittery process named xmrig with no other sign is not a miner', () => {
    const n = noise(3, 40);
    const v = run({ samples: 60, procs: [{ pid: 77, name: 'xmrig', cpu: (i) => 90 + n(i), readBps: () => 5e6, signature: { cmdline: './xmrig', exe: '/home/u/xmrig', libs: ['libc.so.6'] } }] });
    assert.notEqual(v.class, 'pow-mining', show(v));
    assert.ok(v.scores['pow-mining'] <= rules.scoring.belowFloorCap, show(v));
  });

  it('a process named geth with no peers and no slot rhythm is not a validator', () => {
    const n = noise(4, 30);
    const v = run({ samples: 60, procs: [{ pid: 78, name: 'geth', cpu: (i) => 80 + n(i), readBps: () => 5e6, signature: { cmdline: 'geth', exe: '/usr/bin/geth' } }] });
    assert.notEqual(v.class, 'chain-validation', show(v));
  });

  it('a Node.js dev server on :3333 talking to a service on :4444 is not a miner', () => {
    const n = noise(6, 30);
    const v = run({
      samples: 60,
      procs: [
        {
          pid: 79,
          name: 'node',
          cpu: (i) => Math.max(0, 40 + n(i)),
          listen: [3333],
          conns: (i) => [{ remote: '10.0.0.30', remotePort: 4444 }, ...(i % 3 === 0 ? [{ remote: '10.0.0.31', remotePort: 50000 + i, localPort: 3333 }] : [])],
          rcharBps: () => 2e5,
          signature: { cmdline: 'node server.js --port 3333', exe: '/usr/bin/node', libs: ['libc.so.6', 'libnode.so.115'] },
        },
      ],
    });
    assert.equal(v.class, 'general', show(v));
    assert.ok(!v.evidence.some((e) => e.signal === 'port.stratum'), show(v));
  });
});

describe('classify: verdict shape', () => {
  it('is deterministic and carries window, rules version and readable evidence', () => {
    const spec: HostSpec = { samples: 60, procs: [xmrig()], hugepages: { total: 1280, free: 112 } };
    const a = run(spec);
    const b = run(spec);
    assert.deepEqual(a, b);
    assert.equal(a.rulesVersion, rules.version);
    assert.equal(a.window.samples, 60);
    assert.ok(a.window.toMs > a.window.fromMs);
    for (const e of a.evidence) {
      assert.ok(e.detail.length > 10, `evidence without a sentence: ${JSON.stringify(e)}`);
      assert.ok(Number.isFinite(e.weight));
    }
    for (const s of Object.values(a.scores)) assert.ok(s >= 0 && s <= 1);
  });

  it('reads signatures from the process entries when the map is empty', () => {
    const v = run({ samples: 60, procs: [torchTrainingCpu()], signaturesIn: 'sample' });
    assert.equal(v.class, 'ai-training', show(v));
  });
});
