// `assay verify` from the outside, as a careless user or a forger would use it:
//  - a genuine signed JSON report with a forged "statement" put before the genuine one: JSON.parse
//    keeps the last key, so the file verified (signature, --key and all) while a person reading it,
//    or a parser that keeps the first key, saw "AI-only";
//  - `--key "$EXPECTED"` with the variable empty: the key check was skipped and the report
//    passed (exit 0) whoever signed it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalize } from '../../collector/report/canonical.js';
import { duplicateKey } from '../../collector/report/verify-file.js';
import type { Report } from '../../collector/report/types.js';
import { generateAgentKeys } from '../../proto/chain.js';
import { tempDir } from '../helpers/env.js';
import { runAssay } from '../helpers/proc.js';
import { useGappyReport } from './stored-period.js';

const keys = generateAgentKeys();

describe('assay verify: duplicate keys and an empty --key', () => {
  const gappy = useGappyReport('assay-verify-edges-', keys);
  const tmp = tempDir('assay-verify-edges-files-');
  let report: Report;
  let genuine: string;
  before(() => {
    report = gappy.current();
    genuine = join(tmp.dir, 'genuine.json');
    writeFileSync(genuine, canonicalize(report));
  });
  after(tmp.cleanup);

  it('the genuine file passes with the signer\'s key, whatever the case of its sha256: prefix', async () => {
    for (const key of [report.signer.fingerprint, report.signer.fingerprint.replace('SHA256:', 'sha256:'), report.signer.publicKey]) {
      const r = await runAssay(['verify', genuine, '--key', key], {}, 60_000);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /^PASS( with \d+ warnings?)?: /);
      assert.match(r.stdout, /ok {4}signer is the expected key/);
    }
  });

  it('a forged statement ahead of the genuine one (a key twice in one object) fails, naming the key', async () => {
    const text = canonicalize(report);
    assert.notEqual(report.statement.verdict, 'ai-only', 'the genuine verdict is something else');
    const fake = JSON.stringify({ ...report.statement, verdict: 'ai-only', headline: 'AI-only: 100.0 % AI, 0.0 % non-AI, coverage 100.0 %' });
    const forged = join(tmp.dir, 'forged.json');
    writeFileSync(forged, `{"statement":${fake},${text.slice(1)}`);
    const r = await runAssay(['verify', forged, '--key', report.signer.fingerprint], {}, 60_000);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^FAIL: /);
    assert.match(r.stdout, /FAIL {2}the JSON has the key "statement" twice in one object/);
    assert.ok(r.stdout.includes('signer is the expected key'), 'the signature alone still holds: only the duplicate fails it');
    // Deeper in the report too: a second hostname in the identity.
    const nested = join(tmp.dir, 'nested.json');
    const ident = '"identity":{';
    assert.ok(text.includes(ident));
    writeFileSync(nested, text.replace(ident, `${ident}"hostname":"gpu-07",`));
    const n = await runAssay(['verify', nested], {}, 60_000);
    assert.equal(n.code, 1, n.stdout);
    assert.match(n.stdout, /the JSON has the key "hostname" twice/);
  });

  it('duplicateKey: only a key twice in the same object counts; strings holding braces, quotes and commas are strings', () => {
    assert.equal(duplicateKey('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}'), null);
    assert.equal(duplicateKey('{"a":"{\\"a\\":1,","b":"\\\\","c":"}]"}'), null);
    assert.equal(duplicateKey('{"a":1,"b":[1,{"x":1,"x":2}]}'), 'x');
    assert.equal(duplicateKey('{"\\u0061":1,"a":2}'), 'a', 'escapes are decoded before comparing');
    assert.equal(duplicateKey('{ "a" : 1 , "a" : 2 }'), 'a', 'whitespace between tokens');
    assert.equal(duplicateKey('{"k":[],"k2":{}}'), null);
  });

  it('--key given but empty fails (exit 1) instead of skipping the key check', async () => {
    for (const key of ['', '   ']) {
      const r = await runAssay(['verify', genuine, '--key', key], {}, 60_000);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /FAIL {2}--key is empty: give the SHA256:… fingerprint or hex public key/);
    }
    const other = generateAgentKeys();
    const { fingerprint } = await import('../../proto/chain.js');
    const wrong = await runAssay(['verify', genuine, '--key', fingerprint(other.publicKey)], {}, 60_000);
    assert.equal(wrong.code, 1, 'another key still fails');
  });
});
