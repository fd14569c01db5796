// A bare protocol client for tests: speaks the wire format directly, so tests control every byte.
import WebSocket from 'ws';
import { decodeCollectorMessage, encodeAgentMessage, type assay, type IHello, type ISample } from '../../proto/codec.js';

export interface Closed {
  code: number;
  reason: string;
}

export class RawAgent {
  readonly ws: WebSocket;
  private readonly inbox: assay.v1.CollectorMessage[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<Closed>;

  private constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 20 });
    this.ws.on('message', (d: Buffer) => {
      this.inbox.push(decodeCollectorMessage(d));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => undefined);
  }

  static async connect(url: string): Promise<RawAgent> {
    const a = new RawAgent(url);
    await new Promise<void>((resolve, reject) => {
      a.ws.once('open', () => resolve());
      a.ws.once('error', reject);
    });
    return a;
  }

  /** Next collector message, or throws after `ms`. */
  async next(ms = 5000): Promise<assay.v1.CollectorMessage> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error('no collector message in time');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.inbox.shift()!;
  }

  async hello(hello: IHello): Promise<assay.v1.IWelcome> {
    this.ws.send(encodeAgentMessage({ hello }));
    const m = await this.next();
    if (m.body !== 'welcome') throw new Error(`expected welcome, got ${m.body}`);
    return m.welcome!;
  }

  async batch(firstSeq: number, samples: ISample[]): Promise<assay.v1.IAck> {
    this.ws.send(encodeAgentMessage({ batch: { firstSeq, samples } }));
    const m = await this.next();
    if (m.body !== 'ack') throw new Error(`expected ack, got ${m.body}`);
    return m.ack!;
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  close(): void {
    this.ws.close();
  }
}
