// Stored series for roll-up, retention and bench code: samples whose every chart series moves
// with seq, appended through the store's real append path in chained batches.
import { frameSamples } from '../../proto/payload.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Store, IncomingSample } from '../../collector/store/store.js';
import { encodeSample, type ISample } from '../../proto/codec.js';

/** A sample whose every chart series moves with seq; GPU on even minutes only, power on most. */
export function chartSample(seq: number, tsMs: number): ISample {
  const minute = Math.floor(tsMs / 60_000);
  return {
    tsMs,
    cpu: { totalPct: (seq * 7.3) % 100 },
    load: { load1: (seq % 13) / 3 },
    memory: { totalBytes: 64 * 2 ** 30 + (seq % 3), usedBytes: 2 ** 30 + seq * 4096 },
    disks: [{ device: 'sda', readBytesPerSec: seq * 10, writeBytesPerSec: seq * 3 }],
    net: [{ iface: 'eth0', rxBytesPerSec: seq * 100.5, txBytesPerSec: seq * 2 }],
    ...(minute % 2 === 0 ? { gpus: [{ index: 0, utilPct: seq % 101, memUsedBytes: 1000 + seq }] } : {}),
    ...(seq % 5 !== 0 ? { power: [{ domain: 'package-0', source: 'rapl', watts: 50 + (seq % 17) }] } : {}),
  };
}

export class Feeder {
  head: Uint8Array = new Uint8Array();
  n = 0;
  constructor(
    readonly store: Store,
    readonly hostId: string,
  ) {}
  /** Appends samples (seq, ts) in batches of `per`, each received at its last sample's time. */
  async feed(rows: Array<{ seq: number; tsMs: number }>, per: number, make: (seq: number, ts: number) => ISample = chartSample): Promise<void> {
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      const samples: IncomingSample[] = chunk.map((r) => ({ seq: r.seq, sample: make(r.seq, r.tsMs) }));
      const hash = createHash('sha256').update(`${this.hostId}:${this.n++}`).digest();
      const res = await this.store.appendBatch(this.hostId, { hash, prevHash: this.head, header: new Uint8Array([1]), signature: new Uint8Array([2]), encoding: 0, payload: frameSamples(samples.map((x) => encodeSample(x.sample))), samples, gaps: [] }, chunk.at(-1)!.tsMs + 200);
      assert.equal(res.status, 'stored');
      this.head = hash;
    }
  }
}

export const every = (n: number, fromSeq: number, t0: number, stepMs: number): Array<{ seq: number; tsMs: number }> =>
  Array.from({ length: n }, (_, i) => ({ seq: fromSeq + i, tsMs: t0 + i * stepMs }));

