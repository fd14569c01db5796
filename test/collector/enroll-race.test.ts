// Enrollments that arrive together. The cap (--max-enrollments) was read before the new agent's
// row was committed, so hellos sent at once all saw room: with a cap of 2, 12 agents holding the
// secret all enrolled. Two hellos enrolling one new id with two keys both passed too, the later
// key overwriting the earlier one's, whose agent had already been welcomed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { CloseCode, encodeAgentMessage } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'enroll-race-secret-0123456789';
const tmp = tempDir('assay-enroll-race-');
let collector: RunningCollector;
let ingestUrl: string;

before(async () => {
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, maxEnrollments: 3 });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});
after(async () => {
  await collector.close();
  tmp.cleanup();
});

/** Sends every hello at once (all connections open first) and returns what each got back. */
async function helloAll(ids: string[]): Promise<Array<{ agent: RawAgent; answer: string }>> {
  const agents = await Promise.all(ids.map(() => RawAgent.connect(ingestUrl)));
  agents.forEach((a, i) => a.send(encodeAgentMessage({ hello: a.signedHello(fullHello(ids[i]), SECRET) })));
  return Promise.all(
    agents.map(async (agent) => {
      const first = await Promise.race([agent.next(8000).then((m) => m.body as string).catch(() => 'nothing'), agent.closed.then((c) => `closed ${c.code} ${c.reason}`)]);
      return { agent, answer: first };
    }),
  );
}

test('one new id enrolled by two keys at once: one key wins, the other is refused', async () => {
  const res = await helloAll(['same-id', 'same-id']);
  const welcomed = res.filter((r) => r.answer === 'welcome');
  assert.equal(welcomed.length, 1, res.map((r) => r.answer).join(' | '));
  const host = await collector.store.getHost('same-id');
  assert.deepEqual(Buffer.from(host!.publicKey!), Buffer.from(welcomed[0]!.agent.keys.publicKey), 'the stored key is the welcomed agent\'s');
  for (const r of res) r.agent.close();
});

test('--max-enrollments holds when hellos arrive together', async () => {
  const res = await helloAll(Array.from({ length: 12 }, (_, i) => `burst-${i}`));
  const welcomed = res.filter((r) => r.answer === 'welcome').length;
  // same-id took one of the 3 places.
  assert.equal(welcomed, 2, res.map((r) => r.answer).join(' | '));
  const enrolled = await Promise.all(['same-id', ...res.map((r) => r.agent.agentId)].map(async (id) => (await collector.store.getHost(id))?.publicKey ? id : null));
  assert.equal(new Set(enrolled.filter(Boolean)).size, 3, 'three agents enrolled in all');
  // Refused as not enrollable (4403), and once the address has failed 10 times, throttled (4429).
  for (const r of res.filter((x) => x.answer !== 'welcome')) assert.match(r.answer, new RegExp(`^closed (${CloseCode.forbidden}|${CloseCode.rateLimited}) `));
  for (const r of res) r.agent.close();
  // An enrolled agent still reconnects at the cap.
  const again = await RawAgent.connect(ingestUrl);
  const winner = res.find((r) => r.answer === 'welcome')!.agent;
  again.keys = winner.keys;
  await again.hello(fullHello(winner.agentId));
  again.close();
});
