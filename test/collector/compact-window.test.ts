// The classifier's compact window (collector/compact-window.ts) must give the engine exactly the
// input the plain window (collector/window.ts, used by `assay replay` and the eval) gives: every
// recorded trace (test/corpus, its synthetic traces, bench/heldout) is fed through both as the
// collector gets it (samples decoded from their wire bytes, batches of 5), and the features and
// the verdict are compared at evaluations along the way. Signatures the compact window does not
// carry come from a stand-in for the store holding the first signature sent per process (what
// process_signatures keeps).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { omitUnowned } from '../../agent/probes/sockets.js';
import { CompactWindow, engineSample } from '../../collector/compact-window.js';
import { defaultClassifierOptions } from '../../collector/classifier-options.js';
import { defaultRulesPath, evaluate, featureOptions, features, loadRulesFile } from '../../collector/engine/index.js';
import { processKey } from '../../collector/engine/types.js';
import { HostWindow } from '../../collector/window.js';
import { assay, decodeSample, encodeSample, type IProcessSignature, type ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);
const { windowMs } = defaultClassifierOptions;
const files = [...traceFiles(corpusDirs(repoRoot).real), ...traceFiles(corpusDirs(repoRoot).synthetic), ...traceFiles(join(repoRoot, 'bench', 'heldout'))];

/** The trace's samples as ingest hands them over: decoded from their wire bytes. */
async function wireSamples(file: string): Promise<{ samples: ISample[]; inventory: assay.v1.IInventory | null }> {
  const t = await readTrace(file);
  return { samples: t.samples.map((s) => decodeSample(encodeSample(s))), inventory: t.header.inventory ?? null };
}

/** Feeds batches to both windows; at every `everyMs` of sample time compares the engine's input and output. */
function compare(name: string, batches: ISample[][], inventory: assay.v1.IInventory | null, everyMs: number): number {
  const plain = new HostWindow(windowMs, rules.history.horizons);
  const compact = new CompactWindow(windowMs, rules.history.horizons);
  plain.inventory = compact.inventory = inventory;
  const store = new Map<string, IProcessSignature>();
  let lastEval = 0;
  let compared = 0;
  for (const [i, batch] of batches.entries()) {
    for (const s of batch) for (const p of s.processes ?? []) if (p.signature && !store.has(processKey(p.pid ?? 0, p.startTimeTicks ?? 0))) store.set(processKey(p.pid ?? 0, p.startTimeTicks ?? 0), p.signature);
    plain.add(batch);
    compact.add(batch);
    assert.equal(compact.newestMs, plain.newestMs, `${name} batch ${i}: newest sample`);
    assert.equal(compact.size, plain.samples.length, `${name} batch ${i}: samples in the window`);
    const newest = Math.max(...batch.map((s) => s.tsMs ?? 0));
    if (newest - lastEval < everyMs && i < batches.length - 1) continue;
    lastEval = newest;
    const decoded = compact.samples();
    const a = plain.view();
    const b = compact.view(decoded, store);
    assert.deepEqual(decoded.samples.map((s) => s.tsMs), a.samples.map((s) => s.tsMs), `${name} batch ${i}: sample times`);
    assert.deepEqual(features(b, featureOptions(rules)), features(a, featureOptions(rules)), `${name} batch ${i}: features`);
    assert.deepEqual(evaluate(b, rules), evaluate(a, rules), `${name} batch ${i}: verdict`);
    compared++;
  }
  return compared;
}

const batchesOf = (samples: ISample[], n: number): ISample[][] => Array.from({ length: Math.ceil(samples.length / n) }, (_, i) => samples.slice(i * n, i * n + n));

describe('compact classifier window', () => {
  it('finds the traces', () => assert.ok(files.length >= 30, `${files.length} traces`));

  for (const file of files) {
    it(`same features and verdicts as the plain window: ${file.slice(repoRoot.length + 1)}`, async () => {
      const { samples, inventory } = await wireSamples(file);
      assert.ok(compare(file, batchesOf(samples, 5), inventory, 30_000) >= 3);
    });
  }

  it('same features and verdicts for samples as agents now send them (unowned closing sockets counted, not listed)', async () => {
    let counted = 0;
    for (const file of traceFiles(corpusDirs(repoRoot).real)) {
      const { samples, inventory } = await wireSamples(file);
      const asSent = samples.map((s) => {
        const { kept, omitted } = omitUnowned(s.sockets ?? []);
        const copy = decodeSample(encodeSample({ ...s, sockets: kept, ...(omitted.length ? { socketAttribution: { ...(s.socketAttribution ?? {}), unownedOmitted: omitted } } : {}) }));
        if (omitted.length) counted++;
        return copy;
      });
      compare(`${file} (as sent)`, batchesOf(asSent, 5), inventory, 60_000);
    }
    assert.ok(counted > 100, `${counted} samples with counted sockets`);
  });

  it('same engine input when batches arrive out of order, repeat, or come late past the window', async () => {
    const { samples, inventory } = await wireSamples(join(repoRoot, 'test', 'corpus', 'ai-inference-pytorch-http.trace.ndjson'));
    const batches = batchesOf(samples, 5);
    // Swap neighbours, resend one batch, reverse one batch's samples, and replay an old batch late.
    const mixed: ISample[][] = [];
    for (let i = 0; i < batches.length; i++) {
      if (i % 4 === 1 && i + 1 < batches.length) {
        mixed.push(batches[i + 1]!, batches[i]!);
        i++;
      } else mixed.push(i % 5 === 0 ? [...batches[i]!].reverse() : batches[i]!);
      if (i === 7) mixed.push(batches[6]!);
    }
    mixed.push(batches[0]!);
    assert.ok(compare('mixed', mixed, inventory, 0) > 10);
  });

  it('holds a window of real samples in under a tenth of their wire bytes', async () => {
    for (const name of ['general-redis-benchmark', 'pow-mining-xmrig-stratum', 'storage-proving-chiapos-prove']) {
      const { samples } = await wireSamples(join(repoRoot, 'bench', 'heldout', `${name}.trace.ndjson`));
      const w = new CompactWindow(windowMs, []);
      for (const b of batchesOf(samples, 5)) w.add(b);
      const wire = samples.filter((s) => (s.tsMs ?? 0) >= w.newestMs - windowMs).reduce((a, s) => a + encodeSample(s).length, 0);
      assert.equal(w.size, samples.filter((s) => (s.tsMs ?? 0) >= w.newestMs - windowMs).length);
      assert.ok(w.chunkBytes * 10 < wire, `${name}: ${w.chunkBytes} bytes held for ${wire} wire bytes`);
    }
  });

  it('drops old chunks: what it holds stays bounded by the window however long the host runs', async () => {
    const { samples } = await wireSamples(join(repoRoot, 'bench', 'heldout', 'general-redis-benchmark.trace.ndjson'));
    const w = new CompactWindow(windowMs, []);
    const t0 = samples[0]!.tsMs!;
    let most = 0;
    // 30 minutes at 1 Hz (the trace looped, re-timed), batches of 5.
    for (let i = 0; i < 1800; i += 5) {
      w.add(Array.from({ length: 5 }, (_, k) => ({ ...samples[(i + k) % samples.length]!, tsMs: t0 + (i + k) * 1000 }) as ISample));
      most = Math.max(most, w.chunkBytes);
      assert.ok(w.size <= windowMs / 1000 + 1, `${w.size} samples held`);
    }
    const oneWindow = samples.slice(0, 121).map((s) => encodeSample(engineSample(s)).length).reduce((a, b) => a + b, 0);
    assert.ok(most < oneWindow, `${most} bytes at most, one window of engine samples is ${oneWindow} bytes uncompressed`);
  });

  it('keeps every socket the engine reads, and says a sample had sockets when it keeps none', () => {
    const s = decodeSample(
      encodeSample({
        tsMs: 1,
        sockets: [
          { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 40000, remoteAddress: '10.0.0.2', remotePort: 443, state: 'TIME_WAIT', pid: 0, inode: 7 },
          { protocol: 'tcp', localAddress: '0.0.0.0', localPort: 22, state: 'LISTEN', pid: 0 },
          { protocol: 'tcp', localAddress: '10.0.0.1', localPort: 40001, remoteAddress: '10.0.0.3', remotePort: 443, state: 'ESTABLISHED', pid: 0 },
          { protocol: 'udp', localAddress: '0.0.0.0', localPort: 5353, state: 'UNCONN', pid: 0 },
          { protocol: 'tcp', localAddress: '127.0.0.1', localPort: 40002, remoteAddress: '127.0.0.1', remotePort: 5432, state: 'TIME_WAIT', pid: 9 },
        ],
      }),
    );
    assert.deepEqual(engineSample(s).sockets!.map((k) => k.localPort), [22, 40001, 5353, 40002]);
    const onlyWait = decodeSample(encodeSample({ tsMs: 1, sockets: [{ protocol: 'tcp', localPort: 40000, remotePort: 443, remoteAddress: '10.0.0.2', state: 'TIME_WAIT' }] }));
    const placeholder = engineSample(onlyWait).sockets;
    assert.equal(placeholder.length, 1);
    assert.deepEqual([placeholder[0]!.pid, placeholder[0]!.localPort, placeholder[0]!.remotePort, placeholder[0]!.state, placeholder[0]!.protocol], [0, 0, 0, '', '']);
    assert.deepEqual(engineSample(decodeSample(encodeSample({ tsMs: 1 }))).sockets, []);
    // Sockets the agent only counted: the window still says the sample's sockets were read.
    const counted = decodeSample(encodeSample({ tsMs: 1, socketAttribution: { unownedOmitted: [{ protocol: 'tcp', state: 'TIME_WAIT', count: 3 }, { protocol: 'udp', state: 'CLOSE', count: 0 }] } }));
    assert.deepEqual(engineSample(counted).socketAttribution!.unownedOmitted!.map((c) => [c.protocol, c.state, c.count]), [['tcp', 'TIME_WAIT', 3]]);
    const w = new CompactWindow(windowMs, []);
    w.add([counted]);
    const view = w.view(w.samples());
    assert.equal(features(view).sockets.available, true);
    assert.deepEqual(features(view), features({ samples: [counted], signatures: new Map(), inventory: null, history: view.history }));
  });
});
