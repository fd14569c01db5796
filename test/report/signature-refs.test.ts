// Reports over batches whose process signatures were sent by reference (ProcessSignature.same_as):
// the report carries the referenced signatures' bytes, `assay verify` checks them against their
// digests, and the report shows the same process identities as one over the same samples sent
// with every signature in full. Real store, real signed batches, real protobuf bytes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sealBatch } from '../../agent/batch.js';
import { SentSignatures, signatureDigest, withReferences } from '../../agent/signature-refs.js';
import { buildReport } from '../../collector/report/build.js';
import { deriveHost } from '../../collector/report/derive.js';
import { signReport, signerOf } from '../../collector/report/sign.js';
import type { Report } from '../../collector/report/types.js';
import { verifyReport } from '../../collector/report/verify.js';
import { SqliteStore } from '../../collector/store/sqlite.js';
import { generateAgentKeys, signBytes } from '../../proto/chain.js';
import { assay, encodeSample, type ISample } from '../../proto/codec.js';
import { tempDir } from '../helpers/env.js';
import { S, T0, enroll, verdict, type Agent } from './stored-period.js';

const collectorKeys = generateAgentKeys();
const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;
/** What a dishonest collector would do after changing the input: re-derive and re-sign. */
const rederiveAndSign = (r: Report): Report => {
  for (const h of r.hosts) h.derived = deriveHost(h.input, r.period, r.thresholds);
  const { signature: _s, ...unsigned } = r;
  return signReport({ ...unsigned, signer: signerOf(collectorKeys, r.kind) }, collectorKeys);
};

const SIG = { cmdline: 'sleep 1', exe: '/usr/bin/sleep', exeSha256: 'cd'.repeat(32), libs: ['libc.so.6'], envNames: ['HOME', 'PATH'], cgroup: '/system.slice/cron.service' };
/** 120 samples; each second a new `sleep 1` (identical signatures) beside a long-lived python3. */
function samples(): ISample[] {
  return Array.from({ length: 120 }, (_, i) => ({
    tsMs: T0 + i * S,
    cpu: { totalPct: 50 },
    memory: { totalBytes: 2 ** 34, usedBytes: 2 ** 32, availableBytes: 2 ** 33 },
    processes: [
      { pid: 4242, ppid: 1, name: 'python3', startTimeTicks: 77, cpuPct: 90, ...(i === 0 ? { signature: { cmdline: 'python3 train.py', exe: '/usr/bin/python3.11', exeSha256: 'ab'.repeat(32), libs: ['libcudnn.so.9'] } } : {}) },
      // Every tenth is another command with the same environment and libraries (sent in full,
      // its lists by reference).
      { pid: 10_000 + i, ppid: 1, name: 'sleep', startTimeTicks: 1000 + i * 100, cpuPct: 1, signature: i % 10 === 5 ? { ...SIG, cmdline: `sleep ${i}` } : { ...SIG } },
    ],
  }));
}

async function commitAll(store: SqliteStore, a: Agent, list: ISample[]): Promise<void> {
  for (let i = 0; i < list.length; i += 5) {
    const chunk = list.slice(i, i + 5);
    const seqs = chunk.map((_, j) => i + j + 1);
    const bytes = chunk.map(encodeSample);
    const sealed = sealBatch({ agentId: a.id, seqs, samples: bytes, prevHash: a.head, sealedMs: chunk.at(-1)!.tsMs! }, (h) => signBytes(a.keys, h));
    // As ingest hands them over: the samples decoded from the bytes the agent signed.
    const res = await store.appendBatch(a.id, { hash: sealed.hash, prevHash: a.head, header: sealed.header, signature: sealed.signature, encoding: sealed.encoding, payload: sealed.payload, samples: bytes.map((b, j) => ({ seq: seqs[j]!, sample: assay.v1.Sample.decode(b) })), gaps: [] }, chunk.at(-1)!.tsMs! + 500);
    assert.equal(res.status, 'stored');
    assert.equal(res.unresolvedSignatures, undefined);
    a.head = sealed.hash;
  }
}

describe('reports over signatures sent by reference', () => {
  const t = tempDir('assay-sigref-report-');
  let store: SqliteStore;
  let withRefs: Report;
  let full: Report;
  const sent = new SentSignatures();
  before(async () => {
    store = new SqliteStore(join(t.dir, 'assay.db'));
    const refs = await enroll(store, 'refs');
    const plain = await enroll(store, 'plain');
    await commitAll(store, refs, withReferences(samples(), sent));
    await commitAll(store, plain, samples());
    for (const id of ['refs', 'plain']) await store.putVerdict(id, T0, verdict('ai-training', T0));
    const period = { fromMs: T0, toMs: T0 + 120 * S };
    withRefs = await buildReport(store, { hostIds: ['refs'], ...period, keys: collectorKeys, nowMs: T0 + 200 * S });
    full = await buildReport(store, { hostIds: ['plain'], ...period, keys: collectorKeys, nowMs: T0 + 200 * S });
  });
  after(async () => {
    await store.close();
    t.cleanup();
  });

  it('the agent sent the repeats by reference, and the report carries the referenced signatures', () => {
    assert.equal(sent.references, 107, 'every sleep 1 after the first');
    assert.equal(sent.listReferences, 24, 'the other commands\' env names and libraries');
    const table = withRefs.hosts[0]!.input.signatures!;
    assert.deepEqual(Object.keys(table).sort(), [signatureDigest(SIG), ...[5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 105].map((i) => signatureDigest({ ...SIG, cmdline: `sleep ${i}` }))].map((d) => d.toString('hex')).sort());
    assert.equal(assay.v1.ProcessSignature.decode(Buffer.from(table[signatureDigest(SIG).toString('hex')]!, 'base64')).cmdline, 'sleep 1');
    assert.equal(full.hosts[0]!.input.signatures, undefined, 'no reference, no table');
  });

  it('verifies, and shows the same process identities as the report over full signatures', () => {
    const r = verifyReport(withRefs);
    assert.deepEqual(r.failures, []);
    assert.ok(r.ok);
    assert.ok(r.passed.some((p) => /12 process signatures sent by reference match their digests/.test(p)), r.passed.join('\n'));
    assert.deepEqual(r.warnings.filter((w) => /signature reference/.test(w)), []);
    const top = (x: Report): unknown => x.hosts[0]!.derived.topProcesses;
    assert.deepEqual(top(withRefs), top(full));
    assert.ok((top(withRefs) as Array<{ cmdline: string }>).some((p) => p.cmdline === 'sleep 1'));
  });

  it('fails when the referenced bytes were altered, even re-derived and re-signed', () => {
    const forged = copy(withRefs);
    const table = forged.hosts[0]!.input.signatures!;
    const hex = signatureDigest(SIG).toString('hex');
    table[hex] = Buffer.from(assay.v1.ProcessSignature.encode({ ...SIG, cmdline: 'python3 serve.py' }).finish()).toString('base64');
    const r = verifyReport(rederiveAndSign(forged));
    assert.equal(r.ok, false);
    assert.ok(r.failures.some((f) => f.includes(hex) && /do not hash to the digest/.test(f)), r.failures.join('\n'));
    // Not re-signed: the report signature fails as well.
    const unsigned = copy(withRefs);
    unsigned.hosts[0]!.input.signatures![hex] = table[hex]!;
    assert.ok(verifyReport(unsigned).failures.some((f) => /report signature does not verify/.test(f)));
  });

  it('a reference whose bytes are missing is shown without a signature and said so', () => {
    const cut = copy(withRefs);
    delete cut.hosts[0]!.input.signatures;
    const r = verifyReport(rederiveAndSign(cut));
    assert.deepEqual(r.failures, []);
    assert.ok(r.warnings.some((w) => /12 process signature reference\(s\) have no embedded signature/.test(w)), r.warnings.join('\n'));
    // The original's figures name the sleeps' command line; without the bytes they cannot.
    assert.notDeepEqual(cut.hosts[0]!.derived.topProcesses, withRefs.hosts[0]!.derived.topProcesses);
  });
});
