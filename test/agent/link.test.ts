// The agent against a real collector that goes away and comes back: every sampled sequence
// number ends up in the database exactly once.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storedSeqs } from '../../collector/store/sample-figures.js';
import { startAgent } from '../../agent/agent.js';
import { startCollector } from '../../collector/server.js';
import { freePort, tempDir, waitFor } from '../helpers/env.js';

const SECRET = 'link-test-enroll-secret';

/** A collector on a free port with a SQLite file, and an agent sampling every 200 ms, batching every 300 ms. */
async function collectorAndAgent(t: TestContext) {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const port = await freePort();
  const dbPath = join(tmp.dir, 'assay.db');
  const collector = await startCollector({ host: '127.0.0.1', port, dbPath, enrollSecret: SECRET });
  const agent = await startAgent({ collectorUrl: `ws://127.0.0.1:${port}/ingest`, intervalMs: 200, batchIntervalMs: 300, stateDir: join(tmp.dir, 'agent'), enrollSecret: SECRET });
  t.after(() => agent.stop());
  return { port, dbPath, agent, collector };
}

/** Stops both, then: every sequence number the agent sampled is stored exactly once, in order, no gaps. */
async function everySampleOnce(t: TestContext, agent: Awaited<ReturnType<typeof startAgent>>, collector: Awaited<ReturnType<typeof startCollector>>, dbPath: string): Promise<void> {
  await agent.stop();
  const sampled = agent.sampled;
  await collector.close();
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  const seqs = storedSeqs(db, agent.agentId);
  assert.equal(seqs.length, sampled, 'every sample taken is stored');
  assert.deepEqual(seqs, Array.from({ length: sampled }, (_, i) => i + 1), 'exactly once, in order, no gaps');
}

test('collector outage: the agent spools, reconnects and resends; nothing lost, nothing doubled', async (t) => {
  const setup = await collectorAndAgent(t);
  const { port, dbPath, agent } = setup;
  let collector = setup.collector;
  await waitFor(() => agent.link.ackedSeq >= 3, 15_000, 'first acks');

  await collector.close();
  const atOutage = agent.sampled;
  await waitFor(() => agent.sampled >= atOutage + 10, 15_000, 'sampling during the outage');
  assert.ok(agent.spool.size >= 10, `samples wait in the spool (${agent.spool.size})`);

  collector = await startCollector({ host: '127.0.0.1', port, dbPath, enrollSecret: SECRET });
  t.after(() => collector.close());
  await waitFor(() => agent.spool.size === 0 && agent.link.ackedSeq >= atOutage + 10, 20_000, 'spool drained after reconnect');
  await everySampleOnce(t, agent, collector, dbPath);
});

test('a collector that lost the batch the agent\'s next one is chained to (retention after a long silence): the agent seals that batch again as a keyframe; nothing lost, nothing doubled', async (t) => {
  const setup = await collectorAndAgent(t);
  const { port, dbPath, agent } = setup;
  let collector = setup.collector;
  // Mid-chain (the agent's next batch is chained to the last one acked), then the collector goes.
  await waitFor(() => agent.link.ackedSeq >= 3 && agent.spool.chainLength >= 1 && agent.spool.chainLength <= 9, 20_000, 'acks, mid-chain');
  await collector.close();
  assert.ok(agent.spool.chainLength >= 1 && agent.spool.chainLength <= 10, `chain of ${agent.spool.chainLength}`);
  const atOutage = agent.sampled;
  // Its store loses every batch of the host (as retention does after a silence longer than the raw window); the chain head stays.
  const db0 = new Database(dbPath);
  db0.prepare('DELETE FROM batches WHERE host_id = ?').run(agent.agentId);
  db0.close();
  await waitFor(() => agent.sampled >= atOutage + 3, 15_000, 'sampling during the outage');
  collector = await startCollector({ host: '127.0.0.1', port, dbPath, enrollSecret: SECRET });
  t.after(() => collector.close());
  await waitFor(() => agent.spool.size === 0 && agent.link.ackedSeq >= atOutage + 3, 20_000, 'spool drained after the keyframe');
  assert.match(String(collector.metrics.rejects.get('prior_unknown') ?? 0), /^[1-9]/, 'the chained batch was refused once as prior_unknown');
  await everySampleOnce(t, agent, collector, dbPath);
});
