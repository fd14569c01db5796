// The HTML byte check promises that the page a person reads is the report that was verified.
// That holds only if the renderer escapes every value it prints: a scan report re-signed with a
// fresh key (anyone can make one) whose inventory.logicalCores was a string of markup passed
// `verify` as a page running the forger's script. Here every input field a forger controls
// without breaking a re-derived check gets markup; no page that verifies may carry it raw.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { scanReport } from '../../agent/scan/scan.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { assembleReport } from '../../collector/report/build.js';
import { renderHtml } from '../../collector/report/render-html.js';
import type { HostInput, Report } from '../../collector/report/types.js';
import { verifyReportBytes } from '../../collector/report/verify-file.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { encodeSample } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const MARK = '<i id="forged">AI-only holds</i>';

/** Paths to every leaf (string, number, boolean, null) under `v`. */
function leaves(v: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [path];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path.at(-1)!] = value;
}

describe('markup in report fields', () => {
  let scan: Report;
  before(async () => {
    const trace = await readTrace(join(repoRoot, 'test', 'corpus', 'ai-training-pytorch-cpu.trace.ndjson'));
    scan = scanReport(trace.samples.map((s) => encodeSample(s)), trace.header.inventory ?? null, loadRulesFile(defaultRulesPath), {
      thresholds: undefined,
      keys: generateAgentKeys(),
      intervalMs: trace.header.intervalMs,
      nowMs: 1_800_000_000_000,
      host: 'scanned',
    });
  });

  it('no re-signed scan report that verifies renders markup from its identity or inventory raw', () => {
    const input = scan.hosts[0]!.input;
    const paths = [...leaves(input.identity, ['identity']), ...leaves(input.inventory, ['inventory'])];
    assert.ok(paths.length >= 9, `fields tried: ${paths.map((p) => p.join('.')).join(', ')}`);
    const raw: string[] = [];
    for (const path of paths) {
      const forgedInput = JSON.parse(JSON.stringify(input)) as HostInput;
      setAt(forgedInput, path, MARK);
      const forged = assembleReport('scan', [forgedInput], scan.period, scan.thresholds, scan.rules, generateAgentKeys(), scan.generatedMs);
      let html: string;
      try {
        html = renderHtml(forged);
      } catch {
        continue; // not renderable: verify fails it
      }
      if (html.includes(MARK) && verifyReportBytes(Buffer.from(html), { fileName: 'forged.html' }).ok) raw.push(path.join('.'));
    }
    assert.deepEqual(raw, [], 'fields printed raw in a page that verifies');
  });
});
