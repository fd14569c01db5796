// Binary-content markers (exe-markers.yaml): loading, validation, and a streaming matcher that
// exe-hash.ts feeds with the same chunks it hashes, so a file is read once for both.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withTransientModule } from '../../proto/transient-require.js';

/** The markers shipped with the agent; the build copies the YAML next to the compiled module. */
export const defaultMarkersPath: string = fileURLToPath(new URL('./exe-markers.yaml', import.meta.url));

/** Classes a marker may support (the engine's class names). */
export const MARKER_CLASSES = ['ai-training', 'ai-inference', 'chain-validation', 'storage-proving', 'pow-mining'] as const;
export const MIN_PATTERN_BYTES = 6;
export const MAX_PATTERN_BYTES = 256;
/** Bytes of an executable searched for markers (the hash still covers the whole file). */
export const MAX_MARKER_SCAN_BYTES = 256 * 1024 * 1024;

export interface ExeMarker {
  id: string;
  patterns: string[];
  minMatches: number;
  source: string;
}

export class ExeMarkersError extends Error {
  constructor(source: string, problems: string[]) {
    super(`invalid exe markers in ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ExeMarkersError';
  }
}

const ID = new RegExp(`^(${MARKER_CLASSES.join('|')}):[a-z0-9][a-z0-9-]*$`);

const MARKER_KEYS = ['id', 'patterns', 'minMatches', 'source'];

/** Shape checks (hand-written: a schema library would add ~8 MB to the agent's RSS). */
function shapeProblems(data: unknown): string[] {
  const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isMap(data)) return ['(top): expected a mapping with version and markers'];
  const out: string[] = [];
  for (const k of Object.keys(data)) if (k !== 'version' && k !== 'markers') out.push(`(top): unknown key "${k}"`);
  if (data.version !== 1) out.push(`version: expected 1, got ${JSON.stringify(data.version)}`);
  if (!Array.isArray(data.markers) || data.markers.length === 0) return [...out, 'markers: expected a non-empty list'];
  data.markers.forEach((m: unknown, i: number) => {
    const at = `markers.${i}`;
    if (!isMap(m)) return void out.push(`${at}: expected a mapping`);
    for (const k of Object.keys(m)) if (!MARKER_KEYS.includes(k)) out.push(`${at}: unknown key "${k}"`);
    if (typeof m.id !== 'string' || !ID.test(m.id)) {
      out.push(`${at}.id: expected "<class>:<name>" with class one of ${MARKER_CLASSES.join(', ')} and a lower-case name, got ${JSON.stringify(m.id)}`);
    }
    if (!Array.isArray(m.patterns) || m.patterns.length === 0 || !m.patterns.every((p) => typeof p === 'string')) out.push(`${at}.patterns: expected a non-empty list of strings`);
    if (!Number.isInteger(m.minMatches) || (m.minMatches as number) < 1) out.push(`${at}.minMatches: expected an integer >= 1`);
    if (typeof m.source !== 'string' || m.source.trim() === '') out.push(`${at}.source: every marker names its source`);
  });
  return out;
}

/** Parses and validates marker YAML; throws ExeMarkersError listing every problem. */
export function parseExeMarkers(text: string, sourceName = 'exe-markers.yaml'): ExeMarker[] {
  // The YAML parser is loaded for this parse only: the agent reads its markers once at start.
  const data: unknown = withTransientModule<typeof import('yaml'), unknown>('yaml', (yaml) => {
    const doc = yaml.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) throw new ExeMarkersError(sourceName, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
    return doc.toJS();
  });
  const shape = shapeProblems(data);
  if (shape.length > 0) throw new ExeMarkersError(sourceName, shape);
  const markers = (data as { markers: ExeMarker[] }).markers.map(({ id, patterns, minMatches, source }) => ({ id, patterns, minMatches, source }));
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const m of markers) {
    const at = `marker ${m.id}`;
    if (ids.has(m.id)) problems.push(`${at}: duplicate id`);
    ids.add(m.id);
    const distinct = new Set(m.patterns);
    if (distinct.size !== m.patterns.length) problems.push(`${at}: duplicate pattern`);
    for (const p of m.patterns) {
      const n = Buffer.byteLength(p);
      if (n < MIN_PATTERN_BYTES || n > MAX_PATTERN_BYTES) problems.push(`${at}: pattern ${JSON.stringify(p)} is ${n} bytes (allowed ${MIN_PATTERN_BYTES}..${MAX_PATTERN_BYTES})`);
      const outer = m.patterns.find((q) => q !== p && q.includes(p));
      if (outer !== undefined) problems.push(`${at}: pattern ${JSON.stringify(p)} is part of ${JSON.stringify(outer)} (it would count twice)`);
    }
    if (m.minMatches > distinct.size) problems.push(`${at}: minMatches ${m.minMatches} exceeds its ${distinct.size} pattern(s)`);
    if (m.id.startsWith('pow-mining:') && m.minMatches < 2) problems.push(`${at}: a pow-mining marker needs minMatches >= 2 (one string alone is too weak)`);
  }
  if (problems.length > 0) throw new ExeMarkersError(sourceName, problems);
  return markers;
}

export function loadExeMarkers(path = defaultMarkersPath): ExeMarker[] {
  return parseExeMarkers(readFileSync(path, 'utf8'), path);
}

let shipped: ExeMarkerSet | undefined;
/** The shipped markers, loaded once (an invalid shipped file throws at agent start). */
export function defaultExeMarkers(): ExeMarkerSet {
  return (shipped ??= new ExeMarkerSet(loadExeMarkers()));
}

/** Compiled markers: every distinct pattern once, searched across all markers. */
export class ExeMarkerSet {
  readonly patterns: Buffer[];
  readonly maxPatternBytes: number;
  /** 1 where some pattern starts with this byte pair (first byte << 8 | second). */
  readonly firstPairs = new Uint8Array(65536);
  /** Byte pair → indices of the patterns starting with it (looked up only where firstPairs says so). */
  readonly byFirstPair = new Map<number, number[]>();
  /** Per marker: indices into `patterns`. */
  private readonly uses: { id: string; idx: number[]; minMatches: number }[];

  constructor(readonly markers: ExeMarker[], readonly maxScanBytes = MAX_MARKER_SCAN_BYTES) {
    const index = new Map<string, number>();
    for (const m of markers) for (const p of m.patterns) if (!index.has(p)) index.set(p, index.size);
    this.patterns = [...index.keys()].map((p) => Buffer.from(p, 'utf8'));
    this.maxPatternBytes = Math.max(0, ...this.patterns.map((b) => b.length));
    this.patterns.forEach((p, i) => {
      const pair = (p[0]! << 8) | p[1]!; // every pattern has >= MIN_PATTERN_BYTES bytes
      this.firstPairs[pair] = 1;
      const list = this.byFirstPair.get(pair);
      if (list) list.push(i);
      else this.byFirstPair.set(pair, [i]);
    });
    this.uses = markers.map((m) => ({ id: m.id, idx: m.patterns.map((p) => index.get(p)!), minMatches: m.minMatches }));
  }

  scanner(): MarkerScanner {
    return new MarkerScanner(this);
  }

  /** Ids of the markers satisfied by the set of found pattern indices, sorted. */
  matches(found: ReadonlySet<number>): string[] {
    return this.uses.filter((u) => u.idx.filter((i) => found.has(i)).length >= u.minMatches).map((u) => u.id).sort();
  }
}

function matchesAt(data: Buffer, at: number, p: Buffer): boolean {
  if (at + p.length > data.length) return false;
  for (let k = 2; k < p.length; k++) if (data[at + k] !== p[k]) return false;
  return true;
}

/**
 * Streaming search over consecutive chunks of one file, all patterns in one pass: a byte-pair
 * table says where a pattern may start, and only there are the candidates compared (one pass over
 * the bytes however many patterns; Buffer.indexOf per pattern cost ~30x more on a 99 MB binary).
 * The last maxPatternBytes-1 bytes of a chunk are searched again with the next one, so matches
 * straddling two chunks are found.
 */
export class MarkerScanner {
  private readonly found = new Set<number>();
  private tail: Buffer = Buffer.alloc(0);
  private scanned = 0;

  constructor(private readonly set: ExeMarkerSet) {}

  /** Feed the next chunk (the caller may reuse the buffer afterwards). */
  update(chunk: Buffer): void {
    const left = this.set.maxScanBytes - this.scanned;
    if (left <= 0 || this.found.size === this.set.patterns.length) return;
    const data = chunk.length > left ? chunk.subarray(0, left) : chunk;
    this.scanned += data.length;
    const keep = this.set.maxPatternBytes - 1;
    // The seam: starts inside the previous chunk's tail, matched against tail + this chunk's head.
    if (this.tail.length > 0) this.search(Buffer.concat([this.tail, data.subarray(0, keep)]), this.tail.length);
    this.search(data, data.length);
    // Copy: the caller reuses its read buffer. A chunk shorter than the seam extends the old tail.
    const joined = data.length >= keep ? data : Buffer.concat([this.tail, data]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - keep)));
  }

  /** Looks for patterns starting at positions [0, starts) of `win`. */
  private search(win: Buffer, starts: number): void {
    const { firstPairs, byFirstPair, patterns } = this.set;
    const end = Math.min(starts, win.length - 1);
    for (let i = 0; i < end; i++) {
      const pair = (win[i]! << 8) | win[i + 1]!;
      if (firstPairs[pair] === 0) continue;
      for (const idx of byFirstPair.get(pair)!) {
        if (!this.found.has(idx) && matchesAt(win, i, patterns[idx]!)) this.found.add(idx);
      }
    }
  }

  result(): string[] {
    return this.set.matches(this.found);
  }
}
