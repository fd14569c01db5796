// Agent streams: decode → validate → store → ack. A batch is acked only after it is committed.
// Bad frames close only their own connection, with a close code, a reason and a log line.
import type { WebSocket, WebSocketServer } from 'ws';
import type { IncomingMessage } from 'node:http';
import { CloseCode, WireError, assay, decodeAgentMessage, encodeCollectorMessage, type IHello, type ISample } from '../proto/codec.js';
import type { Logger } from '../proto/log.js';
import type { CollectorMetrics } from './metrics.js';
import type { IncomingSample, Store } from './store/store.js';

export interface IngestLimits {
  maxFrameBytes: number;
  maxBatchSamples: number;
  helloTimeoutMs: number;
}

export const defaultIngestLimits: IngestLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxBatchSamples: 1000,
  helloTimeoutMs: 10_000,
};

export interface IngestDeps {
  store: Store;
  logger: Logger;
  metrics: CollectorMetrics;
  limits: IngestLimits;
  version: string;
  /** Called after a batch is committed, with the samples it newly stored. */
  onStored(hostId: string, samples: ISample[]): void;
  now?: () => number;
}

const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function validateHello(h: IHello): void {
  if (!h.agentId || !AGENT_ID.test(h.agentId)) {
    throw new WireError(CloseCode.badBatch, 'bad_hello', 'hello.agent_id must be 1-128 characters of [A-Za-z0-9._:-]');
  }
  if ((h.hostname ?? '').length > 255) throw new WireError(CloseCode.badBatch, 'bad_hello', 'hello.hostname longer than 255 characters');
}

function validateBatch(batch: assay.v1.ISampleBatch, limits: IngestLimits): IncomingSample[] {
  const first = batch.firstSeq ?? 0;
  const samples = batch.samples ?? [];
  if (!Number.isSafeInteger(first) || first < 1) throw new WireError(CloseCode.badBatch, 'bad_batch', `batch.first_seq must be >= 1 (got ${first})`);
  if (samples.length === 0) throw new WireError(CloseCode.badBatch, 'bad_batch', 'batch carries no samples');
  if (samples.length > limits.maxBatchSamples) {
    throw new WireError(CloseCode.badBatch, 'batch_too_large', `batch of ${samples.length} samples exceeds the limit of ${limits.maxBatchSamples}`);
  }
  return samples.map((sample, i) => {
    if (!sample.tsMs || sample.tsMs <= 0) throw new WireError(CloseCode.badBatch, 'bad_sample', `sample ${first + i} has no timestamp`);
    return { seq: first + i, sample, bytes: assay.v1.Sample.encode(sample).finish() };
  });
}

/** Serves agent connections on a WebSocketServer (already bound to the /ingest path). */
export function attachIngest(wss: WebSocketServer, deps: IngestDeps): { connected(): string[] } {
  const now = deps.now ?? Date.now;
  const byAgent = new Map<string, WebSocket>();

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let agentId: string | null = null;
    let chain: Promise<void> = Promise.resolve();
    let closed = false;
    const log = deps.logger.child({ peer });

    const refuse = (err: unknown): void => {
      const e = err instanceof WireError ? err : new WireError(CloseCode.storeFailure, 'internal', (err as Error).message);
      deps.metrics.reject(e.reason);
      log.warn({ reason: e.reason, code: e.code, agentId, err: e.message }, 'closing agent connection');
      closed = true;
      // Close reasons are limited to 123 bytes by the protocol.
      ws.close(e.code, Buffer.from(e.message).subarray(0, 123).toString());
    };

    const helloTimer = setTimeout(() => {
      if (!agentId) refuse(new WireError(CloseCode.helloTimeout, 'hello_timeout', `no hello within ${deps.limits.helloTimeoutMs} ms`));
    }, deps.limits.helloTimeoutMs);

    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself (1009 for oversized frames); record why.
      const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame_too_large' : 'protocol_error';
      deps.metrics.reject(reason);
      log.warn({ reason, agentId, err: err.message }, 'agent connection error');
    });

    ws.on('close', () => {
      clearTimeout(helloTimer);
      closed = true;
      if (agentId && byAgent.get(agentId) === ws) {
        byAgent.delete(agentId);
        deps.metrics.connectedAgents = byAgent.size;
      }
      log.info({ agentId }, 'agent disconnected');
    });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      deps.metrics.framesIn++;
      // Frames are handled strictly in order: an ack must never overtake an earlier batch.
      chain = chain.then(async () => {
        if (closed) return;
        try {
          if (!isBinary) throw new WireError(CloseCode.unexpectedMessage, 'text_frame', 'text frames are not part of the protocol');
          const msg = decodeAgentMessage(data);
          if (msg.body === 'hello') await onHello(msg.hello!);
          else if (msg.body === 'batch') await onBatch(msg.batch!);
        } catch (err) {
          refuse(err);
        }
      });
    });

    async function onHello(hello: IHello): Promise<void> {
      if (agentId) throw new WireError(CloseCode.unexpectedMessage, 'duplicate_hello', 'hello sent twice on one connection');
      validateHello(hello);
      const host = await deps.store.upsertHost(hello, now());
      agentId = host.id;
      clearTimeout(helloTimer);
      const previous = byAgent.get(agentId);
      if (previous && previous !== ws) previous.close(CloseCode.normal, 'replaced by a newer connection of the same agent');
      byAgent.set(agentId, ws);
      deps.metrics.connectedAgents = byAgent.size;
      log.info({ agentId, hostname: host.hostname, lastSeq: host.lastSeq }, 'agent connected');
      ws.send(
        encodeCollectorMessage({
          welcome: { collectorVersion: deps.version, lastSeq: host.lastSeq, maxBatchSamples: deps.limits.maxBatchSamples, maxFrameBytes: deps.limits.maxFrameBytes },
        }),
      );
    }

    async function onBatch(batch: assay.v1.ISampleBatch): Promise<void> {
      if (!agentId) throw new WireError(CloseCode.unexpectedMessage, 'batch_before_hello', 'batch sent before hello');
      const incoming = validateBatch(batch, deps.limits);
      const result = await deps.store.appendBatch(agentId, incoming, now());
      deps.metrics.samplesStored += result.accepted;
      deps.metrics.samplesDuplicate += result.duplicates;
      if (ws.readyState === ws.OPEN) ws.send(encodeCollectorMessage({ ack: { lastSeq: result.lastSeq, accepted: result.accepted, duplicates: result.duplicates } }));
      if (result.accepted > 0) {
        const stored = new Set(result.storedSeqs);
        deps.onStored(agentId, incoming.filter((s) => stored.has(s.seq)).map((s) => s.sample));
      }
    }
  });

  return { connected: () => [...byAgent.keys()] };
}
