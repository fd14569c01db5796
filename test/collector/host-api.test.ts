// The host page's API over a real collector and SQLite store: the process and GPU table from a
// synthetic two-GPU trace (the nvidia-smi fields the agent reads) with the engine's verdict, the
// current verdict after more than 5,000 stored ones, and the verdict in force at a range's start.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sealBatch } from '../../agent/batch.js';
import { writeSyntheticTraces } from '../../bench/synth-gpu.js';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { loadRulesFile, defaultRulesPath } from '../../collector/engine/rules/load.js';
import type { Verdict } from '../../collector/engine/types.js';
import { hostProcesses, MAX_PROCESS_ROWS } from '../../collector/host-processes.js';
import { replay } from '../../collector/replay.js';
import { startCollector } from '../../collector/server.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { encodeSample, type ISample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { tempDir } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);

describe('host page API', () => {
  const tmp = tempDir('assay-host-api-');
  after(() => tmp.cleanup());

  it('processes and GPUs of a host, with classes, libraries, ports and peers; the newest of >5,000 verdicts; the verdict in force at a range start', async () => {
    const [file] = (await writeSyntheticTraces(join(tmp.dir, 'synthetic'))).filter((f) => f.endsWith('gpu-mixed-training-and-miner.trace.ndjson'));
    const trace = await readTrace(file!);
    const samples: ISample[] = trace.samples.slice(0, 200);
    const verdict: Verdict = replay(samples, rules, defaultClassifierOptions, trace.header.inventory ?? null).at(-1)!.verdict;
    assert.equal(verdict.class, 'mixed');

    // The pure table first.
    const sigs = new Map<string, NonNullable<ISample['processes']>[number]['signature']>();
    for (const s of samples) for (const p of s.processes ?? []) if (p.signature) sigs.set(`${p.pid}:${p.startTimeTicks}`, p.signature);
    const t = hostProcesses(samples, sigs as never, verdict, rules, 32);
    assert.equal(t.gpus.length, 2);
    assert.deepEqual(t.gpus[1]!.processes.map((p) => [p.pid, p.name]), [[9100, 'lolMiner']]);
    const miner = t.processes.find((p) => p.pid === 9100)!;
    const trainer = t.processes.find((p) => p.pid === 4100)!;
    assert.equal(miner.class, 'pow-mining');
    assert.equal(miner.classSource, 'engine');
    assert.deepEqual(miner.peers, ['162.19.139.184:1010']);
    assert.deepEqual(miner.gpus, [1]);
    assert.ok(miner.gpuShare! > 0.03 && miner.gpuShare! < 0.04, `5.5 of 160 GiB: ${miner.gpuShare}`);
    assert.equal(trainer.class, 'ai-training');
    assert.deepEqual(trainer.listenPorts, [29500]);
    assert.ok(trainer.libs.includes('libcudnn.so.9'), trainer.libs.join(','));
    assert.equal(trainer.exe, '/usr/bin/python3');
    assert.ok(Math.abs(trainer.cpuShare - trainer.cpuPct / 3200) < 1e-9, 'CPU share of 32 cores');
    assert.ok(t.processes.length <= MAX_PROCESS_ROWS);
    assert.ok(t.samples > 20 && t.samples <= 31, `the newest 30 s: ${t.samples} samples`);

    // Then through the API: the store as ingest writes it, a collector on it.
    const dbPath = join(tmp.dir, 'assay.db');
    const store = new SqliteStore(dbPath);
    const keys = generateAgentKeys();
    const now = Date.now();
    const shifted = samples.map((s, i) => ({ ...s, tsMs: now - (samples.length - i) * 1000 }));
    await store.upsertHost({ agentId: 'gpu', hostname: 'gpu-box', agentVersion: 't', publicKey: keys.publicKey, inventory: { ...(trace.header.inventory ?? {}), cpuLogicalCores: 32 } }, now - 300_000);
    let head: Uint8Array = new Uint8Array();
    for (let i = 0; i < shifted.length; i += 50) {
      const chunk = shifted.slice(i, i + 50).map((s, j) => ({ seq: i + j + 1, sample: s, bytes: encodeSample(s) }));
      const sealed = sealBatch({ agentId: 'gpu', seqs: chunk.map((c) => c.seq), samples: chunk.map((c) => c.bytes), prevHash: head, sealedMs: chunk.at(-1)!.sample.tsMs! }, (h) => signBytes(keys, h));
      const res = await store.appendBatch(
        'gpu',
        { hash: sealed.hash, prevHash: head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: chunk.map(({ seq, sample }) => ({ seq, sample })), gaps: [] },
        chunk.at(-1)!.sample.tsMs! + 200,
      );
      assert.equal(res.status, 'stored');
      head = sealed.hash;
    }
    // 5,001 older verdicts, then the one that holds now: the API must not stop at the 5,000th oldest.
    const general = { ...verdict, class: 'general' as const };
    for (let i = 0; i < 5001; i++) await store.putVerdict('gpu', now - 600_000 + i * 10, general);
    await store.putVerdict('gpu', now - 100_000, verdict);
    await store.close();

    const collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath });
    try {
      const host = (await (await fetch(`${collector.url}/api/hosts/gpu`)).json()) as { verdict: Verdict };
      assert.equal(host.verdict.class, 'mixed', 'the newest stored verdict, not the 5,000th oldest');
      const procs = (await (await fetch(`${collector.url}/api/hosts/gpu/processes`)).json()) as ReturnType<typeof hostProcesses>;
      assert.equal(procs.gpus.length, 2);
      assert.equal(procs.processes.find((p) => p.pid === 9100)?.class, 'pow-mining');
      assert.equal(procs.processes.find((p) => p.pid === 4100)?.exe, '/usr/bin/python3', 'signatures from the store');
      assert.equal(procs.cores, 32);
      const hist = (await (await fetch(`${collector.url}/api/hosts/gpu/verdicts?from=${now - 50_000}&to=${now}`)).json()) as { verdicts: unknown[]; prior: { class: string } | null };
      assert.equal(hist.verdicts.length, 0);
      assert.equal(hist.prior?.class, 'mixed', 'the verdict in force when the range begins');
      // Brief rows for long charts: class and confidence, the newest of the range.
      const brief = (await (await fetch(`${collector.url}/api/hosts/gpu/verdicts?from=${now - 700_000}&to=${now}&brief=1&limit=3`)).json()) as { verdicts: Array<Record<string, unknown>> };
      assert.deepEqual(brief.verdicts.map((v) => Object.keys(v).sort()), [['class', 'confidence', 'tsMs'], ['class', 'confidence', 'tsMs'], ['class', 'confidence', 'tsMs']]);
      assert.deepEqual(brief.verdicts.map((v) => v.class), ['general', 'general', 'mixed'], 'the newest three, oldest first');
      assert.equal((await fetch(`${collector.url}/api/hosts/nope/processes`)).status, 404);
    } finally {
      await collector.close();
    }
  });
});
