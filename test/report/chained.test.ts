// Reports over chained batches (encoding 4: a batch's first sample encoded against the last
// sample of the batch before it). A period starting mid-chain embeds its context back to a
// keyframe, marked `context`, and verifies offline; its figures are those of the same samples
// sealed as keyframes; a tampered, missing or mismatched context fails `assay verify` with a
// clear message; a chain broken before the period (its keyframe gone) is said, not hidden.
// Real SQLite store, real sealed and signed batches, `assay verify` as a child process.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sealBatch } from '../../agent/batch.js';
import { buildReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { retentionOptions } from '../../collector/store/retention.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay, encodeSample } from '../../proto/codec.js';
import { BatchEncoding, CHAIN_WALK_LIMIT, payloadChained } from '../../proto/payload.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { commitSealed } from './chained-period.js';
import { S, T0, enroll, range, sample, verdict, type Agent } from './stored-period.js';

const collectorKeys = generateAgentKeys();
const NOW = T0 + 3_600_000;
/** 600 samples at 1 Hz in 120 batches of 5; keyframes at batches 1, 13, 25, … */
const ROWS = range(1, 600, (seq) => T0 + (seq - 1) * S);
/** Starts at seq 23, in batch 5 (seq 21–25): chained, its context batches 1–4 (seq 1–20, the first a keyframe). */
const PERIOD = { fromMs: T0 + 22 * S, toMs: T0 + 300 * S };
const CONTEXT = 4;

const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;
/** The report changed by `mutate`, then signed anew by the collector: only the agent's signatures, the chain and the figures can catch it. */
function resigned(r: Report, mutate: (r: Report) => void): Report {
  const t = copy(r);
  mutate(t);
  const { signature: _s, ...unsigned } = t;
  return signReport({ ...unsigned, signer: signerOf(collectorKeys, 'collector') }, collectorKeys);
}
const encodingOf = (b: { header: string }): number => assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64')).encoding ?? 0;
const chainedBatch = (b: { header: string; payload?: string }): boolean => payloadChained(encodingOf(b), Buffer.from(b.payload ?? '', 'base64'));

async function storeWith(dir: string, name: string, encoding: number): Promise<{ store: SqliteStore; agent: Agent; hashes: Uint8Array[] }> {
  const store = new SqliteStore(join(dir, name));
  store.db.pragma('synchronous = OFF');
  const agent = await enroll(store, 'chained', T0 - 60 * S);
  const hashes = await commitSealed(store, agent, ROWS, encoding);
  await store.putVerdict(agent.id, T0, verdict('ai-training', T0));
  await store.putVerdict(agent.id, T0 + 120 * S, verdict('mixed', T0 + 120 * S, [
    { class: 'ai-training', share: 0.8, processes: [{ pid: 4242, name: 'python3' }] },
    { class: 'pow-mining', share: 0.2, processes: [{ pid: 999, name: 'kworker' }] },
  ]));
  await store.putVerdict(agent.id, T0 + 180 * S, verdict('ai-training', T0 + 180 * S));
  return { store, agent, hashes };
}

describe('reports over chained batches', () => {
  const tmp = tempDir('assay-chained-report-');
  const stores: SqliteStore[] = [];
  let chained: Report;
  let keyframes: Report;
  let chainedAgent: Agent;
  before(async () => {
    const c = await storeWith(tmp.dir, 'chained.db', BatchEncoding.BATCH_ENCODING_CHAINED);
    const k = await storeWith(tmp.dir, 'keyframes.db', BatchEncoding.BATCH_ENCODING_COLUMNAR);
    stores.push(c.store, k.store);
    chainedAgent = c.agent;
    chained = await buildReport(c.store, { hostIds: ['chained'], ...PERIOD, keys: collectorKeys, nowMs: NOW });
    keyframes = await buildReport(k.store, { hostIds: ['chained'], ...PERIOD, keys: collectorKeys, nowMs: NOW });
  });
  after(async () => {
    for (const s of stores) await s.close();
    tmp.cleanup();
  });

  it('embeds the context back to a keyframe, marked as such, and verifies offline', async () => {
    const batches = chained.hosts[0]!.input.batches!;
    assert.equal(chained.format, 'assay-report/6');
    // Batches 1–4 (context), then 5–61 (seq 21–305: the period's seq 23–301).
    assert.equal(batches.length, CONTEXT + 57);
    assert.deepEqual(batches.map((b) => b.context === true), batches.map((_, i) => i < CONTEXT));
    assert.equal(chainedBatch(batches[0]!), false, 'the context starts at a keyframe');
    assert.ok(batches.slice(1, 12).every(chainedBatch), 'batches 2–12 are chained');
    assert.equal(chainedBatch(batches[12]!), false, 'batch 13 is the next keyframe');
    assert.equal(chained.hosts[0]!.derived.chain!.batches.filter((b) => b.context).length, CONTEXT);
    const v = verifyReport(chained);
    assert.deepEqual(v.failures, []);
    assert.ok(v.passed.some((p) => /61 batches \(the first 4 before the period, embedded only to decode the chained batch after them\) signed by agent key/.test(p)), v.passed.join('\n'));
    // Offline, as an auditor runs it: the JSON file and the HTML page, nothing else.
    const json = join(tmp.dir, 'chained.json');
    writeFileSync(json, JSON.stringify(chained));
    const out = await runAssay(['verify', json]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /every figure recomputed from 279 samples/);
    const html = renderHtml(chained);
    assert.match(html, /the first 4 before the period, embedded only to decode the chained batch after them/);
    assert.deepEqual(verifyReportBytes(Buffer.from(html)).failures, []);
  });

  it("gives the figures of the same samples sealed as keyframes: the context counts in none", () => {
    const c = chained.hosts[0]!.derived;
    const k = keyframes.hosts[0]!.derived;
    assert.equal(keyframes.hosts[0]!.input.batches!.length, 57);
    assert.ok(keyframes.hosts[0]!.input.batches!.every((b) => b.context === undefined));
    assert.equal(c.samples, 279);
    // The chain summaries differ (other payloads, other hashes, the context); nothing else does.
    assert.deepEqual({ ...c, chain: null }, { ...k, chain: null });
    assert.deepEqual(chained.statement, keyframes.statement);
    // Seq 1, in the first context batch, carries the training process's signature: it labels nothing.
    assert.equal(c.topProcesses[0]!.name, 'python3');
    assert.equal(c.topProcesses[0]!.exe, '');
  });

  it('fails a tampered context batch, re-signed or not', () => {
    const flipped = resigned(chained, (r) => {
      const b = r.hosts[0]!.input.batches![1]!;
      const payload = Buffer.from(b.payload!, 'base64');
      payload[payload.length - 1]! ^= 1;
      b.payload = payload.toString('base64');
    });
    const v = verifyReport(flipped);
    assert.equal(v.ok, false);
    assert.ok(v.failures.some((f) => /chained: batch 2\/61: payload does not match the signed digest/.test(f)), v.failures.join('\n'));
    assert.ok(v.failures.some((f) => /chained: batch 3\/61: it is chained to the batch before it, whose samples could not be read/.test(f)), v.failures.join('\n'));
    // A context header changed: the agent's signature and the link of the batch after it fail.
    const header = resigned(chained, (r) => {
      const b = r.hosts[0]!.input.batches![2]!;
      const h = assay.v1.BatchHeader.decode(Buffer.from(b.header, 'base64'));
      h.sealedMs = Number(h.sealedMs) + 1;
      b.header = Buffer.from(assay.v1.BatchHeader.encode(h).finish()).toString('base64');
    });
    const hv = verifyReport(header);
    assert.ok(hv.failures.some((f) => /batch 3\/61: agent signature does not verify/.test(f)), hv.failures.join('\n'));
    assert.ok(hv.failures.some((f) => /batch 4\/61: prev_hash does not link to the batch before it/.test(f)), hv.failures.join('\n'));
    // Not re-signed: the collector's signature fails too.
    const unsigned = copy(chained);
    unsigned.hosts[0]!.input.batches![0]!.context = undefined;
    assert.ok(verifyReport(unsigned).failures.some((f) => /report signature does not verify/.test(f)));
  });

  it('fails context marks that would hide or count samples', () => {
    // Unmarked: the first context batch would count (its signature labels python3), so the figures differ.
    const unmarked = resigned(chained, (r) => delete r.hosts[0]!.input.batches![0]!.context);
    assert.ok(verifyReport(unmarked).failures.some((f) => /figure does not follow from the data: .*topProcesses/.test(f)), verifyReport(unmarked).failures.join('\n'));
    // A batch of the period marked as context: its samples would count in no figure.
    const hidden = resigned(chained, (r) => (r.hosts[0]!.input.batches![CONTEXT]!.context = true));
    assert.ok(verifyReport(hidden).failures.some((f) => /batch 5\/61: marked as context .* holds samples in the period/.test(f)), verifyReport(hidden).failures.join('\n'));
    // A context mark after the period's first batch.
    const late = resigned(chained, (r) => (r.hosts[0]!.input.batches![60]!.context = true));
    assert.ok(verifyReport(late).failures.some((f) => /batch 61\/61: a context batch after the period's first batch/.test(f)), verifyReport(late).failures.join('\n'));
    // More leading context than any chain can need: refused before anything is decoded (a crafted
    // report could otherwise make verify inflate any number of batches that count in no figure).
    const long = resigned(chained, (r) => r.hosts[0]!.input.batches!.slice(0, 12).forEach((b) => (b.context = true)));
    const failures = verifyReport(long).failures;
    assert.ok(failures.includes('chained: 12 context batches before the period; a chained batch decodes against at most 11'), failures.join('\n'));
    const most = resigned(chained, (r) => r.hosts[0]!.input.batches!.slice(0, 11).forEach((b) => (b.context = true)));
    assert.ok(!verifyReport(most).failures.some((f) => /context batches before the period/.test(f)), 'eleven is what an honest report may embed');
  });

  it('fails fields verify does not know, signed or not: nothing unchecked reaches a reader', () => {
    const extra = resigned(chained, (r) => {
      (r as unknown as Record<string, unknown>).attestation = 'this host runs AI only';
      (r.hosts[0]!.input.batches![7] as unknown as Record<string, unknown>).note = 'checked by hand';
      (r.hosts[0]!.input as unknown as Record<string, unknown>).extraSamples = 'AAAA';
    });
    const failures = verifyReport(extra).failures;
    assert.deepEqual(
      failures.filter((f) => /a field verify does not know/.test(f)),
      [
        'report.attestation: a field verify does not know (it is signed, but nothing checks it)',
        'report.hosts[0].input.extraSamples: a field verify does not know (it is signed, but nothing checks it)',
        'report.hosts[0].input.batches[7].note: a field verify does not know (it is signed, but nothing checks it)',
      ],
    );
    assert.equal(verifyReport(chained).ok, true, 'the report as built has none');
  });

  it('fails a report missing its context with a clear message, not a crash', async () => {
    for (const drop of [CONTEXT, 1]) {
      const missing = resigned(chained, (r) => r.hosts[0]!.input.batches!.splice(0, drop));
      const v = verifyReport(missing);
      assert.equal(v.ok, false);
      const n = 61 - drop;
      assert.ok(
        v.failures.some((f) => f === `chained: batch 1/${n}: it is chained (its first sample is encoded against the last sample of the batch before it in the hash chain), but the report does not embed that batch (context batch missing): its samples cannot be decoded`),
        v.failures.join('\n'),
      );
      // The figures cannot be recomputed either: said, with the same reason.
      assert.ok(v.failures.some((f) => /^chained: data unreadable: batch 1\/\d+: it is chained .*context batch missing/.test(f)), v.failures.join('\n'));
    }
    const file = join(tmp.dir, 'missing.json');
    writeFileSync(file, JSON.stringify(resigned(chained, (r) => r.hosts[0]!.input.batches!.splice(0, CONTEXT))));
    const out = await runAssay(['verify', file]);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    assert.match(out.stdout, /context batch missing/);
    assert.match(out.stdout, /^FAIL/m);
    assert.doesNotMatch(out.stdout + out.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  });

  it('fails a chained batch encoded against another prior than the batch before it', () => {
    // The agent's key signs a last batch whose first sample is encoded against the wrong sample
    // (seq 299 instead of 300, the last of the batch before it), linked and signed correctly:
    // only decoding can tell.
    const forged = resigned(chained, (r) => {
      const batches = r.hosts[0]!.input.batches!;
      const last = batches.at(-1)!;
      const h = assay.v1.BatchHeader.decode(Buffer.from(last.header, 'base64'));
      const seqs = (h.seqs ?? []).map(Number);
      const sealed = sealBatch(
        {
          agentId: 'chained',
          seqs,
          samples: seqs.map((s) => encodeSample(sample(T0 + (s - 1) * S, s))),
          prevHash: h.prevHash!,
          sealedMs: Number(h.sealedMs),
          encoding: BatchEncoding.BATCH_ENCODING_CHAINED,
          prior: encodeSample(sample(T0 + 298 * S, 299)),
        },
        (bytes) => signBytes(chainedAgent.keys, bytes),
      );
      assert.ok(payloadChained(sealed.encoding, sealed.payload));
      last.header = Buffer.from(sealed.header).toString('base64');
      last.signature = Buffer.from(sealed.signature).toString('base64');
      last.payload = Buffer.from(sealed.payload).toString('base64');
    });
    const v = verifyReport(forged);
    assert.ok(v.failures.some((f) => /chained: batch 61\/61: it is chained, but its first sample was encoded against a different sample than the last one of the batch before it \(prior does not match/.test(f)), v.failures.join('\n'));
    assert.ok(!v.failures.some((f) => /agent signature|digest|prev_hash/.test(f)), v.failures.join('\n'));
  });

  it('reads format 5 reports', () => {
    const five = resigned(keyframes, (r) => (r.format = 'assay-report/5'));
    assert.deepEqual(verifyReport(five).failures, []);
    assert.ok(verifyReport(resigned(keyframes, (r) => (r.format = 'assay-report/7'))).failures.some((f) => /not an assay-report\/6 \(or .*assay-report\/5\) report/.test(f)));
  });
});

describe('a report whose chain is broken before the period', () => {
  const tmp = tempDir('assay-chained-broken-');
  let store: SqliteStore;
  let report: Report;
  before(async () => {
    const s = await storeWith(tmp.dir, 'broken.db', BatchEncoding.BATCH_ENCODING_CHAINED);
    store = s.store;
    // The keyframe the period's first batches decode against is gone (a store that lost it:
    // deleted by retention, or never stored). Batches 5–12 (seq 21–60) can no longer be decoded.
    const gone = store.db.prepare('DELETE FROM batches WHERE host_id = ? AND hash = ?').run('chained', s.hashes[0]!);
    assert.equal(gone.changes, 1);
    report = await buildReport(store, { hostIds: ['chained'], ...PERIOD, keys: collectorKeys, nowMs: NOW });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('leaves the undecodable batches out and says their time rests on roll-ups', async () => {
    const h = report.hosts[0]!;
    const batches = h.input.batches!;
    // From batch 13 (the next keyframe, seq 61) on, nothing marked as context.
    assert.equal(batches.length, 49);
    assert.equal(chainedBatch(batches[0]!), false);
    assert.ok(batches.every((b) => b.context === undefined));
    assert.deepEqual(h.input.rollups?.undecodable, { batches: 8, firstSeq: 21, lastSeq: 60 });
    assert.equal(h.input.rollups?.rawPrunedMs, T0 + 60 * S);
    assert.equal(h.derived.samples, 241);
    assert.match(h.derived.rollups!.note, /8 signed batches \(seq 21–60\).*cannot be decoded/);
    const gaps = h.derived.coverage.gaps;
    assert.ok(gaps.some((g) => g.cause === 'raw_pruned' && g.fromMs === PERIOD.fromMs && g.toMs === T0 + 60 * S), JSON.stringify(gaps));
    assert.ok(!gaps.some((g) => g.cause === 'agent_down'), JSON.stringify(gaps));
    const v = verifyReport(report);
    assert.deepEqual(v.failures, []);
    assert.ok(v.warnings.some((w) => /8 chained signed batches, seq 21–60, cannot be decoded.*NOT re-derivable from signed bytes/.test(w)), v.warnings.join('\n'));
    const file = join(tmp.dir, 'broken.json');
    writeFileSync(file, JSON.stringify(report));
    const out = await runAssay(['verify', file]);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /^PASS with \d+ warnings?: /m);
  });

  it('walks back no further than CHAIN_WALK_LIMIT batches', async () => {
    // An agent that sealed a keyframe only every 100 batches: the period's first batch (81, seq
    // 401–405) is 80 batches from its keyframe, beyond the 64 a reader walks.
    const a = await enroll(store, 'long-chain', T0 - 60 * S);
    await commitSealed(store, a, ROWS, BatchEncoding.BATCH_ENCODING_CHAINED, 5, 100);
    assert.equal(CHAIN_WALK_LIMIT, 64);
    const r = await buildReport(store, { hostIds: ['long-chain'], fromMs: T0 + 402 * S, toMs: T0 + 599 * S, keys: collectorKeys, nowMs: NOW });
    const h = r.hosts[0]!;
    assert.deepEqual(h.input.rollups?.undecodable, { batches: 20, firstSeq: 401, lastSeq: 500 });
    assert.equal(h.input.batches!.length, 20);
    assert.ok(h.input.batches!.every((b) => b.context === undefined));
    assert.equal(h.derived.samples, 100);
    assert.deepEqual(verifyReport(r).failures, []);
  });
});

describe("a report from the raw window's first batch, mid-chain, after retention ran", () => {
  const tmp = tempDir('assay-chained-retention-');
  let store: SqliteStore;
  let report: Report;
  const D = 86_400_000;
  // 1 Hz for 20 minutes in chained batches of 5 (a keyframe every minute); retention then deletes
  // raw batches before T0 + 10 min 30 s, half a minute into a chain.
  const period = { fromMs: T0 + 632 * S, toMs: T0 + 1199 * S };
  before(async () => {
    store = new SqliteStore(join(tmp.dir, 'retained.db'));
    store.db.pragma('synchronous = OFF');
    const a = await enroll(store, 'retained', T0 - 60 * S);
    await commitSealed(store, a, range(1, 1200, (seq) => T0 + (seq - 1) * S), BatchEncoding.BATCH_ENCODING_CHAINED);
    await store.putVerdict(a.id, T0, verdict('ai-training', T0));
    const opts = retentionOptions({ rawMs: 35 * D, rollupMs: 400 * D, stepRows: 1000 });
    const now = T0 + 630 * S + opts.rawMs;
    for (let i = 0; i < 1000 && !(await store.retentionStep(opts, now)).done; i++);
    assert.ok((await store.retentionState('retained')).rawPrunedMs > T0 + 600 * S, 'retention deleted raw batches up to the chain');
    report = await buildReport(store, { hostIds: ['retained'], ...period, keys: collectorKeys, nowMs: now });
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('embeds the context retention kept and verifies offline, with no roll-ups', () => {
    const h = report.hosts[0]!;
    const batches = h.input.batches!;
    // The period starts at seq 633, in batch 127 (seq 631–635), chained back to the keyframe
    // batch 121 (seq 601–605, T0 + 10 min), before the raw cut: retention kept batches 121–126,
    // the report embeds them as context.
    assert.equal(batches.filter((b) => b.context).length, 6);
    assert.equal(chainedBatch(batches[0]!), false);
    assert.equal(h.input.rollups, undefined);
    assert.equal(h.derived.samples, 568);
    assert.deepEqual(verifyReport(report).failures, []);
  });
});
