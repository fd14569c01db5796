// Issue 10: the /live push comes from the in-memory fleet summary (no store query), sends a page
// only what changed since its last frame, and respects bufferedAmount: a page that does not read
// is skipped (its changes coalesce) and closed when it stays over the limit, so it cannot make the
// collector buffer without bound. Real sockets on 127.0.0.1; frames are applied with the
// dashboard's own dashboard/fleet-merge.js.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { FleetState, type FleetHost } from '../../collector/fleet-state.js';
import { attachLive, type Live, type LiveFrame, type LiveOptions } from '../../collector/live.js';
import type { ISample } from '../../proto/codec.js';
import { repoRoot, waitFor } from '../helpers/env.js';
import { fullSample } from '../helpers/messages.js';

type ApplyFrame = (byId: Map<string, FleetHost>, msg: unknown) => string[] | null;
let applyFrame: ApplyFrame;
before(async () => {
  ({ applyFrame } = (await import(pathToFileURL(join(repoRoot, 'dashboard', 'fleet-merge.js')).href)) as { applyFrame: ApplyFrame });
});

interface Rig {
  url: string;
  port: number;
  live: Live;
  close(): Promise<void>;
}

async function rig(fleet: FleetState, opts: Partial<LiveOptions>, now: () => number = Date.now): Promise<Rig> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ server, path: '/live', perMessageDeflate: false });
  const live = attachLive(wss, fleet, opts, now);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/live`,
    port,
    live,
    async close() {
      live.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A page: every frame it got, and the fleet it holds after applying them. */
class Page {
  readonly frames: LiveFrame[] = [];
  readonly sizes: number[] = [];
  readonly byId = new Map<string, FleetHost>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as LiveFrame;
      if ((msg.type as string) === 'event') return void this.events.push(msg);
      this.frames.push(msg);
      this.sizes.push(data.length);
      assert.notEqual(applyFrame(this.byId, msg), null, `a fleet frame: ${data.toString().slice(0, 80)}`);
    });
  }
  readonly events: unknown[] = [];
  static open(url: string): Promise<Page> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const page = new Page(ws);
      ws.once('open', () => resolve(page));
      ws.once('error', reject);
    });
  }
  hosts(): FleetHost[] {
    return [...this.byId.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
  }
}

/** The fleet as the server holds it, in the form a page must reach (versions aside). */
const plain = (hosts: FleetHost[]): unknown => hosts.map((h) => ({ ...h, version: 0 }));

const sample = (tsMs: number, cpuPct: number): ISample => ({ ...fullSample(tsMs), cpu: { totalPct: cpuPct } });

describe('/live: deltas from memory', () => {
  it('a page gets the whole fleet first, then only the hosts that changed, and ends up with what the collector holds', async () => {
    let t = 1_795_000_000_000;
    const now = (): number => t;
    const fleet = new FleetState({ onlineWithinMs: 30_000 });
    for (const id of ['a', 'b', 'c']) {
      fleet.hello(id, `host-${id}`, t);
      fleet.samples(id, [sample(t - 2000, 10), sample(t - 1000, 20)], t);
    }
    const r = await rig(fleet, { intervalMs: 25 }, now);
    try {
      const page = await Page.open(r.url);
      await waitFor(() => page.frames.length >= 1, 5000, 'snapshot');
      assert.equal(page.frames[0]!.type, 'snapshot');
      assert.deepEqual(page.frames[0]!.hosts.map((h) => h.id), ['a', 'b', 'c']);
      assert.deepEqual(plain(page.hosts()), plain(fleet.list()));

      // One host sends a sample: the next frame names that host only, with only its changed bucket.
      t += 1000;
      fleet.samples('b', [sample(t, 90)], t);
      await waitFor(() => page.frames.length >= 2, 5000, 'delta for b');
      const d = page.frames[1]!;
      assert.equal(d.type, 'delta');
      assert.deepEqual(d.hosts.map((h) => h.id), ['b']);
      assert.equal(d.hosts[0]!.trend.startMs.length, 1, 'only the bucket that changed');
      assert.equal(d.hosts[0]!.latest!.cpuPct, 90);
      assert.deepEqual(plain(page.hosts()), plain(fleet.list()));

      // A verdict changes a class; the change feed says what it was before.
      const changes: Array<[string, string | null, string | null]> = [];
      fleet.onChange((c) => c.classChanged && changes.push([c.host.id, c.previous?.class ?? null, c.host.class]));
      fleet.verdict('c', { class: 'pow-mining', confidence: 0.9 }, t);
      await waitFor(() => page.frames.length >= 3, 5000, 'delta for c');
      assert.deepEqual(page.frames[2]!.hosts.map((h) => [h.id, h.class, h.trend.startMs.length]), [['c', 'pow-mining', 0]]);
      assert.deepEqual(changes, [['c', null, 'pow-mining']]);

      // Nothing changes: nothing is sent. A broadcast (a feed's event) goes out at once.
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(page.frames.length, 3);
      r.live.broadcast({ type: 'event', n: 1 });
      await waitFor(() => page.events.length === 1, 5000, 'the broadcast');
      assert.deepEqual(page.events, [{ type: 'event', n: 1 }]);

      // A host that falls silent goes offline without any data arriving; its old buckets age out.
      t += 31_000;
      for (const id of ['a', 'b']) fleet.samples(id, [sample(t, 5)], t);
      await waitFor(() => page.hosts().find((h) => h.id === 'c')?.online === false, 5000, 'c offline');
      assert.equal(fleet.counts().offline, 1);
      t += 10 * 60_000 + 10_000; // the trend's span plus one bucket
      await waitFor(() => page.hosts().every((h) => h.trend.startMs.length === 0 && !h.online), 5000, 'trends aged out');
      assert.deepEqual(plain(page.hosts()), plain(fleet.list()));
      page.ws.close();
    } finally {
      await r.close();
    }
  });
});

/** Upgrades to /live and then never reads another byte. */
function stalledPage(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => {
      socket.write(
        `GET /live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        () => resolve({ socket, closed }),
      );
    });
    socket.once('error', reject);
  });
}

describe('/live: a page that does not read', () => {
  let r: Rig;
  let fleet: FleetState;
  const opts = { intervalMs: 50, maxBufferedBytes: 64 * 1024, slowCloseMs: 1500 };
  before(async () => {
    fleet = new FleetState();
    for (let i = 0; i < 200; i++) fleet.hello(`h${i}`, `host-${String(i).padStart(3, '0')}`, Date.now());
    r = await rig(fleet, opts);
  });
  after(() => r.close());

  it('is skipped while over maxBufferedBytes (the collector buffers at most that plus one frame for it), then closed; a reading page keeps up', async () => {
    const stalled = await stalledPage(r.port);
    const page = await Page.open(r.url);
    // 200 hosts send a sample every 50 ms of real time (1 s apart in sample time): every delta
    // names all of them, ~80 KB a frame at 20 frames/s.
    let ts = Date.now() - 30 * 60_000;
    const started = Date.now();
    const feed = setInterval(() => {
      ts += 1000;
      for (let i = 0; i < 200; i++) fleet.samples(`h${i}`, [sample(ts, (i + ts / 1000) % 100)], Date.now());
    }, 50);
    try {
      await waitFor(() => r.live.stats().closedSlow > 0 || Date.now() - started > 20_000, 25_000, 'the stalled page closed');
    } finally {
      clearInterval(feed);
    }
    const s = r.live.stats();
    assert.equal(s.closedSlow, 1, `stalled page not closed within 20 s (${JSON.stringify(s)})`);
    // The collector ended the connection: reading again, the page finds the end of its stream.
    stalled.socket.resume();
    await Promise.race([stalled.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('the stalled page\'s socket was not closed')), 10_000))]);
    assert.ok(s.skipped > 0, 'the stalled page was skipped before it was closed');
    assert.equal(s.closedSlow, 1, 'only the stalled page was closed');
    // A frame is at most the whole fleet (a page that fell behind gets every change at once).
    const snapshotBytes = JSON.stringify({ type: 'delta', hosts: fleet.list() }).length + 200;
    assert.ok(s.maxBufferedSeen <= opts.maxBufferedBytes + snapshotBytes, `buffered ${s.maxBufferedSeen} B for one page (limit ${opts.maxBufferedBytes} + a frame of at most ${snapshotBytes})`);
    assert.ok(s.bytesSent > 4 * (opts.maxBufferedBytes + snapshotBytes), `the test pushed enough (${s.bytesSent} B) to overflow an unbounded buffer`);
    // The reading page got every change: once it has caught up it holds exactly the fleet.
    await waitFor(() => page.frames.at(-1)?.version === fleet.version, 10_000, 'the reading page caught up');
    assert.deepEqual(plain(page.hosts()), plain(fleet.list()));
    assert.equal(page.ws.readyState, WebSocket.OPEN, 'the reading page is still open');
    assert.equal(s.clients, 1);
    page.ws.close();
  });
});
