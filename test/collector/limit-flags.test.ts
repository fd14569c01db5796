// The connection limits are flags too (behind a reverse proxy every client shares one address,
// so an operator must be able to raise the per-address cap): a collector process started with
// `--max-preauth-per-address 2 --idle-timeout 1s` drops a third silent connection from one
// address at once and the first two when the idle timeout passes; a bad value stops startup.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/env.js';
import { startCollectorProcess } from '../helpers/proc.js';

function open(port: number): Promise<{ sock: Socket; closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const closedAt = new Promise<number>((r) => sock.on('close', () => r(Date.now())));
    sock.on('error', () => undefined);
    sock.once('connect', () => resolve({ sock, closedAt }));
    sock.once('error', reject);
  });
}

describe('connection limits from the command line', () => {
  it('--max-preauth-per-address and --idle-timeout are enforced by a real collector process', async () => {
    const { dir, cleanup } = tempDir('limit-flags');
    const { child, port } = await startCollectorProcess(['--port', '0', '--db', join(dir, 'assay.db'), '--max-preauth-per-address', '2', '--idle-timeout', '1s']);
    try {
      const t0 = Date.now();
      const a = await open(port);
      const b = await open(port);
      const c = await open(port);
      const third = await Promise.race([c.closedAt, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
      assert.ok(third > 0 && third - t0 < 900, `the third connection from one address is dropped at once (${third - t0} ms)`);
      const [ta, tb] = await Promise.all([a.closedAt, b.closedAt].map((p) => Promise.race([p, new Promise<number>((r) => setTimeout(() => r(-1), 8000))])));
      assert.ok(ta > 0 && tb > 0, 'the first two are dropped by the idle timeout');
      assert.ok(ta - t0 >= 900 && ta - t0 < 5000, `idle timeout ~1 s, not the 10 s default (${ta - t0} ms)`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      cleanup();
    }
  });

  it('a bad value stops startup naming the option', async () => {
    const { dir, cleanup } = tempDir('limit-flags-bad');
    await assert.rejects(startCollectorProcess(['--port', '0', '--db', join(dir, 'assay.db'), '--max-preauth-per-address', '0']), /max-preauth-per-address/);
    cleanup();
  });
});
