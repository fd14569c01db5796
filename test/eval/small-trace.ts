// Small traces for the eval's tests: the first samples of a corpus trace written under a new
// header (label, description, file name of the test's choosing) with the real TraceWriter, so the
// tests read real trace files through the eval's own reader.
import { join } from 'node:path';
import type { ISample } from '../../proto/codec.js';
import { readTrace, TraceWriter, type TraceHeader } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

export const corpusTrace = (name: string): string => join(repoRoot, 'test', 'corpus', name);

export async function firstSamples(corpusName: string, n: number): Promise<{ header: TraceHeader; samples: ISample[] }> {
  const t = await readTrace(corpusTrace(corpusName));
  if (t.samples.length < n) throw new Error(`${corpusName} has ${t.samples.length} samples, fewer than ${n}`);
  return { header: t.header, samples: t.samples.slice(0, n) };
}

export async function writeTrace(file: string, base: TraceHeader, samples: readonly ISample[], override: Partial<TraceHeader> = {}): Promise<string> {
  const { format: _f, version: _v, ...rest } = { ...base, ...override };
  const w = new TraceWriter(file, rest);
  for (const s of samples) w.write(s);
  await w.close();
  return file;
}
