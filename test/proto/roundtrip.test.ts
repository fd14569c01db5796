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
  assert.deepEqual(plain(assay.v1.Hello.toObject(msg.hello as assay.v1.Hello)), plain(hello));
});

test('sample batch round trips with every field, 64-bit values as exact numbers', () => {
  const samples = [fullSample(1_795_000_001_000), fullSample(1_795_000_002_000, 7)];
  const msg = decodeAgentMessage(encodeAgentMessage({ batch: { firstSeq: 2 ** 40 + 3, samples } }));
  assert.equal(msg.body, 'batch');
  assert.equal(msg.batch!.firstSeq, 2 ** 40 + 3);
  assert.equal(typeof msg.batch!.samples![0]!.tsMs, 'number');
  const back = msg.batch!.samples!.map((s) => plain(assay.v1.Sample.toObject(s as assay.v1.Sample)));
  assert.deepEqual(back, plain(samples));
});

test('a single sample round trips on its own (the spool stores samples one by one)', () => {
  const s = fullSample();
  assert.deepEqual(plain(assay.v1.Sample.toObject(decodeSample(encodeSample(s)))), plain(s));
});

test('welcome and ack round trip', () => {
  const welcome = { collectorVersion: '0.1.0', lastSeq: 123_456_789_012, maxBatchSamples: 1000, maxFrameBytes: 4_194_304 };
  const w = decodeCollectorMessage(encodeCollectorMessage({ welcome }));
  assert.equal(w.body, 'welcome');
  assert.deepEqual(plain(assay.v1.Welcome.toObject(w.welcome as assay.v1.Welcome)), welcome);
  const ack = { lastSeq: 99, accepted: 5, duplicates: 2 };
  const a = decodeCollectorMessage(encodeCollectorMessage({ ack }));
  assert.equal(a.body, 'ack');
  assert.deepEqual(plain(assay.v1.Ack.toObject(a.ack as assay.v1.Ack)), ack);
});

test('truncated frames are refused as malformed', () => {
  const bytes = encodeAgentMessage({ batch: { firstSeq: 1, samples: [fullSample()] } });
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
  const v2 = assay.v1.AgentMessage.encode({ schemaVersion: 2, hello: fullHello() }).finish();
  assert.throws(() => decodeAgentMessage(v2), (e: unknown) => e instanceof WireError && e.code === CloseCode.schemaVersion);
  const none = assay.v1.AgentMessage.encode({ schemaVersion: SCHEMA_VERSION }).finish();
  assert.throws(() => decodeAgentMessage(none), (e: unknown) => e instanceof WireError && e.reason === 'unknown_message');
  // A field number this build does not know (a newer agent's message type) carries no known body.
  const future = Uint8Array.from([...assay.v1.AgentMessage.encode({ schemaVersion: SCHEMA_VERSION }).finish(), 0x22, 0x00]);
  assert.throws(() => decodeAgentMessage(future), (e: unknown) => e instanceof WireError && e.reason === 'unknown_message');
});

test('64-bit fields left at their default decode as the number 0, not a Long', () => {
  // A new host's Welcome has last_seq 0, which is not on the wire: the prototype default is used.
  const w = decodeCollectorMessage(encodeCollectorMessage({ welcome: { collectorVersion: 'x' } }));
  assert.equal(w.welcome!.lastSeq, 0);
  assert.equal(typeof w.welcome!.lastSeq, 'number');
  assert.equal(typeof decodeSample(encodeSample({})).tsMs, 'number');
});
