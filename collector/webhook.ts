// Alerting webhook: POSTs a JSON event when a host's published class changes into non-AI work or
// out of it (collector/non-ai.ts). Each delivery is signed: the headers carry the send time and
// an HMAC-SHA256 over `${timestamp}.${body}` (the exact bytes sent), so a receiver can check both
// the body and its freshness (refusing replays older than a few minutes). Delivery is serial (in
// event order), retried with exponential backoff, from a bounded queue: when it is full the
// oldest event is dropped and counted. Failures are logged and counted in /metrics.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../proto/log.js';
import { isLoopback } from './tls.js';

export const SIGNATURE_HEADER = 'x-assay-signature';
export const TIMESTAMP_HEADER = 'x-assay-timestamp';
export const EVENT_ID_HEADER = 'x-assay-event-id';

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Events waiting for delivery at most; beyond it the oldest is dropped. */
  maxQueue: number;
  /** Tries per event (the first one included). */
  maxAttempts: number;
  /** Delay before the first retry; doubled each time, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One request's time limit. */
  timeoutMs: number;
}

export const defaultWebhookOptions = { maxQueue: 1000, maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000 } as const;

export interface ClassChangeEvent {
  type: 'class_change';
  /** nonai: the host's verdict now holds non-AI work; clear: it held non-AI work and no longer does. */
  direction: 'nonai' | 'clear';
  host: { id: string; hostname: string };
  fromClass: string | null;
  toClass: string;
  confidence: number;
  /** Time of the verdict that changed the class (Unix ms). */
  tsMs: number;
  rulesVersion: string;
}

export interface WebhookCounters {
  delivered: number;
  failedAttempts: number;
  /** Events given up after maxAttempts or refused with a 4xx. */
  failed: number;
  dropped: number;
  queued: () => number;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` */
export function signWebhook(secret: string, timestampSec: number, body: string): string {
  return `t=${timestampSec},v1=${createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex')}`;
}

/** Refuses a webhook URL that would send events in clear text off this machine. */
export function checkWebhookUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--webhook-url ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('--webhook-url must be http(s)://');
  if (u.protocol === 'http:' && !isLoopback(u.hostname.replace(/^\[|\]$/g, '')) && u.hostname !== 'localhost') {
    throw new Error(`--webhook-url ${u.origin}: plain http is allowed to loopback only; use https://`);
  }
  if (u.username || u.password) throw new Error('--webhook-url must not carry credentials (the body is signed with --webhook-secret-file instead)');
  return u;
}

interface Pending {
  id: string;
  body: string;
  attempts: number;
}

export class Webhook {
  private readonly queue: Pending[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private inFlight: AbortController | null = null;
  readonly counters: WebhookCounters;

  constructor(
    private readonly opts: WebhookOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    checkWebhookUrl(opts.url);
    this.counters = { delivered: 0, failedAttempts: 0, failed: 0, dropped: 0, queued: () => this.queue.length };
  }

  send(event: ClassChangeEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.maxQueue) {
      // The oldest waiting event goes; the one being delivered (the head while running) stays.
      const [lost] = this.queue.splice(this.running && this.queue.length > 1 ? 1 : 0, 1) as [Pending];
      this.counters.dropped++;
      this.logger.warn({ reason: 'webhook_queue_full', eventId: lost.id, maxQueue: this.opts.maxQueue }, 'webhook queue full: dropped the oldest event');
    }
    const id = randomUUID();
    // The body is fixed at enqueue; each attempt signs it afresh with its own timestamp.
    this.queue.push({ id, body: JSON.stringify({ id, ...event }), attempts: 0 });
    void this.run();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length) {
        const p = this.queue[0]!;
        p.attempts++;
        const outcome = await this.attempt(p);
        if (this.closed) break; // counted as dropped by close()
        if (outcome === 'ok' || outcome === 'refused' || p.attempts >= this.opts.maxAttempts) {
          this.queue.shift();
          if (outcome === 'ok') this.counters.delivered++;
          else {
            this.counters.failed++;
            this.logger.error({ reason: 'webhook_failed', eventId: p.id, attempts: p.attempts, outcome }, 'webhook event given up');
          }
          continue;
        }
        const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (p.attempts - 1));
        await this.sleep(delay * (0.8 + Math.random() * 0.4));
      }
    } finally {
      this.running = false;
    }
  }

  /** ok; retry (network error, timeout, 408, 429, 5xx); refused (other 4xx: retrying cannot help). */
  private async attempt(p: Pending): Promise<'ok' | 'retry' | 'refused'> {
    const ts = Math.floor(this.now() / 1000);
    const payload = p.body;
    const ac = new AbortController();
    this.inFlight = ac;
    const timeout = setTimeout(() => ac.abort(), this.opts.timeoutMs);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'assay-collector',
          [TIMESTAMP_HEADER]: String(ts),
          [EVENT_ID_HEADER]: p.id,
          [SIGNATURE_HEADER]: signWebhook(this.opts.secret, ts, payload),
        },
        body: payload,
        signal: ac.signal,
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      this.counters.failedAttempts++;
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      this.logger.warn({ reason: 'webhook_http_error', eventId: p.id, status: res.status, attempt: p.attempts }, `webhook answered HTTP ${res.status}`);
      return retry ? 'retry' : 'refused';
    } catch (err) {
      this.counters.failedAttempts++;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      this.logger.warn({ reason: 'webhook_unreachable', eventId: p.id, attempt: p.attempts, err: e.cause?.code ?? e.cause?.message ?? e.message }, 'webhook delivery failed');
      return 'retry';
    } finally {
      clearTimeout(timeout);
      this.inFlight = null;
    }
  }

  /** Stops delivering (queued events are lost: they are counted as dropped). */
  close(): void {
    this.closed = true;
    this.counters.dropped += this.queue.length;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    this.inFlight?.abort();
  }
}
