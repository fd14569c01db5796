import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { Spool } from '../../agent/spool.js';
import { tempDir } from '../helpers/env.js';

const bytes = (n: number) => Uint8Array.from([n & 0xff, 1, 2, 3]);

test('spool keeps samples across reopen until acked, and never reuses a sequence number', () => {
  const tmp = tempDir();
  try {
    const a = new Spool(tmp.dir);
    assert.deepEqual([a.push(1000, bytes(1)), a.push(2000, bytes(2)), a.push(3000, bytes(3))], [1, 2, 3]);
    a.close();
    const b = new Spool(tmp.dir);
    assert.deepEqual(b.after(0, 10).map((r) => [r.seq, r.tsMs, r.bytes[0]]), [[1, 1000, 1], [2, 2000, 2], [3, 3000, 3]]);
    b.ack(2);
    assert.equal(b.ackedSeq, 2);
    assert.deepEqual(b.after(0, 10).map((r) => r.seq), [3]);
    b.ack(3);
    assert.equal(b.size, 0);
    // Even with the spool empty, numbering continues: the collector has 1..3 already.
    assert.equal(b.push(4000, bytes(4)), 4);
    b.close();
    const c = new Spool(tmp.dir);
    assert.equal(c.ackedSeq, 3);
    assert.equal(c.push(5000, bytes(5)), 5);
    c.close();
  } finally {
    tmp.cleanup();
  }
});

test('a full spool drops its oldest samples and counts them', () => {
  const tmp = tempDir();
  try {
    const s = new Spool(tmp.dir, { maxSamples: 10 });
    for (let i = 1; i <= 25; i++) s.push(i * 1000, bytes(i));
    assert.equal(s.size, 10);
    assert.equal(s.dropped, 15);
    assert.deepEqual(s.after(0, 100).map((r) => r.seq), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    s.close();
  } finally {
    tmp.cleanup();
  }
});

test('a corrupt spool file gives a clear error naming it', () => {
  const tmp = tempDir();
  try {
    writeFileSync(`${tmp.dir}/spool.db`, 'this is not a database, just garbage bytes '.repeat(200));
    assert.throws(() => new Spool(tmp.dir), /spool .*spool\.db cannot be opened/);
  } finally {
    tmp.cleanup();
  }
});
