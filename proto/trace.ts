// Trace files: a recorded sample stream, as `assay record` writes it and `assay replay`, the
// evaluation and the corpus tests read it. NDJSON: a header line, then one sample per line in
// the wire's JSON mapping (so any line can be read by eye or diffed).
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { assay, type IInventory, type ISample } from './codec.js';

/**
 * Traces are written with enums as their names (readable); the static code's verify() wants
 * numbers. Map the Sample's enum fields (Process.socketView) to numbers for the check, refusing
 * names that are not in the enum. fromObject accepts either form.
 */
function enumsAsNumbers(raw: Record<string, unknown>): Record<string, unknown> {
  const procs = raw.processes;
  if (!Array.isArray(procs) || !procs.some((p) => typeof (p as { socketView?: unknown } | null)?.socketView === 'string')) return raw;
  const views = assay.v1.SocketView as unknown as Record<string, number>;
  return {
    ...raw,
    processes: procs.map((p: unknown) => {
      const v = (p as { socketView?: unknown } | null)?.socketView;
      if (typeof v !== 'string') return p;
      if (!(v in views) || typeof views[v] !== 'number') throw new Error(`processes.socketView: unknown value ${JSON.stringify(v)}`);
      return { ...(p as object), socketView: views[v] };
    }),
  };
}

export const TRACE_FORMAT = 'assay-trace';
export const TRACE_VERSION = 1;

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  version: number;
  /** The class the recorded workload really is (ground truth for evaluation). */
  label: string;
  /** How it was made: `real` (recorded from real programs here), `emulated` (a behaviour-faithful stand-in), `synthetic` (built from documented shapes). */
  provenance: 'real' | 'emulated' | 'synthetic' | 'real-gpu';
  /** What ran, how, and where the facts come from. */
  description: string;
  recordedAtMs: number;
  intervalMs: number;
  hostname: string;
  inventory: IInventory | null;
  /** Evasion being exercised, if any (e.g. `renamed-python3`). */
  evasion?: string;
  /** Set when the trace's verdict is only expected to contain this class among mixed parts. */
  expectParts?: string[];
}

export class TraceError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TraceError';
  }
}

const PROVENANCES = new Set(['real', 'emulated', 'synthetic', 'real-gpu']);

function checkHeader(file: string, h: Record<string, unknown>): TraceHeader {
  if (h.format !== TRACE_FORMAT) throw new TraceError(file, 1, `not an Assay trace (format is ${JSON.stringify(h.format)}, expected "${TRACE_FORMAT}")`);
  if (h.version !== TRACE_VERSION) throw new TraceError(file, 1, `trace version ${JSON.stringify(h.version)} is not supported (this build reads ${TRACE_VERSION})`);
  if (typeof h.label !== 'string' || !h.label) throw new TraceError(file, 1, 'header.label must be a non-empty string');
  if (typeof h.provenance !== 'string' || !PROVENANCES.has(h.provenance)) throw new TraceError(file, 1, `header.provenance must be one of ${[...PROVENANCES].join(', ')}`);
  if (typeof h.intervalMs !== 'number' || h.intervalMs <= 0) throw new TraceError(file, 1, 'header.intervalMs must be a positive number');
  return h as unknown as TraceHeader;
}

/** Reads a whole trace; malformed content throws a TraceError naming the file and line. */
export async function readTrace(file: string): Promise<{ header: TraceHeader; samples: ISample[] }> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header: TraceHeader | null = null;
  const samples: ISample[] = [];
  let n = 0;
  let lastTs = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.trim() === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw new TraceError(file, n, `not valid JSON: ${(err as Error).message}`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new TraceError(file, n, 'expected a JSON object');
      if (!header) {
        header = checkHeader(file, obj as Record<string, unknown>);
        continue;
      }
      let sample: ISample;
      try {
        const raw = (obj as { sample?: unknown }).sample;
        if (typeof raw !== 'object' || raw === null) throw new Error('missing "sample" object');
        const err = assay.v1.Sample.verify(enumsAsNumbers(raw as Record<string, unknown>));
        if (err) throw new Error(err);
        sample = assay.v1.Sample.fromObject(raw as Record<string, unknown>);
      } catch (err) {
        throw new TraceError(file, n, `bad sample: ${(err as Error).message}`);
      }
      const ts = sample.tsMs ?? 0;
      if (ts <= 0) throw new TraceError(file, n, 'sample has no tsMs');
      if (ts < lastTs) throw new TraceError(file, n, `sample time ${ts} goes backwards (previous ${lastTs})`);
      lastTs = ts;
      samples.push(sample);
    }
  } catch (err) {
    if (err instanceof TraceError) throw err;
    throw new TraceError(file, n, (err as Error).message);
  }
  if (!header) throw new TraceError(file, 1, 'empty trace: no header line');
  return { header, samples };
}

/** Appends samples to a new trace file, one line each, as they come. */
export class TraceWriter {
  private readonly out: WriteStream;
  private seq = 0;

  constructor(file: string, header: Omit<TraceHeader, 'format' | 'version'>) {
    this.out = createWriteStream(file, { flags: 'w' });
    this.out.write(JSON.stringify({ format: TRACE_FORMAT, version: TRACE_VERSION, ...header }) + '\n');
  }

  write(sample: ISample): void {
    this.seq++;
    const obj = assay.v1.Sample.toObject(assay.v1.Sample.fromObject(sample), { longs: Number, enums: String });
    this.out.write(JSON.stringify({ seq: this.seq, sample: obj }) + '\n');
  }

  get count(): number {
    return this.seq;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
