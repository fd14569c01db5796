// The agent no longer lists sockets that have no owner and are neither listening nor ESTABLISHED
// (TIME_WAIT and other closing states): it counts them in socket_attribution.unowned_omitted
// (agent/probes/sockets.ts omitUnowned). That must cost the engine nothing: every real corpus
// trace, with those rows turned into counts as the agent now sends them, replays to the same
// published verdicts and confidences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusDirs, traceFiles } from '../../bench/corpus-files.js';
import { omitUnowned } from '../../agent/probes/sockets.js';
import { defaultRulesPath, loadRulesFile } from '../../collector/engine/index.js';
import { features } from '../../collector/engine/features.js';
import { replay } from '../../collector/replay.js';
import { assay } from '../../proto/codec.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const rules = loadRulesFile(defaultRulesPath);

test('corpus traces with unowned closing sockets counted instead of listed replay to exactly the same verdicts', async () => {
  const files = traceFiles(corpusDirs(repoRoot).real);
  assert.ok(files.length >= 10, `${files.length} corpus traces`);
  let steps = 0;
  let omittedRows = 0;
  for (const file of files) {
    const { header, samples } = await readTrace(file);
    const omitted = samples.map((s) => {
      const copy = assay.v1.Sample.fromObject(assay.v1.Sample.toObject(assay.v1.Sample.fromObject(s)));
      const { kept, omitted: counts } = omitUnowned(copy.sockets ?? []);
      omittedRows += (copy.sockets ?? []).length - kept.length;
      copy.sockets = kept;
      if (counts.length) copy.socketAttribution = { ...(copy.socketAttribution ?? {}), unownedOmitted: counts };
      return copy;
    });
    const a = replay(samples, rules, undefined, header.inventory);
    const b = replay(omitted, rules, undefined, header.inventory);
    assert.equal(b.length, a.length);
    a.forEach((x, i) => {
      const name = `${file.slice(repoRoot.length + 1)} step ${i}`;
      assert.equal(b[i]!.verdict.class, x.verdict.class, name);
      assert.equal(b[i]!.verdict.confidence, x.verdict.confidence, name);
      assert.deepEqual(b[i]!.verdict.evidence, x.verdict.evidence, name);
    });
    steps += a.length;
  }
  assert.ok(steps > 300, `${steps} verdicts compared`);
  assert.ok(omittedRows > 1000, `${omittedRows} socket rows counted instead of listed: the comparison is not vacuous`);
});

test('a sample whose only sockets were counted still counts as a sample with sockets read', () => {
  const listed = assay.v1.Sample.fromObject({ tsMs: 1000, sockets: [{ protocol: 'tcp', state: 'TIME_WAIT', localPort: 5000, remotePort: 443, remoteAddress: '10.0.0.9' }] });
  const counted = assay.v1.Sample.fromObject({ tsMs: 1000, socketAttribution: { unownedOmitted: [{ protocol: 'tcp', state: 'TIME_WAIT', count: 1 }] } });
  const none = assay.v1.Sample.fromObject({ tsMs: 1000 });
  const f = (s: assay.v1.Sample) => features({ samples: [s], signatures: new Map() }).sockets.available;
  assert.equal(f(listed), true);
  assert.equal(f(counted), true);
  assert.equal(f(none), false);
});
