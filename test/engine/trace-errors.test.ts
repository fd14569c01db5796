// Malformed trace files fail with an error that names the file and the line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTrace, TraceError } from '../../proto/trace.js';
import { fixtures } from '../helpers/env.js';

const dir = join(fixtures, 'traces');

describe('trace files: bad input', () => {
  it('a broken sample line names that line', async () => {
    await assert.rejects(readTrace(join(dir, 'bad-sample-line.trace.ndjson')), (err: unknown) => err instanceof TraceError && /bad-sample-line\.trace\.ndjson:3: not valid JSON/.test(err.message));
  });

  it('a bad header names line 1 and the field', async () => {
    await assert.rejects(readTrace(join(dir, 'bad-header.trace.ndjson')), (err: unknown) => err instanceof TraceError && /:1: header\.provenance must be one of/.test(err.message));
  });

  it('time going backwards names the line', async () => {
    await assert.rejects(readTrace(join(dir, 'time-backwards.trace.ndjson')), (err: unknown) => err instanceof TraceError && /:4: sample time .* goes backwards/.test(err.message));
  });
});
