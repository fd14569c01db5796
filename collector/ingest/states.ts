// The states of one agent connection, and the one table that decides what each accepts.
//
//   (TCP accepted, HTTP upgrade to /ingest; before that connection-limits.ts bounds idle sockets)
//        │ challenge sent
//        ▼
//   awaiting_hello ── frames ≤ preHelloMaxFrameBytes (64 KiB); accepts: hello
//        │            holds one of the address's maxPreAuthPerAddress (32) pre-auth slots
//        │            timeout helloTimeoutMs (10 s) → closing (4408 hello_timeout)
//        │            refused hello → closing (4403/4422/4429/4503 …)
//        │ hello verified, welcome sent (slot released, frame limit raised)
//        ▼
//   authenticated ── frames ≤ maxFrameBytes (--max-frame-bytes, 4 MiB); accepts: batch
//        │            a second hello → closing (4401 duplicate_hello)
//        │ first batch committed and acked
//        ▼
//   streaming ────── as authenticated: batch; any refusal (forged, replayed, spliced, seq going
//        │            backwards, rate, revoked, …) → closing with its close code
//        ▼
//   closing ──────── accepts nothing; close frame sent, socket destroyed (terminate) after
//        │            closeGraceMs (2 s) whether or not the peer answers
//        ▼
//   closed ───────── peer or collector closed the socket; timers cleared, slots released
//
// From every state the peer may vanish (→ closed), and a frame over the state's limit closes
// with 1009 (→ closing). Nothing else moves a connection between states.
import { CloseCode, WireError } from '../../proto/codec.js';
import type { IngestLimits } from './limits.js';

export type ConnState = 'awaiting_hello' | 'authenticated' | 'streaming' | 'closing' | 'closed';
export type AgentMessageKind = 'hello' | 'batch';

export interface StateRule {
  /** Messages this state handles; any other is refused with `refuse(kind)`. */
  accepts: readonly AgentMessageKind[];
  /** Largest data frame the WebSocket reader accepts in this state (ws reads 0 as "no limit", so ≥ 1). */
  maxFrameBytes(l: IngestLimits): number;
  /** How long the connection may stay in this state, and the error it is closed with (null: no limit). */
  timeout: ((l: IngestLimits) => { ms: number; error: WireError | 'terminate' }) | null;
  /** Whether the connection counts against its address's pre-authentication cap here. */
  preAuth: boolean;
  /** Where it may go next. */
  next: readonly ConnState[];
}

const unexpected = (reason: string, msg: string) => new WireError(CloseCode.unexpectedMessage, reason, msg);

export const STATES: Record<ConnState, StateRule> = {
  awaiting_hello: {
    accepts: ['hello'],
    maxFrameBytes: (l) => l.preHelloMaxFrameBytes,
    timeout: (l) => ({ ms: l.helloTimeoutMs, error: new WireError(CloseCode.helloTimeout, 'hello_timeout', `no hello within ${l.helloTimeoutMs} ms`) }),
    preAuth: true,
    next: ['authenticated', 'closing', 'closed'],
  },
  authenticated: { accepts: ['batch'], maxFrameBytes: (l) => l.maxFrameBytes, timeout: null, preAuth: false, next: ['streaming', 'closing', 'closed'] },
  streaming: { accepts: ['batch'], maxFrameBytes: (l) => l.maxFrameBytes, timeout: null, preAuth: false, next: ['closing', 'closed'] },
  // 1 byte: no data frame fits; control frames (the peer's close) are not subject to the limit.
  closing: { accepts: [], maxFrameBytes: () => 1, timeout: (l) => ({ ms: l.closeGraceMs, error: 'terminate' }), preAuth: false, next: ['closed'] },
  closed: { accepts: [], maxFrameBytes: () => 1, timeout: null, preAuth: false, next: [] },
};

/** The refusal for a message the current state does not accept. */
export function refuseMessage(state: ConnState, kind: AgentMessageKind): WireError {
  if (kind === 'batch') return unexpected('batch_before_hello', 'batch sent before hello');
  if (state === 'authenticated' || state === 'streaming') return unexpected('duplicate_hello', 'hello sent twice on one connection');
  return unexpected('unexpected_message', `${kind} not accepted while ${state}`);
}
