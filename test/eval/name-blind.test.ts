// The name-blind transform (bench/name-blind.ts): every identity field of every sample is neutral,
// nothing else changes, the input is untouched, the result is valid protobuf, and the collector's
// signature cache (filled from a process's first sample only) holds only neutral signatures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NEUTRAL_CMDLINE, NEUTRAL_COMM, NEUTRAL_EXE, NEUTRAL_EXE_SHA256, nameBlindSample, nameBlindSamples } from '../../bench/name-blind.js';
import { HostWindow } from '../../collector/window.js';
import { assay, type ISample } from '../../proto/codec.js';
import { firstSamples } from './small-trace.js';

const plain = (s: ISample): Record<string, unknown> => assay.v1.Sample.toObject(s as assay.v1.Sample, { longs: Number, enums: String });

/** Paths (a.0.b) of every leaf where two plain objects differ. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [path];
}

const IDENTITY_PATH = /^(processes\.\d+\.(name|signature\.(cmdline|exe|exeSha256|cmdlineTruncated))|gpuProcesses\.\d+\.name)$/;

async function realSamples(): Promise<ISample[]> {
  // A renamed miner (argv, exe, hash and comm all say python3), a GPU miner with GPU process names
  // and a pool URL in argv, and the idle host (kernel threads: empty exe and cmdline).
  return [...(await firstSamples('evasion-miner-renamed-python3.trace.ndjson', 20)).samples, ...(await firstSamples('synthetic/gpu-mining-trex.trace.ndjson', 5)).samples, ...(await firstSamples('idle.trace.ndjson', 5)).samples];
}

describe('name-blind transform', () => {
  it('neutralises comm, exe, argv, exe hash and GPU process names and changes nothing else', async () => {
    const samples = await realSamples();
    let signatures = 0;
    let gpuNames = 0;
    for (const s of samples) {
      const blind = nameBlindSample(s);
      const diff = differences(plain(s), plain(blind));
      assert.deepEqual(diff.filter((p) => !IDENTITY_PATH.test(p)), [], 'only identity fields differ');
      for (const [i, p] of (blind.processes ?? []).entries()) {
        const orig = s.processes?.[i];
        assert.equal(p.name, orig?.name ? NEUTRAL_COMM : orig?.name);
        assert.equal(p.pid, orig?.pid);
        assert.equal(p.startTimeTicks, orig?.startTimeTicks);
        if (!p.signature) continue;
        signatures++;
        const o = orig?.signature;
        assert.equal(p.signature.cmdline, o?.cmdline ? NEUTRAL_CMDLINE : '');
        assert.equal(p.signature.exe, o?.exe ? NEUTRAL_EXE : '');
        assert.equal(p.signature.exeSha256, o?.exeSha256 ? NEUTRAL_EXE_SHA256 : '');
        assert.equal(p.signature.cmdlineTruncated, false);
        assert.deepEqual(p.signature.libs, o?.libs, 'libraries kept');
        assert.deepEqual(p.signature.envNames, o?.envNames, 'environment variable names kept');
        assert.deepEqual(p.signature.exeMarkers, o?.exeMarkers, 'binary-content markers kept');
      }
      for (const g of blind.gpuProcesses ?? []) {
        gpuNames++;
        assert.equal(g.name, NEUTRAL_COMM);
      }
    }
    assert.ok(signatures > 20, `signatures were checked (${signatures})`);
    assert.ok(gpuNames > 0, 'GPU process names were checked');
    const text = JSON.stringify(nameBlindSamples(samples).map(plain));
    for (const name of ['python3', 'job.XQrLTQ', 't-rex', 'stratum+tcp', '57c2e22f7e960e5d', 'sshd', 'systemd-journald']) assert.ok(!text.includes(name), `${name} left in a name-blind sample`);
  });

  it('leaves its input untouched and is deterministic', async () => {
    const samples = await realSamples();
    const before = JSON.stringify(samples.map(plain));
    const a = nameBlindSamples(samples);
    const b = nameBlindSamples(samples);
    assert.equal(JSON.stringify(samples.map(plain)), before);
    assert.equal(JSON.stringify(a.map(plain)), JSON.stringify(b.map(plain)));
  });

  it('gives valid protobuf that decodes to the neutral fields', async () => {
    const [s] = (await firstSamples('evasion-miner-renamed-python3.trace.ndjson', 1)).samples;
    assert.ok(s);
    const bytes = assay.v1.Sample.encode(nameBlindSample(s)).finish();
    const back = assay.v1.Sample.decode(bytes);
    const miner = back.processes.find((p) => (p.signature?.libs ?? []).some((l) => l.startsWith('librandomx')));
    assert.ok(miner?.signature, 'the miner and its signature survive the round trip');
    assert.equal(miner.name, NEUTRAL_COMM);
    assert.equal(miner.signature.exe, NEUTRAL_EXE);
    assert.equal(miner.signature.cmdline, NEUTRAL_CMDLINE);
  });

  it('leaves only neutral signatures in the collector window (signatures ride on a first sample only)', async () => {
    const { samples } = await firstSamples('evasion-miner-renamed-python3.trace.ndjson', 30);
    const later = samples.slice(1).flatMap((s) => s.processes ?? []);
    assert.ok((samples[0]?.processes ?? []).some((p) => p.signature) && later.some((p) => !p.signature), 'the trace sends signatures on first sight only');
    const w = new HostWindow(120_000);
    w.add(nameBlindSamples(samples));
    assert.ok(w.signatures.size > 5);
    for (const sig of w.signatures.values()) {
      assert.ok(sig.exe === '' || sig.exe === NEUTRAL_EXE, sig.exe ?? '');
      assert.ok(sig.cmdline === '' || sig.cmdline === NEUTRAL_CMDLINE, sig.cmdline ?? '');
    }
  });
});
