// A bare protocol client for tests: speaks the wire format directly (with the agent's own key
// handling and batch sealing), so tests control every byte and can forge, replay or splice.
import WebSocket from 'ws';
import { sealBatch, signedBatchMessage, type Sealed } from '../../agent/batch.js';
import { enrollProof, generateAgentKeys, helloSigningBytes, signBytes, type AgentKeys } from '../../proto/chain.js';
import { SCHEMA_VERSION, assay, decodeCollectorMessage, encodeAgentMessage, encodeSample, type IHello, type ISample } from '../../proto/codec.js';

export interface Closed {
  code: number;
  reason: string;
}

export interface TestBatch extends Sealed {
  samples: Uint8Array[];
  seqs: number[];
}

export class RawAgent {
  readonly ws: WebSocket;
  private readonly inbox: assay.v1.CollectorMessage[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<Closed>;
  nonce: Uint8Array = new Uint8Array();
  keys: AgentKeys = generateAgentKeys();
  agentId = '';
  /** Hash of the last batch this client built (the next batch's prev_hash). */
  head: Uint8Array = new Uint8Array();
  /** The schema version the collector's challenge came in. */
  challengeVersion = 0;
  /** Schema version of the frames this client sends (2: an agent from before batch payloads). */
  version: number = SCHEMA_VERSION;

  private constructor(url: string, localAddress?: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 20, ...(localAddress ? { localAddress } : {}) });
    this.ws.on('message', (d: Buffer) => {
      this.inbox.push(decodeCollectorMessage(d));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => undefined);
  }

  /** Connects (from `localAddress`, e.g. 127.0.0.2, when given) and waits for the collector's challenge. */
  static async connect(url: string, localAddress?: string): Promise<RawAgent> {
    const a = new RawAgent(url, localAddress);
    a.challengeVersion = 0;
    await new Promise<void>((resolve, reject) => {
      a.ws.once('open', () => resolve());
      a.ws.once('error', reject);
    });
    const c = await a.next();
    if (c.body !== 'challenge') throw new Error(`expected challenge, got ${c.body}`);
    a.challengeVersion = c.schemaVersion;
    a.nonce = c.challenge!.nonce!;
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

  /** A correctly signed Hello (with an enrollment proof when `secret` is given). */
  signedHello(base: IHello, secret?: string): IHello {
    this.agentId = base.agentId ?? '';
    return {
      ...base,
      publicKey: this.keys.publicKey,
      nonceSignature: signBytes(this.keys, helloSigningBytes(this.nonce, this.agentId, this.keys.publicKey)),
      ...(secret ? { enrollProof: enrollProof(secret, this.agentId, this.keys.publicKey) } : {}),
      timeMs: Date.now(),
    };
  }

  async hello(base: IHello, secret?: string): Promise<assay.v1.IWelcome> {
    this.ws.send(encodeAgentMessage({ hello: this.signedHello(base, secret) }, this.version));
    const m = await this.next();
    if (m.body !== 'welcome') throw new Error(`expected welcome, got ${m.body}`);
    if (m.welcome!.chainHead?.length) this.head = m.welcome!.chainHead;
    return m.welcome!;
  }

  /**
   * Seals a batch continuing this client's chain (without sending it): a schema-3 payload, or
   * with `encoding: BATCH_ENCODING_SAMPLES` a v2 batch of samples.
   */
  build(firstSeq: number, samples: ISample[], opts: { prevHash?: Uint8Array; keys?: AgentKeys; encoding?: assay.v1.BatchEncoding; prior?: Uint8Array | null } = {}): TestBatch {
    const bytes = samples.map((s) => encodeSample(s));
    const seqs = samples.map((_, i) => firstSeq + i);
    const sealed = sealBatch(
      {
        agentId: this.agentId,
        seqs,
        samples: bytes,
        prevHash: opts.prevHash ?? this.head,
        sealedMs: Date.now(),
        ...(opts.encoding !== undefined ? { encoding: opts.encoding } : {}),
        ...(opts.prior !== undefined ? { prior: opts.prior } : {}),
      },
      (h) => signBytes(opts.keys ?? this.keys, h),
    );
    this.head = sealed.hash;
    return { ...sealed, samples: bytes, seqs };
  }

  /** Sends a batch as built: its payload (schema 3), or its `samples` (v2; tests may have changed them). */
  sendBatch(b: Pick<TestBatch, 'header' | 'signature' | 'samples' | 'encoding' | 'payload'>): void {
    const v2 = b.encoding === assay.v1.BatchEncoding.BATCH_ENCODING_SAMPLES;
    this.ws.send(encodeAgentMessage({ batch: v2 ? { header: b.header, signature: b.signature, samples: b.samples } : signedBatchMessage(b) }, this.version));
  }

  async ack(): Promise<assay.v1.IAck> {
    const m = await this.next();
    if (m.body !== 'ack') throw new Error(`expected ack, got ${m.body}`);
    return m.ack!;
  }

  /** Builds, sends and waits for the ack of a batch continuing the chain. */
  async batch(firstSeq: number, samples: ISample[]): Promise<assay.v1.IAck> {
    this.sendBatch(this.build(firstSeq, samples));
    return this.ack();
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  close(): void {
    this.ws.close();
  }
}
