// `assay verify` reads files anyone may hand an auditor, so what it inflates is bounded in bytes
// and in samples. Found from outside: a scan report whose samples blob was gzip of 256 MiB of
// zeros (a 348 KB file) took verify to 5.3 GB and a V8 heap abort after 35 s, and one of 60 MiB of
// zeros (81 KB: 16 million empty 4-byte frames, within the byte bound) too; a collector report
// with one payload swapped for brotli of 60 MiB of zeros was decoded the same way while its
// figures were recomputed. Each now fails at once, naming why. Verify runs as the real CLI in a
// child process with a 512 MB heap, so the unbounded build fails the test instead of the machine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { scanReport } from '../../agent/scan/scan.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import type { Report } from '../../collector/report/types.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { cliPath, repoRoot, tempDir } from '../helpers/env.js';
import { T0, useGappyReport } from './stored-period.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `assay verify FILE` with a 512 MB heap; killed after 60 s. */
function verify(file: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--max-old-space-size=512', cliPath, 'verify', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.slice(-400), ms: Date.now() - t0 });
    });
  });
}

const zeros = (mib: number): Buffer => Buffer.alloc(mib * 1024 * 1024);
const copy = (r: Report): Report => JSON.parse(JSON.stringify(r)) as Report;

describe('assay verify: compressed bombs in a report', () => {
  const gappy = useGappyReport('assay-verify-bombs-', generateAgentKeys());
  let scan: Report;
  before(async () => {
    const trace = await readTrace(join(repoRoot, 'test', 'corpus', 'ai-training-pytorch-cpu.trace.ndjson'));
    scan = scanReport(trace.samples.slice(0, 20).map((s) => encodeSample(s)), trace.header.inventory ?? null, loadRulesFile(defaultRulesPath), { thresholds: undefined, keys: generateAgentKeys(), intervalMs: trace.header.intervalMs, nowMs: T0, host: 'scanned' });
  });

  it('a scan report whose samples inflate past the bound, or hold millions of empty frames, fails at once', async () => {
    const tmp = tempDir('verify-bombs');
    try {
      const genuine = join(tmp.dir, 'genuine.json');
      writeFileSync(genuine, JSON.stringify(scan));
      const ok = await verify(genuine);
      assert.equal(ok.code, 0, `the genuine scan passes (control): ${ok.stdout.slice(0, 300)} ${ok.stderr}`);
      const cases: Array<[string, Buffer, RegExp]> = [
        ['gzip of 256 MiB of zeros', gzipSync(zeros(256), { level: 9 }), /data unreadable: samples inflate to more than 67108864 bytes/],
        ['gzip of 60 MiB of zeros (16 million empty frames)', gzipSync(zeros(60), { level: 9 }), /data unreadable: more than the 524288 samples expected/],
      ];
      for (const [what, blob, why] of cases) {
        const forged = copy(scan);
        forged.hosts[0]!.input.samples = blob.toString('base64');
        const file = join(tmp.dir, 'bomb.json');
        writeFileSync(file, JSON.stringify(forged));
        const r = await verify(file);
        assert.equal(r.code, 1, `${what}: verify exits 1 with FAIL (exit ${r.code} after ${r.ms} ms; ${r.stderr})`);
        assert.match(r.stdout, /^FAIL/m, what);
        assert.match(r.stdout, why, what);
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('a collector report with one payload swapped for a brotli bomb fails at once', async () => {
    const tmp = tempDir('verify-bombs-collector');
    try {
      const forged = copy(gappy.current());
      forged.hosts[0]!.input.batches![3]!.payload = brotliCompressSync(zeros(60), { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }).toString('base64');
      const file = join(tmp.dir, 'bomb.json');
      writeFileSync(file, JSON.stringify(forged));
      const r = await verify(file);
      assert.equal(r.code, 1, `verify exits 1 with FAIL (exit ${r.code} after ${r.ms} ms; ${r.stderr})`);
      assert.match(r.stdout, /batch 4\/11: payload does not match the signed digest/);
      // Read as the header's encoding says: framed samples (encoding 2) stop at the header's count;
      // a columnar container (encoding 3) and a chained payload (encodings 4 and 5) at their first byte.
      assert.match(r.stdout, /holds more than the 50 samples its header lists|\(encoding 3\): columnar payload version 0|\(encoding [45]\) starts with \d+, neither a keyframe/);
    } finally {
      tmp.cleanup();
    }
  });
});
