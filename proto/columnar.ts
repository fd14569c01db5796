// Column-wise transposition of a batch's samples: the container inside a BATCH_ENCODING_COLUMNAR
// payload (proto/payload.ts compresses it with brotli). Lossless at the byte level: decoding gives
// back exactly the encoded samples the agent took, byte for byte, so samples_digest-style framing,
// stored rows and `assay verify` see the very bytes the agent encoded.
//
// Why: brotli over row-wise protobuf sees each process's fields interleaved with the other
// fields; between consecutive samples most entries are byte-identical or change in a few fields.
// Here the entries of the batch's repeated lists (Sample.processes, Sample.sockets: LISTS) are
// taken apart at the wire level and each field's values go into their own column, in entry order,
// as differences against the same entry of the sample before (matched by pid, by inode), so an
// unchanged value is a zero byte and a column of mostly unchanged values compresses to almost
// nothing. Everything else of a sample (figures, disks, ...) stays as it is ("rest").
//
// Nothing here knows the Sample schema beyond LISTS (which lists, and the field that matches an
// entry with the one of the sample before, an encoder heuristic only): entries are read as
// protobuf wire fields (tag, value), so fields added later travel as well. A sample this codec
// cannot reproduce exactly (not valid wire format, a list's entries not contiguous, a varint not
// in its shortest form or above 2^49, groups) travels whole ("raw"), so the round trip is exact
// for any bytes.
//
// Container (every integer a base-128 varint as protobuf writes them):
//   version (1; 2: the first sample refers to a prior sample the reader is given, as if it were
//            the sample before it: BATCH_ENCODING_CHAINED, proto/payload.ts)
//   nLists, then each list's Sample field number
//   per list: nTags, tags (the first, then each one's gap from the one before: ascending): the
//             wire tags its entries use in this batch
//   nSamples
//   meta length, meta bytes: per sample: mode 0 = raw (length; bytes taken from rest) or
//                            1 = columnar (rest length; per list: offset into its rest, entries)
//   rest length, rest bytes: each sample's bytes outside its lists' entries (raw samples whole)
//   per list, its columns: length, bytes each; keys 0 (refs), 1 (shapes), then its tags in order
//     key 0 (refs, samples that have a sample before): per entry 0 = new, else
//       zigzag(index in the sample before - expected) + 1, expected = last matched index + 1
//     key 1 (shapes): per entry, which of the list's tags it has, as the positions where that
//       differs from the entry it refers to: count, then each position's gap from the one before
//     key = a wire tag (field << 3 | type): the values of that field, entry after entry:
//       varint:  zigzag(value - value of the entry referred to, or 0)
//       fixed32/fixed64: bytes XOR the entry referred to's (or zero), stored byte plane by byte
//                plane (all first bytes, then all second bytes...: the zero low bytes of
//                quantized figures become long runs)
//       length-delimited: 0 = the same bytes as the entry referred to, else length + 1, bytes
//   "The entry referred to" is the matched entry of the sample before; an entry without one (a
//   new process, every entry of a batch's first sample) refers to the entry before it in its own
//   list (the first entry of a list: to nothing: 0, zero bytes, no tags). An entry's fields are
//   its tags in ascending order, each once; a field's counterpart is the same tag's value in the
//   entry referred to (none: as for nothing).
// A sample's entries are rebuilt as (tag, length, fields) and inserted into its rest at their
// offset: the lists' blocks in list order, offsets non-decreasing.

/** The repeated lists taken apart: a Sample field number, and the field of an entry that finds the same entry in the sample before. */
export const COLUMNAR_LISTS: readonly { field: number; key: number }[] = [
  { field: 9, key: 1 }, // Sample.processes, by pid
  { field: 10, key: 8 }, // Sample.sockets, by inode
];

/**
 * Fewest entries (over the batch) for a list to be taken apart. Measured on the recorded traces
 * (bench/payload-columnar.ts): below about this, the columns' lengths and the list's tags cost
 * more than the columns save.
 */
export const COLUMNAR_MIN_ENTRIES = 64;

/** A container that decodes on its own (BATCH_ENCODING_COLUMNAR, and CHAINED's keyframes); its first byte. */
export const COLUMNAR_VERSION = 1;
const VERSION = COLUMNAR_VERSION;
/** A container whose first sample refers to a prior sample the reader is given (encodeColumnar's `prior`); its first byte. */
export const COLUMNAR_VERSION_PRIOR = 2;
const VERSION_PRIOR = COLUMNAR_VERSION_PRIOR;
/** Value coding (writeEntryValues), on its own and with a prior: BATCH_ENCODING_CHAINED_VALUES's containers. */
export const COLUMNAR_VERSION_VALUES = 3;
export const COLUMNAR_VERSION_VALUES_PRIOR = 4;
const VERSION_VALUES = COLUMNAR_VERSION_VALUES;
const VERSION_VALUES_PRIOR = COLUMNAR_VERSION_VALUES_PRIOR;
/** Varint values the columns carry exactly in a double (2^49: seven varint bytes). */
const VALUE_LIMIT = 2 ** 49;
const MAX_LISTS = 16;
const MAX_SHAPE_TAGS = 1 << 12;
const REFS = 0;
const SHAPES = 1;

/** A container that cannot be read; `tooLarge`: it rebuilds to more than the bound given. */
export class ColumnarError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'ColumnarError';
  }
}

class Out {
  buf: Uint8Array;
  len = 0;
  constructor(
    size = 1024,
    private readonly alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
  ) {
    this.buf = alloc(size);
  }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = this.alloc(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  varint(v: number): void {
    this.reserve(10);
    const b = this.buf;
    if (v <= 0x7fffffff) {
      while (v >= 0x80) {
        b[this.len++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[this.len++] = v;
      return;
    }
    while (v >= 0x80) {
      b[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.len++] = v;
  }
  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const varintSize = (v: number): number => {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
};
const zig = (d: number): number => (d >= 0 ? 2 * d : -2 * d - 1);
// Below 2^31 in 32-bit integer arithmetic (most values); above, in doubles (values up to 2^49).
const unzig = (z: number): number => (z <= 0x7fffffff ? (z >>> 1) ^ -(z & 1) : z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** Signals, inside the encoder, a sample to send whole. */
class NotColumnar extends Error {}

/** Reads a varint in its shortest form below 2^49 (the encoder's condition for columns), or throws NotColumnar. */
function smallVarint(b: Uint8Array, at: { pos: number }, end: number): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (at.pos >= end) throw new NotColumnar();
    const x = b[at.pos++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) {
      if (x === 0 && i > 0) throw new NotColumnar(); // not the shortest form
      return v;
    }
    mul *= 0x80;
  }
  throw new NotColumnar();
}

/** Skips a varint of any length (rest bytes are copied as they are). */
function skipVarint(b: Uint8Array, at: { pos: number }, end: number): void {
  for (let i = 0; i < 10; i++) {
    if (at.pos >= end) throw new NotColumnar();
    if (b[at.pos++]! < 0x80) return;
  }
  throw new NotColumnar();
}

/** Where an entry's bytes are: the sample's bytes (encoder, the decoder's prior) or the decoder's arena of rebuilt entries (whose buffer grows). */
interface Src {
  buf: Uint8Array;
}

/**
 * A list entry taken apart: its shape, and per field j of the shape v[2j] = the value (varint) or
 * the offset of its bytes in src.buf (fixed, length-delimited), v[2j + 1] = the length
 * (length-delimited). `start`..`end`: the entry's bytes (without its tag and length).
 */
interface Entry {
  shape: number;
  v: number[];
  src: Src;
  start: number;
  end: number;
  /** The encoder's match key (keyOf), once computed. */
  key?: number | string | null;
  /** The decoder's caller's (ColumnarEntry.memo). */
  memo?: unknown;
}

function sameBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  if (n > 32) return Buffer.compare(a.subarray(ao, ao + n), b.subarray(bo, bo + n)) === 0;
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
const sameEntry = (a: Entry, b: Entry): boolean => a.end - a.start === b.end - b.start && sameBytes(a.src.buf, a.start, b.src.buf, b.start, a.end - a.start);

interface ShapeNode {
  id: number;
  next: Map<number, ShapeNode>;
}

/** Shapes (ascending tag lists) of one batch (the reader's: of many, ReadCache), and for each pair of shapes where each field's counterpart sits. */
class Shapes {
  readonly list: number[][] = [];
  private readonly root: ShapeNode = { id: -1, next: new Map() };
  private readonly same: Int32Array[] = [];
  /** pair(cur, prev), once computed, by cur * 2^24 + prev. */
  private readonly pairs = new Map<number, Int32Array>();
  get pairCount(): number {
    return this.pairs.size;
  }
  id(tags: number[]): number {
    let node = this.root;
    for (const t of tags) {
      let n = node.next.get(t);
      if (!n) node.next.set(t, (n = { id: -1, next: new Map() }));
      node = n;
    }
    if (node.id < 0) {
      node.id = this.list.length;
      this.list.push(tags);
      const ident = new Int32Array(tags.length);
      for (let i = 0; i < tags.length; i++) ident[i] = i;
      this.same.push(ident);
    }
    return node.id;
  }
  private readonly positions: Map<number, number>[] = [];
  /** Where each tag sits in `shape` (value coding: a field's counterpart by tag). */
  positionsOf(shape: number): Map<number, number> {
    let m = this.positions[shape];
    if (!m) {
      m = new Map();
      const tags = this.list[shape]!;
      for (let i = 0; i < tags.length; i++) m.set(tags[i]!, i);
      this.positions[shape] = m;
    }
    return m;
  }
  private readonly bytesShapes: number[] = [];
  /** The shape of `shape`'s length-delimited fields alone (value coding: what the shapes column describes). */
  bytesShape(shape: number): number {
    let id = this.bytesShapes[shape];
    if (id === undefined) this.bytesShapes[shape] = id = this.id(this.list[shape]!.filter((t) => (t & 7) === 2));
    return id;
  }
  private readonly keys = new Map<number, number[]>();
  /** The position in `shape` of the first field numbered `field`, or -1. */
  keyAt(shape: number, field: number): number {
    let at = this.keys.get(field);
    if (!at) this.keys.set(field, (at = []));
    let j = at[shape];
    if (j === undefined) at[shape] = j = this.list[shape]!.findIndex((t) => t >>> 3 === field);
    return j;
  }
  /** For each field of shape `cur`, the position of the same tag in shape `prev`, or -1. */
  pair(cur: number, prev: number): Int32Array {
    if (cur === prev) return this.same[cur]!;
    const key = cur * 2 ** 24 + prev;
    let p = this.pairs.get(key);
    if (p) return p;
    const a = this.list[cur]!;
    const b = this.list[prev]!;
    p = new Int32Array(a.length).fill(-1);
    for (let i = 0, j = 0; i < a.length; i++) {
      while (j < b.length && b[j]! < a[i]!) j++;
      if (j < b.length && b[j] === a[i]) p[i] = j;
    }
    this.pairs.set(key, p);
    return p;
  }
}

/**
 * The tags a list's entries use in a batch, ascending: an entry's shape is written as the
 * positions (in this union) where it differs from the shape of the entry it refers to.
 */
class Union {
  readonly tags: number[];
  private readonly at = new Map<number, number>();
  private readonly flips = new Map<number, Map<number, number[]>>();
  constructor(
    shapeIds: number[] | number[][],
    private readonly shapes: Shapes,
    /** Where readFlips counts the nodes it makes (ReadCache's bound, over all its unions). */
    private readonly made = { nodes: 0 },
  ) {
    const all = new Set<number>();
    for (const s of new Set<number | number[]>(shapeIds)) for (const t of typeof s === 'number' ? shapes.list[s]! : s) all.add(t);
    this.tags = [...all].sort((a, b) => a - b);
    this.tags.forEach((t, i) => this.at.set(t, i));
  }
  private readonly at2 = new Map<number, Int32Array>();
  /** Where each of the union's tags sits in `shape` (-1: not in it); value coding's counterparts. */
  positions(shape: number): Int32Array {
    let p = this.at2.get(shape);
    if (!p) {
      const pos = this.shapes.positionsOf(shape);
      p = Int32Array.from(this.tags, (t) => pos.get(t) ?? -1);
      this.at2.set(shape, p);
    }
    return p;
  }
  /** True when every tag is one of the union's. */
  covers(tags: readonly number[]): boolean {
    return tags.every((t) => this.at.has(t));
  }
  private mask(shape: number): Uint8Array {
    const m = new Uint8Array(this.tags.length);
    if (shape >= 0) for (const t of this.shapes.list[shape]!) m[this.at.get(t)!] = 1;
    return m;
  }
  /** Writes how `shape` differs from `ref` (-1: the empty shape): count, then each position as the gap from the one before. */
  writeFlips(out: Out, ref: number, shape: number): void {
    if (ref === shape) return out.varint(1);
    let byShape = this.flips.get(ref);
    if (!byShape) this.flips.set(ref, (byShape = new Map()));
    let f = byShape.get(shape);
    if (!f) {
      const a = this.mask(ref);
      const b = this.mask(shape);
      f = [];
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) f.push(i);
      byShape.set(shape, f);
    }
    out.varint(f.length + 1);
    let last = -1;
    for (const i of f) {
      out.varint(i - last - 1);
      last = i;
    }
  }
  /** The reader's: per shape referred to (its id + 1: none is -1), the shapes its changes lead to (a batch repeats the same few). */
  private readonly read: FlipNode[] = [];
  private readonly changes: number[] = [];
  /** Reads what writeFlips wrote, given its first number `n1` (count + 1); returns the shape. */
  readFlips(c: In, n1: number, ref: number): number {
    if (n1 > this.tags.length + 1) throw new ColumnarError(`${c.what}: ${n1 - 1} shape changes in a list of ${this.tags.length} tags`);
    const n = n1 - 1;
    if (n === 0 && ref >= 0) return ref;
    let node = this.read[ref + 1];
    if (!node) {
      this.read[ref + 1] = node = { shape: -1, next: [] };
      this.made.nodes++;
    }
    const changes = this.changes;
    changes.length = 0;
    let last = -1;
    for (let k = 0; k < n; k++) {
      const i = last + 1 + c.varint();
      if (i >= this.tags.length) throw new ColumnarError(`${c.what}: shape change at position ${i} of ${this.tags.length} tags`);
      changes.push(i);
      let next: FlipNode | undefined = node.next[i];
      if (!next) {
        node.next[i] = next = { shape: -1, next: [] };
        this.made.nodes++;
      }
      node = next;
      last = i;
    }
    if (node.shape < 0) {
      const m = this.mask(ref);
      for (const i of changes) m[i] ^= 1;
      const tags: number[] = [];
      for (let i = 0; i < m.length; i++) if (m[i]) tags.push(this.tags[i]!);
      node.shape = this.shapes.id(tags);
    }
    return node.shape;
  }
}

/** readFlips' memo: the shape a path of changes (from the shape referred to) leads to, -1 until met. */
interface FlipNode {
  shape: number;
  /** By the next change's position. */
  next: FlipNode[];
}

/** One sample taken apart: its rest, and per list the offset into the rest and the entries. */
interface Parsed {
  /** The sample's bytes (its entries' values are offsets into them). */
  src: Uint8Array;
  rest: Uint8Array[];
  restLen: number;
  offsets: number[];
  entries: Entry[][];
}

function parseEntry(src: Src, start: number, end: number, shapes: Shapes): Entry {
  const b = src.buf;
  const at = { pos: start };
  const tags: number[] = [];
  const v: number[] = [];
  let last = 0;
  while (at.pos < end) {
    const tag = smallVarint(b, at, end);
    // Fields in ascending order, each once (as protobuf encoders write messages without repeated fields).
    if (tag > 0xffffffff || tag >>> 3 === 0 || tag <= last) throw new NotColumnar();
    last = tag;
    const wire = tag & 7;
    tags.push(tag);
    if (wire === 0) v.push(smallVarint(b, at, end), 0);
    else if (wire === 1 || wire === 5) {
      const w = wire === 1 ? 8 : 4;
      if (at.pos + w > end) throw new NotColumnar();
      v.push(at.pos, w);
      at.pos += w;
    } else if (wire === 2) {
      const len = smallVarint(b, at, end);
      if (at.pos + len > end) throw new NotColumnar();
      v.push(at.pos, len);
      at.pos += len;
    } else throw new NotColumnar();
  }
  if (tags.length > MAX_SHAPE_TAGS) throw new NotColumnar();
  return { shape: shapes.id(tags), v, src, start, end };
}

function parseSample(b: Uint8Array, lists: readonly number[], shapes: Shapes): Parsed {
  const src: Src = { buf: b };
  const rest: Uint8Array[] = [];
  let restLen = 0;
  const offsets = lists.map(() => -1);
  const entries: Entry[][] = lists.map(() => []);
  const listTag = lists.map((f) => f * 8 + 2);
  let open = -1; // the list whose block is being read
  let lastList = -1;
  let from = 0; // start of the rest not yet taken
  const at = { pos: 0 };
  while (at.pos < b.length) {
    const fieldAt = at.pos;
    let tag: number;
    try {
      tag = smallVarint(b, at, b.length);
    } catch {
      throw new NotColumnar();
    }
    const l = listTag.indexOf(tag);
    if (l >= 0) {
      if (l !== open) {
        if (l <= lastList) throw new NotColumnar(); // a list's entries not contiguous, or lists out of order
        if (fieldAt > from) rest.push(b.subarray(from, fieldAt)), (restLen += fieldAt - from);
        offsets[l] = restLen;
        open = lastList = l;
      }
      const len = smallVarint(b, at, b.length);
      if (at.pos + len > b.length) throw new NotColumnar();
      entries[l]!.push(parseEntry(src, at.pos, at.pos + len, shapes));
      at.pos += len;
      from = at.pos;
      continue;
    }
    if (open >= 0) open = -1;
    const wire = tag & 7;
    if (wire === 0) skipVarint(b, at, b.length);
    else if (wire === 1) at.pos += 8;
    else if (wire === 5) at.pos += 4;
    else if (wire === 2) {
      const len = smallVarint(b, at, b.length);
      at.pos += len;
    } else throw new NotColumnar();
    if (at.pos > b.length) throw new NotColumnar();
  }
  if (b.length > from) rest.push(b.subarray(from)), (restLen += b.length - from);
  // An absent list sits where the one before it sits (offsets non-decreasing in list order).
  for (let l = 0; l < offsets.length; l++) if (offsets[l]! < 0) offsets[l] = l > 0 ? offsets[l - 1]! : 0;
  for (let l = 1; l < offsets.length; l++) if (offsets[l]! < offsets[l - 1]!) throw new NotColumnar();
  return { src: b, rest, restLen, offsets, entries };
}

/** Byte planes of fixed-width values: all first bytes, then all second bytes, ... */
function toPlanes(src: Uint8Array, width: number): Uint8Array {
  const n = src.length / width;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[k * n + i] = src[i * width + k]!;
  return out;
}
function fromPlanes(src: Uint8Array, width: number): Uint8Array {
  const n = src.length / width;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) out[i * width + k] = src[k * n + i]!;
  return out;
}
const widthOf = (tag: number): number => ((tag & 7) === 1 ? 8 : (tag & 7) === 5 ? 4 : 0);
/** A list's columns in container order: refs, shapes, its tags; value coding adds each fixed-width tag's escapes (key -tag). */
function columnKeys(tags: readonly number[], values: boolean): number[] {
  const keys = [REFS, SHAPES, ...tags];
  if (values) for (const t of tags) if (widthOf(t)) keys.push(-t);
  return keys;
}
/** The byte planes' width of a column (0: none): fixed-width tags' bytes, or with value coding their escapes. */
const planeWidth = (key: number, values: boolean): number => (values ? (key < 0 ? widthOf(-key) : 0) : key > SHAPES ? widthOf(key) : 0);

const ZERO8 = new Uint8Array(8);

/** Writes a list entry that is not a copy of the entry it refers to: its shape, then each field into its column. */
function writeEntry(e: Entry, ref: Entry | null, shapeCol: Out, col: (tag: number) => Out, union: Union, shapes: Shapes): void {
  union.writeFlips(shapeCol, ref ? ref.shape : -1, e.shape);
  const tags = shapes.list[e.shape]!;
  const pair = ref ? shapes.pair(e.shape, ref.shape) : null;
  const b = e.src.buf;
  const rb = ref ? ref.src.buf : ZERO8;
  for (let j = 0; j < tags.length; j++) {
    const tag = tags[j]!;
    const x = e.v[2 * j]!;
    const pj = pair ? pair[j]! : -1;
    const c = col(tag);
    const wire = tag & 7;
    if (wire === 0) c.varint(zig(x - (pj >= 0 ? ref!.v[2 * pj]! : 0)));
    else if (wire === 2) {
      const n = e.v[2 * j + 1]!;
      if (pj >= 0 && ref!.v[2 * pj + 1] === n && sameBytes(b, x, rb, ref!.v[2 * pj]!, n)) c.varint(0);
      else {
        c.varint(n + 1);
        c.bytes(b.subarray(x, x + n));
      }
    } else {
      const w = wire === 1 ? 8 : 4;
      c.reserve(w);
      if (pj >= 0) {
        const q = ref!.v[2 * pj]!;
        for (let k = 0; k < w; k++) c.buf[c.len++] = b[x + k]! ^ rb[q + k]!;
      } else for (let k = 0; k < w; k++) c.buf[c.len++] = b[x + k]!;
    }
  }
}

// Value coding (container versions 3 and 4, BATCH_ENCODING_CHAINED_VALUES): the numeric fields of
// a list entry (wire types 0, 1 and 5) are coded as values rather than bytes, and their presence
// travels with them, so the shapes column describes only the length-delimited fields. A field
// going between absent (zero, which protobuf leaves out) and present used to cost a shape change
// and its whole value; a rate quantized to a few significant bits, XORed as a double, left two
// or three bytes of noise per change. Every value comes back bit for bit; what a rule cannot
// reproduce travels as it is (an escape). Per numeric tag of the union, per entry written:
//   varint (wire 0):   0 = absent, else zig(value - counterpart) + 1
//   fixed64 (wire 1):  0 = absent, 1 = escape (8 bytes XOR the counterpart's, or as they are,
//                      into the tag's escape column); for a double holding a whole number in
//                      0..2^49: 2 = the counterpart's value (its value when it is such a double
//                      too, else 0), else 3 + packWhole(value) when that is below 2^49
//   fixed32 (wire 5):  0 = absent, 1 = escape (4 bytes, as above), else 2 + k, the float being
//                      ticksValue(k, the sample's tick period): what the agent's CPU share is,
//                      whole clock ticks over the interval (agent/probes/processes.ts)
// "The counterpart" is the same tag's value in the entry referred to (none: 0). The sample's
// tick period (ms, 0 = none) follows each list's entry count in the meta.

/**
 * The float a value-coded fixed32 holds for `k` clock ticks over `periodMs`: the agent's CPU
 * share (agent/probes/processes.ts: round(100 * ticks / dtSec / USER_HZ, 2) with USER_HZ 100),
 * as float32. A value it does not give bit for bit is escaped: exact for any value.
 */
export function ticksValue(k: number, periodMs: number): number {
  return Math.fround(Math.round(((100 * (k / (periodMs / 1000))) / 100) * 100) / 100);
}
/** Most ticks a fixed32 value codes (2 + k in a column): a share of 2^20 cores-percent is no CPU share. */
const MAX_TICKS = 1 << 20;
/** Longest tick period tried or read (ms). */
const MAX_PERIOD_MS = 1 << 24;
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function readF32(b: Uint8Array, at: number): number {
  for (let k = 0; k < 4; k++) f32Bytes[littleEndian ? k : 3 - k] = b[at + k]!;
  return f32[0]!;
}
function readF64(b: Uint8Array, at: number): number {
  for (let k = 0; k < 8; k++) f64Bytes[littleEndian ? k : 7 - k] = b[at + k]!;
  return f64[0]!;
}
/** The bytes protobuf writes for float32 `v` (little-endian), into `out` at `at`. */
function writeF32(v: number, out: Uint8Array, at: number): void {
  f32[0] = v;
  for (let k = 0; k < 4; k++) out[at + k] = f32Bytes[littleEndian ? k : 3 - k]!;
}
function writeF64(v: number, out: Uint8Array, at: number): void {
  f64[0] = v;
  for (let k = 0; k < 8; k++) out[at + k] = f64Bytes[littleEndian ? k : 7 - k]!;
}
/** A double's value when it is a whole number in 0..2^49 (not -0), else -1. */
function wholeDouble(b: Uint8Array, at: number): number {
  const x = readF64(b, at);
  return Number.isInteger(x) && x >= 0 && x < VALUE_LIMIT && !Object.is(x, -0) ? x : -1;
}
/**
 * A whole number as odd * 2^tz packed into one number (x = 0: 0): 1 + tz + 50 * (odd - 1) / 2
 * (written only when below 2^49: exact in a double and in a column).
 * A rate the agent keeps to a few significant bits (agent/quantize.ts) has a small odd part, so
 * it packs into one or two bytes where its difference from the sample before took two or three.
 */
function packWhole(x: number): number {
  if (x === 0) return 0;
  let tz = 0;
  while (x % 2 === 0) (x /= 2), tz++;
  return 1 + tz + 50 * ((x - 1) / 2);
}
function unpackWhole(p: number): number {
  if (p === 0) return 0;
  const tz = (p - 1) % 50;
  const m = (p - 1 - tz) / 50;
  return (2 * m + 1) * 2 ** tz;
}
/** The ticks `k` for which ticksValue(k, periodMs) has exactly the float32 bytes at `at`, or -1. */
function ticksOf(b: Uint8Array, at: number, periodMs: number): number {
  const v = readF32(b, at);
  if (!(v >= 0) || Object.is(v, -0)) return -1;
  const k = Math.round((v * periodMs) / 1000);
  if (k > MAX_TICKS) return -1;
  writeF32(ticksValue(k, periodMs), scratch4, 0);
  return scratch4[0] === b[at] && scratch4[1] === b[at + 1] && scratch4[2] === b[at + 2] && scratch4[3] === b[at + 3] ? k : -1;
}
const scratch4 = new Uint8Array(4);

/**
 * The tick period (ms) under which most of these float32 fields (byte offsets into `b`) are
 * ticksValue of whole ticks, or 0 (none fits). Tried: `hint` (the period of the sample before),
 * then the periods that the smallest positive value allows for 1 to 4 ticks (its rounding to
 * hundredths leaves a few), at most PERIODS_TRIED of them; each first on a few of the values
 * (PROBE_VALUES: the smallest and the first positive ones), and on all of them only when those fit.
 * So a host whose shares follow no such rule (another USER_HZ) costs the agent a few hundred
 * float checks a sample, not tens of thousands.
 */
function ticksPeriod(b: Uint8Array, at: readonly number[], hint: number): number {
  let min = Infinity;
  let minAt = -1;
  const probe: number[] = [];
  for (const o of at) {
    const v = readF32(b, o);
    if (!(v > 0)) continue;
    if (probe.length < PROBE_VALUES - 1) probe.push(o);
    if (v < min) (min = v), (minAt = o);
  }
  if (minAt < 0) return at.length ? 1000 : 0; // no positive value: any period gives them
  probe.push(minAt);
  let best = 0;
  let bestFit = 0;
  let tried = 0;
  const tryPeriod = (p: number): boolean => {
    tried++;
    for (const o of probe) if (ticksOf(b, o, p) < 0) return false;
    let fit = 0;
    for (const o of at) if (ticksOf(b, o, p) >= 0) fit++;
    if (fit > bestFit) (best = p), (bestFit = fit);
    return bestFit === at.length;
  };
  if (hint > 0 && tryPeriod(hint)) return hint;
  for (let k = 1; k <= 4 && tried < PERIODS_TRIED; k++) {
    const lo = Math.max(1, Math.ceil((1000 * k) / (min + 0.0051)));
    const hi = Math.min(MAX_PERIOD_MS, Math.floor((1000 * k) / Math.max(min - 0.0051, 1e-9)));
    for (let p = lo; p <= hi && tried < PERIODS_TRIED; p++) if (p !== hint && tryPeriod(p)) return p;
  }
  return best;
}
/** Most periods ticksPeriod tries for one sample's list, and how many of its values it checks each on first. */
const PERIODS_TRIED = 48;
const PROBE_VALUES = 8;

/** Value coding's columns of a list: per numeric tag its codes (col) and its escapes (esc). */
interface ValueCols {
  col(tag: number): Out;
  esc(tag: number): Out;
}

/** Writes a list entry that is not a copy of the entry it refers to, value-coded (above): its length-delimited shape, then every numeric tag of the union. */
function writeEntryValues(e: Entry, ref: Entry | null, shapeCol: Out, cols: ValueCols, bytesUnion: Union, numeric: readonly number[], shapes: Shapes, periodMs: number): void {
  bytesUnion.writeFlips(shapeCol, ref ? shapes.bytesShape(ref.shape) : -1, shapes.bytesShape(e.shape));
  const tags = shapes.list[e.shape]!;
  const pos = shapes.positionsOf(e.shape);
  const rpos = ref ? shapes.positionsOf(ref.shape) : null;
  const b = e.src.buf;
  const rb = ref ? ref.src.buf : ZERO8;
  for (let j = 0; j < tags.length; j++) {
    const tag = tags[j]!;
    if ((tag & 7) !== 2) continue;
    const x = e.v[2 * j]!;
    const n = e.v[2 * j + 1]!;
    const pj = rpos ? rpos.get(tag) : undefined;
    const c = cols.col(tag);
    if (pj !== undefined && ref!.v[2 * pj + 1] === n && sameBytes(b, x, rb, ref!.v[2 * pj]!, n)) c.varint(0);
    else {
      c.varint(n + 1);
      c.bytes(b.subarray(x, x + n));
    }
  }
  for (const tag of numeric) {
    const j = pos.get(tag);
    const pj = rpos ? rpos.get(tag) : undefined;
    const c = cols.col(tag);
    if (j === undefined) {
      c.varint(0);
      continue;
    }
    const x = e.v[2 * j]!;
    const wire = tag & 7;
    if (wire === 0) {
      c.varint(zig(x - (pj !== undefined ? ref!.v[2 * pj]! : 0)) + 1);
      continue;
    }
    if (wire === 1) {
      const whole = wholeDouble(b, x);
      if (whole >= 0) {
        const r = pj !== undefined ? wholeDouble(rb, ref!.v[2 * pj]!) : 0;
        const packed = whole === (r >= 0 ? r : 0) ? -1 : packWhole(whole);
        // A whole number with a long odd part packs beyond what a column carries exactly: escaped.
        if (packed < VALUE_LIMIT) {
          c.varint(packed < 0 ? 2 : 3 + packed);
          continue;
        }
      }
    } else {
      const k = periodMs > 0 ? ticksOf(b, x, periodMs) : -1;
      if (k >= 0) {
        c.varint(2 + k);
        continue;
      }
    }
    c.varint(1);
    const w = wire === 1 ? 8 : 4;
    const o = cols.esc(tag);
    o.reserve(w);
    if (pj !== undefined) {
      const q = ref!.v[2 * pj]!;
      for (let k = 0; k < w; k++) o.buf[o.len++] = b[x + k]! ^ rb[q + k]!;
    } else for (let k = 0; k < w; k++) o.buf[o.len++] = b[x + k]!;
  }
}

/** The container of a batch's samples (each its complete encoded bytes). */
export function encodeColumnar(
  samples: readonly Uint8Array[],
  all: readonly { field: number; key: number }[] = COLUMNAR_LISTS,
  minEntries = COLUMNAR_MIN_ENTRIES,
  prior: Uint8Array | null = null,
  /** Value coding (container versions 3 and 4): BATCH_ENCODING_CHAINED_VALUES. */
  values = false,
): Uint8Array {
  let shapes = new Shapes();
  let lists = all;
  const parseOne = (bytes: Uint8Array): Parsed | null => {
    try {
      return parseSample(bytes, lists.map((l) => l.field), shapes);
    } catch (e) {
      if (!(e instanceof NotColumnar)) throw e;
      return null;
    }
  };
  // The prior is parsed first (its shapes join the lists' unions, so entries may refer to its entries).
  let before = prior ? parseOne(prior) : null;
  const parse = (): (Parsed | null)[] => samples.map(parseOne);
  let parsed = parse();
  // A short list costs more in column lengths and tags than its columns save: it stays in the
  // rest; so does one using more distinct tags than a reader accepts.
  const kept = lists.filter((_, l) => {
    let entries = 0;
    const used = new Set<number>();
    for (const p of parsed) {
      if (!p) continue;
      entries += p.entries[l]!.length;
      for (const e of p.entries[l]!) used.add(e.shape);
    }
    const tags = new Set<number>();
    for (const sh of used) for (const t of shapes.list[sh]!) tags.add(t);
    return entries >= minEntries && tags.size <= MAX_SHAPE_TAGS;
  });
  if (kept.length < lists.length) {
    lists = kept;
    shapes = new Shapes();
    before = prior ? parseOne(prior) : null;
    parsed = parse();
  }
  const fields = lists.map((l) => l.field);
  const meta = new Out(64);
  const rest = new Out(8192);
  const columns = lists.map(() => new Map<number, Out>());
  const col = (l: number, key: number): Out => {
    let c = columns[l]!.get(key);
    if (!c) columns[l]!.set(key, (c = new Out(256)));
    return c;
  };
  const unions = lists.map((_, l) => new Union([before, ...parsed].flatMap((p) => (p ? p.entries[l]!.map((e) => e.shape) : [])), shapes));
  // Value coding: the shapes column describes the length-delimited fields (of the union's), every numeric tag has a column of codes.
  const bytesUnions = values ? unions.map((u) => new Union([u.tags.filter((t) => (t & 7) === 2)], shapes)) : [];
  const numeric = unions.map((u) => u.tags.filter((t) => (t & 7) !== 2));
  const floats = unions.map((u) => u.tags.filter((t) => (t & 7) === 5));
  let prev: Entry[][] | null = before ? before.entries : null;
  const lastPeriod = lists.map(() => 0);
  for (const [at, p] of parsed.entries()) {
    if (!p) {
      const bytes = samples[at]!;
      meta.varint(0);
      meta.varint(bytes.length);
      rest.bytes(bytes);
      prev = null;
      continue;
    }
    meta.varint(1);
    meta.varint(p.restLen);
    for (const r of p.rest) rest.bytes(r);
    for (let l = 0; l < lists.length; l++) {
      const entries = p.entries[l]!;
      meta.varint(p.offsets[l]!);
      meta.varint(entries.length);
      let periodMs = 0;
      if (values) {
        if (floats[l]!.length) {
          const at: number[] = [];
          for (const e of entries) {
            const pos = shapes.positionsOf(e.shape);
            for (const t of floats[l]!) {
              const j = pos.get(t);
              if (j !== undefined) at.push(e.v[2 * j]!);
            }
          }
          periodMs = at.length ? ticksPeriod(p.src, at, lastPeriod[l]!) : 0;
          if (periodMs > 0) lastPeriod[l] = periodMs;
        }
        meta.varint(periodMs);
      }
      const before = prev ? prev[l]! : null;
      const colOf = (tag: number): Out => col(l, tag);
      const valueCols: ValueCols = { col: colOf, esc: (tag) => col(l, -tag) };
      let index: Map<number | string, number> | null = null;
      if (before) {
        index = new Map();
        for (let i = 0; i < before.length; i++) {
          const k = keyOf(before[i]!, lists[l]!.key, shapes);
          if (k !== null && !index.has(k)) index.set(k, i);
        }
      }
      let expected = 0;
      for (let n = 0; n < entries.length; n++) {
        const e = entries[n]!;
        let ref: Entry | null = null;
        if (before) {
          const k = keyOf(e, lists[l]!.key, shapes);
          const i = k === null ? undefined : index!.get(k);
          if (i === undefined) col(l, REFS).varint(0);
          else {
            col(l, REFS).varint(zig(i - expected) + 1);
            expected = i + 1;
            ref = before[i]!;
          }
        }
        if (!ref && n > 0) ref = entries[n - 1]!;
        if (ref && sameEntry(e, ref)) {
          col(l, SHAPES).varint(0);
          continue;
        }
        if (values) writeEntryValues(e, ref, col(l, SHAPES), valueCols, bytesUnions[l]!, numeric[l]!, shapes, periodMs);
        else writeEntry(e, ref, col(l, SHAPES), colOf, unions[l]!, shapes);
      }
    }
    prev = p.entries;
  }
  const out = new Out(rest.len + 4096);
  out.varint(values ? (before ? VERSION_VALUES_PRIOR : VERSION_VALUES) : before ? VERSION_PRIOR : VERSION);
  out.varint(lists.length);
  for (const f of fields) out.varint(f);
  for (const u of unions) {
    out.varint(u.tags.length);
    u.tags.forEach((t, i) => out.varint(i === 0 ? t : t - u.tags[i - 1]!));
  }
  out.varint(samples.length);
  out.varint(meta.len);
  out.bytes(meta.view());
  out.varint(rest.len);
  out.bytes(rest.view());
  for (let l = 0; l < lists.length; l++) {
    for (const key of columnKeys(unions[l]!.tags, values)) {
      const c = columns[l]!.get(key)?.view() ?? new Uint8Array(0);
      const w = planeWidth(key, values);
      out.varint(c.length);
      out.bytes(w ? toPlanes(c, w) : c);
    }
  }
  return out.view();
}

/** The value of an entry's `keyField` (number or bytes as a string), null when it has none: what finds its match in the sample before. */
function keyOf(e: Entry, keyField: number, shapes: Shapes): number | string | null {
  if (e.key !== undefined) return e.key;
  const j = shapes.keyAt(e.shape, keyField);
  if (j < 0) return (e.key = null);
  const x = e.v[2 * j]!;
  if ((shapes.list[e.shape]![j]! & 7) === 0) return (e.key = x);
  const b = e.src.buf;
  return (e.key = Buffer.from(b.buffer, b.byteOffset + x, e.v[2 * j + 1]!).toString('latin1'));
}

/**
 * What the reader learns of shapes and lists' unions, kept from batch to batch: a host's batches
 * use the same few shapes, and working them out again for every batch (each entry's tags, how a
 * shape's changes read, where fields of two shapes meet) was most of what a batch's read
 * allocated. Only a cache (no answer depends on it); bounded: started afresh, between batches,
 * once it holds more than READ_CACHE_SHAPES shapes, or READ_CACHE_NODES of readFlips' nodes or of
 * pairs of shapes.
 */
class ReadCache {
  readonly shapes = new Shapes();
  private readonly unions = new Map<number, Union>();
  private readonly made = { nodes: 0 };
  /** The union of these tags (ascending, each once). */
  union(tags: number[]): Union {
    const id = this.shapes.id(tags);
    let u = this.unions.get(id);
    if (!u) this.unions.set(id, (u = new Union([tags], this.shapes, this.made)));
    return u;
  }
  full(): boolean {
    return this.shapes.list.length > READ_CACHE_SHAPES || this.shapes.pairCount > READ_CACHE_NODES || this.made.nodes > READ_CACHE_NODES;
  }
}
const READ_CACHE_SHAPES = 1 << 14;
const READ_CACHE_NODES = 1 << 16;
let readCache = new ReadCache();

/** What the reader's cache holds now (for tests of its bound). */
export function columnarReadCache(): { shapes: number; pairs: number; limit: number } {
  return { shapes: readCache.shapes.list.length, pairs: readCache.shapes.pairCount, limit: READ_CACHE_SHAPES };
}

/** A bounded reader over one stream of the container. */
class In {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly what: string,
  ) {}
  varint(): number {
    // Most numbers of the columns are one byte (an unchanged value is 0).
    if (this.pos < this.end && this.b[this.pos]! < 0x80) return this.b[this.pos++]!;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new ColumnarError(`${this.what} ends inside a number`);
      const x = this.b[this.pos++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 0x80;
    }
    throw new ColumnarError(`${this.what}: a number longer than 8 bytes`);
  }
  /** A count or length at most `max`. */
  count(max: number, of: string): number {
    const v = this.varint();
    if (v > max) throw new ColumnarError(`${this.what}: ${of} ${v} exceeds ${max}`);
    return v;
  }
  take(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new ColumnarError(`${this.what} ends inside ${n} bytes announced (${this.end - this.pos} left)`);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** Skips `n` bytes; returns where they start. */
  skip(n: number): number {
    if (n > this.end - this.pos) throw new ColumnarError(`${this.what} ends inside ${n} bytes announced (${this.end - this.pos} left)`);
    this.pos += n;
    return this.pos - n;
  }
  done(): void {
    if (this.pos !== this.end) throw new ColumnarError(`${this.what}: ${this.end - this.pos} bytes left over`);
  }
}

/** A list's columns as the reader reads them. */
interface ListColumns {
  /** Its entries' tag in a sample (field number, length-delimited). */
  tag: number;
  union: Union;
  /** Value coding: the union of its length-delimited tags (what the shapes column describes), and each tag's column and escapes. */
  bytesUnion: Union | null;
  /** Value coding: each union tag's column, and escapes (fixed-width tags), by the tag's position in the union. */
  cols: In[];
  escs: (In | null)[];
  refs: In;
  shapes: In;
  /** The columns of a shape's fields, in its order. */
  of(shape: number): In[];
}

/**
 * Writes the length of the entry rebuilt at [start, arena.len) into its one reserved byte at
 * lenAt; a length needing more varint bytes shifts the entry right (and its length-delimited
 * values' offsets in v with it). Returns where the entry now starts.
 */
function sealEntryLength(arena: Out, lenAt: number, start: number, tags: ArrayLike<number>, v: number[]): number {
  let n = arena.len - start;
  const lenSize = varintSize(n);
  if (lenSize > 1) {
    const by = lenSize - 1;
    arena.reserve(by);
    arena.buf.copyWithin(start + by, start, arena.len);
    arena.len += by;
    start += by;
    for (let j = 0; j < tags.length; j++) if ((tags[j]! & 7) !== 0) v[2 * j] += by;
  }
  for (let k = lenAt; n >= 0x80; k++) {
    arena.buf[k] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  arena.buf[lenAt + lenSize - 1] = n;
  return start;
}

/** Reads a list entry (not a copy) from the columns into `arena`, behind its tag and length (`at`, `index`: which sample and entry, for errors). */
function readEntry(sh: number, ref: Entry | null, list: ListColumns, shapes: Shapes, arena: Out, at: number, index: number): Entry {
  const shape = list.union.readFlips(list.shapes, sh, ref ? ref.shape : -1);
  const tags = shapes.list[shape]!;
  const cols = list.of(shape);
  const listTag = list.tag;
  const pair = ref ? shapes.pair(shape, ref.shape) : null;
  const v: number[] = new Array(2 * tags.length);
  // The entry is written in place behind its tag and a one-byte length, moved on if its length needs more.
  arena.varint(listTag);
  const lenAt = arena.len;
  arena.reserve(1);
  arena.len++;
  let start = arena.len;
  for (let j = 0; j < tags.length; j++) {
    const tag = tags[j]!;
    const pj = pair ? pair[j]! : -1;
    const c = cols[j]!;
    const wire = tag & 7;
    arena.varint(tag);
    if (wire === 0) {
      const x = (pj >= 0 ? ref!.v[2 * pj]! : 0) + unzig(c.varint());
      if (!(x >= 0 && x < VALUE_LIMIT)) throw new ColumnarError(`${c.what}: value ${x} outside 0..2^49`);
      v[2 * j] = x;
      v[2 * j + 1] = 0;
      arena.varint(x);
    } else if (wire === 2) {
      const n1 = c.varint();
      if (n1 === 0) {
        if (pj < 0) throw new ColumnarError(`${c.what}: sample ${at} entry ${index} repeats a value its counterpart does not have`);
        const n = ref!.v[2 * pj + 1]!;
        arena.varint(n);
        arena.reserve(n);
        const from = ref!.v[2 * pj]!;
        const rb = ref!.src.buf;
        if (n > 32) arena.buf.set(rb.subarray(from, from + n), arena.len);
        else for (let k = 0; k < n; k++) arena.buf[arena.len + k] = rb[from + k]!;
        v[2 * j] = arena.len;
        v[2 * j + 1] = n;
        arena.len += n;
      } else {
        const bytes = c.take(n1 - 1);
        arena.varint(bytes.length);
        v[2 * j] = arena.len;
        v[2 * j + 1] = bytes.length;
        arena.bytes(bytes);
      }
    } else {
      const w = wire === 1 ? 8 : 4;
      const at = c.skip(w);
      arena.reserve(w);
      const o = arena.len;
      const out = arena.buf;
      if (pj >= 0) {
        const rb = ref!.src.buf;
        const q = ref!.v[2 * pj]!;
        for (let k = 0; k < w; k++) out[o + k] = c.b[at + k]! ^ rb[q + k]!;
      } else for (let k = 0; k < w; k++) out[o + k] = c.b[at + k]!;
      v[2 * j] = o;
      v[2 * j + 1] = w;
      arena.len += w;
    }
  }
  start = sealEntryLength(arena, lenAt, start, tags, v);
  return { shape, v, src: arena, start, end: arena.len };
}

/** Reads a value-coded list entry (writeEntryValues) from the columns into `arena`, as readEntry does. */
function readEntryValues(sh: number, ref: Entry | null, list: ListColumns, shapes: Shapes, arena: Out, at: number, index: number, periodMs: number): Entry {
  const bytesTags = shapes.list[list.bytesUnion!.readFlips(list.shapes, sh, ref ? shapes.bytesShape(ref.shape) : -1)]!;
  const union = list.union;
  const all = union.tags;
  const rpos = ref ? union.positions(ref.shape) : null;
  const rb = ref ? ref.src.buf : ZERO8;
  const cols = list.cols;
  const tags: number[] = [];
  const v: number[] = [];
  arena.varint(list.tag);
  const lenAt = arena.len;
  arena.reserve(1);
  arena.len++;
  let start = arena.len;
  let li = 0;
  for (let u = 0; u < all.length; u++) {
    const tag = all[u]!;
    const wire = tag & 7;
    if (wire === 2) {
      if (li >= bytesTags.length || bytesTags[li] !== tag) continue;
      li++;
      const c = cols[u]!;
      const pj = rpos && rpos[u]! >= 0 ? rpos[u]! : undefined;
      arena.varint(tag);
      const n1 = c.varint();
      if (n1 === 0) {
        if (pj === undefined) throw new ColumnarError(`${c.what}: sample ${at} entry ${index} repeats a value its counterpart does not have`);
        const n = ref!.v[2 * pj + 1]!;
        const from = ref!.v[2 * pj]!;
        arena.varint(n);
        arena.reserve(n);
        if (n > 32) arena.buf.set(rb.subarray(from, from + n), arena.len);
        else for (let k = 0; k < n; k++) arena.buf[arena.len + k] = rb[from + k]!;
        v.push(arena.len, n);
        arena.len += n;
      } else {
        const bytes = c.take(n1 - 1);
        arena.varint(bytes.length);
        v.push(arena.len, bytes.length);
        arena.bytes(bytes);
      }
      tags.push(tag);
      continue;
    }
    const c = cols[u]!;
    const code = c.varint();
    if (code === 0) continue;
    const pj = rpos && rpos[u]! >= 0 ? rpos[u]! : undefined;
    tags.push(tag);
    arena.varint(tag);
    if (wire === 0) {
      const x = (pj !== undefined ? ref!.v[2 * pj]! : 0) + unzig(code - 1);
      if (!(x >= 0 && x < VALUE_LIMIT)) throw new ColumnarError(`${c.what}: value ${x} outside 0..2^49`);
      v.push(x, 0);
      arena.varint(x);
      continue;
    }
    const w = wire === 1 ? 8 : 4;
    arena.reserve(w);
    const o = arena.len;
    const out = arena.buf;
    if (code === 1) {
      const e = list.escs[u]!;
      const from = e.skip(w);
      if (pj !== undefined) {
        const q = ref!.v[2 * pj]!;
        for (let k = 0; k < w; k++) out[o + k] = e.b[from + k]! ^ rb[q + k]!;
      } else for (let k = 0; k < w; k++) out[o + k] = e.b[from + k]!;
    } else if (wire === 1) {
      const r = pj !== undefined ? wholeDouble(rb, ref!.v[2 * pj]!) : 0;
      if (code - 3 >= VALUE_LIMIT) throw new ColumnarError(`${c.what}: packed number ${code - 3} outside 0..2^49`);
      const x = code === 2 ? (r >= 0 ? r : 0) : unpackWhole(code - 3);
      if (!(x >= 0 && x < VALUE_LIMIT)) throw new ColumnarError(`${c.what}: value ${x} outside 0..2^49`);
      writeF64(x, out, o);
    } else {
      const k = code - 2;
      if (periodMs === 0) throw new ColumnarError(`${c.what}: sample ${at} entry ${index} gives ticks and its sample no tick period`);
      if (k > MAX_TICKS) throw new ColumnarError(`${c.what}: ${k} ticks, more than ${MAX_TICKS}`);
      writeF32(ticksValue(k, periodMs), out, o);
    }
    v.push(o, w);
    arena.len += w;
  }
  start = sealEntryLength(arena, lenAt, start, tags, v);
  return { shape: shapes.id(tags), v, src: arena, start, end: arena.len };
}

/**
 * A list entry as the reader holds it: its bytes (without its tag and length) are
 * `src.buf[start, end)`. An entry a later sample repeats unchanged is the same object there.
 */
export interface ColumnarEntry {
  readonly src: { readonly buf: Uint8Array };
  readonly start: number;
  readonly end: number;
  /** The caller's: what it made of these bytes, kept for the samples that repeat the entry (collector/ingest/light-sample.ts). */
  memo?: unknown;
}

/** One sample as the reader left it: rebuilt as `rest` with each list's entries inserted at its offset (ColumnarBatch.frame). */
export interface ColumnarSample {
  /** Sent whole (mode 0): `rest` is its bytes, and it has no offsets or entries. */
  readonly raw: boolean;
  /** Its bytes outside the lists' entries (a view into the container). */
  readonly rest: Uint8Array;
  /** Per list of the container (ColumnarBatch.fields), where its entries go in `rest` (non-decreasing), and the entries. */
  readonly offsets: readonly number[];
  readonly entries: readonly (readonly ColumnarEntry[])[];
}

/**
 * A container read and checked through (every refusal of decodeColumnar made), its samples not
 * rebuilt: a reader that needs only some samples' bytes (the ack path: the last one, the prior of
 * the next chained batch) rebuilds only those, and one that reads the lists entry by entry meets
 * an entry repeated unchanged from the sample before as the very same object.
 */
export class ColumnarBatch {
  private readonly tags: number[];
  constructor(
    /** The Sample field number of each list taken apart, in the container's order. */
    readonly fields: readonly number[],
    readonly samples: readonly ColumnarSample[],
  ) {
    this.tags = fields.map((f) => f * 8 + 2);
  }

  /** Sample `i`'s bytes, as the agent encoded it (a buffer of its own, but for a raw sample: a view into the container). */
  frame(i: number): Uint8Array {
    const s = this.samples[i]!;
    if (s.raw) return s.rest.slice();
    let size = s.rest.length;
    for (let l = 0; l < s.entries.length; l++) {
      const tagSize = varintSize(this.tags[l]!);
      for (const e of s.entries[l]!) size += tagSize + varintSize(e.end - e.start) + e.end - e.start;
    }
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    let restAt = 0;
    const put = (v: number): void => {
      while (v >= 0x80) {
        out[o++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      out[o++] = v;
    };
    for (let l = 0; l < s.entries.length; l++) {
      const offset = s.offsets[l]!;
      out.set(s.rest.subarray(restAt, offset), o);
      o += offset - restAt;
      restAt = offset;
      const tag = this.tags[l]!;
      for (const e of s.entries[l]!) {
        put(tag);
        put(e.end - e.start);
        out.set(e.src.buf.subarray(e.start, e.end), o);
        o += e.end - e.start;
      }
    }
    out.set(s.rest.subarray(restAt), o);
    return out;
  }
}

/**
 * Reads a container through, refusing (ColumnarError) any malformed one, one of more than
 * `maxSamples` samples (the header's count) before reading any, and (tooLarge) one whose samples,
 * framed, would exceed `maxBytes`; rebuilds no sample (ColumnarBatch.frame does). Entries that
 * change from the sample before are rebuilt once, into one buffer for the batch; the others are
 * the entries they repeat.
 */
export function readColumnar(data: Uint8Array, maxBytes: number, maxSamples = Infinity, prior: Uint8Array | null = null): ColumnarBatch {
  const h = new In(data, 0, data.length, 'columnar payload');
  const version = h.varint();
  if (version < VERSION || version > VERSION_VALUES_PRIOR) throw new ColumnarError(`columnar payload version ${version} (this build reads ${VERSION} to ${VERSION_VALUES_PRIOR})`);
  const values = version === VERSION_VALUES || version === VERSION_VALUES_PRIOR;
  const withPrior = version === VERSION_PRIOR || version === VERSION_VALUES_PRIOR;
  if (withPrior && !prior) throw new ColumnarError('columnar payload refers to a prior sample and none was given');
  const nLists = h.count(MAX_LISTS, 'lists');
  const listTags: number[] = [];
  for (let l = 0; l < nLists; l++) {
    const f = h.varint();
    if (f < 1 || f >= 2 ** 29) throw new ColumnarError(`columnar payload: list field number ${f} is not a protobuf field number`);
    if (listTags.includes(f * 8 + 2)) throw new ColumnarError(`columnar payload: list field ${f} twice`);
    listTags.push(f * 8 + 2);
  }
  if (readCache.full()) readCache = new ReadCache();
  const cache = readCache;
  const shapes = cache.shapes;
  const unions: Union[] = [];
  for (let l = 0; l < nLists; l++) {
    const n = h.count(MAX_SHAPE_TAGS, 'tags of a list');
    const tags: number[] = [];
    for (let i = 0; i < n; i++) {
      const gap = h.varint();
      const t = i === 0 ? gap : tags[i - 1]! + gap;
      const wire = t & 7;
      if (t >= 2 ** 32 || t >>> 3 === 0 || (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5)) throw new ColumnarError(`columnar payload: list ${l} has tag ${t}, not a field of wire type 0, 1, 2 or 5`);
      if (i > 0 && gap === 0) throw new ColumnarError(`columnar payload: list ${l} has tag ${t} twice`);
      tags.push(t);
    }
    unions.push(cache.union(tags));
  }
  const nSamples = h.count(data.length, 'samples');
  if (nSamples > maxSamples) throw new ColumnarError(`the payload holds ${nSamples} samples, more than the ${maxSamples} its header lists`);
  const metaLen = h.count(h.end - h.pos, 'meta length');
  const meta = new In(data, h.pos, h.pos + metaLen, 'columnar payload meta');
  h.pos += metaLen;
  const restLen = h.count(h.end - h.pos, 'rest length');
  const rest = new In(data, h.pos, h.pos + restLen, 'columnar payload rest');
  h.pos += restLen;
  const columns = listTags.map(() => new Map<number, In>());
  for (let l = 0; l < nLists; l++) for (const key of columnKeys(unions[l]!.tags, values)) {
    const len = h.count(h.end - h.pos, 'column length');
    const w = planeWidth(key, values);
    let bytes = h.take(len);
    if (w) {
      if (len % w !== 0) throw new ColumnarError(`columnar payload: column ${key} of list ${l} is ${len} bytes, not whole ${w}-byte values`);
      bytes = fromPlanes(bytes, w);
    }
    columns[l]!.set(key, new In(bytes, 0, bytes.length, `columnar payload column ${key} of list ${l}`));
  }
  h.done();
  const col = (l: number, key: number): In => {
    const c = columns[l]!.get(key);
    if (!c) throw new ColumnarError(`columnar payload: list ${l} has no column ${key}`);
    return c;
  };
  const lists = listTags.map((tag, l): ListColumns => {
    const byShape: In[][] = [];
    const bytesUnion = values ? cache.union(unions[l]!.tags.filter((t) => (t & 7) === 2)) : null;
    return {
      tag,
      union: unions[l]!,
      bytesUnion,
      refs: col(l, REFS),
      shapes: col(l, SHAPES),
      of: (shape) => (byShape[shape] ??= shapes.list[shape]!.map((t) => col(l, t))),
      cols: values ? unions[l]!.tags.map((t) => col(l, t)) : [],
      escs: values ? unions[l]!.tags.map((t) => (widthOf(t) ? col(l, -t) : null)) : [],
    };
  });

  let total = 0;
  const grow = (n: number): void => {
    total += n;
    if (total > maxBytes) throw new ColumnarError(`columnar payload rebuilds to more than ${maxBytes} bytes: refused`, true);
  };
  // Entries that differ from the one they refer to, each behind its tag and length. A Buffer: the
  // ack path reads entries with protobufjs's Buffer reader, as it reads a rebuilt sample.
  const arena = new Out(4096, (n) => Buffer.allocUnsafe(n));
  const out: ColumnarSample[] = [];
  let prev: Entry[][] | null = null;
  if (withPrior) {
    // The prior as the encoder parsed it: every tag its entries use is one of the lists' tags.
    let p: Parsed;
    try {
      p = parseSample(prior!, listTags.map((t) => t >>> 3), shapes);
    } catch (e) {
      if (!(e instanceof NotColumnar)) throw e;
      throw new ColumnarError('the prior sample given cannot be taken apart as the encoder did: not the prior it was encoded against');
    }
    for (const [l, entries] of p.entries.entries()) for (const e of entries) if (!unions[l]!.covers(shapes.list[e.shape]!)) throw new ColumnarError('the prior sample given uses a tag the payload does not list: not the prior it was encoded against');
    prev = p.entries;
  }
  for (let s = 0; s < nSamples; s++) {
    const mode = meta.varint();
    if (mode === 0) {
      const len = meta.count(restLen, 'raw sample length');
      grow(4 + len);
      out.push({ raw: true, rest: rest.take(len), offsets: [], entries: [] });
      prev = null;
      continue;
    }
    if (mode !== 1) throw new ColumnarError(`columnar payload: sample ${s + 1} has mode ${mode}`);
    const own = meta.count(restLen, 'sample rest length');
    const restBytes = rest.take(own);
    grow(4 + own);
    let restAt = 0;
    const offsets: number[] = [];
    const entries: Entry[][] = [];
    for (let l = 0; l < nLists; l++) {
      const offset = meta.varint();
      if (offset < restAt || offset > own) throw new ColumnarError(`columnar payload: sample ${s + 1} list ${l} at offset ${offset}, outside ${restAt}..${own}`);
      offsets.push(offset);
      restAt = offset;
      const count = meta.varint();
      const periodMs = values ? meta.count(MAX_PERIOD_MS, 'tick period') : 0;
      const lc = lists[l]!;
      const listTag = lc.tag;
      const before = prev ? prev[l]! : null;
      const list: Entry[] = [];
      let expected = 0;
      for (let i = 0; i < count; i++) {
        let ref: Entry | null = null;
        if (before) {
          const r = lc.refs.varint();
          if (r > 0) {
            const at = expected + unzig(r - 1);
            if (at < 0 || at >= before.length) throw new ColumnarError(`columnar payload: sample ${s + 1} list ${l} entry ${i + 1} refers to entry ${at + 1} of ${before.length} in the sample before`);
            ref = before[at]!;
            expected = at + 1;
          }
        }
        if (!ref && i > 0) ref = list[i - 1]!;
        const sh = lc.shapes.varint();
        if (sh === 0) {
          // The same entry as the one referred to, byte for byte.
          if (!ref) throw new ColumnarError(`columnar payload: sample ${s + 1} list ${l} entry ${i + 1} repeats an entry it does not refer to`);
          const n = ref.end - ref.start;
          grow(varintSize(listTag) + varintSize(n) + n);
          list.push(ref);
          continue;
        }
        const e = values ? readEntryValues(sh, ref, lc, shapes, arena, s + 1, i + 1, periodMs) : readEntry(sh, ref, lc, shapes, arena, s + 1, i + 1);
        // An entry is at most its counterpart (already counted) plus bytes of the columns: checked once built.
        grow(varintSize(listTag) + varintSize(e.end - e.start) + e.end - e.start);
        list.push(e);
      }
      entries.push(list);
    }
    out.push({ raw: false, rest: restBytes, offsets, entries });
    prev = entries;
  }
  meta.done();
  rest.done();
  for (const cs of columns) for (const c of cs.values()) if (c.pos !== c.end) throw new ColumnarError(`${c.what}: ${c.end - c.pos} bytes left over`);
  return new ColumnarBatch(listTags.map((t) => t >>> 3), out);
}

/**
 * The samples of a container, byte for byte as they were encoded. Refuses (ColumnarError) any
 * malformed container, one of more than `maxSamples` samples (the header's count) before
 * rebuilding any, and (tooLarge) one whose samples, framed, would exceed `maxBytes`.
 */
export function decodeColumnar(data: Uint8Array, maxBytes: number, maxSamples = Infinity, prior: Uint8Array | null = null): Uint8Array[] {
  const batch = readColumnar(data, maxBytes, maxSamples, prior);
  return batch.samples.map((_, i) => batch.frame(i));
}
