// A report's size is bounded (report/budget.ts): a period holding more signed batch bytes than
// the limit is refused before it is built, by the collector's route (413, with the longest period
// that fits; check=1 answers the same from the estimate alone) and by `assay report` (exit 1,
// no file written); a period whose estimate is low still stops at the limit while being read.
// Periods under the limit give the same verified report as before. A real collector on
// 127.0.0.1 with a SQLite store, recorded samples sent by a real agent over its WebSocket.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { quantizeSample } from '../../agent/quantize.js';
import { asSentSockets, readTraceSamples } from '../../bench/payload-sizes.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { checkReportBudget } from '../../collector/report/budget.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import type { ISample } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { fullHello } from '../helpers/messages.js';
import { runAssay } from '../helpers/proc.js';
import { RawAgent } from '../helpers/rawagent.js';

const SECRET = 'test-enroll-secret-report-budget-0';
const LIMIT = 100_000;
let collector: RunningCollector;
let tmp: ReturnType<typeof tempDir>;
const T_END = Date.now() - 60_000;

/** Recorded server samples as the agent sends them, at 1 Hz, ending a minute ago. */
const recorded = readTraceSamples('bench/data/server-host.trace.ndjson.gz').map((s) => asSentSockets(quantizeSample(s)));
const at = (s: ISample, i: number, n: number): ISample => ({ ...s, tsMs: T_END - (n - i) * 1000 });
const big = recorded.slice(0, 300).map((s, i, all) => at(s, i, all.length));
/**
 * Tiny samples in the first and last 240 (60 batches of 4 at each end: more than the estimate
 * reads there), 200 recorded ones between them in batches of 5 as the agent sends them: an estimate from the ends is low.
 */
const TINY = 240;
const middle = recorded.slice(300, 500);
const uneven = [...Array.from({ length: TINY }, (): ISample => ({ tsMs: 0, cpu: { totalPct: 1 } })), ...middle, ...Array.from({ length: TINY }, (): ISample => ({ tsMs: 0, cpu: { totalPct: 2 } }))].map((s, i, all) => at(s, i, all.length));
const unevenSizes = [...Array.from({ length: TINY / 4 }, () => 4), ...Array.from({ length: 40 }, () => 5), ...Array.from({ length: TINY / 4 }, () => 4)];

async function send(id: string, samples: ISample[], sizes: number[]): Promise<void> {
  const a = await RawAgent.connect(collector.url.replace('http', 'ws') + '/ingest');
  await a.hello(fullHello(id), SECRET);
  let i = 0;
  for (const n of sizes) {
    await a.batch(i + 1, samples.slice(i, i + n));
    i += n;
  }
  assert.equal(i, samples.length);
  a.close();
  await a.closed;
}

before(async () => {
  tmp = tempDir('assay-report-budget-');
  collector = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'assay.db'), enrollSecret: SECRET, reportMaxBytes: LIMIT, limits: { maxFrameBytes: 4 * 1024 * 1024, maxBatchSamples: 500 } });
  await send('steady', big, Array.from({ length: 60 }, () => 5));
  await send('uneven', uneven, unevenSizes);
});

after(async () => {
  await collector.close();
  tmp.cleanup();
});

const url = (id: string, from: number, to: number, extra = ''): string => `${collector.url}/api/hosts/${id}/report?from=${from}&to=${to}${extra}`;
const whole = { fromMs: big[0]!.tsMs! - 500, toMs: T_END };

test('a period over the limit is refused before it is built: 413 naming the limit and the longest period that fits', async () => {
  for (const [format, extra] of [['json', ''], ['html', '&format=html'], ['check', '&check=1']]) {
    const r = await fetch(url('steady', whole.fromMs, whole.toMs, extra));
    assert.equal(r.status, 413, format);
    const body = (await r.json()) as { error: string; signedBytes: number; limitBytes: number; maxPeriodMs: number };
    assert.equal(body.limitBytes, LIMIT);
    assert.ok(body.signedBytes > LIMIT, `${body.signedBytes}`);
    assert.ok(body.maxPeriodMs >= 60_000 && body.maxPeriodMs < whole.toMs - whole.fromMs, `${body.maxPeriodMs}`);
    assert.match(body.error, /about [\d.]+ MB of signed batches, over the limit of 0\.1 MB .*--report-max-bytes \/ ASSAY_REPORT_MAX_BYTES.*periods of at most \d+ min each/);
  }
});

test('a period under the limit gives the whole report, which verifies; check=1 says it fits', async () => {
  const period = { fromMs: big[200]!.tsMs! - 500, toMs: T_END }; // the last 100 samples, ~60 KB signed
  const c = await fetch(url('steady', period.fromMs, period.toMs, '&check=1'));
  assert.equal(c.status, 200);
  const est = (await c.json()) as { signedBytes: number; limitBytes: number };
  assert.ok(est.signedBytes > 0 && est.signedBytes <= LIMIT, `${est.signedBytes}`);
  const r = await fetch(url('steady', period.fromMs, period.toMs));
  assert.equal(r.status, 200);
  const text = await r.text();
  const report = JSON.parse(text) as Report;
  assert.equal(report.hosts[0]!.derived.samples, 100);
  assert.equal(report.hosts[0]!.input.batches!.length, 20);
  assert.deepEqual(verifyReportBytes(Buffer.from(text, 'utf8')).failures, []);
});

test('a period whose estimate is under the limit still stops at the limit while its batches are read', async () => {
  const period = { fromMs: uneven[0]!.tsMs! - 500, toMs: T_END };
  // The estimate from the tiny first and last batches is under the limit ...
  const estimate = await checkReportBudget(collector.store, ['uneven'], period, LIMIT);
  assert.ok(estimate < LIMIT, `${estimate}`);
  assert.equal((await fetch(url('uneven', period.fromMs, period.toMs, '&check=1'))).status, 200);
  // ... the bytes read are not: refused once they pass it, never a report over the limit.
  const r = await fetch(url('uneven', period.fromMs, period.toMs));
  assert.equal(r.status, 413);
  const body = (await r.json()) as { error: string; signedBytes: number; limitBytes: number };
  assert.ok(body.signedBytes > LIMIT && body.signedBytes < LIMIT + 20_000, `${body.signedBytes}: stopped at the batch that passed the limit`);
  assert.match(body.error, /over [\d.]+ MB of signed batches, over the limit of 0\.1 MB/);
  // The collector serves on: a period of that host under the limit still reports.
  const ok = await fetch(url('uneven', uneven.at(-TINY)!.tsMs! - 500, T_END));
  assert.equal(ok.status, 200);
  assert.deepEqual(verifyReportBytes(Buffer.from(await ok.text(), 'utf8')).failures, []);
});

test('assay report refuses a period over --report-max-bytes with the limit and how to split it, and writes no file', async () => {
  const db = join(tmp.dir, 'assay.db');
  const out = join(tmp.dir, 'big.json');
  const refused = await runAssay(['report', '--db', db, '--host', 'steady', '--from', String(whole.fromMs), '--to', String(whole.toMs), '--out', out, '--report-max-bytes', String(LIMIT)]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^assay: this report would embed about [\d.]+ MB of signed batches, over the limit of 0\.1 MB .*periods of at most \d+ min each/m);
  assert.equal(existsSync(out), false);
  // The same period with a limit it fits under: a report that verifies, as before.
  const ok = await runAssay(['report', '--db', db, '--host', 'steady', '--from', String(whole.fromMs), '--to', String(whole.toMs), '--out', out], { ASSAY_REPORT_MAX_BYTES: '1000000' });
  assert.equal(ok.code, 0, ok.stderr);
  const verified = await runAssay(['verify', out]);
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, /every figure recomputed from 300 samples/);
  // A limit below what the flag takes is a usage error, not a silent default.
  const bad = await runAssay(['report', '--db', db, '--host', 'steady', '--report-max-bytes', '10']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /report-max-bytes must be an integer from 100000 to 1000000000/);
});
