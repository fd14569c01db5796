import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CloseCode,
  SCHEMA_VERSION,
  WireError,
  assay,
  decodeAgentMessage,
  decodeCollectorMessage,
  decodeSample,
  encodeAgentMessage,
  encodeCollectorMessage,
  encodeSample,
} from '../../proto/codec.js';
import { fullHello, fullSample } from '../helpers/messages.js';

const plain = (m: object): unknown => JSON.parse(JSON.stringify(m));

test('hello round trips with every field', () => {
  const hello = fullHello();
  const msg = decodeAgentMessage(encodeAgentMessage({ hello }));
  assert.equal(msg.body, 'hello');
  assert.equal(msg.schemaVersion, SCHEMA_VERSION);
  assert.deepEqual(plain(assay.v1.Hello.toObject(msg.hello as assay.v1.Hello, { bytes: Array })), plain(assay.v1.Hello.toObject(assay.v1.Hello.fromObject(hello), { bytes: Array })));
});

test('signed batch and its header round trip with every field, 64-bit values as exact numbers', () => {
  const samples = [fullSample(1_795_000_001_000), fullSample(1_795_000_002_000, 7)].map((x) => encodeSample(x));
  const headerObj = {
    agentId: 'agent-test-1',
    seqs: [2 ** 40 + 3, 2 ** 40 + 4],
    prevHash: new Uint8Array(32).fill(1),
    samplesDigest: new Uint8Array(32).fill(2),
    gaps: [{ fromSeq: 5, toSeq: 9, fromMs: 1_795_000_000_000, toMs: 1_795_000_004_000, cause: 'spool_thinned', samples: 3 }],
    sealedMs: 1_795_000_003_000,
  };
  const header = assay.v1.BatchHeader.encode(headerObj).finish();
  const msg = decodeAgentMessage(encodeAgentMessage({ batch: { header, signature: new Uint8Array(64).fill(3), samples } }));
  assert.equal(msg.body, 'batch');
  assert.deepEqual(Buffer.from(msg.batch!.header!), Buffer.from(header));
  assert.deepEqual(msg.batch!.samples!.map((x) => Buffer.from(x)), samples.map((x) => Buffer.from(x)));
  const back = assay.v1.BatchHeader.decode(msg.batch!.header!);
  assert.equal(back.seqs![0], 2 ** 40 + 3);
  assert.deepEqual(plain(assay.v1.BatchHeader.toObject(back, { bytes: Array })), plain(assay.v1.BatchHeader.toObject(assay.v1.BatchHeader.fromObject(headerObj), { bytes: Array })));
  assert.deepEqual(plain(assay.v1.Sample.toObject(decodeSample(msg.batch!.samples![1]!))), plain(fullSample(1_795_000_002_000, 7)));
});

test('a single sample round trips on its own (the spool stores samples one by one)', () => {
  const s = fullSample();
  assert.deepEqual(plain(assay.v1.Sample.toObject(decodeSample(encodeSample(s)))), plain(s));
});

test('welcome and ack round trip', () => {
  const welcome = { collectorVersion: '0.1.0', lastSeq: 123_456_789_012, maxBatchSamples: 1000, maxFrameBytes: 4_194_304, chainHead: [9, 9, 9] };
  const w = decodeCollectorMessage(encodeCollectorMessage({ welcome: { ...welcome, chainHead: Uint8Array.from(welcome.chainHead) } }));
  assert.equal(w.body, 'welcome');
  assert.deepEqual(plain(assay.v1.Welcome.toObject(w.welcome as assay.v1.Welcome, { bytes: Array })), welcome);
  const ack = { lastSeq: 99, accepted: 5, duplicates: 2, chainHead: [1, 2] };
  const a = decodeCollectorMessage(encodeCollectorMessage({ ack: { ...ack, chainHead: Uint8Array.from(ack.chainHead) } }));
  assert.equal(a.body, 'ack');
  assert.deepEqual(plain(assay.v1.Ack.toObject(a.ack as assay.v1.Ack, { bytes: Array })), ack);
  const challenge = decodeCollectorMessage(encodeCollectorMessage({ challenge: { nonce: new Uint8Array(32).fill(5), collectorTimeMs: 1_795_000_000_000 } }));
  assert.equal(challenge.body, 'challenge');
  assert.equal(challenge.challenge!.nonce!.length, 32);
  assert.equal(challenge.challenge!.collectorTimeMs, 1_795_000_000_000);
});

test('truncated frames are refused as malformed', () => {
  const bytes = encodeAgentMessage({ hello: fullHello() });
  for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
    assert.throws(
      () => decodeAgentMessage(bytes.subarray(0, cut)),
      (err: unknown) => err instanceof WireError && (err.code === CloseCode.malformed || err.code === CloseCode.schemaVersion || err.code === CloseCode.unexpectedMessage),
      `cut at ${cut}`,
    );
  }
});

test('garbage, wrong schema version and empty messages are refused with distinct reasons', () => {
  assert.throws(() => decodeAgentMessage(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])), (e: unknown) => e instanceof WireError && e.reason === 'malformed');
  const v2 = assay.v1.AgentMessage.encode({ schemaVersion: 1, hello: fullHello() }).finish();
  assert.throws(() => decodeAgentMessage(v2), (e: unknown) => e instanceof WireError && e.code === CloseCode.schemaVersion);
  const none = assay.v1.AgentMessage.encode({ schemaVersion: SCHEMA_VERSION }).finish();
  assert.throws(() => decodeAgentMessage(none), (e: unknown) => e instanceof WireError && e.reason === 'unknown_message');
  // A field number this build does not know (a newer agent's message type) carries no known body.
  const future = Uint8Array.from([...assay.v1.AgentMessage.encode({ schemaVersion: SCHEMA_VERSION }).finish(), 0x2a, 0x00]);
  assert.throws(() => decodeAgentMessage(future), (e: unknown) => e instanceof WireError && e.reason === 'unknown_message');
});

test('64-bit fields left at their default decode as the number 0, not a Long', () => {
  // A new host's Welcome has last_seq 0, which is not on the wire: the prototype default is used.
  const w = decodeCollectorMessage(encodeCollectorMessage({ welcome: { collectorVersion: 'x' } }));
  assert.equal(w.welcome!.lastSeq, 0);
  assert.equal(typeof w.welcome!.lastSeq, 'number');
  assert.equal(typeof decodeSample(encodeSample({})).tsMs, 'number');
});
