// The engine never throws: missing fields, empty arrays, nulls, NaN and odd values give a
// verdict (with lower confidence and `unavailable` entries), not an exception.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IProcessSignature, ISample } from '../../proto/codec.js';
import { CLASSES, defaultRulesPath, evaluate, loadRulesFile, type EngineWindow, type Verdict } from '../../collector/engine/index.js';
import { buildWindow, rng } from './build-window.js';
import { xmrig } from './workloads.js';

const rules = loadRulesFile(defaultRulesPath);

function wellFormed(v: Verdict): void {
  assert.ok(CLASSES.includes(v.class), v.class);
  assert.ok(v.confidence >= 0 && v.confidence <= 1, `confidence ${v.confidence}`);
  for (const [k, s] of Object.entries(v.scores)) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `score ${k}=${s}`);
  for (const p of v.parts) assert.ok(p.share >= 0 && p.share <= 1.0001, `share ${p.share}`);
  for (const e of v.evidence) assert.ok(Number.isFinite(e.weight), JSON.stringify(e));
  assert.ok(Array.isArray(v.unavailable));
  assert.equal(v.rulesVersion, rules.version);
  assert.doesNotThrow(() => JSON.stringify(v));
}

function window(samples: ISample[], signatures: ReadonlyMap<string, IProcessSignature> = new Map()): EngineWindow {
  return { samples, signatures };
}

describe('robustness', () => {
  it('empty window -> idle with confidence 0 and unavailable [samples]', () => {
    const v = evaluate(window([]), rules);
    wellFormed(v);
    assert.equal(v.class, 'idle');
    assert.equal(v.confidence, 0);
    assert.deepEqual(v.unavailable, ['samples']);
    assert.deepEqual(v.window, { fromMs: 0, toMs: 0, samples: 0 });
  });

  it('samples with nothing in them', () => {
    const v = evaluate(window([{}, {}, {}]), rules);
    wellFormed(v);
    assert.equal(v.class, 'idle');
    for (const u of ['cpu', 'processes', 'sockets', 'gpu', 'timestamps']) assert.ok(v.unavailable.includes(u), `${u} in ${v.unavailable}`);
    assert.ok(v.confidence < 0.5, `confidence ${v.confidence}`);
  });

  it('one sample', () => {
    const v = evaluate(buildWindow({ samples: 1, procs: [xmrig()] }), rules);
    wellFormed(v);
    // One sample cannot show shape: whatever it says, it says it with little confidence.
    assert.ok(v.confidence <= 0.15, `confidence ${v.confidence}`);
  });

  it('nulls, NaN, negative and missing values everywhere', () => {
    const samples: ISample[] = [
      {
        tsMs: Number.NaN,
        cpu: { totalPct: Number.NaN, perCorePct: [Number.NaN, -5] },
        memory: { hugepagesTotal: 10, hugepagesFree: 20 },
        disks: [{}, { readBytesPerSec: -1 }],
        net: [{ iface: 'lo' }, {}],
        gpus: [{}, { uuid: 'GPU-x', utilPct: 250, memTotalBytes: 0 }],
        power: [{ source: 'rapl' }, {}],
        processes: [{}, { pid: 1, cpuPct: Number.POSITIVE_INFINITY }, { pid: 2, name: 'xmrig', cpuPct: 100, signature: {} }],
        sockets: [{}, { pid: 2, state: 'ESTABLISHED' }, { pid: 2, state: 'LISTEN' }, { pid: 2, protocol: 'udp' }],
        gpuProcesses: [{}, { pid: 2 }, { pid: 99, gpuUuid: 'GPU-missing', usedMemoryBytes: 5 }],
        unavailable: [{}, { probe: 'gpu-nvidia', reason: 'nvidia-smi not found' }],
      },
      { tsMs: 5, processes: [{ pid: 2, name: 'xmrig', cpuPct: 100 }] },
      { tsMs: 3 },
    ];
    const sigs = new Map<string, IProcessSignature>([['2:0', { libs: [], envNames: [], cmdline: '' }]]);
    const v = evaluate(window(samples, sigs), rules);
    wellFormed(v);
    assert.ok(v.unavailable.includes('gpu-nvidia'));
  });

  it('a window object missing its signatures map', () => {
    const w = buildWindow({ samples: 20, procs: [xmrig()] });
    const v = evaluate({ samples: w.samples } as unknown as EngineWindow, rules);
    wellFormed(v);
  });

  it('random windows with fields dropped at random never throw', () => {
    const r = rng(2026);
    const base = buildWindow({
      samples: 30,
      procs: [xmrig()],
      gpus: [{ uuid: 'GPU-1', util: () => 99, memUsedBytes: 5e9, memTotalBytes: 8e10 }],
      hugepages: { total: 10, free: 2 },
      rapl: () => 50,
    });
    for (let trial = 0; trial < 200; trial++) {
      const samples = base.samples.map((s) => {
        const copy: Record<string, unknown> = { ...s };
        for (const k of Object.keys(copy)) {
          const roll = r();
          if (roll < 0.2) delete copy[k];
          else if (roll < 0.25) copy[k] = null;
          else if (roll < 0.3 && Array.isArray(copy[k])) copy[k] = [];
        }
        return copy as ISample;
      });
      const sigs = r() < 0.5 ? base.signatures : new Map<string, IProcessSignature>();
      wellFormed(evaluate(window(r() < 0.1 ? [] : samples, sigs), rules));
    }
  });

  it('a hand-built Rules object with a bad regex does not throw at match time', () => {
    const bad = structuredClone(rules);
    const list = bad.signatures['chain-client-cmdline'];
    assert.ok(list);
    list.values = ['(unclosed'];
    wellFormed(evaluate(buildWindow({ samples: 10, procs: [xmrig()] }), bad));
  });
});
