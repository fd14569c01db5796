// The agent's WebSocket client: hello, then batches from the spool, each resent until acked.
// Reconnects with jittered exponential backoff and resumes from the collector's last_seq.
import WebSocket from 'ws';
import { CloseCode, decodeCollectorMessage, decodeSample, encodeAgentMessage, type IHello } from '../proto/codec.js';
import type { Logger } from '../proto/log.js';
import type { Spool } from './spool.js';

export interface LinkOptions {
  url: string;
  hello: () => IHello;
  spool: Spool;
  logger: Logger;
  /** How often a batch is sent while samples are waiting. */
  batchIntervalMs: number;
  maxBatchSamples: number;
  /** Backoff bounds for reconnects. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** No ack within this long → the connection is dropped and re-established. */
  ackTimeoutMs: number;
}

export const defaultLinkTiming = { batchIntervalMs: 5_000, maxBatchSamples: 500, minBackoffMs: 500, maxBackoffMs: 30_000, ackTimeoutMs: 30_000 };

export class Link {
  private ws: WebSocket | null = null;
  private stopped = false;
  private attempt = 0;
  private inflight: { lastSeq: number; timer: NodeJS.Timeout } | null = null;
  private sendTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ready = false;
  private maxBatch: number;
  /** Highest seq the collector confirmed on this run. */
  ackedSeq = 0;
  connected = false;

  constructor(private readonly opts: LinkOptions) {
    this.maxBatch = opts.maxBatchSamples;
  }

  start(): void {
    this.connect();
  }

  /** Asks for a send soon (the sampler calls this after spooling a sample). */
  poke(): void {
    if (!this.ready || this.inflight || this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      this.sendBatch();
    }, this.opts.batchIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.sendTimer, this.reconnectTimer, this.inflight?.timer]) if (t) clearTimeout(t);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(CloseCode.normal, 'agent stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2_000).unref();
      });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.opts.url, { perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 1024 * 1024 });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      this.connected = true;
      ws.send(encodeAgentMessage({ hello: this.opts.hello() }));
    });
    ws.on('message', (data: Buffer) => {
      try {
        const msg = decodeCollectorMessage(data);
        if (msg.body === 'welcome') {
          const w = msg.welcome!;
          this.attempt = 0;
          this.ready = true;
          if (w.maxBatchSamples) this.maxBatch = Math.min(this.opts.maxBatchSamples, w.maxBatchSamples);
          this.acked(w.lastSeq ?? 0);
          this.opts.logger.info({ url: this.opts.url, lastSeq: w.lastSeq, spooled: this.opts.spool.size }, 'connected to collector');
          this.sendBatch();
        } else if (msg.body === 'ack') {
          const a = msg.ack!;
          if (this.inflight) clearTimeout(this.inflight.timer);
          this.inflight = null;
          this.acked(a.lastSeq ?? 0);
          // Catch up without waiting when a backlog remains (after an outage).
          if (this.opts.spool.after(this.ackedSeq, 1).length > 0) setImmediate(() => this.sendBatch());
        }
      } catch (err) {
        this.opts.logger.warn({ reason: 'bad_collector_frame', err: (err as Error).message }, 'dropping connection');
        ws.terminate();
      }
    });
    ws.on('error', (err) => this.opts.logger.debug({ err: err.message }, 'collector connection error'));
    ws.on('close', (code, reason) => {
      this.connected = false;
      this.ready = false;
      if (this.inflight) clearTimeout(this.inflight.timer);
      this.inflight = null;
      if (this.sendTimer) clearTimeout(this.sendTimer);
      this.sendTimer = null;
      if (this.stopped) return;
      const delay = this.backoff();
      this.opts.logger.warn({ code, reason: reason.toString() || undefined, retryInMs: delay }, 'collector connection closed');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  /** Full jitter exponential backoff (AWS architecture blog): uniform in [min, min*2^n] capped. */
  private backoff(): number {
    const cap = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt++);
    return Math.round(this.opts.minBackoffMs + Math.random() * Math.max(0, cap - this.opts.minBackoffMs));
  }

  private acked(lastSeq: number): void {
    if (lastSeq > this.ackedSeq) this.ackedSeq = lastSeq;
    this.opts.spool.ack(lastSeq);
  }

  private sendBatch(): void {
    const ws = this.ws;
    if (!this.ready || this.inflight || !ws || ws.readyState !== WebSocket.OPEN) return;
    const rows = this.opts.spool.after(Math.max(this.ackedSeq, this.opts.spool.ackedSeq), this.maxBatch);
    if (rows.length === 0) return;
    // The spool holds a contiguous range; a hole (dropped when full) ends the batch so that
    // samples[i] always has first_seq + i.
    let n = 1;
    while (n < rows.length && rows[n]!.seq === rows[n - 1]!.seq + 1) n++;
    const batch = rows.slice(0, n);
    const frame = encodeAgentMessage({ batch: { firstSeq: batch[0]!.seq, samples: batch.map((r) => decodeSample(r.bytes)) } });
    const lastSeq = batch.at(-1)!.seq;
    this.inflight = {
      lastSeq,
      timer: setTimeout(() => {
        this.opts.logger.warn({ reason: 'ack_timeout', lastSeq }, 'no ack from collector; reconnecting');
        ws.terminate();
      }, this.opts.ackTimeoutMs),
    };
    ws.send(frame);
  }
}
