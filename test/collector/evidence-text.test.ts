// The evidence formatter shared by the dashboard and the report (collector/evidence-text.ts), on
// engine verdicts replayed from recorded traces: summaries name the deciding process and what it
// showed, values carry the unit of their signal, rows are grouped and ordered by contribution,
// and rows that lost say so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultClassifierOptions } from '../../collector/classifier.js';
import { CLASS_LOOKS } from '../../collector/classes.js';
import { BEHAVIOUR_IDS } from '../../collector/engine/rules/schema.js';
import { loadRulesFile, defaultRulesPath } from '../../collector/engine/rules/load.js';
import type { Verdict } from '../../collector/engine/types.js';
import { SIGNALS, bytesText, signalLook, valueText, viewEvidence } from '../../collector/evidence-text.js';
import { replay } from '../../collector/replay.js';
import { readTrace } from '../../proto/trace.js';
import { repoRoot } from '../helpers/env.js';

const LABELS: Record<string, string> = Object.fromEntries(Object.entries(CLASS_LOOKS).map(([k, v]) => [k, v.label]));
const rules = loadRulesFile(defaultRulesPath);

async function lastVerdict(file: string): Promise<Verdict> {
  const t = await readTrace(join(repoRoot, 'test', 'corpus', file));
  return replay(t.samples, rules, defaultClassifierOptions, t.header.inventory ?? null).at(-1)!.verdict;
}

describe('evidence text', () => {
  it('every behaviour the engine knows has a unit and a label', () => {
    for (const id of BEHAVIOUR_IDS) {
      const look = SIGNALS[`beh.${id}`];
      assert.ok(look, `beh.${id} has an entry`);
      assert.ok(look.label.length > 0);
    }
    assert.equal(signalLook('sig.pool-domains').label, 'pool domains');
    assert.equal(signalLook('port.stratum').label, 'port: stratum');
  });

  it('values carry their units', () => {
    assert.equal(valueText('beh.hash-memory', 2.3 * 2 ** 30), '2.3 GiB');
    assert.equal(valueText('beh.hash-memory', 1010 * 2 ** 20), '0.99 GiB');
    assert.equal(valueText('beh.heavy-writes', 42 * 2 ** 20), '42 MiB/s');
    assert.equal(valueText('beh.low-io', 1700), '1.7 KiB/CPU-s');
    assert.equal(valueText('beh.step-periodic', 3100), '3.1 s');
    assert.equal(valueText('beh.recurrent-bursts', 1_800_000), '30 min');
    assert.equal(valueText('beh.sustained', 0.994), '99 %');
    assert.equal(valueText('beh.gpu-flat-saturated', 99.7), '100 %');
    assert.equal(valueText('host.load', 4.25), '4.3 %');
    assert.equal(valueText('beh.many-peers', 14), '14 peers');
    assert.equal(valueText('beh.serves-clients', 1), '1 client');
    assert.equal(valueText('beh.no-peers', 0), '0 peers');
    assert.equal(valueText('beh.cpu-flat', 0.0123), '0.012');
    assert.equal(valueText('sig.pool-domains', '2miners.com'), '2miners.com');
    assert.equal(valueText('net.unknown', false), 'unknown');
    assert.equal(bytesText(512), '512 B');
  });

  it('a miner beside a training job: both processes in the summary, rows grouped and ordered, losers marked', async () => {
    const v = await lastVerdict('evasion-miner-beside-training.trace.ndjson');
    assert.equal(v.class, 'mixed');
    const view = viewEvidence(v, LABELS);
    assert.match(view.summary, /python3 \(pid \d+\) holds \d+ % of the busy CPU\/GPU, AI training: .*; monerod \(pid \d+\) holds \d+ % of the busy CPU\/GPU, PoW mining: a 2\.3 GiB working set.*: Mixed$/);
    assert.equal(view.groups[0]!.process, null, 'host-wide evidence first');
    const shares = view.groups.slice(1).map((g) => g.share ?? -1);
    assert.deepEqual(shares, [...shares].sort((a, b) => b - a), 'processes by their share of the host');
    for (const g of view.groups) {
      for (let i = 1; i < g.rows.length; i++) assert.ok(Math.abs(g.rows[i - 1]!.weight) >= Math.abs(g.rows[i]!.weight), 'rows by |weight|');
      assert.ok(!g.rows.some((r) => r.signal === 'proc.share'), 'the share heads the group, it is not a row');
    }
    const miner = view.groups.find((g) => g.process?.name === 'monerod')!;
    const lost = miner.rows.filter((r) => r.role === 'outweighed');
    assert.ok(lost.length > 0);
    for (const r of lost) assert.equal(r.note, 'outweighed by PoW mining for this process');
    for (const r of miner.rows.filter((x) => x.weight < 0)) assert.match(r.note!, /^counts against /);
  });

  it('a general host names what it found and marks the specialised rows that lost', async () => {
    const v = await lastVerdict('general-stress-ng-cpu.trace.ndjson');
    const view = viewEvidence(v, LABELS);
    assert.match(view.summary, /^stress-ng-cpu \(pid \d+\) holds \d+ % of the busy CPU\/GPU; .*: General$/);
    const lost = view.groups.flatMap((g) => g.rows).filter((r) => r.role === 'outweighed');
    assert.ok(lost.some((r) => r.supports === 'pow-mining' && r.note === 'outweighed by General for this process'), 'PoW rows under a General process say they lost');
  });

  it('an idle host and a PoW host', async () => {
    assert.match(viewEvidence(await lastVerdict('idle.trace.ndjson'), LABELS).summary, /^The host is quiet: CPU at [\d.]+ % on average: Idle$/);
    assert.match(
      viewEvidence(await lastVerdict('pow-mining-monerod-regtest.trace.ndjson'), LABELS).summary,
      /^monerod \(pid \d+\) holds (9\d|100) % of the busy CPU\/GPU; a 2\.3 GiB working set, flat CPU \(CV [\d.]+\), almost no I\/O \([\d.]+ B\/CPU-s\): PoW mining$/,
    );
  });

  it('a process that is what its evidence says but too small to decide the host is marked as outweighed on the host', () => {
    const v = {
      class: 'general',
      parts: [{ class: 'general', share: 0.97, processes: [] }],
      evidence: [
        { signal: 'proc.share', value: 0.03, supports: 'pow-mining', weight: 0, detail: '', process: { pid: 7, name: 'xmrig' } },
        { signal: 'beh.cpu-flat', value: 0.01, supports: 'pow-mining', weight: 0.3, detail: 'flat', process: { pid: 7, name: 'xmrig' } },
        { signal: 'proc.share', value: 0.97, supports: 'general', weight: 0, detail: '', process: { pid: 9, name: 'cc1' } },
      ],
    };
    const view = viewEvidence(v, LABELS);
    const row = view.groups.find((g) => g.process?.pid === 7)!.rows[0]!;
    assert.equal(row.role, 'outweighed');
    assert.equal(row.note, 'outweighed on this host by General: the process holds 3 % of the busy CPU/GPU');
    assert.equal(view.summary, 'cc1 (pid 9) holds 97 % of the busy CPU/GPU: General');
  });

  it('the dashboard loads the compiled formatter as it is: no runtime imports', () => {
    const js = readFileSync(join(repoRoot, 'dashboard', 'generated', 'evidence-text.js'), 'utf8');
    assert.doesNotMatch(js, /^\s*import\s/m);
    assert.match(js, /export function viewEvidence/);
  });
});
