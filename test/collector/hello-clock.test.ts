// The hello's clock check cannot be skipped by leaving the clock out. `time_ms` has been in every
// Hello the collector speaks (schema 2 and 3) and every agent sets it; a hello without it (or 0)
// used to pass the skew check untested, so a client could authenticate with no clock at all.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { CloseCode, encodeAgentMessage } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { RawAgent, type Closed } from '../helpers/rawagent.js';

const SECRET = 'hello-clock-secret-0123456789';
const tmp = tempDir('assay-hello-clock-');
let collector: RunningCollector;
let ingestUrl: string;

const closedWithin = (a: RawAgent, ms = 5000): Promise<Closed | null> => Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

before(async () => {
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  ingestUrl = collector.url.replace('http', 'ws') + '/ingest';
});
after(async () => {
  await collector.close();
  tmp.cleanup();
});

test('a hello without the agent clock (absent or 0) is refused before enrollment, and counted', async () => {
  for (const [id, timeMs] of [['no-clock-1', undefined], ['no-clock-2', 0]] as const) {
    const a = await RawAgent.connect(ingestUrl);
    const hello = { ...a.signedHello(fullHello(id), SECRET) };
    if (timeMs === undefined) delete hello.timeMs;
    else hello.timeMs = timeMs;
    a.send(encodeAgentMessage({ hello }));
    const closed = await closedWithin(a);
    assert.ok(closed, `${id}: the connection was not closed (the hello was accepted without a clock)`);
    assert.equal(closed.code, CloseCode.invalid, `${id}: close code (${closed.reason})`);
    assert.match(closed.reason, /time_ms/, `${id}: the reason names the missing field`);
    assert.equal(await collector.store.getHost(id), null, `${id}: nothing was enrolled`);
  }
  const metrics = await (await fetch(collector.url + '/metrics')).text();
  assert.match(metrics, /assay_ingest_rejects_total\{reason="bad_hello"\} 2/);
});

test('a hello with the agent clock still enrolls (the check refuses only what it cannot test)', async () => {
  const a = await RawAgent.connect(ingestUrl);
  const welcome = await a.hello(fullHello('with-clock-1'), SECRET);
  assert.equal(Number(welcome.lastSeq ?? 0), 0);
  assert.ok(await collector.store.getHost('with-clock-1'));
  a.close();
});
