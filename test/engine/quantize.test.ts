// The agent rounds figures before sending (agent/quantize.ts) so unchanged processes stay
// byte-identical and compress away. That must cost the engine nothing: every recorded trace
// (corpus, synthetic corpus, held-out), quantized as the agent now sends it, replays to the same
// published verdicts and confidences at every step.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { QUANTA, quantizeSample, significant, significantMidpoint } from '../../agent/quantize.js';
import { defaultRulesPath, featureOptions, features, loadRulesFile } from '../../collector/engine/index.js';
import { replay } from '../../collector/replay.js';
import { assay } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';
import protobuf from 'protobufjs/minimal.js';

const rules = loadRulesFile(defaultRulesPath);

test('quantized traces (corpus, synthetic, held-out) replay to exactly the verdicts of the traces as recorded', async () => {
  const dirs = corpusDirs(repoRoot);
  const files = [...traceFiles(dirs.real), ...traceFiles(dirs.synthetic), ...traceFiles(join(repoRoot, 'bench', 'heldout'))];
  assert.ok(traceFiles(dirs.real).length >= 10 && files.length >= 30, `${files.length} traces`);
  let steps = 0;
  let changedFields = 0;
  for (const file of files) {
    const { header, samples } = await readTrace(file);
    const quantized = samples.map((s) => quantizeSample(assay.v1.Sample.fromObject(assay.v1.Sample.toObject(assay.v1.Sample.fromObject(s)))));
    for (const [i, s] of samples.entries()) {
      for (const q of QUANTA) {
        const entries = (x: ReturnType<typeof assay.v1.Sample.fromObject> | (typeof samples)[number]): unknown[] => {
          const at = x[q.list];
          return Array.isArray(at) ? at : at ? [at] : [];
        };
        entries(s).forEach((e, j) => {
          if ((e as Record<string, unknown>)[q.field] !== (entries(quantized[i]!)[j] as Record<string, unknown>)[q.field]) changedFields++;
        });
      }
    }
    const a = replay(samples, rules, undefined, header.inventory);
    const b = replay(quantized, rules, undefined, header.inventory);
    assert.equal(b.length, a.length);
    a.forEach((x, i) => {
      const name = `${file.slice(repoRoot.length + 1)} step ${i}`;
      assert.equal(b[i]!.verdict.class, x.verdict.class, name);
      assert.equal(b[i]!.verdict.confidence, x.verdict.confidence, name);
    });
    steps += a.length;
  }
  assert.ok(steps > 2000, `${steps} verdicts compared`);
  assert.ok(changedFields > 10_000, `quantization changed ${changedFields} figures: the comparison is not vacuous`);
});

test('significant bits, truncated: toward zero, under 2^(1-bits) relative, and a power-of-two threshold keeps its side', () => {
  assert.equal(significant(1_523_432, 8), 1_515_520);
  assert.equal(significant(255, 8), 255, 'below 2^bits: as it is');
  assert.equal(significant(256, 8), 256);
  assert.equal(significant(-1_523_432, 8), -1_515_520);
  assert.equal(significant(0, 8), 0);
  let x = 1;
  for (let i = 0; i < 2000; i++) {
    x = Math.floor(x * 1.013 + 7);
    const q = significant(x, 8);
    assert.ok(q <= x && (x - q) / x < 2 ** -7, `${x} -> ${q}`);
    assert.equal(Number.isInteger(q), true);
    for (const t of [1 << 20, 1 << 24, 20 * (1 << 20), 65536]) assert.equal(q >= t, x >= t, `${x} vs threshold ${t}`);
  }
});

/** How many significant bits a positive integer has (between its highest and lowest set bit). */
function bitsOf(t: number): number {
  let v = t;
  while (v % 2 === 0) v /= 2;
  return Math.floor(Math.log2(v)) + 1;
}

/** Deterministic figures: every power of two up to 2^52 and its neighbours, and a pseudo-random spread (integers and fractions). */
function figures(): number[] {
  const out: number[] = [0, 1, 2, 3, 0.5, 15, 16, 17, 31, 32, 33];
  for (let e = 1; e <= 52; e++) for (const d of [-3, -1, 0, 1, 3]) out.push(2 ** e + d, 2 ** e * (1 + d / 64));
  let seed = 12345;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const mag = 2 ** ((seed % 5000) / 100);
    out.push(i % 2 ? Math.floor(mag) : mag);
  }
  return out.filter((x) => x >= 0);
}

test('significant bits, midpoint: at most 2^-bits relative, centred, monotone, idempotent; every threshold of at most `bits` significant bits keeps its side for >=, >, <= and <', () => {
  // 1,523,432 = 1011 1010 0...b: 4 bits keep [1,441,792, 1,572,864), sent as its midpoint.
  assert.equal(significantMidpoint(1_523_432, 4), 1_507_328);
  assert.equal(significantMidpoint(-1_523_432, 4), -1_507_328);
  assert.equal(significantMidpoint(1_441_792, 4), 1_441_792, 'nothing below the kept bits: as it is');
  assert.equal(significantMidpoint(15, 4), 15, 'below 2^bits: as it is');
  assert.equal(significantMidpoint(33, 4), 34, '[32, 36)');
  assert.equal(significantMidpoint(0, 4), 0);
  const xs = figures();
  for (const bits of [1, 2, 4, 8]) {
    // Thresholds: every power of two, and odd multiples of powers of two up to `bits` significant bits (20 MiB = 101b x 2^22).
    const thresholds: number[] = [];
    for (let e = 0; e <= 52; e++) for (let c = 1; c < 2 ** bits && c < 64; c += 2) if (bitsOf(c) <= bits) thresholds.push(c * 2 ** e);
    let signedError = 0;
    let truncError = 0;
    let n = 0;
    const sorted = [...xs].sort((a, b) => a - b);
    let prev = -Infinity;
    for (const x of sorted) {
      const q = significantMidpoint(x, bits);
      assert.ok(q >= prev, `monotone: ${x} -> ${q} after ${prev}`);
      prev = q;
      assert.ok(Math.abs(q - x) <= x * 2 ** -bits, `${bits} bits: ${x} -> ${q}`);
      assert.equal(significantMidpoint(q, bits), q, `idempotent: ${x}`);
      if (Number.isInteger(x)) assert.equal(Number.isInteger(q), true, `${x} -> ${q} is an integer`);
      assert.equal(significantMidpoint(-x, bits), -q);
      for (const t of thresholds) {
        assert.equal(q >= t, x >= t, `${bits} bits: ${x} -> ${q} vs ${t} (>=)`);
        assert.equal(q <= t, x <= t, `${bits} bits: ${x} -> ${q} vs ${t} (<=)`);
      }
      if (x >= 2 ** (bits + 4)) {
        signedError += (q - x) / x;
        truncError += (significant(x, bits) - x) / x;
        n++;
      }
    }
    // Truncation is always low; the midpoint is centred: on average it is off by far less.
    assert.ok(Math.abs(signedError) < Math.abs(truncError) / 3, `${bits} bits: mean relative error ${signedError / n}, truncated ${truncError / n}`);
  }
});

test('the table: process rates keep 4 significant bits (midpoint); no threshold the rules compare a rate with has more', () => {
  const rates = QUANTA.filter((q) => q.list === 'processes' && /PerSec$/.test(q.field));
  assert.equal(rates.length, 8);
  for (const q of rates) assert.deepEqual([q.field, q.significantBits, q.truncate ?? false], [q.field, 4, false]);
  const io = rules.thresholds.io;
  for (const t of [io.periodicWriteMinBytesPerSec, io.minBurstBytesPerSec, io.periodicReadMinBytesPerSec, io.heavyWriteBytesPerSec]) assert.ok(bitsOf(t) <= 4, `${t}`);
});

test('the table: process memory keeps 8 (RSS) and 4 (anonymous RSS) significant bits; every memory threshold of the rules has at most that many, and the engine reads the same side of each', () => {
  const bits = (field: string): number | undefined => QUANTA.find((q) => q.list === 'processes' && q.field === field)?.significantBits;
  assert.equal(bits('rssBytes'), 8);
  assert.equal(bits('rssAnonBytes'), 4);
  assert.equal(bits('hugetlbBytes'), undefined, 'huge pages: whole pages, as they are');
  const m = rules.thresholds.memory;
  const thresholds = Object.values(m);
  assert.ok(thresholds.length >= 3);
  for (const t of thresholds) assert.ok(bitsOf(t) <= 4, `memory threshold ${t}`);
  // A process whose memory passes each threshold by a page, or stays a page short of it, over a
  // window of 20 samples: the engine's maxima read the same side of every threshold once quantized.
  const opts = featureOptions(rules);
  for (const t of thresholds) {
    for (const d of [-4096, 0, 4096, -t / 64, t / 64]) {
      const at = t + d;
      const sample = (i: number): ReturnType<typeof assay.v1.Sample.fromObject> =>
        assay.v1.Sample.fromObject({
          tsMs: 1_000_000 + i * 1000,
          processes: [{ pid: 7, startTimeTicks: 1, name: 'p', cpuPct: 100, extended: true, rssBytes: at - (i % 3) * 8192 + 1, rssAnonBytes: at - (i % 5) * 4096 }],
        });
      const raw = Array.from({ length: 20 }, (_, i) => sample(i));
      const sent = Array.from({ length: 20 }, (_, i) => quantizeSample(sample(i)));
      const [a, b] = [raw, sent].map((samples) => features({ samples, signatures: new Map() }, opts).processes[0]!);
      assert.notDeepEqual([b!.rssBytesMax, b!.memoryBytesMax], [a!.rssBytesMax, a!.memoryBytesMax], 'quantized: the figures did change');
      for (const x of thresholds) {
        assert.equal(b!.rssBytesMax >= x, a!.rssBytesMax >= x, `RSS ${a!.rssBytesMax} -> ${b!.rssBytesMax} vs ${x}`);
        assert.equal(b!.memoryBytesMax >= x, a!.memoryBytesMax >= x, `memory ${a!.memoryBytesMax} -> ${b!.memoryBytesMax} vs ${x}`);
        assert.equal(b!.memoryBytesMax <= x, a!.memoryBytesMax <= x, `memory ${a!.memoryBytesMax} -> ${b!.memoryBytesMax} vs ${x} (<=)`);
      }
    }
  }
});

test('the parent pid and the process state are not sent (read by nothing that receives samples); the uid is', () => {
  const unsent = QUANTA.filter((q) => q.unsent).map((q) => `${q.list}.${q.field}`);
  assert.deepEqual(unsent, ['processes.ppid', 'processes.state']);
  const s = assay.v1.Sample.fromObject({ tsMs: 1, processes: [{ pid: 9, ppid: 1, uid: 1000, state: 'R', name: 'x', cpuPct: 5 }] });
  const back = assay.v1.Sample.decode(assay.v1.Sample.encode(quantizeSample(s)).finish());
  const p = back.processes[0]!;
  assert.deepEqual([p.pid, p.ppid, p.state, p.uid, p.name], [9, 0, '', 1000, 'x']);
  // Field 2 (ppid) and 13 (state) are absent from the wire, not sent as defaults.
  const bytes = assay.v1.Process.encode(p).finish();
  const tags: number[] = [];
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    tags.push(tag >>> 3);
    r.skipType(tag & 7);
  }
  assert.deepEqual(tags.filter((t) => t === 2 || t === 13), []);
});

test('host memory figures keep 8 significant bits; the total and huge page counts are sent as they are', () => {
  const memory = QUANTA.filter((q) => q.list === 'memory');
  assert.deepEqual(memory.map((q) => [q.field, q.significantBits]), [['usedBytes', 8], ['availableBytes', 8], ['cachedBytes', 8], ['swapUsedBytes', 8]]);
  const s = assay.v1.Sample.fromObject({ tsMs: 1, memory: { totalBytes: 25_276_182_528, usedBytes: 1_273_409_536, availableBytes: 24_002_772_992, hugepagesTotal: 3, hugepagesFree: 1 } });
  const m = quantizeSample(s).memory!;
  assert.deepEqual([m.totalBytes, m.usedBytes, m.availableBytes, m.hugepagesTotal, m.hugepagesFree], [25_276_182_528, significantMidpoint(1_273_409_536, 8), significantMidpoint(24_002_772_992, 8), 3, 1]);
  assert.notEqual(m.usedBytes, 1_273_409_536);
  assert.ok(Math.abs(Number(m.usedBytes) - 1_273_409_536) <= 1_273_409_536 / 256);
});
