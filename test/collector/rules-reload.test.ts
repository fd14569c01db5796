// The collector picks up an edited rules file without a restart, and keeps the previous rules
// when the edit is broken.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCollector } from '../../collector/server.js';
import { defaultRulesPath } from '../../collector/engine/index.js';
import { tempDir, waitFor } from '../helpers/env.js';

test('rules reload on change; a broken edit keeps the previous rules', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const rulesPath = join(tmp.dir, 'rules.yaml');
  const original = readFileSync(defaultRulesPath, 'utf8');
  writeFileSync(rulesPath, original);
  const c = await startCollector({ host: '127.0.0.1', port: 0, dbPath: join(tmp.dir, 'a.db'), enrollSecret: 'reload-test-secret', rulesPath });
  t.after(() => c.close());
  const version = async (): Promise<string> => ((await (await fetch(c.url + '/healthz')).json()) as { rulesVersion: string }).rulesVersion;
  const before = await version();
  writeFileSync(rulesPath, original.replace(/^version: ".*"$/m, 'version: "9999.1.1"'));
  await waitFor(async () => (await version()) === '9999.1.1', 10_000, 'the edited rules to load');
  writeFileSync(rulesPath, original.replace(/^version: ".*"$/m, 'version: "9999.2.2"') + '\nnot: [closed\n');
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(await version(), '9999.1.1', 'a broken file does not replace working rules');
  assert.notEqual(before, '9999.1.1');
});
