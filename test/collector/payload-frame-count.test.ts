// An enrolled agent's payload is split into no more samples than its signed header lists.
// Found from outside: a 16 KB deflate payload of 16 MiB of zeros (within 4 x --max-frame-bytes)
// is 4 million empty 4-byte frames; the ack path built all of them before comparing the count
// with the header's one sequence number (measured: the event loop held 1.5 s, RSS +500 MB, for
// every such frame, whoever else was sending). Now the count is refused at the second frame.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { test } from 'node:test';
import { startCollector } from '../../collector/server.js';
import { sha256, signBytes } from '../../proto/chain.js';
import { CloseCode, assay } from '../../proto/codec.js';
import { BatchEncoding } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { fullHello, fullSample } from '../helpers/messages.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'frame-count-enroll-secret-0123';

test('a payload holding more samples than its header lists is refused before they are all split out; the agent goes on', async () => {
  const tmp = tempDir('frame-count');
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET });
  try {
    const url = c.url.replace('http', 'ws') + '/ingest';
    const a = await RawAgent.connect(url);
    await a.hello(fullHello('frame-bomber'), SECRET);
    const payload = deflateRawSync(Buffer.alloc(16 * 1024 * 1024 - 64), { level: 9 });
    assert.ok(payload.length < 20_000, `a small frame (${payload.length} bytes)`);
    const header = assay.v1.BatchHeader.encode({ agentId: 'frame-bomber', seqs: [1], prevHash: a.head, encoding: BatchEncoding.BATCH_ENCODING_DEFLATE, payloadDigest: sha256(payload), sealedMs: Date.now() }).finish();
    a.ws.send(assay.v1.AgentMessage.encode({ schemaVersion: 3, batch: { header, signature: signBytes(a.keys, header), payload } }).finish());
    const closed = await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    assert.equal(closed?.code, CloseCode.invalid, `closed with 4422 (${JSON.stringify(closed)})`);
    assert.match(closed!.reason, /the payload holds more than the 1 samples its header lists/);
    const metrics = await (await fetch(c.url + '/metrics')).text();
    assert.match(metrics, /assay_ingest_rejects_total\{reason="bad_payload"\} 1/);
    // Nothing of it was stored, and the agent reconnects and continues its chain.
    const b = await RawAgent.connect(url);
    b.keys = a.keys;
    const welcome = await b.hello(fullHello('frame-bomber'));
    assert.equal(Number(welcome.lastSeq), 0);
    assert.equal(Number((await b.batch(1, [fullSample(Date.now() - 2000), fullSample(Date.now() - 1000)])).lastSeq), 2);
    b.close();
  } finally {
    await c.close();
    tmp.cleanup();
  }
});
