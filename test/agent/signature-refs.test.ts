// Process signatures sent by reference (agent/signature-refs.ts): the agent streaming to a
// collector sends a new process's signature that repeats one it sent in full as that signature's
// SHA-256, the digest the collector keys it by; in full again after a restart, after the entry
// expired, after clear() (link down, spool loss), and always without a SentSignatures (scan, record).
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isUnavailable, type ProbeOutput, type Unavailable } from '../../agent/probes/probe.js';
import { createProcessesProbe } from '../../agent/probes/processes.js';
import { SentSignatures, signatureDigest, withReferences } from '../../agent/signature-refs.js';
import { readLightSample } from '../../collector/ingest/light-sample.js';
import { signatureBytes } from '../../collector/store/store.js';
import { sha256 } from '../../proto/chain.js';
import { assay, encodeSample, type IProcessSignature } from '../../proto/codec.js';
import { config, copyFixture, editProcStat } from '../probes/tree.js';

const SIG: IProcessSignature = { cmdline: 'sleep 1', exe: '/usr/bin/sleep', exeSha256: 'cd'.repeat(32), libs: ['libc.so.6'], envNames: ['HOME', 'PATH'], cgroup: '/', cmdlineTruncated: false, netNs: 0 };

function ok(out: ProbeOutput | Unavailable): ProbeOutput {
  assert.ok(!isUnavailable(out), JSON.stringify(out));
  return out;
}

const whole = (x: IProcessSignature): boolean => !x.sameAs?.length && x.cmdline === SIG.cmdline;

test('SentSignatures: a repeat on a first report is a reference; resends, expired and cleared entries go in full; the map is bounded', () => {
  const sent = new SentSignatures(10_000, 2);
  assert.equal(sent.attach(SIG, 1000, true), SIG, 'first time: in full');
  const ref = sent.attach({ ...SIG }, 2000, true);
  assert.deepEqual(Object.keys(ref), ['sameAs']);
  assert.deepEqual(Buffer.from(ref.sameAs!), sha256(assay.v1.ProcessSignature.encode(SIG).finish()));
  assert.equal(sent.attach(SIG, 3000, false), SIG, 'a process\'s own resend goes in full');
  assert.equal(sent.attach(SIG, 12_999, true).sameAs?.length, 32, 'renewed by the resend at 3000');
  assert.equal(sent.attach(SIG, 13_000, true), SIG, 'expired 10 s after the last full send');
  sent.clear();
  assert.equal(sent.size, 0);
  assert.equal(sent.attach(SIG, 13_001, true), SIG, 'cleared: in full');
  const other = (i: number): IProcessSignature => ({ ...SIG, cmdline: `sleep ${i}` });
  sent.attach(other(2), 13_002, true);
  sent.attach(other(3), 13_003, true);
  assert.equal(sent.size, 2, 'at most max digests');
  assert.ok(whole(sent.attach(SIG, 13_004, true)), 'the oldest full send was dropped first');
  assert.equal(sent.attach(other(3), 13_005, true).sameAs?.length, 32);
});

test('SentSignatures: a signature sent in full names the earlier signature that carried the same env_names / libs', () => {
  const sent = new SentSignatures();
  const a = sent.attach(SIG, 1000, true);
  assert.equal(a, SIG);
  const b = sent.attach({ ...SIG, cmdline: 'sleep 2', libs: ['libm.so.6'] }, 2000, true);
  assert.equal(b.cmdline, 'sleep 2');
  assert.deepEqual(b.envNames, [], 'the env names go by reference');
  assert.deepEqual(Buffer.from(b.envNamesAs!), signatureDigest(SIG));
  assert.deepEqual(b.libs, ['libm.so.6'], 'a list not sent before goes in full');
  assert.equal(b.libsAs, undefined);
  assert.equal(sent.listReferences, 1);
  // The digest a later whole reference names is that of the signature with its lists written out.
  const c = sent.attach({ ...SIG, cmdline: 'sleep 2', libs: ['libm.so.6'] }, 3000, true);
  assert.deepEqual(Buffer.from(c.sameAs!), signatureDigest({ ...SIG, cmdline: 'sleep 2', libs: ['libm.so.6'] }));
  // Forgotten with the rest.
  sent.clear();
  assert.deepEqual(sent.attach({ ...SIG, cmdline: 'sleep 3' }, 4000, true).envNames, SIG.envNames);
});

test('processes probe: a new process repeating a signature sends its digest, which is the collector\'s digest of the bytes sent earlier', async () => {
  const t = copyFixture('proc-a');
  try {
    const sent = new SentSignatures(10_000);
    const probe = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 64, sentSignatures: sent }), { socketRefreshMs: 0 });
    const plain = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 64 }), { socketRefreshMs: 0 });
    await probe.collect(1000);
    await plain.collect(1000);
    const first = ok(await probe.collect(2000));
    const sh = first.processes!.find((p) => p.pid === 2346)!;
    assert.ok(sh.signature && !sh.signature.sameAs?.length, 'the first sh goes in full');
    // The collector's digest: SHA-256 of the signature's bytes as they sit in the encoded sample.
    const light = readLightSample(encodeSample({ ...first, tsMs: 2000 }), 1, { processes: null, sockets: null }, false).sample;
    const stored = light.processes!.find((p) => p.pid === 2346)!.signature!;
    const digest = sha256(signatureBytes(stored));
    assert.deepEqual(digest, signatureDigest(sh.signature));

    // A second `sh`, identical but for its pid and start time, starts.
    cpSync(join(t.dir, '2346'), join(t.dir, '2400'), { recursive: true, verbatimSymlinks: true });
    editProcStat(join(t.dir, '2400', 'stat'), { starttime: 130_000 }, 'set');
    const second = ok(await probe.collect(3000));
    const again = second.processes!.find((p) => p.pid === 2400)!;
    assert.deepEqual(Object.keys(again.signature!), ['sameAs']);
    assert.deepEqual(Buffer.from(again.signature!.sameAs!), digest);
    assert.equal(second.processes!.find((p) => p.pid === 2346)!.signature, undefined, 'sent once');
    // Through real protobuf bytes, as the collector reads them.
    const back = assay.v1.Sample.decode(encodeSample(second)).processes.find((p) => p.pid === 2400)!;
    assert.deepEqual(Buffer.from(back.signature!.sameAs!), digest);
    assert.equal(back.signature!.cmdline, '');

    // Without a SentSignatures (assay scan, assay record): in full.
    const full = ok(await plain.collect(3000)).processes!.find((p) => p.pid === 2400)!;
    assert.equal(full.signature!.cmdline, sh.signature.cmdline);
    assert.equal(full.signature!.sameAs, undefined);

    // After the entry expired (10 s after the full send at 2000): in full.
    cpSync(join(t.dir, '2346'), join(t.dir, '2401'), { recursive: true, verbatimSymlinks: true });
    editProcStat(join(t.dir, '2401', 'stat'), { starttime: 140_000 }, 'set');
    const later = ok(await probe.collect(12_500)).processes!.find((p) => p.pid === 2401)!;
    assert.equal(later.signature!.cmdline, sh.signature.cmdline, 'expired: in full, and remembered again');
    // Cleared (the agent's link went down): the next one goes in full.
    sent.clear();
    cpSync(join(t.dir, '2346'), join(t.dir, '2402'), { recursive: true, verbatimSymlinks: true });
    editProcStat(join(t.dir, '2402', 'stat'), { starttime: 150_000 }, 'set');
    assert.equal(ok(await probe.collect(13_500)).processes!.find((p) => p.pid === 2402)!.signature!.cmdline, sh.signature.cmdline);

    // An agent restart (a new probe, a new map): every signature in full.
    const restarted = createProcessesProbe(config({ procRoot: t.dir, maxProcesses: 64, sentSignatures: new SentSignatures() }), { socketRefreshMs: 0 });
    await restarted.collect(20_000);
    const fresh = ok(await restarted.collect(21_000));
    // Each distinct signature goes in full in this run first; the identical sh's refer to it.
    const fullDigests = new Set(fresh.processes!.filter((p) => p.signature && !p.signature.sameAs?.length).map((p) => signatureDigest(p.signature!).toString('hex')));
    assert.ok(fullDigests.has(digest.toString('hex')), 'the sh signature in full again after a restart');
    for (const p of fresh.processes!) {
      if (p.signature?.sameAs?.length) assert.ok(fullDigests.has(Buffer.from(p.signature.sameAs).toString('hex')), `pid ${p.pid} refers to a signature sent in full in this run`);
    }
  } finally {
    t.cleanup();
  }
});

test('withReferences: recorded samples as the agent streams them (benches), the input left unchanged', () => {
  const samples = [1, 2, 3].map((i) => ({ tsMs: i * 1000, processes: [{ pid: 100 + i, startTimeTicks: i, signature: { ...SIG } }] }));
  const out = withReferences(samples);
  assert.equal(out[0]!.processes![0]!.signature!.cmdline, 'sleep 1');
  assert.equal(out[1]!.processes![0]!.signature!.sameAs!.length, 32);
  assert.equal(out[2]!.processes![0]!.signature!.sameAs!.length, 32);
  assert.equal(samples[1]!.processes[0]!.signature.cmdline, 'sleep 1');
});

test('the collector keeps signatures at least as long as the agent refers to them', async () => {
  const { REFERENCE_LIFETIME_MS } = await import('../../collector/signature-refs.js');
  const { SIGNATURE_RESEND_MS } = await import('../../agent/probes/processes.js');
  assert.equal(REFERENCE_LIFETIME_MS, SIGNATURE_RESEND_MS);
  assert.equal(new SentSignatures().expireMs, SIGNATURE_RESEND_MS);
});

test('the running agent: a repeat goes by reference and the collector resolves it; digests are forgotten while the link is down', async (t) => {
  const { startAgent } = await import('../../agent/agent.js');
  const { startCollector } = await import('../../collector/server.js');
  const { freePort, tempDir, waitFor } = await import('../helpers/env.js');
  const tmp = tempDir('assay-sigref-agent-');
  const proc = copyFixture('proc-a');
  t.after(() => {
    proc.cleanup();
    tmp.cleanup();
  });
  const SECRET = 'test-enroll-secret-0123456789';
  const port = await freePort();
  const dbPath = join(tmp.dir, 'assay.db');
  let collector = await startCollector({ host: '127.0.0.1', port, dbPath, enrollSecret: SECRET });
  const agent = await startAgent({ collectorUrl: `ws://127.0.0.1:${port}/ingest`, intervalMs: 200, batchIntervalMs: 300, stateDir: join(tmp.dir, 'agent'), enrollSecret: SECRET, probeConfig: { procRoot: proc.dir } });
  t.after(() => agent.stop());
  await waitFor(() => agent.link.ackedSeq >= 3, 15_000, 'first acks');
  const fullBefore = agent.sentSignatures.full;
  assert.ok(fullBefore > 0, 'the fixture processes went in full');
  // A second sh, identical but for pid and start time: by reference, resolved by the collector.
  cpSync(join(proc.dir, '2346'), join(proc.dir, '2400'), { recursive: true, verbatimSymlinks: true });
  editProcStat(join(proc.dir, '2400', 'stat'), { starttime: 130_000 }, 'set');
  await waitFor(() => agent.sentSignatures.references >= 1, 10_000, 'a reference sent');
  const stored = await waitFor(async () => (await collector.store.signaturesOf(agent.agentId, ['2400:130000'])).get('2400:130000'), 10_000, 'the reference resolved');
  assert.equal(stored.cmdline, '/bin/sh');
  assert.equal(collector.metrics.signatureRefsUnresolved, 0);
  // The link goes down: the agent forgets what it sent (the next collector may not have it).
  await collector.close();
  await waitFor(() => agent.sentSignatures.size === 0 && !agent.link.connected, 10_000, 'digests forgotten while the link is down');
  collector = await startCollector({ host: '127.0.0.1', port, dbPath, enrollSecret: SECRET });
  t.after(() => collector.close());
  await waitFor(() => agent.link.connected, 15_000, 'reconnected');
  cpSync(join(proc.dir, '2346'), join(proc.dir, '2401'), { recursive: true, verbatimSymlinks: true });
  editProcStat(join(proc.dir, '2401', 'stat'), { starttime: 140_000 }, 'set');
  const refsBefore = agent.sentSignatures.references;
  const again = await waitFor(async () => (await collector.store.signaturesOf(agent.agentId, ['2401:140000'])).get('2401:140000'), 15_000, 'the new sh stored');
  assert.equal(again.cmdline, '/bin/sh');
  assert.equal(collector.metrics.signatureRefsUnresolved, 0, 'nothing unresolved after the reconnect');
  assert.ok(agent.sentSignatures.full > fullBefore, 'signatures went in full again after the reconnect');
  assert.ok(agent.sentSignatures.references >= refsBefore);
});
