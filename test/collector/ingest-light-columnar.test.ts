// The ack path reads a columnar payload (encodings 3, 4 and 5) from its columns without rebuilding its
// samples (collector/ingest/light-sample.ts readLightSamples). Checked here against the reading it
// replaces, every sample rebuilt (payloadFrames) and read whole (readLightSample): on every
// recorded trace, chained as the agent chains, and on thousands of garbled, hostile and
// hand-made containers (entry blocks inside other fields' bytes, a list's field also among the
// other bytes, a list the ack path does not read, text that is not UTF-8 in an entry that changed,
// in one repeated unchanged, in the prior), both give the same samples, the same prior for the
// next batch, or the same refusal with the same message: nothing refused before is acked now.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { readLightSample, readLightSamples } from '../../collector/ingest/light-sample.js';
import { sha256 } from '../../proto/chain.js';
import { assay, encodeSample, type ISample } from '../../proto/codec.js';
import { COLUMNAR_LISTS, encodeColumnar } from '../../proto/columnar.js';
import { BatchEncoding, CHAIN_MAX_BATCHES, PRIOR_DIGEST_BYTES, encodePayload, lastFrame, lastSample, payloadChained, payloadFrames, payloadSamples } from '../../proto/payload.js';

const COLUMNAR = BatchEncoding.BATCH_ENCODING_COLUMNAR;
const CHAINED = BatchEncoding.BATCH_ENCODING_CHAINED;
const VALUES = BatchEncoding.BATCH_ENCODING_CHAINED_VALUES;
const LIMIT = 64 * 1024 * 1024;

const traces = (dir: string): string[] => readdirSync(dir).filter((f) => /\.trace\.ndjson(\.gz)?$/.test(f)).sort().map((f) => join(dir, f));
const asSent = (file: string): Uint8Array[] => readTraceSamples(file).map((s) => encodeSample(asSentSockets(quantizeSample(s))));
const server = asSent('bench/data/server-host.trace.ndjson.gz');

type Outcome = { samples: unknown; last: Buffer | null } | { refused: string };

function outcome(read: () => { samples: unknown; last: Uint8Array | null }): Outcome {
  try {
    const { samples, last } = read();
    return { samples, last: last ? Buffer.from(last) : null };
  } catch (err) {
    const e = err as Error & { reason?: string; code?: number };
    return { refused: `${e.name} ${e.code ?? ''} ${e.reason ?? ''}: ${e.message}` };
  }
}

/** Both readings of one payload: each sample rebuilt and read whole (before), and from the columns (now). */
/** `allFromColumns`: every sample that is not raw must be read from the columns, none read again from its rebuilt bytes. */
function compare(encoding: number, payload: Uint8Array, prior: Uint8Array | null, count: number, what: string, allFromColumns = false): Outcome {
  const seqs = Array.from({ length: count }, (_, i) => 100 + i);
  const before = outcome(() => {
    const frames = payloadFrames(encoding, payload, LIMIT, count, prior);
    const cursor = { processes: null, sockets: null };
    return { samples: frames.map((f, i) => readLightSample(f, seqs[i]!, cursor, true)), last: lastFrame(frames) };
  });
  const now = outcome(() => {
    const read = payloadSamples(encoding, payload, LIMIT, count, prior);
    assert.ok(read.columnar, `${what}: read from the columns`);
    const counts = { fromColumns: 0 };
    const samples = readLightSamples(read, seqs, true, undefined, counts);
    if (allFromColumns) assert.equal(counts.fromColumns, read.columnar.samples.filter((s) => !s.raw).length, `${what}: every sample read from the columns`);
    return { samples, last: lastSample(read) };
  });
  assert.deepEqual(now, before, what);
  return now;
}

/** A chained payload (encoding 4) of this container, encoded against `prior`, as encodePayload seals one. */
const chainedPayload = (container: Uint8Array, prior: Uint8Array): Buffer =>
  Buffer.concat([Buffer.of(1), sha256(prior).subarray(0, PRIOR_DIGEST_BYTES), deflateRawSync(container, { dictionary: prior })]);

test('every recorded trace, in chained batches of 5 as the agent seals them: the same samples, signatures and prior as from the rebuilt samples', () => {
  const files = [...traces('bench/data'), ...traces('test/corpus'), ...traces('bench/heldout')];
  assert.ok(files.length >= 20, `${files.length} traces`);
  let batches = 0;
  let signed = 0;
  for (const file of files) {
    const bytes = file.includes('server-host') ? server : asSent(file);
    // Encoding 4, and 5 (value-coded columns) on every other trace: both are what agents send.
    for (const encoding of files.indexOf(file) % 2 === 0 ? [CHAINED, VALUES] : [CHAINED]) {
      let prior: Uint8Array | null = null;
      for (let i = 0, j = 0; i < bytes.length; i += 5, j++) {
        const batch = bytes.slice(i, i + 5);
        const payload = encodePayload(batch, encoding, j % CHAIN_MAX_BATCHES === 0 ? null : prior);
        const got = compare(encoding, payload, payloadChained(encoding, payload) ? prior : null, batch.length, `${file} batch ${j} (encoding ${encoding})`, true);
        assert.ok('samples' in got, `${file} batch ${j} read`);
        assert.ok(got.last!.equals(Buffer.from(batch.at(-1)!)), `${file} batch ${j}: the prior for the next batch is its last sample`);
        signed += (got.samples as Array<{ sample: ISample }>).reduce((n, s) => n + (s.sample.processes?.length ?? 0), 0);
        prior = batch.at(-1)!;
        batches++;
      }
    }
  }
  assert.ok(batches > 500 && signed > 100, `${batches} batches, ${signed} signed processes compared`);
});

test('garbled containers, keyframes and chained: the same samples or the same refusal', () => {
  let seed = 20261207;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const prior = server[299]!;
  const keyframe = Buffer.from(encodeColumnar(server.slice(300, 305)));
  const chained = Buffer.from(encodeColumnar(server.slice(300, 305), COLUMNAR_LISTS, undefined, prior));
  assert.equal(chained[0], 2, 'the container refers to its prior');
  // Encoding 5's value-coded containers (versions 3 and 4).
  const valuesKeyframe = Buffer.from(encodeColumnar(server.slice(300, 305), COLUMNAR_LISTS, undefined, null, true));
  const valuesChained = Buffer.from(encodeColumnar(server.slice(300, 305), COLUMNAR_LISTS, undefined, prior, true));
  assert.deepEqual([valuesKeyframe[0], valuesChained[0]], [3, 4], 'value-coded containers');
  let refused = 0;
  let read = 0;
  const MAX = 1200;
  const started = Date.now();
  for (let i = 0; i < MAX && Date.now() - started < 60_000; i++) {
    const chain = i % 2 === 1;
    const values = i % 4 >= 2;
    const g = Buffer.from(values ? (chain ? valuesChained : valuesKeyframe) : chain ? chained : keyframe);
    const flips = 1 + rand(4);
    for (let k = 0; k < flips; k++) {
      const at = rand(g.length);
      g[at] = rand(3) === 0 ? rand(256) : g[at]! ^ (1 << rand(8));
    }
    const got = values
      ? chain
        ? compare(VALUES, chainedPayload(g, prior), prior, 5, `value-coded chained, garbled (${i})`)
        : compare(VALUES, Buffer.concat([Buffer.of(0), brotliCompressSync(g)]), null, 5, `value-coded keyframe, garbled (${i})`)
      : chain
        ? compare(CHAINED, chainedPayload(g, prior), prior, 5, `chained, garbled (${i})`)
        : compare(COLUMNAR, brotliCompressSync(g), null, 5, `keyframe, garbled (${i})`);
    if ('refused' in got) refused++;
    else read++;
  }
  // Most flips land in values (other samples, which the signed digest tells apart); the rest are refused, by both alike.
  assert.ok(refused > 50 && read > 50, `${refused} refused, ${read} read`);
});

/** A Sample's bytes with `fields` (each [field number, wire type, bytes]) appended. */
function withFields(sample: Uint8Array, fields: Array<[number, number, Uint8Array]>): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  return Buffer.concat([Buffer.from(sample), ...fields.map(([f, w, b]) => Buffer.from([...varint(f * 8 + w), ...(w === 2 ? varint(b.length) : []), ...b]))]);
}

/** `bytes` with the first occurrence of `text` (a length-prefixed string) made invalid UTF-8. */
function corrupt(bytes: Uint8Array, text: string): Buffer {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]));
  assert.ok(at >= 0, `${text} found`);
  out[at + 1] = 0xff;
  out[at + 2] = 0xfe;
  return out;
}

test('hostile containers the encoder never writes, and text that is not UTF-8 where the columns carry it: the same answer as from the rebuilt samples', () => {
  const base = server.slice(400, 405).map((b) => assay.v1.Sample.decode(b));
  const enc = (samples: ISample[]): Uint8Array[] => samples.map((s) => encodeSample(s));
  const named = (s: ISample, at: number, name: string): ISample => ({ ...s, processes: s.processes!.map((p, i) => (i === at ? { ...p, name } : p)) });
  const stated = (s: ISample, at: number, state: string): ISample => ({ ...s, sockets: s.sockets!.map((x, i) => (i === at ? { ...x, state } : x)) });
  const cases: Array<[string, Uint8Array[], Uint8Array | null, 'read' | 'refused']> = [
    // A changed process's name, not UTF-8, in a later sample (read from the columns, the entry rebuilt).
    ['process name not UTF-8 in sample 3', [...enc(base.slice(0, 2)), corrupt(encodeSample(named(base[2]!, 7, 'QQbadname')), 'QQbadname'), ...enc(base.slice(3))], null, 'refused'],
    // The same entry repeated unchanged in the samples after (refused at its first sample all the same).
    ['process name not UTF-8, repeated', enc(base.map((s, i) => (i === 0 ? s : named(s, 3, 'QQrep')))).map((b, i) => (i === 0 ? b : corrupt(b, 'QQrep'))), null, 'refused'],
    ['socket state not UTF-8 in sample 5', [...enc(base.slice(0, 4)), corrupt(encodeSample(stated(base[4]!, 2, 'QQSTATE')), 'QQSTATE')], null, 'refused'],
    // A process entry also among the sample's other fields (the encoder sends such a sample whole: made by hand below).
    ['well formed', enc(base), null, 'read'],
  ];
  // A prior whose entry is not valid UTF-8, repeated unchanged by the batch's first sample: refused there.
  const badPrior = corrupt(encodeSample(named(base[0]!, 5, 'QQprior')), 'QQprior');
  cases.push(['prior entry not UTF-8, repeated by the first sample', enc([named(base[1]!, 5, 'QQprior'), ...base.slice(2)]).map((b, i) => (i === 0 ? corrupt(b, 'QQprior') : b)), badPrior, 'refused']);
  for (const [what, samples, prior, expect] of cases) {
    const payload = prior ? chainedPayload(encodeColumnar(samples, COLUMNAR_LISTS, undefined, prior), prior) : encodePayload(samples, COLUMNAR);
    const got = compare(prior ? CHAINED : COLUMNAR, payload, prior, samples.length, what);
    assert.equal('refused' in got ? 'refused' : 'read', expect, `${what}: ${JSON.stringify('refused' in got ? got.refused : '')}`);
    if ('refused' in got) assert.match(got.refused, /not valid UTF-8/, what);
  }

  // Containers the encoder never writes, made from its own by hand.
  const samples = enc(base);
  const container = Buffer.from(encodeColumnar(samples));
  const extra = Buffer.from([0x4a, ...lengthOf(assay.v1.Process.encode({ pid: 424242, name: 'extra', signature: { cmdline: 'x' } }).finish())]);
  const hand: Array<[string, Buffer]> = [
    // A process entry (field 9) also among a sample's other bytes, after its lists.
    ['a process entry among the other fields too', editContainer(container, (meta, rests) => {
      rests[1] = Buffer.concat([rests[1]!, extra]);
      meta[1]![1] = rests[1].length;
    })!],
    // Field 9 as a number among the other fields (the decoder skips it).
    ['field 9 as a number among the other fields', Buffer.from(encodeColumnar(samples.map((x) => withFields(x, [[9, 0, Uint8Array.of(5)]]))))],
    // Disks (field 5) taken apart as a list: a list the ack path does not read from the columns.
    ['disks as a columnar list', Buffer.from(encodeColumnar(samples, [{ field: 5, key: 1 }, ...COLUMNAR_LISTS], 0))],
    // Processes left among the other fields (too few to take apart), sockets taken apart.
    ['processes among the other fields, sockets taken apart', Buffer.from(encodeColumnar(samples, [COLUMNAR_LISTS[1]!]))],
  ];
  for (const [what, c] of hand) {
    const got = compare(COLUMNAR, brotliCompressSync(c), null, 5, what);
    assert.ok('samples' in got, `${what}: read`);
  }
  // A list's offset moved into the bytes before it: the rebuilt sample then holds its entries
  // inside another field's bytes (refused, or read as that field), as the columns' reading does.
  let moved = 0;
  for (let back = 1; back < 60; back++) {
    for (const l of [0, 1]) {
      const c = editContainer(container, (meta) => {
        const at = 2 + 2 * l;
        if (meta[2]![at]! < back) return false;
        meta[2]![at] -= back;
        return true;
      });
      if (!c) continue;
      compare(COLUMNAR, brotliCompressSync(c), null, 5, `list ${l} of sample 3 moved back ${back} bytes`);
      moved++;
    }
  }
  assert.ok(moved > 60, `${moved} containers with a moved offset`);
});

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const lengthOf = (b: Uint8Array): number[] => [...varint(b.length), ...b];

/**
 * A container changed by `edit`, given each sample's meta numbers (mode, then rest length and
 * per list offset and count, or the length of a raw sample) and rest bytes (proto/columnar.ts's
 * layout); null when `edit` returns false.
 */
function editContainer(container: Buffer, edit: (meta: number[][], rests: Buffer[]) => boolean | void): Buffer | null {
  let pos = 0;
  const v = (): number => {
    let x = 0;
    let mul = 1;
    for (;;) {
      const b = container[pos++]!;
      x += (b & 127) * mul;
      if (b < 128) return x;
      mul *= 128;
    }
  };
  v(); // version
  const nLists = v();
  for (let l = 0; l < nLists; l++) v();
  for (let l = 0; l < nLists; l++) for (let i = 0, n = v(); i < n; i++) v();
  const nSamples = v();
  const prefix = container.subarray(0, pos);
  const metaLen = v();
  const metaEnd = pos + metaLen;
  const meta: number[][] = [];
  for (let s = 0; s < nSamples; s++) {
    const mode = v();
    meta.push(mode === 0 ? [mode, v()] : [mode, v(), ...Array.from({ length: 2 * nLists }, v)]);
  }
  assert.equal(pos, metaEnd);
  const restLen = v();
  const rests: Buffer[] = [];
  for (const m of meta) {
    rests.push(Buffer.from(container.subarray(pos, pos + m[1]!)));
    pos += m[1]!;
  }
  assert.equal(rests.reduce((n, r) => n + r.length, 0), restLen);
  const columns = container.subarray(pos);
  if (edit(meta, rests) === false) return null;
  const metaBytes = Buffer.from(meta.flat().flatMap(varint));
  const rest = Buffer.concat(rests);
  return Buffer.concat([prefix, Buffer.from(varint(metaBytes.length)), metaBytes, Buffer.from(varint(rest.length)), rest, columns]);
}
