import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CloseCode, assay, encodeAgentMessage } from '../../proto/codec.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
let ingestUrl: string;
let dbPath: string;

const samplesAt = (startMs: number, n: number) => Array.from({ length: n }, (_, i) => fullSample(startMs + i * 1000, 100 + i));
const countRows = (agentId: string): number => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM samples WHERE host_id = ?').get(agentId) as { n: number }).n;
  } finally {
    db.close();
  }
};

before(async () => {
  tmp = tempDir();
  dbPath = join(tmp.dir, 'assay.db');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath, limits: { maxFrameBytes: 256 * 1024, maxBatchSamples: 50, helloTimeoutMs: 1500 } });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a batch is stored, then acked; a resend is acked as duplicates and stored once', async () => {
  const a = await RawAgent.connect(ingestUrl);
  const welcome = await a.hello(fullHello('good-1'));
  assert.equal(welcome.lastSeq, 0);
  const ack = await a.batch(1, samplesAt(Date.now() - 10_000, 5));
  assert.deepEqual({ lastSeq: ack.lastSeq, accepted: ack.accepted, duplicates: ack.duplicates }, { lastSeq: 5, accepted: 5, duplicates: 0 });
  assert.equal(countRows('good-1'), 5, 'acked samples are in the database file');
  const again = await a.batch(3, samplesAt(Date.now() - 8_000, 5));
  assert.deepEqual({ lastSeq: again.lastSeq, accepted: again.accepted, duplicates: again.duplicates }, { lastSeq: 7, accepted: 2, duplicates: 3 });
  assert.equal(countRows('good-1'), 7);
  a.close();
  // A reconnecting agent learns where to resume.
  const b = await RawAgent.connect(ingestUrl);
  assert.equal((await b.hello(fullHello('good-1'))).lastSeq, 7);
  b.close();
});

test('bad frames close only their connection with a clear reason; stored data and other agents are unaffected', async () => {
  const good = await RawAgent.connect(ingestUrl);
  await good.hello(fullHello('good-2'));
  await good.batch(1, samplesAt(Date.now() - 5_000, 3));

  const cases: Array<{ name: string; act: (a: RawAgent) => Promise<void> | void; code: number; reason: RegExp }> = [
    { name: 'garbage bytes', act: (a) => a.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])), code: CloseCode.malformed, reason: /malformed/ },
    {
      name: 'truncated frame',
      act: (a) => a.send(encodeAgentMessage({ hello: fullHello('x') }).subarray(0, 20)),
      code: CloseCode.malformed,
      reason: /malformed/,
    },
    { name: 'text frame', act: (a) => a.send('hello'), code: CloseCode.unexpectedMessage, reason: /text frames/ },
    { name: 'batch before hello', act: (a) => a.send(encodeAgentMessage({ batch: { firstSeq: 1, samples: [fullSample()] } })), code: CloseCode.unexpectedMessage, reason: /before hello/ },
    {
      name: 'unknown message',
      act: (a) => a.send(assay.v1.AgentMessage.encode({ schemaVersion: 1 }).finish()),
      code: CloseCode.unexpectedMessage,
      reason: /no known message/,
    },
    {
      name: 'wrong schema version',
      act: (a) => a.send(assay.v1.AgentMessage.encode({ schemaVersion: 9, hello: fullHello('x') }).finish()),
      code: CloseCode.schemaVersion,
      reason: /schema_version 9/,
    },
    { name: 'bad agent id', act: (a) => a.send(encodeAgentMessage({ hello: fullHello('bad id with spaces') })), code: CloseCode.badBatch, reason: /agent_id/ },
    {
      name: 'oversized frame',
      act: async (a) => {
        await a.hello(fullHello('big-1'));
        const s = fullSample();
        s.processes![0]!.signature!.cmdline = 'x'.repeat(400 * 1024);
        a.send(encodeAgentMessage({ batch: { firstSeq: 1, samples: [s] } }));
      },
      code: CloseCode.tooBig,
      reason: /.*/,
    },
    {
      name: 'batch over the sample limit',
      act: async (a) => {
        await a.hello(fullHello('many-1'));
        a.send(encodeAgentMessage({ batch: { firstSeq: 1, samples: samplesAt(Date.now(), 51).map((s) => ({ tsMs: s.tsMs, cpu: s.cpu })) } }));
      },
      code: CloseCode.badBatch,
      reason: /exceeds the limit of 50/,
    },
    {
      name: 'sequence zero',
      act: async (a) => {
        await a.hello(fullHello('seq-0'));
        a.send(encodeAgentMessage({ batch: { firstSeq: 0, samples: [fullSample()] } }));
      },
      code: CloseCode.badBatch,
      reason: /first_seq/,
    },
    { name: 'no hello in time', act: () => undefined, code: CloseCode.helloTimeout, reason: /no hello/ },
  ];
  for (const c of cases) {
    const bad = await RawAgent.connect(ingestUrl);
    await c.act(bad);
    const closed = await Promise.race([bad.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(closed, `${c.name}: connection was not closed`);
    assert.equal(closed.code, c.code, `${c.name}: close code`);
    assert.match(closed.reason, c.reason, `${c.name}: close reason`);
  }
  // Nothing from the bad frames was stored.
  assert.equal(countRows('big-1') + countRows('many-1') + countRows('seq-0'), 0);
  // The good agent kept its data and keeps streaming on its still-open connection.
  assert.equal(countRows('good-2'), 3);
  const ack = await good.batch(4, samplesAt(Date.now() - 1_000, 2));
  assert.equal(ack.lastSeq, 5);
  assert.equal(countRows('good-2'), 5);
  good.close();

  const metrics = await (await fetch(collector.url + '/metrics')).text();
  for (const reason of ['malformed', 'text_frame', 'batch_before_hello', 'unknown_message', 'schema_version', 'bad_hello', 'frame_too_large', 'batch_too_large', 'bad_batch', 'hello_timeout']) {
    assert.match(metrics, new RegExp(`assay_ingest_rejects_total\\{reason="${reason}"\\} [1-9]`), `metrics count reject ${reason}`);
  }
});

test('the API serves hosts, samples and verdicts of stored data', async () => {
  const a = await RawAgent.connect(ingestUrl);
  await a.hello(fullHello('api-1'));
  const t0 = Date.now() - 30_000;
  await a.batch(1, samplesAt(t0, 20));
  a.close();
  const hosts = (await (await fetch(collector.url + '/api/hosts')).json()) as { hosts: Array<{ id: string; hostname: string; trend: { cpuPct: number[] } }> };
  const h = hosts.hosts.find((x) => x.id === 'api-1');
  assert.ok(h, 'host listed');
  assert.equal(h.hostname, 'gpu-node-07');
  assert.ok(h.trend.cpuPct.length > 0 && h.trend.cpuPct.every((v) => Math.abs(v - 87.5) < 1e-6));
  const detail = await waitFor(async () => {
    const d = (await (await fetch(collector.url + '/api/hosts/api-1')).json()) as { verdict: { class: string; evidence: unknown[] } | null; inventory: { cpuModel: string } };
    return d.verdict ? d : null;
  }, 10_000, 'a verdict');
  assert.equal(detail.inventory.cpuModel, 'AMD EPYC 7763 64-Core Processor');
  assert.ok(detail.verdict!.evidence.length > 0, 'verdict has evidence');
  const samples = (await (await fetch(`${collector.url}/api/hosts/api-1/samples?from=${t0}&to=${t0 + 9_500}`)).json()) as { samples: Array<{ seq: number; cpuPct: number; powerWatts: number; gpuUtilPct: number }> };
  assert.deepEqual(samples.samples.map((s) => s.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(samples.samples[0]!.gpuUtilPct, 97);
  assert.ok(Math.abs(samples.samples[0]!.powerWatts - (210.5 + 612.5)) < 1e-3, 'power sums RAPL package and GPU board power');
  const verdicts = (await (await fetch(`${collector.url}/api/hosts/api-1/verdicts?from=0`)).json()) as { verdicts: Array<{ class: string }> };
  assert.ok(verdicts.verdicts.length >= 1);
  assert.equal((await fetch(collector.url + '/api/hosts/nope')).status, 404);
  assert.equal((await fetch(collector.url + '/api/hosts/api-1/samples?from=abc')).status, 400);
});
