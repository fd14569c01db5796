// The log line's timestamp (proto/log.ts): the ISO form pino's isoTime wrote, built without
// Date.prototype.toISOString (which makes V8 load ICU's time zone names; agent cost, issue 10).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { isoTimestamp } from '../../proto/log-time.js';
import { repoRoot } from '../helpers/env.js';

test('isoTimestamp: the same string as toISOString', () => {
  const fixed = [
    0, 1, 9, 10, 99, 100, 999, 1000, 59_999, 86_399_999, // 1970, every millisecond width
    Date.UTC(2024, 1, 29, 23, 59, 59, 999), // leap day, last millisecond
    Date.UTC(2026, 11, 31, 23, 59, 59, 5),
    Date.UTC(2027, 0, 1, 0, 0, 0, 50),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(999, 0, 1), // a three-digit year is zero-padded to four
    Date.UTC(5, 6, 7, 8, 9, 10, 11),
    -1, // before 1970
  ];
  for (const ms of fixed) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
  // A bounded sweep across 1970-2100 with a fixed stride (every field value shows up).
  const end = Date.UTC(2100, 0, 1);
  let n = 0;
  for (let ms = 0; ms < end && n < 200_000; ms += 20_731_219_457 + (n % 1000), n++) assert.equal(isoTimestamp(ms), new Date(ms).toISOString());
  assert.ok(n > 100);
});

test('createLogger: a JSON line per event whose time is the ISO time of writing', () => {
  const url = pathToFileURL(join(repoRoot, 'dist', 'proto', 'log.js')).href;
  const before = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { createLogger } = await import(${JSON.stringify(url)}); createLogger('agent', 'info').warn({ reason: 'r1' }, 'hello');`], { encoding: 'utf8', timeout: 30_000 });
  const after = Date.now();
  assert.equal(r.status, 0, r.stderr);
  const line = JSON.parse(r.stderr.trim()) as Record<string, unknown>;
  assert.equal(line.level, 40);
  assert.equal(line.msg, 'hello');
  assert.equal(line.reason, 'r1');
  assert.equal(line.component, 'agent');
  assert.match(line.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const t = Date.parse(line.time as string);
  assert.ok(t >= before && t <= after, `${line.time as string} within the run`);
  assert.equal(new Date(t).toISOString(), line.time);
});
