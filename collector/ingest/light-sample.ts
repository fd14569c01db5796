// What the ack path reads of a sample: the figures charts and roll-ups need (time, CPU, memory,
// load, disks, network, GPUs, power), the processes that carry a signature (an agent sends a
// process's signature once, with its first report), and how many processes and sockets it lists.
// Process and socket entries — most of a sample's bytes and of a full decode's time — are
// scanned without building objects, but checked as strictly as the full decoder reads them
// (structure, UTF-8 text, delta runs that point inside the lists), so every batch acked can be
// decoded later: by classification (classify-queue.ts, off the ack path), the API and reports.
//
// Works on the framed entries of one payload as they are inside it, in order: a delta-encoded
// sample lists only the processes and sockets that changed; the ones it copies were read (their
// signatures included) in the sample before.
//
// A columnar payload (encodings 3 and 4) is read from its columns (readLightSamples), without
// rebuilding its samples: each sample's bytes outside its lists, read as above, with the lists'
// entries read where the sample would hold them. An entry the sample before held unchanged is the
// same object (proto/columnar.ts readColumnar), read once: what its bytes gave is kept on it
// (ColumnarEntry.memo). Fields and entries are read in the order the rebuilt sample holds them, so
// the answer is the same; what this reading cannot take as the encoder writes it (a list's entries
// inside another field's bytes, a list this module does not read) and any refusal are read again
// from the rebuilt sample, as every other payload is: the same refusals, with the same messages
// (test/collector/ingest-light-columnar.test.ts compares both readings).
import protobuf from 'protobufjs/minimal.js';
import { CloseCode, WireError, assay, type IProcess, type ISample } from '../../proto/codec.js';
import type { ColumnarEntry } from '../../proto/columnar.js';
import type { PayloadSamples } from '../../proto/payload.js';
import { FIELD_LIMITS, validateSample } from '../validate.js';
import { keepSignatureBytes } from '../store/store.js';

/** A sample as the ack path reads it. */
export interface LightSample {
  /** Figures and signed processes only: `processes` holds just the entries carrying a signature (pid, start, name, signature). */
  sample: ISample;
  /** Process and socket entries in the sample once its delta runs are expanded. */
  processes: number;
  sockets: number;
}

/** protobufjs's reader with its UTF-8-checking string read (what the generated decoders call). */
type Reader = protobuf.Reader & { stringVerify(): string };

const S = assay.v1;

const LD = 2;

// Tags are read with reader.tag() and unknown fields skipped with their field number and nesting
// depth, as the generated decoders do: a plain uint32() read accepted tags the decoder refuses
// (field number 0, an over-long or over-large tag varint), and skipType() without the field number
// accepted a group closed by another field's end tag. Depths: a Sample is read at 0, its entries
// (Process, Socket, Cpu, ...) at 1, a process's signature at 2.
// A singular message field sent more than once is merged into the one read before (protobuf's
// rule, and the generated decoder's): `into` is that message.
/** Decodes a submessage of `len` bytes at `depth`, as the generated decoder does for a nested field. */
type Decode<T> = (r: protobuf.Reader, len: number, end: undefined, depth: number, into?: T) => T;
const sub = <T>(decode: (r: protobuf.Reader, len: number) => T, r: Reader, len: number, depth: number, into?: T | null): T =>
  (decode as unknown as Decode<T>)(r, len, undefined, depth, into ?? undefined);

/** A string field as the decoder reads it: length-delimited, valid UTF-8, within the limit. */
function text(r: Reader, wire: number, field: number, what: string): string | null {
  if (wire !== LD) return r.skipType(wire, 1, field), null;
  const v = r.stringVerify();
  if (v.length > FIELD_LIMITS.maxStringBytes) throw new WireError(CloseCode.invalid, 'oversized_field', `${what} is ${v.length} characters (limit ${FIELD_LIMITS.maxStringBytes})`);
  return v;
}

/** Scans one Process entry; returns it (pid, start, name, signature) when it carries a signature. */
function scanProcess(r: Reader, end: number): IProcess | null {
  let pid = 0;
  let start = 0;
  // The name is checked where it is, and read only for a process that carries a signature (the last one sent, as the decoder keeps).
  let nameAt = -1;
  let signature: assay.v1.ProcessSignature | null = null;
  let sigBytes: Uint8Array | null = null;
  while (r.pos < end) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 1 && wire === 0) pid = r.uint32();
    else if (field === 3) {
      if (wire === LD) nameAt = r.pos;
      checkText(r, wire, field, 'processes.name');
    } else if (field === 4 && wire === 0) start = r.uint64() as unknown as number;
    else if (field === 13) checkText(r, wire, field, 'processes.state');
    else if (field === 14 && wire === LD) {
      const len = r.size();
      const from = r.pos;
      signature = sub(S.ProcessSignature.decode, r, len, 2, signature);
      // The store keeps these bytes as they came (no second encoding of a large message); a copy,
      // so the batch's whole decompressed payload is not held while the batch waits for its commit.
      // A signature sent in several parts is their concatenation, which decodes to the merged message.
      const part = Uint8Array.prototype.slice.call(r.buf, from, from + len) as Uint8Array;
      sigBytes = sigBytes ? Buffer.concat([sigBytes, part]) : part;
      keepSignatureBytes(signature, sigBytes);
    }
    else r.skipType(wire, 1, field);
  }
  if (r.pos !== end) throw new RangeError('index out of range');
  if (!signature) return null;
  let name = '';
  if (nameAt >= 0) {
    r.pos = nameAt;
    name = r.stringVerify();
    r.pos = end;
  }
  return { pid, startTimeTicks: start, name, signature };
}

/**
 * Checks a string field without building the string when it is plain ASCII (socket fields
 * always are: protocols, addresses, states); anything else is read as the decoder reads it.
 */
function checkText(r: Reader, wire: number, field: number, what: string): void {
  if (wire !== LD) return void r.skipType(wire, 1, field);
  const at = r.pos;
  const end = entryEnd(r);
  const buf = r.buf;
  let i = r.pos;
  while (i < end && buf[i]! < 0x80) i++;
  if (i === end && end - r.pos <= FIELD_LIMITS.maxStringBytes) return void (r.pos = end);
  r.pos = at;
  text(r, wire, field, what);
}

/** Scans one Socket entry: its text fields checked, nothing kept. */
function scanSocket(r: Reader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field === 1 || field === 2 || field === 4 || field === 6) checkText(r, tag & 7, field, 'sockets');
    else r.skipType(tag & 7, 1, field);
  }
  if (r.pos !== end) throw new RangeError('index out of range');
}

/** The entry's end, for a length-delimited field. */
function entryEnd(r: Reader): number {
  const len = r.size();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError('index out of range');
  return end;
}

/** A repeated uint32 field, packed or not: a packed one is read within its length (its last varint may not run past it). */
function readRuns(r: Reader, wire: number, field: number, into: number[]): void {
  if (wire === LD) r.uint32s(into);
  else if (wire === 0) into.push(r.uint32());
  else r.skipType(wire, 0, field);
}

/** What reading a sample found, before its runs and limits are checked. */
interface Read {
  s: ISample;
  processes: number;
  sockets: number;
  processRuns: number[];
  socketRuns: number[];
}

/** A list of a columnar sample: its entries, which go in at `offset` of the bytes read. */
interface Block {
  offset: number;
  field: number;
  entries: readonly ColumnarEntry[];
}

/** Thrown inside a columnar read that cannot be sure to read the sample as its rebuilt bytes would be read. */
class NotAsRebuilt extends Error {}

/** What the ack path reads of a list entry: a process (the signed one, or null), a socket (nothing). */
const ENTRY_READERS = new Map<number, { list: 'processes' | 'sockets'; scan: (r: Reader, end: number) => IProcess | null }>([
  [9, { list: 'processes', scan: scanProcess }],
  [10, { list: 'sockets', scan: (r, end) => (scanSocket(r, end), null) }],
]);

/** A Buffer reader over an entry's bytes (the one the rebuilt sample's reader would be: Buffer-backed, so bytes fields decode as Buffers). */
function entryReader(e: ColumnarEntry, readers: Map<Uint8Array, Reader>): Reader {
  const buf = e.src.buf;
  let r = readers.get(buf);
  if (!r) readers.set(buf, (r = protobuf.Reader.create(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) as Reader));
  r.pos = e.start;
  r.len = e.end;
  return r;
}

/**
 * Reads a sample's bytes; `blocks`: a columnar sample's lists (the bytes are then its rest), each
 * read at its offset, which must fall between two fields (else NotAsRebuilt).
 */
function read(bytes: Uint8Array, blocks: readonly Block[] = [], readers?: Map<Uint8Array, Reader>): Read {
  const r = protobuf.Reader.create(bytes) as Reader;
  const s: ISample = {};
  const disks: assay.v1.IDisk[] = [];
  const net: assay.v1.INetInterface[] = [];
  const gpus: assay.v1.IGpu[] = [];
  const power: assay.v1.IPowerReading[] = [];
  const gpuProcesses: assay.v1.IGpuProcess[] = [];
  const unavailable: assay.v1.IProbeStatus[] = [];
  const signed: IProcess[] = [];
  const processRuns: number[] = [];
  const socketRuns: number[] = [];
  let processes = 0;
  let sockets = 0;
  let b = 0;
  for (;;) {
    for (; b < blocks.length && blocks[b]!.offset === r.pos; b++) {
      const { field, entries } = blocks[b]!;
      const reader = ENTRY_READERS.get(field)!;
      for (const e of entries) {
        let got = e.memo as IProcess | null | undefined;
        if (got === undefined) e.memo = got = reader.scan(entryReader(e, readers!), e.end);
        if (got) signed.push({ ...got });
      }
      if (reader.list === 'processes') processes += entries.length;
      else sockets += entries.length;
    }
    if (r.pos >= r.len) break;
    if (b < blocks.length && blocks[b]!.offset < r.pos) throw new NotAsRebuilt();
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    // Fields read with another wire type than their own are skipped, as the generated decoder does.
    if (field === 1 && wire === 0) s.tsMs = r.uint64() as unknown as number;
    else if (field === 13 && wire === 0) s.processesTotal = r.uint32();
    else if (field === 15) readRuns(r, wire, field, processRuns);
    else if (field === 16) readRuns(r, wire, field, socketRuns);
    else if (wire !== LD || field < 2 || field > 14 || field === 13) r.skipType(wire, 0, field);
    else if (field === 9) {
      const p = scanProcess(r, entryEnd(r));
      processes++;
      if (p) signed.push(p);
    } else if (field === 10) {
      scanSocket(r, entryEnd(r));
      sockets++;
    } else {
      const len = r.size();
      if (field === 2) s.cpu = sub(S.Cpu.decode, r, len, 1, s.cpu as assay.v1.Cpu | undefined);
      else if (field === 3) s.memory = sub(S.Memory.decode, r, len, 1, s.memory as assay.v1.Memory | undefined);
      else if (field === 4) s.load = sub(S.Load.decode, r, len, 1, s.load as assay.v1.Load | undefined);
      else if (field === 5) disks.push(sub(S.Disk.decode, r, len, 1));
      else if (field === 6) net.push(sub(S.NetInterface.decode, r, len, 1));
      else if (field === 7) gpus.push(sub(S.Gpu.decode, r, len, 1));
      else if (field === 8) power.push(sub(S.PowerReading.decode, r, len, 1));
      else if (field === 11) gpuProcesses.push(sub(S.GpuProcess.decode, r, len, 1));
      else if (field === 12) unavailable.push(sub(S.ProbeStatus.decode, r, len, 1));
      else s.socketAttribution = sub(S.SocketAttribution.decode, r, len, 1, s.socketAttribution as assay.v1.SocketAttribution | undefined);
    }
  }
  if (b < blocks.length) throw new NotAsRebuilt();
  Object.assign(s, { disks, net, gpus, power, gpuProcesses, unavailable, processes: signed });
  return { s, processes, sockets, processRuns, socketRuns };
}

/** How long a list is once its runs are expanded, checked as proto/payload.ts expandDeltas checks them. */
function expandedLength(runs: number[], own: number, prev: number | null, what: string, at: number): number {
  if (runs.length === 0) return own;
  if (prev === null) throw new WireError(CloseCode.invalid, 'bad_payload', `sample ${at} of the payload refers to a previous sample it does not have`);
  if (runs.length % 2 !== 0) throw new WireError(CloseCode.invalid, 'bad_payload', `sample ${at} of the payload: ${what} runs are not pairs`);
  let next = 0;
  let total = 0;
  for (let i = 0; i < runs.length; i += 2) {
    const from = runs[i]!;
    const count = runs[i + 1]!;
    if (from === 0) {
      if (next + count > own) throw new WireError(CloseCode.invalid, 'bad_payload', `sample ${at} of the payload: ${what} runs take more entries than it carries`);
      next += count;
    } else if (from - 1 + count > prev) {
      throw new WireError(CloseCode.invalid, 'bad_payload', `sample ${at} of the payload: ${what} run ${from}+${count} beyond the ${prev} of the sample before`);
    }
    total += count;
  }
  if (next !== own) throw new WireError(CloseCode.invalid, 'bad_payload', `sample ${at} of the payload: ${own - next} ${what} not placed by its runs`);
  return total;
}

/** Where a payload's reading is: the sample before's expanded list lengths (null: none yet). */
export interface LightCursor {
  processes: number | null;
  sockets: number | null;
}

/** read() of a sample's bytes, its errors as WireErrors. */
function readFrame(bytes: Uint8Array, seq: number): Read {
  try {
    return read(bytes);
  } catch (err) {
    if (err instanceof WireError) throw new WireError(err.code, err.reason, `sample ${seq}: ${err.message}`);
    const message = (err as Error).message;
    if (/utf-8/i.test(message)) throw new WireError(CloseCode.invalid, 'bad_utf8', `sample ${seq}: a text field is not valid UTF-8`);
    throw new WireError(CloseCode.malformed, 'malformed', `malformed sample ${seq} (${bytes.length} bytes): ${message}`);
  }
}

/** Checks what was read: runs against the sample before (`cursor`), list lengths, figures (validate.ts). */
function finish(out: Read, seq: number, cursor: LightCursor, delta: boolean): LightSample {
  const at = seq;
  const processes = delta ? expandedLength(out.processRuns, out.processes, cursor.processes, 'processes', at) : out.processes;
  const sockets = delta ? expandedLength(out.socketRuns, out.sockets, cursor.sockets, 'sockets', at) : out.sockets;
  cursor.processes = processes;
  cursor.sockets = sockets;
  if (processes > FIELD_LIMITS.maxListLength || sockets > FIELD_LIMITS.maxListLength) {
    throw new WireError(CloseCode.invalid, 'oversized_field', `sample ${seq} lists ${processes} processes and ${sockets} sockets (limit ${FIELD_LIMITS.maxListLength} each)`);
  }
  validateSample(out.s, seq);
  return { sample: out.s, processes, sockets };
}

/**
 * Reads one framed payload entry for the ack path (`cursor` carries the sample before's list
 * lengths through a payload; `delta`: whether the encoding has runs, i.e. schema 3). Throws
 * WireError: malformed bytes, text that is not UTF-8, no timestamp, lists or strings over
 * validate.ts's limits, runs pointing outside the lists.
 */
export function readLightSample(bytes: Uint8Array, seq: number, cursor: LightCursor = { processes: null, sockets: null }, delta = true): LightSample {
  return finish(readFrame(bytes, seq), seq, cursor, delta);
}

/**
 * Reads every sample of a payload for the ack path, as readLightSample reads each one's frame
 * (`seqs`: the header's, one per sample), and throws as it throws; `each` is called with each
 * sample once read, before the next is (its own checks throw in the same order as before). A
 * columnar payload's samples are read from its columns, not rebuilt (see the top of this file);
 * `counts.fromColumns`, when given, is raised for each sample read that way (not read again from
 * its rebuilt bytes).
 */
export function readLightSamples(samples: PayloadSamples, seqs: readonly number[], delta = true, each?: (sample: LightSample, i: number) => void, counts?: { fromColumns: number }): LightSample[] {
  const cursor: LightCursor = { processes: null, sockets: null };
  const col = samples.columnar;
  const fromColumns = col !== null && col.fields.every((f) => ENTRY_READERS.has(f));
  const readers = new Map<Uint8Array, Reader>();
  const out: LightSample[] = [];
  for (let i = 0; i < samples.count; i++) {
    const seq = seqs[i]!;
    let got: Read | null = null;
    const cs = fromColumns ? col.samples[i]! : null;
    if (cs && !cs.raw) {
      try {
        got = read(cs.rest, cs.entries.map((entries, l) => ({ offset: cs.offsets[l]!, field: col!.fields[l]!, entries })), readers);
      } catch {
        got = null; // read again from its bytes: the answer, or the refusal with its message
      }
      if (got && counts) counts.fromColumns++;
    }
    const light = finish(got ?? readFrame(samples.frame(i), seq), seq, cursor, delta);
    each?.(light, i);
    out.push(light);
  }
  return out;
}
