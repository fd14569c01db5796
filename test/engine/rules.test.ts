// The rules file: the default loads; every kind of bad entry is reported by path (and line).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { BEHAVIOUR_IDS, defaultRulesPath, loadRulesFile, parseRules, RulesError } from '../../collector/engine/index.js';
import { fixtures } from '../helpers/env.js';

const defaultText = readFileSync(defaultRulesPath, 'utf8');

/** The default rules with one change applied at `path` (undefined deletes it). */
function variant(path: (string | number)[], value: unknown): string {
  const doc = parseDocument(defaultText);
  if (value === undefined) doc.deleteIn(path);
  else doc.setIn(path, value);
  return String(doc);
}

function rulesError(text: string, name = 'default.yaml'): RulesError {
  try {
    parseRules(text, name);
  } catch (err) {
    assert.ok(err instanceof RulesError, `expected RulesError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the rules to be refused');
}

/** The message names the entry; the line it gives holds the offending text. */
function expectIssue(text: string, path: string, message: RegExp, lineHas?: string): void {
  const err = rulesError(text);
  const issue = err.issues.find((i) => i.path === path);
  assert.ok(issue, `no issue at ${path}: ${err.message}`);
  assert.match(issue.message, message);
  assert.ok(err.message.includes(`: ${path}: `), err.message);
  if (lineHas !== undefined) {
    assert.ok(issue.line, `no line for ${path}`);
    const line = text.split('\n')[issue.line - 1] ?? '';
    assert.ok(line.includes(lineHas), `line ${issue.line} is ${JSON.stringify(line)}, expected it to hold ${lineHas}`);
    assert.ok(err.message.includes(`default.yaml:${issue.line}: ${path}`), err.message);
  }
}

describe('rules: default file', () => {
  it('loads, is versioned, and every list cites its source', () => {
    const rules = loadRulesFile(defaultRulesPath);
    assert.equal(rules.schema, 1);
    assert.match(rules.version, /^\d{4}\.\d{1,2}\.\d+$/);
    for (const [id, list] of Object.entries(rules.signatures)) assert.ok(list.source.length > 5, `signatures.${id} has no source`);
    for (const [id, list] of Object.entries(rules.ports)) assert.ok(list.source.length > 5, `ports.${id} has no source`);
    for (const id of BEHAVIOUR_IDS) assert.ok(rules.behaviour[id].source.length > 3, `behaviour.${id}`);
  });

  it('holds the lists the engine relies on', () => {
    const rules = loadRulesFile(defaultRulesPath);
    assert.ok(rules.signatures['miner-names']?.values.includes('xmrig'));
    assert.ok(rules.signatures['ai-libs-gpu']?.values.includes('libcudnn'));
    assert.ok(rules.signatures['ai-libs-cpu']?.values.includes('libtorch_cpu'));
    assert.ok(rules.signatures['ai-training-env']?.values.includes('WORLD_SIZE'));
    // Stratum port collisions are data: 9000 is also Ethereum consensus P2P.
    const p9000 = rules.ports.stratum?.entries.find((e) => e.port === 9000);
    assert.deepEqual(p9000?.collides, ['chain-validation']);
  });

  it('accepts a URL path too', () => {
    assert.equal(loadRulesFile(new URL(`file://${defaultRulesPath}`)).schema, 1);
  });
});

describe('rules: errors name the entry', () => {
  it('wrong type in a list', () => {
    expectIssue(variant(['signatures', 'miner-names', 'values', 3], 42), 'signatures.miner-names.values[3]', /expected string/, '42');
  });

  it('invalid regex', () => {
    expectIssue(variant(['signatures', 'chain-client-cmdline', 'values', 1], '(unclosed'), 'signatures.chain-client-cmdline.values[1]', /invalid regex/, '(unclosed');
  });

  it('unknown key (a typo) is refused', () => {
    expectIssue(variant(['signatures', 'miner-names', 'wieght'], 0.5), 'signatures.miner-names', /unknown key "wieght"/, 'wieght');
  });

  it('missing behaviour rule', () => {
    expectIssue(variant(['behaviour', 'cpu-flat'], undefined), 'behaviour.cpu-flat', /expected object/);
  });

  it('unknown class', () => {
    expectIssue(variant(['signatures', 'miner-names', 'supports', 0], 'crypto'), 'signatures.miner-names.supports[0]', /expected one of/, 'crypto');
  });

  it('port out of range and unknown collision class', () => {
    expectIssue(variant(['ports', 'stratum', 'entries', 0, 'port'], 70000), 'ports.stratum.entries[0].port', /65535/, '70000');
    expectIssue(variant(['ports', 'stratum', 'entries', 19, 'collides', 0], 'smtp'), 'ports.stratum.entries[19].collides[0]', /expected one of/);
  });

  it('bad threshold and bad weight', () => {
    expectIssue(variant(['thresholds', 'flat', 'minFlatness'], 1.5), 'thresholds.flat.minFlatness', /1/, '1.5');
    expectIssue(variant(['signatures', 'ai-libs-gpu', 'weight'], 'high'), 'signatures.ai-libs-gpu.weight', /expected number/, 'high');
  });

  it('bad version string and unknown schema', () => {
    expectIssue(variant(['version'], 'v1'), 'version', /2026\.11\.1/);
    const err = rulesError(readFileSync(join(fixtures, 'rules', 'wrong-schema.yaml'), 'utf8'), 'wrong-schema.yaml');
    assert.ok(err.issues.some((i) => i.path === 'schema'), err.message);
  });

  it('YAML syntax error names the line', () => {
    const file = join(fixtures, 'rules', 'syntax-error.yaml');
    assert.throws(
      () => loadRulesFile(file),
      (err: unknown) => {
        assert.ok(err instanceof RulesError);
        assert.match(err.message, /^syntax-error\.yaml:\d+: YAML syntax error at line \d+/);
        assert.ok((err.issues[0]?.line ?? 0) >= 5, err.message);
        return true;
      },
    );
  });

  it('a document that is not a mapping', () => {
    assert.match(rulesError('- a\n- b\n').message, /expected a mapping/);
    assert.match(rulesError('').message, /expected a mapping/);
  });

  it('an unreadable file throws the file-system error', () => {
    assert.throws(() => loadRulesFile('/nonexistent/rules.yaml'), /ENOENT/);
  });
});
