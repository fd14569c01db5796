// Encoding and decoding of the wire contract (proto/assay.proto), shared by agent and collector.
import './no-long.js';
import { assay } from './gen/assay.js';

export { assay };
export type ISample = assay.v1.ISample;
export type IProcess = assay.v1.IProcess;
export type IProcessSignature = assay.v1.IProcessSignature;
export type ISocket = assay.v1.ISocket;
export type IInventory = assay.v1.IInventory;
export type IHello = assay.v1.IHello;

/** Schema version this build speaks (see SchemaVersion in assay.proto). */
export const SCHEMA_VERSION = assay.v1.SchemaVersion.SCHEMA_VERSION_CURRENT;
/**
 * Versions this build reads: v2 agents are still accepted (their batches carry samples, not a
 * payload). Collector → agent messages did not change in v3, so the collector answers each agent
 * in its own version and sends the Challenge (before it knows) as the oldest one it accepts.
 */
export const ACCEPTED_SCHEMA_VERSIONS: readonly number[] = [assay.v1.SchemaVersion.SCHEMA_VERSION_V2, SCHEMA_VERSION];
export const OLDEST_SCHEMA_VERSION = ACCEPTED_SCHEMA_VERSIONS[0]!;

/** Why a frame was refused; `code` is the WebSocket close code and the log/metric reason. */
export class WireError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/** WebSocket close codes used by the ingest protocol (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  /** Not a decodable message (garbage, truncated). */
  malformed: 4400,
  /** A message not valid at this point of the protocol. */
  unexpectedMessage: 4401,
  schemaVersion: 4402,
  /** Authentication refused: unknown or revoked agent, bad signature, key mismatch. */
  forbidden: 4403,
  helloTimeout: 4408,
  /** The hash chain does not hold: replayed, spliced, reordered or tampered batches. */
  integrity: 4409,
  /** Field values out of bounds: oversized, non-UTF-8, clock skew, too many samples. */
  invalid: 4422,
  rateLimited: 4429,
  storeFailure: 4500,
  tryAgainLater: 4503,
} as const;

function decodeWith<T>(decode: (b: Uint8Array) => T, bytes: Uint8Array, what: string): T {
  try {
    return decode(bytes);
  } catch (err) {
    const message = (err as Error).message;
    // protobufjs refuses string fields that are not valid UTF-8: a field error, not a framing one.
    if (/utf-8/i.test(message)) throw new WireError(CloseCode.invalid, 'bad_utf8', `${what}: a text field is not valid UTF-8`);
    throw new WireError(CloseCode.malformed, 'malformed', `malformed ${what} frame (${bytes.length} bytes): ${message}`);
  }
}

function checkVersion(v: number | null | undefined): void {
  if (v === null || v === undefined || !ACCEPTED_SCHEMA_VERSIONS.includes(v)) {
    throw new WireError(CloseCode.schemaVersion, 'schema_version', `unsupported schema_version ${v ?? 'missing'} (this build speaks ${ACCEPTED_SCHEMA_VERSIONS.join(' and ')})`);
  }
}

export function encodeAgentMessage(msg: Omit<assay.v1.IAgentMessage, 'schemaVersion'>, version: number = SCHEMA_VERSION): Uint8Array {
  return assay.v1.AgentMessage.encode({ schemaVersion: version, ...msg }).finish();
}

export function decodeAgentMessage(bytes: Uint8Array): assay.v1.AgentMessage {
  const msg = decodeWith((b) => assay.v1.AgentMessage.decode(b), bytes, 'agent');
  checkVersion(msg.schemaVersion);
  if (!msg.body) throw new WireError(CloseCode.unexpectedMessage, 'unknown_message', 'agent frame carries no known message');
  return msg;
}

/** `version`: the agent's schema version (its Hello's), so a v2 agent reads the answer. */
export function encodeCollectorMessage(msg: Omit<assay.v1.ICollectorMessage, 'schemaVersion'>, version: number = SCHEMA_VERSION): Uint8Array {
  return assay.v1.CollectorMessage.encode({ schemaVersion: version, ...msg }).finish();
}

export function decodeCollectorMessage(bytes: Uint8Array): assay.v1.CollectorMessage {
  const msg = decodeWith((b) => assay.v1.CollectorMessage.decode(b), bytes, 'collector');
  checkVersion(msg.schemaVersion);
  if (!msg.body) throw new WireError(CloseCode.unexpectedMessage, 'unknown_message', 'collector frame carries no known message');
  return msg;
}

export function encodeSample(sample: ISample): Uint8Array {
  return assay.v1.Sample.encode(sample).finish();
}

export function decodeSample(bytes: Uint8Array): assay.v1.Sample {
  return decodeWith((b) => assay.v1.Sample.decode(b), bytes, 'sample');
}
